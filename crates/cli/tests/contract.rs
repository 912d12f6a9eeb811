//! The CLI contract of issue 2: commands, flags, stdout/stderr shape and exit codes
//! (0 success; 1 failure with one `error: <code>...` line on stderr and nothing on stdout;
//! 2 usage error).

#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;
use common::{fails_with, idforge, ok, TempDir};
use std::path::Path;

fn generate(dir: &TempDir, name: &str, args: &[&str]) -> String {
    let mut full = vec!["jwk", "generate"];
    full.extend_from_slice(args);
    let jwk = ok(&full, b"");
    dir.write(name, &jwk)
}

#[test]
fn help_and_usage_errors() {
    assert!(idforge(&["--help"], b"").status.success());
    assert_eq!(
        idforge(&["jwk", "generate", "--kty", "DSA"], b"")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        idforge(&["jwk", "generate", "--kty", "EC", "--crv", "Ed25519"], b"")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        idforge(&["jwk", "generate", "--kty", "RSA", "--crv", "P-256"], b"")
            .status
            .code(),
        Some(2)
    );
    assert_eq!(
        idforge(&["jws", "sign", "--alg", "ES256"], b"")
            .status
            .code(),
        Some(2),
        "missing --key"
    );
    assert_eq!(idforge(&["nonsense"], b"").status.code(), Some(2));
}

#[test]
fn jwk_generate_public_thumbprint() {
    for args in [
        &["--kty", "EC"][..],
        &["--kty", "EC", "--crv", "P-384"],
        &["--kty", "EC", "--crv", "P-521"],
        &["--kty", "OKP"],
        &["--kty", "OKP", "--crv", "X25519"],
        &["--kty", "oct", "--size", "512"],
        &[
            "--kty", "RSA", "--size", "2048", "--alg", "PS256", "--kid", "r1",
        ],
    ] {
        let mut full = vec!["jwk", "generate"];
        full.extend_from_slice(args);
        let jwk: serde_json::Value = serde_json::from_slice(&ok(&full, b"")).unwrap();
        assert!(jwk.get("d").is_some() || jwk.get("k").is_some(), "{jwk}");
    }
    let rsa: serde_json::Value = serde_json::from_slice(&ok(
        &[
            "jwk", "generate", "--kty", "RSA", "--alg", "PS256", "--kid", "r1",
        ],
        b"",
    ))
    .unwrap();
    assert_eq!(rsa["alg"], "PS256");
    assert_eq!(rsa["kid"], "r1");
    let oct: serde_json::Value =
        serde_json::from_slice(&ok(&["jwk", "generate", "--kty", "oct"], b"")).unwrap();
    assert_eq!(oct["k"].as_str().unwrap().len(), 43, "256 bits by default");
    fails_with(
        &["jwk", "generate", "--kty", "EC", "--alg", "RS256"],
        b"",
        "key_mismatch",
    );

    // RFC 7638 §3.1 example key and thumbprint.
    let rfc7638 = br#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#;
    assert_eq!(
        ok(&["jwk", "thumbprint"], rfc7638),
        b"NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs\n"
    );

    let private = ok(&["jwk", "generate", "--kty", "EC"], b"");
    let public: serde_json::Value =
        serde_json::from_slice(&ok(&["jwk", "public"], &private)).unwrap();
    assert!(public.get("d").is_none());
    assert_eq!(
        ok(&["jwk", "thumbprint"], &private),
        ok(&["jwk", "thumbprint"], public.to_string().as_bytes())
    );
    fails_with(
        &["jwk", "public"],
        &ok(&["jwk", "generate", "--kty", "oct"], b""),
        "invalid_key",
    );
    fails_with(&["jwk", "public"], b"{\"kty\":\"EC\"}", "invalid_key");
}

