//! The pushed authorization request endpoint (RFC 9126 §2): arbitrary bodies and
//! `Authorization` headers never panic; errors carry a registered code and an HTTP status, and
//! a success is a `request_uri` URN that the authorization endpoint accepts exactly once.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use idforge_oauth_core::Interaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = oauth_common::provider();
    let (auth, body) = oauth_common::header_and_body(data);
    match oauth_common::block_on(p.pushed_authorization.handle_form(body, auth.as_deref())) {
        Err(e) => {
            assert!(!e.code().is_empty());
            assert!((400..=503).contains(&e.status()));
        }
        Ok(r) => {
            assert!(r
                .request_uri
                .starts_with("urn:ietf:params:oauth:request_uri:"));
            // RFC 9126 §4: single use.
            let q = |uri: &str| format!("client_id=web&request_uri={uri}");
            let first = oauth_common::block_on(
                p.authorization
                    .start(q(&r.request_uri).as_bytes(), Some(&oauth_common::session())),
            );
            assert!(!matches!(first, Interaction::ShowError(_)), "{first:?}");
            let second = oauth_common::block_on(
                p.authorization
                    .start(q(&r.request_uri).as_bytes(), Some(&oauth_common::session())),
            );
            match second {
                Interaction::Redirect(resp) => assert!(resp.param("error").is_some()),
                Interaction::ShowError(_) => {}
                other => panic!("a request_uri was accepted twice: {other:?}"),
            }
        }
    }
});
