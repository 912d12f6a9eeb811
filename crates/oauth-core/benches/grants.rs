//! The device authorization and token exchange grants, each beside what it is measured
//! against, interleaved in the same run so the printed ratios hold on a busy machine:
//! - a device-code poll while pending (client authentication, atomic poll of the memory store,
//!   the RFC 8628 §3.5 error) vs one `client_credentials` issuance (target ≤ 0.1×);
//! - a token exchange of an ES256 subject token from a trusted issuer (implicit association by
//!   email) into an ES256 JWT access token vs one raw ES256 verification plus one raw ES256
//!   signature (target ≤ 1.3×). The raw verification and signature call OpenSSL directly
//!   (`ECDSA_do_verify` / `ECDSA_do_sign` on prepared keys, `benches/support/raw.rs`).
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;
#[path = "../../../benches/support/raw.rs"]
mod raw;

use criterion::{black_box, criterion_group, Criterion};
use idforge_jose::{
    crypto::EcCurve, sign_jwt, FixedClock, Header, JwkSet, JwsAlgorithm, Key, KeyRing, KeySpec,
    LocalSigner,
};
use idforge_oauth_core::device::{DeviceSettings, DEVICE_CODE_GRANT_TYPE};
use idforge_oauth_core::memory::{
    MemoryAttemptLimiter, MemoryClientStore, MemoryDeviceCodeStore, MemoryGrantStore,
    MemoryUserStore,
};
use idforge_oauth_core::token_exchange::{TrustedIssuer, TOKEN_EXCHANGE_GRANT_TYPE};
use idforge_oauth_core::{
    Client, Config, DeviceAuthorizationEndpoint, DeviceFlow, OsRng, Provider, TokenExchangeGrant,
};
use serde_json::json;

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://op.example";
const IDP: &str = "https://idp.example";

struct Env {
    provider: Provider,
    device: DeviceAuthorizationEndpoint,
    /// The provider's signing key, for the raw signature.
    raw_signer: raw::RawEs256,
    idp: LocalSigner,
    /// The trusted issuer's public key, for the raw verification.
    raw_idp: raw::RawEs256,
}

fn env() -> Env {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let raw_signer = raw::RawEs256::from_key(&key);
    let signer = LocalSigner::new(key, JwsAlgorithm::ES256).unwrap();
    let idp_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let idp_key = Key::from_jwk(idp_key.jwk().clone().with_kid("idp-1")).unwrap();
    let idp_jwks = JwkSet {
        keys: vec![idp_key.public_jwk().unwrap()],
    };
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user(
            "alice",
            "pw",
            serde_json::from_value(json!({"email": "alice@example.com"})).unwrap(),
            &OsRng::new(),
        )
        .unwrap();
    let clients = MemoryClientStore::with_clients([
        Client::confidential("tv", "tv-secret").with_grant_types([DEVICE_CODE_GRANT_TYPE]),
        Client::confidential("rs", "rs-secret").with_grant_types(["client_credentials"]),
        Client::confidential("rp", "rp-secret")
            .with_grant_types([TOKEN_EXCHANGE_GRANT_TYPE])
            .with_metadata("allow_impersonation", json!(true)),
    ]);
    let flow = DeviceFlow::new(
        DeviceSettings::new(),
        Arc::new(MemoryDeviceCodeStore::new()),
        Arc::new(MemoryAttemptLimiter::new()),
    )
    .unwrap();
    let exchange = TokenExchangeGrant::new()
        .with_trusted_issuer(
            TrustedIssuer::with_jwks(IDP, &idp_jwks)
                .unwrap()
                .with_algorithms([JwsAlgorithm::ES256])
                .unwrap()
                .with_lookup_attributes(["email"])
                .unwrap(),
        )
        .with_user_lookup(users.clone());
    let provider = Provider::builder(Config::new(ISSUER))
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users)
        .keys(Arc::new(KeyRing::new(signer)))
        .clock(Arc::new(FixedClock::new(NOW)))
        .grant_handler(flow.grant())
        .grant_handler(Arc::new(exchange))
        .build()
        .unwrap();
    Env {
        device: DeviceAuthorizationEndpoint::new(provider.ctx.clone(), flow),
        provider,
        raw_signer,
        raw_idp: raw::RawEs256::from_key(&idp_key.to_public().unwrap()),
        idp: LocalSigner::new(idp_key, JwsAlgorithm::ES256).unwrap(),
    }
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

