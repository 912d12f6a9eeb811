//! Where a proof's key comes from (OID4VCI 1.0 Appendix F.1: exactly one of `kid`, `jwk`,
//! `x5c`): DID URLs in `kid` (`did:jwk`, `did:key` P-256) for templates that list those binding
//! methods (§12.2.4), and `x5c` chains validated against the issuer's trust anchors. One test
//! per rule; each accepted proof's key is the one bound in the credential's `cnf.jwk`.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::crypto::{self, CertificateTemplate};
use idforge_jose::{b64, Header, Key, KeyParams};
use idforge_oid4vci::request::PROOF_TYP;
use idforge_oid4vci::CredentialResponse;
use serde_json::{json, Value};

/// The `cnf.jwk` of the (single) credential issued.
fn bound_key(r: CredentialResponse) -> Value {
    let CredentialResponse::Issued { credentials, .. } = r else {
        panic!("not issued: {r:?}")
    };
    let jwt = credentials[0].split('~').next().unwrap();
    let payload = b64::decode(jwt.split('.').nth(1).unwrap(), "payload").unwrap();
    let claims: Value = serde_json::from_slice(&payload).unwrap();
    claims["cnf"]["jwk"].clone()
}

fn kid_header(kid: &str) -> Header {
    Header::new().with_typ(PROOF_TYP).with_kid(kid)
}

fn did_jwk(key: &Key) -> String {
    format!(
        "did:jwk:{}#0",
        b64::encode(key.public_jwk().unwrap().to_json())
    )
}

fn base58btc(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    let mut digits: Vec<u8> = Vec::new();
    for &b in bytes {
        let mut carry = u32::from(b);
        for d in digits.iter_mut() {
            carry += u32::from(*d) << 8;
            *d = (carry % 58) as u8;
            carry /= 58;
        }
        while carry > 0 {
            digits.push((carry % 58) as u8);
            carry /= 58;
        }
    }
    let zeros = bytes.iter().take_while(|&&b| b == 0).count();
    std::iter::repeat_n('1', zeros)
        .chain(digits.iter().rev().map(|&d| ALPHABET[d as usize] as char))
        .collect()
}

/// `did:key:z<base58btc(0x80 0x24 || compressed point)>#<same>` of a P-256 key.
fn did_key(key: &Key) -> String {
    let KeyParams::Ec { x, y, .. } = &key.jwk().params else {
        panic!("EC")
    };
    let mut bytes = vec![0x80, 0x24, 2 + (y[31] & 1)];
    bytes.extend_from_slice(x);
    let id = format!("z{}", base58btc(&bytes));
    format!("did:key:{id}#{id}")
}

/// Standard base64 with padding (RFC 7515 §4.1.6 `x5c`).
fn std_b64(der: &[u8]) -> String {
    let mut s = b64::encode(der).replace('-', "+").replace('_', "/");
    while !s.len().is_multiple_of(4) {
        s.push('=');
    }
    s
}

struct Pki {
    root: Vec<u8>,
    leaf: Vec<u8>,
    leaf_key: Key,
}

/// A root CA and a leaf certificate for a fresh holder key, valid around `NOW`.
fn pki() -> Pki {
    let root_key = holder();
    let root = crypto::x509_issue(
        root_key.public_key().unwrap(),
        &CertificateTemplate::new("Wallet Root", NOW - 86_400, NOW + 86_400 * 365).ca(None),
        root_key.private_key().unwrap(),
        None,
    )
    .unwrap();
    let leaf_key = holder();
    let leaf = crypto::x509_issue(
        leaf_key.public_key().unwrap(),
        &CertificateTemplate::new("wallet instance", NOW - 3600, NOW + 86_400),
        root_key.private_key().unwrap(),
        Some(&root),
    )
    .unwrap();
    Pki {
        root,
        leaf,
        leaf_key,
    }
}

#[tokio::test]
async fn metadata_lists_the_did_binding_methods() {
    let env = env();
    let m = env.issuer.metadata().await.unwrap();
    let c = &m["credential_configurations_supported"];
    assert_eq!(
        c["pid-did"]["cryptographic_binding_methods_supported"],
        json!(["jwk", "did:jwk", "did:key"])
    );
    assert_eq!(
        c["pid"]["cryptographic_binding_methods_supported"],
        json!(["jwk"])
    );
}

/// Appendix F.1 `kid`: a `did:jwk` DID URL binds the key it encodes.
#[tokio::test]
async fn did_jwk_kid_binds_its_key() {
    let env = env();
    let token = env.anonymous_token(&["pid-did"]).await;
    let key = holder();
    let p = sign_proof(
        &key,
        kid_header(&did_jwk(&key)),
        &proof_claims(&env.nonce().await),
    );
    let r = env
        .credential(&token, request("pid-did", &[p]))
        .await
        .unwrap();
    assert_eq!(bound_key(r), key.public_jwk().unwrap().to_value());
}

