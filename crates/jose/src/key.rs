//! [`Key`]: a JWK checked and loaded into the crypto backend, ready to use.

use crate::crypto::{self, EcCurve, OkpCurve, PrivateKey, PublicKey};
use crate::jwk::{Jwk, KeyParams, KeySpec};
use crate::{Error, Result};

#[derive(Clone)]
enum Material {
    Pair {
        private: PrivateKey,
        public: PublicKey,
    },
    Public(PublicKey),
    Secret,
}

/// A validated key. Building one does the expensive checks (point on curve, RSA consistency)
/// once, so signing and verifying with it later is just the primitive.
#[derive(Clone)]
pub struct Key {
    jwk: Jwk,
    material: Material,
}

impl std::fmt::Debug for Key {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Key")
            .field("kty", &self.jwk.kty())
            .field("kid", &self.jwk.kid)
            .field("private", &self.is_private())
            .finish()
    }
}

impl Key {
    /// Validates `jwk` and loads it into the backend.
    pub fn from_jwk(jwk: Jwk) -> Result<Key> {
        let material = match &jwk.params {
            KeyParams::Ec { crv, x, y, d } => match d {
                Some(d) => {
                    let private = crypto::ec_private(*crv, x, y, d.expose())?;
                    let public = crypto::ec_public(*crv, x, y)?;
                    Material::Pair { private, public }
                }
                None => Material::Public(crypto::ec_public(*crv, x, y)?),
            },
            KeyParams::Rsa { n, e, private } => {
                let public = crypto::rsa_public(n, e)?;
                match private {
                    Some(parts) => Material::Pair {
                        private: crypto::rsa_private(n, e, parts)?,
                        public,
                    },
                    None => Material::Public(public),
                }
            }
            KeyParams::Okp { crv, x, d } => {
                let public = crypto::okp_public(*crv, x)?;
                match d {
                    Some(d) => Material::Pair {
                        private: crypto::okp_private(*crv, x, d.expose())?,
                        public,
                    },
                    None => Material::Public(public),
                }
            }
            KeyParams::Oct { .. } => Material::Secret,
        };
        Ok(Key { jwk, material })
    }

    /// Parses and validates a JWK from JSON text.
    pub fn from_json(text: &str) -> Result<Key> {
        Key::from_jwk(Jwk::from_json(text)?)
    }

    /// Generates a fresh private key.
    pub fn generate(spec: KeySpec) -> Result<Key> {
        Key::from_jwk(Jwk::generate(spec)?)
    }

    /// The JWK this key was built from.
    pub fn jwk(&self) -> &Jwk {
        &self.jwk
    }

    /// The JWK this key was built from, by value (no copy).
    pub fn into_jwk(self) -> Jwk {
        self.jwk
    }

    /// The key id, if any.
    pub fn kid(&self) -> Option<&str> {
        self.jwk.kid.as_deref()
    }

    /// Whether private or secret material is present.
    pub fn is_private(&self) -> bool {
        !matches!(self.material, Material::Public(_))
    }

    /// The public JWK to publish; `None` for symmetric keys.
    pub fn public_jwk(&self) -> Option<Jwk> {
        self.jwk.to_public()
    }

    /// A key holding only the public part; `None` for symmetric keys.
    pub fn to_public(&self) -> Option<Key> {
        let public = self.public_key()?.clone();
        Some(Key {
            jwk: self.jwk.to_public()?,
            material: Material::Public(public),
        })
    }

    /// The backend public key of an asymmetric key.
    pub fn public_key(&self) -> Option<&PublicKey> {
        match &self.material {
            Material::Pair { public, .. } | Material::Public(public) => Some(public),
            Material::Secret => None,
        }
    }

    /// The backend private key, when present.
    pub fn private_key(&self) -> Result<&PrivateKey> {
        match &self.material {
            Material::Pair { private, .. } => Ok(private),
            _ => Err(Error::PrivateKeyRequired),
        }
    }

    /// The bytes of a symmetric (`oct`) key.
    pub fn secret(&self) -> Option<&[u8]> {
        match &self.jwk.params {
            KeyParams::Oct { k } => Some(k.expose()),
            _ => None,
        }
    }

    /// The curve of an EC key.
    pub fn ec_curve(&self) -> Option<EcCurve> {
        match &self.jwk.params {
            KeyParams::Ec { crv, .. } => Some(*crv),
            _ => None,
        }
    }

    /// The curve of an OKP key.
    pub fn okp_curve(&self) -> Option<OkpCurve> {
        match &self.jwk.params {
            KeyParams::Okp { crv, .. } => Some(*crv),
            _ => None,
        }
    }

    /// Modulus size of an RSA key in bits.
    pub fn rsa_bits(&self) -> Option<u32> {
        match &self.jwk.params {
            KeyParams::Rsa { n, .. } => {
                let n = &n[n.iter().position(|b| *b != 0).unwrap_or(n.len())..];
                Some(n.first().map_or(0, |top| {
                    (n.len() as u32 - 1) * 8 + (8 - top.leading_zeros())
                }))
            }
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn off_curve_point_is_rejected() {
        let good = Jwk::generate(KeySpec::Ec(EcCurve::P256))
            .unwrap()
            .to_public()
            .unwrap();
        assert!(Key::from_jwk(good.clone()).is_ok());
        let mut bad = good;
        if let KeyParams::Ec { y, .. } = &mut bad.params {
            y[31] ^= 1;
        }
        let r = Key::from_jwk(bad);
        assert!(matches!(r, Err(Error::InvalidKey(_))), "{r:?}");
    }

    #[test]
    fn mismatched_private_key_is_rejected() {
        let a = Jwk::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let b = Jwk::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let mut mixed = a.clone();
        if let (KeyParams::Ec { d, .. }, KeyParams::Ec { d: db, .. }) =
            (&mut mixed.params, &b.params)
        {
            *d = db.clone();
        }
        assert!(Key::from_jwk(mixed).is_err());
        assert!(Key::from_jwk(a).is_ok());
    }

    #[test]
    fn rsa_bits() {
        let k = Key::generate(KeySpec::Rsa(2048)).unwrap();
        assert_eq!(k.rsa_bits(), Some(2048));
    }
}
