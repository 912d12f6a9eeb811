//! IdP metadata parsing, unpinned and pinned to the fixed key: never panics; pinned success
//! implies a verified signature.
#![no_main]

use idforge_saml_sp::metadata::{parse_idp_metadata, MetadataOptions};
use libfuzzer_sys::fuzz_target;

include!("saml_common.rs");

fuzz_target!(|data: &[u8]| {
    let _ = parse_idp_metadata(data, &MetadataOptions::default(), fixed_now());
    let pinned = MetadataOptions {
        pinned_keys: idp().signing_keys.iter().map(|k| k.key.clone()).collect(),
        ..MetadataOptions::default()
    };
    if let Ok(md) = parse_idp_metadata(data, &pinned, fixed_now()) {
        assert!(md.signed);
    }
    let _ = idforge_saml_sp::metadata::parse_duration(&String::from_utf8_lossy(data));
});
