//! JWE algorithms: key management `alg` (RFC 7518 §4, RFC 8037 §3.2) and content
//! encryption `enc` (RFC 7518 §5), with the AEAD constructions themselves.

use idforge_jose::crypto::{self, EcCurve, HashAlg, OkpCurve};
use idforge_jose::jwk::{KeyParams, KeyUse};
use idforge_jose::Key;

use crate::{Error, Result};

/// A key management algorithm (`alg`, RFC 7518 §4.1).
///
/// `RSA1_5` is deliberately not representable: RSAES-PKCS1-v1_5 key transport invites
/// Bleichenbacher-style padding oracles (RFC 7516 §11.5, RFC 8725 §3.2), so
/// [`from_name`](Self::from_name) reports it as unsupported.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum KeyManagementAlgorithm {
    /// `RSA-OAEP`: RSAES-OAEP with SHA-1 and MGF1-SHA-1 (RFC 7518 §4.3).
    RsaOaep,
    /// `RSA-OAEP-256`: RSAES-OAEP with SHA-256 and MGF1-SHA-256 (RFC 7518 §4.3).
    RsaOaep256,
    /// `RSA-OAEP-384`: RSAES-OAEP with SHA-384 (IANA JOSE registry, WebCrypto).
    RsaOaep384,
    /// `RSA-OAEP-512`: RSAES-OAEP with SHA-512 (IANA JOSE registry, WebCrypto).
    RsaOaep512,
    /// `ECDH-ES`: direct key agreement with Concat KDF (RFC 7518 §4.6).
    EcdhEs,
    /// `ECDH-ES+A128KW`: key agreement, then AES-128 key wrap (RFC 7518 §4.6).
    EcdhEsA128Kw,
    /// `ECDH-ES+A192KW`: key agreement, then AES-192 key wrap (RFC 7518 §4.6).
    EcdhEsA192Kw,
    /// `ECDH-ES+A256KW`: key agreement, then AES-256 key wrap (RFC 7518 §4.6).
    EcdhEsA256Kw,
    /// `A128KW`: AES-128 key wrap, RFC 3394 (RFC 7518 §4.4).
    A128Kw,
    /// `A192KW`: AES-192 key wrap (RFC 7518 §4.4).
    A192Kw,
    /// `A256KW`: AES-256 key wrap (RFC 7518 §4.4).
    A256Kw,
    /// `A128GCMKW`: key wrap with AES-128-GCM, `iv`/`tag` in the header (RFC 7518 §4.7).
    A128GcmKw,
    /// `A192GCMKW`: key wrap with AES-192-GCM (RFC 7518 §4.7).
    A192GcmKw,
    /// `A256GCMKW`: key wrap with AES-256-GCM (RFC 7518 §4.7).
    A256GcmKw,
    /// `PBES2-HS256+A128KW`: password-based, PBKDF2-HMAC-SHA-256 then A128KW (RFC 7518 §4.8).
    Pbes2Hs256A128Kw,
    /// `PBES2-HS384+A192KW`: PBKDF2-HMAC-SHA-384 then A192KW (RFC 7518 §4.8).
    Pbes2Hs384A192Kw,
    /// `PBES2-HS512+A256KW`: PBKDF2-HMAC-SHA-512 then A256KW (RFC 7518 §4.8).
    Pbes2Hs512A256Kw,
    /// `dir`: the shared symmetric key is the CEK (RFC 7518 §4.5).
    Dir,
}

/// The broad families of key management, RFC 7516 §2 ("Key Management Mode").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Mode {
    /// RSA key encryption.
    Rsa(HashAlg),
    /// ECDH-ES direct key agreement.
    EcdhDirect,
    /// ECDH-ES with key wrapping; the KEK length in bytes.
    EcdhKw(usize),
    /// AES key wrap with a KEK of this many bytes.
    AesKw(usize),
    /// AES-GCM key wrap with a KEK of this many bytes.
    AesGcmKw(usize),
    /// PBES2 with the HMAC hash and a KEK of this many bytes.
    Pbes2(HashAlg, usize),
    /// Direct encryption.
    Direct,
}

