//! Logout interop with real peers against a running `idforge serve` on loopback: npm
//! `openid-client` v6's `buildEndSessionUrl` is honoured (RP-Initiated Logout 1.0), and the
//! Logout Token POSTed to a local listener verifies with npm `jose` against the provider's
//! JWKS under the rules of Back-Channel Logout 1.0 §2.6.
//!
//! The peers are installed by `.ci/oauth.sh` and `.ci/sessions.sh` into
//! `$IDFORGE_PEERS_DIR/node`. Without them the test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use interop_common::{missing_npm, node_report, node_script, peers_ready, Serve};

#[test]
fn openid_client_logout_and_jose_verified_logout_token() {
    let test = "logout interop with openid-client and jose";
    if !peers_ready(
        test,
        missing_npm(&["openid-client", "jose"]),
        ".ci/oauth.sh and .ci/sessions.sh",
    ) {
        return;
    }
    // A free port for the RP's back-channel listener (the Node script listens on it).
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let config = format!(
        r#"
[[clients]]
client_id = "rp"
client_secret = "rp-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]
post_logout_redirect_uris = ["http://127.0.0.1:3000/bye"]
backchannel_logout_uri = "http://127.0.0.1:{port}/backchannel"
backchannel_logout_session_required = true

[[users]]
username = "alice"
password = "alice-password"
"#
    );
    let script = node_script(
        "idforge-sessions-interop.mjs",
        include_str!("interop/sessions_logout.mjs"),
    );
    let server = Serve::start("sessions-interop", Some(&config));
    let report = node_report(
        "openid-client + jose logout",
        &script,
        &[&server.issuer, &port.to_string()],
    );
    assert_eq!(report["ok"], true);
    assert_eq!(report["sub"], "alice");
}
