//! The token exchange request parser (RFC 8693 §2.1) and the grant on arbitrary forms and
//! `Authorization` headers: never a panic; errors carry a registered code and status; a parsed
//! request always has a subject token of a supported type.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_token_exchange` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_token_exchange(data));
