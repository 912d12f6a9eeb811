//! Criterion bench beside the raw primitives it wraps, printed as a ratio: the credential
//! endpoint issuing one `dc+sd-jwt` with 10 selectively disclosable claims for an opaque access
//! token (token resolution, request parsing, one ES256 proof verification, nonce consumption,
//! claims mapping, 10 Disclosures, status entry, one ES256 signature, notification id) vs one
//! raw ES256 verification + one raw ES256 signature (target <= 1.5x). The raw baseline calls
//! OpenSSL directly (`ECDSA_do_verify` with a prepared key, `ECDSA_do_sign`; see
//! `benches/support/raw.rs`), not idforge's JWS layer.
#![allow(clippy::unwrap_used, missing_docs)]

use std::sync::Arc;
use std::time::Duration;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;
#[path = "../../../benches/support/raw.rs"]
mod raw;

use criterion::{black_box, criterion_group, Criterion};
use idforge_jose::{
    crypto::EcCurve, jws, FixedClock, Header, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{AccessTokenFormat, Client, Config, OsRng, Provider};
use idforge_oid4vci::memory::{MemoryIssuanceStore, MemoryTemplateStore};
use idforge_oid4vci::{
    ClaimTemplate, CredentialFormat, CredentialIssuer, CredentialTemplate, IssuerCore,
    IssuerSettings, OfferGrant, OfferRequest, PreAuthorizedCodeGrant, PRE_AUTHORIZED_CODE_GRANT,
};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;
const ISSUER: &str = "https://issuer.example";
const CLAIMS: [&str; 10] = [
    "given_name",
    "family_name",
    "birthdate",
    "nationality",
    "email",
    "phone_number",
    "street_address",
    "locality",
    "postal_code",
    "country",
];

struct Env {
    rt: tokio::runtime::Runtime,
    issuer: CredentialIssuer,
    key: Key,
    bearer: String,
}

fn env() -> Env {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
    let mut template = CredentialTemplate::new(
        "pid",
        CredentialFormat::SdJwtVc {
            vct: "urn:eudi:pid:1".into(),
        },
    )
    .with_selectively_disclosable(CLAIMS);
    let mut user = Map::new();
    for c in CLAIMS {
        template = template.with_claim(ClaimTemplate::new([c]));
        user.insert(c.into(), json!(format!("value of {c}")));
    }
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users.add_user("alice", "pw", user, &OsRng::new()).unwrap();
    let core = IssuerCore::new(
        IssuerSettings::default().with_anonymous_access("anon"),
        Arc::new(MemoryTemplateStore::with_templates([template]).unwrap()),
        Arc::new(MemoryIssuanceStore::new()),
    )
    .unwrap();
    let provider =
        Provider::builder(Config::new(ISSUER).with_access_token_format(AccessTokenFormat::Opaque))
            .clients(Arc::new(MemoryClientStore::with_clients([Client::public(
                "anon",
            )
            .with_grant_types([PRE_AUTHORIZED_CODE_GRANT])])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(Arc::new(KeyRing::new(signer)))
            .clock(Arc::new(FixedClock::new(NOW)))
            .grant_handler(Arc::new(PreAuthorizedCodeGrant::new(core.clone())))
            .build()
            .unwrap();
    let issuer = CredentialIssuer::new(provider.ctx.clone(), core);
    let offer = rt
        .block_on(issuer.create_offer(&OfferRequest::new(
            "alice",
            ["pid"],
            OfferGrant::PreAuthorized {
                tx_code_length: None,
            },
        )))
        .unwrap();
    let code = offer
        .offer
        .grants
        .pre_authorized_code
        .unwrap()
        .pre_authorized_code;
    let body = format!(
        "grant_type={}&pre-authorized_code={code}",
        form_urlencoded::byte_serialize(PRE_AUTHORIZED_CODE_GRANT.as_bytes()).collect::<String>()
    );
    let token = rt
        .block_on(provider.token.handle_form(body.as_bytes(), None))
        .unwrap()
        .access_token;
    assert!(!token.contains('.'), "opaque access token");
    Env {
        rt,
        issuer,
        key,
        bearer: format!("Bearer {token}"),
    }
}

/// `n` credential request bodies, each with a fresh nonce and its own holder key.
fn bodies(env: &Env, n: usize) -> Vec<Vec<u8>> {
    (0..n)
        .map(|_| {
            let nonce = env.rt.block_on(env.issuer.nonce()).unwrap()["c_nonce"]
                .as_str()
                .unwrap()
                .to_owned();
            let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
            let proof = jws::sign_compact(
                Header::new()
                    .with_typ("openid4vci-proof+jwt")
                    .with("jwk", holder.public_jwk().unwrap().to_value()),
                json!({"aud": ISSUER, "iat": NOW, "nonce": nonce})
                    .to_string()
                    .as_bytes(),
                &LocalSigner::new(holder, JwsAlgorithm::ES256).unwrap(),
            )
            .unwrap();
            json!({"credential_configuration_id": "pid", "proofs": {"jwt": [proof]}})
                .to_string()
                .into_bytes()
        })
        .collect()
}

/// The raw work: verify one ES256 proof's signature (decoded, key prepared), sign one
/// credential-sized input.
struct Raw {
    proof_input: Vec<u8>,
    proof_sig: openssl::ecdsa::EcdsaSig,
    holder: raw::RawEs256,
    issuer: raw::RawEs256,
    input: Vec<u8>,
}

fn raw(env: &Env) -> Raw {
    let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let proof = jws::sign_compact(
        Header::new()
            .with_typ("openid4vci-proof+jwt")
            .with("jwk", holder.public_jwk().unwrap().to_value()),
        json!({"aud": ISSUER, "iat": NOW, "nonce": "n".repeat(43)})
            .to_string()
            .as_bytes(),
        &LocalSigner::new(holder.clone(), JwsAlgorithm::ES256).unwrap(),
    )
    .unwrap();
    let dot = proof.rfind('.').unwrap();
    let rs = idforge_jose::b64::decode(&proof[dot + 1..], "sig").unwrap();
    let proof_sig = openssl::ecdsa::EcdsaSig::from_private_components(
        openssl::bn::BigNum::from_slice(&rs[..32]).unwrap(),
        openssl::bn::BigNum::from_slice(&rs[32..]).unwrap(),
    )
    .unwrap();
    // A credential's signing input: header + payload with 10 digests, cnf, status.
    let digests: Vec<Value> = (0..10).map(|i| json!(format!("{i:043}"))).collect();
    let payload = json!({"_sd": digests, "_sd_alg": "sha-256", "iss": ISSUER, "iat": NOW,
        "exp": NOW + 31_536_000, "vct": "urn:eudi:pid:1",
        "cnf": {"jwk": holder.public_jwk().unwrap().to_value()},
        "status": {"status_list": {"idx": 0, "uri": format!("{ISSUER}/status-lists/1")}}});
    let input = format!(
        "{}.{}",
        idforge_jose::b64::encode(br#"{"alg":"ES256","typ":"dc+sd-jwt"}"#),
        idforge_jose::b64::encode(payload.to_string().as_bytes())
    );
    Raw {
        proof_input: proof.as_bytes()[..dot].to_vec(),
        proof_sig,
        holder: raw::RawEs256::from_key(&holder.to_public().unwrap()),
        issuer: raw::RawEs256::from_key(&env.key),
        input: input.into_bytes(),
    }
}

fn raw_once(r: &Raw) {
    assert!(r.holder.verify(black_box(&r.proof_input), &r.proof_sig));
    black_box(r.issuer.sign(black_box(&r.input)));
}

fn issue_once(env: &Env, body: &[u8]) {
    let r = env
        .rt
        .block_on(env.issuer.credential(Some(&env.bearer), body))
        .unwrap();
    black_box(r);
}

fn ratios() {
    let env = env();
    let r = raw(&env);
    const ROUNDS: usize = 600;
    let all = bodies(&env, ROUNDS);
    let mut next = all.iter();
    let ratio = interleaved(
        "credential endpoint (dc+sd-jwt, 10 SD claims, opaque AT) / ES256 verify + ES256 sign",
        ROUNDS,
        || issue_once(&env, next.next().unwrap()),
        || raw_once(&r),
    );
    println!("summary: credential endpoint {ratio:.2}x one ES256 verification + one ES256 signature (target <= 1.5x)");
}

fn benches(c: &mut Criterion) {
    let env = env();
    let r = raw(&env);
    let mut g = c.benchmark_group("oid4vci");
    g.measurement_time(Duration::from_secs(4));
    g.bench_function("raw_es256_verify_and_sign", |b| b.iter(|| raw_once(&r)));
    g.bench_function("credential_endpoint_dc_sd_jwt_10_claims", |b| {
        b.iter_custom(|iters| {
            let all = bodies(&env, iters as usize);
            let start = std::time::Instant::now();
            for body in &all {
                issue_once(&env, body);
            }
            start.elapsed()
        })
    });
    g.finish();
}

criterion_group!(oid4vci, benches);

fn main() {
    ratios();
    oid4vci();
    Criterion::default().configure_from_args().final_summary();
}
