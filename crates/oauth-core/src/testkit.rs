//! Storage conformance tests: the same behavioural checks against any [`GrantStore`]
//! (consume-once, rotation with grace window and reuse, expiry, revocation cascade, marks,
//! sweeping). Hosts call [`run_all`] from a test on their own store:
//!
//! ```
//! # async fn demo() {
//! use idforge_oauth_core::memory::MemoryGrantStore;
//! idforge_oauth_core::testkit::run_all(&MemoryGrantStore::new()).await;
//! # }
//! ```
//!
//! Every check panics with a message naming the rule it saw broken. Times are passed
//! explicitly (as the port requires), so no clock is involved; every check uses fresh ids, so
//! one store instance can run them all.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use crate::client::Client;
use crate::config::{Config, TokenPersistence};
use crate::endpoint::authorize::{Interaction, Session};
use crate::provider::Provider;

use crate::device::{
    DecideOutcome, DeviceApproval, DeviceAuthorization, DeviceState, PollOutcome, UserDecision,
};
use crate::model::{Params, Scopes};
use crate::ports::{
    ClaimsSource, ClientStore, ConnectedUserStore, DeviceCodeStore, GrantStore,
    LocalAttributeStore, PasswordVerifier, PushedRequestStore, SessionStore, UserLookup,
};
use crate::records::{
    ConsumeOutcome, Grant, PushedRequest, RotateOutcome, TokenContents, TokenKind, TokenRecord,
    TokenState,
};
use crate::secret::TokenHash;
use crate::session::{RememberMe, SessionPolicy, SessionRecord};
use crate::users::{AttributePlacement, FederatedUsers, PlacementPolicy, Written};

/// A fixed base time for the checks.
pub const T0: i64 = 1_800_000_000;

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh(prefix: &str) -> String {
    let mut r = [0u8; 8];
    let _ = idforge_jose::crypto::random_bytes(&mut r);
    format!(
        "{prefix}-{}-{}",
        COUNTER.fetch_add(1, Ordering::Relaxed),
        idforge_jose::b64::encode(r)
    )
}

/// A grant created at [`T0`] that lives `ttl` seconds.
pub fn grant(ttl: i64) -> Grant {
    Grant {
        id: fresh("grant"),
        client_id: "testkit-client".into(),
        subject: Some("testkit-user".into()),
        scopes: Scopes::from_values(["openid", "profile"]),
        auth_time: Some(T0),
        acr: None,
        amr: vec!["pwd".into()],
        sid: None,
        nonce: Some("n".into()),
        claims: None,
        created_at: T0,
        expires_at: T0 + ttl,
        contents: TokenContents::default(),
    }
}

/// A token of `grant` of `kind` issued at `at`, living `ttl` seconds; returns the secret too.
pub fn token(grant: &Grant, kind: TokenKind, at: i64, ttl: i64) -> (String, TokenRecord) {
    let secret = fresh("secret");
    let record = TokenRecord {
        hash: TokenHash::of(&secret),
        kind,
        grant_id: grant.id.clone(),
        client_id: grant.client_id.clone(),
        scopes: grant.scopes.clone(),
        issued_at: at,
        expires_at: at + ttl,
        code: None,
        state: TokenState::Active,
    };
    (secret, record)
}

/// The value of `r`, or a panic naming `what` (a conformance check failed).
pub fn ok<T, E: std::fmt::Debug>(r: Result<T, E>, what: &str) -> T {
    match r {
        Ok(v) => v,
        Err(e) => panic!("testkit: {what} failed: {e:?}"),
    }
}

/// The one success among concurrent redemptions of a single-use artifact: every other result
/// must be `invalid_grant`, and exactly one must succeed (`what` names the race in the panic).
pub fn sole_winner<T>(results: Vec<crate::Result<T>>, what: &str) -> T {
    let n = results.len();
    let mut winners = Vec::new();
    for r in results {
        match r {
            Ok(response) => winners.push(response),
            Err(e) => assert_eq!(
                e.code(),
                "invalid_grant",
                "testkit: a losing redemption must be invalid_grant, got {e:?}"
            ),
        }
    }
    assert_eq!(
        winners.len(),
        1,
        "testkit: exactly one of {n} concurrent redemptions of {what} must succeed"
    );
    winners.remove(0)
}

/// A boxed future, as [`join_all`] takes them.
pub type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// Polls all `futures` concurrently inside the current task (no runtime needed, no spawning):
/// each is driven until it completes, interleaving at every `.await` where a store suspends.
/// The conformance suites of other crates' stores use it for their concurrency checks.
pub async fn join_all<'a, T>(futures: Vec<BoxFuture<'a, T>>) -> Vec<T> {
    struct JoinAll<'a, T> {
        futures: Vec<Option<std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>>>,
        out: Vec<Option<T>>,
    }
    // The futures are boxed and the outputs are plain values: nothing is pinned in place.
    impl<T> Unpin for JoinAll<'_, T> {}
    impl<T> std::future::Future for JoinAll<'_, T> {
        type Output = Vec<T>;
        fn poll(
            self: std::pin::Pin<&mut Self>,
            cx: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Vec<T>> {
            let this = self.get_mut();
            for (slot, out) in this.futures.iter_mut().zip(this.out.iter_mut()) {
                if let Some(f) = slot {
                    if let std::task::Poll::Ready(v) = f.as_mut().poll(cx) {
                        *out = Some(v);
                        *slot = None;
                    }
                }
            }
            if this.futures.iter().all(Option::is_none) {
                std::task::Poll::Ready(this.out.iter_mut().filter_map(Option::take).collect())
            } else {
                std::task::Poll::Pending
            }
        }
    }
    let n = futures.len();
    JoinAll {
        futures: futures.into_iter().map(Some).collect(),
        out: (0..n).map(|_| None).collect(),
    }
    .await
}

/// Runs every check.
pub async fn run_all(store: &dyn GrantStore) {
    consume_once(store).await;
    concurrent_consume(store, 64).await;
    concurrent_rotate(store, 64).await;
    consume_checks_kind(store).await;
    expiry(store).await;
    rotation(store).await;
    rotation_grace_window(store).await;
    revocation_cascade(store).await;
    grant_with_first_token(store).await;
    concurrent_new_grants(store, 64).await;
    revoke_single_token(store).await;
    marks(store).await;
    grants_by_subject(store).await;
    sweeping(store).await;
}

/// `grants_by_subject` lists the subject's unexpired grants, oldest first, and no one else's.
pub async fn grants_by_subject(store: &dyn GrantStore) {
    let subject = fresh("subject");
    let mut first = grant(3600);
    first.subject = Some(subject.clone());
    let mut second = grant(7200);
    second.subject = Some(subject.clone());
    second.created_at = T0 + 5;
    let mut short = grant(10);
    short.subject = Some(subject.clone());
    let other = grant(3600);
    for g in [&second, &first, &short, &other] {
        ok(store.create_grant((*g).clone()).await, "create_grant");
    }
    let ids = |v: Vec<Grant>| v.into_iter().map(|g| g.id).collect::<Vec<_>>();
    let listed = ok(
        store.grants_by_subject(&subject, T0 + 1).await,
        "grants_by_subject",
    );
    assert_eq!(
        listed.len(),
        3,
        "every live grant of the subject: {listed:?}"
    );
    assert_eq!(listed[2], second, "the grant comes back as stored");
    // `short` expires at T0 + 10: gone from the list from then on, as `grant` says.
    let later = ok(
        store.grants_by_subject(&subject, T0 + 10).await,
        "grants_by_subject",
    );
    assert_eq!(ids(later), [first.id.clone(), second.id.clone()]);
    ok(store.revoke_grant(&first.id).await, "revoke_grant");
    let after = ok(
        store.grants_by_subject(&subject, T0 + 10).await,
        "grants_by_subject",
    );
    assert_eq!(ids(after), [second.id.clone()]);
    let none = ok(
        store.grants_by_subject(&fresh("nobody"), T0).await,
        "grants_by_subject",
    );
    assert!(none.is_empty());
}

/// A code is consumed once; the second attempt is reported as a replay (RFC 6749 §4.1.2).
pub async fn consume_once(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, code) = token(&g, TokenKind::AuthorizationCode, T0, 60);
    ok(store.insert_token(code.clone()).await, "insert_token");
    match ok(
        store
            .consume(&code.hash, TokenKind::AuthorizationCode, T0 + 1)
            .await,
        "consume",
    ) {
        ConsumeOutcome::Consumed(r, got) => {
            assert_eq!(
                r.hash, code.hash,
                "testkit: consume returned another record"
            );
            assert_eq!(got.id, g.id, "testkit: consume returned another grant");
        }
        other => panic!("testkit: first consume must succeed, got {other:?}"),
    }
    match ok(
        store
            .consume(&code.hash, TokenKind::AuthorizationCode, T0 + 2)
            .await,
        "consume",
    ) {
        ConsumeOutcome::Replayed(r) => assert_eq!(r.grant_id, g.id),
        other => panic!("testkit: second consume must be a replay, got {other:?}"),
    }
    let unknown = TokenHash::of(&fresh("unknown"));
    assert_eq!(
        ok(
            store
                .consume(&unknown, TokenKind::AuthorizationCode, T0)
                .await,
            "consume"
        ),
        ConsumeOutcome::NotFound,
        "testkit: unknown code must be NotFound"
    );
}

