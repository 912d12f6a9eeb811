//! idforge-sd-jwt vs the OWF `sd-jwt-rs` 0.7.1 on the same work, in one run:
//! - issue an SD-JWT with 20 selectively disclosable claims, ES256, holder key in `cnf`;
//! - verify a presentation of 10 of them with a Key Binding JWT.
//!
//! Run: `cargo bench --manifest-path crates/sd-jwt/benches/sd-jwt-rs/Cargo.toml`.

#![allow(missing_docs)]
use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idforge_jose::crypto::EcCurve;
use idforge_jose::{FixedClock, JwsAlgorithm, Key, KeyParams, KeySpec, LocalSigner, SystemClock};
use idforge_sd_jwt::{
    ClaimPath, Credential, Issuance, Issuer, IssuerConfig, KeyBindingInput, SdJwtVerifier,
    VerifierConfig,
};
use jsonwebtoken::{DecodingKey, EncodingKey};
use sd_jwt_rs::{
    issuer::ClaimsForSelectiveDisclosureStrategy, SDJWTHolder, SDJWTIssuer, SDJWTVerifier,
};
use serde_json::{json, Map, Value};

const AUD: &str = "https://verifier.example";
const NONCE: &str = "nonce-1";

fn claims() -> Map<String, Value> {
    let mut c = json!({"iss": "https://issuer.example.com", "iat": 1_700_000_000, "exp": 4_000_000_000_i64})
        .as_object()
        .cloned()
        .unwrap_or_default();
    for i in 0..20 {
        c.insert(
            format!("claim_{i:02}"),
            json!(format!("value number {i} of the credential")),
        );
    }
    c
}

/// The same P-256 key for both libraries: PKCS#8 PEM for jsonwebtoken, x/y for verification.
fn pem_and_xy(key: &Key) -> (Vec<u8>, String, String) {
    let KeyParams::Ec {
        x, y, d: Some(d), ..
    } = &key.jwk().params
    else {
        panic!("EC private key expected")
    };
    let group =
        openssl::ec::EcGroup::from_curve_name(openssl::nid::Nid::X9_62_PRIME256V1).expect("group");
    let bx = openssl::bn::BigNum::from_slice(x).expect("x");
    let by = openssl::bn::BigNum::from_slice(y).expect("y");
    let public =
        openssl::ec::EcKey::from_public_key_affine_coordinates(&group, &bx, &by).expect("point");
    let d = openssl::bn::BigNum::from_slice(d.expose()).expect("d");
    let ec =
        openssl::ec::EcKey::from_private_components(&group, &d, public.public_key()).expect("key");
    let pem = openssl::pkey::PKey::from_ec_key(ec)
        .expect("pkey")
        .private_key_to_pem_pkcs8()
        .expect("pem");
    (
        pem,
        idforge_jose::b64::encode(x),
        idforge_jose::b64::encode(y),
    )
}

