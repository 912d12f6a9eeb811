//! Interop of the OID4VCI credential issuer of `idforge serve` with real peers on loopback:
//! npm `@openid4vc/openid4vci` 0.4.x as the wallet (pre-authorized code with `tx_code`, and the
//! authorization code flow with PKCE through the login form), the `dc+sd-jwt` credential
//! verified with npm `@sd-jwt/sd-jwt-vc` and the Python reference `sd-jwt`, the `jwt_vc_json`
//! one with npm `jose`, and revocation seen in the status list token.
//!
//! Peers are installed by `.ci/oid4vci.sh` into `$IDFORGE_PEERS_DIR` (default `target/peers`).
//! Without them the test skips, unless `IDFORGE_INTEROP=require`.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod interop_common;

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};

use interop_common::{missing_npm, node_report, node_script, peers_dir, peers_ready, Serve};

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

const INSTALL: &str = ".ci/oid4vci.sh";

/// The first missing peer of the wallet leg, Python's `sd-jwt` included.
fn missing_wallet_peers() -> Option<String> {
    missing_npm(&["@openid4vc/openid4vci", "@sd-jwt/sd-jwt-vc", "jose"]).or_else(|| {
        (!peers_dir().join("python/sd_jwt/verifier.py").exists())
            .then(|| "python sd-jwt".to_owned())
    })
}