impl KeyManagementAlgorithm {
    /// Every supported algorithm.
    pub const ALL: [KeyManagementAlgorithm; 18] = [
        Self::RsaOaep,
        Self::RsaOaep256,
        Self::RsaOaep384,
        Self::RsaOaep512,
        Self::EcdhEs,
        Self::EcdhEsA128Kw,
        Self::EcdhEsA192Kw,
        Self::EcdhEsA256Kw,
        Self::A128Kw,
        Self::A192Kw,
        Self::A256Kw,
        Self::A128GcmKw,
        Self::A192GcmKw,
        Self::A256GcmKw,
        Self::Pbes2Hs256A128Kw,
        Self::Pbes2Hs384A192Kw,
        Self::Pbes2Hs512A256Kw,
        Self::Dir,
    ];

    /// The registered `alg` name (RFC 7518 §4.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::RsaOaep => "RSA-OAEP",
            Self::RsaOaep256 => "RSA-OAEP-256",
            Self::RsaOaep384 => "RSA-OAEP-384",
            Self::RsaOaep512 => "RSA-OAEP-512",
            Self::EcdhEs => "ECDH-ES",
            Self::EcdhEsA128Kw => "ECDH-ES+A128KW",
            Self::EcdhEsA192Kw => "ECDH-ES+A192KW",
            Self::EcdhEsA256Kw => "ECDH-ES+A256KW",
            Self::A128Kw => "A128KW",
            Self::A192Kw => "A192KW",
            Self::A256Kw => "A256KW",
            Self::A128GcmKw => "A128GCMKW",
            Self::A192GcmKw => "A192GCMKW",
            Self::A256GcmKw => "A256GCMKW",
            Self::Pbes2Hs256A128Kw => "PBES2-HS256+A128KW",
            Self::Pbes2Hs384A192Kw => "PBES2-HS384+A192KW",
            Self::Pbes2Hs512A256Kw => "PBES2-HS512+A256KW",
            Self::Dir => "dir",
        }
    }

    /// Parses an `alg` name. `RSA1_5` and unknown names are [`Error::UnsupportedAlgorithm`].
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("alg `{name}`")))
    }

    pub(crate) fn mode(self) -> Mode {
        match self {
            Self::RsaOaep => Mode::Rsa(HashAlg::Sha1),
            Self::RsaOaep256 => Mode::Rsa(HashAlg::Sha256),
            Self::RsaOaep384 => Mode::Rsa(HashAlg::Sha384),
            Self::RsaOaep512 => Mode::Rsa(HashAlg::Sha512),
            Self::EcdhEs => Mode::EcdhDirect,
            Self::EcdhEsA128Kw => Mode::EcdhKw(16),
            Self::EcdhEsA192Kw => Mode::EcdhKw(24),
            Self::EcdhEsA256Kw => Mode::EcdhKw(32),
            Self::A128Kw => Mode::AesKw(16),
            Self::A192Kw => Mode::AesKw(24),
            Self::A256Kw => Mode::AesKw(32),
            Self::A128GcmKw => Mode::AesGcmKw(16),
            Self::A192GcmKw => Mode::AesGcmKw(24),
            Self::A256GcmKw => Mode::AesGcmKw(32),
            Self::Pbes2Hs256A128Kw => Mode::Pbes2(HashAlg::Sha256, 16),
            Self::Pbes2Hs384A192Kw => Mode::Pbes2(HashAlg::Sha384, 24),
            Self::Pbes2Hs512A256Kw => Mode::Pbes2(HashAlg::Sha512, 32),
            Self::Dir => Mode::Direct,
        }
    }

    /// Whether the CEK is determined by the key management step itself (`dir`, `ECDH-ES`),
    /// which RFC 7516 §5.1 step 2 and RFC 7518 §4.5/§4.6 restrict to a single recipient.
    pub fn is_direct(self) -> bool {
        matches!(self, Self::Dir | Self::EcdhEs)
    }

    /// Every algorithm that fits `key`: its `kty`, curve and size (RFC 7518 §4.2–4.8: RSA keys
    /// of at least 2048 bits; AES KEKs of exactly the algorithm's size; EC P-256/384/521 and
    /// X25519 for ECDH-ES, RFC 8037 §3.2), and its JWK `alg` member when present
    /// (RFC 7517 §4.4). A key whose `use` is `sig` fits nothing (RFC 7517 §4.2).
    ///
    /// `dir` fits an `oct` key whose length is a CEK length of some [`ContentEncryption`];
    /// a JWK `alg` naming an `enc` (as RFC 7520 §5.6 does) selects `dir` for that `enc`.
    /// PBES2 is only offered when the JWK's `alg` names it explicitly, since any `oct`
    /// value could otherwise be mistaken for a password.
    pub fn fitting(key: &Key) -> Vec<Self> {
        let jwk = key.jwk();
        if jwk.key_use == Some(KeyUse::Signature) {
            return Vec::new();
        }
        let mut out: Vec<Self> = match &jwk.params {
            KeyParams::Rsa { .. } if key.rsa_bits().unwrap_or(0) >= 2048 => vec![
                Self::RsaOaep,
                Self::RsaOaep256,
                Self::RsaOaep384,
                Self::RsaOaep512,
            ],
            KeyParams::Ec { .. }
            | KeyParams::Okp {
                crv: OkpCurve::X25519,
                ..
            } => vec![
                Self::EcdhEs,
                Self::EcdhEsA128Kw,
                Self::EcdhEsA192Kw,
                Self::EcdhEsA256Kw,
            ],
            KeyParams::Oct { k } => {
                let len = k.expose().len();
                let mut v = Vec::new();
                for a in Self::ALL {
                    match a.mode() {
                        Mode::AesKw(n) | Mode::AesGcmKw(n) if n == len => v.push(a),
                        Mode::Pbes2(..) if jwk.alg.as_deref() == Some(a.name()) => v.push(a),
                        _ => {}
                    }
                }
                if ContentEncryption::ALL.iter().any(|e| e.cek_len() == len) {
                    v.push(Self::Dir);
                }
                v
            }
            _ => Vec::new(),
        };
        if let Some(alg) = jwk.alg.as_deref() {
            let names_enc = ContentEncryption::from_name(alg).ok();
            out.retain(|a| match names_enc {
                Some(enc) => {
                    *a == Self::Dir && key.secret().map(<[u8]>::len) == Some(enc.cek_len())
                }
                None => a.name() == alg,
            });
        }
        out
    }

    /// Checks that `key` may be used with this algorithm (see [`fitting`](Self::fitting)).
    pub fn check_key(self, key: &Key) -> Result<()> {
        if Self::fitting(key).contains(&self) {
            Ok(())
        } else {
            Err(Error::InvalidKey(format!(
                "an {} key{} cannot be used with {}",
                key.jwk().kty(),
                key.jwk()
                    .alg
                    .as_deref()
                    .map(|a| format!(" for {a}"))
                    .unwrap_or_default(),
                self.name()
            )))
        }
    }
}

