//! Storage conformance tests for any [`CibaRequestStore`] (feature `testkit`): lookups by
//! `auth_req_id` and approval handle, client-bound polling with `slow_down`, the state machine
//! applied atomically, single redemption under concurrency, expiry and retention. Hosts call
//! [`run_all`] from a test on their own store:
//!
//! ```
//! # async fn demo() {
//! use idforge_ciba::memory::MemoryCibaRequestStore;
//! idforge_ciba::testkit::run_all(&MemoryCibaRequestStore::new()).await;
//! # }
//! ```
//!
//! Every check panics with a message naming the rule it saw broken; times are explicit.

use idforge_oauth_core::testkit::{join_all, ok};
use std::sync::atomic::{AtomicU64, Ordering};

use idforge_oauth_core::{Scopes, TokenHash};

use crate::model::{
    Approval, CibaRequest, PollCheck, RequestState, StateName, Verdict, RETENTION_SECONDS,
};
use crate::ports::{CibaRequestStore, Polled, Redemption, Transition};

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

/// A pending request of `testkit-client` for `testkit-user`, created at [`T0`], lasting
/// `ttl` seconds, with fresh ids ([`request_with_secrets`] also gives the secrets).
pub fn request(ttl: i64) -> CibaRequest {
    request_with_secrets(ttl).0
}

/// A fresh request and its `auth_req_id` and approval handle.
pub fn request_with_secrets(ttl: i64) -> (CibaRequest, String, String) {
    let id = fresh("auth-req");
    let handle = fresh("approval");
    let mut r = CibaRequest::new(
        TokenHash::of(&id),
        TokenHash::of(&handle),
        "testkit-client",
        "testkit-user",
        Scopes::from_values(["openid", "calendar"]),
        T0,
        ttl,
    );
    r.binding_message = Some("W4SCT".into());
    r.actor = Some("testkit-agent".into());
    (r, id, handle)
}

/// Runs every check.
pub async fn run_all(store: &dyn CibaRequestStore) {
    lookups(store).await;
    polling_is_bound_to_the_client(store).await;
    slow_down(store).await;
    approve_then_redeem_once(store).await;
    denial_is_final(store).await;
    expiry_and_retention(store).await;
    concurrent_redeem(store, 1000).await;
    concurrent_decide(store, 100).await;
}

/// Stored requests are found by `auth_req_id` hash and by approval handle hash, and nothing
/// else finds them.
pub async fn lookups(store: &dyn CibaRequestStore) {
    let (r, _, _) = request_with_secrets(120);
    ok(store.insert(r.clone()).await, "insert");
    let got = ok(store.get(&r.id, T0).await, "get");
    assert_eq!(
        got.as_ref(),
        Some(&r),
        "testkit: get returns the stored request"
    );
    let got = ok(store.by_approval(&r.approval, T0).await, "by_approval");
    assert_eq!(got.as_ref(), Some(&r), "testkit: by_approval finds it");
    // The approval handle is not an auth_req_id and vice versa.
    assert!(
        ok(store.get(&r.approval, T0).await, "get").is_none(),
        "testkit: the approval handle must not work as auth_req_id"
    );
    assert!(
        ok(store.by_approval(&r.id, T0).await, "by_approval").is_none(),
        "testkit: the auth_req_id must not work as approval handle"
    );
    assert!(
        store.insert(r).await.is_err(),
        "testkit: inserting the same ids again must be refused"
    );
}

/// Another client's poll finds nothing and changes nothing (CIBA §11 `invalid_grant`).
pub async fn polling_is_bound_to_the_client(store: &dyn CibaRequestStore) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    assert!(
        ok(store.poll(&r.id, "other-client", T0).await, "poll").is_none(),
        "testkit: another client's poll must find nothing"
    );
    let polled = ok(store.poll(&r.id, "testkit-client", T0 + 1).await, "poll")
        .expect("testkit: the owner's poll finds the request");
    assert_eq!(
        polled.check,
        PollCheck::InTime,
        "testkit: the first poll is in time"
    );
    assert_eq!(polled.state, StateName::Pending);
    let after = ok(store.get(&r.id, T0 + 1).await, "get").expect("testkit: found");
    assert_eq!(
        after.last_poll,
        Some(T0 + 1),
        "testkit: the poll is recorded"
    );
}

