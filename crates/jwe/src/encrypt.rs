//! Encryption (RFC 7516 §5.1) into the compact (§7.1) and JSON (§7.2) serializations.

use idforge_jose::json::parse_object;
use idforge_jose::{b64, Header, Key};
use rand::{CryptoRng, RngCore};
use serde_json::{Map, Value};

use crate::alg::{ContentEncryption, KeyManagementAlgorithm};
use crate::keymgmt::{self, Injected};
use crate::{zip, Error, Result};

/// One recipient of a JWE: a key, the algorithm to use with it, an optional per-recipient
/// header, and (for reproducible tests) injected ephemeral key, GCM-KW IV or PBES2 salt.
#[derive(Debug, Clone)]
pub struct Recipient<'k> {
    key: &'k Key,
    alg: KeyManagementAlgorithm,
    header: Option<Header>,
    injected: Injected,
}

impl<'k> Recipient<'k> {
    /// Encrypts to `key` (a public or private asymmetric key, or an `oct` key) with `alg`.
    pub fn new(key: &'k Key, alg: KeyManagementAlgorithm) -> Self {
        Recipient {
            key,
            alg,
            header: None,
            injected: Injected::default(),
        }
    }

    /// Per-recipient unprotected header members (RFC 7516 §7.2.1 `header`), e.g. `kid`.
    pub fn header(mut self, header: Header) -> Self {
        self.header = Some(header);
        self
    }

    /// Uses this ephemeral key pair for ECDH-ES instead of a fresh one. Only for reproducing
    /// test vectors: reusing an ephemeral key across messages voids ECDH-ES's guarantees.
    pub fn ephemeral_key(mut self, key: Key) -> Self {
        self.injected.ephemeral = Some(key);
        self
    }

    /// Uses this 96-bit IV for AES-GCM key wrap instead of a random one (tests only).
    pub fn wrap_iv(mut self, iv: Vec<u8>) -> Self {
        self.injected.wrap_iv = Some(iv);
        self
    }

    /// Uses this PBES2 salt input `p2s` (at least 8 bytes) instead of 16 random bytes.
    pub fn pbes2_salt(mut self, p2s: Vec<u8>) -> Self {
        self.injected.p2s = Some(p2s);
        self
    }

    /// Uses this PBES2 iteration count `p2c` instead of [`DEFAULT_PBES2_COUNT`](crate::DEFAULT_PBES2_COUNT).
    pub fn pbes2_count(mut self, p2c: u32) -> Self {
        self.injected.p2c = Some(p2c);
        self
    }
}

/// One recipient's entry in a produced JWE.
#[derive(Debug, Clone, PartialEq)]
pub struct RecipientEntry {
    /// The per-recipient unprotected header, if any.
    pub header: Option<Map<String, Value>>,
    /// The JWE Encrypted Key (empty for `dir` and `ECDH-ES`).
    pub encrypted_key: Vec<u8>,
}

/// A produced JWE, ready to be serialized in any form that can carry it.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwe {
    /// BASE64URL(UTF8(JWE Protected Header)); empty when there is no protected header.
    pub protected: String,
    /// The shared unprotected header (`unprotected`).
    pub unprotected: Option<Map<String, Value>>,
    /// The recipients.
    pub recipients: Vec<RecipientEntry>,
    /// The initialization vector.
    pub iv: Vec<u8>,
    /// The ciphertext.
    pub ciphertext: Vec<u8>,
    /// The authentication tag.
    pub tag: Vec<u8>,
    /// The JWE AAD (JSON serialization only).
    pub aad: Option<Vec<u8>>,
}