impl std::fmt::Display for KeyManagementAlgorithm {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for KeyManagementAlgorithm {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}

/// A content encryption algorithm (`enc`, RFC 7518 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ContentEncryption {
    /// `A128CBC-HS256`: AES-128-CBC + HMAC-SHA-256 truncated to 128 bits (RFC 7518 §5.2.3).
    A128CbcHs256,
    /// `A192CBC-HS384`: AES-192-CBC + HMAC-SHA-384 truncated to 192 bits (RFC 7518 §5.2.4).
    A192CbcHs384,
    /// `A256CBC-HS512`: AES-256-CBC + HMAC-SHA-512 truncated to 256 bits (RFC 7518 §5.2.5).
    A256CbcHs512,
    /// `A128GCM`: AES-128-GCM, 96-bit IV, 128-bit tag (RFC 7518 §5.3).
    A128Gcm,
    /// `A192GCM`: AES-192-GCM (RFC 7518 §5.3).
    A192Gcm,
    /// `A256GCM`: AES-256-GCM (RFC 7518 §5.3).
    A256Gcm,
}

impl ContentEncryption {
    /// Every supported content encryption algorithm.
    pub const ALL: [ContentEncryption; 6] = [
        Self::A128CbcHs256,
        Self::A192CbcHs384,
        Self::A256CbcHs512,
        Self::A128Gcm,
        Self::A192Gcm,
        Self::A256Gcm,
    ];

