//! Organizations end to end with npm `openid-client` v6 against a running `idforge serve`: a
//! user shared into a sub-organization logs in at the root (code + PKCE), switches with
//! `genericGrantRequest('organization_switch')`, and the new tokens carry the
//! sub-organization's claims and roles; an application of a self-issuing organization is
//! discovered and used at `{issuer}/o/{org_id}`, its code-flow tokens carrying the
//! organization's claims.
//!
//! The peer is installed by `.ci/oauth.sh` into `$IDFORGE_PEERS_DIR/node`. Without it the test
//! skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use interop_common::{missing_npm, node_report, node_script, peers_ready, Serve};

const CONFIG: &str = r#"
[root]
name = "Acme"

[[organizations]]
id = "eu"
name = "Acme EU"
handle = "acme-eu"

[[organizations]]
id = "eu-sales"
name = "Acme EU Sales"
handle = "eu-sales"
parent = "eu"

[[organizations]]
id = "partner"
name = "Partner"
handle = "partner"
issuer = "self"

[[clients]]
client_id = "app"
client_secret = "app-secret"
redirect_uris = ["http://127.0.0.1:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "organization_switch"]
shared_with = ["*"]

[[clients]]
client_id = "partner-app"
client_secret = "partner-app-secret"
organization = "partner"
redirect_uris = ["http://127.0.0.1:3000/callback"]
grant_types = ["authorization_code"]

[[users]]
username = "alice"
password = "alice-password"
[[users.shares]]
policy = "SELECTED_ORG_WITH_ALL_EXISTING_AND_FUTURE_CHILDREN"
organizations = ["eu"]
roles = ["sales"]

[[users]]
username = "pat"
password = "pat-password"
organization = "partner"
"#;

#[test]
fn openid_client_v6_switches_organizations() {
    let test = "organizations interop with openid-client";
    if !peers_ready(test, missing_npm(&["openid-client"]), ".ci/oauth.sh") {
        return;
    }
    let script = node_script(
        "idforge-orgs-interop.mjs",
        include_str!("interop/orgs_openid_client.mjs"),
    );
    let server = Serve::start("orgs-interop", Some(CONFIG));
    let issuer = server.issuer.clone();
    let report = node_report("openid-client", &script, &[&issuer]);
    assert_eq!(report["ok"], true);
    assert_eq!(report["org_id"], "eu-sales");
    assert_eq!(report["roles"], serde_json::json!(["sales"]));
    assert_eq!(report["org_issuer"], format!("{issuer}/o/partner"));
    assert_eq!(report["partner_org_id"], "partner");
}
