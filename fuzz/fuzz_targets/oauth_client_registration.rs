//! Client registration rules (issue 18): arbitrary redirect URIs and grant types never panic
//! `Client::validate`, and a client it accepts has no script-capable, non-navigable or
//! fragment-carrying redirect URI, `http` only for loopback hosts and a private-use scheme only
//! when public. The `Authorization` header parser of `/userinfo` (RFC 6750 §2.1) never panics
//! and yields only `b64token` tokens.
#![no_main]

use idforge_oauth_core::endpoint::userinfo::{parse_bearer, BearerCredentials};
use idforge_oauth_core::Client;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let mut lines = text.lines();
    let public = lines.next().is_some_and(|l| l.starts_with('p'));
    let (mut uris, mut grants) = (Vec::new(), Vec::new());
    for l in lines {
        match l.strip_prefix("g=") {
            Some(g) => grants.push(g.to_owned()),
            None => uris.push(l.to_owned()),
        }
    }
    let mut client = if public {
        Client::public("c")
    } else {
        Client::confidential("c", "s")
    };
    if !grants.is_empty() {
        client = client.with_grant_types(grants);
    }
    for u in &uris {
        client = client.with_redirect_uri(u.clone());
    }
    if client.validate().is_ok() {
        for u in &uris {
            let lower = u.to_ascii_lowercase();
            let scheme = lower.split(':').next().unwrap_or("");
            assert!(!u.contains('#'), "{u}");
            assert!(
                !["javascript", "data", "vbscript", "file", "blob", "about"].contains(&scheme),
                "{u}"
            );
            if scheme == "http" {
                let host = lower[7..].split(['/', '?']).next().unwrap_or("");
                assert!(
                    host.starts_with("127.") || host.starts_with("[::1]") || host.starts_with("localhost"),
                    "{u}"
                );
            }
            if scheme != "http" && scheme != "https" {
                assert!(public, "{u}");
            }
        }
    }
    if let BearerCredentials::Token(t) = parse_bearer(&text) {
        assert!(!t.is_empty());
        assert!(t
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)));
    }
});
