//! The authorization request parser and state machine (RFC 6749 §4.1.1, OIDC Core §3.1.2.1)
//! on arbitrary query strings: never a panic, and a redirect only ever goes to a registered URI.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use idforge_oauth_core::Interaction;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let p = oauth_common::provider();
    let session = oauth_common::session();
    for s in [None, Some(&session)] {
        match oauth_common::block_on(p.authorization.start(data, s)) {
            Interaction::Redirect(r) => {
                assert!(
                    r.redirect_uri == "https://rp.example/cb"
                        || r.redirect_uri.starts_with("http://127.0.0.1"),
                    "redirect to an unregistered URI: {}",
                    r.redirect_uri
                );
                let _ = r.location();
                let _ = r.form_post_html();
            }
            Interaction::Login { .. } | Interaction::Consent { .. } | Interaction::ShowError(_) => {
            }
        }
    }
});