impl Jwe {
    /// The compact serialization (RFC 7516 §7.1). Fails when the JWE uses something only the
    /// JSON serialization carries: several recipients, unprotected headers, or AAD.
    pub fn compact(&self) -> Result<String> {
        let [r] = self.recipients.as_slice() else {
            return Err(Error::InvalidHeader(
                "the compact serialization has exactly one recipient".into(),
            ));
        };
        if r.header.is_some() || self.unprotected.is_some() || self.aad.is_some() {
            return Err(Error::InvalidHeader(
                "the compact serialization carries no unprotected header or AAD".into(),
            ));
        }
        if self.protected.is_empty() {
            return Err(Error::InvalidHeader(
                "compact JWE needs a protected header".into(),
            ));
        }
        let mut out = String::with_capacity(
            self.protected.len()
                + (r.encrypted_key.len() + self.iv.len() + self.ciphertext.len() + self.tag.len())
                    * 4
                    / 3
                + 8,
        );
        out.push_str(&self.protected);
        for part in [&r.encrypted_key, &self.iv, &self.ciphertext, &self.tag] {
            out.push('.');
            b64::encode_into(part, &mut out);
        }
        Ok(out)
    }

    fn common(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if !self.protected.is_empty() {
            m.insert("protected".into(), self.protected.clone().into());
        }
        if let Some(u) = &self.unprotected {
            m.insert("unprotected".into(), Value::Object(u.clone()));
        }
        m.insert("iv".into(), b64::encode(&self.iv).into());
        if let Some(aad) = &self.aad {
            m.insert("aad".into(), b64::encode(aad).into());
        }
        m.insert("ciphertext".into(), b64::encode(&self.ciphertext).into());
        m.insert("tag".into(), b64::encode(&self.tag).into());
        m
    }

    fn entry(r: &RecipientEntry, m: &mut Map<String, Value>) {
        if let Some(h) = &r.header {
            m.insert("header".into(), Value::Object(h.clone()));
        }
        if !r.encrypted_key.is_empty() {
            m.insert("encrypted_key".into(), b64::encode(&r.encrypted_key).into());
        }
    }

    /// The flattened JSON serialization (RFC 7516 §7.2.2); exactly one recipient.
    pub fn flattened_json(&self) -> Result<String> {
        let [r] = self.recipients.as_slice() else {
            return Err(Error::InvalidHeader(
                "the flattened JSON serialization has exactly one recipient".into(),
            ));
        };
        let mut m = self.common();
        Self::entry(r, &mut m);
        Ok(Value::Object(m).to_string())
    }

    /// The general JSON serialization (RFC 7516 §7.2.1).
    pub fn general_json(&self) -> String {
        let mut m = self.common();
        let recipients = self
            .recipients
            .iter()
            .map(|r| {
                let mut e = Map::new();
                Self::entry(r, &mut e);
                Value::Object(e)
            })
            .collect();
        m.insert("recipients".into(), Value::Array(recipients));
        Value::Object(m).to_string()
    }
}

/// Builds a JWE for one or more recipients (RFC 7516 §5.1), in any serialization.
///
/// Header placement: `enc` goes in the protected header unless the caller put it elsewhere.
/// With one recipient, `alg`, the key's `kid` and the algorithm's parameters (`epk`, `iv`/`tag`,
/// `p2s`/`p2c`) go where the caller put `alg` (protected by default); with several, each goes in
/// that recipient's own header. `zip: "DEF"` must be in the protected header.
///
/// For byte-for-byte test vectors, [`cek`](Self::cek), [`iv`](Self::iv),
/// [`protected_encoding`](Self::protected_encoding), [`Recipient::ephemeral_key`] and
/// [`encrypt_with_rng`](Self::encrypt_with_rng) inject what is otherwise random.
#[derive(Debug, Clone)]
pub struct Encryptor<'k> {
    enc: ContentEncryption,
    protected: Header,
    unprotected: Option<Header>,
    aad: Option<Vec<u8>>,
    recipients: Vec<Recipient<'k>>,
    cek: Option<Vec<u8>>,
    iv: Option<Vec<u8>>,
    protected_encoding: Option<String>,
}