/// `consume` of a record of another kind is `NotFound` and leaves it untouched.
pub async fn consume_checks_kind(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, at) = token(&g, TokenKind::AccessToken, T0, 600);
    ok(store.insert_token(at.clone()).await, "insert_token");
    assert_eq!(
        ok(
            store
                .consume(&at.hash, TokenKind::AuthorizationCode, T0 + 1)
                .await,
            "consume"
        ),
        ConsumeOutcome::NotFound,
        "testkit: consuming an access token as a code must fail"
    );
    let (r, _) = ok(store.token(&at.hash, T0 + 1).await, "token")
        .unwrap_or_else(|| panic!("testkit: the access token must still be there"));
    assert_eq!(
        r.state,
        TokenState::Active,
        "testkit: wrong-kind consume changed state"
    );
}

/// Tokens end at `expires_at` (exclusive), and all of them end with their grant.
pub async fn expiry(store: &dyn GrantStore) {
    let g = grant(100);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, code) = token(&g, TokenKind::AuthorizationCode, T0, 60);
    let (_, rt) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(store.insert_token(code.clone()).await, "insert_token");
    ok(store.insert_token(rt.clone()).await, "insert_token");
    assert!(
        ok(store.token(&code.hash, T0 + 59).await, "token").is_some(),
        "testkit: code alive before expiry"
    );
    assert!(
        ok(store.token(&code.hash, T0 + 60).await, "token").is_none(),
        "testkit: code must expire at expires_at"
    );
    assert_eq!(
        ok(
            store
                .consume(&code.hash, TokenKind::AuthorizationCode, T0 + 60)
                .await,
            "consume"
        ),
        ConsumeOutcome::NotFound,
        "testkit: an expired code must not be consumable"
    );
    assert!(ok(store.token(&rt.hash, T0 + 99).await, "token").is_some());
    assert!(
        ok(store.token(&rt.hash, T0 + 100).await, "token").is_none(),
        "testkit: tokens must end with their grant"
    );
    assert!(
        ok(store.grant(&g.id, T0 + 100).await, "grant").is_none(),
        "testkit: grant must expire"
    );
}

/// Rotation retires the old refresh token; using it again is reuse (RFC 9700 §4.14.2).
pub async fn rotation(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, rt1) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(store.insert_token(rt1.clone()).await, "insert_token");
    let (_, rt2) = token(&g, TokenKind::RefreshToken, T0 + 10, 1000);
    match ok(
        store.rotate(&rt1.hash, rt2.clone(), T0 + 10, 0).await,
        "rotate",
    ) {
        RotateOutcome::Rotated(old, got) => {
            assert_eq!(old.hash, rt1.hash);
            assert_eq!(got.id, g.id);
        }
        other => panic!("testkit: first rotation must succeed, got {other:?}"),
    }
    let (_, rt3) = token(&g, TokenKind::RefreshToken, T0 + 11, 1000);
    match ok(
        store.rotate(&rt1.hash, rt3.clone(), T0 + 11, 0).await,
        "rotate",
    ) {
        RotateOutcome::Reused(old) => assert_eq!(old.grant_id, g.id),
        other => panic!("testkit: rotating a rotated token must be reuse, got {other:?}"),
    }
    assert!(
        ok(store.token(&rt3.hash, T0 + 11).await, "token").is_none(),
        "testkit: reuse must not store the new token"
    );
    let (r2, _) = ok(store.token(&rt2.hash, T0 + 12).await, "token")
        .unwrap_or_else(|| panic!("testkit: the successor must be stored"));
    assert_eq!(r2.state, TokenState::Active);
    // An access token cannot be rotated as a refresh token.
    let (_, at) = token(&g, TokenKind::AccessToken, T0, 100);
    ok(store.insert_token(at.clone()).await, "insert_token");
    let (_, rt4) = token(&g, TokenKind::RefreshToken, T0 + 13, 1000);
    assert_eq!(
        ok(store.rotate(&at.hash, rt4, T0 + 13, 0).await, "rotate"),
        RotateOutcome::NotFound,
        "testkit: only refresh tokens rotate"
    );
}

/// Within the grace window a rotated token may rotate again (concurrent refresh); after it,
/// that is reuse.
pub async fn rotation_grace_window(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, rt1) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(store.insert_token(rt1.clone()).await, "insert_token");
    let (_, a) = token(&g, TokenKind::RefreshToken, T0 + 10, 1000);
    let (_, b) = token(&g, TokenKind::RefreshToken, T0 + 12, 1000);
    let (_, c) = token(&g, TokenKind::RefreshToken, T0 + 30, 1000);
    assert!(matches!(
        ok(store.rotate(&rt1.hash, a, T0 + 10, 5).await, "rotate"),
        RotateOutcome::Rotated(..)
    ));
    assert!(
        matches!(
            ok(store.rotate(&rt1.hash, b, T0 + 12, 5).await, "rotate"),
            RotateOutcome::Rotated(..)
        ),
        "testkit: inside the grace window a second rotation succeeds"
    );
    assert!(
        matches!(
            ok(store.rotate(&rt1.hash, c, T0 + 30, 5).await, "rotate"),
            RotateOutcome::Reused(..)
        ),
        "testkit: after the grace window it is reuse"
    );
}

/// Revoking a grant revokes every token of its family, and nothing new can join it.
pub async fn revocation_cascade(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, code) = token(&g, TokenKind::AuthorizationCode, T0, 60);
    let (_, at) = token(&g, TokenKind::AccessToken, T0, 600);
    let (_, rt) = token(&g, TokenKind::RefreshToken, T0, 1000);
    for r in [&code, &at, &rt] {
        ok(store.insert_token(r.clone()).await, "insert_token");
    }
    ok(store.revoke_grant(&g.id).await, "revoke_grant");
    for r in [&code, &at, &rt] {
        assert!(
            ok(store.token(&r.hash, T0 + 1).await, "token").is_none(),
            "testkit: {:?} survived its grant's revocation",
            r.kind
        );
    }
    assert!(ok(store.grant(&g.id, T0 + 1).await, "grant").is_none());
    let (_, late) = token(&g, TokenKind::AccessToken, T0 + 2, 600);
    // The code grant relies on this exact refusal: a winner whose family a replay revoked
    // answers with tokens that were never stored (`issue::after_insert`).
    match store.insert_token(late.clone()).await {
        Err(crate::Error::InvalidGrant(_)) => {}
        other => panic!(
            "testkit: a token of a revoked grant must be refused with invalid_grant, got {other:?}"
        ),
    }
    assert!(
        ok(store.token(&late.hash, T0 + 3).await, "token").is_none(),
        "testkit: a refused token must not be stored"
    );
    ok(
        store.revoke_grant(&g.id).await,
        "revoke_grant is idempotent",
    );
}

/// `create_grant_with_token` stores both rows, as `create_grant` then `insert_token` would:
/// the token is found with its grant, later tokens join the grant, revoking the grant takes
/// the token; a token issued when the grant is no longer live is refused with `invalid_grant`
/// and not stored (the grant is).
pub async fn grant_with_first_token(store: &dyn GrantStore) {
    let g = grant(3600);
    let (_, at) = token(&g, TokenKind::AccessToken, T0, 600);
    ok(
        store.create_grant_with_token(g.clone(), at.clone()).await,
        "create_grant_with_token",
    );
    let (found, of) = ok(store.token(&at.hash, T0 + 1).await, "token")
        .expect("testkit: the first token is stored with its grant");
    assert_eq!(
        (found.kind, of.id.as_str()),
        (TokenKind::AccessToken, g.id.as_str())
    );
    assert_eq!(
        ok(store.grant(&g.id, T0 + 1).await, "grant").map(|g| g.id),
        Some(g.id.clone()),
        "testkit: the grant is stored with its first token"
    );
    let (_, rt) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(
        store.insert_token(rt.clone()).await,
        "insert_token after create_grant_with_token",
    );
    ok(store.revoke_grant(&g.id).await, "revoke_grant");
    for r in [&at, &rt] {
        assert!(
            ok(store.token(&r.hash, T0 + 1).await, "token").is_none(),
            "testkit: {:?} survived its grant's revocation",
            r.kind
        );
    }

    let short = grant(10);
    let (_, late) = token(&short, TokenKind::AccessToken, T0 + 10, 600);
    match store
        .create_grant_with_token(short.clone(), late.clone())
        .await
    {
        Err(crate::Error::InvalidGrant(_)) => {}
        other => panic!(
            "testkit: a first token issued when its grant has expired must be refused with \
             invalid_grant, got {other:?}"
        ),
    }
    assert!(
        ok(store.token(&late.hash, T0 + 5).await, "token").is_none(),
        "testkit: a refused first token must not be stored"
    );
    assert!(
        ok(store.grant(&short.id, T0 + 5).await, "grant").is_some(),
        "testkit: the grant is stored even when its first token is refused"
    );
}

/// `n` new grants with their first tokens at once (what concurrent token requests do): every
/// one is stored, each token with its own grant, and interleaved with tokens added to grants
/// stored before.
pub async fn concurrent_new_grants(store: &dyn GrantStore, n: usize) {
    let older = grant(3600);
    ok(store.create_grant(older.clone()).await, "create_grant");
    let fresh: Vec<(Grant, TokenRecord, TokenRecord)> = (0..n)
        .map(|_| {
            let g = grant(3600);
            let (_, first) = token(&g, TokenKind::AccessToken, T0, 600);
            let (_, sibling) = token(&older, TokenKind::AccessToken, T0, 600);
            (g, first, sibling)
        })
        .collect();
    let futures: Vec<BoxFuture<'_, (crate::Result<()>, crate::Result<()>)>> = fresh
        .iter()
        .map(|(g, first, sibling)| -> BoxFuture<'_, _> {
            Box::pin(async move {
                let (a, b) = (
                    store.create_grant_with_token(g.clone(), first.clone()),
                    store.insert_token(sibling.clone()),
                );
                (a.await, b.await)
            })
        })
        .collect();
    for (a, b) in join_all(futures).await {
        ok(a, "concurrent create_grant_with_token");
        ok(b, "concurrent insert_token");
    }
    for (g, first, sibling) in &fresh {
        let (_, of) = ok(store.token(&first.hash, T0 + 1).await, "token")
            .expect("testkit: a first token stored concurrently is missing");
        assert_eq!(
            of.id, g.id,
            "testkit: a first token came back with another grant"
        );
        let (_, of) = ok(store.token(&sibling.hash, T0 + 1).await, "token")
            .expect("testkit: a token of an older grant stored concurrently is missing");
        assert_eq!(of.id, older.id);
    }
}

