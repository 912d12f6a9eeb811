//! The CLI under hostile input: numeric bounds exit 2 with the subcommand's usage, `jwk
//! public` / `jwk thumbprint` validate like `--key`, duplicate JWK members are refused
//! everywhere, error lines name their code once, "an EC key", `serve --addr localhost:PORT`
//! and its start-up lines.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Output, Stdio};

fn run(args: &[&str], stdin: &str) -> Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    child.wait_with_output().unwrap()
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

const OFF_CURVE: &str = r#"{"kty":"EC","crv":"P-256","x":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA","y":"AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}"#;

#[test]
fn numeric_bounds_are_usage_errors_with_the_subcommands_usage() {
    for args in [
        &["jwk", "generate", "--kty", "RSA", "--size", "16384"][..],
        &["jwk", "generate", "--kty", "RSA", "--size", "1024"],
        &["jwk", "generate", "--kty", "oct", "--size", "800000"],
    ] {
        let o = run(args, "");
        assert_eq!(o.status.code(), Some(2), "{args:?}: {}", stderr(&o));
        assert!(
            stderr(&o).contains("Usage: idforge jwk generate"),
            "{args:?}: {}",
            stderr(&o)
        );
        assert!(o.stdout.is_empty());
    }
    let o = run(
        &[
            "sd-jwt", "issue", "--key", "k", "--claims", "c", "--decoys", "1000000",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
    assert!(stderr(&o).contains("--decoys"));
}

#[test]
fn jwk_public_and_thumbprint_validate_the_key() {
    for cmd in ["public", "thumbprint"] {
        let o = run(&["jwk", cmd], OFF_CURVE);
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        let e = stderr(&o);
        // The code once: not `error: invalid_key: invalid key: ...`.
        assert!(e.starts_with("error: invalid_key: "), "{e}");
        assert!(!e.contains("invalid key:"), "{e}");
        assert!(o.stdout.is_empty());
    }
}

#[test]
fn duplicate_jwk_members_are_refused_everywhere() {
    let dup = r#"{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LTEyMzQ","k":"b3RoZXI"}"#;
    for cmd in ["public", "thumbprint"] {
        let o = run(&["jwk", cmd], dup);
        assert_eq!(o.status.code(), Some(1), "{cmd}");
        assert!(stderr(&o).contains("duplicate member"), "{}", stderr(&o));
    }
    let dir = std::env::temp_dir().join(format!("idforge-hardening-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("dup.jwk");
    std::fs::write(&key, dup).unwrap();
    let o = run(
        &[
            "jws",
            "sign",
            "--key",
            key.to_str().unwrap(),
            "--alg",
            "HS256",
        ],
        "payload",
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(stderr(&o).contains("duplicate member"), "{}", stderr(&o));
}

#[test]
fn key_type_grammar() {
    let o = run(&["jwk", "generate", "--kty", "EC", "--alg", "RS256"], "");
    assert_eq!(o.status.code(), Some(1));
    assert!(
        stderr(&o).contains("does not fit an EC key"),
        "{}",
        stderr(&o)
    );
}

#[test]
fn serve_accepts_localhost_and_prints_what_it_runs_with() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_idforge"))
        .args(["serve", "--addr", "localhost:0"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut seen = Vec::new();
    for line in BufReader::new(child.stdout.take().unwrap()).lines() {
        let line = line.unwrap();
        let done = line.starts_with("limits: ");
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let text = seen.join("\n");
    assert!(text.contains("config: built-in demo"), "{text}");
    assert!(text.contains("listening on http://127.0.0.1:"), "{text}");
    assert!(text.contains("/jwks.json"), "{text}");
}

#[test]
fn sd_jwt_verify_without_aud_and_nonce_says_so() {
    let dir = std::env::temp_dir().join(format!("idforge-hardening-sd-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = |n: &str| dir.join(n).to_str().unwrap().to_owned();
    let out = |args: &[&str], stdin: &str| {
        let o = run(args, stdin);
        assert_eq!(o.status.code(), Some(0), "{args:?}: {}", stderr(&o));
        String::from_utf8(o.stdout).unwrap()
    };
    let issuer = out(&["jwk", "generate", "--kty", "EC"], "");
    std::fs::write(path("issuer.json"), &issuer).unwrap();
    std::fs::write(path("issuer.pub.json"), out(&["jwk", "public"], &issuer)).unwrap();
    std::fs::write(
        path("holder.json"),
        out(&["jwk", "generate", "--kty", "EC"], ""),
    )
    .unwrap();
    std::fs::write(path("claims.json"), r#"{"given_name":"Erika"}"#).unwrap();
    let cred = out(
        &[
            "sd-jwt",
            "issue",
            "--key",
            &path("issuer.json"),
            "--claims",
            &path("claims.json"),
            "--sd",
            "/given_name",
            "--holder-key",
            &path("holder.json"),
        ],
        "",
    );
    let presentation = out(
        &[
            "sd-jwt",
            "present",
            "--disclose",
            "/given_name",
            "--holder-key",
            &path("holder.json"),
            "--aud",
            "https://verifier.example",
            "--nonce",
            "n-1",
        ],
        &cred,
    );
    let unbound = run(
        &["sd-jwt", "verify", "--issuer-key", &path("issuer.pub.json")],
        &presentation,
    );
    assert_eq!(unbound.status.code(), Some(0), "{}", stderr(&unbound));
    assert!(
        stderr(&unbound).contains("checked without an audience or nonce"),
        "{}",
        stderr(&unbound)
    );
    let bound = run(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &path("issuer.pub.json"),
            "--aud",
            "https://verifier.example",
            "--nonce",
            "n-1",
        ],
        &presentation,
    );
    assert_eq!(bound.status.code(), Some(0), "{}", stderr(&bound));
    assert!(stderr(&bound).is_empty(), "{}", stderr(&bound));
}

#[test]
fn saml_urls_must_be_http_or_https() {
    for (flag, value) in [
        ("--acs-url", "javascript:alert(1)"),
        ("--idp-sso-url", "data:text/html,x"),
        ("--acs-url", "https://"),
    ] {
        let mut args = vec![
            "saml",
            "authn-request",
            "--sp-entity-id",
            "https://sp.example",
            "--acs-url",
            "https://sp.example/acs",
            "--idp-sso-url",
            "https://idp.example/sso",
        ];
        let at = args.iter().position(|a| *a == flag).unwrap();
        args[at + 1] = value;
        let o = run(&args, "");
        assert_eq!(o.status.code(), Some(2), "{flag} {value}: {}", stderr(&o));
        assert!(o.stdout.is_empty());
    }
    let o = run(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            "https://sp.example",
            "--acs-url",
            "vbscript:x",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(2), "{}", stderr(&o));
}

#[test]
fn sign_and_encrypt_refuse_what_verify_and_decrypt_would() {
    let dir = std::env::temp_dir().join(format!("idforge-hardening-size-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("oct.json");
    let o = run(&["jwk", "generate", "--kty", "oct"], "");
    std::fs::write(&key, &o.stdout).unwrap();
    let key = key.to_str().unwrap();
    let big = "a".repeat(900 * 1024);
    let o = run(&["jws", "sign", "--key", key, "--alg", "HS256"], &big);
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: limit_exceeded: "),
        "{}",
        stderr(&o)
    );
    assert!(o.stdout.is_empty());
    let o = run(
        &[
            "jwe", "encrypt", "--key", key, "--alg", "dir", "--enc", "A256GCM",
        ],
        &big,
    );
    assert_eq!(o.status.code(), Some(1), "{}", stderr(&o));
    assert!(
        stderr(&o).starts_with("error: limit_exceeded: "),
        "{}",
        stderr(&o)
    );
    // Below the limit both round-trip.
    let o = run(&["jws", "sign", "--key", key, "--alg", "HS256"], "small");
    assert_eq!(o.status.code(), Some(0));
    let token = String::from_utf8(o.stdout).unwrap();
    let o = run(&["jws", "verify", "--key", key], &token);
    assert_eq!(o.stdout, b"small");
}

#[test]
fn pbes2_is_reachable_from_the_cli() {
    let dir = std::env::temp_dir().join(format!("idforge-hardening-pbes2-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let key = dir.join("password.json");
    let o = run(
        &[
            "jwk",
            "generate",
            "--kty",
            "oct",
            "--alg",
            "PBES2-HS256+A128KW",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    std::fs::write(&key, &o.stdout).unwrap();
    let key = key.to_str().unwrap();
    let o = run(
        &[
            "jwe",
            "encrypt",
            "--key",
            key,
            "--alg",
            "PBES2-HS256+A128KW",
            "--enc",
            "A128GCM",
        ],
        "secret",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    let token = String::from_utf8(o.stdout).unwrap();
    let o = run(&["jwe", "decrypt", "--key", key], &token);
    assert_eq!(o.stdout, b"secret", "{}", stderr(&o));
}

#[test]
fn saml_test_idp_files_verify_end_to_end() {
    let dir = std::env::temp_dir().join(format!("idforge-hardening-saml-{}", std::process::id()));
    let out = dir.to_str().unwrap();
    let o = run(
        &[
            "saml",
            "test-idp",
            "--out",
            out,
            "--sp-entity-id",
            "https://sp.example.com",
            "--acs-url",
            "https://sp.example.com/acs",
            "--request-id",
            "_abc123",
        ],
        "",
    );
    assert_eq!(o.status.code(), Some(0), "{}", stderr(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("idforge saml verify-response"));
    let response = std::fs::read_to_string(dir.join("response.b64")).unwrap();
    let metadata = dir.join("idp-metadata.xml");
    let cert = dir.join("idp.pem");
    for trust in [
        ["--idp-metadata", metadata.to_str().unwrap()],
        ["--idp-cert", cert.to_str().unwrap()],
    ] {
        let o = run(
            &[
                "saml",
                "verify-response",
                trust[0],
                trust[1],
                "--sp-entity-id",
                "https://sp.example.com",
                "--acs-url",
                "https://sp.example.com/acs",
                "--request-id",
                "_abc123",
            ],
            &response,
        );
        assert_eq!(o.status.code(), Some(0), "{trust:?}: {}", stderr(&o));
        let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
        assert_eq!(v["name_id"], "alice@example.org");
    }
    // Another request id: refused.
    let o = run(
        &[
            "saml",
            "verify-response",
            "--idp-metadata",
            metadata.to_str().unwrap(),
            "--sp-entity-id",
            "https://sp.example.com",
            "--acs-url",
            "https://sp.example.com/acs",
            "--request-id",
            "_other",
        ],
        &response,
    );
    assert_eq!(o.status.code(), Some(1));
    let _ = std::fs::remove_dir_all(&dir);
}
