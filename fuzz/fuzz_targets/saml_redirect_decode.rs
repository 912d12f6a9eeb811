//! HTTP-Redirect decoding (query parsing, percent-decoding, base64, bounded INFLATE, SigAlg)
//! and query-signature verification: never panics, never inflates past the limit.
#![no_main]

use idforge_saml_sp::binding::decode_redirect;
use idforge_saml_sp::xml::Limits;
use libfuzzer_sys::fuzz_target;

include!("saml_common.rs");

fuzz_target!(|data: &[u8]| {
    let Ok(query) = std::str::from_utf8(data) else { return };
    let limits = Limits { max_bytes: 64 * 1024, ..Limits::default() };
    if let Ok(msg) = decode_redirect(query, &limits, false) {
        assert!(msg.xml.len() <= limits.max_bytes);
        let keys: Vec<_> = idp().signing_keys.iter().map(|k| k.key.clone()).collect();
        let _ = msg.verify(&keys);
    }
});
