//! The token request form parser and the token endpoint (RFC 6749 §3.2, §4.1.3, §6): arbitrary
//! bodies and `Authorization` headers never panic; errors carry a registered code and status.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use idforge_oauth_core::{Limits, TokenRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = oauth_common::provider();
    let (auth, body) = oauth_common::header_and_body(data);
    let Ok(req) = TokenRequest::from_form(body, auth, &Limits::default()) else {
        return;
    };
    if let Err(e) = oauth_common::block_on(p.token.handle(&req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
    let _ = oauth_common::block_on(p.introspection.handle(&req));
    let _ = oauth_common::block_on(p.revocation.handle(&req));
});
