//! Parse-and-decrypt of compact JWEs (RFC 7516 §7.1) against fixed keys of every type: never a
//! panic, and anything accepted is consistent with the policy.
#![no_main]

use libfuzzer_sys::fuzz_target;

include!("jwe_common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let policy = jwe_policy();
    if let Ok(d) = policy.decrypt_compact(text, jwe_keys()) {
        check_decrypted(&policy, &d);
    }
});
