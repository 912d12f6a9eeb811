//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in `idforge-jwe`.
///
/// Each variant has a stable machine-readable [`code`](Error::code), which the CLI prints after
/// `error:`. Decryption failures that an attacker could otherwise tell apart (a wrong tag, bad
/// padding, a failed key unwrap, an RSA-OAEP decoding error, a CEK of the wrong length) all
/// surface as the single [`Error::InvalidTag`] (RFC 7516 §11.4–11.5).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// Authentication failed: the tag did not verify, or the CEK could not be recovered.
    #[error("decryption failed: the JWE does not authenticate")]
    InvalidTag,
    /// The input is not a well-formed JWE (segments, JSON, base64url, member types).
    #[error("malformed JWE: {0}")]
    Malformed(String),
    /// `alg`, `enc` or `zip` names something this library does not implement (RSA1_5 included).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The algorithm is implemented but outside the caller's allow-list.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// No key in the set fits the JWE (by `kid`, `alg`, key type and size).
    #[error("no usable key: {0}")]
    KeyNotFound(String),
    /// A key (or an `epk`) is invalid or cannot be used with the algorithm.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// A `crit` header parameter is not understood (RFC 7516 §4.1.13).
    #[error("unsupported critical header parameter: {0}")]
    UnsupportedCritical(String),
    /// A size, depth, count or work limit was exceeded (zip bomb, `p2c`, input size).
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// A header parameter is missing, of the wrong type, duplicated or misplaced.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// An error from `idforge-jose` with no JWE equivalent (e.g. a nested JWS that does not verify).
    #[error(transparent)]
    Jose(idforge_jose::Error),
    /// The crypto backend failed for a reason that is not the input's fault.
    #[error("crypto backend failure")]
    Backend,
}

impl Error {
    /// A stable snake_case code for this error, suitable for logs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidTag => "invalid_tag",
            Error::Malformed(_) => "malformed",
            Error::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Error::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            Error::KeyNotFound(_) => "key_not_found",
            Error::InvalidKey(_) => "invalid_key",
            Error::UnsupportedCritical(_) => "unsupported_crit",
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::InvalidHeader(_) => "invalid_header",
            Error::Jose(e) => e.code(),
            Error::Backend => "crypto_error",
        }
    }
}

impl From<idforge_jose::Error> for Error {
    fn from(e: idforge_jose::Error) -> Self {
        use idforge_jose::Error as J;
        match e {
            J::Malformed(m) => Error::Malformed(m),
            J::Base64(what) => Error::Malformed(format!("invalid base64url in {what}")),
            J::InvalidKey(m) | J::KeyMismatch(m) => Error::InvalidKey(m),
            J::PrivateKeyRequired => Error::InvalidKey("a private key is required".into()),
            J::UnsupportedAlgorithm(m) => Error::UnsupportedAlgorithm(m),
            J::AlgorithmNotAllowed(m) => Error::AlgorithmNotAllowed(m),
            J::KeyNotFound(m) => Error::KeyNotFound(m),
            J::UnsupportedCritical(m) => Error::UnsupportedCritical(m),
            J::InvalidHeader(m) => Error::InvalidHeader(m),
            J::LimitExceeded(m) => Error::LimitExceeded(m),
            J::Backend => Error::Backend,
            other => Error::Jose(other),
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