/// Revoking one token leaves its siblings.
pub async fn revoke_single_token(store: &dyn GrantStore) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, at) = token(&g, TokenKind::AccessToken, T0, 600);
    let (_, rt) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(store.insert_token(at.clone()).await, "insert_token");
    ok(store.insert_token(rt.clone()).await, "insert_token");
    let removed = ok(store.revoke_token(&at.hash).await, "revoke_token");
    assert_eq!(removed.map(|r| r.hash), Some(at.hash));
    assert!(ok(store.token(&at.hash, T0 + 1).await, "token").is_none());
    assert!(
        ok(store.token(&rt.hash, T0 + 1).await, "token").is_some(),
        "testkit: sibling revoked"
    );
    assert!(ok(store.revoke_token(&at.hash).await, "revoke_token").is_none());
}

/// Marks are set once until they expire (jti replay, deny-list).
pub async fn marks(store: &dyn GrantStore) {
    let key = TokenHash::of(&fresh("mark"));
    assert!(!ok(store.is_marked(&key, T0).await, "is_marked"));
    assert!(
        ok(store.mark(&key, T0 + 10, T0).await, "mark"),
        "testkit: first mark must be new"
    );
    assert!(
        !ok(store.mark(&key, T0 + 10, T0 + 1).await, "mark"),
        "testkit: second mark must be refused"
    );
    assert!(ok(store.is_marked(&key, T0 + 9).await, "is_marked"));
    assert!(
        !ok(store.is_marked(&key, T0 + 10).await, "is_marked"),
        "testkit: mark must expire"
    );
    assert!(
        ok(store.mark(&key, T0 + 20, T0 + 10).await, "mark"),
        "testkit: an expired mark may be set again"
    );
}

/// `sweep` drops what expired and keeps what did not.
pub async fn sweeping(store: &dyn GrantStore) {
    let g = grant(50);
    let keep = grant(10_000);
    ok(store.create_grant(g.clone()).await, "create_grant");
    ok(store.create_grant(keep.clone()).await, "create_grant");
    let (_, t) = token(&keep, TokenKind::AccessToken, T0, 5_000);
    ok(store.insert_token(t.clone()).await, "insert_token");
    let removed = ok(store.sweep(T0 + 60).await, "sweep");
    assert!(removed >= 1, "testkit: sweep must report what it removed");
    assert!(
        ok(store.grant(&g.id, T0).await, "grant").is_none(),
        "testkit: swept grant still there"
    );
    assert!(
        ok(store.token(&t.hash, T0 + 60).await, "token").is_some(),
        "testkit: sweep removed a live token"
    );
}

/// `n` concurrent redemptions of one code: exactly one is `Consumed`, the rest `Replayed`.
pub async fn concurrent_consume(store: &dyn GrantStore, n: usize) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, code) = token(&g, TokenKind::AuthorizationCode, T0, 60);
    ok(store.insert_token(code.clone()).await, "insert_token");
    let futures = (0..n)
        .map(|_| {
            let hash = code.hash;
            Box::pin(async move {
                store
                    .consume(&hash, TokenKind::AuthorizationCode, T0 + 1)
                    .await
            }) as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>>
        })
        .collect();
    let results = join_all(futures).await;
    let consumed = results
        .iter()
        .filter(|r| matches!(r, Ok(ConsumeOutcome::Consumed(..))))
        .count();
    let replayed = results
        .iter()
        .filter(|r| matches!(r, Ok(ConsumeOutcome::Replayed(..))))
        .count();
    assert_eq!(
        consumed, 1,
        "testkit: exactly one concurrent consume must win"
    );
    assert_eq!(
        replayed,
        n - 1,
        "testkit: every other consume must see a replay"
    );
}

/// `n` concurrent rotations of one refresh token (no grace window): exactly one succeeds.
pub async fn concurrent_rotate(store: &dyn GrantStore, n: usize) {
    let g = grant(3600);
    ok(store.create_grant(g.clone()).await, "create_grant");
    let (_, rt) = token(&g, TokenKind::RefreshToken, T0, 1000);
    ok(store.insert_token(rt.clone()).await, "insert_token");
    let futures = (0..n)
        .map(|_| {
            let (_, new) = token(&g, TokenKind::RefreshToken, T0 + 1, 1000);
            let old = rt.hash;
            Box::pin(async move { store.rotate(&old, new, T0 + 1, 0).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>>
        })
        .collect();
    let results = join_all(futures).await;
    let rotated = results
        .iter()
        .filter(|r| matches!(r, Ok(RotateOutcome::Rotated(..))))
        .count();
    assert_eq!(
        rotated, 1,
        "testkit: exactly one concurrent rotation must win"
    );
    assert!(
        results.iter().all(Result::is_ok),
        "testkit: losing rotations report reuse, not errors"
    );
}

/// A [`GrantStore`] that yields to the executor once before every call it forwards, so that
/// requests polled together by [`join_all`] interleave at every store call even when the
/// store itself never suspends (the memory store): a replay's revocation can then land between
/// the winner's `consume` and its `insert_token`s, the race [`concurrent_code_redemption`]
/// is about (and other crates' redemption races: oid4vci's pre-authorized code).
pub struct Interleaved(
    /// The store each call goes to, after the yield.
    pub Arc<dyn GrantStore>,
);

/// Ready on the second poll, having woken its task on the first.
async fn yield_once() {
    let mut yielded = false;
    std::future::poll_fn(|cx| {
        if yielded {
            std::task::Poll::Ready(())
        } else {
            yielded = true;
            cx.waker().wake_by_ref();
            std::task::Poll::Pending
        }
    })
    .await
}

#[async_trait::async_trait]
impl GrantStore for Interleaved {
    async fn create_grant(&self, grant: Grant) -> crate::Result<()> {
        yield_once().await;
        self.0.create_grant(grant).await
    }
    async fn grant(&self, id: &str, now: i64) -> crate::Result<Option<Grant>> {
        yield_once().await;
        self.0.grant(id, now).await
    }
    async fn insert_token(&self, record: TokenRecord) -> crate::Result<()> {
        yield_once().await;
        self.0.insert_token(record).await
    }
    async fn token(
        &self,
        hash: &TokenHash,
        now: i64,
    ) -> crate::Result<Option<(TokenRecord, Grant)>> {
        yield_once().await;
        self.0.token(hash, now).await
    }
    async fn consume(
        &self,
        hash: &TokenHash,
        kind: TokenKind,
        now: i64,
    ) -> crate::Result<ConsumeOutcome> {
        yield_once().await;
        self.0.consume(hash, kind, now).await
    }
    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> crate::Result<RotateOutcome> {
        yield_once().await;
        self.0.rotate(old, new, now, grace_seconds).await
    }
    async fn revoke_grant(&self, id: &str) -> crate::Result<()> {
        yield_once().await;
        self.0.revoke_grant(id).await
    }
    async fn revoke_token(&self, hash: &TokenHash) -> crate::Result<Option<TokenRecord>> {
        yield_once().await;
        self.0.revoke_token(hash).await
    }
    async fn mark(&self, key: &TokenHash, until: i64, now: i64) -> crate::Result<bool> {
        yield_once().await;
        self.0.mark(key, until, now).await
    }
    async fn is_marked(&self, key: &TokenHash, now: i64) -> crate::Result<bool> {
        yield_once().await;
        self.0.is_marked(key, now).await
    }
    async fn grants_by_subject(&self, subject: &str, now: i64) -> crate::Result<Vec<Grant>> {
        yield_once().await;
        self.0.grants_by_subject(subject, now).await
    }
    async fn sweep(&self, now: i64) -> crate::Result<usize> {
        yield_once().await;
        self.0.sweep(now).await
    }
}

/// The one client of [`concurrent_code_redemption`] (the kit stays below `memory`).
struct OneClient(Client);

#[async_trait::async_trait]
impl ClientStore for OneClient {
    async fn client(&self, client_id: &str) -> crate::Result<Option<Client>> {
        Ok((client_id == self.0.client_id).then(|| self.0.clone()))
    }
}

/// The one user of [`concurrent_code_redemption`], with no claims beyond `sub`.
struct OneUser(String);

#[async_trait::async_trait]
impl ClaimsSource for OneUser {
    async fn claims(
        &self,
        subject: &str,
    ) -> crate::Result<Option<serde_json::Map<String, serde_json::Value>>> {
        Ok((subject == self.0).then(serde_json::Map::new))
    }
}

/// `n` concurrent redemptions of one authorization code through [`Provider`]s on `stores`
/// (one provider per store, sharing the signing key and clients: several processes on one
/// database when the stores are pools of it), spread round-robin, with tokens kept as
/// `persistence` says (RFC 6749 §4.1.2, RFC 9700 §4.2.4): exactly one answers tokens and every
/// other `invalid_grant`; afterwards the winner's access token and refresh token are inactive
/// at introspection at every provider and its refresh token is refused, because the replays
/// revoked everything issued from the code — including what the winner stored, or tried to
/// store, after the first replay's revocation.
///
/// Every store call of the providers yields to the executor first ([`join_all`]
/// interleaving), so the replays' revocations land in the middle of the winner's issuance.
/// The stores must keep the providers' tokens for the whole check (no sweeping at a clock of
/// their own).
pub async fn concurrent_code_redemption(
    stores: Vec<Arc<dyn GrantStore>>,
    persistence: TokenPersistence,
    n: usize,
) {
    const CB: &str = "https://testkit.example/cb";
    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
    assert!(!stores.is_empty(), "testkit: no store to redeem on");
    let client_id = fresh("redeem-client");
    let subject = fresh("redeem-user");
    let mut config = Config::new("https://testkit.example");
    config.token_persistence = persistence;
    let key = ok(
        idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
            idforge_jose::crypto::EcCurve::P256,
        )),
        "generate a signing key",
    );
    let clients = Arc::new(OneClient(
        Client::confidential(&client_id, "secret")
            .with_redirect_uri(CB)
            .with_grant_types(["authorization_code", "refresh_token"])
            .with_consent_implied(),
    ));
    let users = Arc::new(OneUser(subject.clone()));
    let clock = Arc::new(idforge_jose::FixedClock::new(T0));
    let providers: Vec<Provider> = stores
        .into_iter()
        .map(|store| {
            let signer = ok(
                idforge_jose::LocalSigner::new(key.clone(), idforge_jose::JwsAlgorithm::ES256),
                "signer",
            );
            ok(
                Provider::builder(config.clone())
                    .clients(clients.clone())
                    .grants(Arc::new(Interleaved(store)))
                    .claims(users.clone())
                    .keys(Arc::new(idforge_jose::KeyRing::new(signer)))
                    .clock(clock.clone())
                    .build(),
                "build a provider on the store",
            )
        })
        .collect();
    let query = format!(
        "response_type=code&client_id={client_id}&redirect_uri={}&scope=openid&state=s\
         &code_challenge={CHALLENGE}&code_challenge_method=S256",
        form_encode(CB)
    );
    let session = Session::new(subject.clone(), T0 - 10);
    let code = match providers[0]
        .authorization
        .start(query.as_bytes(), Some(&session))
        .await
    {
        Interaction::Redirect(r) => match r.param("code") {
            Some(code) => code.to_owned(),
            None => panic!("testkit: the authorization request failed: {r:?}"),
        },
        other => panic!("testkit: expected a code, got {other:?}"),
    };
    let auth = format!(
        "Basic {}",
        base64::Engine::encode(
            &base64::engine::general_purpose::STANDARD,
            format!("{client_id}:secret")
        )
    );
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        form_encode(&code),
        form_encode(CB)
    );
    let futures = (0..n)
        .map(|i| {
            let token = &providers[i % providers.len()].token;
            let (body, auth) = (body.as_bytes(), auth.as_str());
            Box::pin(async move { token.handle_form(body, Some(auth)).await })
                as BoxFuture<'_, crate::Result<crate::TokenResponse>>
        })
        .collect();
    let winner = sole_winner(
        join_all(futures).await,
        &format!("a code ({persistence:?})"),
    );
    let Some(rt) = winner.refresh_token.as_deref() else {
        panic!("testkit: the winning redemption must carry a refresh token");
    };
    let introspect =
        |token: &str, hint: &str| format!("token={}&token_type_hint={hint}", form_encode(token));
    for provider in &providers {
        for (token, hint) in [
            (winner.access_token.as_str(), "access_token"),
            (rt, "refresh_token"),
        ] {
            let info = ok(
                provider
                    .introspection
                    .handle_form(introspect(token, hint).as_bytes(), Some(&auth))
                    .await,
                "introspect the winner's tokens",
            );
            assert_eq!(
                info["active"],
                serde_json::json!(false),
                "testkit: the winner's {hint} must be revoked by the replays ({persistence:?})"
            );
        }
        let refresh = format!("grant_type=refresh_token&refresh_token={}", form_encode(rt));
        match provider
            .token
            .handle_form(refresh.as_bytes(), Some(&auth))
            .await
        {
            Ok(_) => {
                panic!("testkit: the winner's refresh token must be refused ({persistence:?})")
            }
            Err(e) => assert_eq!(e.code(), "invalid_grant", "testkit: refresh after a replay"),
        }
    }
}

