//! The crypto backend: the only module that touches OpenSSL.
//!
//! Everything above this module works with idforge's own types, so the backend can be swapped by
//! rewriting this file alone (see `docs/decisions/0001-crypto-backend.md`). The JWE crate uses the
//! primitives here too (AES, RSA-OAEP, ECDH, key wrap), so there is exactly one backend in the
//! workspace. Functions are deliberately low level: they check nothing the protocols decide.

use openssl::bn::{BigNum, BigNumContext};
use openssl::ec::{EcGroup, EcKey, EcPoint};
use openssl::ecdsa::EcdsaSig;
use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{Id, PKey, Private, Public};
use openssl::rsa::{Padding, Rsa, RsaPrivateKeyBuilder};
use openssl::sign::{RsaPssSaltlen, Signer, Verifier};
use openssl::symm::Cipher;

use crate::{Error, Result};

/// A primitive failed (bad tag, bad padding, malformed ciphertext). Deliberately carries no
/// detail: distinguishing failure causes in decryption is how padding oracles start.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("cryptographic operation failed")]
pub struct CryptoError;

impl From<openssl::error::ErrorStack> for CryptoError {
    fn from(_: openssl::error::ErrorStack) -> Self {
        CryptoError
    }
}

/// Hash functions used by the JOSE algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum HashAlg {
    /// SHA-1: only for RSA-OAEP (RFC 7518 §4.3) where the algorithm fixes it.
    Sha1,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

impl HashAlg {
    fn md(self) -> MessageDigest {
        match self {
            HashAlg::Sha1 => MessageDigest::sha1(),
            HashAlg::Sha256 => MessageDigest::sha256(),
            HashAlg::Sha384 => MessageDigest::sha384(),
            HashAlg::Sha512 => MessageDigest::sha512(),
        }
    }

    /// Output length in bytes.
    #[allow(clippy::len_without_is_empty)] // a digest length, not a container
    pub fn len(self) -> usize {
        match self {
            HashAlg::Sha1 => 20,
            HashAlg::Sha256 => 32,
            HashAlg::Sha384 => 48,
            HashAlg::Sha512 => 64,
        }
    }

    /// Hashes `data`.
    ///
    /// Uses OpenSSL's low-level `SHA*_Init/Update/Final` (the `openssl::sha` hashers) rather
    /// than the EVP interface: same output, without OpenSSL 3's per-call algorithm fetch (a lock
    /// and a name lookup; the one-shot `SHA256()` goes through it too), about 8x cheaper for
    /// the small inputs SD-JWT hashes by the dozen (Disclosures).
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        let mut out = [0u8; 64];
        let n = self.digest_into(data, &mut out);
        out[..n].to_vec()
    }

    /// Hashes `data` into `out` without allocating; returns the digest length
    /// ([`HashAlg::len`]). For hot loops that hash many small inputs.
    pub fn digest_into(self, data: &[u8], out: &mut [u8; 64]) -> usize {
        use openssl::sha::{Sha1, Sha256, Sha384, Sha512};
        fn put(out: &mut [u8; 64], digest: &[u8]) -> usize {
            out[..digest.len()].copy_from_slice(digest);
            digest.len()
        }
        match self {
            HashAlg::Sha1 => {
                let mut h = Sha1::new();
                h.update(data);
                put(out, &h.finish())
            }
            HashAlg::Sha256 => {
                let mut h = Sha256::new();
                h.update(data);
                put(out, &h.finish())
            }
            HashAlg::Sha384 => {
                let mut h = Sha384::new();
                h.update(data);
                put(out, &h.finish())
            }
            HashAlg::Sha512 => {
                let mut h = Sha512::new();
                h.update(data);
                put(out, &h.finish())
            }
        }
    }
}

/// NIST curves for EC keys (RFC 7518 §6.2.1.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EcCurve {
    /// P-256 (secp256r1).
    P256,
    /// P-384 (secp384r1).
    P384,
    /// P-521 (secp521r1).
    P521,
}

impl EcCurve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            EcCurve::P256 => "P-256",
            EcCurve::P384 => "P-384",
            EcCurve::P521 => "P-521",
        }
    }

    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "P-256" => Some(EcCurve::P256),
            "P-384" => Some(EcCurve::P384),
            "P-521" => Some(EcCurve::P521),
            _ => None,
        }
    }

    /// Length of one coordinate (and of `d`) in bytes (RFC 7518 §6.2.1.2).
    pub fn coordinate_len(self) -> usize {
        match self {
            EcCurve::P256 => 32,
            EcCurve::P384 => 48,
            EcCurve::P521 => 66,
        }
    }

    fn nid(self) -> Nid {
        match self {
            EcCurve::P256 => Nid::X9_62_PRIME256V1,
            EcCurve::P384 => Nid::SECP384R1,
            EcCurve::P521 => Nid::SECP521R1,
        }
    }

    fn group(self) -> Result<EcGroup> {
        EcGroup::from_curve_name(self.nid()).map_err(|_| Error::Backend)
    }
}

/// Octet key pair curves (RFC 8037).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum OkpCurve {
    /// Ed25519 signatures.
    Ed25519,
    /// X25519 key agreement.
    X25519,
}

impl OkpCurve {
    /// The JWK `crv` name.
    pub fn name(self) -> &'static str {
        match self {
            OkpCurve::Ed25519 => "Ed25519",
            OkpCurve::X25519 => "X25519",
        }
    }

    /// Parses a JWK `crv` name.
    pub fn from_name(name: &str) -> Option<Self> {
        match name {
            "Ed25519" => Some(OkpCurve::Ed25519),
            "X25519" => Some(OkpCurve::X25519),
            _ => None,
        }
    }

    fn id(self) -> Id {
        match self {
            OkpCurve::Ed25519 => Id::ED25519,
            OkpCurve::X25519 => Id::X25519,
        }
    }
}

