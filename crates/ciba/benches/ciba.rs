//! Criterion benches of CIBA, each beside the operation it is compared with, on the memory
//! stores in the same run:
//! - a backchannel authentication request (client secret, `login_hint`) vs one
//!   `client_credentials` issuance of an ES256 JWT access token (target ≤ 0.5×: it signs
//!   nothing);
//! - a poll while pending (`authorization_pending`) vs the same issuance (target ≤ 0.1×);
//! - and, printed first, the memory per pending request (target ≤ 1 KiB).
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;

use criterion::{black_box, criterion_group, Criterion};
use idforge_ciba::memory::{MemoryCibaRequestStore, MemoryUserResolver, RecordingNotifier};
use idforge_ciba::{Ciba, CibaClient, CibaConfig, CibaRequestStore, GRANT_TYPE};
use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, OsRng, Provider, TokenRequest};
use serde_json::Map;

const NOW: i64 = 1_800_000_000;
const BC_BODY: &[u8] = b"scope=openid&login_hint=alice&binding_message=W4SCT";

struct Env {
    provider: Provider,
    ciba: Ciba,
}

fn env() -> Env {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let signer = LocalSigner::new(key, JwsAlgorithm::ES256).unwrap();
    let clients = MemoryClientStore::with_clients([
        CibaClient::default()
            .apply(Client::confidential("agent", "agent-secret").with_grant_types([GRANT_TYPE])),
        Client::confidential("rs", "rs-secret").with_grant_types(["client_credentials"]),
    ]);
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user("alice", "pw", Map::new(), &OsRng::new())
        .unwrap();
    let resolver = Arc::new(MemoryUserResolver::new());
    resolver.add_login_hint("alice", "alice");
    let mut cfg = CibaConfig::new("https://op.example");
    cfg.max_expiry = 1_000_000;
    cfg.default_expiry = 1_000_000;
    let ciba = Ciba::builder(cfg)
        .store(Arc::new(MemoryCibaRequestStore::with_capacity(10_000_000)))
        .users(resolver)
        .notifier(Arc::new(RecordingNotifier::new()))
        .build()
        .unwrap();
    let builder = Provider::builder(
        Config::new("https://op.example")
            .with_grant_type(GRANT_TYPE)
            .with_grant_type("client_credentials"),
    )
    .clients(Arc::new(clients))
    .grants(Arc::new(MemoryGrantStore::new()))
    .claims(users)
    .keys(Arc::new(KeyRing::new(signer)))
    .clock(Arc::new(FixedClock::new(NOW)));
    let provider = ciba.register(builder).build().unwrap();
    Env { provider, ciba }
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn bc_request() -> TokenRequest {
    TokenRequest::from_form(
        BC_BODY,
        Some(basic("agent", "agent-secret")),
        &Default::default(),
    )
    .unwrap()
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Stores N pending requests as the backchannel endpoint does and reports the bytes per
/// request: the RSS growth and the store's own estimate.
fn memory_per_pending_request() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryCibaRequestStore::with_capacity(1_000_000);
    const N: usize = 100_000;
    let records: Vec<_> = (0..N)
        .map(|_| idforge_ciba::testkit::request(120))
        .collect();
    let before = rss_bytes();
    rt.block_on(async {
        for r in records {
            store.insert(r).await.unwrap();
        }
    });
    if let (Some(b), Some(a)) = (before, rss_bytes()) {
        println!(
            "memory per pending request ({N} requests): RSS {} bytes, estimate {} bytes (target <= 1024)",
            a.saturating_sub(b) / N as u64,
            store.approximate_bytes() / N
        );
    }
    black_box(&store);
}

/// Load-independent ratios (benches/support/ratio.rs).
fn ratios() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let e = env();
    let cc_auth = basic("rs", "rs-secret");
    let issue = || {
        let r = rt.block_on(
            e.provider
                .token
                .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
        );
        black_box(r.unwrap());
    };
    const ROUNDS: usize = 2000;
    let req = bc_request();
    let r1 = interleaved(
        "backchannel request (client secret, login_hint) / client_credentials ES256 JWT",
        ROUNDS,
        || {
            let r = rt.block_on(e.ciba.backchannel(&e.provider.ctx, &req));
            black_box(r.unwrap());
        },
        issue,
    );
    // The poll bodies arrive formed, as from the network: one pending request each.
    let bodies: Vec<String> = (0..ROUNDS)
        .map(|_| {
            let id = rt
                .block_on(e.ciba.backchannel(&e.provider.ctx, &req))
                .unwrap()
                .auth_req_id;
            format!("grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={id}")
        })
        .collect();
    let poll_auth = basic("agent", "agent-secret");
    let mut next = bodies.iter();
    let r2 = interleaved(
        "poll while pending / client_credentials ES256 JWT",
        ROUNDS,
        || {
            let body = next.next().unwrap();
            let r = rt.block_on(
                e.provider
                    .token
                    .handle_form(body.as_bytes(), Some(&poll_auth)),
            );
            assert_eq!(r.unwrap_err().code(), "authorization_pending");
        },
        issue,
    );
    println!("targets: backchannel <= 0.5x ({r1:.3}x), poll while pending <= 0.1x ({r2:.3}x)");
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let e = env();
    let mut g = c.benchmark_group("ciba");
    g.measurement_time(Duration::from_secs(3));
    let cc_auth = basic("rs", "rs-secret");
    g.bench_function("client_credentials_jwt", |b| {
        b.iter(|| {
            let r = rt.block_on(
                e.provider
                    .token
                    .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
            );
            black_box(r.unwrap())
        })
    });
    let req = bc_request();
    g.bench_function("backchannel_request", |b| {
        b.iter(|| {
            black_box(
                rt.block_on(e.ciba.backchannel(&e.provider.ctx, &req))
                    .unwrap(),
            )
        })
    });
    let id = rt
        .block_on(e.ciba.backchannel(&e.provider.ctx, &req))
        .unwrap()
        .auth_req_id;
    let body = format!("grant_type=urn%3Aopenid%3Aparams%3Agrant-type%3Aciba&auth_req_id={id}");
    let poll_auth = basic("agent", "agent-secret");
    g.bench_function("poll_while_pending", |b| {
        b.iter(|| {
            let r = rt.block_on(
                e.provider
                    .token
                    .handle_form(body.as_bytes(), Some(&poll_auth)),
            );
            black_box(r.unwrap_err())
        })
    });
    g.finish();
}

criterion_group!(group, benches);

fn main() {
    memory_per_pending_request();
    ratios();
    group();
    Criterion::default().configure_from_args().final_summary();
}
