//! JWK and JWK Set parsing (RFC 7517), key validation, serialization round trip, thumbprints.
//!
//! The body is the public entry point `idforge_testing::fuzzing::jwk_parse` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::jwk_parse(data));
