//! The examples of RFC 9901 §5 and draft-ietf-oauth-sd-jwt-vc §3.3/§4.2, transcribed into
//! `tests/data/` (source named in tests/data/README.md). Digests, `sd_hash`, signatures and the
//! processed payloads are checked exactly.
// Tests may unwrap: a panic here is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::FixedClock;
use idforge_sd_jwt::{
    ClaimPath, Credential, Disclosure, SdAlg, SdJwt, SdJwtVerifier, VcPolicy, VcVerifier,
    VerifierConfig,
};
use serde_json::{json, Value};

/// RFC 9901 §5.1: (claim, SHA-256 hash, Disclosure, contents) as listed.
const RFC_5_1_DISCLOSURES: &[(&str, &str, &str, &str)] = &[
    ("given_name", "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4", "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd", r#"["2GLC42sKQveCfGfryNRN9w", "given_name", "John"]"#),
    ("family_name", "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo", "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd", r#"["eluV5Og3gSNII8EYnsxA_A", "family_name", "Doe"]"#),
    ("email", "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE", "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ", r#"["6Ij7tM-a5iVPGboS5tmvVA", "email", "johndoe@example.com"]"#),
    ("phone_number", "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI", "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ", r#"["eI8ZWm9QnKPpNPeNenHdhQ", "phone_number", "+1-202-555-0101"]"#),
    ("phone_number_verified", "XQ_3kPKt1XyX7KANkqVR6yZ2Va5NrPIvPYbyMvRKBMM", "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgInBob25lX251bWJlcl92ZXJpZmllZCIsIHRydWVd", r#"["Qg_O64zqAxe412a108iroA", "phone_number_verified", true]"#),
    ("address", "XzFrzwscM6Gn6CJDc6vVK8BkMnfG8vOSKfpPIZdAfdE", "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0", r#"["AJx-095VPrpTtN4QMOqROA", "address", {"street_address": "123 Main St", "locality": "Anytown", "region": "Anystate", "country": "US"}]"#),
    ("birthdate", "gbOsI4Edq2x2Kw-w5wPEzakob9hV1cRD0ATN3oQL9JM", "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0", r#"["Pc33JM2LchcU_lHggv_ufQ", "birthdate", "1940-01-01"]"#),
    ("updated_at", "CrQe7S5kqBAHt-nMYXgc6bdt2SH5aTY1sU_M-PgkjPI", "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgInVwZGF0ZWRfYXQiLCAxNTcwMDAwMDAwXQ", r#"["G02NSrQfjFXQ7Io09syajA", "updated_at", 1570000000]"#),
    ("", "pFndjkZ_VCzmyTa6UjlZo3dh-ko8aIKQc9DlGzhaVYo", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgIlVTIl0", r#"["lklxF5jMYlGTPUovMNIvCA", "US"]"#),
    ("", "7Cf6JkPudry3lcbwHgeZ8khAv1U1OSlerP0VkBJrWZ0", "WyJuUHVvUW5rUkZxM0JJZUFtN0FuWEZBIiwgIkRFIl0", r#"["nPuoQnkRFq3BIeAm7AnXFA", "DE"]"#),
];

/// draft-ietf-oauth-sd-jwt-vc §3.3: (claim, SHA-256 hash, Disclosure).
const VC_3_3_DISCLOSURES: &[(&str, &str, &str)] = &[
    ("given_name", "jsu9yVulwQQlhFlM_3JlzMaSFzglhQG0DpfayQwLUK4", "WyIyR0xDNDJzS1F2ZUNmR2ZyeU5STjl3IiwgImdpdmVuX25hbWUiLCAiSm9obiJd"),
    ("family_name", "TGf4oLbgwd5JQaHyKVQZU9UdGE0w5rtDsrZzfUaomLo", "WyJlbHVWNU9nM2dTTklJOEVZbnN4QV9BIiwgImZhbWlseV9uYW1lIiwgIkRvZSJd"),
    ("email", "JzYjH4svliH0R3PyEMfeZu6Jt69u5qehZo7F7EPYlSE", "WyI2SWo3dE0tYTVpVlBHYm9TNXRtdlZBIiwgImVtYWlsIiwgImpvaG5kb2VAZXhhbXBsZS5jb20iXQ"),
    ("phone_number", "PorFbpKuVu6xymJagvkFsFXAbRoc2JGlAUA2BA4o7cI", "WyJlSThaV205UW5LUHBOUGVOZW5IZGhRIiwgInBob25lX251bWJlciIsICIrMS0yMDItNTU1LTAxMDEiXQ"),
    ("address", "IlDzIKeiZdDwpqpK6ZfbyphFvz5FgnWa-sN6wqQXCiw", "WyJRZ19PNjR6cUF4ZTQxMmExMDhpcm9BIiwgImFkZHJlc3MiLCB7InN0cmVldF9hZGRyZXNzIjogIjEyMyBNYWluIFN0IiwgImxvY2FsaXR5IjogIkFueXRvd24iLCAicmVnaW9uIjogIkFueXN0YXRlIiwgImNvdW50cnkiOiAiVVMifV0"),
    ("birthdate", "jdrTE8YcbY4EifugihiAe_BPekxJQZICeiUQwY9QqxI", "WyJBSngtMDk1VlBycFR0TjRRTU9xUk9BIiwgImJpcnRoZGF0ZSIsICIxOTQwLTAxLTAxIl0"),
    ("is_over_18", "09vKrJMOlyTWM0sjpu_pdOBVBQ2M1y3KhpH515nXkpY", "WyJQYzMzSk0yTGNoY1VfbEhnZ3ZfdWZRIiwgImlzX292ZXJfMTgiLCB0cnVlXQ"),
    ("is_over_21", "2rsjGbaC0ky8mT0pJrPioWTq0_daw1sX76poUlgCwbI", "WyJHMDJOU3JRZmpGWFE3SW8wOXN5YWpBIiwgImlzX292ZXJfMjEiLCB0cnVlXQ"),
    ("is_over_65", "EkO8dhW0dHEJbvUHlE_VCeuC9uRELOieLZhh7XbUTtA", "WyJsa2x4RjVqTVlsR1RQVW92TU5JdkNBIiwgImlzX292ZXJfNjUiLCB0cnVlXQ"),
];

fn rfc_cnf() -> Value {
    json!({"jwk": {"kty": "EC", "crv": "P-256",
        "x": "TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc",
        "y": "ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}})
}

#[test]
fn rfc9901_5_1_disclosure_digests_are_exact() {
    for (claim, hash, encoded, contents) in RFC_5_1_DISCLOSURES {
        let d = Disclosure::parse(encoded, 16).unwrap();
        assert_eq!(d.digest(SdAlg::Sha256), *hash, "{claim}");
        let contents: Vec<Value> = serde_json::from_str(contents).unwrap();
        assert_eq!(d.salt(), contents[0]);
        if claim.is_empty() {
            assert!(d.is_array_element());
            assert_eq!(d.value(), &contents[1]);
        } else {
            assert_eq!(d.name(), Some(*claim));
            assert_eq!(d.value(), &contents[2]);
        }
    }
}

#[test]
fn rfc9901_5_1_issued_sd_jwt_verifies_to_the_input_claims() {
    let text = data("rfc9901-5.1-issuance.txt");
    let sd = SdJwt::parse(&text, &Default::default()).unwrap();
    let encoded: Vec<&str> = RFC_5_1_DISCLOSURES.iter().map(|d| d.2).collect();
    assert_eq!(
        sd.disclosures(),
        encoded.as_slice(),
        "all ten Disclosures, in RFC order"
    );
    let clock = FixedClock::new(1_700_000_000);
    let v = SdJwtVerifier::default()
        .verify(&text, &issuer_public(), &clock)
        .unwrap();
    assert_eq!(v.header.typ(), Some("example+sd-jwt"));
    // §5.1 input claims, plus the always-visible iss/iat/exp/cnf.
    let expected = json!({
        "iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000,
        "sub": "user_42", "given_name": "John", "family_name": "Doe",
        "email": "johndoe@example.com", "phone_number": "+1-202-555-0101",
        "phone_number_verified": true,
        "address": {"street_address": "123 Main St", "locality": "Anytown",
                    "region": "Anystate", "country": "US"},
        "birthdate": "1940-01-01", "updated_at": 1570000000,
        "nationalities": ["US", "DE"], "cnf": rfc_cnf()
    });
    assert_eq!(Value::Object(v.claims), expected);
    let paths: Vec<String> = v.disclosed.iter().map(|d| d.path.to_string()).collect();
    for p in [
        "/given_name",
        "/address",
        "/nationalities/0",
        "/nationalities/1",
        "/updated_at",
    ] {
        assert!(paths.contains(&p.to_owned()), "{p} in {paths:?}");
    }
}

#[test]
fn rfc9901_5_2_presentation_with_key_binding_is_exact() {
    let text = data("rfc9901-5.2-presentation.txt");
    let sd = SdJwt::parse(&text, &Default::default()).unwrap();
    assert_eq!(sd.disclosures().len(), 4);
    // The sd_hash the RFC prints in the KB-JWT payload.
    assert_eq!(
        sd.sd_hash(SdAlg::Sha256),
        "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"
    );
    let clock = FixedClock::new(1_748_537_244);
    let config =
        VerifierConfig::default().require_key_binding("https://verifier.example.org", "1234567890");
    let v = SdJwtVerifier::new(config)
        .verify(&text, &issuer_public(), &clock)
        .unwrap();
    // The Processed SD-JWT Payload printed in §5.2.
    let expected = json!({
        "iss": "https://issuer.example.com", "iat": 1683000000, "exp": 1883000000,
        "sub": "user_42", "nationalities": ["US"], "cnf": rfc_cnf(),
        "family_name": "Doe",
        "address": {"street_address": "123 Main St", "locality": "Anytown",
                    "region": "Anystate", "country": "US"},
        "given_name": "John"
    });
    assert_eq!(Value::Object(v.claims), expected);
    let kb = v.key_binding.unwrap();
    assert_eq!(
        kb.claims["sd_hash"],
        "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"
    );
    assert_eq!(kb.claims["iat"], 1748537244);
}

#[test]
fn holder_selects_the_rfc_5_2_disclosures_by_path() {
    let cred = Credential::parse(&data("rfc9901-5.1-issuance.txt"), &Default::default()).unwrap();
    let paths: Vec<String> = cred
        .disclosable()
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    assert_eq!(paths.len(), 10);
    let selected = cred
        .select(
            &[
                "/given_name",
                "/family_name",
                "/address",
                "/nationalities/0",
            ]
            .map(|p| ClaimPath::parse(p).unwrap()),
        )
        .unwrap();
    let presented =
        SdJwt::parse(&data("rfc9901-5.2-presentation.txt"), &Default::default()).unwrap();
    let mut a = selected.clone();
    let mut b = presented.disclosures().to_vec();
    a.sort();
    b.sort();
    assert_eq!(a, b, "the same four Disclosures as RFC 9901 §5.2");
    // Presented in the RFC's order, our KB-JWT over it carries the RFC's sd_hash.
    let rfc_order = SdJwt::from_parts(
        presented.issuer_jwt().to_owned(),
        presented.disclosures().to_vec(),
        None,
    );
    assert_eq!(
        rfc_order.sd_hash(SdAlg::Sha256),
        "0_Af-2B-EhLWX5ydh_w2xzwmO6iM66B_2QCEanI4fUY"
    );
}

#[test]
fn sd_jwt_vc_3_3_digests_and_issuance_verify() {
    for (claim, hash, encoded) in VC_3_3_DISCLOSURES {
        let d = Disclosure::parse(encoded, 16).unwrap();
        assert_eq!(d.digest(SdAlg::Sha256), *hash, "{claim}");
        assert_eq!(d.name(), Some(*claim));
    }
    let text = data("sd-jwt-vc-3.3-issuance.txt");
    let clock = FixedClock::new(1_700_000_000);
    let vc = VcVerifier::default()
        .verify(&text, &vc_issuer_public(), &clock)
        .unwrap();
    assert_eq!(
        vc.vct,
        "https://credentials.example.com/identity_credential"
    );
    assert_eq!(vc.sd_jwt.header.kid(), Some("doc-signer-05-25-2022"));
    assert_eq!(vc.sd_jwt.claims["address"]["locality"], "Anytown");
    assert_eq!(vc.sd_jwt.claims["is_over_65"], true);
    assert_eq!(vc.sd_jwt.disclosed.len(), 9);
}

#[test]
fn sd_jwt_vc_4_2_presentation_with_key_binding() {
    let text = data("sd-jwt-vc-4.2-presentation.txt");
    let clock = FixedClock::new(1_756_420_695);
    let verifier = VcVerifier::new(
        VerifierConfig::default().require_key_binding("https://example.com/verifier", "1234567890"),
        VcPolicy {
            vcts: vec!["https://credentials.example.com/identity_credential".into()],
            accept_vc_sd_jwt: false,
        },
    );
    let vc = verifier.verify(&text, &vc_issuer_public(), &clock).unwrap();
    // The processed payload printed in §4.2.
    let expected = json!({
        "iss": "https://example.com/issuer", "iat": 1683000000, "exp": 1883000000,
        "vct": "https://credentials.example.com/identity_credential",
        "cnf": rfc_cnf(), "is_over_65": true,
        "address": {"street_address": "123 Main St", "locality": "Anytown",
                    "region": "Anystate", "country": "US"}
    });
    assert_eq!(Value::Object(vc.sd_jwt.claims), expected);
    let kb = vc.sd_jwt.key_binding.unwrap();
    assert_eq!(
        kb.claims["sd_hash"],
        "JvZxKye8AQSoVJTEI6xi7aZ9XDZXHCAxpf6QRaoT3Gk"
    );
}
