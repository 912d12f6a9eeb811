//! Examples transcribed from the RFCs, so they run without the shared vectors folder:
//! - RFC 7515 Appendix A.1–A.4 (HS256, RS256, ES256, ES512) and A.5 (unsecured JWS, refused),
//!   A.6/A.7 (general and flattened JSON serialization);
//! - RFC 7638 §3.1 (JWK thumbprint of an RSA key);
//! - RFC 8037 Appendix A.1–A.5 (Ed25519 key, thumbprint, signature);
//! - the base points of P-256 and P-384 (SEC 2 §2.4.2/§2.5.1) as public JWKs.

use idforge_jose::jws;
use idforge_jose::{Error, Header, Jwk, JwsAlgorithm, JwsPolicy, Key, KeySet, LocalSigner};

/// RFC 7515 Appendix A.1–A.3: the JWS Payload, `{"iss":"joe",\r\n "exp":1300819380,\r\n
/// "http://example.com/is_root":true}`, base64url-encoded.
const A_PAYLOAD_B64: &str =
    "eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ";
const A_PAYLOAD: &[u8] =
    b"{\"iss\":\"joe\",\r\n \"exp\":1300819380,\r\n \"http://example.com/is_root\":true}";

/// RFC 7515 Appendix A.1.1: the HMAC key.
const A1_KEY: &str = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#;
/// RFC 7515 Appendix A.1.1: header `{"typ":"JWT",\r\n "alg":"HS256"}` (note the CRLF).
const A1_HEADER_B64: &str = "eyJ0eXAiOiJKV1QiLA0KICJhbGciOiJIUzI1NiJ9";
const A1_SIG: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";

/// RFC 7515 Appendix A.2.1: the RSA key.
const A2_KEY: &str = r#"{"kty":"RSA",
 "n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ",
 "e":"AQAB",
 "d":"Eq5xpGnNCivDflJsRQBXHx1hdR1k6Ulwe2JZD50LpXyWPEAeP88vLNO97IjlA7_GQ5sLKMgvfTeXZx9SE-7YwVol2NXOoAJe46sui395IW_GO-pWJ1O0BkTGoVEn2bKVRUCgu-GjBVaYLU6f3l9kJfFNS3E0QbVdxzubSu3Mkqzjkn439X0M_V51gfpRLI9JYanrC4D4qAdGcopV_0ZHHzQlBjudU2QvXt4ehNYTCBr6XCLQUShb1juUO1ZdiYoFaFQT5Tw8bGUl_x_jTj3ccPDVZFD9pIuhLhBOneufuBiB4cS98l2SR_RQyGWSeWjnczT0QU91p1DhOVRuOopznQ",
 "p":"4BzEEOtIpmVdVEZNCqS7baC4crd0pqnRH_5IB3jw3bcxGn6QLvnEtfdUdiYrqBdss1l58BQ3KhooKeQTa9AB0Hw_Py5PJdTJNPY8cQn7ouZ2KKDcmnPGBY5t7yLc1QlQ5xHdwW1VhvKn-nXqhJTBgIPgtldC-KDV5z-y2XDwGUc",
 "q":"uQPEfgmVtjL0Uyyx88GZFF1fOunH3-7cepKmtH4pxhtCoHqpWmT8YAmZxaewHgHAjLYsp1ZSe7zFYHj7C6ul7TjeLQeZD_YwD66t62wDmpe_HlB-TnBA-njbglfIsRLtXlnDzQkv5dTltRJ11BKBBypeeF6689rjcJIDEz9RWdc",
 "dp":"BwKfV3Akq5_MFZDFZCnW-wzl-CCo83WoZvnLQwCTeDv8uzluRSnm71I3QCLdhrqE2e9YkxvuxdBfpT_PI7Yz-FOKnu1R6HsJeDCjn12Sk3vmAktV2zb34MCdy7cpdTh_YVr7tss2u6vneTwrA86rZtu5Mbr1C1XsmvkxHQAdYo0",
 "dq":"h_96-mK1R_7glhsum81dZxjTnYynPbZpHziZjeeHcXYsXaaMwkOlODsWa7I9xXDoRwbKgB719rrmI2oKr6N3Do9U0ajaHF-NKJnwgjMd2w9cjz3_-kyNlxAr2v4IKhGNpmM5iIgOS1VZnOZ68m6_pbLBSp3nssTdlqvd0tIiTHU",
 "qi":"IYd7DHOhrWvxkwPQsRM2tOgrjbcrfvtQJipd-DlcxyVuuM9sQLdgjVk2oy26F0EmpScGLq2MowX7fhd_QJQ3ydy5cY7YIBi87w93IKLEdfnbJtoOPLUW0ITrJReOgo1cq9SbsxYawBgfp_gh6A5603k2-ZQwVK0JKSHuLFkuQ3U"}"#;
