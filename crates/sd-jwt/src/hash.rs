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
        b64::encode(self.digest(text.as_bytes()))
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
