//! JWK Sets (RFC 7517 §5): the published document and the prepared set used to verify.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::alg::JwsAlgorithm;
use crate::jwk::Jwk;
use crate::key::Key;
use crate::signer::{verify_with_key, Verifier};
use crate::{Error, Result};

/// A JWK Set document: `{"keys": [...]}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct JwkSet {
    /// The keys.
    pub keys: Vec<Jwk>,
}

impl JwkSet {
    /// Parses a JWK Set. Keys of an unknown `kty` or curve are skipped, as RFC 7517 §5 asks
    /// ("SHOULD ignore JWKs within a JWK Set that use kty values that are not understood");
    /// a malformed key of a known type is an error, so a typo is not silently dropped.
    pub fn from_json(text: &str) -> Result<Self> {
        let value: Value =
            crate::json::parse_value(text.as_bytes(), crate::jwk::JWK_MAX_DEPTH, "JWK Set")?;
        Self::from_value(value)
    }

    /// Parses a JWK Set from a JSON value.
    pub fn from_value(value: Value) -> Result<Self> {
        let Some(Value::Array(items)) = value.get("keys").cloned() else {
            return Err(Error::Malformed("a JWK Set needs a `keys` array".into()));
        };
        let mut keys = Vec::with_capacity(items.len());
        for item in items {
            match Jwk::from_value(item) {
                Ok(k) => keys.push(k),
                Err(Error::InvalidKey(m)) if m.starts_with("unsupported") => continue,
                Err(e) => return Err(e),
            }
        }
        Ok(JwkSet { keys })
    }

    /// Reads either a JWK Set or a single JWK (handy for CLI `--key` files).
    pub fn from_jwk_or_set(text: &str) -> Result<Self> {
        let value: Value =
            crate::json::parse_value(text.as_bytes(), crate::jwk::JWK_MAX_DEPTH, "key file")?;
        if value.get("keys").is_some() {
            Self::from_value(value)
        } else {
            Ok(JwkSet {
                keys: vec![Jwk::from_value(value)?],
            })
        }
    }

    /// Serializes to JSON text.
    pub fn to_json(&self) -> String {
        serde_json::json!({ "keys": self.keys.iter().map(Jwk::to_value).collect::<Vec<_>>() })
            .to_string()
    }

    /// The same set with only public parts; symmetric keys are dropped.
    pub fn to_public(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Jwk::to_public).collect(),
        }
    }
}

impl<'de> Deserialize<'de> for JwkSet {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        JwkSet::from_value(Value::deserialize(d)?).map_err(serde::de::Error::custom)
    }
}

/// Prepared keys, each validated once, with selection by `kid`, `alg` and `use`.
#[derive(Debug, Clone, Default)]
pub struct KeySet {
    keys: Vec<Key>,
}

impl KeySet {
    /// Validates every key of a JWK Set.
    ///
    /// Two kinds of set are refused as ambiguous (Wycheproof `MixedKeySet`, `DuplicateKid`):
    /// - a mix of public-only keys with private or secret keys: a set is either what a party
    ///   publishes or what it holds, and a mix usually means a secret was published;
    /// - two keys with the same `kid` and `kty`: RFC 7517 §4.5 allows a shared `kid` only for
    ///   keys of different types, otherwise `kid` no longer says which key signed.
    ///
    /// [`KeySet::new`] builds a set from prepared keys without these checks.
    pub fn from_jwk_set(set: &JwkSet) -> Result<Self> {
        let has_public = set.keys.iter().any(|k| !k.is_private());
        let has_private = set.keys.iter().any(Jwk::is_private);
        if has_public && has_private {
            return Err(Error::InvalidKey(
                "a JWK Set must not mix public keys with private or secret keys".into(),
            ));
        }
        for (i, a) in set.keys.iter().enumerate() {
            let Some(kid) = &a.kid else { continue };
            if set.keys[..i]
                .iter()
                .any(|b| b.kid.as_ref() == Some(kid) && b.kty() == a.kty())
            {
                return Err(Error::InvalidKey(format!(
                    "two `{}` keys share the kid `{kid}`",
                    a.kty()
                )));
            }
        }
        let keys = set
            .keys
            .iter()
            .cloned()
            .map(Key::from_jwk)
            .collect::<Result<Vec<_>>>()?;
        Ok(KeySet { keys })
    }

    /// A set of already prepared keys.
    pub fn new(keys: Vec<Key>) -> Self {
        KeySet { keys }
    }

    /// The keys.
    pub fn keys(&self) -> &[Key] {
        &self.keys
    }

    /// Adds a key.
    pub fn push(&mut self, key: Key) {
        self.keys.push(key)
    }

    /// Keys that may verify a token with `alg` and header `kid`: when the token names a `kid`
    /// only keys with that `kid` qualify (RFC 7515 §4.1.4); type, size, `alg` and `use` must fit.
    pub fn candidates<'a>(
        &'a self,
        alg: JwsAlgorithm,
        kid: Option<&'a str>,
    ) -> impl Iterator<Item = &'a Key> + 'a {
        self.keys.iter().filter(move |k| {
            kid.is_none_or(|want| k.kid() == Some(want))
                && alg.check_key(k).is_ok()
                && k.jwk().permits("verify")
        })
    }

    /// The public JWK Set to publish.
    pub fn public_jwks(&self) -> JwkSet {
        JwkSet {
            keys: self.keys.iter().filter_map(Key::public_jwk).collect(),
        }
    }
}

impl Verifier for KeySet {
    fn verify(
        &self,
        alg: JwsAlgorithm,
        kid: Option<&str>,
        signing_input: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        let mut tried = false;
        for key in self.candidates(alg, kid) {
            tried = true;
            if verify_with_key(key, alg, signing_input, signature).is_ok() {
                return Ok(());
            }
        }
        if tried {
            Err(Error::InvalidSignature)
        } else {
            Err(Error::KeyNotFound(match kid {
                Some(kid) => format!("no {alg} key with kid `{kid}`"),
                None => format!("no key fits {alg}"),
            }))
        }
    }
}