fn form_encode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// A pushed authorization request (RFC 9126) made at [`T0`] that lives `ttl` seconds; returns
/// the random part of its `request_uri` too.
pub fn pushed_request(ttl: i64) -> (String, PushedRequest) {
    let secret = fresh("request-uri");
    let params = Params::from_pairs([
        ("client_id", "testkit-client"),
        ("response_type", "code"),
        ("scope", "openid"),
    ])
    .unwrap_or_default();
    let request = PushedRequest {
        hash: TokenHash::of(&secret),
        client_id: "testkit-client".into(),
        params,
        created_at: T0,
        expires_at: T0 + ttl,
    };
    (secret, request)
}

/// Runs every check of a [`PushedRequestStore`].
pub async fn run_all_pushed(store: &dyn PushedRequestStore) {
    pushed_consume_once(store).await;
    pushed_expiry(store).await;
    pushed_concurrent_consume(store, 64).await;
}

/// A pushed request is returned once, intact, then never again (RFC 9126 §4, one-time use).
pub async fn pushed_consume_once(store: &dyn PushedRequestStore) {
    let (_, r) = pushed_request(60);
    ok(store.insert(r.clone()).await, "insert");
    let first = ok(store.consume(&r.hash, T0 + 1).await, "consume");
    assert_eq!(
        first.as_ref(),
        Some(&r),
        "testkit: a pushed request comes back as stored"
    );
    assert!(
        ok(store.consume(&r.hash, T0 + 2).await, "consume").is_none(),
        "testkit: a pushed request must be consumed once"
    );
    let (_, unknown) = pushed_request(60);
    assert!(
        ok(store.consume(&unknown.hash, T0).await, "consume").is_none(),
        "testkit: an unknown request_uri is not found"
    );
}

/// An expired pushed request is not returned; sweeping removes it and keeps live ones.
pub async fn pushed_expiry(store: &dyn PushedRequestStore) {
    let (_, short) = pushed_request(10);
    let (_, long) = pushed_request(1000);
    ok(store.insert(short.clone()).await, "insert");
    ok(store.insert(long.clone()).await, "insert");
    assert!(
        ok(store.consume(&short.hash, T0 + 10).await, "consume").is_none(),
        "testkit: a pushed request is dead at its expiry"
    );
    ok(store.sweep(T0 + 20).await, "sweep");
    assert!(
        ok(store.consume(&long.hash, T0 + 20).await, "consume").is_some(),
        "testkit: sweep removed a live pushed request"
    );
}

