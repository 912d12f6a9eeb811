//! Disclosures (RFC 9901 §4.2): `base64url(["<salt>", "<name>", <value>])` for object
//! properties, `base64url(["<salt>", <value>])` for array elements.

use idforge_jose::b64;
use rand::{CryptoRng, RngCore};
use serde_json::Value;

use crate::hash::{truncate, DigestText, SdAlg};
use crate::{Error, Result};

/// Bytes of salt the issuer draws per Disclosure: 128 bits, the minimum RFC 9901 §9.3
/// recommends.
pub const SALT_BYTES: usize = 16;

/// One decoded Disclosure, keeping the exact string it was received as: digests are always
/// computed over that string, never over a re-encoding (RFC 9901 §4.2.3, §7.1 step 3.1).
#[derive(Debug, Clone, PartialEq)]
pub struct Disclosure {
    encoded: String,
    salt: String,
    name: Option<String>,
    value: Value,
}

impl Disclosure {
    /// Decodes a Disclosure string. Rejects (RFC 9901 §4.2.1, §4.2.2, §7.1 step 3): non-strict
    /// base64url, JSON that is not an array of exactly 2 or 3 elements, a salt or claim name
    /// that is not a string, duplicate object member names inside the value, nesting deeper
    /// than `max_depth`.
    pub fn parse(encoded: &str, max_depth: usize) -> Result<Self> {
        let bytes = b64::decode(encoded, "disclosure")
            .map_err(|_| Error::MalformedDisclosure("not base64url".into()))?;
        let value =
            crate::json::parse_value(&bytes, max_depth, "disclosure").map_err(|e| match e {
                Error::LimitExceeded(m) => Error::LimitExceeded(m),
                other => Error::MalformedDisclosure(other.to_string()),
            })?;
        let Value::Array(mut items) = value else {
            return Err(Error::MalformedDisclosure("not a JSON array".into()));
        };
        let (salt, name, value) = match items.len() {
            2 => {
                let value = items.pop().unwrap_or(Value::Null);
                (items.pop().unwrap_or(Value::Null), None, value)
            }
            3 => {
                let value = items.pop().unwrap_or(Value::Null);
                let name = items.pop().unwrap_or(Value::Null);
                (items.pop().unwrap_or(Value::Null), Some(name), value)
            }
            n => {
                return Err(Error::MalformedDisclosure(format!(
                    "{n} elements; expected 2 (array element) or 3 (object property)"
                )))
            }
        };
        let Value::String(salt) = salt else {
            return Err(Error::MalformedDisclosure("salt is not a string".into()));
        };
        let name = match name {
            None => None,
            Some(Value::String(n)) => Some(n),
            Some(_) => {
                return Err(Error::MalformedDisclosure(
                    "claim name is not a string".into(),
                ))
            }
        };
        Ok(Disclosure {
            encoded: encoded.to_owned(),
            salt,
            name,
            value,
        })
    }

    /// Builds a Disclosure from its parts, encoding `[salt, name?, value]` as compact JSON.
    pub fn from_parts(salt: impl Into<String>, name: Option<&str>, value: Value) -> Result<Self> {
        let salt = salt.into();
        if let Some(n) = name {
            if n == "_sd" || n == "..." {
                return Err(Error::ForbiddenClaimName(n.to_owned()));
            }
        }
        // Written straight into one buffer: `["<salt>","<name>",<value>]`.
        let mut json = Vec::with_capacity(64);
        let fail = |e: serde_json::Error| Error::Malformed(format!("disclosure value: {e}"));
        json.push(b'[');
        serde_json::to_writer(&mut json, &salt).map_err(fail)?;
        if let Some(n) = name {
            json.push(b',');
            serde_json::to_writer(&mut json, n).map_err(fail)?;
        }
        json.push(b',');
        serde_json::to_writer(&mut json, &value).map_err(fail)?;
        json.push(b']');
        Ok(Disclosure {
            encoded: b64::encode(json),
            salt,
            name: name.map(str::to_owned),
            value,
        })
    }

    /// A new Disclosure with a fresh 128-bit salt from `rng` (RFC 9901 §4.2.1, §9.3).
    pub fn new<R: RngCore + CryptoRng + ?Sized>(
        rng: &mut R,
        name: Option<&str>,
        value: Value,
    ) -> Result<Self> {
        Disclosure::from_parts(new_salt(rng), name, value)
    }

    /// The Disclosure exactly as encoded.
    pub fn encoded(&self) -> &str {
        &self.encoded
    }
    /// The salt.
    pub fn salt(&self) -> &str {
        &self.salt
    }
    /// The claim name (`None` for an array element).
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }
    /// The claim value as disclosed (may itself hold `_sd` digests: recursive disclosure).
    pub fn value(&self) -> &Value {
        &self.value
    }
    /// Whether this discloses an array element (2-element form, RFC 9901 §4.2.2).
    pub fn is_array_element(&self) -> bool {
        self.name.is_none()
    }
    /// The digest over the encoded string (RFC 9901 §4.2.3).
    pub fn digest(&self, alg: SdAlg) -> String {
        alg.digest_b64(&self.encoded)
    }
    /// Moves the encoded text and the value out, leaving them empty (processing uses each
    /// Disclosure once).
    pub(crate) fn take_parts(&mut self) -> (String, Value) {
        (
            std::mem::take(&mut self.encoded),
            std::mem::take(&mut self.value),
        )
    }

    /// A short description that names the claim but not its value.
    pub(crate) fn label(&self) -> String {
        match &self.name {
            Some(n) => format!("`{}`", truncate(n)),
            None => "array element".into(),
        }
    }
}

/// A fresh salt: 128 random bits, base64url-encoded (RFC 9901 §9.3).
pub fn new_salt<R: RngCore + CryptoRng + ?Sized>(rng: &mut R) -> String {
    let mut salt = [0u8; SALT_BYTES];
    rng.fill_bytes(&mut salt);
    b64::encode(salt)
}

/// A decoy digest (RFC 9901 §4.2.5): the hash of 128 fresh random bits, indistinguishable from
/// a real digest.
pub fn decoy_digest<R: RngCore + CryptoRng + ?Sized>(rng: &mut R, alg: SdAlg) -> String {
    decoy_digest_text(rng, alg).as_str().to_owned()
}

/// [`decoy_digest`] without allocating.
pub(crate) fn decoy_digest_text<R: RngCore + CryptoRng + ?Sized>(
    rng: &mut R,
    alg: SdAlg,
) -> DigestText {
    let mut bytes = [0u8; SALT_BYTES];
    rng.fill_bytes(&mut bytes);
    alg.digest_text(&bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn shapes() {
        let d = Disclosure::from_parts("salt", Some("n"), json!(1)).unwrap();
        let back = Disclosure::parse(d.encoded(), 8).unwrap();
        assert_eq!(back, d);
        let e = Disclosure::from_parts("salt", None, json!("x")).unwrap();
        assert!(Disclosure::parse(e.encoded(), 8)
            .unwrap()
            .is_array_element());
        for bad in [
            json!([]),
            json!(["s"]),
            json!(["s", "n", 1, 2]),
            json!([1, "n", 1]),
            json!(["s", 1, 1]),
            json!({"a": 1}),
        ] {
            let enc = b64::encode(serde_json::to_vec(&bad).unwrap());
            assert!(
                matches!(
                    Disclosure::parse(&enc, 8),
                    Err(Error::MalformedDisclosure(_))
                ),
                "{bad}"
            );
        }
        assert!(Disclosure::parse("not base64!", 8).is_err());
        assert!(Disclosure::from_parts("s", Some("_sd"), json!(1)).is_err());
    }
}
