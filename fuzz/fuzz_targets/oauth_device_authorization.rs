//! The device authorization grant's parsers (RFC 8628): the device authorization request form
//! (§3.1) through the endpoint, the app-native JSON submission, and user-code input (§6.1).
//! Arbitrary input never panics; errors carry a registered code and status; a parsed user code
//! is always 8 characters of the RFC 8628 §6.1 alphabet.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_device_authorization` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_device_authorization(data));