/// `n` concurrent consumers of one pushed request: exactly one gets it.
pub async fn pushed_concurrent_consume(store: &dyn PushedRequestStore, n: usize) {
    let (_, r) = pushed_request(60);
    ok(store.insert(r.clone()).await, "insert");
    let futures = (0..n)
        .map(|_| {
            let hash = r.hash;
            Box::pin(async move { store.consume(&hash, T0 + 1).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send + '_>>
        })
        .collect();
    let results = join_all(futures).await;
    let won = results.iter().filter(|r| matches!(r, Ok(Some(_)))).count();
    assert_eq!(
        won, 1,
        "testkit: exactly one concurrent consume of a request_uri must win"
    );
}

/// A pending device authorization (RFC 8628) of `testkit-client` made at [`T0`], living `ttl`
/// seconds with a 5-second interval; returns its device code too.
pub fn device_authorization(ttl: i64) -> (String, DeviceAuthorization) {
    let device_code = fresh("device-code");
    let user_code = fresh("user-code");
    let a = DeviceAuthorization::new(
        TokenHash::of(&device_code),
        TokenHash::namespaced("user_code", &user_code),
        "testkit-client",
        Scopes::from_values(["openid", "profile"]),
        T0,
        ttl,
        5,
    );
    (device_code, a)
}

fn approval() -> UserDecision {
    UserDecision::Approve(DeviceApproval::new("testkit-user", T0, vec!["pwd".into()]))
}

/// Runs every check of a [`DeviceCodeStore`], including 100 concurrent polls.
pub async fn run_all_device(store: &dyn DeviceCodeStore) {
    device_insert_and_lookup(store).await;
    device_poll_pending_and_slow_down(store).await;
    device_decide_and_redeem_once(store).await;
    device_deny(store).await;
    device_expiry(store).await;
    device_client_binding(store).await;
    device_sweep(store).await;
    device_concurrent_polls_pending(store, 100).await;
    device_concurrent_redemption(store, 100).await;
    device_concurrent_decisions(store, 100).await;
}

/// An inserted authorization is found by its user code, intact; a second one with the same
/// device or user code is refused (`false`), leaving the first untouched.
pub async fn device_insert_and_lookup(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(600);
    assert!(
        ok(store.insert(a.clone()).await, "insert"),
        "testkit: insert"
    );
    let found = ok(
        store.by_user_code(&a.user_code, T0 + 1).await,
        "by_user_code",
    );
    assert_eq!(
        found.as_ref(),
        Some(&a),
        "testkit: a device authorization comes back as stored"
    );
    let (_, mut same_user) = device_authorization(600);
    same_user.user_code = a.user_code;
    assert!(
        !ok(store.insert(same_user).await, "insert"),
        "testkit: a user code in use must be refused"
    );
    let (_, mut same_device) = device_authorization(600);
    same_device.device_code = a.device_code;
    assert!(
        !ok(store.insert(same_device).await, "insert"),
        "testkit: a device code in use must be refused"
    );
    let again = ok(
        store.by_user_code(&a.user_code, T0 + 1).await,
        "by_user_code",
    );
    assert_eq!(
        again.as_ref(),
        Some(&a),
        "testkit: a refused insert changed the record"
    );
    let (_, unknown) = device_authorization(600);
    assert!(
        ok(
            store.by_user_code(&unknown.user_code, T0).await,
            "by_user_code"
        )
        .is_none(),
        "testkit: an unknown user code is not found"
    );
}

/// RFC 8628 §3.5: pending polls are `authorization_pending`; one sooner than the interval is
/// `slow_down` and the interval grows by 5 seconds, for all later polls too.
pub async fn device_poll_pending_and_slow_down(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    let h = a.device_code;
    let c = "testkit-client";
    assert_eq!(
        ok(store.poll(&h, c, T0 + 5).await, "poll"),
        PollOutcome::Pending
    );
    assert_eq!(
        ok(store.poll(&h, c, T0 + 6).await, "poll"),
        PollOutcome::SlowDown { interval: 10 },
        "testkit: a poll within the interval is slow_down, +5 s"
    );
    assert_eq!(
        ok(store.poll(&h, c, T0 + 14).await, "poll"),
        PollOutcome::SlowDown { interval: 15 },
        "testkit: the grown interval applies to later polls"
    );
    assert_eq!(
        ok(store.poll(&h, c, T0 + 29).await, "poll"),
        PollOutcome::Pending
    );
}

/// `Pending → Approved → Redeemed`: the first poll after approval redeems, the next is
/// `NotFound` (`invalid_grant`); a second decision is refused.
pub async fn device_decide_and_redeem_once(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    match ok(
        store.decide(&a.user_code, approval(), T0 + 10).await,
        "decide",
    ) {
        DecideOutcome::Approved(next) => assert!(
            matches!(next.state, DeviceState::Approved(_)),
            "testkit: approval is stored"
        ),
        other => panic!("testkit: approving a pending authorization gave {other:?}"),
    }
    assert_eq!(
        ok(
            store
                .decide(&a.user_code, UserDecision::Deny, T0 + 11)
                .await,
            "decide"
        ),
        DecideOutcome::NotFound,
        "testkit: a decided authorization cannot be decided again"
    );
    match ok(
        store.poll(&a.device_code, "testkit-client", T0 + 20).await,
        "poll",
    ) {
        PollOutcome::Redeemed(r, approval) => {
            assert_eq!(approval.subject, "testkit-user");
            assert_eq!(r.state, DeviceState::Redeemed { at: T0 + 20 });
        }
        other => panic!("testkit: polling an approved authorization gave {other:?}"),
    }
    assert_eq!(
        ok(
            store.poll(&a.device_code, "testkit-client", T0 + 30).await,
            "poll"
        ),
        PollOutcome::NotFound,
        "testkit: a device code is redeemed once"
    );
}

/// A denied authorization polls as `access_denied` (RFC 8628 §3.5), every time.
pub async fn device_deny(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    assert!(matches!(
        ok(
            store.decide(&a.user_code, UserDecision::Deny, T0 + 1).await,
            "decide"
        ),
        DecideOutcome::Denied(_)
    ));
    for t in [T0 + 10, T0 + 20] {
        assert_eq!(
            ok(
                store.poll(&a.device_code, "testkit-client", t).await,
                "poll"
            ),
            PollOutcome::Denied,
            "testkit: a denied authorization polls as access_denied"
        );
    }
}

/// After expiry a poll is `expired_token`, not `invalid_grant` (RFC 8628 §3.5), and a decision
/// is refused as expired.
pub async fn device_expiry(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(60);
    ok(store.insert(a.clone()).await, "insert");
    assert_eq!(
        ok(
            store.poll(&a.device_code, "testkit-client", T0 + 61).await,
            "poll"
        ),
        PollOutcome::Expired,
        "testkit: a poll after expiry must be answered expired_token"
    );
    assert_eq!(
        ok(
            store.decide(&a.user_code, approval(), T0 + 61).await,
            "decide"
        ),
        DecideOutcome::Expired,
        "testkit: an expired authorization cannot be approved"
    );
    assert_eq!(
        ok(
            store.poll(&a.device_code, "testkit-client", T0 + 600).await,
            "poll"
        ),
        PollOutcome::Expired,
        "testkit: expired_token stays answerable after expiry"
    );
}

/// Another client's poll is `NotFound` and changes nothing (not even the poll time).
pub async fn device_client_binding(store: &dyn DeviceCodeStore) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    ok(
        store.decide(&a.user_code, approval(), T0 + 1).await,
        "decide",
    );
    assert_eq!(
        ok(
            store.poll(&a.device_code, "other-client", T0 + 5).await,
            "poll"
        ),
        PollOutcome::NotFound,
        "testkit: a device code is bound to its client"
    );
    assert!(
        matches!(
            ok(
                store.poll(&a.device_code, "testkit-client", T0 + 6).await,
                "poll"
            ),
            PollOutcome::Redeemed(..)
        ),
        "testkit: another client's poll must not spend the code"
    );
}

/// Sweeping removes what is past its retention and keeps the rest.
pub async fn device_sweep(store: &dyn DeviceCodeStore) {
    let (_, short) = device_authorization(10);
    let (_, long) = device_authorization(100_000);
    ok(store.insert(short.clone()).await, "insert");
    ok(store.insert(long.clone()).await, "insert");
    let at = short.retain_until() + 1;
    let removed = ok(store.sweep(at).await, "sweep");
    assert!(removed >= 1, "testkit: sweep must report what it removed");
    assert!(
        ok(
            store.by_user_code(&short.user_code, at).await,
            "by_user_code"
        )
        .is_none(),
        "testkit: swept authorization still there"
    );
    assert!(
        ok(
            store.by_user_code(&long.user_code, at).await,
            "by_user_code"
        )
        .is_some(),
        "testkit: sweep removed a live authorization"
    );
}

type Boxed<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// `n` concurrent polls of a pending authorization at the same instant: exactly one passes as
/// `authorization_pending`, every other one is `slow_down` (the check-and-update is atomic).
pub async fn device_concurrent_polls_pending(store: &dyn DeviceCodeStore, n: usize) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    let futures: Vec<Boxed<'_, _>> = (0..n)
        .map(|_| {
            let h = a.device_code;
            Box::pin(async move { store.poll(&h, "testkit-client", T0 + 10).await }) as Boxed<'_, _>
        })
        .collect();
    let results = join_all(futures).await;
    let passed = results
        .iter()
        .filter(|r| matches!(r, Ok(PollOutcome::Pending)))
        .count();
    let slowed = results
        .iter()
        .filter(|r| matches!(r, Ok(PollOutcome::SlowDown { .. })))
        .count();
    assert_eq!(
        passed, 1,
        "testkit: two concurrent polls must not both pass"
    );
    assert_eq!(
        slowed,
        n - 1,
        "testkit: the other concurrent polls are slow_down"
    );
}

/// `n` concurrent polls of an approved authorization: exactly one redeems it.
pub async fn device_concurrent_redemption(store: &dyn DeviceCodeStore, n: usize) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    ok(
        store.decide(&a.user_code, approval(), T0 + 1).await,
        "decide",
    );
    let futures: Vec<Boxed<'_, _>> = (0..n)
        .map(|_| {
            let h = a.device_code;
            Box::pin(async move { store.poll(&h, "testkit-client", T0 + 10).await }) as Boxed<'_, _>
        })
        .collect();
    let results = join_all(futures).await;
    let redeemed = results
        .iter()
        .filter(|r| matches!(r, Ok(PollOutcome::Redeemed(..))))
        .count();
    assert_eq!(
        redeemed, 1,
        "testkit: an approved device code is redeemed exactly once"
    );
    assert!(
        results.iter().all(Result::is_ok),
        "testkit: losing polls are answered, not errors"
    );
}

/// `n` concurrent decisions on one user code: exactly one takes effect.
pub async fn device_concurrent_decisions(store: &dyn DeviceCodeStore, n: usize) {
    let (_, a) = device_authorization(600);
    ok(store.insert(a.clone()).await, "insert");
    let futures: Vec<Boxed<'_, _>> = (0..n)
        .map(|i| {
            let h = a.user_code;
            let d = if i % 2 == 0 {
                approval()
            } else {
                UserDecision::Deny
            };
            Box::pin(async move { store.decide(&h, d, T0 + 1).await }) as Boxed<'_, _>
        })
        .collect();
    let results = join_all(futures).await;
    let won = results
        .iter()
        .filter(|r| matches!(r, Ok(DecideOutcome::Approved(_) | DecideOutcome::Denied(_))))
        .count();
    assert_eq!(
        won, 1,
        "testkit: exactly one concurrent decision takes effect"
    );
}

/// A session of `subject` created at [`T0`] with a fresh 128-bit-sized `sid`, a 900-second idle
/// window (a one-day one with `RememberMe::Yes`) and the absolute lifetime given.
pub fn session(subject: &str, remember_me: RememberMe, absolute: Option<i64>) -> SessionRecord {
    let policy = SessionPolicy::new(900, 86_400).with_absolute_lifetime(absolute);
    SessionRecord::new(fresh("sid"), subject, T0, remember_me, &policy)
        .with_amr(vec!["pwd".into()])
        .with_acr(Some("urn:testkit:acr".into()))
}

/// Runs every check of a [`SessionStore`], including 100 concurrent logins and logouts of one
/// user.
pub async fn run_all_sessions(store: &dyn SessionStore) {
    session_create_and_get(store).await;
    session_idle_expiry_and_touch(store).await;
    session_remember_me_and_absolute(store).await;
    session_record_grant(store).await;
    session_reauthenticate(store).await;
    session_remove_once(store).await;
    session_remove_by_subject(store).await;
    session_sweep(store).await;
    session_concurrent_remove(store, 100).await;
    session_concurrent_logins_and_logouts(store, 100).await;
}

