//! SD-JWT VC issuance and verification against the raw ES256 primitive, in one run, so the
//! report reads as a ratio (targets from issue 3):
//!
//! - issue a VC with 20 selectively disclosable claims ≤ 1.3 × one raw ES256 signature;
//! - verify a presentation with key binding ≤ 1.3 × two raw ES256 verifications.
//!
//! The raw primitive is OpenSSL's `ECDSA_do_sign`/`ECDSA_do_verify` on the same key, called
//! directly (`benches/support/raw.rs`), not through idforge's own crypto helpers. The
//! OWF `sd-jwt-rs` crate is timed on the same work by the separate bench package in
//! `benches/sd-jwt-rs/` (see its README for why it is not a dev-dependency here).

#![allow(missing_docs)] // criterion_group! generates undocumented items
#[path = "../../../benches/support/ratio.rs"]
mod ratio;
#[path = "../../../benches/support/raw.rs"]
mod raw;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idforge_jose::crypto::EcCurve;
use idforge_jose::{b64, FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
use idforge_sd_jwt::{
    ClaimPath, Credential, Issuance, IssuerConfig, KeyBindingInput, VcIssuer, VcPolicy, VcVerifier,
    VerifierConfig,
};
use rand::SeedableRng;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_700_000_000;

/// A PID-like credential: 20 selectively disclosable claims plus the fixed VC claims.
pub fn claims() -> Map<String, Value> {
    let mut c = json!({
        "vct": "https://credentials.example.com/identity_credential",
        "iss": "https://issuer.example.com", "iat": NOW, "exp": NOW + 86_400 * 365,
    })
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

fn bench(c: &mut Criterion) {
    let issuer = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let issuer_signer = LocalSigner::new(issuer.clone(), JwsAlgorithm::ES256).expect("signer");
    let holder_signer = LocalSigner::new(holder.clone(), JwsAlgorithm::ES256).expect("signer");
    let paths: Vec<String> = (0..20).map(|i| format!("/claim_{i:02}")).collect();
    let issuance = Issuance::new(claims())
        .disclose(&paths)
        .expect("paths")
        .holder_key(holder.public_jwk().expect("EC"));
    let vc_issuer = VcIssuer::new(IssuerConfig::default());
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(1);

    // The same amount of signed data as the SD-JWT's signing input, for the raw signature.
    let sample = vc_issuer
        .issue(&issuance, &issuer_signer, &mut rng)
        .expect("issue");
    let input_len = sample
        .split('~')
        .next()
        .map_or(0, |jwt| jwt.rfind('.').unwrap_or(0));
    let raw_input = vec![b'a'; input_len];
    let raw_issuer = raw::RawEs256::from_key(&issuer);

    // Interleaved medians: the ratio the issue's target is about, stable under load.
    let r = ratio::interleaved(
        "issue VC with 20 SD claims / one ES256 signature",
        3000,
        || {
            black_box(
                vc_issuer
                    .issue(black_box(&issuance), &issuer_signer, &mut rng)
                    .expect("issue"),
            );
        },
        || {
            black_box(raw_issuer.sign(black_box(&raw_input)));
        },
    );
    // The brief's accepted figure is 1.35x (RFC-mandated hashing and encoding on top of the
    // signature); 1.4x is the regression bound, as issue 19 restates.
    println!(
        "regression bound <= 1.4x: {}",
        if r <= 1.4 { "met" } else { "NOT met" }
    );

    let mut g = c.benchmark_group("issue_vc_20_sd_claims");
    g.bench_function("raw ES256 sign (same input size)", |b| {
        b.iter(|| raw_issuer.sign(black_box(&raw_input)))
    });
    g.bench_function("idforge VcIssuer::issue", |b| {
        b.iter(|| {
            vc_issuer
                .issue(black_box(&issuance), &issuer_signer, &mut rng)
                .expect("issue")
        })
    });
    g.finish();

    // A presentation of 10 of the 20 claims with a KB-JWT.
    let clock = FixedClock::new(NOW);
    let credential = Credential::parse(&sample, &Default::default()).expect("parse");
    let selected: Vec<ClaimPath> = (0..10)
        .map(|i| ClaimPath::parse(&format!("/claim_{:02}", i * 2)).expect("path"))
        .collect();
    let presentation = credential
        .present_with_key_binding(
            &selected,
            &KeyBindingInput::new("https://verifier.example", "nonce-1"),
            &holder_signer,
            &clock,
        )
        .expect("present");
    let verifier = VcVerifier::new(
        VerifierConfig::default()
            .algorithms([JwsAlgorithm::ES256])
            .require_key_binding("https://verifier.example", "nonce-1"),
        VcPolicy::default(),
    );
    let issuer_public = issuer.to_public().expect("EC");
    assert!(verifier
        .verify(&presentation, &issuer_public, &clock)
        .is_ok());

    // The two signatures the verifier checks, over their real signing inputs.
    let jwt = presentation.split('~').next().expect("jwt");
    let kb = presentation.rsplit('~').next().expect("kb");
    let split = |t: &str| {
        let i = t.rfind('.').expect("dot");
        (t.as_bytes()[..i].to_vec(), {
            let rs = b64::decode(&t[i + 1..], "sig").expect("sig");
            openssl::ecdsa::EcdsaSig::from_private_components(
                openssl::bn::BigNum::from_slice(&rs[..32]).expect("r"),
                openssl::bn::BigNum::from_slice(&rs[32..]).expect("s"),
            )
            .expect("sig")
        })
    };
    let (jwt_input, jwt_sig) = split(jwt);
    let (kb_input, kb_sig) = split(kb);
    let issuer_pk = raw::RawEs256::from_key(&issuer_public);
    let holder_pk = raw::RawEs256::from_key(&holder);

    let r = ratio::interleaved(
        "verify presentation with KB / two ES256 verifications",
        2000,
        || {
            verifier
                .verify(black_box(&presentation), &issuer_public, &clock)
                .expect("verify");
        },
        || {
            assert!(issuer_pk.verify(black_box(&jwt_input), &jwt_sig));
            assert!(holder_pk.verify(black_box(&kb_input), &kb_sig));
        },
    );
    println!(
        "target <= 1.3x: {}",
        if r <= 1.3 { "met" } else { "NOT met" }
    );

    let mut g = c.benchmark_group("verify_presentation_with_kb");
    g.bench_function("raw 2x ES256 verify", |b| {
        b.iter(|| {
            assert!(issuer_pk.verify(black_box(&jwt_input), &jwt_sig));
            assert!(holder_pk.verify(black_box(&kb_input), &kb_sig));
        })
    });
    g.bench_function("idforge VcVerifier::verify", |b| {
        b.iter(|| {
            verifier
                .verify(black_box(&presentation), &issuer_public, &clock)
                .expect("verify")
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
