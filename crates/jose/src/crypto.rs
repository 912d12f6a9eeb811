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

    /// The DER encoding of a PKCS #1 v1.5 `DigestInfo` up to the digest bytes (RFC 8017
    /// §9.2 note 1).
    fn digest_info_prefix(self) -> &'static [u8] {
        match self {
            HashAlg::Sha1 => &[
                0x30, 0x21, 0x30, 0x09, 0x06, 0x05, 0x2b, 0x0e, 0x03, 0x02, 0x1a, 0x05, 0x00, 0x04,
                0x14,
            ],
            HashAlg::Sha256 => &[
                0x30, 0x31, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x01, 0x05, 0x00, 0x04, 0x20,
            ],
            HashAlg::Sha384 => &[
                0x30, 0x41, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x02, 0x05, 0x00, 0x04, 0x30,
            ],
            HashAlg::Sha512 => &[
                0x30, 0x51, 0x30, 0x0d, 0x06, 0x09, 0x60, 0x86, 0x48, 0x01, 0x65, 0x03, 0x04, 0x02,
                0x03, 0x05, 0x00, 0x04, 0x40,
            ],
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
    let (group, point) = ec_point(curve, x, y)?;
    let ec = EcKey::from_public_key(group, &point).map_err(|_| Error::Backend)?;
    let pkey = PKey::from_ec_key(ec).map_err(|_| Error::Backend)?;
    Ok(PublicKey { pkey })
}

/// The point `(x, y)` on `curve`, checked as [`ec_public`] checks it (canonical coordinates,
/// on the curve), with the curve's shared group.
fn ec_point(curve: EcCurve, x: &[u8], y: &[u8]) -> Result<(&'static EcGroup, EcPoint)> {
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
    // `EC_POINT_set_affine_coordinates` refuses a point that is not on the curve
    // (`EC_R_POINT_IS_NOT_ON_CURVE`, OpenSSL 1.1.1 and later): that is the check, made once.
    point
        .set_affine_coordinates_gfp(group, &x, &y, &mut ctx)
        .map_err(|_| invalid("EC point is not on the curve"))?;
    Ok((group, point))
}