fn subject_token(env: &Env) -> String {
    let claims = json!({
        "iss": IDP, "sub": "ext-alice", "aud": ISSUER, "exp": NOW + 3600, "iat": NOW,
        "email": "alice@example.com", "scope": "openid profile"
    });
    sign_jwt(
        Header::new().with_kid("idp-1"),
        claims.as_object().unwrap(),
        &env.idp,
    )
    .unwrap()
}

fn benches(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let env = env();
    let tv = basic("tv", "tv-secret");
    let dc = rt
        .block_on(env.device.handle_form(b"", Some(&tv)))
        .unwrap()
        .device_code;
    let poll = format!(
        "grant_type={}&device_code={dc}",
        urlencode(DEVICE_CODE_GRANT_TYPE)
    );
    let mut g = c.benchmark_group("grants");
    g.bench_function("device_poll_pending", |b| {
        b.iter(|| {
            let e = rt.block_on(env.provider.token.handle_form(poll.as_bytes(), Some(&tv)));
            black_box(e.unwrap_err())
        })
    });
    let rp = basic("rp", "rp-secret");
    let body = format!(
        "grant_type={}&subject_token={}&subject_token_type={}",
        urlencode(TOKEN_EXCHANGE_GRANT_TYPE),
        subject_token(&env),
        urlencode("urn:ietf:params:oauth:token-type:jwt")
    );
    g.bench_function("token_exchange_es256", |b| {
        b.iter(|| {
            let r = rt.block_on(env.provider.token.handle_form(body.as_bytes(), Some(&rp)));
            black_box(r.unwrap())
        })
    });
    g.finish();
}

fn ratios() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let env = env();
    let tv = basic("tv", "tv-secret");
    let rs = basic("rs", "rs-secret");
    let dc = rt
        .block_on(env.device.handle_form(b"", Some(&tv)))
        .unwrap()
        .device_code;
    let poll = format!(
        "grant_type={}&device_code={dc}",
        urlencode(DEVICE_CODE_GRANT_TYPE)
    );
    let r1 = interleaved(
        "device-code poll while pending / one client_credentials issuance (memory store)",
        2000,
        || {
            let e = rt.block_on(env.provider.token.handle_form(poll.as_bytes(), Some(&tv)));
            black_box(e.unwrap_err());
        },
        || {
            let r = rt.block_on(
                env.provider
                    .token
                    .handle_form(b"grant_type=client_credentials", Some(&rs)),
            );
            black_box(r.unwrap());
        },
    );
    let st = subject_token(&env);
    let rp = basic("rp", "rp-secret");
    let body = format!(
        "grant_type={}&subject_token={st}&subject_token_type={}",
        urlencode(TOKEN_EXCHANGE_GRANT_TYPE),
        urlencode("urn:ietf:params:oauth:token-type:jwt")
    );
    let at_input = br#"eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCJ9.eyJpc3MiOiJodHRwczovL29wLmV4YW1wbGUiLCJzdWIiOiJhbGljZSIsImF1ZCI6Imh0dHBzOi8vb3AuZXhhbXBsZSIsImNsaWVudF9pZCI6InJwIiwiZXhwIjoxODAwMDAzNjAwLCJpYXQiOjE4MDAwMDAwMDAsImp0aSI6IjEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIiLCJzY29wZSI6Im9wZW5pZCBwcm9maWxlIn0"#;
    let (st_input, st_sig) = raw::split_es256_jws(&st);
    let r2 = interleaved(
        "token exchange (ES256 subject token -> ES256 JWT AT) / one ES256 verify + one ES256 sign",
        1000,
        || {
            let r = rt.block_on(env.provider.token.handle_form(body.as_bytes(), Some(&rp)));
            black_box(r.unwrap());
        },
        || {
            assert!(env.raw_idp.verify(black_box(&st_input), &st_sig));
            black_box(env.raw_signer.sign(black_box(at_input)));
        },
    );
    println!(
        "summary: device poll while pending {r1:.3}x one client_credentials issuance (target <= 0.1x); token exchange {r2:.2}x one verify + one sign (target <= 1.3x)"
    );
}

criterion_group!(grants, benches);

fn main() {
    ratios();
    grants();
    Criterion::default().configure_from_args().final_summary();
}
