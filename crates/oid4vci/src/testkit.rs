//! Conformance suite for [`IssuanceStore`] and [`TemplateStore`] implementations (memory,
//! SQL, your own). Run it from a test: `idforge_oid4vci::testkit::run_all(&store, &templates).await`.
#![allow(clippy::unwrap_used, clippy::panic)]

use idforge_oauth_core::testkit::{join_all, BoxFuture};
use std::sync::Arc;

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
