//! The end-session endpoint's request parser (RP-Initiated Logout 1.0 §2): arbitrary query
//! bytes (`id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`, `ui_locales`,
//! `logout_hint`) against a browser with a live session. Never panics; errors carry a
//! registered code and a 4xx status; a redirect only ever goes to a registered
//! `post_logout_redirect_uri`; a confirmation request survives a serde round trip.
//!
//! The body is the public entry point `idforge_testing::fuzzing::oauth_end_session` (feature `fuzzing`),
//! which users' own fuzz targets call the same way.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| idforge_testing::fuzzing::oauth_end_session(data));