#[test]
fn openid4vc_wallet_sd_jwt_vc_python_and_jose_against_idforge_serve() {
    if !peers_ready("OID4VCI interop", missing_wallet_peers(), INSTALL) {
        return;
    }
    let script = node_script(
        "idforge-openid4vci-wallet.mjs",
        include_str!("interop/openid4vci_wallet.mjs"),
    );
    let server = Serve::start("oid4vci-interop", Some(CONFIG));
    let report = node_report("@openid4vc wallet", &script, &[&server.issuer]);
    drop(server);
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
    // authorization_details in the code flow: granted with credential_identifiers (§6.2),
    // which the credential endpoint takes (§8.2); the issuer_state is single use (§5.1.3).
    assert_eq!(
        report["code_flow_details"],
        serde_json::json!([{"type": "openid_credential", "credential_configuration_id": "pid",
                            "credential_identifiers": ["pid#1"]}])
    );
    assert_eq!(report["code_flow_details_status"], 200);
    assert_eq!(report["code_flow_details_credentials"], 1);
    assert_eq!(report["code_flow_reused_issuer_state"], "invalid_request");
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
        .env("PYTHONPATH", peers_dir().join("python"))
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

/// Sends a wallet request over a plain HTTP/1.1 connection (loopback, `Connection: close`).
fn send(r: &idforge_oid4vci::wallet::HttpRequest) -> (u16, Vec<u8>) {
    use std::io::Read;
    let rest = r.url.strip_prefix("http://").unwrap();
    let (host, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let path = if path.is_empty() { "/" } else { path };
    let mut s = std::net::TcpStream::connect(host).unwrap();
    let mut head = format!(
        "{} {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\nContent-Length: {}\r\n",
        r.method,
        r.body.len()
    );
    for (k, v) in &r.headers {
        head.push_str(&format!("{k}: {v}\r\n"));
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).unwrap();
    s.write_all(&r.body).unwrap();
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).unwrap();
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").unwrap();
    let status_line = String::from_utf8_lossy(&raw[..split]);
    let status: u16 = status_line.split(' ').nth(1).unwrap().parse().unwrap();
    (status, raw[split + 4..].to_vec())
}

/// idforge's sans-IO wallet client against a stand-in issuer built on `@openid4vc/openid4vci`
/// 0.4.x: offer by value, metadata, pre-authorized code with `tx_code` (anonymous), nonce, a
/// proof signed through the `Signer` port, the credential; verified with `idforge-sd-jwt`.
/// Unencrypted: 0.4.x's issuer classes still expect a draft-era `alg` inside
/// `credential_response_encryption`.
#[test]
fn idforge_wallet_client_against_an_openid4vc_issuer() {
    use idforge_jose::{crypto::EcCurve, JwsAlgorithm, Key, KeySpec, LocalSigner};
    use idforge_oid4vci::wallet::{CredentialOutcome, WalletClient};
    use idforge_oid4vci::CredentialTarget;

    let missing = missing_npm(&["@openid4vc/openid4vci"]);
    if !peers_ready("OID4VCI issuer interop", missing, INSTALL) {
        return;
    }
    let script = node_script(
        "idforge-openid4vci-issuer.mjs",
        include_str!("interop/openid4vci_issuer.mjs"),
    );
    let mut peer = Command::new("node")
        .arg(&script)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(peer.stdout.take().unwrap()).lines();
    let mut field = |name: &str| {
        lines
            .by_ref()
            .map_while(Result::ok)
            .find_map(|l| l.strip_prefix(&format!("{name}: ")).map(str::to_owned))
            .unwrap()
    };
    let issuer = field("issuer");
    let offer_uri = field("offer");
    let tx_code = field("tx_code");
    let issuer_jwk = field("issuer_jwk");

    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let offer = WalletClient::resolve_offer(&offer_uri).unwrap().unwrap();
        assert_eq!(offer.credential_issuer, issuer);
        let (s, b) = send(&WalletClient::metadata_request(&issuer));
        let info = WalletClient::parse_metadata(&issuer, s, &b).unwrap();
        let (s, b) = send(&WalletClient::authorization_server_request(
            &info.authorization_server,
        ));
        let server =
            WalletClient::parse_authorization_server(&info.authorization_server, s, &b).unwrap();
        let wallet = WalletClient::new(None);
        let (s, b) = send(
            &wallet
                .pre_authorized_token_request(&server, &offer, Some("0000"), None)
                .unwrap(),
        );
        assert!(
            WalletClient::parse_token(s, &b).is_err(),
            "a wrong tx_code is refused"
        );
        let (s, b) = send(
            &wallet
                .pre_authorized_token_request(&server, &offer, Some(&tx_code), None)
                .unwrap(),
        );
        let token = WalletClient::parse_token(s, &b).unwrap();
        let (s, b) = send(&WalletClient::nonce_request(&info).unwrap());
        let nonce = WalletClient::parse_nonce(s, &b).unwrap();
        let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let signer = LocalSigner::new(holder.clone(), JwsAlgorithm::ES256).unwrap();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        let proof = rt
            .block_on(wallet.proof(
                &info,
                &signer,
                &holder.public_jwk().unwrap(),
                Some(&nonce),
                now,
            ))
            .unwrap();
        let r = WalletClient::credential_request(
            &info,
            &token,
            &CredentialTarget::Configuration("pid".into()),
            &[proof],
        )
        .unwrap();
        let (s, b) = send(&r);
        let CredentialOutcome::Issued {
            credentials,
            notification_id,
        } = WalletClient::parse_credential(s, &b).unwrap()
        else {
            panic!("deferred")
        };
        assert_eq!(notification_id.as_deref(), Some("n-1"));
        let key = Key::from_json(&issuer_jwk).unwrap();
        let clock = idforge_jose::SystemClock;
        let vc = idforge_sd_jwt::VcVerifier::default()
            .verify(&credentials[0], &key, &clock)
            .unwrap();
        assert_eq!(vc.vct, "urn:example:pid");
        assert_eq!(vc.sd_jwt.claims["given_name"], "Alice");
        assert_eq!(
            vc.sd_jwt.claims["cnf"]["jwk"],
            holder.public_jwk().unwrap().to_value()
        );
    }));
    let _ = peer.kill();
    let _ = peer.wait();
    if let Err(e) = result {
        std::panic::resume_unwind(e);
    }
}
