//! Where a `jwt` proof's key comes from (OID4VCI 1.0 Appendix F.1: exactly one of `kid`, `jwk`,
//! `x5c` in the proof's JOSE header), turned into the public JWK the credential is bound to
//! (`cnf.jwk`, RFC 7800):
//!
//! - `jwk`: the key itself (binding method `jwk`, §12.2.4);
//! - `kid`: a DID URL naming the key (Appendix F.1 "If the Credential shall be bound to a DID,
//!   the `kid` refers to a DID URL which identifies a particular key in the DID Document");
//!   the self-certifying methods `did:jwk` (the DID *is* the JWK) and `did:key` for P-256 keys
//!   are resolved here, without any network access, when the template lists them among its
//!   binding methods;
//! - `x5c`: a certificate chain (RFC 7515 §4.1.6), validated against the trust anchors the
//!   issuer is configured with (RFC 5280 path validation at the request's time); the leaf's key
//!   is bound. With no anchors configured, `x5c` proofs are refused: an unanchored chain proves
//!   nothing a bare `jwk` would not.

use idforge_jose::crypto::{self, ChainValidation, EcCurve, OkpCurve, PublicKey, PublicKeyKind};
use idforge_jose::{b64, Header, Jwk, KeyParams};
use idforge_oauth_core::Error;
use serde_json::Value;

use crate::error::invalid_proof;
use crate::template::BindingMethod;

/// Longest DID URL accepted in a proof's `kid` (a `did:jwk` of an RSA-4096 key is ~1 KiB).
pub const MAX_DID_URL_BYTES: usize = 4096;
/// Most certificates accepted in a proof's `x5c` (leaf included).
pub const MAX_X5C_CERTIFICATES: usize = 10;

/// The multicodec prefix of a P-256 public key in `did:key` (`p256-pub`, code 0x1200, as an
/// unsigned varint), followed by the 33-byte SEC 1 compressed point (did:key spec §3.1.4).
const P256_PUB_MULTICODEC: [u8; 2] = [0x80, 0x24];

/// The public JWK a DID URL in a proof's `kid` names, for the DID methods in `methods`.
///
/// - `did:jwk:<base64url(JWK)>#0` (did:jwk spec: the only verification method is `#0`);
/// - `did:key:z<base58btc(0x1200 varint || compressed P-256 point)>#<same identifier>`
///   (did:key spec: the verification method's fragment repeats the method-specific id).
///
/// A DID without a fragment names a document, not a key, and is refused; so are other
/// methods, methods the template does not list, private keys and malformed encodings.
pub fn did_url_jwk(kid: &str, methods: &[BindingMethod]) -> Result<Jwk, Error> {
    if kid.len() > MAX_DID_URL_BYTES {
        return Err(invalid_proof("the proof `kid` is too long"));
    }
    let (did, fragment) = kid
        .split_once('#')
        .ok_or_else(|| invalid_proof("the proof `kid` must be a DID URL naming a key"))?;
    if let Some(encoded) = did.strip_prefix("did:jwk:") {
        if !methods.contains(&BindingMethod::DidJwk) {
            return Err(invalid_proof(
                "this credential is not bound to did:jwk keys",
            ));
        }
        if fragment != "0" {
            return Err(invalid_proof("a did:jwk key is `#0`"));
        }
        let bytes =
            b64::decode(encoded, "did:jwk").map_err(|_| invalid_proof("malformed did:jwk"))?;
        let jwk = std::str::from_utf8(&bytes)
            .ok()
            .and_then(|t| Jwk::from_json(t).ok())
            .ok_or_else(|| invalid_proof("malformed did:jwk"))?;
        if jwk.is_private() {
            return Err(invalid_proof("a did:jwk must hold a public key"));
        }
        return Ok(jwk);
    }
    if let Some(id) = did.strip_prefix("did:key:") {
        if !methods.contains(&BindingMethod::DidKey) {
            return Err(invalid_proof(
                "this credential is not bound to did:key keys",
            ));
        }
        if fragment != id {
            return Err(invalid_proof(
                "a did:key key's fragment is its method-specific identifier",
            ));
        }
        let bytes = id
            .strip_prefix('z')
            .and_then(base58btc)
            .ok_or_else(|| invalid_proof("malformed did:key"))?;
        let point = bytes
            .strip_prefix(&P256_PUB_MULTICODEC[..])
            .filter(|p| p.len() == 33)
            .ok_or_else(|| invalid_proof("only P-256 did:key keys are supported"))?;
        let key = crypto::ec_public_sec1(EcCurve::P256, point)
            .map_err(|_| invalid_proof("the did:key is not a P-256 point"))?;
        return public_jwk(&key);
    }
    Err(invalid_proof(
        "the proof `kid` must be a did:jwk or did:key DID URL",
    ))
}

/// The leaf key of a proof's `x5c` (an array of base64, not base64url, DER certificates,
/// leaf first; RFC 7515 §4.1.6) in `header`, once the chain validates to one of `anchors`
/// (DER) at `now`.
pub fn x5c_jwk(header: &Header, anchors: &[Vec<u8>], now: i64) -> Result<Jwk, Error> {
    if anchors.is_empty() {
        return Err(invalid_proof(
            "this issuer has no trust anchors for `x5c` proofs",
        ));
    }
    if let Some(Value::Array(items)) = header.get("x5c") {
        if items.len() > MAX_X5C_CERTIFICATES {
            return Err(invalid_proof("`x5c` holds too many certificates"));
        }
    }
    let ders = idforge_sd_jwt::vc::x5c_der(header)
        .ok()
        .flatten()
        .ok_or_else(|| {
            invalid_proof("`x5c` must be a non-empty array of base64 DER certificates")
        })?;
    let validation = ChainValidation {
        time: now,
        max_chain_len: MAX_X5C_CERTIFICATES,
    };
    let chain = crypto::x509_verify_chain(&ders[0], &ders[1..], anchors, &validation)
        .map_err(|e| invalid_proof(format!("the `x5c` chain does not validate: {}", e.code())))?;
    public_jwk(&chain.key)
}

