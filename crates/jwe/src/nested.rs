//! Nested JWTs (RFC 7519 §5.2, §11.2): sign, then encrypt with `cty: "JWT"`; decrypt, then
//! verify. This is how OpenID Connect encrypts ID tokens and userinfo responses
//! (OIDC Core §10.2) to a client's `id_token_encrypted_response_alg/enc` and JWKS.
//!
//! ```
//! use idforge_jose::{crypto::EcCurve, Header, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeySet, KeySpec, LocalSigner};
//! use idforge_jwe::nested::{self, EncryptionPolicy};
//! use idforge_jwe::{ContentEncryption, JwePolicy, KeyManagementAlgorithm};
//!
//! // The OP's signing key and the client's encryption key (the client publishes its JWKS).
//! let op_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let signer = LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256)?;
//! let client_key = Key::generate(KeySpec::Ec(EcCurve::P256))?;
//! let client_jwks = JwkSet { keys: vec![client_key.public_jwk().expect("public part")] };
//!
//! let policy = EncryptionPolicy::new(
//!     KeyManagementAlgorithm::EcdhEsA256Kw,
//!     ContentEncryption::A128CbcHs256,
//!     client_jwks,
//! );
//! let claims = br#"{"iss":"https://op.example","sub":"alice","aud":"client"}"#;
//! let token = nested::sign_and_encrypt(claims, Header::new().with_typ("JWT"), &signer, &policy)?;
//!
//! // The client side.
//! let jwe_policy = JwePolicy::new([KeyManagementAlgorithm::EcdhEsA256Kw], [ContentEncryption::A128CbcHs256]);
//! let op_public = KeySet::new(vec![op_key.to_public().expect("public part")]);
//! let nested = nested::decrypt_and_verify(
//!     &token,
//!     &jwe_policy,
//!     &KeySet::new(vec![client_key]),
//!     &JwsPolicy::new([JwsAlgorithm::ES256]),
//!     &op_public,
//! )?;
//! assert_eq!(nested.verified.payload, claims);
//! # Ok::<(), idforge_jwe::Error>(())
//! ```

use idforge_jose::jwk::KeyUse;
use idforge_jose::jws::{self, media_type_eq};
use idforge_jose::{
    Header, JwkSet, JwsPolicy, Key, KeySet, LocalSigner, Signer, Verified, Verifier,
};

use crate::{
    ContentEncryption, Decrypted, Encryptor, Error, JwePolicy, KeyManagementAlgorithm, Recipient,
    Result,
};

/// A client's encryption preferences: OIDC `id_token_encrypted_response_alg`/`_enc` and the
/// client's JWKS (registered or fetched from `jwks_uri`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EncryptionPolicy {
    /// The key management algorithm the client registered.
    pub alg: KeyManagementAlgorithm,
    /// The content encryption the client registered (OIDC default `A128CBC-HS256`).
    pub enc: ContentEncryption,
    /// The client's public keys.
    pub client_jwks: JwkSet,
}

impl EncryptionPolicy {
    /// A policy for `alg`/`enc` to the keys of `client_jwks`.
    pub fn new(alg: KeyManagementAlgorithm, enc: ContentEncryption, client_jwks: JwkSet) -> Self {
        EncryptionPolicy {
            alg,
            enc,
            client_jwks,
        }
    }

    /// Chooses the client's key for this policy: a key that validates, fits `alg` (type, curve,
    /// size and its own `alg` member, see [`KeyManagementAlgorithm::fitting`]) and permits
    /// encryption. A key marked `use: "enc"` is preferred over one with no `use`; otherwise the
    /// first such key in JWKS order wins (OIDC Core §10.2: the client's encryption key).
    pub fn select_key(&self) -> Result<Key> {
        let mut fallback = None;
        for jwk in &self.client_jwks.keys {
            let Ok(key) = Key::from_jwk(jwk.clone()) else {
                continue;
            };
            let permits = ["encrypt", "wrapKey", "deriveKey"]
                .iter()
                .any(|op| key.jwk().permits(op));
            if !permits || self.alg.check_key(&key).is_err() {
                continue;
            }
            if self.alg == KeyManagementAlgorithm::Dir
                && key.secret().map(<[u8]>::len) != Some(self.enc.cek_len())
            {
                continue;
            }
            if key.jwk().key_use == Some(KeyUse::Encryption) {
                return Ok(key);
            }
            fallback.get_or_insert(key);
        }
        fallback.ok_or_else(|| {
            Error::KeyNotFound(format!("the client JWKS has no key for {}", self.alg))
        })
    }

