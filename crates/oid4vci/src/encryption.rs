//! Credential request and response encryption (OID4VCI 1.0 §10, metadata §12.2.4
//! `credential_request_encryption` / `credential_response_encryption`), with `idforge-jwe`.
//!
//! - Request: the body is a compact JWE (`Content-Type: application/jwt`) whose plaintext is the
//!   JSON credential request, encrypted to a key of the issuer's `jwks` (§10.1).
//! - Response: when the request carries `credential_response_encryption` (`jwk` with its
//!   `alg`, `enc`), the response body is a compact JWE to that key (§10.2).
//!
//! Every failure is `invalid_encryption_parameters` (§8.3.1.2).

use idforge_jose::crypto::EcCurve;
use idforge_jose::{Header, Jwk, JwkSet, Key, KeySet, KeySpec};
use idforge_jwe::{Encryptor, JwePolicy, Recipient};
use idforge_oauth_core::secret::PortRng;
use idforge_oauth_core::{Error, Rng};
use serde_json::{json, Map, Value};

use crate::error::CredentialErrorCode;

/// The JWE algorithm enums the settings are made of (from `idforge-jwe`), so hosts configure
/// encryption without depending on that crate themselves.
pub use idforge_jwe::{ContentEncryption, KeyManagementAlgorithm};

fn bad(m: &str) -> Error {
    CredentialErrorCode::InvalidEncryptionParameters.error(m.to_owned())
}

/// The issuer's encryption settings: its decryption keys (each with `alg`), the allowed
/// algorithms, and whether encryption is required.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct EncryptionSettings {
    /// Private keys requests are encrypted to (published, public part only, in
    /// `credential_request_encryption.jwks`).
    pub keys: KeySet,
    /// Key management algorithms accepted for requests and used for responses.
    pub algorithms: Vec<KeyManagementAlgorithm>,
    /// Content encryption algorithms accepted.
    pub encryptions: Vec<ContentEncryption>,
    /// Whether requests and responses must be encrypted (`encryption_required`).
    pub required: bool,
}

impl EncryptionSettings {
    /// Settings over `keys` (private, with `kid` and `alg`), accepting `algorithms` and
    /// `encryptions`, encryption optional.
    pub fn new(
        keys: Vec<Key>,
        algorithms: impl IntoIterator<Item = KeyManagementAlgorithm>,
        encryptions: impl IntoIterator<Item = ContentEncryption>,
    ) -> Self {
        EncryptionSettings {
            keys: KeySet::new(keys),
            algorithms: algorithms.into_iter().collect(),
            encryptions: encryptions.into_iter().collect(),
            required: false,
        }
    }

    /// Settings accepting `algorithms` and `encryptions`, with freshly generated decryption
    /// keys for requests (§10.1): one P-256 key when an `ECDH-ES*` algorithm is listed, one
    /// RSA-2048 key when an `RSA-OAEP*` one is, each with a `kid` and the first listed `alg`
    /// of its family. For hosts without key management of their own (the keys last as long
    /// as the settings; wallets read them from the metadata). Symmetric algorithms (`dir`,
    /// `A*KW`, `A*GCMKW`, `PBES2-*`) are refused: the wallet shares no secret with the issuer.
    pub fn generate(
        algorithms: impl IntoIterator<Item = KeyManagementAlgorithm>,
        encryptions: impl IntoIterator<Item = ContentEncryption>,
    ) -> Result<Self, Error> {
        use KeyManagementAlgorithm as A;
        let algorithms: Vec<KeyManagementAlgorithm> = algorithms.into_iter().collect();
        let encryptions: Vec<ContentEncryption> = encryptions.into_iter().collect();
        if algorithms.is_empty() || encryptions.is_empty() {
            return Err(Error::ServerError(
                "encryption needs at least one alg and one enc".into(),
            ));
        }
        let mut ec = None;
        let mut rsa = None;
        for a in &algorithms {
            match a {
                A::EcdhEs | A::EcdhEsA128Kw | A::EcdhEsA192Kw | A::EcdhEsA256Kw => {
                    ec.get_or_insert(*a);
                }
                A::RsaOaep | A::RsaOaep256 | A::RsaOaep384 | A::RsaOaep512 => {
                    rsa.get_or_insert(*a);
                }
                other => {
                    return Err(Error::ServerError(format!(
                        "`{}` needs a shared secret; use ECDH-ES or RSA-OAEP",
                        other.name()
                    )))
                }
            }
        }
        let backend = |_| Error::ServerError("key generation failed".into());
        let mut keys = Vec::new();
        for (alg, spec, kid) in [
            (ec, KeySpec::Ec(EcCurve::P256), "credential-request-ec"),
            (rsa, KeySpec::Rsa(2048), "credential-request-rsa"),
        ] {
            if let Some(alg) = alg {
                let key = Key::generate(spec).map_err(backend)?;
                let jwk = key.jwk().clone().with_kid(kid).with_alg(alg.name());
                keys.push(Key::from_jwk(jwk).map_err(backend)?);
            }
        }
        Ok(EncryptionSettings::new(keys, algorithms, encryptions))
    }

    /// Encryption required for requests and responses.
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// The metadata members (§12.2.4).
    pub fn metadata(&self) -> Map<String, Value> {
        let jwks = JwkSet {
            keys: self
                .keys
                .keys()
                .iter()
                .filter_map(Key::public_jwk)
                .collect(),
        };
        let encs: Vec<&str> = self.encryptions.iter().map(|e| e.name()).collect();
        let algs: Vec<&str> = self.algorithms.iter().map(|a| a.name()).collect();
        let mut m = Map::new();
        m.insert(
            "credential_request_encryption".into(),
            json!({"jwks": serde_json::to_value(&jwks).unwrap_or(Value::Null),
                   "enc_values_supported": encs, "encryption_required": self.required}),
        );
        m.insert(
            "credential_response_encryption".into(),
            json!({"alg_values_supported": algs, "enc_values_supported": encs,
                   "encryption_required": self.required}),
        );
        m
    }

