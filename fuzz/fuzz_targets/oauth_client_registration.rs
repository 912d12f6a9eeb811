//! Client registration rules (issue 18): arbitrary redirect URIs and grant types never panic
//! `Client::validate`, and a client it accepts has no script-capable, non-navigable or
//! fragment-carrying redirect URI, `http` only for loopback hosts and a private-use scheme only
//! when public. The `Authorization` header parser of `/userinfo` (RFC 6750 §2.1) never panics
//! and yields only `b64token` tokens.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_client_registration` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_client_registration(data));
