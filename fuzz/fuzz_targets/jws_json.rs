//! Parse-and-verify of the JWS JSON serializations (RFC 7515 §7.2, general and flattened).
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((policy, text)) = policy_and_text(data) else {
        return;
    };
    if let Ok(v) = policy.verify_json(text, keys()) {
        assert!(policy.algorithms.contains(&v.alg));
        assert!(v.signature_index < policy.limits.max_signatures);
    }
    let _ = policy.verify(text, keys());
});
