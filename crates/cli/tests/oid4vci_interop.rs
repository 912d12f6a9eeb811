//! Interop of the OID4VCI credential issuer of `idforge serve` with real peers on loopback:
//! npm `@openid4vc/openid4vci` 0.4.x as the wallet (pre-authorized code with `tx_code`, and the
//! authorization code flow with PKCE through the login form), the `dc+sd-jwt` credential
//! verified with npm `@sd-jwt/sd-jwt-vc` and the Python reference `sd-jwt`, the `jwt_vc_json`
//! one with npm `jose`, and revocation seen in the status list token.
//!
//! Peers are installed by `.ci/oid4vci.sh` into `$IDFORGE_PEERS_DIR` (default `target/peers`).
//! Without them the test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Command, Stdio};

const CONFIG: &str = r#"
[credential_issuer]

[[credential_templates]]
id = "pid"
format = "dc+sd-jwt"
vct = "urn:eudi:pid:1"
scope = "pid"
claims = [{ path = "given_name", mandatory = true }, { path = "family_name" }, { path = "address.locality" }]
selectively_disclosable = ["given_name", "family_name", "address.locality"]

[[credential_templates]]
id = "diploma"
format = "jwt_vc_json"
types = ["UniversityDegreeCredential"]
claims = [{ path = "given_name" }]

[[clients]]
client_id = "backoffice"
client_secret = "backoffice-secret"
grant_types = ["client_credentials"]
scopes = ["credential_offers"]

[[clients]]
client_id = "eu-wallet"
template = "wallet"
redirect_uris = ["eu.wallet://callback"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
given_name = "Alice"
family_name = "Liddell"
address = { locality = "Oxford" }
"#;

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

fn skip(why: &str) {
    if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
        panic!(
            "OID4VCI interop peers missing ({why}); IDFORGE_INTEROP=require; run .ci/oid4vci.sh"
        );
    }
    eprintln!("SKIP OID4VCI interop: {why}; run .ci/oid4vci.sh");
}

#[test]
fn openid4vc_wallet_sd_jwt_vc_python_and_jose_against_idforge_serve() {
    let peers = peers_dir();
    let node_dir = peers.join("node");
    let python_dir = peers.join("python");
    for needed in [
        "@openid4vc/openid4vci/package.json",
        "@sd-jwt/sd-jwt-vc/package.json",
        "jose/package.json",
    ] {
        if !node_dir.join("node_modules").join(needed).exists() {
            return skip(&format!("{needed} not installed"));
        }
    }
    if !python_dir.join("sd_jwt/verifier.py").exists() {
        return skip("python sd-jwt not installed");
    }
    if Command::new("node").arg("--version").output().is_err() {
        return skip("node not found");
    }
    // The script sits beside node_modules so its imports resolve there.
    let script = node_dir.join("idforge-openid4vci-wallet.mjs");
    std::fs::write(&script, include_str!("interop/openid4vci_wallet.mjs")).unwrap();
    let config = std::env::temp_dir().join(format!("idforge-oid4vci-{}.toml", std::process::id()));
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
        "@openid4vc wallet failed:\n{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_str(stdout.trim()).unwrap();
    assert_eq!(report["ok"], true);
    // @sd-jwt/sd-jwt-vc verified the SD-JWT VC and disclosed everything.
    assert_eq!(report["sd_jwt_vct"], "urn:eudi:pid:1");
    assert_eq!(report["sd_jwt_claims"]["given_name"], "Alice");
    assert_eq!(report["sd_jwt_claims"]["address"]["locality"], "Oxford");
    // jose verified the JWT VC, bound to the wallet's key, with the published kid.
    assert_eq!(report["jwt_vc_types"][1], "UniversityDegreeCredential");
    assert_eq!(report["jwt_vc_cnf_matches"], true);
    assert_eq!(report["jwt_vc_kid"], report["issuer_jwk"]["kid"]);
    assert_eq!(report["code_flow_credentials"], 1);
    // Revocation shows in the status list token.
    assert_eq!(
        report["status_list_content_type"],
        "application/statuslist+jwt"
    );
    assert_eq!(report["status_before"], 0);
    assert_eq!(report["status_after"], 1);

    // The Python reference verifies the same SD-JWT VC with the issuer's published key.
    let mut py = Command::new("python3")
        .arg(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/tests/interop/sd_jwt_verify.py"
        ))
        .env("PYTHONPATH", &python_dir)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let job = serde_json::json!({"sd_jwt": report["sd_jwt"], "issuer_jwk": report["issuer_jwk"]});
    py.stdin
        .take()
        .unwrap()
        .write_all(job.to_string().as_bytes())
        .unwrap();
    let out = py.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "python sd-jwt failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let claims: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(claims["given_name"], "Alice");
    assert_eq!(claims["family_name"], "Liddell");
    assert_eq!(claims["vct"], "urn:eudi:pid:1");
}
