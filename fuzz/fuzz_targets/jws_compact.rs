//! Parse-and-verify of compact JWS (RFC 7515 §7.1) against fixed keys of every type.
//!
//! The body is the public entry point `idforge_testing::fuzzing::jws_compact` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::jws_compact(data));
