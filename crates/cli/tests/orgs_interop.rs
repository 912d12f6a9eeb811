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

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

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

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

#[test]
fn openid_client_v6_switches_organizations() {
    let node_dir = peers_dir().join("node");
    if !node_dir
        .join("node_modules/openid-client/package.json")
        .exists()
        || Command::new("node").arg("--version").output().is_err()
    {
        if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
            panic!("openid-client is not installed (IDFORGE_INTEROP=require; run .ci/oauth.sh)");
        }
        eprintln!("SKIP organizations interop with openid-client: not installed; run .ci/oauth.sh");
        return;
    }
    let script = node_dir.join("idforge-orgs-interop.mjs");
    std::fs::write(&script, include_str!("interop/orgs_openid_client.mjs")).unwrap();
    let config = std::env::temp_dir().join(format!("idforge-orgs-{}.toml", std::process::id()));
    std::fs::write(&config, CONFIG).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(server.stdout.take().unwrap()).lines();
    let issuer = lines
        .by_ref()
        .map_while(Result::ok)
        .find_map(|l| l.strip_prefix("issuer: ").map(str::to_owned))
        .unwrap();
    std::thread::spawn(move || for _ in lines {});

    let out = Command::new("node")
        .arg(&script)
        .arg(&issuer)
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_file(&config);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openid-client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["org_id"], "eu-sales");
    assert_eq!(report["roles"], serde_json::json!(["sales"]));
    assert_eq!(report["org_issuer"], format!("{issuer}/o/partner"));
    assert_eq!(report["partner_org_id"], "partner");
}
