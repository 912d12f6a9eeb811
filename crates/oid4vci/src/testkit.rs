//! Conformance suite for [`IssuanceStore`] and [`TemplateStore`] implementations (memory,
//! SQL, your own). Run it from a test: `idforge_oid4vci::testkit::run_all(&store, &templates).await`.
#![allow(clippy::unwrap_used, clippy::panic)]

use idforge_oauth_core::testkit::{join_all, BoxFuture};
use std::sync::Arc;

use std::sync::atomic::{AtomicBool, Ordering};

use idforge_oauth_core::records::{ConsumeOutcome, Grant, RotateOutcome, TokenKind, TokenRecord};
use idforge_oauth_core::TokenHash;
use serde_json::json;

use crate::ports::{IssuanceRecord, IssuanceStore, OfferRecord, TemplateStore};
use crate::template::{ClaimTemplate, CredentialFormat, CredentialTemplate};

const NOW: i64 = 1_700_000_000;

fn record(n: &str) -> IssuanceRecord {
    IssuanceRecord {
        hash: TokenHash::of(n),
        client_id: "wallet".into(),
        grant_id: "g".into(),
        subject: "alice".into(),
        configuration_id: "pid".into(),
        holder_keys: vec![],
        status: vec![],
        requested_at: NOW,
        expires_at: NOW + 60,
    }
}

/// Every check below.
pub async fn run_all(store: Arc<dyn IssuanceStore>, templates: &dyn TemplateStore) {
    offers(store.as_ref()).await;
    nonces_are_single_use_under_concurrency(store.clone()).await;
    transactions_are_taken_once_under_concurrency(store.clone()).await;
    issuer_states_are_taken_once_under_concurrency(store.clone()).await;
    notifications(store.as_ref()).await;
    status_entries_are_unique_under_concurrency(store.clone()).await;
    templates_are_validated(templates).await;
}

/// Offers are found by code and reference until they expire; `issuer_state` is taken once.
pub async fn offers(store: &dyn IssuanceStore) {
    let mut o = OfferRecord::new("alice", vec!["pid".into()], "g1", NOW + 60);
    o.pre_authorized_code = Some(TokenHash::of("code-1"));
    o.issuer_state = Some(TokenHash::of("state-1"));
    o.reference = Some((TokenHash::of("ref-1"), json!({"x": 1})));
    store.insert_offer(o.clone()).await.unwrap();
    assert_eq!(
        store
            .offer_by_code(&TokenHash::of("code-1"), NOW)
            .await
            .unwrap(),
        Some(o.clone())
    );
    assert_eq!(
        store
            .offer_by_code(&TokenHash::of("code-1"), NOW + 60)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .offer_by_code(&TokenHash::of("other"), NOW)
            .await
            .unwrap(),
        None
    );
    assert_eq!(
        store
            .offer_by_reference(&TokenHash::of("ref-1"), NOW)
            .await
            .unwrap(),
        Some(json!({"x": 1}))
    );
    assert_eq!(
        store
            .offer_by_reference(&TokenHash::of("ref-1"), NOW + 61)
            .await
            .unwrap(),
        None
    );
    // Looking an `issuer_state` up does not redeem it; expired ones are not found.
    for _ in 0..2 {
        assert_eq!(
            store
                .offer_by_issuer_state(&TokenHash::of("state-1"), NOW)
                .await
                .unwrap(),
            Some(o.clone())
        );
    }
    assert_eq!(
        store
            .offer_by_issuer_state(&TokenHash::of("state-1"), NOW + 60)
            .await
            .unwrap(),
        None
    );
    assert!(store
        .take_issuer_state(&TokenHash::of("state-1"), NOW)
        .await
        .unwrap()
        .is_some());
    assert_eq!(
        store
            .offer_by_issuer_state(&TokenHash::of("state-1"), NOW)
            .await
            .unwrap(),
        None,
        "a redeemed issuer_state is gone"
    );
    assert!(store
        .take_issuer_state(&TokenHash::of("state-1"), NOW)
        .await
        .unwrap()
        .is_none());
}