#[test]
fn jws_sign_verify_every_algorithm() {
    let dir = TempDir::new("jws");
    let cases: [(&str, &[&str]); 13] = [
        ("HS256", &["--kty", "oct"]),
        ("HS384", &["--kty", "oct", "--size", "384"]),
        ("HS512", &["--kty", "oct", "--size", "512"]),
        ("RS256", &["--kty", "RSA"]),
        ("RS384", &["--kty", "RSA"]),
        ("RS512", &["--kty", "RSA"]),
        ("PS256", &["--kty", "RSA"]),
        ("PS384", &["--kty", "RSA"]),
        ("PS512", &["--kty", "RSA"]),
        ("ES256", &["--kty", "EC"]),
        ("ES384", &["--kty", "EC", "--crv", "P-384"]),
        ("ES512", &["--kty", "EC", "--crv", "P-521"]),
        ("EdDSA", &["--kty", "OKP"]),
    ];
    let rsa = generate(&dir, "rsa.json", &["--kty", "RSA"]);
    for (alg, args) in cases {
        let key = if args[1] == "RSA" {
            rsa.clone()
        } else {
            generate(&dir, &format!("{alg}.json"), args)
        };
        let token = ok(
            &["jws", "sign", "--key", &key, "--alg", alg],
            b"payload \x00 bytes",
        );
        assert_eq!(
            ok(&["jws", "verify", "--key", &key], &token),
            b"payload \x00 bytes",
            "{alg}"
        );
        assert_eq!(
            ok(&["jws", "verify", "--key", &key, "--alg", alg], &token),
            b"payload \x00 bytes"
        );
        let other = if alg == "ES256" { "ES384" } else { "ES256" };
        fails_with(
            &["jws", "verify", "--key", &key, "--alg", other],
            &token,
            "algorithm_not_allowed",
        );
        // Flip one bit of the signature.
        let mut bad = token.clone();
        let pos = bad.len() - 3;
        bad[pos] = if bad[pos] == b'A' { b'B' } else { b'A' };
        fails_with(&["jws", "verify", "--key", &key], &bad, "invalid_signature");
    }
    // `none` is never accepted, whatever the flags say.
    let ec = generate(&dir, "ec.json", &["--kty", "EC"]);
    let none = b"eyJhbGciOiJub25lIn0.cGF5bG9hZA.";
    fails_with(
        &["jws", "verify", "--key", &ec],
        none,
        "unsupported_algorithm",
    );
    fails_with(
        &["jws", "verify", "--key", &ec, "--alg", "none"],
        none,
        "unsupported_algorithm",
    );
    // A public key cannot sign.
    let public = dir.write(
        "pub.json",
        &ok(&["jwk", "public"], std::fs::read(&ec).unwrap().as_slice()),
    );
    fails_with(
        &["jws", "sign", "--key", &public, "--alg", "ES256"],
        b"x",
        "key_not_found",
    );
    fails_with(
        &["jws", "verify", "--key", &ec],
        b"not.a.jws",
        "invalid_base64",
    );
}

#[test]
fn jwe_encrypt_decrypt_and_rejections() {
    let dir = TempDir::new("jwe");
    let rsa = generate(&dir, "rsa.json", &["--kty", "RSA"]);
    let p256 = generate(&dir, "p256.json", &["--kty", "EC"]);
    let p521 = generate(&dir, "p521.json", &["--kty", "EC", "--crv", "P-521"]);
    let x25519 = generate(&dir, "x.json", &["--kty", "OKP", "--crv", "X25519"]);
    let kw = generate(&dir, "kw.json", &["--kty", "oct", "--size", "192"]);
    let dir256 = generate(&dir, "dir.json", &["--kty", "oct", "--size", "256"]);
    let cases: [(&str, &str, &str); 8] = [
        (&rsa, "RSA-OAEP", "A128GCM"),
        (&rsa, "RSA-OAEP-512", "A256CBC-HS512"),
        (&p256, "ECDH-ES", "A128CBC-HS256"),
        (&p521, "ECDH-ES+A256KW", "A256GCM"),
        (&x25519, "ECDH-ES+A128KW", "A192CBC-HS384"),
        (&kw, "A192KW", "A192GCM"),
        (&dir256, "dir", "A256GCM"),
        (&dir256, "dir", "A128CBC-HS256"),
    ];
    for (key, alg, enc) in cases {
        let token = ok(
            &[
                "jwe",
                "encrypt",
                "--key",
                key,
                "--alg",
                alg,
                "--enc",
                enc,
                "--cty",
                "text/plain",
            ],
            b"secret",
        );
        assert_eq!(
            token.iter().filter(|b| **b == b'.').count(),
            4,
            "compact JWE"
        );
        assert_eq!(
            ok(&["jwe", "decrypt", "--key", key], &token),
            b"secret",
            "{alg} {enc}"
        );
        assert_eq!(
            ok(
                &["jwe", "decrypt", "--key", key, "--alg", alg, "--enc", enc],
                &token
            ),
            b"secret"
        );
        let other = if enc == "A128GCM" {
            "A256GCM"
        } else {
            "A128GCM"
        };
        fails_with(
            &["jwe", "decrypt", "--key", key, "--enc", other],
            &token,
            "algorithm_not_allowed",
        );
    }
    // Bit-flipped tag: one generic error, exit 1.
    let token = ok(
        &[
            "jwe",
            "encrypt",
            "--key",
            &p256,
            "--alg",
            "ECDH-ES+A256KW",
            "--enc",
            "A256GCM",
        ],
        b"hello",
    );
    let text = String::from_utf8(token).unwrap();
    let mut parts: Vec<String> = text.trim().split('.').map(str::to_owned).collect();
    let tag = &mut parts[4];
    let flipped = if tag.starts_with('A') { "B" } else { "A" };
    tag.replace_range(0..1, flipped);
    fails_with(
        &["jwe", "decrypt", "--key", &p256],
        parts.join(".").as_bytes(),
        "invalid_tag",
    );
    // RSA1_5 is never offered.
    fails_with(
        &[
            "jwe", "encrypt", "--key", &rsa, "--alg", "RSA1_5", "--enc", "A128GCM",
        ],
        b"x",
        "unsupported_algorithm",
    );
    // Truncated token.
    fails_with(
        &["jwe", "decrypt", "--key", &p256],
        text.rsplit_once('.').unwrap().0.as_bytes(),
        "malformed",
    );
    assert!(Path::new(&p256).exists());
}