/// A created session reads back intact; a second one with the same `sid` is refused
/// (`false`) and leaves the first untouched.
pub async fn session_create_and_get(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::No, None);
    assert!(ok(store.create(s.clone()).await, "create"));
    assert_eq!(
        ok(store.get(&s.sid, T0).await, "get"),
        Some(s.clone()),
        "testkit: a session must read back intact"
    );
    let mut other = session("someone-else", RememberMe::No, None);
    other.sid = s.sid.clone();
    assert!(
        !ok(store.create(other).await, "create duplicate"),
        "testkit: a duplicate sid must be refused"
    );
    assert_eq!(ok(store.get(&s.sid, T0).await, "get"), Some(s));
    assert_eq!(ok(store.get(&fresh("sid"), T0).await, "get unknown"), None);
}

/// Idle expiry is half-open at the boundary second; `touch` restarts the window, and touching
/// an expired session changes nothing.
pub async fn session_idle_expiry_and_touch(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::No, None);
    ok(store.create(s.clone()).await, "create");
    assert!(ok(store.get(&s.sid, T0 + 899).await, "get").is_some());
    assert!(
        ok(store.get(&s.sid, T0 + 900).await, "get").is_none(),
        "testkit: a session idle for its whole window must be over"
    );
    let touched = ok(store.touch(&s.sid, T0 + 600).await, "touch")
        .unwrap_or_else(|| panic!("testkit: touch of a live session must succeed"));
    assert_eq!(touched.last_active, T0 + 600);
    assert!(ok(store.get(&s.sid, T0 + 1499).await, "get").is_some());
    assert!(ok(store.get(&s.sid, T0 + 1500).await, "get").is_none());
    assert!(
        ok(store.touch(&s.sid, T0 + 1500).await, "touch").is_none(),
        "testkit: touching an expired session must not revive it"
    );
    assert!(ok(store.get(&s.sid, T0 + 1499).await, "get").is_some());
}

/// A remember-me session uses the longer window; the absolute lifetime ends even an active one.
pub async fn session_remember_me_and_absolute(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::Yes, None);
    ok(store.create(s.clone()).await, "create");
    assert!(ok(store.get(&s.sid, T0 + 86_399).await, "get").is_some());
    assert!(ok(store.get(&s.sid, T0 + 86_400).await, "get").is_none());
    let s = session(&fresh("user"), RememberMe::Yes, Some(1000));
    ok(store.create(s.clone()).await, "create");
    assert!(ok(store.touch(&s.sid, T0 + 990).await, "touch").is_some());
    assert!(ok(store.get(&s.sid, T0 + 999).await, "get").is_some());
    assert!(
        ok(store.get(&s.sid, T0 + 1000).await, "get").is_none(),
        "testkit: the absolute lifetime ends an active session"
    );
    assert!(ok(store.touch(&s.sid, T0 + 1000).await, "touch").is_none());
}

/// `record_grant` appends the client and grant once each and counts as use; not on an expired
/// session.
pub async fn session_record_grant(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::No, None);
    ok(store.create(s.clone()).await, "create");
    ok(
        store.record_grant(&s.sid, "rp1", "g1", T0 + 10).await,
        "record",
    );
    ok(
        store.record_grant(&s.sid, "rp2", "g2", T0 + 20).await,
        "record",
    );
    let r = ok(
        store.record_grant(&s.sid, "rp1", "g3", T0 + 30).await,
        "record",
    )
    .unwrap_or_else(|| panic!("testkit: record_grant on a live session must succeed"));
    assert_eq!(r.clients, vec!["rp1".to_owned(), "rp2".to_owned()]);
    assert_eq!(r.grants, vec!["g1".to_owned(), "g2".into(), "g3".into()]);
    assert_eq!(r.last_active, T0 + 30);
    assert_eq!(ok(store.get(&s.sid, T0 + 30).await, "get"), Some(r));
    assert!(
        ok(
            store.record_grant(&s.sid, "rp3", "g4", T0 + 30 + 900).await,
            "record"
        )
        .is_none(),
        "testkit: record_grant on an expired session must fail"
    );
}

/// `reauthenticate` updates the authentication of a live session, not of an expired one.
pub async fn session_reauthenticate(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::No, None);
    ok(store.create(s.clone()).await, "create");
    let amr = vec!["pwd".to_owned(), "otp".to_owned()];
    let r = ok(
        store
            .reauthenticate(&s.sid, T0 + 50, Some("urn:mfa"), &amr, T0 + 50)
            .await,
        "reauthenticate",
    )
    .unwrap_or_else(|| panic!("testkit: reauthenticate of a live session must succeed"));
    assert_eq!(
        (r.auth_time, r.acr.as_deref(), r.amr.clone(), r.last_active),
        (T0 + 50, Some("urn:mfa"), amr.clone(), T0 + 50)
    );
    assert_eq!((r.sid.as_str(), r.created_at), (s.sid.as_str(), T0));
    assert_eq!(ok(store.get(&s.sid, T0 + 50).await, "get"), Some(r));
    assert!(
        ok(
            store
                .reauthenticate(&s.sid, T0 + 2000, None, &amr, T0 + 2000)
                .await,
            "reauthenticate"
        )
        .is_none(),
        "testkit: reauthenticate must not revive an expired session"
    );
}

/// `remove` returns the session once, then `None`.
pub async fn session_remove_once(store: &dyn SessionStore) {
    let s = session(&fresh("user"), RememberMe::No, None);
    ok(store.create(s.clone()).await, "create");
    assert_eq!(ok(store.remove(&s.sid).await, "remove"), Some(s.clone()));
    assert_eq!(ok(store.remove(&s.sid).await, "remove"), None);
    assert_eq!(ok(store.get(&s.sid, T0).await, "get"), None);
}

/// `by_subject` lists the live sessions of one user; `remove_by_subject` ends all of them and
/// no other user's.
pub async fn session_remove_by_subject(store: &dyn SessionStore) {
    let user = fresh("user");
    let a = session(&user, RememberMe::No, None);
    let mut b = session(&user, RememberMe::Yes, None);
    b.created_at = T0 + 1;
    b.last_active = T0 + 1;
    let other = session(&fresh("user"), RememberMe::No, None);
    for s in [&a, &b, &other] {
        ok(store.create(s.clone()).await, "create");
    }
    let live = ok(store.by_subject(&user, T0 + 2).await, "by_subject");
    assert_eq!(live, vec![a.clone(), b.clone()], "testkit: oldest first");
    let live = ok(store.by_subject(&user, T0 + 901).await, "by_subject");
    assert_eq!(
        live,
        vec![b.clone()],
        "testkit: only live sessions are listed"
    );
    let mut gone = ok(store.remove_by_subject(&user).await, "remove_by_subject");
    gone.sort_by_key(|s| s.created_at);
    assert_eq!(gone, vec![a, b]);
    assert!(ok(store.by_subject(&user, T0).await, "by_subject").is_empty());
    assert!(ok(store.get(&other.sid, T0).await, "get").is_some());
    assert!(ok(store.remove_by_subject(&user).await, "again").is_empty());
}

/// `sweep` drops expired sessions and keeps live ones.
pub async fn session_sweep(store: &dyn SessionStore) {
    // Other checks leave sessions behind; sweep them first so the count is ours.
    ok(store.sweep(T0 + 10_000_000).await, "sweep");
    let short = session(&fresh("user"), RememberMe::No, None);
    let long = session(&fresh("user"), RememberMe::Yes, None);
    ok(store.create(short.clone()).await, "create");
    ok(store.create(long.clone()).await, "create");
    assert_eq!(ok(store.sweep(T0 + 900).await, "sweep"), 1);
    assert_eq!(ok(store.remove(&short.sid).await, "remove"), None);
    assert!(ok(store.get(&long.sid, T0 + 900).await, "get").is_some());
    ok(store.remove(&long.sid).await, "remove");
}