/// Of 128 concurrent consumptions of one `c_nonce`, exactly one succeeds (§7.2 replay); an
/// expired or unknown nonce never does.
pub async fn nonces_are_single_use_under_concurrency(store: Arc<dyn IssuanceStore>) {
    store
        .insert_nonce(TokenHash::of("n-1"), NOW, NOW + 60)
        .await
        .unwrap();
    let h = TokenHash::of("n-1");
    let futures: Vec<BoxFuture<'_, bool>> = (0..128)
        .map(|_| -> BoxFuture<'_, bool> {
            let s = store.clone();
            Box::pin(async move { s.consume_nonce(&h, NOW).await.unwrap() })
        })
        .collect();
    let wins = join_all(futures).await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1, "a nonce is consumed once");
    store
        .insert_nonce(TokenHash::of("n-2"), NOW, NOW + 60)
        .await
        .unwrap();
    assert!(!store
        .consume_nonce(&TokenHash::of("n-2"), NOW + 60)
        .await
        .unwrap());
    assert!(!store
        .consume_nonce(&TokenHash::of("n-3"), NOW)
        .await
        .unwrap());
}

/// Of 128 concurrent takes of one deferred transaction, exactly one gets it.
pub async fn transactions_are_taken_once_under_concurrency(store: Arc<dyn IssuanceStore>) {
    store.insert_transaction(record("tx-1")).await.unwrap();
    assert!(store
        .transaction(&TokenHash::of("tx-1"), NOW)
        .await
        .unwrap()
        .is_some());
    let h = TokenHash::of("tx-1");
    let futures: Vec<BoxFuture<'_, bool>> = (0..128)
        .map(|_| -> BoxFuture<'_, bool> {
            let s = store.clone();
            Box::pin(async move { s.take_transaction(&h, NOW).await.unwrap().is_some() })
        })
        .collect();
    let wins = join_all(futures).await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
    store.insert_transaction(record("tx-2")).await.unwrap();
    assert!(store
        .take_transaction(&TokenHash::of("tx-2"), NOW + 60)
        .await
        .unwrap()
        .is_none());
}

/// Of 128 concurrent redemptions of one `issuer_state` (§5.1.3), exactly one gets the offer.
pub async fn issuer_states_are_taken_once_under_concurrency(store: Arc<dyn IssuanceStore>) {
    let mut o = OfferRecord::new("alice", vec!["pid".into()], "g-is", NOW + 60);
    o.issuer_state = Some(TokenHash::of("state-c"));
    store.insert_offer(o).await.unwrap();
    let h = TokenHash::of("state-c");
    let futures: Vec<BoxFuture<'_, bool>> = (0..128)
        .map(|_| -> BoxFuture<'_, bool> {
            let s = store.clone();
            Box::pin(async move { s.take_issuer_state(&h, NOW).await.unwrap().is_some() })
        })
        .collect();
    let wins = join_all(futures).await.into_iter().filter(|w| *w).count();
    assert_eq!(wins, 1);
}

/// Notification ids are found (repeatedly) until they expire.
pub async fn notifications(store: &dyn IssuanceStore) {
    store.insert_notification(record("note-1")).await.unwrap();
    for _ in 0..2 {
        assert!(store
            .notification(&TokenHash::of("note-1"), NOW)
            .await
            .unwrap()
            .is_some());
    }
    assert!(store
        .notification(&TokenHash::of("note-1"), NOW + 60)
        .await
        .unwrap()
        .is_none());
    assert!(store.sweep(NOW + 3600).await.unwrap() >= 1);
}

