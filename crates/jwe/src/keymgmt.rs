//! Key management (RFC 7518 §4): how the CEK is encrypted to, agreed with or shared with each
//! recipient, on the sender and on the recipient side.

use idforge_jose::crypto::{self, HashAlg};
use idforge_jose::{b64, Key};
use rand::RngCore;
use serde_json::{Map, Value};

use crate::alg::{ContentEncryption, KeyManagementAlgorithm, Mode};
use crate::ecdh;
use crate::{Error, Limits, Result};

/// Default PBES2 iteration count for encryption (RFC 7518 §4.8.1.2 recommends at least 1000;
/// this follows current PBKDF2 guidance and equals the default decryption bound).
pub const DEFAULT_PBES2_COUNT: u32 = 310_000;

/// Sender-side inputs for one recipient that tests may inject.
#[derive(Debug, Clone, Default)]
pub(crate) struct Injected {
    pub(crate) ephemeral: Option<Key>,
    pub(crate) wrap_iv: Option<Vec<u8>>,
    pub(crate) p2s: Option<Vec<u8>>,
    pub(crate) p2c: Option<u32>,
}

pub(crate) fn fill(rng: &mut dyn RngCore, len: usize) -> Result<Vec<u8>> {
    let mut v = vec![0u8; len];
    rng.try_fill_bytes(&mut v).map_err(|_| Error::Backend)?;
    Ok(v)
}

