//! ECDH-ES key agreement (RFC 7518 §4.6, RFC 8037 §3.2): ephemeral keys, `epk` validation and
//! the Concat KDF of NIST SP 800-56A §5.8.1 as profiled by RFC 7518 §4.6.2.

use idforge_jose::crypto::{self, EcCurve, HashAlg, OkpCurve, PrivateKey, PublicKey};
use idforge_jose::jwk::{Jwk, KeyParams};
use idforge_jose::{b64, Key};
use serde_json::{Map, Value};

use crate::alg::AgreementCurve;
use crate::{Error, Result};

/// The Concat KDF of RFC 7518 §4.6.2 (NIST SP 800-56A §5.8.1 with SHA-256):
/// `K = H(1 || Z || OtherInfo) || H(2 || Z || OtherInfo) || …`, truncated to `key_len` bytes,
/// where `OtherInfo = AlgorithmID || PartyUInfo || PartyVInfo || SuppPubInfo` and each of the
/// first three is a 32-bit big-endian length followed by the bytes; `SuppPubInfo` is the key
/// length in bits as a 32-bit big-endian integer; `SuppPrivInfo` is empty.
///
/// `algorithm_id` is the `enc` name for direct agreement and the `alg` name for `+KW`
/// (RFC 7518 §4.6.2); `apu`/`apv` are the decoded `apu`/`apv` header values (empty if absent).
pub fn concat_kdf(z: &[u8], algorithm_id: &str, apu: &[u8], apv: &[u8], key_len: usize) -> Vec<u8> {
    let mut other = Vec::with_capacity(16 + algorithm_id.len() + apu.len() + apv.len());
    for field in [algorithm_id.as_bytes(), apu, apv] {
        other.extend_from_slice(&(field.len() as u32).to_be_bytes());
        other.extend_from_slice(field);
    }
    other.extend_from_slice(&((key_len as u32).wrapping_mul(8)).to_be_bytes());
    let mut out = Vec::with_capacity(key_len + 32);
    let mut counter: u32 = 1;
    while out.len() < key_len {
        let mut input = Vec::with_capacity(4 + z.len() + other.len());
        input.extend_from_slice(&counter.to_be_bytes());
        input.extend_from_slice(z);
        input.extend_from_slice(&other);
        out.extend_from_slice(&HashAlg::Sha256.digest(&input));
        counter = counter.wrapping_add(1);
    }
    out.truncate(key_len);
    out
}

/// Parses an `epk` header value (a public JWK, RFC 7518 §4.6.1.1) and validates it against the
/// recipient's curve: the key type and `crv` must be the recipient's, an EC point must lie on
/// that curve (the invalid-curve attack), an X25519 key must be 32 bytes (RFC 8037 §2).
pub fn parse_epk(epk: &Value, curve_of_recipient: &Key) -> Result<PublicKey> {
    match checked_epk(epk, curve_of_recipient)? {
        Epk::Ec(c, jwk) => match &jwk.params {
            KeyParams::Ec { x, y, .. } => crypto::ec_public(c, x, y).map_err(|_| not_on(c)),
            _ => Err(Error::Backend),
        },
        Epk::X25519(jwk) => match &jwk.params {
            KeyParams::Okp { x, .. } => crypto::okp_public(OkpCurve::X25519, x)
                .map_err(|_| Error::InvalidKey("epk is not an X25519 key".into())),
            _ => Err(Error::Backend),
        },
    }
}

/// An `epk` whose members passed the checks of [`parse_epk`], on the recipient's curve.
enum Epk {
    Ec(EcCurve, Jwk),
    X25519(Jwk),
}

fn not_on(c: EcCurve) -> Error {
    Error::InvalidKey(format!("epk is not a point on {}", c.name()))
}

/// The checks of [`parse_epk`] up to, not including, building the key: a JSON object with no
/// private member, a well-formed JWK, on the recipient key's curve.
fn checked_epk(epk: &Value, curve_of_recipient: &Key) -> Result<Epk> {
    let want = AgreementCurve::of(curve_of_recipient)
        .ok_or_else(|| Error::InvalidKey("the recipient key cannot do ECDH".into()))?;
    let Some(members) = epk.as_object() else {
        return Err(Error::InvalidHeader("`epk` must be a JSON object".into()));
    };
    // RFC 7518 §4.6.1.1: `epk` is the sender's ephemeral *public* key; private members mean a
    // confused or hostile sender (and would be echoed wherever the header is logged).
    const PRIVATE: [&str; 8] = ["d", "p", "q", "dp", "dq", "qi", "oth", "k"];
    if let Some(m) = PRIVATE.iter().find(|m| members.contains_key(**m)) {
        return Err(Error::InvalidHeader(format!(
            "`epk` must be a public key; it carries the private member `{m}`"
        )));
    }
    let jwk = Jwk::from_value(epk.clone()).map_err(|e| match Error::from(e) {
        Error::InvalidKey(m) => Error::InvalidKey(format!("epk: {m}")),
        other => other,
    })?;
    match (&jwk.params, want) {
        (KeyParams::Ec { crv, .. }, AgreementCurve::Ec(c)) if *crv == c => Ok(Epk::Ec(c, jwk)),
        (
            KeyParams::Okp {
                crv: OkpCurve::X25519,
                ..
            },
            AgreementCurve::X25519,
        ) => Ok(Epk::X25519(jwk)),
        _ => Err(Error::InvalidKey(
            "epk is not on the recipient key's curve".into(),
        )),
    }
}

