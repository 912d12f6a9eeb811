//! The `idforge sd-jwt` contract of issue 3: issue / present / verify / decode, exit codes
//! (0 success; 1 rejected with one `error: <code>...` line on stderr and nothing on stdout;
//! 2 usage error).

mod common;
use common::{fails_with, idforge, ok_text as ok, TempDir as Dir};

use serde_json::{json, Value};

struct Setup {
    dir: Dir,
    issuer: String,
    issuer_pub: String,
    holder: String,
    claims: String,
}

fn setup(name: &str) -> Setup {
    let dir = Dir::new(name);
    let issuer_jwk = ok(&["jwk", "generate", "--kty", "EC"], b"");
    let issuer = dir.write("issuer.json", issuer_jwk.as_bytes());
    let issuer_pub = dir.write(
        "issuer.pub.json",
        ok(&["jwk", "public"], issuer_jwk.as_bytes()).as_bytes(),
    );
    let holder = dir.write(
        "holder.json",
        ok(&["jwk", "generate", "--kty", "OKP"], b"").as_bytes(),
    );
    let claims = json!({
        "iss": "https://issuer.example", "given_name": "Erika", "family_name": "Mustermann",
        "address": {"street": "Heidestr. 17", "locality": "Köln"}, "nationalities": ["DE", "FR"]
    });
    let claims = dir.write("claims.json", claims.to_string().as_bytes());
    Setup {
        dir,
        issuer,
        issuer_pub,
        holder,
        claims,
    }
}

fn issue(s: &Setup, extra: &[&str]) -> String {
    let mut args = vec![
        "sd-jwt",
        "issue",
        "--key",
        &s.issuer,
        "--claims",
        &s.claims,
        "--sd",
        "/given_name",
        "--sd",
        "/address",
        "--sd",
        "/address/street",
        "--sd",
        "/nationalities/1",
    ];
    args.extend_from_slice(extra);
    ok(&args, b"")
}

#[test]
fn issue_present_verify_with_key_binding() {
    let s = setup("kb");
    let sd_jwt = issue(
        &s,
        &[
            "--holder-key",
            &s.holder,
            "--vct",
            "https://vct.example/pid",
            "--decoys",
            "2",
        ],
    );
    assert!(sd_jwt.trim_end().ends_with('~'));
    let presentation = ok(
        &[
            "sd-jwt",
            "present",
            "--disclose",
            "/address/street",
            "--holder-key",
            &s.holder,
            "--aud",
            "https://v.example",
            "--nonce",
            "n-1",
        ],
        sd_jwt.as_bytes(),
    );
    let claims: Value = serde_json::from_str(&ok(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &s.issuer_pub,
            "--aud",
            "https://v.example",
            "--nonce",
            "n-1",
        ],
        presentation.as_bytes(),
    ))
    .expect("json");
    assert_eq!(
        claims["address"],
        json!({"street": "Heidestr. 17", "locality": "Köln"})
    );
    assert_eq!(claims["vct"], "https://vct.example/pid");
    assert_eq!(claims["nationalities"], json!(["DE"]));
    assert!(claims.get("given_name").is_none());
    // Wrong nonce, wrong audience, no KB-JWT when one is required.
    fails_with(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &s.issuer_pub,
            "--aud",
            "https://v.example",
            "--nonce",
            "n-2",
        ],
        presentation.as_bytes(),
        "invalid_nonce",
    );
    fails_with(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &s.issuer_pub,
            "--aud",
            "https://x.example",
            "--nonce",
            "n-1",
        ],
        presentation.as_bytes(),
        "invalid_audience",
    );
    fails_with(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &s.issuer_pub,
            "--aud",
            "https://v.example",
            "--nonce",
            "n-1",
        ],
        sd_jwt.as_bytes(),
        "key_binding_required",
    );
    // Dropping a Disclosure after key binding breaks sd_hash.
    let parts: Vec<&str> = presentation.trim().split('~').collect();
    let tampered = format!("{}~{}", parts[0], parts[parts.len() - 1]);
    fails_with(
        &[
            "sd-jwt",
            "verify",
            "--issuer-key",
            &s.issuer_pub,
            "--aud",
            "https://v.example",
            "--nonce",
            "n-1",
        ],
        tampered.as_bytes(),
        "sd_hash_mismatch",
    );
}