/// RFC 7515 Appendix A.2.1: header `{"alg":"RS256"}`.
const A2_HEADER_B64: &str = "eyJhbGciOiJSUzI1NiJ9";
const A2_SIG: &str = "cC4hiUPoj9Eetdgtv3hF80EGrhuB__dzERat0XF9g2VtQgr9PJbu3XOiZj5RZmh7AAuHIm4Bh-0Qc_lF5YKt_O8W2Fp5jujGbds9uJdbF9CUAr7t1dnZcAcQjbKBYNX4BAynRFdiuB--f_nZLgrnbyTyWzO75vRK5h6xBArLIARNPvkSjtQBMHlb1L07Qe7K0GarZRmB_eSN9383LcOLn6_dO--xi12jzDwusC-eOkHWEsqtFZESc6BfI7noOPqvhJ1phCnvWh6IeYI2w9QOYEUipUTI8np6LbgGY9Fs98rqVt5AXLIhWkWywlVmtVrBp0igcN_IoypGlUPQGe77Rw";

/// RFC 7515 Appendix A.3.1: the P-256 key.
const A3_KEY: &str = r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cspYG6-0iY7X1fCE9-E9LI"}"#;
/// RFC 7515 Appendix A.3.1: header `{"alg":"ES256"}`.
const A3_HEADER_B64: &str = "eyJhbGciOiJFUzI1NiJ9";
const A3_SIG: &str =
    "DtEhU3ljbEg8L38VWAfUAqOyKAM6-Xx-F4GawxaepmXFCgfTjDxw5djxLa8ISlSApmWQxfKTUJqPP3-Kg6NU1Q";

/// RFC 7515 Appendix A.4.1: the P-521 key; the payload is the ASCII string "Payload".
const A4_KEY: &str = r#"{"kty":"EC","crv":"P-521","x":"AekpBQ8ST8a8VcfVOTNl353vSrDCLLJXmPk06wTjxrrjcBpXp5EOnYG_NjFZ6OvLFV1jSfS9tsz4qUxcWceqwQGk","y":"ADSmRA43Z1DSNx_RvcLI87cdL07l6jQyyBXMoxVg_l2Th-x3S1WDhjDly79ajL4Kkd0AZMaZmh9ubmf63e3kyMj2","d":"AY5pb7A0UFiB3RELSD64fTLOSV_jazdF7fLYyuTw8lOfRhWg6Y6rUrPAxerEzgdRhajnu0ferB0d53vM9mE15j2C"}"#;
/// RFC 7515 Appendix A.4.3: the complete JWS.
const A4_JWS: &str = "eyJhbGciOiJFUzUxMiJ9.UGF5bG9hZA.AdwMgeerwtHoh-l192l60hp9wAHZFVJbLfD_UxMi70cwnZOYaRI1bKPWROc-mZZqwqT2SI-KGDKB34XO0aw_7XdtAG8GaSwFKdCAPZgoXD2YBJZCPEX3xKpRwcdOO8KpEHwJjyqOgzDO7iKvU8vcnwNrmxYbSW9ERBXukOXolLzeO_Jn";

/// RFC 7515 Appendix A.5: an Unsecured JWS (`{"alg":"none"}`).
const A5_JWS: &str = "eyJhbGciOiJub25lIn0.eyJpc3MiOiJqb2UiLA0KICJleHAiOjEzMDA4MTkzODAsDQogImh0dHA6Ly9leGFtcGxlLmNvbS9pc19yb290Ijp0cnVlfQ.";

