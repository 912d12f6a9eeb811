//! JOSE parsers: JWK (RFC 7517), JWS (RFC 7515), JWE (RFC 7516).

use idforge_jose::{Jwk, JwkSet, Key, KeySet};

use super::fixtures::*;

/// JWK and JWK Set parsing (RFC 7517), key validation, serialization round trip, thumbprints.
pub fn jwk_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(jwk) = Jwk::from_json(text) {
        // Serialization is lossless: what we write, we read back identically.
        let again = Jwk::from_json(&jwk.to_json()).expect("re-parse of our own output");
        assert_eq!(again, jwk);
        let _ = jwk.thumbprint();
        if let Some(public) = jwk.to_public() {
            assert!(!public.is_private());
            assert_eq!(public.thumbprint(), jwk.thumbprint());
        }
        if let Ok(key) = Key::from_jwk(jwk) {
            let _ = idforge_jose::JwsAlgorithm::fitting(&key);
            let _ = key.to_public();
        }
    }
    if let Ok(set) = JwkSet::from_json(text) {
        let again = JwkSet::from_json(&set.to_json()).expect("re-parse of our own set");
        assert_eq!(again, set);
        let _ = KeySet::from_jwk_set(&set);
    }
    let _ = JwkSet::from_jwk_or_set(text);
}

/// Parse-and-verify of compact JWS (RFC 7515 §7.1) against fixed keys of every type.
pub fn jws_compact(data: &[u8]) {
    let Some((policy, text)) = policy_and_text(data) else {
        return;
    };
    if let Ok(v) = policy.verify_compact(text, jws_keys()) {
        // Anything accepted must name an allowed algorithm and a header with that alg.
        assert!(policy.algorithms.contains(&v.alg));
        assert_eq!(v.header.alg(), Some(v.alg.name()));
    }
    let _ = policy.verify_compact_detached(text, b"detached", jws_keys());
    let _ = idforge_jose::jws::peek_header(text);
}

/// Parse-and-verify of the JWS JSON serializations (RFC 7515 §7.2, general and flattened).
pub fn jws_json(data: &[u8]) {
    let Some((policy, text)) = policy_and_text(data) else {
        return;
    };
    if let Ok(v) = policy.verify_json(text, jws_keys()) {
        assert!(policy.algorithms.contains(&v.alg));
        assert!(v.signature_index < policy.limits.max_signatures);
    }
    let _ = policy.verify(text, jws_keys());
}

/// Parse-and-decrypt of compact JWEs (RFC 7516 §7.1) against fixed keys of every type: never a
/// panic, and anything accepted is consistent with the policy.
pub fn jwe_compact(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = jwe_policy();
    if let Ok(d) = policy.decrypt_compact(text, jwe_keys()) {
        check_decrypted(&policy, &d);
    }
}

/// Parse-and-decrypt of JSON-serialized JWEs (RFC 7516 §7.2, general and flattened) against
/// fixed keys: never a panic, and anything accepted is consistent with the policy.
pub fn jwe_json(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = jwe_policy();
    if let Ok(d) = policy.decrypt_json(text, jwe_keys()) {
        check_decrypted(&policy, &d);
    }
    // The auto-detecting entry point must agree on failure vs success for JSON input.
    let _ = policy.decrypt(text, jwe_keys());
}