/// Appendix F.1 `kid`: a `did:key` (P-256) DID URL binds the key it encodes.
#[tokio::test]
async fn did_key_kid_binds_its_key() {
    let env = env();
    let token = env.anonymous_token(&["pid-did"]).await;
    let key = holder();
    let p = sign_proof(
        &key,
        kid_header(&did_key(&key)),
        &proof_claims(&env.nonce().await),
    );
    let r = env
        .credential(&token, request("pid-did", &[p]))
        .await
        .unwrap();
    assert_eq!(bound_key(r), key.public_jwk().unwrap().to_value());
}

/// DID URL rules: the template must list the method (§12.2.4), the DID URL must name a key
/// (a fragment), and the proof must be signed by that key.
#[tokio::test]
async fn did_url_kid_rules() {
    let env = env();
    let key = holder();
    let refused = |config: &'static str, kid: String, signer: Key| {
        let env = &env;
        async move {
            let token = env.anonymous_token(&[config]).await;
            let p = sign_proof(&signer, kid_header(&kid), &proof_claims(&env.nonce().await));
            let e = env
                .credential(&token, request(config, &[p]))
                .await
                .unwrap_err();
            assert_eq!(e.code(), "invalid_proof", "{kid}");
        }
    };
    // `pid` binds with `jwk` only.
    refused("pid", did_jwk(&key), key.clone()).await;
    refused("pid", did_key(&key), key.clone()).await;
    // A DID without a fragment names a document, not a key.
    refused("pid-did", did_jwk(&key).replace("#0", ""), key.clone()).await;
    let dk = did_key(&key);
    refused(
        "pid-did",
        dk[..dk.find('#').unwrap()].to_owned(),
        key.clone(),
    )
    .await;
    // Signed by another key than the DID's.
    refused("pid-did", did_jwk(&key), holder()).await;
    refused("pid-did", did_key(&key), holder()).await;
    // Unsupported DID methods.
    refused(
        "pid-did",
        "did:web:wallet.example#key-1".into(),
        key.clone(),
    )
    .await;
}

/// Appendix F.1 `x5c`: a chain that validates to one of the issuer's trust anchors binds the
/// leaf key.
#[tokio::test]
async fn x5c_chain_to_a_trust_anchor_binds_the_leaf_key() {
    let p = pki();
    let env = env_with(settings().with_proof_trust_anchors([p.root.clone()]), None);
    let token = env.anonymous_token(&["pid"]).await;
    let h = Header::new()
        .with_typ(PROOF_TYP)
        .with("x5c", json!([std_b64(&p.leaf)]));
    let proof = sign_proof(&p.leaf_key, h, &proof_claims(&env.nonce().await));
    let r = env
        .credential(&token, request("pid", &[proof]))
        .await
        .unwrap();
    assert_eq!(bound_key(r), p.leaf_key.public_jwk().unwrap().to_value());
}

/// `x5c` rules: refused without trust anchors, with a chain to another root, with garbage, and
/// when the proof is not signed by the leaf key.
#[tokio::test]
async fn x5c_rules() {
    let p = pki();
    let other = pki();
    let x5c = |leaf: &[u8]| {
        Header::new()
            .with_typ(PROOF_TYP)
            .with("x5c", json!([std_b64(leaf)]))
    };
    let refused = |env: Env, h: Header, signer: Key| async move {
        let token = env.anonymous_token(&["pid"]).await;
        let proof = sign_proof(&signer, h, &proof_claims(&env.nonce().await));
        let e = env
            .credential(&token, request("pid", &[proof]))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_proof");
    };
    // No anchors configured: x5c is refused even for a sound chain.
    refused(env(), x5c(&p.leaf), p.leaf_key.clone()).await;
    let anchored = || env_with(settings().with_proof_trust_anchors([p.root.clone()]), None);
    // A chain to another root.
    refused(anchored(), x5c(&other.leaf), other.leaf_key.clone()).await;
    // Signed by a key other than the leaf's.
    refused(anchored(), x5c(&p.leaf), holder()).await;
    // Not certificates.
    let junk = Header::new()
        .with_typ(PROOF_TYP)
        .with("x5c", json!(["bm90IGEgY2VydA=="]));
    refused(anchored(), junk, p.leaf_key.clone()).await;
    let empty = Header::new().with_typ(PROOF_TYP).with("x5c", json!([]));
    refused(anchored(), empty, p.leaf_key.clone()).await;
    // The chain is checked at the request's time: the leaf expired a day after NOW.
    let env = anchored();
    env.clock.set(NOW + 2 * 86_400);
    let token = env.anonymous_token(&["pid"]).await;
    let mut claims = proof_claims(&env.nonce().await);
    claims["iat"] = json!(NOW + 2 * 86_400);
    let proof = sign_proof(&p.leaf_key, x5c(&p.leaf), &claims);
    let e = env
        .credential(&token, request("pid", &[proof]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_proof");
}
