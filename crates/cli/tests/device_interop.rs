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

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const TRUSTED: &str = "https://idp.interop.example";

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

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
    let node_dir = peers_dir().join("node");
    let installed = ["openid-client", "jose"].iter().all(|p| {
        node_dir
            .join(format!("node_modules/{p}/package.json"))
            .exists()
    });
    if !installed || Command::new("node").arg("--version").output().is_err() {
        if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
            panic!("openid-client or jose is not installed (IDFORGE_INTEROP=require; run .ci/oauth.sh and .ci/interop.sh)");
        }
        eprintln!("SKIP device/token-exchange interop: peers not installed; run .ci/oauth.sh and .ci/interop.sh");
        return;
    }
    // The script sits beside node_modules so its imports resolve there.
    let script = node_dir.join("idforge-device-interop.mjs");
    std::fs::write(&script, include_str!("interop/device_token_exchange.mjs")).unwrap();

    let keys = Command::new("node")
        .arg(&script)
        .arg("keygen")
        .output()
        .unwrap();
    assert!(
        keys.status.success(),
        "{}",
        String::from_utf8_lossy(&keys.stderr)
    );
    let keys: serde_json::Value = serde_json::from_slice(&keys.stdout).unwrap();

    let dir = std::env::temp_dir().join(format!("idforge-device-interop-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let config_path = dir.join("idp.toml");
    std::fs::write(&config_path, config(&keys["public"])).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(["serve", "--addr", "127.0.0.1:0", "--config"])
        .arg(&config_path)
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
        .args(["run", &issuer, &keys["private"].to_string(), TRUSTED])
        .output()
        .unwrap();
    let _ = server.kill();
    let _ = server.wait();
    let _ = std::fs::remove_dir_all(&dir);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openid-client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["device_sub"], "alice");
    assert_eq!(report["exchanged_sub"], "alice");
    assert_eq!(report["act"]["sub"], "agent");
}