fn key(json: &str) -> Key {
    Key::from_json(json).expect("RFC example key is valid")
}

fn public(json: &str) -> Key {
    let k = key(json);
    k.to_public().unwrap_or(k)
}

fn compact(header: &str, sig: &str) -> String {
    format!("{header}.{A_PAYLOAD_B64}.{sig}")
}

#[test]
fn rfc7515_a1_hs256() {
    let k = key(A1_KEY);
    let token = compact(A1_HEADER_B64, A1_SIG);
    let v = JwsPolicy::new([JwsAlgorithm::HS256])
        .verify_compact(&token, &k)
        .expect("A.1 verifies");
    assert_eq!(v.payload, A_PAYLOAD);
    assert_eq!(v.header.typ(), Some("JWT"));
    // HMAC is deterministic: the MAC over the example's signing input is the example's.
    let signer = LocalSigner::new(k, JwsAlgorithm::HS256).expect("signer");
    let input = format!("{A1_HEADER_B64}.{A_PAYLOAD_B64}");
    let mac = signer.sign_sync(input.as_bytes()).expect("mac");
    assert_eq!(idforge_jose::b64::encode(mac), A1_SIG);
}

#[test]
fn rfc7515_a2_rs256() {
    let k = key(A2_KEY);
    let token = compact(A2_HEADER_B64, A2_SIG);
    let v = JwsPolicy::new([JwsAlgorithm::RS256])
        .verify_compact(&token, &public(A2_KEY))
        .expect("A.2 verifies");
    assert_eq!(v.payload, A_PAYLOAD);
    // RSASSA-PKCS1-v1_5 is deterministic, and the header {"alg":"RS256"} is what we emit too,
    // so signing reproduces A.2.1's compact serialization byte for byte.
    let signer = LocalSigner::new(k, JwsAlgorithm::RS256).expect("signer");
    assert_eq!(
        jws::sign_compact(Header::new(), A_PAYLOAD, &signer).expect("sign"),
        token
    );
}

#[test]
fn rfc7515_a3_es256() {
    let token = compact(A3_HEADER_B64, A3_SIG);
    let policy = JwsPolicy::new([JwsAlgorithm::ES256]);
    let v = policy
        .verify_compact(&token, &public(A3_KEY))
        .expect("A.3 verifies");
    assert_eq!(v.payload, A_PAYLOAD);
    // ECDSA is randomized: our signature differs but verifies with the same public key.
    let signer = LocalSigner::new(key(A3_KEY), JwsAlgorithm::ES256).expect("signer");
    let ours = jws::sign_compact(Header::new(), A_PAYLOAD, &signer).expect("sign");
    assert!(ours.starts_with(&format!("{A3_HEADER_B64}.{A_PAYLOAD_B64}.")));
    assert_ne!(ours, token);
    policy
        .verify_compact(&ours, &public(A3_KEY))
        .expect("own ES256 verifies");
}

#[test]
fn rfc7515_a4_es512() {
    let policy = JwsPolicy::new([JwsAlgorithm::ES512]);
    let v = policy
        .verify_compact(A4_JWS, &public(A4_KEY))
        .expect("A.4 verifies");
    assert_eq!(v.payload, b"Payload");
    // A.4's signature is 132 octets (two 66-octet integers); a P-256 policy must not accept it.
    assert_eq!(
        JwsPolicy::new([JwsAlgorithm::ES256])
            .verify_compact(A4_JWS, &public(A4_KEY))
            .map(|_| ()),
        Err(Error::AlgorithmNotAllowed("ES512".into()))
    );
}

#[test]
fn rfc7515_a5_unsecured_jws_is_refused() {
    // `none` is not an algorithm idforge knows, under any policy.
    for policy in [
        JwsPolicy::new(JwsAlgorithm::ALL),
        JwsPolicy::new([JwsAlgorithm::HS256]),
    ] {
        assert_eq!(
            policy.verify_compact(A5_JWS, &key(A1_KEY)).map(|_| ()),
            Err(Error::UnsupportedAlgorithm("none".into()))
        );
    }
}

