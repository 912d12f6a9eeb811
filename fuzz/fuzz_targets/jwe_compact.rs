//! Parse-and-decrypt of compact JWEs (RFC 7516 §7.1) against fixed keys of every type: never a
//! panic, and anything accepted is consistent with the policy.
//!
//! The body is the public entry point `idforge_testing::fuzzing::jwe_compact` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::jwe_compact(data));
