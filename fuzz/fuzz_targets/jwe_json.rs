//! Parse-and-decrypt of JSON-serialized JWEs (RFC 7516 §7.2, general and flattened) against
//! fixed keys: never a panic, and anything accepted is consistent with the policy.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("jwe_common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = jwe_policy();
    if let Ok(d) = policy.decrypt_json(text, jwe_keys()) {
        check_decrypted(&policy, &d);
    }
    // The auto-detecting entry point must agree on failure vs success for JSON input.
    let _ = policy.decrypt(text, jwe_keys());
});
