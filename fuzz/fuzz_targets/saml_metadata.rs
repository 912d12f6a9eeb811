//! IdP metadata parsing, unpinned and pinned to the fixed key: never panics; pinned success
//! implies a verified signature.
//!
//! The body is the public entry point `idforge_testing::fuzzing::saml_metadata` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::saml_metadata(data));