/// A validated private key held by the backend.
#[derive(Clone)]
pub struct PrivateKey {
    pkey: PKey<Private>,
}

/// A validated public key held by the backend.
#[derive(Clone)]
pub struct PublicKey {
    pkey: PKey<Public>,
}

impl std::fmt::Debug for PrivateKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PrivateKey(..)")
    }
}

impl std::fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PublicKey(..)")
    }
}

fn bn(bytes: &[u8]) -> Result<BigNum> {
    BigNum::from_slice(bytes).map_err(|_| Error::Backend)
}

fn invalid(msg: &str) -> Error {
    Error::InvalidKey(msg.to_owned())
}

/// The parts of an RSA private key (RFC 7518 §6.3.2), big-endian unsigned.
#[derive(Clone, PartialEq, Eq)]
pub struct RsaPrivateParts {
    /// Private exponent.
    pub d: Vec<u8>,
    /// CRT parameters `p, q, dp, dq, qi`, when known.
    pub crt: Option<[Vec<u8>; 5]>,
}

impl std::fmt::Debug for RsaPrivateParts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("RsaPrivateParts(..)")
    }
}

/// Builds an RSA public key from modulus and exponent.
///
/// Rejects exponents that are even or below 3 (RFC 8017 §3.1; with `e = 1` every "signature"
/// is its own encoded message, so anyone can forge) and moduli with the ROCA fingerprint
/// (CVE-2017-15361: keys from the Infineon library whose factors can be recovered).
pub fn rsa_public(n: &[u8], e: &[u8]) -> Result<PublicKey> {
    let e_digits = strip_leading_zeros(e);
    let e_small = e_digits.len() == 1 && e_digits[0] < 3;
    if e_digits.is_empty() || e_small || e_digits[e_digits.len() - 1] & 1 == 0 {
        return Err(invalid("RSA public exponent must be odd and at least 3"));
    }
    if has_roca_fingerprint(n) {
        return Err(invalid(
            "RSA modulus has the ROCA fingerprint (CVE-2017-15361)",
        ));
    }
    let rsa =
        Rsa::from_public_components(bn(n)?, bn(e)?).map_err(|_| invalid("bad RSA public key"))?;
    let pkey = PKey::from_rsa(rsa).map_err(|_| Error::Backend)?;
    Ok(PublicKey { pkey })
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    &b[b.iter().position(|x| *x != 0).unwrap_or(b.len())..]
}

/// The ROCA test of Nemec et al. (CCS 2017): moduli generated by the vulnerable Infineon
/// library are, modulo each small prime `p` below, a power of 65537. A random modulus passes
/// all 38 residue tests with negligible probability (< 2^-150).
fn has_roca_fingerprint(n: &[u8]) -> bool {
    const PRIMES: [u32; 38] = [
        3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113, 127, 131, 137, 139, 149, 151, 157, 163, 167,
    ];
    PRIMES.iter().all(|&p| {
        let residue = n.iter().fold(0u32, |r, b| (r * 256 + u32::from(*b)) % p);
        let generator = 65537 % p;
        // Walk the cyclic subgroup generated by 65537 mod p (order < p).
        let mut power = 1u32;
        for _ in 0..p {
            if power == residue {
                return true;
            }
            power = power * generator % p;
        }
        false
    })
}

/// Builds an RSA private key and checks that its parts are consistent (RFC 7518 §6.3.2).
pub fn rsa_private(n: &[u8], e: &[u8], parts: &RsaPrivateParts) -> Result<PrivateKey> {
    let rsa = match &parts.crt {
        Some([p, q, dp, dq, qi]) => Rsa::from_private_components(
            bn(n)?,
            bn(e)?,
            bn(&parts.d)?,
            bn(p)?,
            bn(q)?,
            bn(dp)?,
            bn(dq)?,
            bn(qi)?,
        )
        .map_err(|_| invalid("bad RSA private key"))?,
        None => RsaPrivateKeyBuilder::new(bn(n)?, bn(e)?, bn(&parts.d)?)
            .map_err(|_| invalid("bad RSA private key"))?
            .build(),
    };
    if parts.crt.is_some() && !rsa.check_key().unwrap_or(false) {
        return Err(invalid("RSA private key parts are inconsistent"));
    }
    let pkey = PKey::from_rsa(rsa).map_err(|_| Error::Backend)?;
    Ok(PrivateKey { pkey })
}

/// Generates an RSA key of `bits` bits with e = 65537; returns `(n, e, parts)`.
pub fn rsa_generate(bits: u32) -> Result<(Vec<u8>, Vec<u8>, RsaPrivateParts)> {
    let rsa = Rsa::generate(bits).map_err(|_| Error::Backend)?;
    let crt = match (rsa.p(), rsa.q(), rsa.dmp1(), rsa.dmq1(), rsa.iqmp()) {
        (Some(p), Some(q), Some(dp), Some(dq), Some(qi)) => Some([
            p.to_vec(),
            q.to_vec(),
            dp.to_vec(),
            dq.to_vec(),
            qi.to_vec(),
        ]),
        _ => None,
    };
    let parts = RsaPrivateParts {
        d: rsa.d().to_vec(),
        crt,
    };
    Ok((rsa.n().to_vec(), rsa.e().to_vec(), parts))
}