/// 200 concurrent allocations give 200 distinct entries across lists of 64; statuses are set
/// and read back; unallocated entries cannot be set.
pub async fn status_entries_are_unique_under_concurrency(store: Arc<dyn IssuanceStore>) {
    let futures: Vec<BoxFuture<'_, (u64, u64)>> = (0..200)
        .map(|_| -> BoxFuture<'_, (u64, u64)> {
            let s = store.clone();
            Box::pin(async move { s.allocate_status(64).await.unwrap() })
        })
        .collect();
    let mut got = join_all(futures).await;
    got.sort_unstable();
    got.dedup();
    assert_eq!(got.len(), 200, "entries are never handed out twice");
    assert!(got.iter().all(|(_, i)| *i < 64));
    let (list, idx) = got[5];
    assert!(store.set_status(list, idx, 1).await.unwrap());
    let values = store.status_list(list).await.unwrap().unwrap();
    assert_eq!(values.len(), 64);
    assert_eq!(values[idx as usize], 1);
    assert!(store.set_status(list, idx, 0).await.unwrap());
    assert_eq!(
        store.status_list(list).await.unwrap().unwrap()[idx as usize],
        0
    );
    assert!(!store.set_status(9_999, 0, 1).await.unwrap());
    assert!(store.status_list(9_999).await.unwrap().is_none());
}

/// A template that cannot be issued is refused by `put`; good ones round-trip.
pub async fn templates_are_validated(store: &dyn TemplateStore) {
    let good = CredentialTemplate::new(
        "kit",
        CredentialFormat::SdJwtVc {
            vct: "urn:kit".into(),
        },
    )
    .with_claim(ClaimTemplate::new(["name"]))
    .with_selectively_disclosable(["name"]);
    store.put(good.clone()).await.unwrap();
    assert_eq!(store.template("kit").await.unwrap(), Some(good.clone()));
    assert!(store.templates().await.unwrap().contains(&good));
    let bad = good.clone().with_selectively_disclosable(["missing"]);
    assert_eq!(store.put(bad).await.unwrap_err().code(), "invalid_request");
    assert_eq!(store.template("kit").await.unwrap(), Some(good));
    assert!(store.delete("kit").await.unwrap());
    assert!(!store.delete("kit").await.unwrap());
}