/// `n` concurrent logouts of one session: exactly one gets it back.
pub async fn session_concurrent_remove(store: &dyn SessionStore, n: usize) {
    let s = session(&fresh("user"), RememberMe::No, None);
    ok(store.create(s.clone()).await, "create");
    let sid = s.sid.as_str();
    let futures = (0..n)
        .map(|_| Box::pin(async move { store.remove(sid).await }) as BoxFuture<'_, _>)
        .collect();
    let won = join_all(futures)
        .await
        .into_iter()
        .filter(|r| matches!(r, Ok(Some(_))))
        .count();
    assert_eq!(
        won, 1,
        "testkit: exactly one concurrent logout must end a session"
    );
}

/// `n` concurrent logins of one user, each followed by its logout, interleaved with removals of
/// every session of the user: no session is left behind and every session was ended once.
pub async fn session_concurrent_logins_and_logouts(store: &dyn SessionStore, n: usize) {
    let user = fresh("user");
    let sessions: Vec<SessionRecord> = (0..n)
        .map(|_| session(&user, RememberMe::No, None))
        .collect();
    let futures = sessions
        .iter()
        .enumerate()
        .map(|(i, s)| {
            let user = user.as_str();
            Box::pin(async move {
                assert!(ok(store.create(s.clone()).await, "create"));
                let mut ended = usize::from(ok(store.remove(&s.sid).await, "remove").is_some());
                if i % 10 == 0 {
                    ended += ok(store.remove_by_subject(user).await, "remove_by_subject").len();
                }
                ended
            }) as BoxFuture<'_, usize>
        })
        .collect();
    let ended: usize = join_all(futures).await.into_iter().sum();
    assert_eq!(
        ended, n,
        "testkit: every session must be ended exactly once"
    );
    assert!(
        ok(store.by_subject(&user, T0).await, "by_subject").is_empty(),
        "testkit: concurrent logins and logouts must leave no session behind"
    );
    for s in &sessions {
        assert_eq!(ok(store.get(&s.sid, T0).await, "get"), None);
    }
}

fn object(v: serde_json::Value) -> serde_json::Map<String, serde_json::Value> {
    match v {
        serde_json::Value::Object(m) => m,
        _ => serde_json::Map::new(),
    }
}

/// Runs every [`LocalAttributeStore`] check.
pub async fn run_all_local_attributes(store: &dyn LocalAttributeStore) {
    local_attributes_write_and_read(store).await;
    local_attributes_seed(store).await;
    local_attributes_find_and_forget(store).await;
    local_attributes_concurrent_writes(store, 32).await;
}

/// Writes set and remove values (any JSON), per (store, subject), all at once.
pub async fn local_attributes_write_and_read(store: &dyn LocalAttributeStore) {
    let (s, user) = (fresh("store"), fresh("user"));
    assert!(
        ok(store.local_attributes(&s, &user).await, "local_attributes").is_empty(),
        "testkit: an unknown user has no local attributes"
    );
    let values = object(serde_json::json!({
        "nickname": "Al", "age": 42, "verified": true, "address": {"locality": "Paris"},
        "groups": ["a", "b"]
    }));
    ok(store.write_local(&s, &user, &values).await, "write_local");
    assert_eq!(
        ok(store.local_attributes(&s, &user).await, "local_attributes"),
        values,
        "testkit: local attributes read back as written (any JSON value)"
    );
    ok(
        store
            .write_local(
                &s,
                &user,
                &object(serde_json::json!({"nickname": "Ally", "age": null})),
            )
            .await,
        "write_local",
    );
    let got = ok(store.local_attributes(&s, &user).await, "local_attributes");
    assert_eq!(
        got.get("nickname"),
        Some(&serde_json::json!("Ally")),
        "testkit: a write replaces"
    );
    assert!(
        !got.contains_key("age"),
        "testkit: a null value removes the attribute"
    );
    assert_eq!(
        got.get("verified"),
        Some(&serde_json::json!(true)),
        "testkit: others stay"
    );
    // Another store's user with the same subject is another user.
    assert!(
        ok(
            store.local_attributes(&fresh("other-store"), &user).await,
            "local_attributes"
        )
        .is_empty(),
        "testkit: local attributes are per connected store"
    );
}

/// Seeding sets only absent attributes.
pub async fn local_attributes_seed(store: &dyn LocalAttributeStore) {
    let (s, user) = (fresh("store"), fresh("user"));
    ok(
        store
            .write_local(&s, &user, &object(serde_json::json!({"nickname": "Al"})))
            .await,
        "write_local",
    );
    let set = ok(
        store
            .seed_local(
                &s,
                &user,
                &object(serde_json::json!({"nickname": "From file", "locale": "fr"})),
            )
            .await,
        "seed_local",
    );
    assert_eq!(set, 1, "testkit: seed_local sets only the absent attribute");
    assert_eq!(
        ok(store.local_attributes(&s, &user).await, "local_attributes"),
        object(serde_json::json!({"nickname": "Al", "locale": "fr"})),
        "testkit: a local write wins over a seed"
    );
    let again = ok(
        store
            .seed_local(&s, &user, &object(serde_json::json!({"locale": "de"})))
            .await,
        "seed_local",
    );
    assert_eq!(again, 0, "testkit: seeding again changes nothing");
    // A removal is remembered: the source's value is not imported over it.
    ok(
        store
            .write_local(&s, &user, &object(serde_json::json!({"nickname": null})))
            .await,
        "write_local",
    );
    let after_removal = ok(
        store
            .seed_local(
                &s,
                &user,
                &object(serde_json::json!({"nickname": "From file"})),
            )
            .await,
        "seed_local",
    );
    assert_eq!(
        after_removal, 0,
        "testkit: seed_local does not set a removed attribute again"
    );
    assert_eq!(
        ok(store.local_attributes(&s, &user).await, "local_attributes"),
        object(serde_json::json!({"locale": "fr"})),
        "testkit: a removed attribute stays absent"
    );
    // Only removals left: nothing to read, nothing found, nothing to forget.
    ok(
        store
            .write_local(&s, &user, &object(serde_json::json!({"locale": null})))
            .await,
        "write_local",
    );
    assert!(
        ok(store.local_attributes(&s, &user).await, "local_attributes").is_empty(),
        "testkit: removals are not values"
    );
    assert!(
        !ok(store.forget_local(&s, &user).await, "forget_local"),
        "testkit: forgetting a user with only removals forgets no values"
    );
    // Forgotten, removals included: the source's values are imported again.
    assert_eq!(
        ok(
            store
                .seed_local(
                    &s,
                    &user,
                    &object(serde_json::json!({"nickname": "From file"}))
                )
                .await,
            "seed_local"
        ),
        1,
        "testkit: forget_local forgets removals too"
    );
}

/// Lookup by local string attributes, and forgetting a user.
pub async fn local_attributes_find_and_forget(store: &dyn LocalAttributeStore) {
    let (s, a, b) = (fresh("store"), fresh("user-a"), fresh("user-b"));
    let dept = fresh("dept");
    ok(
        store
            .write_local(
                &s,
                &a,
                &object(serde_json::json!({"dept": dept, "level": "1"})),
            )
            .await,
        "write_local",
    );
    ok(
        store
            .write_local(
                &s,
                &b,
                &object(serde_json::json!({"dept": dept, "level": "2"})),
            )
            .await,
        "write_local",
    );
    let mut both = ok(store.find_local(&s, &[("dept", &dept)]).await, "find_local");
    both.sort();
    let mut expected = vec![a.clone(), b.clone()];
    expected.sort();
    assert_eq!(both, expected, "testkit: find_local finds every match");
    assert_eq!(
        ok(
            store
                .find_local(&s, &[("dept", &dept), ("level", "2")])
                .await,
            "find_local"
        ),
        vec![b.clone()],
        "testkit: find_local matches all pairs"
    );
    assert!(
        ok(
            store.find_local(&fresh("other"), &[("dept", &dept)]).await,
            "find_local"
        )
        .is_empty(),
        "testkit: find_local stays in its store"
    );
    assert!(
        ok(store.find_local(&s, &[]).await, "find_local").is_empty(),
        "testkit: an empty lookup matches nobody"
    );
    assert!(
        ok(store.forget_local(&s, &a).await, "forget_local"),
        "testkit: forget_local"
    );
    assert!(
        ok(store.local_attributes(&s, &a).await, "local_attributes").is_empty(),
        "testkit: a forgotten user has no local attributes"
    );
    assert!(
        !ok(store.forget_local(&s, &a).await, "forget_local"),
        "testkit: forgetting twice finds nothing"
    );
    assert_eq!(
        ok(store.find_local(&s, &[("dept", &dept)]).await, "find_local"),
        vec![b],
        "testkit: a forgotten user is not found"
    );
}

/// `n` concurrent writes of different attributes of one user all stay.
pub async fn local_attributes_concurrent_writes(store: &dyn LocalAttributeStore, n: usize) {
    let (s, user) = (fresh("store"), fresh("user"));
    let futures: Vec<BoxFuture<'_, _>> = (0..n)
        .map(|i| {
            let (s, user) = (s.clone(), user.clone());
            Box::pin(async move {
                let change = object(serde_json::json!({ format!("a{i}"): i }));
                store.write_local(&s, &user, &change).await
            }) as BoxFuture<'_, _>
        })
        .collect();
    for r in join_all(futures).await {
        ok(r, "concurrent write_local");
    }
    let got = ok(store.local_attributes(&s, &user).await, "local_attributes");
    assert_eq!(
        got.len(),
        n,
        "testkit: every concurrent write of another attribute stays"
    );
}

/// A user a [`ConnectedUserStore`] under test holds: [`run_connected_user_store`] checks the
/// store answers for it as the port says.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct KnownUser {
    /// Its login name.
    pub username: String,
    /// Its password.
    pub password: String,
    /// Its subject.
    pub subject: String,
    /// A string attribute it has (name, value), unique to it in the store.
    pub attribute: (String, String),
}

impl KnownUser {
    /// The user `username` / `password` with `subject` and the unique attribute `name = value`.
    pub fn new(username: &str, password: &str, subject: &str, name: &str, value: &str) -> Self {
        KnownUser {
            username: username.into(),
            password: password.into(),
            subject: subject.into(),
            attribute: (name.into(), value.into()),
        }
    }
}

