//! Response validation end to end (base64 form value or raw XML) against a fixed IdP key at a
//! fixed time: never panics; anything accepted carries a signed part and the expected issuer.
#![no_main]

use idforge_saml_sp::response::{decode_post_value, validate_response, RequestCheck};
use libfuzzer_sys::fuzz_target;

include!("saml_common.rs");

fuzz_target!(|data: &[u8]| {
    let sp = sp_config();
    let Ok(xml) = decode_post_value(data, &sp.limits) else { return };
    for check in [RequestCheck::Exact("_req1".into()), RequestCheck::Deferred] {
        if let Ok(v) = validate_response(&xml, &sp, idp(), &check, fixed_now()) {
            assert!(v.assertion.signed.response || v.assertion.signed.assertion);
            assert_eq!(v.assertion.issuer, idp().entity_id);
        }
    }
});
