//! Criterion benches, each beside the raw primitive it wraps so the report reads as a ratio:
//! - authorization-code exchange issuing a JWT access token and an ID token (ES256) on the
//!   memory stores vs two raw ES256 signatures (target ≤ 1.5×);
//! - client credentials with a JWT access token vs one ES256 signature (target ≤ 1.3×);
//! - opaque token introspection, client authentication included (target ≤ 5 µs);
//! - and, printed before the benches, the memory per stored grant (RSS delta / grants).
//!
//! The raw signatures call OpenSSL directly (`ECDSA_do_sign` on a prepared key, see
//! `benches/support/raw.rs`), never idforge's own signer, so no shared cost hides in a ratio.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::{Duration, Instant};

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;
#[path = "../../../benches/support/raw.rs"]
mod raw;

use criterion::{black_box, criterion_group, Criterion};
use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{
    AccessTokenFormat, Client, Config, GrantStore, Interaction, OsRng, Provider, Session,
    TokenPersistence, TokenRequest,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

struct Env {
    provider: Provider,
    /// The provider's signing key, loaded into OpenSSL directly for the raw baseline.
    raw: raw::RawEs256,
}

fn env(format: AccessTokenFormat) -> Env {
    env_mode(format, TokenPersistence::Stored)
}

fn env_mode(format: AccessTokenFormat, persistence: TokenPersistence) -> Env {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let raw = raw::RawEs256::from_key(&key);
    let signer = LocalSigner::new(key, JwsAlgorithm::ES256).unwrap();
    let clients = MemoryClientStore::with_clients([
        Client::confidential("web", "web-secret")
            .with_redirect_uri("https://rp.example/cb")
            .with_grant_types(["authorization_code", "client_credentials"])
            .with_consent_implied(),
        Client::confidential("rs", "rs-secret").with_grant_types(["client_credentials"]),
    ]);
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user(
            "alice",
            "pw",
            serde_json::from_value(json!({"name": "Alice", "email": "alice@example.com"})).unwrap(),
            &OsRng::new(),
        )
        .unwrap();
    let provider = Provider::builder(
        Config::new("https://op.example")
            .with_access_token_format(format)
            .with_token_persistence(persistence),
    )
    .clients(Arc::new(clients))
    .grants(Arc::new(MemoryGrantStore::new()))
    .claims(users)
    .keys(Arc::new(KeyRing::new(signer)))
    .clock(Arc::new(FixedClock::new(NOW)))
    .build()
    .unwrap();
    Env { provider, raw }
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

async fn code(env: &Env) -> String {
    let q = format!(
        "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Frp.example%2Fcb&scope=openid%20profile%20email&nonce=n&code_challenge={CHALLENGE}&code_challenge_method=S256"
    );
    match env
        .provider
        .authorization
        .start(q.as_bytes(), Some(&Session::new("alice", NOW)))
        .await
    {
        Interaction::Redirect(r) => r.param("code").unwrap().to_owned(),
        other => panic!("{other:?}"),
    }
}

/// Typical signing inputs: an access token and an ID token of this provider's size.
fn raw_inputs() -> (Vec<u8>, Vec<u8>) {
    let h = idforge_jose::b64::encode(br#"{"alg":"ES256","typ":"at+jwt"}"#);
    let at = format!("{h}.{}", idforge_jose::b64::encode(json!({"iss":"https://op.example","exp":NOW+3600,"aud":"https://op.example","sub":"alice","client_id":"web","iat":NOW,"jti":"0123456789abcdef0123456789","scope":"openid profile email","auth_time":NOW}).to_string()));
    let it = format!("{h}.{}", idforge_jose::b64::encode(json!({"name":"Alice","email":"alice@example.com","iss":"https://op.example","sub":"alice","aud":"web","exp":NOW+3600,"iat":NOW,"auth_time":NOW,"nonce":"n","azp":"web","at_hash":"0123456789abcdef0123","c_hash":"0123456789abcdef0123"}).to_string()));
    (at.into_bytes(), it.into_bytes())
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let jwt = env(AccessTokenFormat::Jwt);
    let (at_input, id_input) = raw_inputs();
    let mut g = c.benchmark_group("oauth");
    g.measurement_time(Duration::from_secs(4));

    g.bench_function("raw_two_es256_signatures", |b| {
        b.iter(|| {
            black_box(jwt.raw.sign(&at_input));
            black_box(jwt.raw.sign(&id_input));
        })
    });
    g.bench_function("authorization_code_exchange_jwt_at_and_id_token", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let code = rt.block_on(code(&jwt));
                let body = format!(
                    "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier={VERIFIER}"
                );
                let auth = basic("web", "web-secret");
                let start = Instant::now();
                let r = rt.block_on(jwt.provider.token.handle_form(body.as_bytes(), Some(&auth)));
                total += start.elapsed();
                assert!(r.unwrap().id_token.is_some());
            }
            total
        })
    });
    g.bench_function("raw_one_es256_signature", |b| {
        b.iter(|| black_box(jwt.raw.sign(&at_input)))
    });
    let cc_auth = basic("rs", "rs-secret");
    g.bench_function("client_credentials_jwt", |b| {
        b.iter(|| {
            let r = rt.block_on(
                jwt.provider
                    .token
                    .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
            );
            black_box(r.unwrap())
        })
    });
    let opaque = env(AccessTokenFormat::Opaque);
    let token = rt
        .block_on(
            opaque
                .provider
                .token
                .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
        )
        .unwrap()
        .access_token;
    let req = TokenRequest::from_form(
        format!("token={token}&token_type_hint=access_token").as_bytes(),
        Some(cc_auth.clone()),
        &Default::default(),
    )
    .unwrap();
    g.bench_function("opaque_introspection", |b| {
        b.iter(|| {
            let v = rt
                .block_on(opaque.provider.introspection.handle(&req))
                .unwrap();
            black_box(v)
        })
    });
    g.finish();
}

fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * 4096)
}

/// Stores N grants as the authorization endpoint does (grant + authorization code record) and
/// reports the RSS growth per grant.
fn memory_per_grant() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let store = MemoryGrantStore::new();
    const N: usize = 100_000;
    let mut records = Vec::with_capacity(N);
    for _ in 0..N {
        let g = idforge_oauth_core::testkit::grant(3600);
        let (_, code) = idforge_oauth_core::testkit::token(
            &g,
            idforge_oauth_core::TokenKind::AuthorizationCode,
            idforge_oauth_core::testkit::T0,
            60,
        );
        records.push((g, code));
    }
    let before = rss_bytes();
    rt.block_on(async {
        for (g, code) in records {
            store.create_grant(g).await.unwrap();
            store.insert_token(code).await.unwrap();
        }
    });
    if let (Some(b), Some(a)) = (before, rss_bytes()) {
        println!(
            "memory per stored grant (grant + authorization code, {N} grants): {} bytes",
            a.saturating_sub(b) / N as u64
        );
    }
    black_box(&store);
}

/// Load-independent ratios: each operation interleaved round by round with the raw
/// signatures it wraps (see benches/support/ratio.rs).
fn ratios() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let jwt = env(AccessTokenFormat::Jwt);
    let (at_input, id_input) = raw_inputs();
    let auth = basic("web", "web-secret");
    const ROUNDS: usize = 600;
    let bodies: Vec<String> = (0..ROUNDS)
        .map(|_| {
            let code = rt.block_on(code(&jwt));
            format!(
                "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb&code_verifier={VERIFIER}"
            )
        })
        .collect();
    let mut next = bodies.iter();
    let r1 = interleaved(
        "authorization_code exchange (JWT AT + ID token, ES256) / two ES256 signatures",
        ROUNDS,
        || {
            let body = next.next().unwrap();
            let r = rt.block_on(jwt.provider.token.handle_form(body.as_bytes(), Some(&auth)));
            black_box(r.unwrap());
        },
        || {
            black_box(jwt.raw.sign(&at_input));
            black_box(jwt.raw.sign(&id_input));
        },
    );
    let cc_auth = basic("rs", "rs-secret");
    let r2 = interleaved(
        "client_credentials (JWT AT, ES256) / one ES256 signature",
        1000,
        || {
            let r = rt.block_on(
                jwt.provider
                    .token
                    .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
            );
            black_box(r.unwrap());
        },
        || {
            black_box(jwt.raw.sign(&at_input));
        },
    );
    let np = env_mode(AccessTokenFormat::Jwt, TokenPersistence::SelfContained);
    let r3 = interleaved(
        "client_credentials, non-persistent (JWT AT, ES256, nothing stored) / one ES256 signature",
        1000,
        || {
            let r = rt.block_on(
                np.provider
                    .token
                    .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
            );
            black_box(r.unwrap());
        },
        || {
            black_box(np.raw.sign(&at_input));
        },
    );
    let opaque = env(AccessTokenFormat::Opaque);
    let token = rt
        .block_on(
            opaque
                .provider
                .token
                .handle_form(b"grant_type=client_credentials", Some(&cc_auth)),
        )
        .unwrap()
        .access_token;
    let req = TokenRequest::from_form(
        format!("token={token}").as_bytes(),
        Some(cc_auth.clone()),
        &Default::default(),
    )
    .unwrap();
    let mut samples: Vec<Duration> = (0..20_000)
        .map(|_| {
            let start = Instant::now();
            black_box(
                rt.block_on(opaque.provider.introspection.handle(&req))
                    .unwrap(),
            );
            start.elapsed()
        })
        .collect();
    samples.sort_unstable();
    println!(
        "summary: code exchange {r1:.2}x two signatures (target <= 1.5x); client credentials {r2:.2}x one signature (target <= 1.3x; non-persistent {r3:.2}x); opaque introspection median {:?} (target <= 5us)",
        samples[samples.len() / 2]
    );
}

criterion_group!(oauth, benches);

fn main() {
    memory_per_grant();
    ratios();
    oauth();
    Criterion::default().configure_from_args().final_summary();
}