/// The [`ConnectedUserStore`] checks, on a store holding `user`. A writable store must show a
/// write on the next read; a read-only one answers [`Written::ReadOnly`] and changes nothing.
pub async fn run_connected_user_store(store: &dyn ConnectedUserStore, user: &KnownUser) {
    let attrs = ok(
        store.user_attributes(&user.subject).await,
        "user_attributes",
    )
    .unwrap_or_else(|| panic!("testkit: the known user is found by subject"));
    assert!(
        !attrs.contains_key("sub"),
        "testkit: attributes come without sub"
    );
    assert_eq!(
        attrs
            .get(&user.attribute.0)
            .and_then(serde_json::Value::as_str),
        Some(user.attribute.1.as_str()),
        "testkit: the known attribute is there"
    );
    assert!(
        ok(
            store.user_attributes(&fresh("nobody")).await,
            "user_attributes"
        )
        .is_none(),
        "testkit: an unknown subject is None"
    );
    assert_eq!(
        ok(
            store.verify_password(&user.username, &user.password).await,
            "verify_password"
        ),
        Some(user.subject.clone()),
        "testkit: the right password gives the subject"
    );
    assert_eq!(
        ok(
            store
                .verify_password(&user.username, "wrong password")
                .await,
            "verify_password"
        ),
        None,
        "testkit: a wrong password gives nothing"
    );
    assert_eq!(
        ok(
            store
                .verify_password(&fresh("nobody"), &user.password)
                .await,
            "verify_password"
        ),
        None,
        "testkit: an unknown user gives nothing"
    );
    let (name, value) = (&user.attribute.0, &user.attribute.1);
    assert_eq!(
        ok(store.find_subjects(&[(name, value)]).await, "find_subjects"),
        vec![user.subject.clone()],
        "testkit: find_subjects by the known attribute"
    );
    assert_eq!(
        ok(
            store.find_subjects(&[("username", &user.username)]).await,
            "find_subjects"
        ),
        vec![user.subject.clone()],
        "testkit: find_subjects by username"
    );
    let marker = fresh("written");
    let change = object(serde_json::json!({ "testkit_marker": marker }));
    match ok(
        store.write_attributes(&user.subject, &change).await,
        "write_attributes",
    ) {
        Written::Written => {
            let after = ok(
                store.user_attributes(&user.subject).await,
                "user_attributes",
            )
            .unwrap_or_default();
            assert_eq!(
                after.get("testkit_marker"),
                Some(&serde_json::json!(marker)),
                "testkit: a written attribute reads back"
            );
            let remove = object(serde_json::json!({ "testkit_marker": null }));
            ok(
                store.write_attributes(&user.subject, &remove).await,
                "write_attributes",
            );
            let after = ok(
                store.user_attributes(&user.subject).await,
                "user_attributes",
            )
            .unwrap_or_default();
            assert!(
                !after.contains_key("testkit_marker"),
                "testkit: null removes"
            );
            assert_eq!(
                ok(
                    store.write_attributes(&fresh("nobody"), &change).await,
                    "write_attributes"
                ),
                Written::UnknownUser,
                "testkit: writing an unknown user"
            );
        }
        Written::ReadOnly => {
            let after = ok(
                store.user_attributes(&user.subject).await,
                "user_attributes",
            )
            .unwrap_or_default();
            assert!(
                !after.contains_key("testkit_marker"),
                "testkit: a read-only store changes nothing"
            );
        }
        Written::UnknownUser => panic!("testkit: the known user is unknown to write_attributes"),
    }
}

/// [`FederatedUsers`] over `local` (the store under test) and two in-memory connected stores:
/// merged reads, writes going where each attribute lives, passwords, lookups on both sides,
/// per-store placement, and a subject of the second store shadowed by the first.
pub async fn run_federated(local: std::sync::Arc<dyn LocalAttributeStore>) {
    use std::sync::Arc;
    let (alice, bob, carol) = (fresh("alice"), fresh("bob"), fresh("carol"));
    let ldap = Arc::new(Directory::default());
    ldap.add(
        &alice,
        &alice,
        "alice-pw",
        serde_json::json!({"email": format!("{alice}@example.com"), "nickname": "stale"}),
    );
    let scim = Arc::new(Directory::default());
    scim.add(&bob, &bob, "bob-pw", serde_json::json!({"locale": "en"}));
    // A second `alice` subject in the later store: shadowed by the first.
    scim.add(&carol, &alice, "carol-pw", serde_json::json!({}));
    let global = ok(AttributePlacement::with_local(["nickname"]), "placement");
    let scim_placement = ok(AttributePlacement::with_local(["locale"]), "placement");
    let policy = ok(
        PlacementPolicy::global(global).with_store("scim", scim_placement),
        "policy",
    );
    let users = ok(
        FederatedUsers::builder(local.clone())
            .connect("ldap", ldap.clone())
            .connect("scim", scim.clone())
            .policy(policy)
            .build(),
        "build",
    );
    // A write splits by placement.
    let change =
        object(serde_json::json!({"nickname": "Al", "email": format!("new-{alice}@example.com")}));
    assert_eq!(
        ok(
            users.write_attributes(&alice, &change).await,
            "write_attributes"
        ),
        Written::Written
    );
    assert_eq!(
        ok(
            local.local_attributes("ldap", &alice).await,
            "local_attributes"
        ),
        object(serde_json::json!({"nickname": "Al"})),
        "testkit: the locally placed attribute went to the local store"
    );
    let in_ldap = ok(ldap.user_attributes(&alice).await, "user_attributes").unwrap_or_default();
    assert_eq!(
        in_ldap.get("email"),
        Some(&serde_json::json!(format!("new-{alice}@example.com"))),
        "testkit: the connected attribute went to the connected store"
    );
    assert_eq!(in_ldap.get("nickname"), Some(&serde_json::json!("stale")));
    // A read merges.
    let claims = ok(users.claims(&alice).await, "claims").unwrap_or_default();
    assert_eq!(claims.get("nickname"), Some(&serde_json::json!("Al")));
    assert_eq!(
        claims.get("email"),
        Some(&serde_json::json!(format!("new-{alice}@example.com")))
    );
    // Per-store placement: scim keeps `locale` locally, not `nickname`.
    ok(
        users
            .write_attributes(
                &bob,
                &object(serde_json::json!({"locale": "fr", "nickname": "B"})),
            )
            .await,
        "write_attributes",
    );
    assert_eq!(
        ok(
            local.local_attributes("scim", &bob).await,
            "local_attributes"
        ),
        object(serde_json::json!({"locale": "fr"}))
    );
    let bob_claims = ok(users.claims(&bob).await, "claims").unwrap_or_default();
    assert_eq!(bob_claims.get("locale"), Some(&serde_json::json!("fr")));
    assert_eq!(bob_claims.get("nickname"), Some(&serde_json::json!("B")));
    // Passwords stay in the connected store; the shadowed subject cannot log in.
    assert_eq!(
        ok(users.verify(&alice, "alice-pw").await, "verify"),
        Some(alice.clone())
    );
    assert_eq!(
        ok(users.verify(&bob, "bob-pw").await, "verify"),
        Some(bob.clone())
    );
    assert_eq!(ok(users.verify(&alice, "bob-pw").await, "verify"), None);
    assert_eq!(
        ok(users.verify(&carol, "carol-pw").await, "verify"),
        None,
        "testkit: a subject shadowed by an earlier store does not log in"
    );
    // Lookups ask each side for its attributes.
    assert_eq!(
        ok(users.find_users(&[("nickname", "Al")]).await, "find_users"),
        vec![alice.clone()]
    );
    assert_eq!(
        ok(
            users
                .find_users(&[("nickname", "Al"), ("username", &alice)])
                .await,
            "find_users"
        ),
        vec![alice.clone()]
    );
    assert!(
        ok(
            users.find_users(&[("nickname", "stale")]).await,
            "find_users"
        )
        .is_empty(),
        "testkit: a connected value of a locally placed attribute is not found"
    );
    assert_eq!(
        ok(users.find_users(&[("locale", "fr")]).await, "find_users"),
        vec![bob.clone()]
    );
    // `sub` is never written, and the import seeds only absent values.
    assert!(users
        .write_attributes(&alice, &object(serde_json::json!({"sub": "x"})))
        .await
        .is_err());
    assert_eq!(
        ok(
            users
                .import(
                    &alice,
                    &object(serde_json::json!({"nickname": "file", "email": "x"}))
                )
                .await,
            "import"
        ),
        0,
        "testkit: an import does not overwrite a local value"
    );
    assert_eq!(
        ok(users.store_of(&bob).await, "store_of"),
        Some("scim"),
        "testkit: store_of"
    );
    assert_eq!(
        ok(
            users.write_attributes(&fresh("nobody"), &change).await,
            "write_attributes"
        ),
        Written::UnknownUser
    );
}

/// (subject, password, attributes) of a [`Directory`] user.
type DirectoryUser = (String, String, serde_json::Map<String, serde_json::Value>);

/// A writable connected store for [`run_federated`] (plain passwords: a fixture, not a store
/// to deploy).
#[derive(Default)]
struct Directory {
    /// username -> (subject, password, attributes)
    users: std::sync::Mutex<std::collections::BTreeMap<String, DirectoryUser>>,
}

impl Directory {
    fn add(&self, username: &str, subject: &str, password: &str, attributes: serde_json::Value) {
        self.users.lock().unwrap_or_else(|e| e.into_inner()).insert(
            username.into(),
            (subject.into(), password.into(), object(attributes)),
        );
    }
}

#[async_trait::async_trait]
impl ConnectedUserStore for Directory {
    async fn user_attributes(
        &self,
        subject: &str,
    ) -> crate::Result<Option<serde_json::Map<String, serde_json::Value>>> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        Ok(users.values().find(|u| u.0 == subject).map(|u| u.2.clone()))
    }
    async fn verify_password(
        &self,
        username: &str,
        password: &str,
    ) -> crate::Result<Option<String>> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        Ok(users.get(username).and_then(|u| {
            idforge_jose::crypto::ct_eq(u.1.as_bytes(), password.as_bytes()).then(|| u.0.clone())
        }))
    }
    async fn find_subjects(&self, attributes: &[(&str, &str)]) -> crate::Result<Vec<String>> {
        let users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        Ok(users
            .iter()
            .filter(|(username, u)| {
                attributes.iter().all(|(n, v)| match *n {
                    "username" => username.as_str() == *v,
                    _ => u.2.get(*n).and_then(serde_json::Value::as_str) == Some(*v),
                })
            })
            .map(|(_, u)| u.0.clone())
            .collect())
    }
    async fn write_attributes(
        &self,
        subject: &str,
        changes: &serde_json::Map<String, serde_json::Value>,
    ) -> crate::Result<Written> {
        let mut users = self.users.lock().unwrap_or_else(|e| e.into_inner());
        let Some(u) = users.values_mut().find(|u| u.0 == subject) else {
            return Ok(Written::UnknownUser);
        };
        for (k, v) in changes {
            if v.is_null() {
                u.2.remove(k);
            } else {
                u.2.insert(k.clone(), v.clone());
            }
        }
        Ok(Written::Written)
    }
}
