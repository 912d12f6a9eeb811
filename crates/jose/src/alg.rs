//! JWS algorithms (RFC 7518 §3, RFC 8037 §3.1) and which keys fit them.

use crate::crypto::{EcCurve, HashAlg, OkpCurve, SignatureScheme};
use crate::jwk::{Jwk, KeyParams};
use crate::key::Key;
use crate::{Error, Result};

/// A JWS `alg`. `none` is deliberately not representable (RFC 8725 §3.2).
#[allow(clippy::upper_case_acronyms)]
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum JwsAlgorithm {
    /// HMAC SHA-256.
    HS256,
    /// HMAC SHA-384.
    HS384,
    /// HMAC SHA-512.
    HS512,
    /// RSASSA-PKCS1-v1_5 SHA-256.
    RS256,
    /// RSASSA-PKCS1-v1_5 SHA-384.
    RS384,
    /// RSASSA-PKCS1-v1_5 SHA-512.
    RS512,
    /// RSASSA-PSS SHA-256.
    PS256,
    /// RSASSA-PSS SHA-384.
    PS384,
    /// RSASSA-PSS SHA-512.
    PS512,
    /// ECDSA P-256 SHA-256.
    ES256,
    /// ECDSA P-384 SHA-384.
    ES384,
    /// ECDSA P-521 SHA-512.
    ES512,
    /// EdDSA with Ed25519 (RFC 8037).
    EdDSA,
}

impl JwsAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [JwsAlgorithm; 13] = [
        Self::HS256,
        Self::HS384,
        Self::HS512,
        Self::RS256,
        Self::RS384,
        Self::RS512,
        Self::PS256,
        Self::PS384,
        Self::PS512,
        Self::ES256,
        Self::ES384,
        Self::ES512,
        Self::EdDSA,
    ];

    /// The registered `alg` name.
    pub fn name(self) -> &'static str {
        match self {
            Self::HS256 => "HS256",
            Self::HS384 => "HS384",
            Self::HS512 => "HS512",
            Self::RS256 => "RS256",
            Self::RS384 => "RS384",
            Self::RS512 => "RS512",
            Self::PS256 => "PS256",
            Self::PS384 => "PS384",
            Self::PS512 => "PS512",
            Self::ES256 => "ES256",
            Self::ES384 => "ES384",
            Self::ES512 => "ES512",
            Self::EdDSA => "EdDSA",
        }
    }

    /// Parses an `alg` name; `none` and unknown names are [`Error::UnsupportedAlgorithm`].
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| Error::UnsupportedAlgorithm(name.to_owned()))
    }

    /// Whether this is a MAC (symmetric) algorithm.
    pub fn is_symmetric(self) -> bool {
        matches!(self, Self::HS256 | Self::HS384 | Self::HS512)
    }

    /// The hash the algorithm uses (SHA-512 for EdDSA, as Ed25519 does internally).
    pub fn hash(self) -> HashAlg {
        match self {
            Self::HS256 | Self::RS256 | Self::PS256 | Self::ES256 => HashAlg::Sha256,
            Self::HS384 | Self::RS384 | Self::PS384 | Self::ES384 => HashAlg::Sha384,
            Self::HS512 | Self::RS512 | Self::PS512 | Self::ES512 | Self::EdDSA => HashAlg::Sha512,
        }
    }

    /// The primitive behind an asymmetric algorithm; `None` for HMAC.
    pub fn scheme(self) -> Option<SignatureScheme> {
        Some(match self {
            Self::HS256 | Self::HS384 | Self::HS512 => return None,
            Self::RS256 | Self::RS384 | Self::RS512 => SignatureScheme::RsaPkcs1(self.hash()),
            Self::PS256 | Self::PS384 | Self::PS512 => SignatureScheme::RsaPss(self.hash()),
            Self::ES256 => SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256),
            Self::ES384 => SignatureScheme::Ecdsa(HashAlg::Sha384, EcCurve::P384),
            Self::ES512 => SignatureScheme::Ecdsa(HashAlg::Sha512, EcCurve::P521),
            Self::EdDSA => SignatureScheme::Ed25519,
        })
    }

    /// Checks that `jwk` may be used with this algorithm: key type and curve, minimum sizes
    /// (RFC 7518 §3.2: HMAC key ≥ hash size; §3.3/§3.5: RSA ≥ 2048 bits), and the JWK's own
    /// `alg` member when present (RFC 7517 §4.4). This is what stops key confusion: an HS*
    /// token can never be checked with an RSA or EC public key, since those are not `oct`.
    pub fn check_key(self, key: &Key) -> Result<()> {
        let jwk = key.jwk();
        if let Some(alg) = &jwk.alg {
            if alg != self.name() {
                return Err(Error::KeyMismatch(format!(
                    "key is for {alg}, not {}",
                    self.name()
                )));
            }
        }
        let ok = match (self, &jwk.params) {
            (Self::HS256 | Self::HS384 | Self::HS512, KeyParams::Oct { k }) => {
                if k.expose().len() < self.hash().len() {
                    return Err(Error::KeyMismatch(format!(
                        "{} needs a key of at least {} bytes",
                        self.name(),
                        self.hash().len()
                    )));
                }
                true
            }
            (
                Self::RS256 | Self::RS384 | Self::RS512 | Self::PS256 | Self::PS384 | Self::PS512,
                KeyParams::Rsa { .. },
            ) => {
                if key.rsa_bits().unwrap_or(0) < 2048 {
                    return Err(Error::KeyMismatch(
                        "RSA keys must have at least 2048 bits".into(),
                    ));
                }
                true
            }
            (
                Self::ES256,
                KeyParams::Ec {
                    crv: EcCurve::P256, ..
                },
            )
            | (
                Self::ES384,
                KeyParams::Ec {
                    crv: EcCurve::P384, ..
                },
            )
            | (
                Self::ES512,
                KeyParams::Ec {
                    crv: EcCurve::P521, ..
                },
            )
            | (
                Self::EdDSA,
                KeyParams::Okp {
                    crv: OkpCurve::Ed25519,
                    ..
                },
            ) => true,
            _ => false,
        };
        if ok {
            Ok(())
        } else {
            let kind = describe(jwk);
            // "an EC / RSA / OKP key" (read as letters), "an oct key".
            Err(Error::KeyMismatch(format!(
                "an {kind} key cannot be used with {}",
                self.name()
            )))
        }
    }

    /// Every algorithm `key` fits (its type, curve, size and `alg` member).
    pub fn fitting(key: &Key) -> Vec<JwsAlgorithm> {
        Self::ALL
            .into_iter()
            .filter(|a| a.check_key(key).is_ok())
            .collect()
    }
}

