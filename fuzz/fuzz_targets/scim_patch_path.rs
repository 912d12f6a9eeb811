//! Fuzz the SCIM PATCH path parser (RFC 7644 §3.5.2): no input may panic; whatever parses must
//! print and re-parse to the same path, and validate against the User and Group schemas.
//!
//! The body is the public entry point `idforge_testing::fuzzing::scim_patch_path` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::scim_patch_path(data));
