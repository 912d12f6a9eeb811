//! Full SD-JWT / SD-JWT VC verification (RFC 9901 §7.1, §7.3) against the RFC 9901 Appendix
//! A.5 issuer key, with and without required key binding.
#![no_main]

use std::sync::OnceLock;

use idforge_jose::{FixedClock, Key};
use idforge_sd_jwt::{SdJwtVerifier, VcPolicy, VcVerifier, VerifierConfig};
use libfuzzer_sys::fuzz_target;

fn issuer() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        Key::from_json(r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#)
            .expect("RFC 9901 A.5 key")
    })
}

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let clock = FixedClock::new(1_748_537_244);
    if let Ok(v) = SdJwtVerifier::default().verify(text, issuer(), &clock) {
        assert!(!v.claims.contains_key("_sd") && !v.claims.contains_key("_sd_alg"));
    }
    let kb = VerifierConfig::default().require_key_binding("https://verifier.example.org", "1234567890");
    if let Ok(v) = SdJwtVerifier::new(kb.clone()).verify(text, issuer(), &clock) {
        assert!(v.key_binding.is_some(), "required key binding was checked");
    }
    let vc = VcVerifier::new(kb, VcPolicy { accept_vc_sd_jwt: true, ..VcPolicy::default() });
    if let Ok(v) = vc.verify(text, issuer(), &clock) {
        assert!(!v.vct.is_empty());
    }
});