#[test]
fn present_without_key_binding_and_verify_everything() {
    let s = setup("plain");
    let sd_jwt = issue(&s, &[]);
    let all: Value = serde_json::from_str(&ok(
        &["sd-jwt", "verify", "--issuer-key", &s.issuer_pub],
        sd_jwt.as_bytes(),
    ))
    .expect("json");
    assert_eq!(all["given_name"], "Erika");
    assert_eq!(all["nationalities"], json!(["DE", "FR"]));
    let p = ok(
        &["sd-jwt", "present", "--disclose", "/given_name"],
        sd_jwt.as_bytes(),
    );
    let some: Value = serde_json::from_str(&ok(
        &["sd-jwt", "verify", "--issuer-key", &s.issuer_pub],
        p.as_bytes(),
    ))
    .expect("json");
    assert_eq!(some["given_name"], "Erika");
    assert!(some.get("address").is_none());
    // The issuer's key is not the holder's.
    let other = s.dir.write(
        "other.json",
        ok(
            &["jwk", "public"],
            ok(&["jwk", "generate", "--kty", "EC"], b"").as_bytes(),
        )
        .as_bytes(),
    );
    fails_with(
        &["sd-jwt", "verify", "--issuer-key", &other],
        p.as_bytes(),
        "invalid_signature",
    );
    fails_with(
        &["sd-jwt", "verify", "--issuer-key", &s.issuer_pub],
        b"not an sd-jwt",
        "malformed",
    );
    fails_with(
        &["sd-jwt", "present", "--disclose", "/nope"],
        sd_jwt.as_bytes(),
        "invalid_path",
    );
}

#[test]
fn decode_shows_payload_and_disclosures() {
    let s = setup("decode");
    let sd_jwt = issue(&s, &["--holder-key", &s.holder]);
    let d: Value =
        serde_json::from_str(&ok(&["sd-jwt", "decode"], sd_jwt.as_bytes())).expect("json");
    assert_eq!(d["payload"]["_sd_alg"], "sha-256");
    assert_eq!(d["payload"]["iss"], "https://issuer.example");
    assert_eq!(d["disclosures"].as_array().expect("array").len(), 4);
    let names: Vec<&str> = d["disclosures"]
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|x| x["name"].as_str())
        .collect();
    assert!(names.contains(&"given_name") && names.contains(&"street"));
    assert!(d["payload"]["cnf"]["jwk"]["x"].is_string());
    fails_with(&["sd-jwt", "decode"], b"x.y.z", "malformed");
}

#[test]
fn issue_refusals_and_usage_errors() {
    let s = setup("refuse");
    fails_with(
        &[
            "sd-jwt", "issue", "--key", &s.issuer, "--claims", &s.claims, "--sd", "/missing",
        ],
        b"",
        "invalid_path",
    );
    fails_with(
        &[
            "sd-jwt", "issue", "--key", &s.issuer, "--claims", &s.claims, "--sd", "/iss", "--vct",
            "v",
        ],
        b"",
        "never_disclosable",
    );
    fails_with(
        &[
            "sd-jwt",
            "issue",
            "--key",
            &s.issuer_pub,
            "--claims",
            &s.claims,
        ],
        b"",
        "key_not_found",
    );
    let bad = s.dir.write("bad.json", b"[1]");
    fails_with(
        &["sd-jwt", "issue", "--key", &s.issuer, "--claims", &bad],
        b"",
        "malformed",
    );
    assert_eq!(
        idforge(&["sd-jwt", "issue", "--claims", &s.claims], b"")
            .status
            .code(),
        Some(2),
        "missing --key"
    );
    assert_eq!(
        idforge(&["sd-jwt", "present", "--holder-key", &s.holder], b"")
            .status
            .code(),
        Some(2),
        "--holder-key needs --aud and --nonce"
    );
    assert_eq!(
        idforge(
            &[
                "sd-jwt",
                "verify",
                "--issuer-key",
                &s.issuer_pub,
                "--aud",
                "a"
            ],
            b""
        )
        .status
        .code(),
        Some(2),
        "--aud needs --nonce"
    );
}
