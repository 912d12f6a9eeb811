//! The pushed authorization request endpoint (RFC 9126 §2): arbitrary bodies and
//! `Authorization` headers never panic; errors carry a registered code and an HTTP status, and
//! a success is a `request_uri` URN that the authorization endpoint accepts exactly once.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_par_form` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_par_form(data));
