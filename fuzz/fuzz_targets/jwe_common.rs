// Shared by the jwe_* fuzz targets (included, not a module): fixed keys from RFC 7520 and
// RFC 7516 so the seed corpus decrypts, and a policy allowing everything with small limits.

use std::sync::OnceLock;

use idforge_jose::{JwkSet, KeySet};
use idforge_jwe::{ContentEncryption, JwePolicy, KeyManagementAlgorithm, Limits};

const JWE_KEYS: &str = r#"{"keys":[
 {"kty":"oct","kid":"81b20965-8332-43d9-a468-82160ad91ac8","use":"enc","alg":"A128KW","k":"GZy6sIZ6wl9NJOKB-jnmVQ"},
 {"kty":"EC","kid":"peregrin.took@tuckborough.example","use":"enc","crv":"P-384","x":"YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2","y":"A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP","d":"iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j"},
 {"kty":"oct","kid":"18ec08e1-bfa9-4d95-b205-2b4dd1d4321d","use":"enc","alg":"A256GCMKW","k":"qC57l_uxcm7Nm3K-ct4GFjx8tM1U8CZ0NLBvdQstiS8"},
 {"kty":"EC","kid":"meriadoc.brandybuck@buckland.example","use":"enc","crv":"P-256","x":"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0","y":"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw","d":"r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8"},
 {"kty":"oct","kid":"77c7e2b8-6e13-45cf-8672-617b5b45243a","use":"enc","alg":"A128GCM","k":"XctOhJAkA-pD9Lh7ZgW_2A"},
 {"kty":"oct","kid":"rfc7516-a3","k":"GawgguFyGrWKav7AX4VKUg"},
 {"kty":"OKP","kid":"Bob","use":"enc","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08","d":"XasIfmJKikt54X-Lg4AO5m87sSkmGLb9HC-LJ_-I4Os"},
 {"kty":"oct","kid":"pbes2","alg":"PBES2-HS512+A256KW","k":"ZW50cmFwX2_igJNwZXRlcl9sb25n4oCTY3JlZGl0X3R1bg"}
]}"#;

fn jwe_keys() -> &'static KeySet {
    static KEYS: OnceLock<KeySet> = OnceLock::new();
    KEYS.get_or_init(|| {
        let set = JwkSet::from_json(JWE_KEYS).expect("fixed keys parse");
        KeySet::from_jwk_set(&set).expect("fixed keys are valid")
    })
}

fn jwe_policy() -> JwePolicy {
    // Low p2c and plaintext bounds keep each run fast; everything else is allowed.
    JwePolicy::new(KeyManagementAlgorithm::ALL, ContentEncryption::ALL).with_limits(Limits {
        max_pbes2_count: 10_000,
        max_plaintext_bytes: 64 << 10,
        ..Limits::default()
    })
}

fn check_decrypted(policy: &JwePolicy, d: &idforge_jwe::Decrypted) {
    // Anything accepted used allowed algorithms, named them in its header, and respects limits.
    assert!(policy.algorithms.contains(&d.alg) && policy.encryptions.contains(&d.enc));
    assert_eq!(d.header.alg(), Some(d.alg.name()));
    assert!(d.plaintext.len() <= policy.limits.max_input_bytes.max(policy.limits.max_plaintext_bytes));
}