    /// Decrypts an encrypted request body (§10.1) with the issuer's keys and the allowed
    /// algorithms.
    pub fn decrypt_request(&self, jwe: &[u8]) -> Result<Vec<u8>, Error> {
        let text = std::str::from_utf8(jwe).map_err(|_| bad("the request is not a JWE"))?;
        let policy = JwePolicy::new(
            self.algorithms.iter().copied(),
            self.encryptions.iter().copied(),
        );
        policy
            .decrypt_compact(text.trim(), &self.keys)
            .map(|d| d.plaintext)
            .map_err(|_| bad("the request does not decrypt"))
    }
}

/// The wallet's `credential_response_encryption` (§8.2): its public key (whose `alg` names the
/// key management algorithm) and `enc`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct ResponseEncryption {
    /// The wallet's public key.
    pub key: Key,
    /// Key management algorithm (`jwk.alg`).
    pub alg: KeyManagementAlgorithm,
    /// Content encryption.
    pub enc: ContentEncryption,
}

impl ResponseEncryption {
    /// Parses and checks `credential_response_encryption` against the issuer's settings: a
    /// public `jwk` with an `alg` the issuer supports and that fits the key, a supported `enc`,
    /// no `zip` (none is advertised).
    pub fn parse(v: &Value, settings: &EncryptionSettings) -> Result<Self, Error> {
        let obj = v.as_object().ok_or_else(|| bad("must be an object"))?;
        if obj.contains_key("zip") {
            return Err(bad("compression is not supported"));
        }
        let jwk_v = obj.get("jwk").ok_or_else(|| bad("`jwk` is required"))?;
        let jwk = Jwk::from_value(jwk_v.clone()).map_err(|_| bad("malformed `jwk`"))?;
        if jwk.is_private() {
            return Err(bad("`jwk` must be a public key"));
        }
        let alg = jwk_v
            .get("alg")
            .and_then(Value::as_str)
            .and_then(|a| KeyManagementAlgorithm::from_name(a).ok())
            .filter(|a| settings.algorithms.contains(a))
            .ok_or_else(|| bad("`jwk.alg` is missing or not supported"))?;
        let enc = obj
            .get("enc")
            .and_then(Value::as_str)
            .and_then(|e| ContentEncryption::from_name(e).ok())
            .filter(|e| settings.encryptions.contains(e))
            .ok_or_else(|| bad("`enc` is missing or not supported"))?;
        let key = Key::from_jwk(jwk).map_err(|_| bad("unusable `jwk`"))?;
        alg.check_key(&key)
            .map_err(|_| bad("`jwk.alg` does not fit the key"))?;
        Ok(ResponseEncryption { key, alg, enc })
    }

    /// Encrypts `body` to the wallet (compact JWE, `kid` copied from the key, §10.2).
    pub fn encrypt(&self, body: &Value, rng: &dyn Rng) -> Result<String, Error> {
        let mut header = Header::new();
        if let Some(kid) = self.key.kid() {
            header.set("kid", kid);
        }
        let mut r = PortRng::new(rng);
        let jwe = Encryptor::new(self.enc)
            .protected(header)
            .recipient(Recipient::new(&self.key, self.alg))
            .encrypt_with_rng(body.to_string().as_bytes(), &mut r)
            .map_err(|_| Error::ServerError("response encryption failed".into()))?;
        r.finish()?;
        jwe.compact()
            .map_err(|_| Error::ServerError("response encryption failed".into()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use KeyManagementAlgorithm as A;

    /// Generated settings publish one key per family with its `alg`, decrypt requests
    /// encrypted to either, and refuse symmetric algorithms and empty lists.
    #[test]
    fn generated_settings() {
        let s = EncryptionSettings::generate(
            [A::EcdhEsA256Kw, A::EcdhEs, A::RsaOaep256],
            [ContentEncryption::A128Gcm],
        )
        .unwrap();
        let m = s.metadata();
        let jwks = &m["credential_request_encryption"]["jwks"]["keys"];
        assert_eq!(jwks.as_array().unwrap().len(), 2);
        assert_eq!(jwks[0]["alg"], "ECDH-ES+A256KW");
        assert_eq!(jwks[1]["alg"], "RSA-OAEP-256");
        assert!(jwks[0].get("d").is_none(), "public keys only");
        assert_eq!(
            m["credential_response_encryption"]["alg_values_supported"],
            serde_json::json!(["ECDH-ES+A256KW", "ECDH-ES", "RSA-OAEP-256"])
        );
        for (i, alg) in [(0, A::EcdhEsA256Kw), (1, A::RsaOaep256)] {
            let public = Key::from_jwk(Jwk::from_value(jwks[i].clone()).unwrap()).unwrap();
            let jwe = Encryptor::new(ContentEncryption::A128Gcm)
                .recipient(Recipient::new(&public, alg))
                .encrypt(b"{}")
                .unwrap()
                .compact()
                .unwrap();
            assert_eq!(s.decrypt_request(jwe.as_bytes()).unwrap(), b"{}");
        }
        for bad_alg in [A::Dir, A::A128Kw, A::A256GcmKw, A::Pbes2Hs256A128Kw] {
            assert!(EncryptionSettings::generate([bad_alg], [ContentEncryption::A128Gcm]).is_err());
        }
        assert!(EncryptionSettings::generate([], [ContentEncryption::A128Gcm]).is_err());
        assert!(EncryptionSettings::generate([A::EcdhEs], []).is_err());
    }
}
