//! Memory per live access token (issue 19 §4): issues 100 000 `client_credentials` JWT access
//! tokens through the provider on the memory grant store and prints the RSS growth per token,
//! for stored tokens (grant + token record) and for self-contained tokens (nothing stored).
//! Linux only (reads `/proc/self/statm`); prints why it skipped elsewhere.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

use base64::Engine;
use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, Provider, TokenPersistence};

const NOW: i64 = 1_800_000_000;
const N: usize = 100_000;

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

fn provider(persistence: TokenPersistence, store: Arc<MemoryGrantStore>) -> Provider {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let signer = LocalSigner::new(key, JwsAlgorithm::ES256).unwrap();
    let clients = MemoryClientStore::with_clients([Client::confidential("rs", "rs-secret")
        .with_grant_types(["client_credentials"])
        .with_scopes(["email", "profile"])]);
    Provider::builder(Config::new("https://op.example").with_token_persistence(persistence))
        .clients(Arc::new(clients))
        .grants(store)
        .claims(Arc::new(MemoryUserStore::new()))
        .keys(Arc::new(KeyRing::new(signer)))
        .clock(Arc::new(FixedClock::new(NOW)))
        .build()
        .unwrap()
}

fn main() {
    if rss_bytes().is_none() {
        println!("memory per access token skipped: /proc/self/statm is not readable here");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let auth = format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("rs:rs-secret")
    );
    for (name, persistence) in [
        (
            "self-contained (nothing stored)",
            TokenPersistence::SelfContained,
        ),
        ("stored (grant + token record)", TokenPersistence::Stored),
    ] {
        let store = Arc::new(MemoryGrantStore::new());
        let p = provider(persistence, store.clone());
        let issue = |n: usize| {
            rt.block_on(async {
                for _ in 0..n {
                    let r = p
                        .token
                        .handle_form(b"grant_type=client_credentials", Some(&auth))
                        .await
                        .unwrap();
                    std::hint::black_box(r);
                }
            })
        };
        // Warm the allocator and the runtime so their one-time growth is not counted.
        issue(1_000);
        let before = rss_bytes().unwrap_or(0);
        issue(N);
        let after = rss_bytes().unwrap_or(0);
        let (grants, tokens, _) = store.len();
        println!(
            "memory per live access token, {name}: {} bytes ({N} tokens; store holds {grants} grants, {tokens} tokens)",
            after.saturating_sub(before) / N as u64
        );
        drop(p);
        drop(store);
    }
}
