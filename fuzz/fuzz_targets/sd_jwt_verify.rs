//! Full SD-JWT / SD-JWT VC verification (RFC 9901 §7.1, §7.3) against the RFC 9901 Appendix
//! A.5 issuer key, with and without required key binding.
//!
//! The body is the public entry point `idforge_testing::fuzzing::sd_jwt_verify` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::sd_jwt_verify(data));
