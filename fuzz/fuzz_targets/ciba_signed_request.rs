//! Signed authentication requests (CIBA §7.1.1): arbitrary `request` values through the
//! endpoint (signature, claims, jti), and arbitrary JSON claim sets through the pure claim
//! checks and the claims-to-parameters conversion. Never panics.
//!
//! The body is the public entry point `idforge_testing::fuzzing::ciba_signed_request` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::ciba_signed_request(data));
