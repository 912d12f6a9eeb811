//! Parse-and-verify of the JWS JSON serializations (RFC 7515 §7.2, general and flattened).
//!
//! The body is the public entry point `idforge_testing::fuzzing::jws_json` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::jws_json(data));
