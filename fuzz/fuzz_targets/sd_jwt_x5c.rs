//! Issuer keys from `x5c` (SD-JWT VC issuer key resolution, RFC 7515 §4.1.6): an arbitrary JOSE
//! header and claims never panic the resolver; a key is only returned for a chain that
//! validates against the fixed anchor.
//!
//! The body is the public entry point `idforge_testing::fuzzing::sd_jwt_x5c` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::sd_jwt_x5c(data));