/// Polling sooner than the interval is `slow_down` and raises it by 5 s; the check and update
/// are one atomic step.
pub async fn slow_down(store: &dyn CibaRequestStore) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    let poll = |t| store.poll(&r.id, "testkit-client", t);
    assert_eq!(
        ok(poll(T0).await, "poll").map(|p| p.check),
        Some(PollCheck::InTime)
    );
    let p = ok(poll(T0 + 1).await, "poll").expect("testkit: found");
    assert_eq!(
        p.check,
        PollCheck::TooFast,
        "testkit: a fast poll is slow_down"
    );
    assert_eq!(p.interval, 10, "testkit: slow_down adds 5 seconds");
    let p = ok(poll(T0 + 11).await, "poll").expect("testkit: found");
    assert_eq!(
        p.check,
        PollCheck::InTime,
        "testkit: a poll after the new interval"
    );
    // Concurrent polls at the same instant: exactly one is in time.
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    let futures = (0..50)
        .map(|_| {
            Box::pin(async { store.poll(&r.id, "testkit-client", T0).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>
        })
        .collect();
    let results = join_all(futures).await;
    let in_time = results
        .into_iter()
        .filter(|r: &Result<Option<Polled>, _>| {
            matches!(r, Ok(Some(p)) if p.check == PollCheck::InTime)
        })
        .count();
    assert_eq!(
        in_time, 1,
        "testkit: the last-poll check-and-update is atomic"
    );
}

/// Approve, then redeem once; the second redemption is refused.
pub async fn approve_then_redeem_once(store: &dyn CibaRequestStore) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    let approval = Approval::new(T0 + 5, vec!["pwd".into()]);
    match ok(
        store
            .decide(&r.approval, &Verdict::Approve(approval.clone()), T0 + 5)
            .await,
        "decide",
    ) {
        Transition::Applied(rec) => assert_eq!(rec.state, RequestState::Approved(approval.clone())),
        other => panic!("testkit: approving a pending request must apply, got {other:?}"),
    }
    match ok(
        store.decide(&r.approval, &Verdict::Deny, T0 + 6).await,
        "decide",
    ) {
        Transition::Refused(e) => assert_eq!(e.from, StateName::Approved),
        other => panic!("testkit: a decided request cannot be decided again, got {other:?}"),
    }
    match ok(store.redeem(&r.id, T0 + 7).await, "redeem") {
        Redemption::Redeemed(rec, a) => {
            assert_eq!(a, approval, "testkit: redemption returns the approval");
            assert_eq!(rec.state, RequestState::Redeemed);
        }
        other => panic!("testkit: an approved request must redeem, got {other:?}"),
    }
    match ok(store.redeem(&r.id, T0 + 8).await, "redeem") {
        Redemption::Refused(e) => assert_eq!(e.from, StateName::Redeemed),
        other => panic!("testkit: a second redemption must be refused, got {other:?}"),
    }
    assert!(matches!(
        ok(store.redeem(&TokenHash::of("nope"), T0).await, "redeem"),
        Redemption::NotFound
    ));
}

/// A denied request cannot be redeemed nor approved.
pub async fn denial_is_final(store: &dyn CibaRequestStore) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    assert!(matches!(
        ok(
            store.decide(&r.approval, &Verdict::Deny, T0).await,
            "decide"
        ),
        Transition::Applied(_)
    ));
    assert!(matches!(
        ok(store.redeem(&r.id, T0).await, "redeem"),
        Redemption::Refused(_)
    ));
    let approve = Verdict::Approve(Approval::new(T0, vec![]));
    assert!(matches!(
        ok(store.decide(&r.approval, &approve, T0).await, "decide"),
        Transition::Refused(_)
    ));
    assert!(matches!(
        ok(
            store.decide(&TokenHash::of("x"), &approve, T0).await,
            "decide"
        ),
        Transition::NotFound
    ));
}

/// Requests expire at `expires_at`, are reported once by `expire_due`, still answer (for
/// `expired_token`) during the retention, and are gone after it.
pub async fn expiry_and_retention(store: &dyn CibaRequestStore) {
    let r = request(30);
    ok(store.insert(r.clone()).await, "insert");
    let end = T0 + 30;
    let early = ok(store.expire_due(end - 1).await, "expire_due");
    assert!(
        !early.iter().any(|x| x.id == r.id),
        "testkit: nothing expires before expires_at"
    );
    let due = ok(store.expire_due(end).await, "expire_due");
    assert!(
        due.iter()
            .any(|x| x.id == r.id && x.state == RequestState::Expired),
        "testkit: expire_due reports the expired request"
    );
    let again = ok(store.expire_due(end + 1).await, "expire_due");
    assert!(
        !again.iter().any(|x| x.id == r.id),
        "testkit: an expired request is reported once"
    );
    let late = end + RETENTION_SECONDS - 1;
    let p = ok(store.poll(&r.id, "testkit-client", late).await, "poll")
        .expect("testkit: the record lives RETENTION_SECONDS past expiry");
    assert_eq!(p.state, StateName::Expired);
    let approve = Verdict::Approve(Approval::new(late, vec![]));
    assert!(matches!(
        ok(store.decide(&r.approval, &approve, late).await, "decide"),
        Transition::Refused(_)
    ));
    let gone = end + RETENTION_SECONDS;
    ok(store.expire_due(gone).await, "expire_due");
    assert!(
        ok(store.get(&r.id, gone).await, "get").is_none(),
        "testkit: the record is dropped after the retention"
    );
    assert!(ok(store.by_approval(&r.approval, gone).await, "by_approval").is_none());
}

/// `n` concurrent redemptions of one approved request: exactly one wins.
pub async fn concurrent_redeem(store: &dyn CibaRequestStore, n: usize) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    let approve = Verdict::Approve(Approval::new(T0, vec![]));
    ok(store.decide(&r.approval, &approve, T0).await, "decide");
    let futures = (0..n)
        .map(|_| {
            Box::pin(async { store.redeem(&r.id, T0 + 1).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>
        })
        .collect();
    let results = join_all(futures).await;
    let wins = results
        .iter()
        .filter(|r| matches!(r, Ok(Redemption::Redeemed(..))))
        .count();
    assert_eq!(
        wins, 1,
        "testkit: exactly one concurrent redemption must win"
    );
}

/// `n` concurrent verdicts on one pending request: exactly one applies.
pub async fn concurrent_decide(store: &dyn CibaRequestStore, n: usize) {
    let r = request(120);
    ok(store.insert(r.clone()).await, "insert");
    let futures = (0..n)
        .map(|i| {
            let verdict = if i % 2 == 0 {
                Verdict::Deny
            } else {
                Verdict::Approve(Approval::new(T0, vec![]))
            };
            let r = &r;
            Box::pin(async move { store.decide(&r.approval, &verdict, T0).await })
                as std::pin::Pin<Box<dyn std::future::Future<Output = _> + Send>>
        })
        .collect();
    let results = join_all(futures).await;
    let applied = results
        .iter()
        .filter(|r| matches!(r, Ok(Transition::Applied(_))))
        .count();
    assert_eq!(
        applied, 1,
        "testkit: exactly one concurrent verdict must apply"
    );
}