/// Builds an EC public key; rejects points that are not on the curve (invalid-curve attacks).
///
/// Validation is the full public-key check of SP 800-56A §5.6.2.3.4 minus the `n·Q = O` step,
/// which is redundant here: P-256, P-384 and P-521 have cofactor 1, so every affine point on
/// the curve has prime order `n` (and affine coordinates cannot encode the point at infinity).
/// Skipping that scalar multiplication (`EC_KEY_check_key`, which
/// `EC_KEY_set_public_key_affine_coordinates` runs internally) makes loading a key about as cheap
/// as parsing it; verifiers that load a key per token (SD-JWT key binding `cnf.jwk`) need that.
pub fn ec_public(curve: EcCurve, x: &[u8], y: &[u8]) -> Result<PublicKey> {
    // Building a group object costs tens of microseconds; the three curves (and their field
    // primes) are built once. Immutable curve constants, not state.
    static GROUPS: [std::sync::OnceLock<Option<(EcGroup, BigNum)>>; 3] = [
        std::sync::OnceLock::new(),
        std::sync::OnceLock::new(),
        std::sync::OnceLock::new(),
    ];
    let slot = match curve {
        EcCurve::P256 => &GROUPS[0],
        EcCurve::P384 => &GROUPS[1],
        EcCurve::P521 => &GROUPS[2],
    };
    let (group, p) = slot
        .get_or_init(|| {
            let group = curve.group().ok()?;
            let mut ctx = BigNumContext::new().ok()?;
            let (mut p, mut a, mut b) = (
                BigNum::new().ok()?,
                BigNum::new().ok()?,
                BigNum::new().ok()?,
            );
            group
                .components_gfp(&mut p, &mut a, &mut b, &mut ctx)
                .ok()?;
            Some((group, p))
        })
        .as_ref()
        .ok_or(Error::Backend)?;
    let (x, y) = (bn(x)?, bn(y)?);
    let mut ctx = BigNumContext::new().map_err(|_| Error::Backend)?;
    // Coordinates are field elements: 0 <= x, y < p (no non-canonical encodings).
    if x.ucmp(p) != std::cmp::Ordering::Less || y.ucmp(p) != std::cmp::Ordering::Less {
        return Err(invalid("EC point is not on the curve"));
    }
    let mut point = EcPoint::new(group).map_err(|_| Error::Backend)?;
    point
        .set_affine_coordinates_gfp(group, &x, &y, &mut ctx)
        .map_err(|_| invalid("EC point is not on the curve"))?;
    if !point.is_on_curve(group, &mut ctx).unwrap_or(false) {
        return Err(invalid("EC point is not on the curve"));
    }
    let ec = EcKey::from_public_key(group, &point).map_err(|_| Error::Backend)?;
    let pkey = PKey::from_ec_key(ec).map_err(|_| Error::Backend)?;
    Ok(PublicKey { pkey })
}

/// Builds an EC private key and checks that `d` matches the public point.
pub fn ec_private(curve: EcCurve, x: &[u8], y: &[u8], d: &[u8]) -> Result<PrivateKey> {
    let group = curve.group()?;
    let public = EcKey::from_public_key_affine_coordinates(&group, &*bn(x)?, &*bn(y)?)
        .map_err(|_| invalid("EC point is not on the curve"))?;
    let ec = EcKey::from_private_components(&group, &*bn(d)?, public.public_key())
        .map_err(|_| invalid("bad EC private key"))?;
    // check_key verifies that d·G equals the public point and that d is in range.
    ec.check_key()
        .map_err(|_| invalid("EC private key does not match its public point"))?;
    let pkey = PKey::from_ec_key(ec).map_err(|_| Error::Backend)?;
    Ok(PrivateKey { pkey })
}

fn pad_left(bytes: Vec<u8>, len: usize) -> Vec<u8> {
    if bytes.len() >= len {
        return bytes;
    }
    let mut out = vec![0u8; len - bytes.len()];
    out.extend_from_slice(&bytes);
    out
}

/// Generates an EC key; returns `(x, y, d)`, each padded to the curve's full length.
pub fn ec_generate(curve: EcCurve) -> Result<(Vec<u8>, Vec<u8>, Vec<u8>)> {
    let group = curve.group()?;
    let ec = EcKey::generate(&group).map_err(|_| Error::Backend)?;
    let (x, y) = affine(&group, ec.public_key())?;
    let n = curve.coordinate_len();
    Ok((
        pad_left(x, n),
        pad_left(y, n),
        pad_left(ec.private_key().to_vec(), n),
    ))
}

fn affine(
    group: &openssl::ec::EcGroupRef,
    point: &openssl::ec::EcPointRef,
) -> Result<(Vec<u8>, Vec<u8>)> {
    let mut ctx = BigNumContext::new().map_err(|_| Error::Backend)?;
    let mut x = BigNum::new().map_err(|_| Error::Backend)?;
    let mut y = BigNum::new().map_err(|_| Error::Backend)?;
    point
        .affine_coordinates(group, &mut x, &mut y, &mut ctx)
        .map_err(|_| Error::Backend)?;
    Ok((x.to_vec(), y.to_vec()))
}

/// The affine coordinates of an EC public key, padded to the curve length.
pub fn ec_coordinates(key: &PublicKey, curve: EcCurve) -> Result<(Vec<u8>, Vec<u8>)> {
    let ec = key.pkey.ec_key().map_err(|_| invalid("not an EC key"))?;
    let (x, y) = affine(ec.group(), ec.public_key())?;
    let n = curve.coordinate_len();
    Ok((pad_left(x, n), pad_left(y, n)))
}