    /// The registered `enc` name (RFC 7518 §5.1).
    pub fn name(self) -> &'static str {
        match self {
            Self::A128CbcHs256 => "A128CBC-HS256",
            Self::A192CbcHs384 => "A192CBC-HS384",
            Self::A256CbcHs512 => "A256CBC-HS512",
            Self::A128Gcm => "A128GCM",
            Self::A192Gcm => "A192GCM",
            Self::A256Gcm => "A256GCM",
        }
    }

    /// Parses an `enc` name; unknown names are [`Error::UnsupportedAlgorithm`].
    pub fn from_name(name: &str) -> Result<Self> {
        Self::ALL
            .into_iter()
            .find(|e| e.name() == name)
            .ok_or_else(|| Error::UnsupportedAlgorithm(format!("enc `{name}`")))
    }

    /// CEK length in bytes: MAC key plus encryption key for CBC-HMAC (RFC 7518 §5.2.2.1),
    /// the AES key for GCM (RFC 7518 §5.3).
    pub fn cek_len(self) -> usize {
        match self {
            Self::A128CbcHs256 => 32,
            Self::A192CbcHs384 => 48,
            Self::A256CbcHs512 => 64,
            Self::A128Gcm => 16,
            Self::A192Gcm => 24,
            Self::A256Gcm => 32,
        }
    }

    /// IV length in bytes: 128 bits for CBC (RFC 7518 §5.2.2.1), 96 bits for GCM (§5.3).
    pub fn iv_len(self) -> usize {
        if self.is_gcm() {
            12
        } else {
            16
        }
    }

    /// Authentication tag length in bytes: half the HMAC output for CBC-HMAC (RFC 7518 §5.2.2.1
    /// step 5, `T_LEN`), 128 bits for GCM (§5.3).
    pub fn tag_len(self) -> usize {
        match self {
            Self::A128CbcHs256 => 16,
            Self::A192CbcHs384 => 24,
            Self::A256CbcHs512 => 32,
            _ => 16,
        }
    }

    fn is_gcm(self) -> bool {
        matches!(self, Self::A128Gcm | Self::A192Gcm | Self::A256Gcm)
    }

    fn hmac_hash(self) -> HashAlg {
        match self {
            Self::A192CbcHs384 => HashAlg::Sha384,
            Self::A256CbcHs512 => HashAlg::Sha512,
            _ => HashAlg::Sha256,
        }
    }

    /// RFC 7518 §5.2.2.1 step 4–5: `M = HMAC(MAC_KEY, A || IV || E || AL)`, truncated to `T_LEN`,
    /// where `AL` is the bit length of `A` as a 64-bit big-endian integer.
    fn cbc_tag(self, mac_key: &[u8], iv: &[u8], aad: &[u8], ct: &[u8]) -> Result<Vec<u8>> {
        let al = (aad.len() as u64).wrapping_mul(8).to_be_bytes();
        let mut input = Vec::with_capacity(aad.len() + iv.len() + ct.len() + 8);
        input.extend_from_slice(aad);
        input.extend_from_slice(iv);
        input.extend_from_slice(ct);
        input.extend_from_slice(&al);
        let mut m = crypto::hmac(self.hmac_hash(), mac_key, &input).map_err(|_| Error::Backend)?;
        m.truncate(self.tag_len());
        Ok(m)
    }

    /// Authenticated encryption (RFC 7518 §5.2.2.1 for CBC-HMAC, §5.3 for GCM); returns
    /// `(ciphertext, tag)`. `cek` and `iv` must have this algorithm's lengths.
    pub fn encrypt(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        plaintext: &[u8],
    ) -> Result<(Vec<u8>, Vec<u8>)> {
        if cek.len() != self.cek_len() {
            return Err(Error::InvalidKey(format!(
                "{} needs a {}-byte CEK",
                self.name(),
                self.cek_len()
            )));
        }
        if iv.len() != self.iv_len() {
            return Err(Error::Malformed(format!(
                "{} needs a {}-byte IV",
                self.name(),
                self.iv_len()
            )));
        }
        if self.is_gcm() {
            let (ct, tag) =
                crypto::aes_gcm_encrypt(cek, iv, aad, plaintext).map_err(|_| Error::Backend)?;
            return Ok((ct, tag.to_vec()));
        }
        // §5.2.2.1 step 1: MAC_KEY is the first half of the CEK, ENC_KEY the second.
        let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
        let ct = crypto::aes_cbc_encrypt(enc_key, iv, plaintext).map_err(|_| Error::Backend)?;
        let tag = self.cbc_tag(mac_key, iv, aad, &ct)?;
        Ok((ct, tag))
    }

    /// Authenticated decryption (RFC 7518 §5.2.2.2, §5.3). Every failure — a tag of the wrong
    /// length, a tag mismatch (compared in constant time), bad padding, a CEK or IV of the
    /// wrong length — is the same [`Error::InvalidTag`]. For CBC the MAC is checked before
    /// any decryption (encrypt-then-MAC), so padding is never examined for forged input.
    pub fn decrypt(
        self,
        cek: &[u8],
        iv: &[u8],
        aad: &[u8],
        ciphertext: &[u8],
        tag: &[u8],
    ) -> Result<Vec<u8>> {
        if cek.len() != self.cek_len() || iv.len() != self.iv_len() || tag.len() != self.tag_len() {
            return Err(Error::InvalidTag);
        }
        if self.is_gcm() {
            return crypto::aes_gcm_decrypt(cek, iv, aad, ciphertext, tag)
                .map_err(|_| Error::InvalidTag);
        }
        let (mac_key, enc_key) = cek.split_at(cek.len() / 2);
        let expected = self.cbc_tag(mac_key, iv, aad, ciphertext)?;
        if !crypto::ct_eq(&expected, tag) {
            return Err(Error::InvalidTag);
        }
        crypto::aes_cbc_decrypt(enc_key, iv, ciphertext).map_err(|_| Error::InvalidTag)
    }
}

