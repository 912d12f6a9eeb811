//! The token request form parser and the token endpoint (RFC 6749 §3.2, §4.1.3, §6): arbitrary
//! bodies and `Authorization` headers never panic; errors carry a registered code and status.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_token_form` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_token_form(data));
