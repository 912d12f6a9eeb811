//! An OpenID Provider issues an ID token that a client asked to receive encrypted
//! (`id_token_encrypted_response_alg/enc`, OIDC Core §10.2), and the client opens it.
//!
//! Run: `cargo run --example encrypted_id_token`

use idforge::jose::crypto::EcCurve;
use idforge::jose::{
    ClaimsValidation, FixedClock, Header, Jwk, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeyRing,
    KeySet, KeySpec, KeyUse, LocalSigner,
};
use idforge::jwe::nested::{decrypt_and_verify, sign_and_encrypt, EncryptionPolicy};
use idforge::jwe::{ContentEncryption, JwePolicy, KeyManagementAlgorithm};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    // The OP's signing key ring (published at jwks_uri).
    let op_key = Key::from_jwk(Jwk::generate(KeySpec::Ec(EcCurve::P256))?.with_kid("op-2026-11"))?;
    let ring = KeyRing::new(LocalSigner::new(op_key, JwsAlgorithm::ES256)?);

    // The client's encryption key; the OP only ever sees its public JWKS.
    let client_key = Jwk::generate(KeySpec::Ec(EcCurve::P256))?
        .with_kid("rp-enc")
        .with_use(KeyUse::Encryption);
    let client_public_jwks = JwkSet {
        keys: vec![client_key.to_public().expect("EC key")],
    };

    // OP side: sign, then encrypt to the client (RFC 7519 §11.2).
    let now = 1_790_000_000;
    let claims = serde_json::json!({
        "iss": "https://op.example.com", "sub": "248289761001", "aud": "s6BhdRkqt3",
        "nonce": "n-0S6_WzA2Mj", "iat": now, "exp": now + 300,
    });
    let policy = EncryptionPolicy::new(
        KeyManagementAlgorithm::EcdhEsA256Kw,
        ContentEncryption::A256Gcm,
        client_public_jwks,
    );
    let signer = ring.current(None)?;
    let id_token = sign_and_encrypt(
        claims.to_string().as_bytes(),
        Header::new().with_typ("JWT"),
        &signer,
        &policy,
    )?;
    println!(
        "encrypted ID token ({} bytes):\n{id_token}\n",
        id_token.len()
    );

    // Client side: decrypt with its private key, verify with the OP's published JWKS.
    let client_keys = KeySet::new(vec![Key::from_jwk(client_key)?]);
    let op_jwks = KeySet::from_jwk_set(&ring.jwks())?;
    let nested = decrypt_and_verify(
        &id_token,
        &JwePolicy::new(
            [KeyManagementAlgorithm::EcdhEsA256Kw],
            [ContentEncryption::A256Gcm],
        ),
        &client_keys,
        &JwsPolicy::new([JwsAlgorithm::ES256]),
        &op_jwks,
    )?;
    let claims: serde_json::Map<String, serde_json::Value> =
        serde_json::from_slice(&nested.verified.payload)?;
    ClaimsValidation::default()
        .issuer("https://op.example.com")
        .audience("s6BhdRkqt3")
        .validate(&nested.verified.header, &claims, &FixedClock::new(now + 10))?;
    println!("verified claims: {}", serde_json::Value::Object(claims));
    Ok(())
}