fn conflict(name: &str) -> Error {
    Error::InvalidHeader(format!("`{name}` appears in more than one header"))
}

impl<'k> Encryptor<'k> {
    /// An encryptor for content encryption `enc`, with no recipients yet.
    pub fn new(enc: ContentEncryption) -> Self {
        Encryptor {
            enc,
            protected: Header::new(),
            unprotected: None,
            aad: None,
            recipients: Vec::new(),
            cek: None,
            iv: None,
            protected_encoding: None,
        }
    }

    /// Extra protected header members (e.g. `cty`, `typ`, `zip`, `kid`).
    pub fn protected(mut self, header: Header) -> Self {
        self.protected = header;
        self
    }

    /// The shared unprotected header (JSON serialization only).
    pub fn unprotected(mut self, header: Header) -> Self {
        self.unprotected = Some(header);
        self
    }

    /// Additional authenticated data (JSON serialization only, RFC 7516 §5.1 step 14).
    pub fn aad(mut self, aad: impl Into<Vec<u8>>) -> Self {
        self.aad = Some(aad.into());
        self
    }

    /// Adds a recipient.
    pub fn recipient(mut self, recipient: Recipient<'k>) -> Self {
        self.recipients.push(recipient);
        self
    }

    /// Uses this CEK instead of a random one (tests only; ignored-but-checked for `dir`).
    pub fn cek(mut self, cek: Vec<u8>) -> Self {
        self.cek = Some(cek);
        self
    }

    /// Uses this IV instead of a random one (tests only: never reuse an IV with a key).
    pub fn iv(mut self, iv: Vec<u8>) -> Self {
        self.iv = Some(iv);
        self
    }

    /// Uses this exact base64url encoding of the protected header. It must decode to exactly
    /// the members this encryptor produces (compared as JSON), so it can only change member
    /// order and whitespace — which is what reproducing published vectors needs.
    pub fn protected_encoding(mut self, encoded: impl Into<String>) -> Self {
        self.protected_encoding = Some(encoded.into());
        self
    }

    /// Encrypts with randomness from the operating system.
    pub fn encrypt(&self, plaintext: &[u8]) -> Result<Jwe> {
        self.encrypt_with_rng(plaintext, &mut rand::rngs::OsRng)
    }

    /// Encrypts with randomness (CEK, IV, GCM-KW IV, PBES2 salt) from `rng`. ECDH-ES ephemeral
    /// keys come from the crypto backend unless injected with [`Recipient::ephemeral_key`].
    pub fn encrypt_with_rng<R: RngCore + CryptoRng>(
        &self,
        plaintext: &[u8],
        rng: &mut R,
    ) -> Result<Jwe> {
        self.encrypt_inner(plaintext, rng)
    }