/// RFC 6749 §4.1.2, OID4VCI 1.0 §6: a replayed pre-authorized code is `invalid_grant` and
/// revokes the access token the first redemption issued (its family is linked to the offer's
/// carrier grant, [`token_grant_id`](crate::grant::token_grant_id)), with the provider in
/// `persistence` mode over providers on `grants` (one per store; pass one store twice for
/// two providers on it):
///
/// - sequentially: the token works until the code is replayed, then on no provider;
/// - a replay that runs whole between the winner's consumption of the code and the storing
///   of its grant (the winner is held there): the winner still answers (decision 0018) and
///   its token is dead;
/// - `n` concurrent redemptions (each store call yielding, so replays land mid-issuance):
///   exactly one gets a token, which the replays leave inactive.
pub async fn pre_authorized_code_replay_revokes_tokens(
    grants: Vec<Arc<dyn idforge_oauth_core::GrantStore>>,
    issuance: Arc<dyn IssuanceStore>,
    persistence: idforge_oauth_core::TokenPersistence,
    n: usize,
) {
    use idforge_oauth_core::memory::{MemoryClientStore, MemoryUserStore};
    use idforge_oauth_core::testkit::{ok, sole_winner, Interleaved};
    use idforge_oauth_core::{resolve_access_token, Client, Config, GrantStore, OsRng, Provider};

    use crate::offer::PRE_AUTHORIZED_CODE_GRANT;
    use crate::{
        CredentialIssuer, IssuerCore, IssuerSettings, OfferGrant, OfferRequest,
        PreAuthorizedCodeGrant,
    };

    assert!(!grants.is_empty(), "testkit: no grant store to redeem on");
    let templates = Arc::new(
        crate::memory::MemoryTemplateStore::with_templates([CredentialTemplate::new(
            "pid",
            CredentialFormat::SdJwtVc {
                vct: "urn:testkit:pid".into(),
            },
        )
        .with_claim(ClaimTemplate::new(["given_name"]))])
        .unwrap(),
    );
    let core = ok(
        IssuerCore::new(
            IssuerSettings::default().with_anonymous_access("testkit-wallet"),
            templates,
            issuance,
        ),
        "issuer core",
    );
    let key = ok(
        idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
            idforge_jose::crypto::EcCurve::P256,
        )),
        "generate a signing key",
    );
    let clients = Arc::new(MemoryClientStore::with_clients([Client::public(
        "testkit-wallet",
    )
    .with_grant_types([PRE_AUTHORIZED_CODE_GRANT])]));
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    ok(
        users.add_user("alice", "pw", serde_json::Map::new(), &OsRng::new()),
        "add a user",
    );
    let mut config = Config::new("https://testkit-issuer.example");
    config.token_persistence = persistence;
    let clock = Arc::new(idforge_jose::FixedClock::new(NOW));
    let provider = |store: Arc<dyn GrantStore>| {
        let signer = ok(
            idforge_jose::LocalSigner::new(key.clone(), idforge_jose::JwsAlgorithm::ES256),
            "signer",
        );
        ok(
            Provider::builder(config.clone())
                .clients(clients.clone())
                .grants(store)
                .claims(users.clone())
                .keys(Arc::new(idforge_jose::KeyRing::new(signer)))
                .clock(clock.clone())
                .grant_handler(Arc::new(PreAuthorizedCodeGrant::new(core.clone())))
                .build(),
            "build a provider on the store",
        )
    };
    let providers: Vec<Provider> = grants
        .iter()
        .map(|store| provider(Arc::new(Interleaved(store.clone()))))
        .collect();
    let issuer = CredentialIssuer::new(providers[0].ctx.clone(), core.clone());
    let offer_body = || async {
        let offer = ok(
            issuer
                .create_offer(&OfferRequest::new(
                    "alice",
                    ["pid"],
                    OfferGrant::PreAuthorized {
                        tx_code_length: None,
                    },
                ))
                .await,
            "create an offer",
        );
        let code = offer.offer.grants.pre_authorized_code.unwrap();
        format!(
            "grant_type={}&pre-authorized_code={}",
            form_urlencoded::byte_serialize(PRE_AUTHORIZED_CODE_GRANT.as_bytes())
                .collect::<String>(),
            form_urlencoded::byte_serialize(code.pre_authorized_code.as_bytes())
                .collect::<String>()
        )
    };
    let active = |token: String| {
        let providers = &providers;
        async move {
            let mut active = Vec::new();
            for p in providers {
                active.push(resolve_access_token(&p.ctx, &token).await.is_ok());
            }
            active
        }
    };

    // Sequentially.
    let body = offer_body().await;
    let first = ok(
        providers[0].token.handle_form(body.as_bytes(), None).await,
        "redeem the code",
    );
    assert!(
        active(first.access_token.clone()).await.iter().all(|a| *a),
        "testkit: the first redemption's token must be active ({persistence:?})"
    );
    let replay = providers[providers.len() - 1]
        .token
        .handle_form(body.as_bytes(), None)
        .await;
    assert_eq!(
        replay.map(|_| ()).unwrap_err().code(),
        "invalid_grant",
        "testkit: a replayed pre-authorized code must be refused ({persistence:?})"
    );
    assert!(
        !active(first.access_token).await.iter().any(|a| *a),
        "testkit: a replay must revoke the first redemption's token ({persistence:?})"
    );

    // A whole replay between the winner's `consume` and its `create_grant`.
    let flags = Arc::new(Gate::default());
    let gated: Vec<Provider> = grants
        .iter()
        .map(|store| {
            provider(Arc::new(Gated {
                inner: store.clone(),
                flags: flags.clone(),
            }))
        })
        .collect();
    let body = offer_body().await;
    let winner = Box::pin(async {
        gated[0]
            .token
            .handle_form(body.as_bytes(), None)
            .await
            .map(Some)
    })
        as BoxFuture<'_, idforge_oauth_core::Result<Option<idforge_oauth_core::TokenResponse>>>;
    let replay = Box::pin(async {
        wait_for(&flags.consumed).await;
        let r = gated[gated.len() - 1]
            .token
            .handle_form(body.as_bytes(), None)
            .await;
        flags.released.store(true, Ordering::SeqCst);
        r.map(|_| None)
    }) as BoxFuture<'_, _>;
    let mut results = join_all(vec![winner, replay]).await;
    let replayed = results.pop().unwrap();
    assert_eq!(
        replayed.map(|_| ()).unwrap_err().code(),
        "invalid_grant",
        "testkit: the replay must be refused ({persistence:?})"
    );
    let Some(won) = ok(results.pop().unwrap(), "the winner answers (decision 0018)") else {
        panic!("testkit: the winner must get a token response");
    };
    assert!(
        !active(won.access_token).await.iter().any(|a| *a),
        "testkit: a replay finished before the winner stored its grant must still revoke \
         the winner's token ({persistence:?})"
    );

    // Concurrently.
    let body = offer_body().await;
    let futures = (0..n)
        .map(|i| {
            let token = &providers[i % providers.len()].token;
            let body = body.as_bytes();
            Box::pin(async move { token.handle_form(body, None).await })
                as BoxFuture<'_, idforge_oauth_core::Result<idforge_oauth_core::TokenResponse>>
        })
        .collect();
    let winner = sole_winner(
        join_all(futures).await,
        &format!("a pre-authorized code ({persistence:?})"),
    );
    if n > 1 {
        assert!(
            !active(winner.access_token).await.iter().any(|a| *a),
            "testkit: the replays must revoke the winner's token ({persistence:?})"
        );
    }
}

