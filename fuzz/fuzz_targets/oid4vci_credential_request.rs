//! OID4VCI credential request parsing (§8.2): never panics; what parses has exactly one target
//! and a bounded number of proofs.
#![no_main]

use idforge_oid4vci::request::{CredentialRequest, CredentialTarget, MAX_PROOFS};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(r) = CredentialRequest::from_json(data) {
        assert!(r.proofs.len() <= MAX_PROOFS);
        match &r.target {
            CredentialTarget::Identifier(s) | CredentialTarget::Configuration(s) => {
                assert!(!s.is_empty())
            }
            _ => {}
        }
    }
});