/// Builds an Ed25519/X25519 public key from its 32 raw bytes.
pub fn okp_public(curve: OkpCurve, x: &[u8]) -> Result<PublicKey> {
    if x.len() != 32 {
        return Err(invalid("OKP public key must be 32 bytes"));
    }
    let pkey = PKey::public_key_from_raw_bytes(x, curve.id())
        .map_err(|_| invalid("bad OKP public key"))?;
    Ok(PublicKey { pkey })
}

/// Builds an Ed25519/X25519 private key and checks that `x` is its public key (RFC 8037 §2).
pub fn okp_private(curve: OkpCurve, x: &[u8], d: &[u8]) -> Result<PrivateKey> {
    if d.len() != 32 {
        return Err(invalid("OKP private key must be 32 bytes"));
    }
    let pkey = PKey::private_key_from_raw_bytes(d, curve.id())
        .map_err(|_| invalid("bad OKP private key"))?;
    let derived = pkey.raw_public_key().map_err(|_| Error::Backend)?;
    if !ct_eq(&derived, x) {
        return Err(invalid("OKP private key does not match x"));
    }
    Ok(PrivateKey { pkey })
}

/// Generates an OKP key; returns `(x, d)`.
pub fn okp_generate(curve: OkpCurve) -> Result<(Vec<u8>, Vec<u8>)> {
    let pkey = match curve {
        OkpCurve::Ed25519 => PKey::generate_ed25519(),
        OkpCurve::X25519 => PKey::generate_x25519(),
    }
    .map_err(|_| Error::Backend)?;
    let x = pkey.raw_public_key().map_err(|_| Error::Backend)?;
    let d = pkey.raw_private_key().map_err(|_| Error::Backend)?;
    Ok((x, d))
}

/// The raw 32-byte public key of an OKP key.
pub fn okp_public_bytes(key: &PublicKey) -> Result<Vec<u8>> {
    key.pkey
        .raw_public_key()
        .map_err(|_| invalid("not an OKP key"))
}

impl PrivateKey {
    /// The public half.
    pub fn public_key(&self) -> Result<PublicKey> {
        let der = self.pkey.public_key_to_der().map_err(|_| Error::Backend)?;
        let pkey = PKey::public_key_from_der(&der).map_err(|_| Error::Backend)?;
        Ok(PublicKey { pkey })
    }
}

/// Signature schemes at the primitive level (the JWS layer maps `alg` names onto these).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureScheme {
    /// RSASSA-PKCS1-v1_5 with the hash.
    RsaPkcs1(HashAlg),
    /// RSASSA-PSS with the hash, MGF1 with the same hash, salt length = hash length (RFC 7518 §3.5).
    RsaPss(HashAlg),
    /// ECDSA with the hash; signatures are the fixed-length `r || s` of RFC 7518 §3.4.
    Ecdsa(HashAlg, EcCurve),
    /// Pure Ed25519 (RFC 8037 §3.1).
    Ed25519,
}

/// Signs `data` with `key` under `scheme`.
pub fn sign(
    key: &PrivateKey,
    scheme: SignatureScheme,
    data: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    match scheme {
        SignatureScheme::RsaPkcs1(h) => {
            let mut s = Signer::new(h.md(), &key.pkey)?;
            s.set_rsa_padding(Padding::PKCS1)?;
            Ok(s.sign_oneshot_to_vec(data)?)
        }
        SignatureScheme::RsaPss(h) => {
            let mut s = Signer::new(h.md(), &key.pkey)?;
            s.set_rsa_padding(Padding::PKCS1_PSS)?;
            s.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            s.set_rsa_mgf1_md(h.md())?;
            Ok(s.sign_oneshot_to_vec(data)?)
        }
        SignatureScheme::Ecdsa(h, curve) => {
            let mut s = Signer::new(h.md(), &key.pkey)?;
            let der = s.sign_oneshot_to_vec(data)?;
            let sig = EcdsaSig::from_der(&der)?;
            let n = curve.coordinate_len();
            let mut out = sig.r().to_vec_padded(n as i32)?;
            out.extend_from_slice(&sig.s().to_vec_padded(n as i32)?);
            Ok(out)
        }
        SignatureScheme::Ed25519 => {
            let mut s = Signer::new_without_digest(&key.pkey)?;
            Ok(s.sign_oneshot_to_vec(data)?)
        }
    }
}

/// Verifies a signature; `Ok(false)` for a well-formed but wrong signature.
pub fn verify(
    key: &PublicKey,
    scheme: SignatureScheme,
    data: &[u8],
    signature: &[u8],
) -> Result<bool, CryptoError> {
    match scheme {
        SignatureScheme::RsaPkcs1(h) => {
            let mut v = Verifier::new(h.md(), &key.pkey)?;
            v.set_rsa_padding(Padding::PKCS1)?;
            Ok(v.verify_oneshot(signature, data).unwrap_or(false))
        }
        SignatureScheme::RsaPss(h) => {
            let mut v = Verifier::new(h.md(), &key.pkey)?;
            v.set_rsa_padding(Padding::PKCS1_PSS)?;
            v.set_rsa_pss_saltlen(RsaPssSaltlen::DIGEST_LENGTH)?;
            v.set_rsa_mgf1_md(h.md())?;
            Ok(v.verify_oneshot(signature, data).unwrap_or(false))
        }
        SignatureScheme::Ecdsa(h, curve) => {
            // RFC 7518 §3.4: exactly two fixed-length integers; DER or short forms are invalid.
            let n = curve.coordinate_len();
            if signature.len() != 2 * n {
                return Ok(false);
            }
            let r = BigNum::from_slice(&signature[..n])?;
            let s = BigNum::from_slice(&signature[n..])?;
            let sig = EcdsaSig::from_private_components(r, s)?;
            // `ECDSA_do_verify` on the EC key rather than EVP: the same verification
            // (r and s range-checked, digest truncated to the order), without OpenSSL 3's
            // per-call fetch and, for a key loaded moments ago (an SD-JWT `cnf.jwk`), without
            // exporting it to the provider on first use, which costs about half a
            // verification.
            let ec = key.pkey.ec_key()?;
            let mut digest = [0u8; 64];
            let len = h.digest_into(data, &mut digest);
            let ok = sig.verify(&digest[..len], &ec).unwrap_or(false);
            if !ok {
                // A rejected signature leaves an entry on OpenSSL's error queue; drop it so
                // it cannot be reported against a later, unrelated call.
                drop(openssl::error::ErrorStack::get());
            }
            Ok(ok)
        }
        SignatureScheme::Ed25519 => {
            if signature.len() != 64 {
                return Ok(false);
            }
            let mut v = Verifier::new_without_digest(&key.pkey)?;
            Ok(v.verify_oneshot(signature, data).unwrap_or(false))
        }
    }
}

