//! Fuzz the SCIM PATCH path parser (RFC 7644 §3.5.2): no input may panic; whatever parses must
//! print and re-parse to the same path, and validate against the User and Group schemas.
#![no_main]

use idforge_scim_filter::{parse_patch_path, Schema};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = parse_patch_path(text) else {
        return;
    };
    let printed = path.to_string();
    let again = parse_patch_path(&printed).expect("printed path parses");
    assert_eq!(again.attr, path.attr);
    assert_eq!(again.filter, path.filter);
    assert_eq!(again.sub_attr, path.sub_attr);
    let _ = Schema::user().validate_patch_path(&path);
    let _ = Schema::group().validate_patch_path(&path);
});