/// A b64url header member such as `apu`, `apv`, `iv`, `tag`, `p2s`; `None` when absent.
pub(crate) fn b64_member(
    header: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<Vec<u8>>> {
    match header.get(name) {
        None => Ok(None),
        Some(Value::String(s)) => b64::decode(s, name)
            .map(Some)
            .map_err(|_| Error::InvalidHeader(format!("`{name}` is not base64url"))),
        Some(_) => Err(Error::InvalidHeader(format!("`{name}` must be a string"))),
    }
}

fn party_info(header: &Map<String, Value>) -> Result<(Vec<u8>, Vec<u8>)> {
    // RFC 7518 §4.6.1.2–3: apu/apv are base64url; absent means the empty string in the KDF.
    Ok((
        b64_member(header, "apu")?.unwrap_or_default(),
        b64_member(header, "apv")?.unwrap_or_default(),
    ))
}

fn secret_of(key: &Key) -> Result<&[u8]> {
    key.secret()
        .ok_or_else(|| Error::InvalidKey("a symmetric (oct) key is required".into()))
}

fn public_of(key: &Key) -> Result<&crypto::PublicKey> {
    key.public_key()
        .ok_or_else(|| Error::InvalidKey("an asymmetric key is required".into()))
}

/// RFC 7518 §4.8.1.1: the PBKDF2 salt is `UTF8(alg) || 0x00 || p2s`.
fn pbes2_kek(
    alg: KeyManagementAlgorithm,
    hash: HashAlg,
    kek_len: usize,
    password: &[u8],
    p2s: &[u8],
    p2c: u32,
) -> Result<Vec<u8>> {
    let mut salt = Vec::with_capacity(alg.name().len() + 1 + p2s.len());
    salt.extend_from_slice(alg.name().as_bytes());
    salt.push(0);
    salt.extend_from_slice(p2s);
    crypto::pbkdf2(hash, password, &salt, p2c as usize, kek_len).map_err(|_| Error::Backend)
}

/// Sender side for `dir` and `ECDH-ES` (RFC 7516 §5.1 step 2, RFC 7518 §4.5/§4.6): the CEK is
/// the shared key or the Concat KDF output with AlgorithmID = `enc`. Returns the CEK and the
/// header members to add (`epk`).
pub(crate) fn sender_direct(
    alg: KeyManagementAlgorithm,
    enc: ContentEncryption,
    key: &Key,
    header: &Map<String, Value>,
    injected: &Injected,
) -> Result<(Vec<u8>, Map<String, Value>)> {
    let mut params = Map::new();
    match alg.mode() {
        Mode::Direct => {
            let k = secret_of(key)?;
            if k.len() != enc.cek_len() {
                return Err(Error::InvalidKey(format!(
                    "dir with {enc} needs a {}-byte key",
                    enc.cek_len()
                )));
            }
            Ok((k.to_vec(), params))
        }
        Mode::EcdhDirect => {
            let eph = ecdh::ephemeral(key, injected.ephemeral.as_ref())?;
            let z = ecdh::sender_secret(&eph, key)?;
            let (apu, apv) = party_info(header)?;
            let cek = ecdh::concat_kdf(&z, enc.name(), &apu, &apv, enc.cek_len());
            params.insert("epk".into(), eph.epk);
            Ok((cek, params))
        }
        _ => Err(Error::Backend),
    }
}

/// Sender side for the key-wrapping and key-encryption modes (RFC 7516 §5.1 steps 3–4):
/// returns the JWE Encrypted Key and the header members to add (`epk`, `iv`, `tag`, `p2s`,
/// `p2c`).
pub(crate) fn sender_wrap(
    alg: KeyManagementAlgorithm,
    key: &Key,
    cek: &[u8],
    header: &Map<String, Value>,
    injected: &Injected,
    rng: &mut dyn RngCore,
) -> Result<(Vec<u8>, Map<String, Value>)> {
    let mut params = Map::new();
    let ek = match alg.mode() {
        // RFC 7518 §4.2/§4.3: RSAES-OAEP with the algorithm's hash for OAEP and MGF1.
        Mode::Rsa(hash) => {
            crypto::rsa_oaep_encrypt(public_of(key)?, hash, cek).map_err(|_| Error::Backend)?
        }
        // RFC 7518 §4.6.2: KEK = ConcatKDF(Z, AlgorithmID = alg, apu, apv, KW key size).
        Mode::EcdhKw(kek_len) => {
            let eph = ecdh::ephemeral(key, injected.ephemeral.as_ref())?;
            let z = ecdh::sender_secret(&eph, key)?;
            let (apu, apv) = party_info(header)?;
            let kek = ecdh::concat_kdf(&z, alg.name(), &apu, &apv, kek_len);
            params.insert("epk".into(), eph.epk);
            crypto::aes_key_wrap(&kek, cek).map_err(|_| Error::Backend)?
        }
        // RFC 7518 §4.4: AES Key Wrap (RFC 3394) with the default initial value.
        Mode::AesKw(_) => crypto::aes_key_wrap(secret_of(key)?, cek).map_err(|_| Error::Backend)?,
        // RFC 7518 §4.7: AES-GCM with a 96-bit IV, empty AAD; `iv` and `tag` go in the header.
        Mode::AesGcmKw(_) => {
            let iv = match &injected.wrap_iv {
                Some(iv) => iv.clone(),
                None => fill(rng, 12)?,
            };
            let (ek, tag) = crypto::aes_gcm_encrypt(secret_of(key)?, &iv, b"", cek)
                .map_err(|_| Error::InvalidKey("GCM key wrap needs a 12-byte IV".into()))?;
            params.insert("iv".into(), b64::encode(&iv).into());
            params.insert("tag".into(), b64::encode(tag).into());
            ek
        }
        // RFC 7518 §4.8: PBKDF2 then AES key wrap; p2s at least 8 bytes (§4.8.1.1).
        Mode::Pbes2(hash, kek_len) => {
            let p2s = match &injected.p2s {
                Some(s) => s.clone(),
                None => fill(rng, 16)?,
            };
            if p2s.len() < 8 {
                return Err(Error::InvalidHeader("p2s must be at least 8 bytes".into()));
            }
            let p2c = injected.p2c.unwrap_or(DEFAULT_PBES2_COUNT);
            if p2c == 0 {
                return Err(Error::InvalidHeader("p2c must be positive".into()));
            }
            let kek = pbes2_kek(alg, hash, kek_len, secret_of(key)?, &p2s, p2c)?;
            params.insert("p2s".into(), b64::encode(&p2s).into());
            params.insert("p2c".into(), p2c.into());
            crypto::aes_key_wrap(&kek, cek).map_err(|_| Error::Backend)?
        }
        Mode::Direct | Mode::EcdhDirect => return Err(Error::Backend),
    };
    Ok((ek, params))
}

/// A random CEK that stands in for one that could not be recovered, so the failure shows up
/// only as the content's authentication failure (RFC 7516 §11.5, RFC 3218).
fn decoy(enc: ContentEncryption) -> Result<Vec<u8>> {
    let mut k = vec![0u8; enc.cek_len()];
    crypto::random_bytes(&mut k).map_err(|_| Error::Backend)?;
    Ok(k)
}

fn checked(
    enc: ContentEncryption,
    recovered: Result<Vec<u8>, crypto::CryptoError>,
) -> Result<Vec<u8>> {
    // RFC 7516 §5.2 step 10 / §11.5: a CEK of the wrong length or a failed key decryption
    // continues with a random CEK, so all of these end as the same `invalid_tag`.
    match recovered {
        Ok(cek) if cek.len() == enc.cek_len() => Ok(cek),
        _ => decoy(enc),
    }
}

/// Recipient side (RFC 7516 §5.2 steps 6–10): recovers the CEK with `key`. Header problems are
/// typed errors; cryptographic failures yield a random CEK (see [`decoy`]).
pub(crate) fn recipient_cek(
    alg: KeyManagementAlgorithm,
    enc: ContentEncryption,
    key: &Key,
    encrypted_key: &[u8],
    header: &Map<String, Value>,
    limits: &Limits,
) -> Result<Vec<u8>> {
    match alg.mode() {
        Mode::Direct | Mode::EcdhDirect if !encrypted_key.is_empty() => {
            // RFC 7518 §4.5 / §4.6: the JWE Encrypted Key MUST be empty.
            Err(Error::Malformed(format!(
                "{alg} requires an empty encrypted key"
            )))
        }
        Mode::Direct => {
            let k = secret_of(key)?;
            if k.len() != enc.cek_len() {
                return Err(Error::InvalidKey(format!(
                    "dir with {enc} needs a {}-byte key",
                    enc.cek_len()
                )));
            }
            Ok(k.to_vec())
        }
        Mode::EcdhDirect => {
            let epk = header
                .get("epk")
                .ok_or_else(|| Error::InvalidHeader("missing `epk`".into()))?;
            let z = ecdh::shared_secret(key, epk)?;
            let (apu, apv) = party_info(header)?;
            Ok(ecdh::concat_kdf(&z, enc.name(), &apu, &apv, enc.cek_len()))
        }
        Mode::EcdhKw(kek_len) => {
            let epk = header
                .get("epk")
                .ok_or_else(|| Error::InvalidHeader("missing `epk`".into()))?;
            let z = ecdh::shared_secret(key, epk)?;
            let (apu, apv) = party_info(header)?;
            let kek = ecdh::concat_kdf(&z, alg.name(), &apu, &apv, kek_len);
            checked(enc, crypto::aes_key_unwrap(&kek, encrypted_key))
        }
        Mode::Rsa(hash) => checked(
            enc,
            crypto::rsa_oaep_decrypt(key.private_key()?, hash, encrypted_key),
        ),
        Mode::AesKw(_) => checked(enc, crypto::aes_key_unwrap(secret_of(key)?, encrypted_key)),
        Mode::AesGcmKw(_) => {
            let iv = b64_member(header, "iv")?
                .ok_or_else(|| Error::InvalidHeader("missing `iv`".into()))?;
            let tag = b64_member(header, "tag")?
                .ok_or_else(|| Error::InvalidHeader("missing `tag`".into()))?;
            if iv.len() != 12 {
                return Err(Error::InvalidHeader("`iv` must be 96 bits".into()));
            }
            if tag.len() != 16 {
                return Err(Error::InvalidHeader("`tag` must be 128 bits".into()));
            }
            checked(
                enc,
                crypto::aes_gcm_decrypt(secret_of(key)?, &iv, b"", encrypted_key, &tag),
            )
        }
        Mode::Pbes2(hash, kek_len) => {
            let p2s = b64_member(header, "p2s")?
                .ok_or_else(|| Error::InvalidHeader("missing `p2s`".into()))?;
            if p2s.len() < 8 {
                return Err(Error::InvalidHeader(
                    "`p2s` must be at least 8 bytes".into(),
                ));
            }
            let p2c = match header.get("p2c") {
                Some(v) => v.as_u64().ok_or_else(|| {
                    Error::InvalidHeader("`p2c` must be a positive integer".into())
                })?,
                None => return Err(Error::InvalidHeader("missing `p2c`".into())),
            };
            if p2c == 0 {
                return Err(Error::InvalidHeader("`p2c` must be positive".into()));
            }
            // Bound the work an attacker can make us do (RFC 7518 §4.8.1.2, RFC 8725 §3.8).
            if p2c > u64::from(limits.max_pbes2_count) {
                return Err(Error::LimitExceeded(format!(
                    "p2c {p2c} is above the limit {}",
                    limits.max_pbes2_count
                )));
            }
            let kek = pbes2_kek(alg, hash, kek_len, secret_of(key)?, &p2s, p2c as u32)?;
            checked(enc, crypto::aes_key_unwrap(&kek, encrypted_key))
        }
    }
}