#[test]
fn rfc7515_a6_a7_json_serializations() {
    let rsa = key(&A2_KEY.replace("{\"kty\"", "{\"kid\":\"2010-12-29\",\"kty\""));
    let ec = key(&A3_KEY.replace(
        "{\"kty\"",
        "{\"kid\":\"e9bc097a-ce51-4036-9562-d2ade882db0d\",\"kty\"",
    ));
    // RFC 7515 Appendix A.6.4: the general JWS JSON Serialization with both signatures.
    let general = format!(
        r#"{{"payload":"{A_PAYLOAD_B64}","signatures":[{{"protected":"{A2_HEADER_B64}","header":{{"kid":"2010-12-29"}},"signature":"{A2_SIG}"}},{{"protected":"{A3_HEADER_B64}","header":{{"kid":"e9bc097a-ce51-4036-9562-d2ade882db0d"}},"signature":"{A3_SIG}"}}]}}"#
    );
    let policy = JwsPolicy::new([JwsAlgorithm::RS256, JwsAlgorithm::ES256]);
    for (k, index) in [(&rsa, 0), (&ec, 1)] {
        let set = KeySet::new(vec![k.to_public().expect("public")]);
        let v = policy.verify_json(&general, &set).expect("A.6 verifies");
        assert_eq!(v.signature_index, index);
        assert_eq!(v.payload, A_PAYLOAD);
    }
    // RFC 7515 Appendix A.7: the flattened form of the ECDSA signature.
    let flattened = format!(
        r#"{{"payload":"{A_PAYLOAD_B64}","protected":"{A3_HEADER_B64}","header":{{"kid":"e9bc097a-ce51-4036-9562-d2ade882db0d"}},"signature":"{A3_SIG}"}}"#
    );
    let v = policy
        .verify_json(&flattened, &ec.to_public().expect("public"))
        .expect("A.7 verifies");
    assert_eq!(v.header.kid(), Some("e9bc097a-ce51-4036-9562-d2ade882db0d"));
    // With the RSA key only, the ECDSA-signed flattened JWS has no usable key.
    assert!(matches!(
        policy.verify_json(
            &flattened,
            &KeySet::new(vec![rsa.to_public().expect("public")])
        ),
        Err(Error::KeyNotFound(_))
    ));
}

/// RFC 7638 §3.1: the example RSA key and its thumbprint.
#[test]
fn rfc7638_3_1_thumbprint() {
    let jwk = Jwk::from_json(
        r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
    )
    .expect("RFC 7638 key");
    assert_eq!(
        jwk.thumbprint(),
        "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
    );
    // Optional members (alg, kid) do not change the thumbprint (RFC 7638 §3.2).
    let bare = Jwk::from_params(jwk.params.clone());
    assert_eq!(bare.thumbprint(), jwk.thumbprint());
}

/// RFC 8037 Appendix A.1/A.2: the Ed25519 key pair.
const ED_KEY: &str = r#"{"kty":"OKP","crv":"Ed25519","d":"nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#;
/// RFC 8037 Appendix A.4: the JWS over "Example of Ed25519 signing".
const ED_JWS: &str = "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc.hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AIbQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";

#[test]
fn rfc8037_a_ed25519() {
    let k = key(ED_KEY);
    // A.3: the thumbprint of the public key.
    assert_eq!(
        k.jwk().thumbprint(),
        "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"
    );
    // A.4: Ed25519 is deterministic, so signing reproduces the example.
    let signer = LocalSigner::new(k.clone(), JwsAlgorithm::EdDSA).expect("signer");
    assert_eq!(
        jws::sign_compact(Header::new(), b"Example of Ed25519 signing", &signer).expect("sign"),
        ED_JWS
    );
    // A.5: verification with the public key.
    let v = JwsPolicy::new([JwsAlgorithm::EdDSA])
        .verify_compact(ED_JWS, &k.to_public().expect("public"))
        .expect("A.5 verifies");
    assert_eq!(v.payload, b"Example of Ed25519 signing");
    // The private key with a mismatched public part is refused (RFC 8037 §2).
    let wrong_x = ED_KEY.replace("11qYAYKxCrfVS", "21qYAYKxCrfVS");
    assert!(matches!(
        Key::from_json(&wrong_x),
        Err(Error::InvalidKey(_))
    ));
}

