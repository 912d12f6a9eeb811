//! SD-JWT parsing (RFC 9901 §4 compact, §8 JSON) and the holder's digest processing.
//!
//! The body is the public entry point `idforge_testing::fuzzing::sd_jwt_parse` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::sd_jwt_parse(data));
