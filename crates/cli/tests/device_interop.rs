//! Interop of the device authorization grant (RFC 8628) and token exchange (RFC 8693) with npm
//! `openid-client` v6 and `jose` v6 against a running `idforge serve` on loopback:
//! `initiateDeviceAuthorization` + `pollDeviceAuthorizationGrant` with the user approving on
//! `{issuer}/device`, then `genericGrantRequest` token exchanges of a subject token signed by a
//! trusted issuer whose keys jose made (associated local user; `act` with an `actor_token`).
//!
//! The peers are installed by `.ci/oauth.sh` (openid-client) and `.ci/interop.sh` (jose) into
//! `$IDFORGE_PEERS_DIR/node` (default `target/peers/node`). Without them the test skips, unless
//! `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use interop_common::{missing_npm, node, node_report, node_script, peers_ready, Serve};

const TRUSTED: &str = "https://idp.interop.example";

fn config(public_jwk: &serde_json::Value) -> String {
    let jwks = serde_json::json!({ "keys": [public_jwk] }).to_string();
    format!(
        r#"
[device]
interval_seconds = 1

[[trusted_issuers]]
issuer = "{TRUSTED}"
jwks = '{jwks}'
lookup_attributes = ["email"]

[[clients]]
client_id = "tv"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code"]

[[clients]]
client_id = "rp"
client_secret = "rp-secret"
grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange"]
allow_impersonation = true

[[clients]]
client_id = "agent"
client_secret = "agent-secret"
grant_types = ["urn:ietf:params:oauth:grant-type:token-exchange", "client_credentials"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
email = "alice@example.com"
"#
    )
}

#[test]
fn openid_client_device_flow_and_token_exchange_against_idforge_serve() {
    let test = "device/token-exchange interop";
    let missing = missing_npm(&["openid-client", "jose"]);
    if !peers_ready(test, missing, ".ci/oauth.sh and .ci/interop.sh") {
        return;
    }
    let script = node_script(
        "idforge-device-interop.mjs",
        include_str!("interop/device_token_exchange.mjs"),
    );
    let keys = node(&script, &["keygen"]);
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();

    let server = Serve::start("device-interop", Some(&config(&keys["public"])));
    let private = keys["private"].to_string();
    let report = node_report(
        "openid-client",
        &script,
        &["run", &server.issuer, &private, TRUSTED],
    );
    assert_eq!(report["ok"], true);
    assert_eq!(report["device_sub"], "alice");
    assert_eq!(report["exchanged_sub"], "alice");
    assert_eq!(report["act"]["sub"], "agent");
}