/// HMAC (RFC 2104) of `data` under `key`.
pub fn hmac(hash: HashAlg, key: &[u8], data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    let pkey = PKey::hmac(key)?;
    let mut s = Signer::new(hash.md(), &pkey)?;
    Ok(s.sign_oneshot_to_vec(data)?)
}

/// Constant-time equality; lengths are compared first (lengths are not secret here).
pub fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && openssl::memcmp::eq(a, b)
}

/// Fills `buf` from the operating system's CSPRNG (via OpenSSL's DRBG).
pub fn random_bytes(buf: &mut [u8]) -> Result<(), CryptoError> {
    Ok(openssl::rand::rand_bytes(buf)?)
}

fn gcm_cipher(key: &[u8]) -> Result<Cipher, CryptoError> {
    match key.len() {
        16 => Ok(Cipher::aes_128_gcm()),
        24 => Ok(Cipher::aes_192_gcm()),
        32 => Ok(Cipher::aes_256_gcm()),
        _ => Err(CryptoError),
    }
}

fn cbc_cipher(key: &[u8]) -> Result<Cipher, CryptoError> {
    match key.len() {
        16 => Ok(Cipher::aes_128_cbc()),
        24 => Ok(Cipher::aes_192_cbc()),
        32 => Ok(Cipher::aes_256_cbc()),
        _ => Err(CryptoError),
    }
}

/// AES-GCM encryption with a 96-bit IV and a 128-bit tag; returns `(ciphertext, tag)`.
pub fn aes_gcm_encrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    plaintext: &[u8],
) -> Result<(Vec<u8>, [u8; 16]), CryptoError> {
    if iv.len() != 12 {
        return Err(CryptoError);
    }
    let mut tag = [0u8; 16];
    let ct =
        openssl::symm::encrypt_aead(gcm_cipher(key)?, key, Some(iv), aad, plaintext, &mut tag)?;
    Ok((ct, tag))
}

/// AES-GCM decryption; the tag must be exactly 128 bits (no truncated tags).
pub fn aes_gcm_decrypt(
    key: &[u8],
    iv: &[u8],
    aad: &[u8],
    ciphertext: &[u8],
    tag: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if iv.len() != 12 || tag.len() != 16 {
        return Err(CryptoError);
    }
    Ok(openssl::symm::decrypt_aead(
        gcm_cipher(key)?,
        key,
        Some(iv),
        aad,
        ciphertext,
        tag,
    )?)
}

/// AES-CBC encryption with PKCS#7 padding.
pub fn aes_cbc_encrypt(key: &[u8], iv: &[u8], plaintext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if iv.len() != 16 {
        return Err(CryptoError);
    }
    Ok(openssl::symm::encrypt(
        cbc_cipher(key)?,
        key,
        Some(iv),
        plaintext,
    )?)
}

/// AES-CBC decryption with PKCS#7 padding. Callers must authenticate first (encrypt-then-MAC).
pub fn aes_cbc_decrypt(key: &[u8], iv: &[u8], ciphertext: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if iv.len() != 16 {
        return Err(CryptoError);
    }
    Ok(openssl::symm::decrypt(
        cbc_cipher(key)?,
        key,
        Some(iv),
        ciphertext,
    )?)
}

/// AES-CBC decryption without padding removal (the ciphertext must be whole blocks). XML
/// Encryption 1.1 §5.2 pads with arbitrary bytes and only the last byte is the pad length, so
/// the caller strips it; callers must not reveal *why* a decryption failed (padding oracles).
pub fn aes_cbc_decrypt_raw(
    key: &[u8],
    iv: &[u8],
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    if iv.len() != 16 || ciphertext.is_empty() || !ciphertext.len().is_multiple_of(16) {
        return Err(CryptoError);
    }
    let mut c = openssl::symm::Crypter::new(
        cbc_cipher(key)?,
        openssl::symm::Mode::Decrypt,
        key,
        Some(iv),
    )?;
    c.pad(false);
    let mut out = vec![0u8; ciphertext.len() + 16];
    let n = c.update(ciphertext, &mut out)?;
    let m = c.finalize(out.get_mut(n..).ok_or(CryptoError)?)?;
    out.truncate(n + m);
    Ok(out)
}

