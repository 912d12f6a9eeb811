//! HTTP-Redirect decoding (query parsing, percent-decoding, base64, bounded INFLATE, SigAlg)
//! and query-signature verification: never panics, never inflates past the limit.
//!
//! The body is the public entry point `idforge_testing::fuzzing::saml_redirect_decode` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::saml_redirect_decode(data));