    fn encrypt_inner(&self, plaintext: &[u8], rng: &mut dyn RngCore) -> Result<Jwe> {
        let enc = self.enc;
        let n = self.recipients.len();
        if n == 0 {
            return Err(Error::KeyNotFound("no recipient".into()));
        }
        let mut protected = self.protected.as_map().clone();
        let shared = self.unprotected.as_ref().map(|h| h.as_map().clone());
        let mut recipient_headers: Vec<Option<Map<String, Value>>> = self
            .recipients
            .iter()
            .map(|r| r.header.as_ref().map(|h| h.as_map().clone()))
            .collect();

        // `enc`: where the caller put it, checked; else protected.
        let enc_places = [Some(&protected), shared.as_ref()]
            .into_iter()
            .chain(recipient_headers.iter().map(Option::as_ref))
            .flatten()
            .filter_map(|m| m.get("enc"))
            .collect::<Vec<_>>();
        if enc_places.iter().any(|v| v.as_str() != Some(enc.name())) {
            return Err(Error::InvalidHeader(
                "header `enc` differs from the encryptor's".into(),
            ));
        }
        if enc_places.is_empty() {
            protected.insert("enc".into(), enc.name().into());
        }
        // RFC 7516 §4.1.3: zip must be protected; only DEF is defined.
        let in_unprotected = |name: &str| {
            shared.as_ref().is_some_and(|m| m.contains_key(name))
                || recipient_headers
                    .iter()
                    .flatten()
                    .any(|m| m.contains_key(name))
        };
        if in_unprotected("zip") {
            return Err(Error::InvalidHeader(
                "`zip` must be integrity protected".into(),
            ));
        }
        if in_unprotected("crit") {
            return Err(Error::InvalidHeader(
                "`crit` must be integrity protected".into(),
            ));
        }
        let compress = match protected.get("zip") {
            None => false,
            Some(Value::String(z)) if z == "DEF" => true,
            Some(_) => return Err(Error::UnsupportedAlgorithm("zip other than DEF".into())),
        };

        // RFC 7516 §5.1 steps 1–2: choose the CEK.
        let direct = self.recipients.iter().any(|r| r.alg.is_direct());
        if direct && n > 1 {
            return Err(Error::InvalidHeader(
                "dir and ECDH-ES allow only a single recipient".into(),
            ));
        }

        let mut entries = Vec::with_capacity(n);
        let mut cek: Option<Vec<u8>> = None;
        for (i, r) in self.recipients.iter().enumerate() {
            r.alg.check_key(r.key)?;
            if !r.key.jwk().permits("encrypt")
                && !r.key.jwk().permits("wrapKey")
                && !r.key.jwk().permits("deriveKey")
            {
                return Err(Error::InvalidKey(
                    "key `use`/`key_ops` do not permit encryption".into(),
                ));
            }
            // Where does this recipient's `alg` (and its parameters) go?
            let mut target: Option<usize> = None; // 0 protected, 1 shared, 2 recipient
            for (place, m) in [
                Some(&protected),
                shared.as_ref(),
                recipient_headers.get(i).and_then(Option::as_ref),
            ]
            .into_iter()
            .enumerate()
            {
                if let Some(a) = m.and_then(|m| m.get("alg")) {
                    if a.as_str() != Some(r.alg.name()) {
                        return Err(Error::InvalidHeader(format!(
                            "header `alg` differs from the recipient's {}",
                            r.alg
                        )));
                    }
                    target = Some(place);
                }
            }
            if n > 1 && matches!(target, Some(0 | 1)) {
                return Err(Error::InvalidHeader(
                    "with several recipients `alg` belongs in each recipient's header".into(),
                ));
            }
            let target = target.unwrap_or(if n > 1 { 2 } else { 0 });
            // The header the key management sees: everything the caller set for this recipient.
            let view = {
                let mut v = protected.clone();
                for m in [
                    shared.as_ref(),
                    recipient_headers.get(i).and_then(Option::as_ref),
                ]
                .into_iter()
                .flatten()
                {
                    v.extend(m.clone());
                }
                v
            };
            let (ek, mut params) = if r.alg.is_direct() {
                let (derived, params) =
                    keymgmt::sender_direct(r.alg, enc, r.key, &view, &r.injected)?;
                if let Some(c) = &self.cek {
                    if !idforge_jose::crypto::ct_eq(c, &derived) {
                        return Err(Error::InvalidKey(
                            "an injected CEK cannot be used with dir or ECDH-ES".into(),
                        ));
                    }
                }
                cek = Some(derived);
                (Vec::new(), params)
            } else {
                let c = match (&cek, &self.cek) {
                    (Some(c), _) => c.clone(),
                    (None, Some(c)) => {
                        if c.len() != enc.cek_len() {
                            return Err(Error::InvalidKey(format!(
                                "{enc} needs a {}-byte CEK",
                                enc.cek_len()
                            )));
                        }
                        c.clone()
                    }
                    (None, None) => keymgmt::fill(rng, enc.cek_len())?,
                };
                let out = keymgmt::sender_wrap(r.alg, r.key, &c, &view, &r.injected, rng)?;
                cek = Some(c);
                out
            };
            params.insert("alg".into(), r.alg.name().into());
            if let Some(kid) = r.key.kid() {
                if !view.contains_key("kid") {
                    params.insert("kid".into(), kid.into());
                }
            }
            entries.push((ek, params, target));
        }
        let cek = cek.ok_or(Error::Backend)?;
        let mut shared = shared;
        // Place `alg`, `kid` and the algorithm parameters (checking §7.2.1 disjointness).
        let mut out_recipients = Vec::with_capacity(n);
        for (i, (ek, params, target)) in entries.into_iter().enumerate() {
            let dest = match target {
                0 => &mut protected,
                1 => shared.get_or_insert_with(Map::new),
                _ => recipient_headers
                    .get_mut(i)
                    .ok_or(Error::Backend)?
                    .get_or_insert_with(Map::new),
            };
            for (k, v) in params {
                if k == "alg" && dest.contains_key("alg") {
                    continue;
                }
                dest.insert(k, v);
            }
            out_recipients.push(ek);
        }
        // RFC 7516 §7.2.1: protected, shared and per-recipient names must be disjoint.
        for rh in &recipient_headers {
            let mut seen: Vec<&str> = protected.keys().map(String::as_str).collect();
            for m in [shared.as_ref(), rh.as_ref()].into_iter().flatten() {
                for k in m.keys() {
                    if seen.contains(&k.as_str()) {
                        return Err(conflict(k));
                    }
                    seen.push(k);
                }
            }
        }

        // RFC 7516 §5.1 steps 13–14: encode the protected header, compute the AAD.
        let protected_b64 = if protected.is_empty() {
            String::new()
        } else {
            match &self.protected_encoding {
                Some(encoded) => {
                    let bytes = b64::decode(encoded, "protected").map_err(Error::from)?;
                    let given = parse_object(&bytes, 64, "protected header")?;
                    if given != protected {
                        return Err(Error::InvalidHeader(
                            "the injected protected header encoding does not match".into(),
                        ));
                    }
                    encoded.clone()
                }
                None => b64::encode(serde_json::to_vec(&protected).map_err(|_| Error::Backend)?),
            }
        };
        let mut aad = protected_b64.clone().into_bytes();
        if let Some(a) = &self.aad {
            aad.push(b'.');
            aad.extend_from_slice(b64::encode(a).as_bytes());
        }
        // Steps 9–12: IV, compression, encryption.
        let iv = match &self.iv {
            Some(iv) => iv.clone(),
            None => keymgmt::fill(rng, enc.iv_len())?,
        };
        let compressed;
        let message = if compress {
            compressed = zip::deflate(plaintext)?;
            &compressed[..]
        } else {
            plaintext
        };
        let (ciphertext, tag) = enc.encrypt(&cek, &iv, &aad, message)?;
        Ok(Jwe {
            protected: protected_b64,
            unprotected: shared,
            recipients: out_recipients
                .into_iter()
                .zip(recipient_headers)
                .map(|(encrypted_key, header)| RecipientEntry {
                    header,
                    encrypted_key,
                })
                .collect(),
            iv,
            ciphertext,
            tag,
            aad: self.aad.clone(),
        })
    }
}

/// Encrypts `plaintext` to one recipient in the compact serialization (RFC 7516 §7.1).
/// `header` holds extra protected members (`cty`, `typ`, `kid`, `zip`, ...); `alg`, `enc` and
/// the key's `kid` (when the header has none) are added.
pub fn encrypt_compact(
    plaintext: &[u8],
    recipient: &Key,
    alg: KeyManagementAlgorithm,
    enc: ContentEncryption,
    header: Header,
) -> Result<String> {
    Encryptor::new(enc)
        .protected(header)
        .recipient(Recipient::new(recipient, alg))
        .encrypt(plaintext)?
        .compact()
}
