//! Interop with npm `openid-client` v6 against a running `idforge serve` on loopback:
//! discovery, code + PKCE through the HTML login form, ID token checks, UserInfo, refresh with
//! rotation and reuse refusal, introspection, revocation, client credentials.
//!
//! The peer is installed by `.ci/oauth.sh` into `$IDFORGE_PEERS_DIR/node` (default
//! `target/peers/node`). Without it the test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

#[test]
fn openid_client_v6_against_idforge_serve() {
    let node_dir = peers_dir().join("node");
    if !node_dir
        .join("node_modules/openid-client/package.json")
        .exists()
        || Command::new("node").arg("--version").output().is_err()
    {
        if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
            panic!("openid-client is not installed (IDFORGE_INTEROP=require; run .ci/oauth.sh)");
        }
        eprintln!("SKIP interop with openid-client: not installed; run .ci/oauth.sh");
        return;
    }
    // The script sits beside node_modules so `import 'openid-client'` resolves there.
    let script = node_dir.join("idforge-oauth-interop.mjs");
    std::fs::write(&script, include_str!("interop/openid_client.mjs")).unwrap();

    let mut server = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(["serve", "--addr", "127.0.0.1:0"])
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
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "openid-client failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true);
    assert_eq!(report["sub"], "alice");
    assert_eq!(report["revoked"], true);
}
