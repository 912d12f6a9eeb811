//! Disclosure decoding (RFC 9901 §4.2): base64url, a 2- or 3-element JSON array, string salt
//! and name, strict JSON.
//!
//! The body is the public entry point `idforge_testing::fuzzing::sd_jwt_disclosure` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::sd_jwt_disclosure(data));
