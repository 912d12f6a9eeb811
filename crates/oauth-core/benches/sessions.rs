//! A session lookup and its idle-expiry check on the memory store (the work every
//! authorization request of a logged-in browser does), beside the raw primitive it wraps: a
//! `HashMap` lookup and clone of the record, interleaved in the same run. Target: ≤ 1 µs per
//! lookup + check.
#![allow(clippy::unwrap_used, missing_docs)]

use std::collections::HashMap;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;

use criterion::{black_box, criterion_group, Criterion};
use idforge_oauth_core::memory::MemorySessionStore;
use idforge_oauth_core::ports::SessionStore;
use idforge_oauth_core::{RememberMe, SessionPolicy, SessionRecord, SessionStatus};

const NOW: i64 = 1_800_000_000;
/// Sessions in the store (a busy provider).
const SESSIONS: usize = 100_000;
/// Lookups per timed batch.
const BATCH: usize = 1000;

fn sessions() -> Vec<SessionRecord> {
    let policy = SessionPolicy::default();
    (0..SESSIONS)
        .map(|i| {
            SessionRecord::new(
                format!("sid-{i:016x}-0123456789"),
                format!("user-{}", i % 5000),
                NOW,
                RememberMe::No,
                &policy,
            )
            .with_amr(vec!["pwd".into()])
        })
        .collect()
}

/// Polls a future once: the memory store never suspends, so its futures are ready at once (no
/// runtime is timed with them).
fn ready<T>(f: impl std::future::Future<Output = T>) -> T {
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(f).poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("the memory store suspended"),
    }
}

fn setup() -> (
    MemorySessionStore,
    HashMap<String, SessionRecord>,
    Vec<String>,
) {
    let store = MemorySessionStore::new();
    let records = sessions();
    let mut raw = HashMap::new();
    for s in &records {
        assert!(ready(store.create(s.clone())).unwrap());
        raw.insert(s.sid.clone(), s.clone());
    }
    // Looked up in a scattered order.
    let sids = (0..BATCH)
        .map(|i| records[(i * 7919) % SESSIONS].sid.clone())
        .collect();
    (store, raw, sids)
}

fn ratios() {
    let (store, raw, sids) = setup();
    let now = NOW + 600;
    let lookup_batch = || {
        for sid in &sids {
            let s = ready(store.get(sid, now)).unwrap().unwrap();
            black_box(s.status(now) == SessionStatus::Active);
        }
    };
    let raw_batch = || {
        for sid in &sids {
            black_box(raw.get(sid).cloned().unwrap());
        }
    };
    let ratio = interleaved(
        "session lookup + idle check (memory store, 100k sessions) / HashMap get + clone",
        400,
        lookup_batch,
        raw_batch,
    );
    // The absolute figure: median of whole batches, per lookup.
    let mut per_op: Vec<f64> = (0..200)
        .map(|_| {
            let start = std::time::Instant::now();
            lookup_batch();
            start.elapsed().as_nanos() as f64 / BATCH as f64
        })
        .collect();
    per_op.sort_by(f64::total_cmp);
    let median = per_op[per_op.len() / 2];
    println!(
        "summary: session lookup + idle-expiry check {median:.0} ns per lookup (target <= 1000 ns), {ratio:.2}x a raw HashMap get + clone"
    );
}

fn benches(c: &mut Criterion) {
    let (store, _, sids) = setup();
    let now = NOW + 600;
    let mut i = 0;
    c.bench_function("session lookup + idle-expiry check (memory store)", |b| {
        b.iter(|| {
            i = (i + 1) % sids.len();
            let s = ready(store.get(&sids[i], now)).unwrap().unwrap();
            black_box(s.status(now))
        })
    });
}

criterion_group!(sessions_bench, benches);

fn main() {
    ratios();
    sessions_bench();
    Criterion::default().configure_from_args().final_summary();
}