/// AES Key Wrap (RFC 3394) of `key_data` under `kek`.
pub fn aes_key_wrap(kek: &[u8], key_data: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if key_data.len() < 16 || !key_data.len().is_multiple_of(8) {
        return Err(CryptoError);
    }
    let aes = openssl::aes::AesKey::new_encrypt(kek).map_err(|_| CryptoError)?;
    let mut out = vec![0u8; key_data.len() + 8];
    openssl::aes::wrap_key(&aes, None, &mut out, key_data).map_err(|_| CryptoError)?;
    Ok(out)
}

/// AES Key Unwrap (RFC 3394); fails when the integrity check value does not match.
pub fn aes_key_unwrap(kek: &[u8], wrapped: &[u8]) -> Result<Vec<u8>, CryptoError> {
    if wrapped.len() < 24 || !wrapped.len().is_multiple_of(8) {
        return Err(CryptoError);
    }
    let aes = openssl::aes::AesKey::new_decrypt(kek).map_err(|_| CryptoError)?;
    let mut out = vec![0u8; wrapped.len() - 8];
    openssl::aes::unwrap_key(&aes, None, &mut out, wrapped).map_err(|_| CryptoError)?;
    Ok(out)
}

/// RSAES-OAEP encryption with `hash` for both the label hash and MGF1 (RFC 8017 §7.1).
pub fn rsa_oaep_encrypt(
    key: &PublicKey,
    hash: HashAlg,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut enc = Encrypter::new(&key.pkey)?;
    enc.set_rsa_padding(Padding::PKCS1_OAEP)?;
    enc.set_rsa_oaep_md(hash.md())?;
    enc.set_rsa_mgf1_md(hash.md())?;
    let mut out = vec![0u8; enc.encrypt_len(plaintext)?];
    let n = enc.encrypt(plaintext, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// RSAES-OAEP decryption (constant-time in OpenSSL).
pub fn rsa_oaep_decrypt(
    key: &PrivateKey,
    hash: HashAlg,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decrypter::new(&key.pkey)?;
    dec.set_rsa_padding(Padding::PKCS1_OAEP)?;
    dec.set_rsa_oaep_md(hash.md())?;
    dec.set_rsa_mgf1_md(hash.md())?;
    let mut out = vec![0u8; dec.decrypt_len(ciphertext)?];
    let n = dec.decrypt(ciphertext, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// Raw Diffie-Hellman (ECDH on NIST curves, X25519 on OKP keys). Both keys must be of the same
/// type and curve; an all-zero X25519 result (small-order peer point) is rejected (RFC 7748 §6.1).
pub fn ecdh(private: &PrivateKey, peer: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    let mut deriver = openssl::derive::Deriver::new(&private.pkey)?;
    deriver.set_peer(&peer.pkey)?;
    let z = deriver.derive_to_vec()?;
    // Only X25519 has small-order points; on the prime-order NIST curves an all-zero x
    // coordinate is a legitimate shared secret (Wycheproof ecdh_secp256r1 tcId 2).
    if private.pkey.id() == Id::X25519 && z.iter().all(|b| *b == 0) {
        return Err(CryptoError);
    }
    Ok(z)
}

/// PBKDF2 with HMAC-`hash` (RFC 8018 §5.2).
pub fn pbkdf2(
    hash: HashAlg,
    password: &[u8],
    salt: &[u8],
    iterations: usize,
    out_len: usize,
) -> Result<Vec<u8>, CryptoError> {
    let mut out = vec![0u8; out_len];
    openssl::pkcs5::pbkdf2_hmac(password, salt, iterations, hash.md(), &mut out)?;
    Ok(out)
}

/// Generates a fresh key pair on the same curve as `peer` (EC or X25519), for ECDH-ES.
pub fn ephemeral_like(peer: &PublicKey) -> Result<PrivateKey, CryptoError> {
    if let Ok(ec) = peer.pkey.ec_key() {
        let ec = EcKey::generate(ec.group())?;
        return Ok(PrivateKey {
            pkey: PKey::from_ec_key(ec)?,
        });
    }
    match peer.pkey.id() {
        Id::X25519 => Ok(PrivateKey {
            pkey: PKey::generate_x25519()?,
        }),
        _ => Err(CryptoError),
    }
}

/// The algorithm family of a public key, so protocol layers (e.g. XML-DSig in `saml-sp`) can
/// check that a signature method fits the key before verifying.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PublicKeyKind {
    /// RSA with the modulus size in bits.
    Rsa(u32),
    /// ECDSA on a NIST curve.
    Ec(EcCurve),
    /// Ed25519.
    Ed25519,
    /// Anything else (DSA, Ed448, X25519, ...): no signature scheme here accepts it.
    Other,
}

/// The family and size of `key`.
pub fn public_key_kind(key: &PublicKey) -> PublicKeyKind {
    if let Ok(rsa) = key.pkey.rsa() {
        return PublicKeyKind::Rsa(rsa.size() * 8);
    }
    if let Ok(ec) = key.pkey.ec_key() {
        let curve = match ec.group().curve_name() {
            Some(Nid::X9_62_PRIME256V1) => Some(EcCurve::P256),
            Some(Nid::SECP384R1) => Some(EcCurve::P384),
            Some(Nid::SECP521R1) => Some(EcCurve::P521),
            _ => None,
        };
        return curve.map_or(PublicKeyKind::Other, PublicKeyKind::Ec);
    }
    match key.pkey.id() {
        Id::ED25519 => PublicKeyKind::Ed25519,
        _ => PublicKeyKind::Other,
    }
}

/// Facts about an X.509 certificate that relying parties check (RFC 5280 §4.1.2.5 validity).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// `notBefore` as Unix seconds.
    pub not_before: i64,
    /// `notAfter` as Unix seconds.
    pub not_after: i64,
    /// SHA-256 over the DER certificate.
    pub sha256_fingerprint: Vec<u8>,
    /// The subject as a one-line string (for logs and errors only; never compared for trust).
    pub subject: String,
}

fn asn1_unix(t: &openssl::asn1::Asn1TimeRef) -> Result<i64> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|_| Error::Backend)?;
    let d = epoch.diff(t).map_err(|_| Error::Backend)?;
    Ok(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// Parses a DER X.509 certificate and returns its subject public key (RSA keys get the same
/// checks as [`rsa_public`]) and its [`CertInfo`]. No chain or revocation checking: callers pin
/// certificates (SAML metadata trust model).
pub fn x509_public_key(der: &[u8]) -> Result<(PublicKey, CertInfo)> {
    let cert =
        openssl::x509::X509::from_der(der).map_err(|_| invalid("malformed X.509 certificate"))?;
    let pkey = cert
        .public_key()
        .map_err(|_| invalid("unsupported certificate key"))?;
    let key = match pkey.rsa() {
        Ok(rsa) => rsa_public(&rsa.n().to_vec(), &rsa.e().to_vec())?,
        Err(_) => PublicKey { pkey },
    };
    let subject = cert
        .subject_name()
        .entries()
        .map(|e| {
            format!(
                "{}={}",
                e.object().nid().short_name().unwrap_or("?"),
                String::from_utf8_lossy(e.data().as_slice())
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let info = CertInfo {
        not_before: asn1_unix(cert.not_before())?,
        not_after: asn1_unix(cert.not_after())?,
        sha256_fingerprint: HashAlg::Sha256.digest(der),
        subject,
    };
    Ok((key, info))
}

/// Parses a DER `SubjectPublicKeyInfo` (RFC 5280 §4.1.2.7), e.g. XML-DSig 1.1
/// `DEREncodedKeyValue`.
pub fn public_key_from_spki_der(der: &[u8]) -> Result<PublicKey> {
    let pkey = PKey::public_key_from_der(der).map_err(|_| invalid("malformed public key"))?;
    match pkey.rsa() {
        Ok(rsa) => rsa_public(&rsa.n().to_vec(), &rsa.e().to_vec()),
        Err(_) => Ok(PublicKey { pkey }),
    }
}

/// Every `CERTIFICATE` block of a PEM file, as DER.
pub fn x509_pem_to_der(pem: &[u8]) -> Result<Vec<Vec<u8>>> {
    let certs = openssl::x509::X509::stack_from_pem(pem)
        .map_err(|_| invalid("malformed PEM certificate"))?;
    if certs.is_empty() {
        return Err(invalid("no certificate in PEM"));
    }
    certs
        .iter()
        .map(|c| c.to_der().map_err(|_| Error::Backend))
        .collect()
}

/// A private key from PEM (PKCS#8, or traditional RSA/EC), unencrypted.
pub fn private_key_from_pem(pem: &[u8]) -> Result<PrivateKey> {
    let pkey = PKey::private_key_from_pem(pem).map_err(|_| invalid("malformed PEM private key"))?;
    Ok(PrivateKey { pkey })
}

/// The key as unencrypted PKCS#8 PEM (for handing keys to other tools in tests and CLIs).
pub fn private_key_to_pem(key: &PrivateKey) -> Result<Vec<u8>> {
    key.pkey
        .private_key_to_pem_pkcs8()
        .map_err(|_| Error::Backend)
}

/// A self-signed X.509 v3 certificate (DER) for `key` with subject `CN=common_name`, valid over
/// `[not_before, not_after]` (Unix seconds), signed with SHA-256 (Ed25519: pure). SAML metadata
/// carries keys as certificates even when nobody checks the chain; this makes them.
pub fn x509_self_signed(
    key: &PrivateKey,
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<Vec<u8>> {
    use openssl::asn1::{Asn1Integer, Asn1Time};
    use openssl::x509::{X509Builder, X509NameBuilder};
    let be = |_| Error::Backend;
    let mut name = X509NameBuilder::new().map_err(be)?;
    name.append_entry_by_nid(Nid::COMMONNAME, common_name)
        .map_err(|_| invalid("bad common name"))?;
    let name = name.build();
    let mut serial = [0u8; 16];
    random_bytes(&mut serial).map_err(|_| Error::Backend)?;
    serial[0] &= 0x7f;
    let serial = BigNum::from_slice(&serial).map_err(be)?;
    let mut b = X509Builder::new().map_err(be)?;
    b.set_version(2).map_err(be)?;
    let serial = Asn1Integer::from_bn(&serial).map_err(be)?;
    b.set_serial_number(&serial).map_err(be)?;
    b.set_subject_name(&name).map_err(be)?;
    b.set_issuer_name(&name).map_err(be)?;
    b.set_pubkey(&key.pkey).map_err(be)?;
    let nb = Asn1Time::from_unix(not_before).map_err(be)?;
    b.set_not_before(&nb).map_err(be)?;
    let na = Asn1Time::from_unix(not_after).map_err(be)?;
    b.set_not_after(&na).map_err(be)?;
    let md = if key.pkey.id() == Id::ED25519 {
        MessageDigest::null()
    } else {
        MessageDigest::sha256()
    };
    b.sign(&key.pkey, md).map_err(be)?;
    b.build().to_der().map_err(be)
}

/// RSAES-OAEP decryption with separate OAEP label hash and MGF1 hash, as XML Encryption 1.1
/// §5.5.2 allows (`rsa-oaep-mgf1p` fixes MGF1-SHA1 whatever the digest).
pub fn rsa_oaep_decrypt_mgf(
    key: &PrivateKey,
    oaep_hash: HashAlg,
    mgf1_hash: HashAlg,
    ciphertext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut dec = Decrypter::new(&key.pkey)?;
    dec.set_rsa_padding(Padding::PKCS1_OAEP)?;
    dec.set_rsa_oaep_md(oaep_hash.md())?;
    dec.set_rsa_mgf1_md(mgf1_hash.md())?;
    let mut out = vec![0u8; dec.decrypt_len(ciphertext)?];
    let n = dec.decrypt(ciphertext, &mut out)?;
    out.truncate(n);
    Ok(out)
}

/// RSAES-OAEP encryption with separate OAEP label hash and MGF1 hash (counterpart of
/// [`rsa_oaep_decrypt_mgf`], for tests and IdP-side tooling).
pub fn rsa_oaep_encrypt_mgf(
    key: &PublicKey,
    oaep_hash: HashAlg,
    mgf1_hash: HashAlg,
    plaintext: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let mut enc = Encrypter::new(&key.pkey)?;
    enc.set_rsa_padding(Padding::PKCS1_OAEP)?;
    enc.set_rsa_oaep_md(oaep_hash.md())?;
    enc.set_rsa_mgf1_md(mgf1_hash.md())?;
    let mut out = vec![0u8; enc.encrypt_len(plaintext)?];
    let n = enc.encrypt(plaintext, &mut out)?;
    out.truncate(n);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ec_public_rejects_off_curve_and_non_canonical_coordinates() {
        let (x, y, _) = ec_generate(EcCurve::P256).expect("ec");
        assert!(ec_public(EcCurve::P256, &x, &y).is_ok());
        let mut off = y.clone();
        off[31] ^= 1;
        assert!(matches!(
            ec_public(EcCurve::P256, &x, &off),
            Err(Error::InvalidKey(_))
        ));
        // x + p has the same residue but is not a field element.
        let p = BigNum::from_hex_str(
            "FFFFFFFF00000001000000000000000000000000FFFFFFFFFFFFFFFFFFFFFFFF",
        )
        .expect("p");
        let mut big = BigNum::new().expect("bn");
        big.checked_add(&bn(&x).expect("x"), &p).expect("add");
        assert!(matches!(
            ec_public(EcCurve::P256, &big.to_vec(), &y),
            Err(Error::InvalidKey(_))
        ));
    }

    #[test]
    fn rsa_exponent_must_be_odd_and_at_least_three() {
        let (n, _, _) = rsa_generate(2048).expect("rsa");
        assert!(rsa_public(&n, &[1]).is_err());
        assert!(rsa_public(&n, &[0, 1]).is_err());
        assert!(rsa_public(&n, &[2]).is_err());
        assert!(rsa_public(&n, &[1, 0, 0]).is_err(), "even exponent");
        assert!(rsa_public(&n, &[3]).is_ok());
        assert!(rsa_public(&n, &[1, 0, 1]).is_ok());
    }

    #[test]
    fn roca_fingerprint() {
        // 65537^k mod every test prime: a product of such residues is what the vulnerable
        // generator yields; a modulus that is a power of 65537 itself trivially has it.
        let mut n = BigNum::from_u32(65537).expect("bn");
        let e = BigNum::from_u32(65537).expect("bn");
        let mut ctx = BigNumContext::new().expect("ctx");
        let mut tmp = BigNum::new().expect("bn");
        for _ in 0..40 {
            tmp.checked_mul(&n, &e, &mut ctx).expect("mul");
            n = tmp.to_owned().expect("copy");
        }
        assert!(has_roca_fingerprint(&n.to_vec()));
        let (good, _, _) = rsa_generate(2048).expect("rsa");
        assert!(!has_roca_fingerprint(&good));
    }

    #[test]
    fn self_signed_certificate_round_trip() {
        let (x, y, d) = ec_generate(EcCurve::P256).expect("ec");
        let key = ec_private(EcCurve::P256, &x, &y, &d).expect("key");
        let der =
            x509_self_signed(&key, "idforge test", 1_700_000_000, 1_800_000_000).expect("cert");
        let (public, info) = x509_public_key(&der).expect("parse");
        assert_eq!(info.not_before, 1_700_000_000);
        assert_eq!(info.not_after, 1_800_000_000);
        assert_eq!(info.subject, "CN=idforge test");
        assert_eq!(public_key_kind(&public), PublicKeyKind::Ec(EcCurve::P256));
        let sig = sign(
            &key,
            SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256),
            b"m",
        )
        .expect("sign");
        assert!(verify(
            &public,
            SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256),
            b"m",
            &sig
        )
        .expect("verify"));
        let pem = private_key_to_pem(&key).expect("pem");
        assert!(private_key_from_pem(&pem).is_ok());
        assert!(x509_public_key(b"not a certificate").is_err());
    }

    #[test]
    fn oaep_with_distinct_mgf1_hash() {
        let (n, e, parts) = rsa_generate(2048).expect("rsa");
        let private = rsa_private(&n, &e, &parts).expect("private");
        let public = private.public_key().expect("public");
        let ct = rsa_oaep_encrypt_mgf(&public, HashAlg::Sha256, HashAlg::Sha1, b"k").expect("enc");
        assert_eq!(
            rsa_oaep_decrypt_mgf(&private, HashAlg::Sha256, HashAlg::Sha1, &ct).expect("dec"),
            b"k"
        );
        assert!(rsa_oaep_decrypt_mgf(&private, HashAlg::Sha256, HashAlg::Sha256, &ct).is_err());
    }
}