fn describe(jwk: &Jwk) -> String {
    match &jwk.params {
        KeyParams::Ec { crv, .. } => format!("EC {}", crv.name()),
        KeyParams::Okp { crv, .. } => format!("OKP {}", crv.name()),
        KeyParams::Rsa { .. } => "RSA".into(),
        KeyParams::Oct { .. } => "oct".into(),
    }
}

impl std::fmt::Display for JwsAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for JwsAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}

impl serde::Serialize for JwsAlgorithm {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

impl<'de> serde::Deserialize<'de> for JwsAlgorithm {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        Self::from_name(&s).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jwk::KeySpec;

    #[test]
    fn none_is_not_an_algorithm() {
        assert!(matches!(
            JwsAlgorithm::from_name("none"),
            Err(Error::UnsupportedAlgorithm(_))
        ));
        assert!(
            JwsAlgorithm::from_name("hs256").is_err(),
            "names are case-sensitive"
        );
    }

    #[test]
    fn key_confusion_is_impossible() {
        let ec = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        assert!(JwsAlgorithm::HS256
            .check_key(&ec.to_public().unwrap())
            .is_err());
        assert_eq!(JwsAlgorithm::fitting(&ec), vec![JwsAlgorithm::ES256]);
        let short = Key::from_json(r#"{"kty":"oct","k":"AAAAAAAAAAAAAAAAAAAAAA"}"#).unwrap();
        assert!(JwsAlgorithm::HS256.check_key(&short).is_err());
    }
}