/// Builds an EC public key from its SEC 1 encoding (SEC 1 v2 §2.3.4: `04 || x || y`
/// uncompressed, or `02`/`03 || x` compressed, as `did:key` carries P-256 keys). The point is
/// decoded by OpenSSL, which refuses one that is not on the curve (and the point at
/// infinity, `00`, is refused here).
pub fn ec_public_sec1(curve: EcCurve, bytes: &[u8]) -> Result<PublicKey> {
    let n = curve.coordinate_len();
    let ok_len = match bytes.first() {
        Some(4) => bytes.len() == 1 + 2 * n,
        Some(2 | 3) => bytes.len() == 1 + n,
        _ => false,
    };
    if !ok_len {
        return Err(invalid("malformed SEC 1 EC point"));
    }
    let group = curve.group()?;
    let mut ctx = BigNumContext::new().map_err(|_| Error::Backend)?;
    let point = EcPoint::from_bytes(&group, bytes, &mut ctx)
        .map_err(|_| invalid("EC point is not on the curve"))?;
    let ec = EcKey::from_public_key(&group, &point).map_err(|_| Error::Backend)?;
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

/// The public point `(x, y)` of the EC private scalar `d` (SEC 1 v2 §3.2.1: `Q = d·G`), each
/// padded to the curve's full length: builds a key from given bytes (a test fixture's seed)
/// where [`ec_generate`] draws fresh ones. Refuses `d` outside `[1, n-1]`.
pub fn ec_public_from_private(curve: EcCurve, d: &[u8]) -> Result<(Vec<u8>, Vec<u8>)> {
    let group = curve.group()?;
    let mut ctx = BigNumContext::new().map_err(|_| Error::Backend)?;
    let scalar = bn(d)?;
    let mut order = BigNum::new().map_err(|_| Error::Backend)?;
    group
        .order(&mut order, &mut ctx)
        .map_err(|_| Error::Backend)?;
    if scalar.num_bits() == 0 || scalar >= order {
        return Err(invalid("EC private scalar out of range"));
    }
    let mut point = EcPoint::new(&group).map_err(|_| Error::Backend)?;
    point
        .mul_generator2(&group, &scalar, &mut ctx)
        .map_err(|_| Error::Backend)?;
    let (x, y) = affine(&group, &point)?;
    let n = curve.coordinate_len();
    Ok((pad_left(x, n), pad_left(y, n)))
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

/// The affine coordinates of an EC private key's public point, padded to the curve length,
/// without building a separate public key first (ECDH-ES publishes a fresh ephemeral key's
/// point in `epk` on every encryption).
pub fn ec_private_coordinates(key: &PrivateKey, curve: EcCurve) -> Result<(Vec<u8>, Vec<u8>)> {
    let ec = key.pkey.ec_key().map_err(|_| invalid("not an EC key"))?;
    let (x, y) = affine(ec.group(), ec.public_key())?;
    let n = curve.coordinate_len();
    Ok((pad_left(x, n), pad_left(y, n)))
}

/// The raw 32-byte public key of an OKP private key.
pub fn okp_private_public_bytes(key: &PrivateKey) -> Result<Vec<u8>> {
    key.pkey
        .raw_public_key()
        .map_err(|_| invalid("not an OKP key"))
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

/// The raw public key `x` of the Ed25519/X25519 private key `d` (RFC 8032 §5.1.5, RFC 7748
/// §6.1): builds a key from given bytes (a test fixture's seed) where [`okp_generate`] draws
/// fresh ones.
pub fn okp_public_from_private(curve: OkpCurve, d: &[u8]) -> Result<Vec<u8>> {
    if d.len() != 32 {
        return Err(invalid("OKP private key must be 32 bytes"));
    }
    let pkey = PKey::private_key_from_raw_bytes(d, curve.id())
        .map_err(|_| invalid("bad OKP private key"))?;
    pkey.raw_public_key().map_err(|_| Error::Backend)
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
    ///
    /// Taken from the key's own parts (the EC point, RSA `n` and `e`, the raw OKP bytes), not
    /// by serializing the public key to DER and parsing it back: the round trip costs about
    /// 100 times more (~136 µs against ~1.3 µs for a P-256 point on OpenSSL 3.0), and ECDH-ES
    /// takes the public half of a fresh ephemeral key on every encryption. The parts were
    /// checked when the private key was built (`ec_private`, `rsa_private`, `okp_private`),
    /// or come from OpenSSL's own key generation.
    pub fn public_key(&self) -> Result<PublicKey> {
        let be = |_| Error::Backend;
        let pkey = match self.pkey.id() {
            Id::EC => {
                let ec = self.pkey.ec_key().map_err(be)?;
                let public = EcKey::from_public_key(ec.group(), ec.public_key()).map_err(be)?;
                PKey::from_ec_key(public).map_err(be)?
            }
            Id::RSA => {
                let rsa = self.pkey.rsa().map_err(be)?;
                let public = Rsa::from_public_components(
                    rsa.n().to_owned().map_err(be)?,
                    rsa.e().to_owned().map_err(be)?,
                )
                .map_err(be)?;
                PKey::from_rsa(public).map_err(be)?
            }
            id @ (Id::ED25519 | Id::X25519) => {
                let raw = self.pkey.raw_public_key().map_err(be)?;
                PKey::public_key_from_raw_bytes(&raw, id).map_err(be)?
            }
            _ => {
                let der = self.pkey.public_key_to_der().map_err(be)?;
                PKey::public_key_from_der(&der).map_err(be)?
            }
        };
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
            // `ECDSA_do_sign` on the EC key rather than EVP (decision 0013): OpenSSL 3's EVP
            // path fetches the algorithm, builds a context and DER-encodes the signature
            // around the very same `ECDSA_do_sign_ex` call (same nonce generation: a random
            // k, hedged with the key and digest; same constant-time scalar multiplication).
            // The key was checked when it was built (`ec_private`: d in range, d·G = Q). A
            // failure's error queue entries are drained into the `ErrorStack` the call
            // returns, so none is left behind.
            let ec = key.pkey.ec_key()?;
            let mut digest = [0u8; 64];
            let len = h.digest_into(data, &mut digest);
            let sig = EcdsaSig::sign(&digest[..len], &ec)?;
            let n = curve.coordinate_len();
            let mut out = Vec::with_capacity(2 * n);
            out.extend_from_slice(&sig.r().to_vec_padded(n as i32)?);
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
            // RSASSA-PKCS1-v1_5 (RFC 8017 §8.2.2) as OpenSSL's `RSA_verify` makes it: the
            // signature is exactly k bytes, `RSA_public_decrypt` with PKCS #1 type 1 padding
            // (strict `00 01 FF.. 00`, at least 8 `FF`, the integer below n), and the whole
            // recovered block equal to the DER `DigestInfo` of the hash (compared whole, never
            // parsed, so no lenient-ASN.1 forgery). Without EVP's per-call algorithm fetch and
            // context (decision 0014); a rejection leaves no entry on the error queue.
            let rsa = key.pkey.rsa()?;
            let k = rsa.size() as usize;
            if signature.len() != k {
                return Ok(false);
            }
            let mut expected = [0u8; 19 + 64];
            let prefix = h.digest_info_prefix();
            expected[..prefix.len()].copy_from_slice(prefix);
            let mut digest = [0u8; 64];
            let len = h.digest_into(data, &mut digest);
            expected[prefix.len()..prefix.len() + len].copy_from_slice(&digest[..len]);
            let expected = &expected[..prefix.len() + len];
            let mut recovered = vec![0u8; k];
            Ok(
                match rsa.public_decrypt(signature, &mut recovered, Padding::PKCS1) {
                    Ok(m) => m == expected.len() && openssl::memcmp::eq(&recovered[..m], expected),
                    Err(_) => false,
                },
            )
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
///
/// On the NIST curves the secret is computed as OpenSSL's own `ECDH_compute_key` does it
/// (`ecdh_simple_compute_key`: `EC_POINT_mul` of the peer point by the private scalar, the
/// constant-time ladder or the P-256 windowed code, then the x coordinate padded to the field
/// size), without EVP's derive context. EVP exports every freshly built key to the provider and
/// re-validates the peer point with a second full scalar multiplication (`n·Q = O`) on each
/// call: together about half the cost of an ECDH-ES encryption. The peer check it repeats is
/// made once, where public keys are built: [`ec_public`] checks the point is on the curve
/// (cofactor 1, so that is the full check), and so does OpenSSL when it decodes a DER or PEM
/// key or a certificate.
pub fn ecdh(private: &PrivateKey, peer: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    if private.pkey.id() == Id::EC {
        return ecdh_nist(private, peer);
    }
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

fn ecdh_nist(private: &PrivateKey, peer: &PublicKey) -> Result<Vec<u8>, CryptoError> {
    let own = private.pkey.ec_key()?;
    let other = peer.pkey.ec_key()?;
    let group = own.group();
    // Same named curve on both sides (what EVP's parameter comparison checks).
    match (group.curve_name(), other.group().curve_name()) {
        (Some(a), Some(b)) if a == b => {}
        _ => return Err(CryptoError),
    }
    let mut ctx = BigNumContext::new()?;
    let mut shared = EcPoint::new(group)?;
    shared.mul2(group, other.public_key(), own.private_key(), &mut ctx)?;
    if shared.is_infinity(group) {
        return Err(CryptoError);
    }
    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
    shared.affine_coordinates(group, &mut x, &mut y, &mut ctx)?;
    let field_len = group.degree().div_ceil(8);
    Ok(x.to_vec_padded(field_len as i32)?)
}

/// ECDH (NIST curves) of `private` with the peer point `(x, y)` given by its affine
/// coordinates, as a JWE `epk` carries them (RFC 7518 §4.6.1.1): the same checks as
/// [`ec_public`] (canonical coordinates, point on the curve: complete for these cofactor-1
/// curves) and the same result as [`ecdh`] with that key, without building an EC key object
/// around a point used once (decision 0014). `Err` when `private` is not a key on `curve`,
/// the point is invalid, or the result is the point at infinity.
pub fn ecdh_point(
    private: &PrivateKey,
    curve: EcCurve,
    x: &[u8],
    y: &[u8],
) -> Result<Vec<u8>, CryptoError> {
    let own = private.pkey.ec_key()?;
    let group = own.group();
    if group.curve_name() != Some(curve.nid()) {
        return Err(CryptoError);
    }
    let (_, peer) = ec_point(curve, x, y).map_err(|_| CryptoError)?;
    let mut ctx = BigNumContext::new()?;
    let mut shared = EcPoint::new(group)?;
    shared.mul2(group, &peer, own.private_key(), &mut ctx)?;
    if shared.is_infinity(group) {
        return Err(CryptoError);
    }
    let (mut x, mut y) = (BigNum::new()?, BigNum::new()?);
    shared.affine_coordinates(group, &mut x, &mut y, &mut ctx)?;
    let field_len = group.degree().div_ceil(8);
    Ok(x.to_vec_padded(field_len as i32)?)
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
    /// The `dNSName` entries of the subjectAltName extension (RFC 5280 §4.2.1.6), in order.
    pub dns_names: Vec<String>,
    /// The `uniformResourceIdentifier` entries of the subjectAltName extension (RFC 5280
    /// §4.2.1.6), in order.
    pub uris: Vec<String>,
}

fn asn1_unix(t: &openssl::asn1::Asn1TimeRef) -> Result<i64> {
    let epoch = openssl::asn1::Asn1Time::from_unix(0).map_err(|_| Error::Backend)?;
    let d = epoch.diff(t).map_err(|_| Error::Backend)?;
    Ok(i64::from(d.days) * 86_400 + i64::from(d.secs))
}

/// Parses a DER X.509 certificate and returns its subject public key (RSA keys get the same
/// checks as [`rsa_public`]) and its [`CertInfo`]. No chain or revocation checking: callers pin
/// certificates (SAML metadata trust model); [`x509_verify_chain`] validates a path.
pub fn x509_public_key(der: &[u8]) -> Result<(PublicKey, CertInfo)> {
    let cert =
        openssl::x509::X509::from_der(der).map_err(|_| invalid("malformed X.509 certificate"))?;
    Ok((cert_public_key(&cert)?, cert_info(&cert, der)?))
}

fn cert_public_key(cert: &openssl::x509::X509Ref) -> Result<PublicKey> {
    let pkey = cert
        .public_key()
        .map_err(|_| invalid("unsupported certificate key"))?;
    match pkey.rsa() {
        Ok(rsa) => rsa_public(&rsa.n().to_vec(), &rsa.e().to_vec()),
        Err(_) => Ok(PublicKey { pkey }),
    }
}

fn cert_info(cert: &openssl::x509::X509Ref, der: &[u8]) -> Result<CertInfo> {
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
    let (mut dns_names, mut uris) = (Vec::new(), Vec::new());
    for name in cert.subject_alt_names().iter().flatten() {
        if let Some(dns) = name.dnsname() {
            dns_names.push(dns.to_owned());
        } else if let Some(uri) = name.uri() {
            uris.push(uri.to_owned());
        }
    }
    Ok(CertInfo {
        not_before: asn1_unix(cert.not_before())?,
        not_after: asn1_unix(cert.not_after())?,
        sha256_fingerprint: HashAlg::Sha256.digest(der),
        subject,
        dns_names,
        uris,
    })
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

/// The public key as SubjectPublicKeyInfo PEM (RFC 7468 §13, `BEGIN PUBLIC KEY`): what
/// verifiers are often configured with, and so what a key-confusion attack (HMAC keyed with
/// the public key, RFC 8725 §2.1) uses as the HMAC secret in test fixtures.
pub fn public_key_to_pem(key: &PublicKey) -> Result<Vec<u8>> {
    key.pkey.public_key_to_pem().map_err(|_| Error::Backend)
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
    let be = |_| Error::Backend;
    let (mut b, name) = certificate_builder(common_name, not_before, not_after)?;
    b.set_issuer_name(&name).map_err(be)?;
    b.set_pubkey(&key.pkey).map_err(be)?;
    sign_certificate(b, key)
}

/// An X.509 v3 builder with subject `CN=common_name`, a random positive 127-bit serial and
/// the validity window set (Unix seconds); returns the subject name for the issuer field.
fn certificate_builder(
    common_name: &str,
    not_before: i64,
    not_after: i64,
) -> Result<(openssl::x509::X509Builder, openssl::x509::X509Name)> {
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
    let nb = Asn1Time::from_unix(not_before).map_err(be)?;
    b.set_not_before(&nb).map_err(be)?;
    let na = Asn1Time::from_unix(not_after).map_err(be)?;
    b.set_not_after(&na).map_err(be)?;
    Ok((b, name))
}

/// Signs a certificate with `key` (SHA-256; Ed25519: pure) and returns its DER.
fn sign_certificate(mut b: openssl::x509::X509Builder, key: &PrivateKey) -> Result<Vec<u8>> {
    let be = |_| Error::Backend;
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

/// The modulus and public exponent of an RSA public key (big-endian, unsigned), e.g. to publish
/// a certificate's key as a JWK (RFC 7518 §6.3.1).
pub fn rsa_public_components(key: &PublicKey) -> Result<(Vec<u8>, Vec<u8>)> {
    let rsa = key.pkey.rsa().map_err(|_| invalid("not an RSA key"))?;
    Ok((rsa.n().to_vec(), rsa.e().to_vec()))
}

/// Parameters of [`x509_verify_chain`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainValidation {
    /// The validation time (RFC 5280 §6.1.1 (b) "the current date/time"), Unix seconds. Take it
    /// from the caller's [`Clock`](crate::Clock); OpenSSL never reads the wall clock here.
    pub time: i64,
    /// The most certificates a validated path may have, end-entity and trust anchor included.
    /// The leaf plus the intermediate pool may not exceed it either (checked before parsing).
    pub max_chain_len: usize,
}

impl ChainValidation {
    /// The default [`max_chain_len`](ChainValidation::max_chain_len).
    pub const DEFAULT_MAX_CHAIN_LEN: usize = 10;

    /// Validation at `time` with the default chain length limit.
    pub fn at(time: i64) -> Self {
        ChainValidation {
            time,
            max_chain_len: Self::DEFAULT_MAX_CHAIN_LEN,
        }
    }
}

/// Why OpenSSL rejected a certification path (RFC 5280 §6.1.3 and §6.1.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChainFailure {
    /// A certificate's `notAfter` is before the validation time (§6.1.3 (a)(2)).
    Expired,
    /// A certificate's `notBefore` is after the validation time (§6.1.3 (a)(2)).
    NotYetValid,
    /// No path to a trust anchor: an issuer is missing, or the root is not a trust anchor.
    UnknownIssuer,
    /// A certificate's signature does not verify with its issuer's key (§6.1.3 (a)(1)).
    BadSignature,
    /// An issuing certificate is not a CA: no `basicConstraints` `cA`, or no `keyCertSign`
    /// (§6.1.4 (k), (n)).
    InvalidCa,
    /// A CA's `pathLenConstraint` is exceeded (§6.1.4 (l), (m)).
    PathLength,
    /// The end-entity certificate is self-signed and not a trust anchor.
    SelfSigned,
    /// A critical extension OpenSSL does not process (§6.1.4 (o)).
    UnhandledCriticalExtension,
    /// Anything else; see [`ChainError::Invalid`]'s `message`.
    Other,
}

impl ChainFailure {
    /// Classifies an OpenSSL `X509_V_ERR_*` code. The numbers are OpenSSL's ABI; 1.1 and 3.x
    /// agree on all of them but `INVALID_CA` (24 in 1.1; 79 in 3.x, where 24 became
    /// `NO_ISSUER_PUBLIC_KEY`).
    fn from_openssl(code: i32) -> Self {
        let v3 = openssl::version::number() >= 0x3000_0000;
        match code {
            // UNABLE_TO_GET_ISSUER_CERT, SELF_SIGNED_CERT_IN_CHAIN (an untrusted root),
            // UNABLE_TO_GET_ISSUER_CERT_LOCALLY, UNABLE_TO_VERIFY_LEAF_SIGNATURE
            2 | 19 | 20 | 21 => ChainFailure::UnknownIssuer,
            // UNABLE_TO_DECRYPT_CERT_SIGNATURE, UNABLE_TO_DECODE_ISSUER_PUBLIC_KEY,
            // CERT_SIGNATURE_FAILURE
            4 | 6 | 7 => ChainFailure::BadSignature,
            9 => ChainFailure::NotYetValid,
            10 => ChainFailure::Expired,
            // DEPTH_ZERO_SELF_SIGNED_CERT
            18 => ChainFailure::SelfSigned,
            // 3.x NO_ISSUER_PUBLIC_KEY
            24 if v3 => ChainFailure::BadSignature,
            // 1.1 INVALID_CA; KEYUSAGE_NO_CERTSIGN
            24 | 32 => ChainFailure::InvalidCa,
            // 3.x INVALID_CA, PATHLEN_INVALID_FOR_NON_CA, PATHLEN_WITHOUT_KU_KEY_CERT_SIGN,
            // KU_KEY_CERT_SIGN_INVALID_FOR_NON_CA, CA_BCONS_NOT_CRITICAL,
            // CA_CERT_MISSING_KEY_USAGE
            79..=82 | 89 | 92 if v3 => ChainFailure::InvalidCa,
            // PATH_LENGTH_EXCEEDED
            25 => ChainFailure::PathLength,
            // UNHANDLED_CRITICAL_EXTENSION
            34 => ChainFailure::UnhandledCriticalExtension,
            _ => ChainFailure::Other,
        }
    }
}

/// Certificate chain validation failed ([`x509_verify_chain`]).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// More certificates than [`ChainValidation::max_chain_len`], given or needed for the path.
    #[error("certificate chain longer than {max} certificates")]
    TooLong {
        /// The limit.
        max: usize,
    },
    /// A chain certificate (0 = end-entity, then the intermediates in the order given) is not
    /// a DER X.509 certificate.
    #[error("certificate {index} of the chain is not a DER X.509 certificate")]
    Malformed {
        /// Its position.
        index: usize,
    },
    /// A trust anchor is not a DER X.509 certificate.
    #[error("trust anchor {index} is not a DER X.509 certificate")]
    MalformedAnchor {
        /// Its position.
        index: usize,
    },
    /// No trust anchor was given: nothing can validate.
    #[error("no trust anchor configured")]
    NoTrustAnchors,
    /// OpenSSL rejected the path.
    #[error("certificate chain does not validate (depth {depth}): {message}")]
    Invalid {
        /// The classified reason.
        failure: ChainFailure,
        /// OpenSSL's `X509_V_ERR_*` code.
        code: i32,
        /// Where in the path (0 = end-entity, counting up towards the trust anchor).
        depth: u32,
        /// OpenSSL's verify error string ("certificate has expired", ...).
        message: String,
    },
    /// The end-entity certificate's key cannot be used (malformed, or a rejected RSA key).
    #[error("unusable end-entity key: {0}")]
    UnsupportedKey(String),
    /// The crypto backend failed for reasons unrelated to the input.
    #[error("crypto backend failure")]
    Backend,
}

impl ChainError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ChainError::TooLong { .. } => "certificate_chain_too_long",
            ChainError::Malformed { .. } => "malformed_certificate",
            ChainError::MalformedAnchor { .. } => "malformed_trust_anchor",
            ChainError::NoTrustAnchors => "no_trust_anchor",
            ChainError::Invalid { failure, .. } => match failure {
                ChainFailure::Expired => "certificate_expired",
                ChainFailure::NotYetValid => "certificate_not_yet_valid",
                ChainFailure::UnknownIssuer => "unknown_certificate_issuer",
                ChainFailure::BadSignature => "invalid_certificate_signature",
                ChainFailure::InvalidCa => "invalid_ca_certificate",
                ChainFailure::PathLength => "certificate_path_length_exceeded",
                ChainFailure::SelfSigned => "self_signed_certificate",
                ChainFailure::UnhandledCriticalExtension => "unhandled_critical_extension",
                ChainFailure::Other => "invalid_certificate_chain",
            },
            ChainError::UnsupportedKey(_) => "unsupported_certificate_key",
            ChainError::Backend => "crypto_error",
        }
    }

    /// The classified OpenSSL reason, for [`ChainError::Invalid`].
    pub fn failure(&self) -> Option<ChainFailure> {
        match self {
            ChainError::Invalid { failure, .. } => Some(*failure),
            _ => None,
        }
    }
}

/// A certification path that validated ([`x509_verify_chain`]).
#[derive(Debug, Clone)]
pub struct VerifiedChain {
    /// The end-entity certificate's subject public key (RSA keys checked as by [`rsa_public`]).
    pub key: PublicKey,
    /// The end-entity certificate: validity, subject, subjectAltName `dNSName`/URI entries.
    pub leaf: CertInfo,
    /// Whether the end-entity certificate is self-signed: subject equals issuer and its
    /// signature verifies with its own key. It then validated only because it is itself a
    /// trust anchor; profiles such as OpenID4VC HAIP 1.0 §6.1.1 refuse that.
    pub leaf_self_signed: bool,
    /// SHA-256 fingerprints of the validated path, end-entity first, trust anchor last.
    pub path_sha256: Vec<Vec<u8>>,
}

/// Validates the certification path from `leaf` (DER) to one of `anchors` (DER) with OpenSSL's
/// RFC 5280 §6 path validation at `params.time`: signatures, validity periods, `basicConstraints`
/// (`cA`, `pathLenConstraint`), `keyUsage` `keyCertSign`, name constraints, unknown critical
/// extensions.
///
/// - `intermediates` is an untrusted pool: order does not matter, unused certificates are
///   ignored (RFC 7515 §4.1.6 `x5c` chains are leaf first, but senders get the order wrong).
/// - Every anchor is a trust anchor whether or not it is self-signed (RFC 5280 §6.1.1 (d);
///   OpenSSL `X509_V_FLAG_PARTIAL_CHAIN`), so an issuing CA can be pinned without its root.
/// - The validation time comes from the caller (`X509_VERIFY_PARAM_set_time`), never from the
///   wall clock, so [`Clock`](crate::Clock)-driven tests and replays are exact.
/// - The path, anchor included, has at most `params.max_chain_len` certificates; the leaf plus
///   the pool may not exceed it either.
///
/// No revocation checking (CRL, OCSP) and no extended key usage or certificate policy checks:
/// those belong to the trust framework in use.
pub fn x509_verify_chain<I: AsRef<[u8]>, A: AsRef<[u8]>>(
    leaf: &[u8],
    intermediates: &[I],
    anchors: &[A],
    params: &ChainValidation,
) -> Result<VerifiedChain, ChainError> {
    use openssl::stack::Stack;
    use openssl::x509::store::X509StoreBuilder;
    use openssl::x509::verify::{X509VerifyFlags, X509VerifyParam};
    use openssl::x509::{X509StoreContext, X509VerifyResult, X509};

    let max = params.max_chain_len;
    if max == 0 || intermediates.len().saturating_add(1) > max {
        return Err(ChainError::TooLong { max });
    }
    if anchors.is_empty() {
        return Err(ChainError::NoTrustAnchors);
    }
    let be = |_| ChainError::Backend;
    let leaf_cert = X509::from_der(leaf).map_err(|_| ChainError::Malformed { index: 0 })?;
    let mut pool = Stack::new().map_err(be)?;
    for (i, der) in intermediates.iter().enumerate() {
        let cert =
            X509::from_der(der.as_ref()).map_err(|_| ChainError::Malformed { index: i + 1 })?;
        pool.push(cert).map_err(be)?;
    }
    let mut store = X509StoreBuilder::new().map_err(be)?;
    for (index, der) in anchors.iter().enumerate() {
        let cert =
            X509::from_der(der.as_ref()).map_err(|_| ChainError::MalformedAnchor { index })?;
        store.add_cert(cert).map_err(be)?;
    }
    let mut param = X509VerifyParam::new().map_err(be)?;
    param
        .set_flags(X509VerifyFlags::PARTIAL_CHAIN)
        .map_err(be)?;
    // X509_VERIFY_PARAM_set_time also sets X509_V_FLAG_USE_CHECK_TIME.
    // `time_t` is `i64` on the 64-bit targets this builds for; the conversion guards others.
    #[allow(clippy::useless_conversion)]
    let time = params.time.try_into().map_err(|_| ChainError::Backend)?;
    param.set_time(time);
    // OpenSSL's depth counts intermediates only: a path of depth d has d + 2 certificates.
    param.set_depth(i32::try_from(max.saturating_sub(2)).unwrap_or(i32::MAX));
    store.set_param(&param).map_err(be)?;
    let store = store.build();

    let mut ctx = X509StoreContext::new().map_err(be)?;
    let outcome = ctx
        .init(&store, &leaf_cert, &pool, |c| {
            let ok = c.verify_cert()?;
            let path = c
                .chain()
                .map(|chain| {
                    chain
                        .iter()
                        .map(|cert| cert.to_der().map(|d| HashAlg::Sha256.digest(&d)))
                        .collect::<Result<Vec<_>, _>>()
                })
                .transpose()?
                .unwrap_or_default();
            Ok((ok, c.error(), c.error_depth(), path))
        })
        .map_err(be)?;
    let (ok, result, depth, path_sha256): (bool, X509VerifyResult, u32, Vec<Vec<u8>>) = outcome;
    if !ok {
        let code = result.as_raw();
        if code == 22 {
            // X509_V_ERR_CERT_CHAIN_TOO_LONG: the depth limit above.
            return Err(ChainError::TooLong { max });
        }
        return Err(ChainError::Invalid {
            failure: ChainFailure::from_openssl(code),
            code,
            depth,
            message: result.error_string().to_owned(),
        });
    }
    if path_sha256.len() > max {
        return Err(ChainError::TooLong { max });
    }
    let key = cert_public_key(&leaf_cert).map_err(|e| ChainError::UnsupportedKey(e.to_string()))?;
    // Self-issued (RFC 5280 §3.2: subject and issuer names equal, compared as DER) and the
    // signature verifies with the certificate's own key. Not `X509_check_issued`, which also
    // wants `keyCertSign`, which an end-entity certificate does not have.
    let names_equal = match (
        leaf_cert.subject_name().to_der(),
        leaf_cert.issuer_name().to_der(),
    ) {
        (Ok(s), Ok(i)) => s == i,
        _ => false,
    };
    let leaf_self_signed = names_equal
        && leaf_cert
            .public_key()
            .ok()
            .and_then(|k| leaf_cert.verify(&k).ok())
            .unwrap_or(false);
    let leaf = cert_info(&leaf_cert, leaf).map_err(|_| ChainError::Backend)?;
    Ok(VerifiedChain {
        key,
        leaf,
        leaf_self_signed,
        path_sha256,
    })
}

/// What [`x509_issue`] puts in a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertificateTemplate {
    /// Subject `CN`.
    pub common_name: String,
    /// subjectAltName `dNSName` entries (RFC 5280 §4.2.1.6).
    pub dns_names: Vec<String>,
    /// subjectAltName `uniformResourceIdentifier` entries (RFC 5280 §4.2.1.6).
    pub uris: Vec<String>,
    /// A CA certificate: critical `basicConstraints` `cA:TRUE` and `keyUsage`
    /// `keyCertSign, cRLSign`; otherwise `cA:FALSE` and `digitalSignature` (RFC 5280 §4.2.1.9,
    /// §4.2.1.3).
    pub ca: bool,
    /// `pathLenConstraint` of a CA certificate (RFC 5280 §4.2.1.9).
    pub path_len: Option<u32>,
    /// `notBefore`, Unix seconds.
    pub not_before: i64,
    /// `notAfter`, Unix seconds.
    pub not_after: i64,
}

impl CertificateTemplate {
    /// An end-entity template with subject `CN=common_name` valid over `[not_before, not_after]`.
    pub fn new(common_name: impl Into<String>, not_before: i64, not_after: i64) -> Self {
        CertificateTemplate {
            common_name: common_name.into(),
            dns_names: Vec::new(),
            uris: Vec::new(),
            ca: false,
            path_len: None,
            not_before,
            not_after,
        }
    }

    /// Makes it a CA certificate, with an optional `pathLenConstraint`.
    pub fn ca(mut self, path_len: Option<u32>) -> Self {
        self.ca = true;
        self.path_len = path_len;
        self
    }

    /// Adds a `dNSName` subjectAltName.
    pub fn dns_name(mut self, name: impl Into<String>) -> Self {
        self.dns_names.push(name.into());
        self
    }

    /// Adds a `uniformResourceIdentifier` subjectAltName.
    pub fn uri(mut self, uri: impl Into<String>) -> Self {
        self.uris.push(uri.into());
        self
    }
}

/// Issues an X.509 v3 certificate (DER) for `subject` as described by `template`, signed by
/// `issuer_key` (SHA-256; Ed25519: pure) with issuer name and authority key identifier taken
/// from `issuer_cert`; with `issuer_cert: None` the certificate is self-issued (pass the
/// subject's own private key to make it self-signed, e.g. a root CA).
///
/// For tests and tooling (building root → intermediate → leaf chains for `x5c`, demo PKIs),
/// like [`x509_self_signed`]: it is not a certification authority (no policy, no revocation
/// information, random 127-bit serials).
pub fn x509_issue(
    subject: &PublicKey,
    template: &CertificateTemplate,
    issuer_key: &PrivateKey,
    issuer_cert: Option<&[u8]>,
) -> Result<Vec<u8>> {
    use openssl::x509::extension::{
        AuthorityKeyIdentifier, BasicConstraints, KeyUsage, SubjectAlternativeName,
        SubjectKeyIdentifier,
    };
    use openssl::x509::X509;
    let be = |_| Error::Backend;
    let issuer = issuer_cert
        .map(|der| X509::from_der(der).map_err(|_| invalid("malformed issuer certificate")))
        .transpose()?;
    let (mut b, name) = certificate_builder(
        &template.common_name,
        template.not_before,
        template.not_after,
    )?;
    match &issuer {
        Some(cert) => b.set_issuer_name(cert.subject_name()).map_err(be)?,
        None => b.set_issuer_name(&name).map_err(be)?,
    }
    b.set_pubkey(&subject.pkey).map_err(be)?;
    let mut bc = BasicConstraints::new();
    bc.critical();
    if template.ca {
        bc.ca();
        if let Some(n) = template.path_len {
            bc.pathlen(n);
        }
    }
    b.append_extension(bc.build().map_err(be)?).map_err(be)?;
    let mut ku = KeyUsage::new();
    ku.critical();
    if template.ca {
        ku.key_cert_sign().crl_sign();
    } else {
        ku.digital_signature();
    }
    b.append_extension(ku.build().map_err(be)?).map_err(be)?;
    let ski = SubjectKeyIdentifier::new()
        .build(&b.x509v3_context(issuer.as_deref(), None))
        .map_err(be)?;
    b.append_extension(ski).map_err(be)?;
    if issuer.is_some() {
        let aki = AuthorityKeyIdentifier::new()
            .keyid(false)
            .build(&b.x509v3_context(issuer.as_deref(), None))
            .map_err(be)?;
        b.append_extension(aki).map_err(be)?;
    }
    if !template.dns_names.is_empty() || !template.uris.is_empty() {
        let mut san = SubjectAlternativeName::new();
        for dns in &template.dns_names {
            san.dns(dns);
        }
        for uri in &template.uris {
            san.uri(uri);
        }
        let san = san
            .build(&b.x509v3_context(issuer.as_deref(), None))
            .map_err(|_| invalid("bad subjectAltName"))?;
        b.append_extension(san).map_err(be)?;
    }
    sign_certificate(b, issuer_key)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
            .collect()
    }

    #[test]
    fn public_key_to_pem_round_trips_through_spki() {
        let (x, _) = okp_generate(OkpCurve::Ed25519).expect("okp");
        let public = okp_public(OkpCurve::Ed25519, &x).expect("public");
        let pem = public_key_to_pem(&public).expect("pem");
        let text = String::from_utf8(pem).expect("utf8");
        assert!(text.starts_with("-----BEGIN PUBLIC KEY-----"));
        let body: String = text.lines().filter(|l| !l.starts_with("-----")).collect();
        // RFC 8410 §4: the Ed25519 SPKI is a fixed 12-byte prefix and the 32 raw bytes.
        let standard: String = crate::b64::encode(&x)
            .chars()
            .map(|c| match c {
                '-' => '+',
                '_' => '/',
                c => c,
            })
            .collect();
        assert_eq!(body, format!("MCowBQYDK2VwAyEA{standard}="));
    }

    #[test]
    fn okp_public_from_private_matches_rfc_8032_test_1() {
        // RFC 8032 §7.1 TEST 1: SECRET KEY and its PUBLIC KEY.
        let d = unhex("9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60");
        let x = okp_public_from_private(OkpCurve::Ed25519, &d).expect("okp");
        assert_eq!(
            x,
            unhex("d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a")
        );
        assert!(okp_private(OkpCurve::Ed25519, &x, &d).is_ok());
        assert!(okp_public_from_private(OkpCurve::Ed25519, &d[..31]).is_err());
    }

    #[test]
    fn ec_public_from_private_matches_generated_keys_and_refuses_out_of_range() {
        for curve in [EcCurve::P256, EcCurve::P384, EcCurve::P521] {
            let (x, y, d) = ec_generate(curve).expect("ec");
            assert_eq!(ec_public_from_private(curve, &d).expect("derive"), (x, y));
        }
        assert!(ec_public_from_private(EcCurve::P256, &[0u8; 32]).is_err());
        // The P-256 group order n (SEC 2 §2.4.2) is not a valid scalar.
        let n = unhex("ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551");
        assert!(ec_public_from_private(EcCurve::P256, &n).is_err());
        let mut below = n.clone();
        below[31] -= 1;
        assert!(ec_public_from_private(EcCurve::P256, &below).is_ok());
    }

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

    const T0: i64 = 1_700_000_000;
    const YEAR: i64 = 365 * 86_400;

    fn ec_pair() -> (PrivateKey, PublicKey) {
        let (x, y, d) = ec_generate(EcCurve::P256).expect("ec");
        let private = ec_private(EcCurve::P256, &x, &y, &d).expect("key");
        let public = private.public_key().expect("public");
        (private, public)
    }

    struct Pki {
        root: Vec<u8>,
        intermediate: Vec<u8>,
        leaf: Vec<u8>,
        leaf_key: PrivateKey,
    }

    /// root CA → intermediate CA → leaf, the CAs valid for ten years, the leaf for one.
    fn pki(intermediate_is_ca: bool, root_path_len: Option<u32>) -> Pki {
        let (root_key, root_pub) = ec_pair();
        let root = x509_issue(
            &root_pub,
            &CertificateTemplate::new("Test Root", T0 - YEAR, T0 + 10 * YEAR).ca(root_path_len),
            &root_key,
            None,
        )
        .expect("root");
        let (int_key, int_pub) = ec_pair();
        let mut template = CertificateTemplate::new("Test Issuing CA", T0 - YEAR, T0 + 10 * YEAR);
        if intermediate_is_ca {
            template = template.ca(Some(0));
        }
        let intermediate = x509_issue(&int_pub, &template, &root_key, Some(&root)).expect("int");
        let (leaf_key, leaf_pub) = ec_pair();
        let leaf = x509_issue(
            &leaf_pub,
            &CertificateTemplate::new("issuer.example", T0 - 86_400, T0 + YEAR)
                .dns_name("issuer.example")
                .uri("https://issuer.example/vc"),
            &int_key,
            Some(&intermediate),
        )
        .expect("leaf");
        Pki {
            root,
            intermediate,
            leaf,
            leaf_key,
        }
    }

    fn failure(r: Result<VerifiedChain, ChainError>) -> ChainFailure {
        let e = r.expect_err("must not validate");
        e.failure()
            .unwrap_or_else(|| panic!("not an OpenSSL verify failure: {e:?}"))
    }

    #[test]
    fn chain_validates_and_reports_the_leaf() {
        let p = pki(true, None);
        let v = x509_verify_chain(
            &p.leaf,
            &[&p.intermediate],
            &[&p.root],
            &ChainValidation::at(T0),
        )
        .expect("valid chain");
        assert_eq!(v.leaf.dns_names, ["issuer.example"]);
        assert_eq!(v.leaf.uris, ["https://issuer.example/vc"]);
        assert_eq!(v.leaf.subject, "CN=issuer.example");
        assert!(!v.leaf_self_signed);
        assert_eq!(v.path_sha256.len(), 3);
        assert_eq!(v.path_sha256[0], HashAlg::Sha256.digest(&p.leaf));
        assert_eq!(v.path_sha256[2], HashAlg::Sha256.digest(&p.root));
        // The leaf key verifies what the leaf's private key signed.
        let scheme = SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256);
        let sig = sign(&p.leaf_key, scheme, b"m").expect("sign");
        assert!(verify(&v.key, scheme, b"m", &sig).expect("verify"));
        // The pool is order-independent and may hold unrelated certificates.
        let other = pki(true, None);
        let pool = [&other.intermediate, &p.root, &p.intermediate];
        assert!(x509_verify_chain(&p.leaf, &pool, &[&p.root], &ChainValidation::at(T0)).is_ok());
        // An issuing CA can be the trust anchor (partial chain).
        assert!(x509_verify_chain::<&[u8], _>(
            &p.leaf,
            &[],
            &[&p.intermediate],
            &ChainValidation::at(T0)
        )
        .is_ok());
    }

    #[test]
    fn chain_validation_uses_the_given_time() {
        let p = pki(true, None);
        let at = |t| {
            x509_verify_chain(
                &p.leaf,
                &[&p.intermediate],
                &[&p.root],
                &ChainValidation::at(t),
            )
        };
        assert_eq!(failure(at(T0 + 2 * YEAR)), ChainFailure::Expired);
        assert_eq!(failure(at(T0 - 2 * 86_400)), ChainFailure::NotYetValid);
        let e = at(T0 + 2 * YEAR).unwrap_err();
        assert_eq!(e.code(), "certificate_expired");
        assert!(e.to_string().contains("expired"), "{e}");
    }

    #[test]
    fn chain_rejections_are_classified() {
        let p = pki(true, None);
        let other = pki(true, None);
        let now = ChainValidation::at(T0);
        assert_eq!(
            failure(x509_verify_chain(
                &p.leaf,
                &[&p.intermediate],
                &[&other.root],
                &now
            )),
            ChainFailure::UnknownIssuer
        );
        assert_eq!(
            failure(x509_verify_chain(
                &p.leaf,
                &[&p.intermediate, &p.root],
                &[&other.root],
                &now
            )),
            ChainFailure::UnknownIssuer
        );
        // A flipped bit in the leaf's ECDSA `s` keeps the DER valid, breaks the signature.
        let mut broken = p.leaf.clone();
        *broken.last_mut().expect("non-empty") ^= 1;
        assert_eq!(
            failure(x509_verify_chain(
                &broken,
                &[&p.intermediate],
                &[&p.root],
                &now
            )),
            ChainFailure::BadSignature
        );
        let q = pki(false, None);
        let e = x509_verify_chain(&q.leaf, &[&q.intermediate], &[&q.root], &now).unwrap_err();
        assert_eq!(e.failure(), Some(ChainFailure::InvalidCa), "{e:?}");
        let r = pki(true, Some(0));
        assert_eq!(
            failure(x509_verify_chain(
                &r.leaf,
                &[&r.intermediate],
                &[&r.root],
                &now
            )),
            ChainFailure::PathLength
        );
        assert!(matches!(
            x509_verify_chain(b"junk", &[&p.intermediate], &[&p.root], &now),
            Err(ChainError::Malformed { index: 0 })
        ));
        assert!(matches!(
            x509_verify_chain(&p.leaf, &[b"junk".as_slice()], &[&p.root], &now),
            Err(ChainError::Malformed { index: 1 })
        ));
        assert_eq!(
            x509_verify_chain::<&[u8], &[u8]>(&p.leaf, &[], &[], &now).unwrap_err(),
            ChainError::NoTrustAnchors
        );
    }

    #[test]
    fn chain_length_is_limited() {
        let p = pki(true, None);
        let short = ChainValidation {
            time: T0,
            max_chain_len: 2,
        };
        // Two certificates given, but the path needs three.
        assert_eq!(
            x509_verify_chain(&p.leaf, &[&p.intermediate], &[&p.root], &short).unwrap_err(),
            ChainError::TooLong { max: 2 }
        );
        let pool = vec![p.intermediate.clone(); 10];
        assert_eq!(
            x509_verify_chain(&p.leaf, &pool, &[&p.root], &ChainValidation::at(T0)).unwrap_err(),
            ChainError::TooLong { max: 10 }
        );
        let exact = ChainValidation {
            time: T0,
            max_chain_len: 3,
        };
        assert!(x509_verify_chain(&p.leaf, &[&p.intermediate], &[&p.root], &exact).is_ok());
    }

    #[test]
    fn self_signed_leaf_is_reported() {
        let (key, public) = ec_pair();
        let cert = x509_issue(
            &public,
            &CertificateTemplate::new("self", T0 - 10, T0 + 10).dns_name("self.example"),
            &key,
            None,
        )
        .expect("cert");
        let now = ChainValidation::at(T0);
        let v = x509_verify_chain::<&[u8], _>(&cert, &[], &[&cert], &now).expect("pinned");
        assert!(v.leaf_self_signed);
        let other = pki(true, None);
        assert_eq!(
            failure(x509_verify_chain::<&[u8], _>(
                &cert,
                &[],
                &[&other.root],
                &now
            )),
            ChainFailure::SelfSigned
        );
        // x509_self_signed certificates are self-signed too.
        let legacy = x509_self_signed(&key, "legacy", T0 - 10, T0 + 10).expect("cert");
        let v = x509_verify_chain::<&[u8], _>(&legacy, &[], &[&legacy], &now).expect("pinned");
        assert!(v.leaf_self_signed);
    }

    /// The direct ECDH (`ecdh_nist`) gives the secret EVP's derive gives, on every curve and
    /// in both directions; mismatched curves are refused.
    #[test]
    fn ecdh_matches_evp_derive() {
        for curve in [EcCurve::P256, EcCurve::P384, EcCurve::P521] {
            for _ in 0..8 {
                let (x, y, d) = ec_generate(curve).expect("ec");
                let a = ec_private(curve, &x, &y, &d).expect("a");
                let b = ephemeral_like(&a.public_key().expect("pub")).expect("b");
                let ab = ecdh(&a, &b.public_key().expect("pub")).expect("ab");
                let ba = ecdh(&b, &ec_public(curve, &x, &y).expect("pub")).expect("ba");
                assert_eq!(ab, ba);
                // The point route (JWE `epk`) computes the same secret with the same checks.
                assert_eq!(ecdh_point(&b, curve, &x, &y).expect("point"), ab);
                let mut off = y.clone();
                let last = off.len() - 1;
                off[last] ^= 1;
                assert!(ecdh_point(&b, curve, &x, &off).is_err());
                assert_eq!(ab.len(), curve.coordinate_len());
                let b_pub = b.public_key().expect("pub");
                let mut evp = openssl::derive::Deriver::new(&a.pkey).expect("deriver");
                evp.set_peer(&b_pub.pkey).expect("peer");
                assert_eq!(ab, evp.derive_to_vec().expect("derive"));
            }
        }
        let (x, y, d) = ec_generate(EcCurve::P256).expect("ec");
        let p256 = ec_private(EcCurve::P256, &x, &y, &d).expect("key");
        let (x, y, _) = ec_generate(EcCurve::P384).expect("ec");
        let p384 = ec_public(EcCurve::P384, &x, &y).expect("pub");
        assert!(ecdh(&p256, &p384).is_err());
        // A P-384 point against a P-256 key, and a coordinate of p or more, are refused.
        assert!(ecdh_point(&p256, EcCurve::P384, &x, &y).is_err());
        let (x, y, _) = ec_generate(EcCurve::P256).expect("ec");
        assert!(ecdh_point(&p256, EcCurve::P256, &[0xff; 32], &y).is_err());
        assert!(ecdh_point(&p256, EcCurve::P256, &x, &y).is_ok());
        assert!(openssl::error::ErrorStack::get().errors().is_empty());
    }

    /// `public_key()` takes the public half from the key's parts; it equals the DER round
    /// trip's result for every key type.
    #[test]
    fn public_half_equals_der_round_trip() {
        let (x, y, d) = ec_generate(EcCurve::P384).expect("ec");
        let ec = ec_private(EcCurve::P384, &x, &y, &d).expect("ec");
        let (n, e, parts) = rsa_generate(2048).expect("rsa");
        let rsa = rsa_private(&n, &e, &parts).expect("rsa");
        let (x, d) = okp_generate(OkpCurve::Ed25519).expect("okp");
        let ed = okp_private(OkpCurve::Ed25519, &x, &d).expect("ed");
        let (x, d) = okp_generate(OkpCurve::X25519).expect("okp");
        let xk = okp_private(OkpCurve::X25519, &x, &d).expect("x");
        for key in [ec, rsa, ed, xk] {
            let fast = key.public_key().expect("public");
            let der = key.pkey.public_key_to_der().expect("der");
            assert_eq!(fast.pkey.public_key_to_der().expect("der"), der);
            assert!(fast
                .pkey
                .public_eq(&PKey::public_key_from_der(&der).expect("pub")));
        }
    }

    /// ECDSA signatures from `ECDSA_do_sign` verify under EVP (and ours), are fresh each time
    /// (random nonces), and a key of the wrong type fails cleanly, leaving the error queue
    /// empty.
    #[test]
    fn ecdsa_signatures_verify_under_evp() {
        for (curve, h) in [
            (EcCurve::P256, HashAlg::Sha256),
            (EcCurve::P384, HashAlg::Sha384),
            (EcCurve::P521, HashAlg::Sha512),
        ] {
            let (x, y, d) = ec_generate(curve).expect("ec");
            let key = ec_private(curve, &x, &y, &d).expect("key");
            let public = ec_public(curve, &x, &y).expect("pub");
            let scheme = SignatureScheme::Ecdsa(h, curve);
            let a = sign(&key, scheme, b"message").expect("sign");
            let b = sign(&key, scheme, b"message").expect("sign");
            assert_eq!(a.len(), 2 * curve.coordinate_len());
            assert_ne!(a, b, "a fresh nonce per signature");
            assert!(verify(&public, scheme, b"message", &a).expect("verify"));
            let n = curve.coordinate_len();
            let sig = EcdsaSig::from_private_components(
                BigNum::from_slice(&a[..n]).expect("r"),
                BigNum::from_slice(&a[n..]).expect("s"),
            )
            .expect("sig");
            let mut v = Verifier::new(h.md(), &public.pkey).expect("verifier");
            assert!(v
                .verify_oneshot(&sig.to_der().expect("der"), b"message")
                .expect("evp verify"));
        }
        let (x, d) = okp_generate(OkpCurve::Ed25519).expect("okp");
        let ed = okp_private(OkpCurve::Ed25519, &x, &d).expect("ed");
        let scheme = SignatureScheme::Ecdsa(HashAlg::Sha256, EcCurve::P256);
        assert!(sign(&ed, scheme, b"m").is_err());
        assert!(openssl::error::ErrorStack::get().errors().is_empty());
    }

    /// RSASSA-PKCS1-v1_5 verification through `RSA_public_decrypt` agrees with EVP for every
    /// hash, and refuses a changed message, a flipped bit, a short or long signature, a
    /// signature of n or more, and a `DigestInfo` of another hash; nothing is left on the
    /// error queue.
    #[test]
    fn rsa_pkcs1_verification_matches_evp() {
        let (n, e, parts) = rsa_generate(2048).expect("rsa");
        let key = rsa_private(&n, &e, &parts).expect("key");
        let public = rsa_public(&n, &e).expect("pub");
        for h in [
            HashAlg::Sha1,
            HashAlg::Sha256,
            HashAlg::Sha384,
            HashAlg::Sha512,
        ] {
            let mut s = Signer::new(h.md(), &key.pkey).expect("signer");
            s.set_rsa_padding(Padding::PKCS1).expect("padding");
            let sig = s.sign_oneshot_to_vec(b"message").expect("evp sign");
            let scheme = SignatureScheme::RsaPkcs1(h);
            assert!(verify(&public, scheme, b"message", &sig).expect("verify"));
            assert_eq!(sign(&key, scheme, b"message").expect("sign"), sig);
            assert!(!verify(&public, scheme, b"messagf", &sig).expect("verify"));
            let mut bad = sig.clone();
            bad[100] ^= 1;
            assert!(!verify(&public, scheme, b"message", &bad).expect("verify"));
            assert!(!verify(&public, scheme, b"message", &sig[1..]).expect("verify"));
            let mut long = vec![0u8];
            long.extend_from_slice(&sig);
            assert!(!verify(&public, scheme, b"message", &long).expect("verify"));
            assert!(!verify(&public, scheme, b"message", &n).expect("verify"));
            let other = if h == HashAlg::Sha256 {
                HashAlg::Sha384
            } else {
                HashAlg::Sha256
            };
            assert!(
                !verify(&public, SignatureScheme::RsaPkcs1(other), b"message", &sig)
                    .expect("verify")
            );
        }
        assert!(openssl::error::ErrorStack::get().errors().is_empty());
    }

    /// SEC 1 points: compressed and uncompressed forms give the same key; off-curve points,
    /// wrong lengths and the point at infinity are refused.
    #[test]
    fn sec1_points() {
        let (x, y, _) = ec_generate(EcCurve::P256).expect("ec");
        let mut full = vec![4u8];
        full.extend_from_slice(&x);
        full.extend_from_slice(&y);
        let mut short = vec![2 + (y[31] & 1)];
        short.extend_from_slice(&x);
        for enc in [&full, &short] {
            let key = ec_public_sec1(EcCurve::P256, enc).expect("point");
            assert_eq!(
                ec_coordinates(&key, EcCurve::P256).expect("xy"),
                (x.clone(), y.clone())
            );
        }
        let mut off = full.clone();
        off[64] ^= 1;
        assert!(ec_public_sec1(EcCurve::P256, &off).is_err());
        assert!(ec_public_sec1(EcCurve::P256, &full[..64]).is_err());
        assert!(ec_public_sec1(EcCurve::P256, &[0]).is_err());
        assert!(ec_public_sec1(EcCurve::P384, &short).is_err());
        assert!(openssl::error::ErrorStack::get().errors().is_empty());
    }

    #[test]
    fn rsa_components_round_trip() {
        let (n, e, _) = rsa_generate(2048).expect("rsa");
        let key = rsa_public(&n, &e).expect("public");
        assert_eq!(rsa_public_components(&key).expect("rsa"), (n, e));
        let (_, ec) = ec_pair();
        assert!(rsa_public_components(&ec).is_err());
    }
}
