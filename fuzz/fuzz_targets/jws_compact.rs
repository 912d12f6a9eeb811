//! Parse-and-verify of compact JWS (RFC 7515 §7.1) against fixed keys of every type.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("common.rs");

fuzz_target!(|data: &[u8]| {
    let Some((policy, text)) = policy_and_text(data) else {
        return;
    };
    if let Ok(v) = policy.verify_compact(text, keys()) {
        // Anything accepted must name an allowed algorithm and a header with that alg.
        assert!(policy.algorithms.contains(&v.alg));
        assert_eq!(v.header.alg(), Some(v.alg.name()));
    }
    let _ = policy.verify_compact_detached(text, b"detached", keys());
    let _ = idforge_jose::jws::peek_header(text);
});
