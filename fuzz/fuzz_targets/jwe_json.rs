//! Parse-and-decrypt of JSON-serialized JWEs (RFC 7516 §7.2, general and flattened) against
//! fixed keys: never a panic, and anything accepted is consistent with the policy.
//!
//! The body is the public entry point `idforge_testing::fuzzing::jwe_json` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::jwe_json(data));
