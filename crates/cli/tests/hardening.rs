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
