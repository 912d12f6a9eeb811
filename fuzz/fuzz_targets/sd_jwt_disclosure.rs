//! Disclosure decoding (RFC 9901 §4.2): base64url, a 2- or 3-element JSON array, string salt
//! and name, strict JSON.
#![no_main]

use idforge_sd_jwt::{Disclosure, SdAlg};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Disclosure::parse(text, 16) {
        assert_eq!(d.encoded(), text, "the string is kept exactly as received");
        assert_eq!(d.digest(SdAlg::Sha256), SdAlg::Sha256.digest_b64(text));
        // Rebuilding from the parts gives an equivalent (possibly re-encoded) Disclosure.
        if let Ok(again) = Disclosure::from_parts(d.salt(), d.name(), d.value().clone()) {
            let back = Disclosure::parse(again.encoded(), 16).expect("own encoding parses");
            assert_eq!(back.value(), d.value());
            assert_eq!(back.name(), d.name());
        }
    }
    // Also as raw JSON, base64url-encoded here.
    let encoded = idforge_jose::b64::encode(data);
    let _ = Disclosure::parse(&encoded, 16);
});