/// The public JWK of a backend key (EC, RSA, Ed25519).
fn public_jwk(key: &PublicKey) -> Result<Jwk, Error> {
    let unusable = |_| invalid_proof("unusable proof key");
    let params = match crypto::public_key_kind(key) {
        PublicKeyKind::Ec(crv) => {
            let (x, y) = crypto::ec_coordinates(key, crv).map_err(unusable)?;
            KeyParams::Ec { crv, x, y, d: None }
        }
        PublicKeyKind::Rsa(_) => {
            let (n, e) = crypto::rsa_public_components(key).map_err(unusable)?;
            KeyParams::Rsa {
                n,
                e,
                private: None,
            }
        }
        PublicKeyKind::Ed25519 => KeyParams::Okp {
            crv: OkpCurve::Ed25519,
            x: crypto::okp_public_bytes(key).map_err(unusable)?,
            d: None,
        },
        _ => return Err(invalid_proof("unsupported proof key type")),
    };
    Ok(Jwk::from_params(params))
}

/// base58btc (the Bitcoin alphabet), as multibase `z` uses it; `None` on a foreign character.
fn base58btc(text: &str) -> Option<Vec<u8>> {
    const ALPHABET: &[u8; 58] = b"123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz";
    // Little-endian base-256 digits while accumulating.
    let mut out: Vec<u8> = Vec::with_capacity(text.len());
    for c in text.bytes() {
        let mut carry = ALPHABET.iter().position(|&a| a == c)? as u32;
        for digit in out.iter_mut() {
            carry += u32::from(*digit) * 58;
            *digit = carry as u8;
            carry >>= 8;
        }
        while carry > 0 {
            out.push(carry as u8);
            carry >>= 8;
        }
    }
    // Each leading '1' is a leading zero byte.
    out.extend(std::iter::repeat_n(
        0,
        text.bytes().take_while(|&c| c == b'1').count(),
    ));
    out.reverse();
    Some(out)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// base58btc encoding, for tests that build `did:key` identifiers.
    pub(crate) fn base58btc_encode(bytes: &[u8]) -> String {
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

    #[test]
    fn base58btc_round_trips_and_rejects_foreign_characters() {
        for bytes in [&b""[..], b"\0\0abc", b"hello world", &[0x80, 0x24, 3, 0xff]] {
            assert_eq!(base58btc(&base58btc_encode(bytes)).unwrap(), bytes);
        }
        // The Bitcoin alphabet has no 0, O, I, l.
        assert!(base58btc("z0").is_none());
        assert!(base58btc("Il").is_none());
        assert_eq!(base58btc("2g").unwrap(), b"a");
    }

    /// The P-256 example of the did:key spec (§3.1.4 test vectors) resolves to a point on
    /// the curve; its fragment must repeat the identifier.
    #[test]
    fn did_key_spec_example() {
        let id = "zDnaerDaTF5BXEavCrfRZEk316dpbLsfPDZ3WJ5hRTPFU2169";
        let methods = [BindingMethod::DidKey];
        let jwk = did_url_jwk(&format!("did:key:{id}#{id}"), &methods).unwrap();
        assert!(matches!(
            jwk.params,
            KeyParams::Ec {
                crv: EcCurve::P256,
                ..
            }
        ));
        assert!(did_url_jwk(&format!("did:key:{id}#0"), &methods).is_err());
        assert!(did_url_jwk(&format!("did:key:{id}"), &methods).is_err());
        assert!(did_url_jwk(&format!("did:key:{id}#{id}"), &[BindingMethod::Jwk]).is_err());
        // An Ed25519 did:key (multicodec 0xed) is not supported.
        let ed = "z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK";
        assert!(did_url_jwk(&format!("did:key:{ed}#{ed}"), &methods).is_err());
    }

    #[test]
    fn did_jwk_rules() {
        let key = idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(EcCurve::P256)).unwrap();
        let public = key.public_jwk().unwrap();
        let did = format!("did:jwk:{}", b64::encode(public.to_json()));
        let methods = [BindingMethod::DidJwk];
        assert_eq!(did_url_jwk(&format!("{did}#0"), &methods).unwrap(), public);
        assert!(did_url_jwk(&did, &methods).is_err(), "no fragment");
        assert!(did_url_jwk(&format!("{did}#1"), &methods).is_err());
        assert!(did_url_jwk(&format!("{did}#0"), &[BindingMethod::Jwk]).is_err());
        let private = format!("did:jwk:{}#0", b64::encode(key.jwk().to_json()));
        assert!(did_url_jwk(&private, &methods).is_err(), "private key");
        assert!(did_url_jwk("did:jwk:!!#0", &methods).is_err());
        assert!(did_url_jwk("did:web:example.com#key-1", &methods).is_err());
        assert!(did_url_jwk(&"x".repeat(MAX_DID_URL_BYTES + 1), &methods).is_err());
    }
}
