//! Interop with npm `openid-client` v6 against a running `idforge serve` on loopback:
//! discovery, code + PKCE through the HTML login form, ID token checks, UserInfo, refresh with
//! rotation and reuse refusal, introspection, revocation, client credentials.
//!
//! The peer is installed by `.ci/oauth.sh` into `$IDFORGE_PEERS_DIR/node` (default
//! `target/peers/node`). Without it the test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use interop_common::{missing_npm, node_report, node_script, peers_ready, Serve};

#[test]
fn openid_client_v6_against_idforge_serve() {
    let test = "interop with openid-client";
    if !peers_ready(test, missing_npm(&["openid-client"]), ".ci/oauth.sh") {
        return;
    }
    let script = node_script(
        "idforge-oauth-interop.mjs",
        include_str!("interop/openid_client.mjs"),
    );
    let server = Serve::start("oauth-interop", None);
    let report = node_report("openid-client", &script, &[&server.issuer]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["sub"], "alice");
    assert_eq!(report["revoked"], true);
}
