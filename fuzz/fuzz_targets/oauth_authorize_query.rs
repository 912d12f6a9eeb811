//! The authorization request parser and state machine (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)
//! on arbitrary query strings: never a panic, and a redirect only ever goes to a registered URI.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_authorize_query` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_authorize_query(data));
