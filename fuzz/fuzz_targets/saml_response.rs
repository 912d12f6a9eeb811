//! Response validation end to end (base64 form value or raw XML) against a fixed IdP key at a
//! fixed time: never panics; anything accepted carries a signed part and the expected issuer.
//!
//! The body is the public entry point `idforge_testing::fuzzing::saml_response` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::saml_response(data));