impl std::fmt::Display for ContentEncryption {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for ContentEncryption {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Self::from_name(s)
    }
}

/// The curve of an ECDH-capable key: a NIST curve or X25519.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum AgreementCurve {
    Ec(EcCurve),
    X25519,
}

impl AgreementCurve {
    pub(crate) fn of(key: &Key) -> Option<Self> {
        if let Some(c) = key.ec_curve() {
            return Some(AgreementCurve::Ec(c));
        }
        match key.okp_curve() {
            Some(OkpCurve::X25519) => Some(AgreementCurve::X25519),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_rsa1_5_is_refused() {
        for a in KeyManagementAlgorithm::ALL {
            assert_eq!(KeyManagementAlgorithm::from_name(a.name()), Ok(a));
        }
        for e in ContentEncryption::ALL {
            assert_eq!(ContentEncryption::from_name(e.name()), Ok(e));
        }
        let err = KeyManagementAlgorithm::from_name("RSA1_5").unwrap_err();
        assert_eq!(err.code(), "unsupported_algorithm");
        assert!(KeyManagementAlgorithm::from_name("none").is_err());
    }

    #[test]
    fn cbc_rejects_wrong_tag_length() {
        let enc = ContentEncryption::A128CbcHs256;
        let cek = [7u8; 32];
        let iv = [1u8; 16];
        let (ct, tag) = enc.encrypt(&cek, &iv, b"aad", b"hello").unwrap();
        assert_eq!(tag.len(), 16);
        assert_eq!(enc.decrypt(&cek, &iv, b"aad", &ct, &tag).unwrap(), b"hello");
        let full = [&tag[..], &[0u8; 16]].concat();
        assert_eq!(
            enc.decrypt(&cek, &iv, b"aad", &ct, &full),
            Err(Error::InvalidTag)
        );
        assert_eq!(
            enc.decrypt(&cek, &iv, b"aad", &ct, &tag[..15]),
            Err(Error::InvalidTag)
        );
        assert_eq!(
            enc.decrypt(&cek, &iv, b"aaD", &ct, &tag),
            Err(Error::InvalidTag)
        );
    }
}