fn bench(c: &mut Criterion) {
    let issuer = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let (issuer_pem, issuer_x, issuer_y) = pem_and_xy(&issuer);
    let (holder_pem, _, _) = pem_and_xy(&holder);
    let holder_jwk_value = holder.public_jwk().expect("EC").to_value();
    let paths: Vec<String> = (0..20).map(|i| format!("/claim_{i:02}")).collect();
    let json_paths: Vec<String> = (0..20).map(|i| format!("$.claim_{i:02}")).collect();

    // ---- idforge
    let issuer_signer = LocalSigner::new(issuer.clone(), JwsAlgorithm::ES256).expect("signer");
    let holder_signer = LocalSigner::new(holder.clone(), JwsAlgorithm::ES256).expect("signer");
    let issuance = Issuance::new(claims())
        .disclose(&paths)
        .expect("paths")
        .holder_key(holder.public_jwk().expect("EC"));
    let idf_issuer = Issuer::new(IssuerConfig::default());
    let mut rng = rand::thread_rng();
    let idf_sd_jwt = idf_issuer
        .issue(&issuance, &issuer_signer, &mut rng)
        .expect("issue");
    let selected: Vec<ClaimPath> = (0..10)
        .map(|i| ClaimPath::parse(&format!("/claim_{:02}", i * 2)).expect("path"))
        .collect();
    let idf_presentation = Credential::parse(&idf_sd_jwt, &Default::default())
        .expect("parse")
        .present_with_key_binding(
            &selected,
            &KeyBindingInput::new(AUD, NONCE),
            &holder_signer,
            &SystemClock,
        )
        .expect("present");
    let idf_verifier = SdJwtVerifier::new(
        VerifierConfig::default()
            .algorithms([JwsAlgorithm::ES256])
            .require_key_binding(AUD, NONCE),
    );
    let issuer_public = issuer.to_public().expect("EC");
    let clock = FixedClock::new(idforge_jose::Clock::now(&SystemClock));
    assert!(idf_verifier
        .verify(&idf_presentation, &issuer_public, &clock)
        .is_ok());

    // ---- sd-jwt-rs
    let owf_issuer_key = EncodingKey::from_ec_pem(&issuer_pem).expect("issuer pem");
    let owf_holder_key = EncodingKey::from_ec_pem(&holder_pem).expect("holder pem");
    let owf_holder_jwk: jsonwebtoken::jwk::Jwk =
        serde_json::from_value(holder_jwk_value).expect("jwk");
    let owf_issue = |issuer: &mut SDJWTIssuer| {
        issuer
            .issue_sd_jwt(
                Value::Object(claims()),
                ClaimsForSelectiveDisclosureStrategy::Custom(
                    json_paths.iter().map(String::as_str).collect(),
                ),
                Some(owf_holder_jwk.clone()),
                false,
                sd_jwt_rs::SDJWTSerializationFormat::Compact,
            )
            .expect("sd-jwt-rs issue")
    };
    let mut owf_issuer = SDJWTIssuer::new(owf_issuer_key, Some("ES256".into()));
    let owf_sd_jwt = owf_issue(&mut owf_issuer);
    let mut disclose = Map::new();
    for i in 0..10 {
        disclose.insert(format!("claim_{:02}", i * 2), Value::Bool(true));
    }
    let owf_presentation = SDJWTHolder::new(
        owf_sd_jwt.clone(),
        sd_jwt_rs::SDJWTSerializationFormat::Compact,
    )
    .expect("holder")
    .create_presentation(
        disclose,
        Some(NONCE.into()),
        Some(AUD.into()),
        Some(owf_holder_key),
        Some("ES256".into()),
    )
    .expect("sd-jwt-rs present");
    let owf_verify = |p: &str| {
        let (x, y) = (issuer_x.clone(), issuer_y.clone());
        SDJWTVerifier::new(
            p.to_owned(),
            Box::new(move |_, _| DecodingKey::from_ec_components(&x, &y).expect("decoding key")),
            Some(AUD.into()),
            Some(NONCE.into()),
            sd_jwt_rs::SDJWTSerializationFormat::Compact,
        )
        .expect("sd-jwt-rs verify")
    };
    let _ = owf_verify(&owf_presentation);
    // Cross-check: each library verifies the other's presentation of the same claims.
    let cross = idf_verifier.verify(&owf_presentation, &issuer_public, &clock);
    eprintln!(
        "idforge verifies the sd-jwt-rs presentation: {}",
        cross
            .map(|_| "ok".to_string())
            .unwrap_or_else(|e| e.to_string())
    );

    let mut g = c.benchmark_group("issue_20_sd_claims_es256");
    g.bench_function("idforge-sd-jwt", |b| {
        b.iter(|| {
            idf_issuer
                .issue(black_box(&issuance), &issuer_signer, &mut rng)
                .expect("issue")
        })
    });
    g.bench_function("sd-jwt-rs 0.7.1", |b| {
        b.iter(|| owf_issue(black_box(&mut owf_issuer)))
    });
    g.finish();

    let mut g = c.benchmark_group("verify_presentation_with_kb_es256");
    g.bench_function("idforge-sd-jwt", |b| {
        b.iter(|| {
            idf_verifier
                .verify(black_box(&idf_presentation), &issuer_public, &clock)
                .expect("verify")
        })
    });
    g.bench_function("sd-jwt-rs 0.7.1", |b| {
        b.iter(|| owf_verify(black_box(&owf_presentation)))
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
