//! The backchannel authentication request (CIBA §7.1): arbitrary form bodies and
//! `Authorization` headers never panic, through the pure validation and the whole endpoint;
//! errors carry a registered code and status.
//!
//! The body is the public entry point `idforge_testing::fuzzing::ciba_backchannel_form` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::ciba_backchannel_form(data));
