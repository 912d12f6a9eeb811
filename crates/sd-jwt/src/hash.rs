//! The `_sd_alg` hash functions (RFC 9901 §4.1.1) and digests over Disclosures (§4.2.3).

use idforge_jose::b64;
use idforge_jose::crypto::HashAlg;

use crate::{Error, Result};

/// A hash algorithm for `_sd_alg`, named as in the IANA "Named Information Hash Algorithm"
/// registry (RFC 9901 §4.1.1).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
pub enum SdAlg {
    /// `sha-256`, the default when `_sd_alg` is absent (RFC 9901 §4.1.1).
    #[default]
    #[serde(rename = "sha-256")]
    Sha256,
    /// `sha-384`.
    #[serde(rename = "sha-384")]
    Sha384,
    /// `sha-512`.
    #[serde(rename = "sha-512")]
    Sha512,
}

impl SdAlg {
    /// Every supported algorithm.
    pub const ALL: [SdAlg; 3] = [SdAlg::Sha256, SdAlg::Sha384, SdAlg::Sha512];

    /// The registry name (`sha-256`, ...).
    pub fn name(self) -> &'static str {
        match self {
            SdAlg::Sha256 => "sha-256",
            SdAlg::Sha384 => "sha-384",
            SdAlg::Sha512 => "sha-512",
        }
    }

    /// The `_sd_alg` of an Issuer-signed JWT payload: absent means `sha-256` (RFC 9901 §4.1.1).
    pub(crate) fn of_payload(payload: &serde_json::Map<String, serde_json::Value>) -> Result<Self> {
        match payload.get("_sd_alg") {
            None => Ok(SdAlg::Sha256),
            Some(serde_json::Value::String(name)) => SdAlg::from_name(name),
            Some(_) => Err(Error::SdAlgNotAllowed("`_sd_alg` is not a string".into())),
        }
    }

    /// Parses a registry name; names are case-sensitive (RFC 9901 §4.1.1 uses the registry's
    /// lowercase names).
    pub fn from_name(name: &str) -> Result<Self> {
        match name {
            "sha-256" => Ok(SdAlg::Sha256),
            "sha-384" => Ok(SdAlg::Sha384),
            "sha-512" => Ok(SdAlg::Sha512),
            other => Err(Error::SdAlgNotAllowed(truncate(other))),
        }
    }

    fn hash_alg(self) -> HashAlg {
        match self {
            SdAlg::Sha256 => HashAlg::Sha256,
            SdAlg::Sha384 => HashAlg::Sha384,
            SdAlg::Sha512 => HashAlg::Sha512,
        }
    }

    /// Raw digest of `data`.
    pub fn digest(self, data: &[u8]) -> Vec<u8> {
        self.hash_alg().digest(data)
    }

    /// RFC 9901 §4.2.3: base64url of the hash over the US-ASCII bytes of `text` (a Disclosure
    /// exactly as encoded, or for `sd_hash` the presented SD-JWT, §4.3.1).
    pub fn digest_b64(self, text: &str) -> String {
        self.digest_text(text.as_bytes()).as_str().to_owned()
    }

    /// [`SdAlg::digest_b64`] over bytes, without allocating.
    pub(crate) fn digest_text(self, data: &[u8]) -> DigestText {
        let mut raw = [0u8; 64];
        let n = self.hash_alg().digest_into(data, &mut raw);
        let mut out = DigestText {
            text: [0; DigestText::MAX],
            len: 0,
        };
        // Cannot fail: 64 digest bytes encode to at most 86 characters.
        let len = b64::encode_to_slice(&raw[..n], &mut out.text).unwrap_or(0);
        out.len = len as u8;
        out
    }
}

/// A base64url digest held inline. Ordering is that of the text (unused bytes are zero and
/// every digest of one `_sd_alg` has the same length), so `_sd` arrays sort without allocating.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct DigestText {
    text: [u8; DigestText::MAX],
    len: u8,
}

impl DigestText {
    /// base64url length of a SHA-512 digest.
    const MAX: usize = 86;

    /// The first eight characters as one integer, ordered as the text is: digests are
    /// random, so comparing heads almost always decides the text order.
    pub(crate) fn head(&self) -> u64 {
        let mut h = [0u8; 8];
        h.copy_from_slice(&self.text[..8]);
        u64::from_be_bytes(h)
    }

    /// Replaces the last character (tests of ordering ties).
    #[cfg(test)]
    pub(crate) fn set_last(&mut self, c: u8) {
        let i = usize::from(self.len) - 1;
        self.text[i] = c;
    }

    /// The digest text as bytes (base64url characters only).
    pub(crate) fn as_bytes(&self) -> &[u8] {
        &self.text[..usize::from(self.len)]
    }

    /// Sorts `digests` in text order (RFC 9901 §4.2.4.1: sorted, so the order reveals
    /// nothing) and returns them as references. Sorts (head, index) pairs, so a comparison is
    /// one integer compare and a swap moves 16 bytes instead of an inline digest.
    pub(crate) fn sorted(digests: &[DigestText]) -> Vec<&DigestText> {
        let mut keys: Vec<(u64, usize)> = digests
            .iter()
            .enumerate()
            .map(|(i, d)| (d.head(), i))
            .collect();
        keys.sort_unstable_by(|a, b| a.0.cmp(&b.0).then_with(|| digests[a.1].cmp(&digests[b.1])));
        keys.into_iter().map(|(_, i)| &digests[i]).collect()
    }

    /// The digest text.
    pub(crate) fn as_str(&self) -> &str {
        // Only base64url characters are ever written, which are ASCII.
        std::str::from_utf8(&self.text[..usize::from(self.len)]).unwrap_or("")
    }
}

impl std::fmt::Display for SdAlg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Shortens untrusted text for error messages.
pub(crate) fn truncate(s: &str) -> String {
    if s.len() <= 64 {
        s.to_owned()
    } else {
        let mut end = 64;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        format!("{}…", &s[..end])
    }
}