/// The two moments [`Gated`] orders: the code consumed, the replay done.
#[derive(Default)]
struct Gate {
    consumed: AtomicBool,
    released: AtomicBool,
}

/// Pending (waking itself) until `flag` is set.
async fn wait_for(flag: &AtomicBool) {
    std::future::poll_fn(|cx| {
        if flag.load(Ordering::SeqCst) {
            std::task::Poll::Ready(())
        } else {
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

/// A grant store that records when an artifact is consumed and holds every `create_grant`
/// until released: the winner of a redemption waits there while a replay runs whole.
struct Gated {
    inner: Arc<dyn idforge_oauth_core::GrantStore>,
    flags: Arc<Gate>,
}

#[async_trait::async_trait]
impl idforge_oauth_core::GrantStore for Gated {
    async fn create_grant(&self, grant: Grant) -> idforge_oauth_core::Result<()> {
        wait_for(&self.flags.released).await;
        self.inner.create_grant(grant).await
    }
    async fn grant(&self, id: &str, now: i64) -> idforge_oauth_core::Result<Option<Grant>> {
        self.inner.grant(id, now).await
    }
    async fn insert_token(&self, record: TokenRecord) -> idforge_oauth_core::Result<()> {
        self.inner.insert_token(record).await
    }
    async fn token(
        &self,
        hash: &TokenHash,
        now: i64,
    ) -> idforge_oauth_core::Result<Option<(TokenRecord, Grant)>> {
        self.inner.token(hash, now).await
    }
    async fn consume(
        &self,
        hash: &TokenHash,
        kind: TokenKind,
        now: i64,
    ) -> idforge_oauth_core::Result<ConsumeOutcome> {
        let outcome = self.inner.consume(hash, kind, now).await?;
        if matches!(outcome, ConsumeOutcome::Consumed(..)) {
            self.flags.consumed.store(true, Ordering::SeqCst);
        }
        Ok(outcome)
    }
    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> idforge_oauth_core::Result<RotateOutcome> {
        self.inner.rotate(old, new, now, grace_seconds).await
    }
    async fn revoke_grant(&self, id: &str) -> idforge_oauth_core::Result<()> {
        self.inner.revoke_grant(id).await
    }
    async fn revoke_token(
        &self,
        hash: &TokenHash,
    ) -> idforge_oauth_core::Result<Option<TokenRecord>> {
        self.inner.revoke_token(hash).await
    }
    async fn mark(
        &self,
        key: &TokenHash,
        until: i64,
        now: i64,
    ) -> idforge_oauth_core::Result<bool> {
        self.inner.mark(key, until, now).await
    }
    async fn is_marked(&self, key: &TokenHash, now: i64) -> idforge_oauth_core::Result<bool> {
        self.inner.is_marked(key, now).await
    }
    async fn grants_by_subject(
        &self,
        subject: &str,
        now: i64,
    ) -> idforge_oauth_core::Result<Vec<Grant>> {
        self.inner.grants_by_subject(subject, now).await
    }
    async fn sweep(&self, now: i64) -> idforge_oauth_core::Result<usize> {
        self.inner.sweep(now).await
    }
}