/// The raw shared secret `Z` between the recipient's private key and an `epk` header value,
/// validated with [`parse_epk`]. An all-zero X25519 result (a small-order `epk`) is rejected
/// (RFC 7748 §6.1, RFC 8037 §3.2).
pub fn shared_secret(recipient: &Key, epk: &Value) -> Result<Vec<u8>> {
    let failed = || Error::InvalidKey("ECDH with the epk failed".into());
    match checked_epk(epk, recipient)? {
        // NIST curves: the point goes straight into the multiplication, with the checks
        // `parse_epk` makes (decision 0014); no EC key object is built around it.
        Epk::Ec(c, jwk) => {
            let KeyParams::Ec { x, y, .. } = &jwk.params else {
                return Err(Error::Backend);
            };
            let private = recipient.private_key()?;
            crypto::ecdh_point(private, c, x, y).map_err(|_| {
                // Tell an invalid point apart from a failed agreement, as `parse_epk` does.
                if crypto::ec_public(c, x, y).is_err() {
                    not_on(c)
                } else {
                    failed()
                }
            })
        }
        Epk::X25519(_) => {
            let peer = parse_epk(epk, recipient)?;
            let private = recipient.private_key()?;
            crypto::ecdh(private, &peer).map_err(|_| failed())
        }
    }
}

/// An ephemeral key pair for the sender side, with its `epk` JSON.
pub(crate) struct Ephemeral {
    pub(crate) private: PrivateKey,
    pub(crate) epk: Value,
}

/// The `epk` JWK of the ephemeral key, its public part taken straight from the private key.
fn epk_value(private: &PrivateKey, curve: AgreementCurve) -> Result<Value> {
    let mut m = Map::new();
    match curve {
        AgreementCurve::Ec(c) => {
            let (x, y) = crypto::ec_private_coordinates(private, c)?;
            m.insert("kty".into(), "EC".into());
            m.insert("crv".into(), c.name().into());
            m.insert("x".into(), b64::encode(x).into());
            m.insert("y".into(), b64::encode(y).into());
        }
        AgreementCurve::X25519 => {
            let x = crypto::okp_private_public_bytes(private)?;
            m.insert("kty".into(), "OKP".into());
            m.insert("crv".into(), "X25519".into());
            m.insert("x".into(), b64::encode(x).into());
        }
    }
    Ok(Value::Object(m))
}

/// A fresh ephemeral key on the recipient's curve, or the caller's injected one (checked to be
/// on the same curve and to hold a private part).
pub(crate) fn ephemeral(recipient: &Key, injected: Option<&Key>) -> Result<Ephemeral> {
    let curve = AgreementCurve::of(recipient)
        .ok_or_else(|| Error::InvalidKey("the recipient key cannot do ECDH".into()))?;
    let public = recipient
        .public_key()
        .ok_or_else(|| Error::InvalidKey("the recipient key has no public part".into()))?;
    let private = match injected {
        Some(k) => {
            if AgreementCurve::of(k) != Some(curve) {
                return Err(Error::InvalidKey(
                    "the ephemeral key is not on the recipient's curve".into(),
                ));
            }
            k.private_key()?.clone()
        }
        None => crypto::ephemeral_like(public).map_err(|_| Error::Backend)?,
    };
    let epk = epk_value(&private, curve)?;
    Ok(Ephemeral { private, epk })
}

/// `Z` on the sender side: the ephemeral private key with the recipient's public key.
pub(crate) fn sender_secret(eph: &Ephemeral, recipient: &Key) -> Result<Vec<u8>> {
    let public = recipient
        .public_key()
        .ok_or_else(|| Error::InvalidKey("the recipient key has no public part".into()))?;
    crypto::ecdh(&eph.private, public).map_err(|_| Error::InvalidKey("ECDH failed".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 7518 Appendix C: ECDH-ES with apu "Alice", apv "Bob", enc A128GCM; Z and the
    /// derived key are from the RFC text.
    #[test]
    fn rfc7518_appendix_c_concat_kdf() {
        let z: [u8; 32] = [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196,
        ];
        let k = concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 16);
        assert_eq!(b64::encode(k), "VqqN6vgjbSBcIijNcacQGg");
    }

    #[test]
    fn an_epk_with_private_members_is_refused() {
        let recipient = Key::generate(idforge_jose::KeySpec::Ec(crypto::EcCurve::P256)).unwrap();
        let sender = Key::generate(idforge_jose::KeySpec::Ec(crypto::EcCurve::P256)).unwrap();
        let public = sender.jwk().to_public().unwrap().to_value();
        assert!(parse_epk(&public, &recipient).is_ok());
        let private = sender.jwk().to_value();
        assert!(private.get("d").is_some());
        assert!(
            matches!(parse_epk(&private, &recipient), Err(Error::InvalidHeader(m)) if m.contains("`d`"))
        );
    }
}
