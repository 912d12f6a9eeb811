//! The SD-JWT VC fixtures: issuance, presentation with key binding, verification through
//! idforge-sd-jwt's verifier, and determinism per algorithm.

use idforge_sd_jwt::{Error, SdJwt};
use idforge_testing::sd_jwt::{TestAlgorithm, TestVcIssuer, TestWallet};
use serde_json::{json, Map, Value};

const ISS: &str = "https://issuer.example.com";
const VCT: &str = "https://credentials.example.com/identity_credential";
const NOW: i64 = 1_800_000_000;

fn claims() -> Map<String, Value> {
    json!({
        "given_name": "Erika", "family_name": "Mustermann",
        "address": {"street_address": "Heidestr. 17", "locality": "Köln"},
        "nationalities": ["DE", "FR"]
    })
    .as_object()
    .cloned()
    .expect("object")
}

const DISCLOSE: &[&str] = &[
    "/given_name",
    "/family_name",
    "/address",
    "/address/street_address",
    "/nationalities/1",
];

fn issue(alg: TestAlgorithm, seed: u64) -> (TestVcIssuer, TestWallet, String) {
    let issuer = TestVcIssuer::fixed(ISS, alg, seed).expect("issuer");
    let wallet = TestWallet::fixed(alg).expect("wallet");
    let vc = issuer
        .issue(VCT, claims(), DISCLOSE, Some(wallet.holder_jwk()))
        .expect("issue");
    (issuer, wallet, vc)
}

#[test]
fn a_presentation_verifies_and_discloses_only_what_was_selected() {
    for alg in [TestAlgorithm::EdDSA, TestAlgorithm::ES256] {
        let (issuer, wallet, vc) = issue(alg, 1);
        let mut paths = wallet.disclosable(&vc).expect("paths");
        paths.sort();
        let mut want: Vec<String> = DISCLOSE.iter().map(|s| s.to_string()).collect();
        want.sort();
        assert_eq!(paths, want, "{alg:?}");
        let p = wallet
            .present(
                &vc,
                &["/address/street_address"],
                "https://verifier.example",
                "n-1",
                NOW,
            )
            .expect("present");
        let v = issuer
            .verify_presentation(&p, "https://verifier.example", "n-1", NOW)
            .expect("verifies");
        assert_eq!(v.vct, VCT);
        let c = &v.sd_jwt.claims;
        assert_eq!(c["iss"], ISS);
        assert_eq!(
            c["address"],
            json!({"street_address": "Heidestr. 17", "locality": "Köln"})
        );
        assert_eq!(c["nationalities"], json!(["DE"]));
        assert!(c.get("given_name").is_none() && c.get("family_name").is_none());
        assert!(v.sd_jwt.key_binding.is_some());
    }
}

#[test]
fn the_verifier_refuses_a_wrong_nonce_audience_and_missing_key_binding() {
    let (issuer, wallet, vc) = issue(TestAlgorithm::EdDSA, 1);
    let p = wallet
        .present(
            &vc,
            &["/given_name"],
            "https://verifier.example",
            "n-1",
            NOW,
        )
        .expect("present");
    assert!(issuer
        .verify_presentation(&p, "https://verifier.example", "n-2", NOW)
        .is_err());
    assert!(issuer
        .verify_presentation(&p, "https://other.example", "n-1", NOW)
        .is_err());
    let unbound = wallet
        .present_unbound(&vc, &["/given_name"])
        .expect("present");
    assert_eq!(
        issuer
            .verify_presentation(&unbound, "https://verifier.example", "n-1", NOW)
            .expect_err("no KB-JWT"),
        Error::KeyBindingRequired
    );
    // A presentation signed by another holder key than `cnf` is refused.
    let other = TestWallet::fixed(TestAlgorithm::ES256).expect("wallet");
    let forged = other
        .present(
            &vc,
            &["/given_name"],
            "https://verifier.example",
            "n-1",
            NOW,
        )
        .expect("present");
    assert!(issuer
        .verify_presentation(&forged, "https://verifier.example", "n-1", NOW)
        .is_err());
}

/// EdDSA: the same seed gives byte-identical credentials and presentations; another seed
/// other salts.
#[test]
fn eddsa_is_byte_identical_for_a_seed() {
    let (_, wallet, a) = issue(TestAlgorithm::EdDSA, 42);
    let (_, _, b) = issue(TestAlgorithm::EdDSA, 42);
    assert_eq!(a, b);
    let (_, _, c) = issue(TestAlgorithm::EdDSA, 43);
    assert_ne!(a, c);
    let present = |vc: &str| {
        wallet
            .present(vc, &["/family_name"], "https://verifier.example", "n", NOW)
            .expect("present")
    };
    assert_eq!(present(&a), present(&b));
    assert!(TestAlgorithm::EdDSA.is_deterministic());
}

/// ES256: ECDSA signatures are randomized, so only the signature segments differ; the payload
/// and every Disclosure are identical for the same seed.
#[test]
fn es256_is_identical_but_for_the_signature() {
    let (_, _, a) = issue(TestAlgorithm::ES256, 42);
    let (_, _, b) = issue(TestAlgorithm::ES256, 42);
    assert!(!TestAlgorithm::ES256.is_deterministic());
    let limits = Default::default();
    let (sa, sb) = (
        SdJwt::parse(&a, &limits).expect("a"),
        SdJwt::parse(&b, &limits).expect("b"),
    );
    assert_eq!(sa.disclosures(), sb.disclosures());
    let signing_input = |jwt: &str| jwt.rsplit_once('.').map(|(i, _)| i.to_owned());
    assert_eq!(
        signing_input(sa.issuer_jwt()),
        signing_input(sb.issuer_jwt())
    );
    assert_ne!(a, b, "ECDSA signatures use a fresh nonce");
}

#[test]
fn the_issuer_publishes_its_public_key_only() {
    let issuer = TestVcIssuer::fixed(ISS, TestAlgorithm::ES256, 0).expect("issuer");
    let jwks = issuer.jwks();
    assert_eq!(jwks.keys.len(), 1);
    assert!(!jwks.keys[0].is_private());
    assert!(!issuer.public_key().is_private());
    assert_eq!(issuer.iss(), ISS);
}

#[test]
fn sd_jwt_vc_rules_apply_to_issuance() {
    // SD-JWT VC: `vct` and `iss` are never selectively disclosable.
    let issuer = TestVcIssuer::fixed(ISS, TestAlgorithm::EdDSA, 0).expect("issuer");
    assert!(issuer.issue(VCT, claims(), &["/vct"], None).is_err());
}