    /// Encrypts an already signed JWT to the client as a nested JWT: compact JWE with
    /// `cty: "JWT"` (RFC 7519 §5.2) and the chosen key's `kid`.
    pub fn encrypt_jwt(&self, signed_jwt: &str) -> Result<String> {
        self.encrypt_jwt_with_rng(signed_jwt, &mut rand::rngs::OsRng)
    }

    /// [`encrypt_jwt`](Self::encrypt_jwt) with the CEK and IVs drawn from `rng` (a host's
    /// injected randomness source); ECDH-ES ephemeral keys still come from the crypto
    /// backend's key generation.
    pub fn encrypt_jwt_with_rng<R: rand::RngCore + rand::CryptoRng>(
        &self,
        signed_jwt: &str,
        rng: &mut R,
    ) -> Result<String> {
        let key = self.select_key()?;
        Encryptor::new(self.enc)
            .protected(Header::new().with("cty", "JWT"))
            .recipient(Recipient::new(&key, self.alg))
            .encrypt_with_rng(signed_jwt.as_bytes(), rng)?
            .compact()
    }
}

/// Signs `claims` (JSON bytes) with `signer` under `header`, then encrypts the JWS to the
/// client per `policy` (RFC 7519 §11.2: sign first, then encrypt).
pub fn sign_and_encrypt(
    claims: &[u8],
    header: Header,
    signer: &LocalSigner,
    policy: &EncryptionPolicy,
) -> Result<String> {
    let jws = jws::sign_compact(header, claims, signer)?;
    policy.encrypt_jwt(&jws)
}

/// [`sign_and_encrypt`] with any [`Signer`] (KMS, HSM).
pub async fn sign_and_encrypt_with(
    claims: &[u8],
    header: Header,
    signer: &dyn Signer,
    policy: &EncryptionPolicy,
) -> Result<String> {
    let jws = jws::sign_compact_with(header, claims, signer).await?;
    policy.encrypt_jwt(&jws)
}

/// A nested JWT that decrypted and whose inner signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Nested {
    /// The outer JWE (its plaintext is the inner compact JWS).
    pub decrypted: Decrypted,
    /// The verified inner JWS: header and claims bytes.
    pub verified: Verified,
}

/// Decrypts a nested JWT with `keys` under `jwe_policy`, requires `cty: "JWT"` (RFC 7519
/// §5.2, compared as RFC 7515 §4.1.10 media types), then verifies the inner JWS with
/// `verifier` under `jws_policy`. Claims validation is the caller's (see
/// `idforge_jose::claims`).
pub fn decrypt_and_verify(
    token: &str,
    jwe_policy: &JwePolicy,
    keys: &KeySet,
    jws_policy: &JwsPolicy,
    verifier: &dyn Verifier,
) -> Result<Nested> {
    let decrypted = jwe_policy.decrypt(token, keys)?;
    if !decrypted
        .header
        .cty()
        .is_some_and(|c| media_type_eq(c, "JWT"))
    {
        return Err(Error::InvalidHeader(
            "a nested JWT must have `cty: \"JWT\"`".into(),
        ));
    }
    let inner = std::str::from_utf8(&decrypted.plaintext)
        .map_err(|_| Error::Malformed("the nested JWT is not UTF-8".into()))?;
    let verified = jws_policy.verify_compact(inner, verifier)?;
    Ok(Nested {
        decrypted,
        verified,
    })
}