/// The curve base points are valid public keys. (An earlier report that the P-256 generator
/// was refused came from a mistyped `y`, `...uOfutKfA...` for `...uO5-tKfA...`; that point is
/// indeed off the curve and rightly refused.)
#[test]
fn curve_base_points_are_valid_public_keys() {
    let p256 = r#"{"kty":"EC","crv":"P-256","x":"axfR8uEsQkf4vOblY6RA8ncDfYEt6zOg9KE5RdiYwpY","y":"T-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU"}"#;
    let p384 = r#"{"kty":"EC","crv":"P-384","x":"qofKIr6LBTeOscce8yCtdG4dO2KLp5uYWfdB4IJUKjhVAvJdv1UpbDpUXjhydgq3","y":"NhfeSpYmLG9dnpi_kpLcKfj0Hb0omhR86doxE7XwuMAKYLHOHX6BnXpDHXyQ6g5f"}"#;
    for text in [p256, p384] {
        let k = Key::from_json(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        assert!(!k.is_private());
    }
    let mistyped = p256.replace("uO5-tKfA", "uOfutKfA");
    assert!(matches!(
        Key::from_json(&mistyped),
        Err(Error::InvalidKey(m)) if m.contains("not on the curve")
    ));
}

/// RFC 7797 §4.1/§4.2: the payload "$.02" under the RFC 7515 A.1 HMAC key, first with a
/// base64url payload, then unencoded (`{"alg":"HS256","b64":false,"crit":["b64"]}`).
#[test]
fn rfc7797_4_unencoded_payload_examples() {
    let k = key(A1_KEY);
    let signer = LocalSigner::new(k.clone(), JwsAlgorithm::HS256).expect("signer");
    // §4.1: the ordinary JWS.
    let encoded = "eyJhbGciOiJIUzI1NiJ9.JC4wMg.5mvfOroL-g7HyqJoozehmsaqmvTYGEq5jTI1gVvoEoQ";
    assert_eq!(
        jws::sign_compact(Header::new(), b"$.02", &signer).expect("sign"),
        encoded
    );
    // §4.2: the unencoded form, in the flattened JSON serialization.
    let protected = "eyJhbGciOiJIUzI1NiIsImI2NCI6ZmFsc2UsImNyaXQiOlsiYjY0Il19";
    let flattened = format!(
        r#"{{"protected":"{protected}","payload":"$.02","signature":"A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY"}}"#
    );
    let strict = JwsPolicy::new([JwsAlgorithm::HS256]);
    assert_eq!(
        strict.verify_json(&flattened, &k).map(|_| ()),
        Err(Error::UnsupportedCritical("b64".into()))
    );
    let lenient = strict.clone().allowing_unencoded_payload();
    assert_eq!(
        lenient.verify_json(&flattened, &k).expect("§4.2").payload,
        b"$.02"
    );
    let header = Header::new()
        .with("alg", "HS256")
        .with("b64", false)
        .with("crit", vec!["b64"]);
    let ours = jws::sign_json(
        b"$.02",
        vec![jws::JsonSignature {
            protected: header.clone(),
            unprotected: None,
            signer: &signer,
        }],
        true,
    )
    .expect("sign");
    let ours: serde_json::Value = serde_json::from_str(&ours).expect("JSON");
    let theirs: serde_json::Value = serde_json::from_str(&flattened).expect("JSON");
    assert_eq!(ours, theirs);
    // §5.2: "$.02" contains '.', so the compact form is impossible; detached is fine.
    assert!(matches!(
        jws::sign_compact(header.clone(), b"$.02", &signer),
        Err(Error::InvalidHeader(_))
    ));
    let detached = jws::sign_compact_detached(header, b"$.02", &signer).expect("detached");
    assert_eq!(
        detached,
        format!("{protected}..A5dxf2s96_n5FLueVuW1Z_vh161FwXZC4YLPff6dmDY")
    );
    assert_eq!(
        lenient
            .verify_compact_detached(&detached, b"$.02", &k)
            .expect("detached verifies")
            .payload,
        b"$.02"
    );
}
