//! JWK and JWK Set parsing (RFC 7517), key validation, serialization round trip, thumbprints.
#![no_main]

use idforge_jose::{Jwk, JwkSet, Key, KeySet};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
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
});
