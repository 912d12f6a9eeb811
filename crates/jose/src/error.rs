//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong in `idforge-jose`.
///
/// Each variant has a stable machine-readable [`code`](Error::code) (what the CLI prints after
/// `error:`) and a human description. Descriptions never contain key material.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is not well-formed (wrong number of segments, invalid JSON, wrong member type).
    #[error("malformed input: {0}")]
    Malformed(String),
    /// A base64url member contained padding, non-alphabet characters or trailing bits.
    #[error("invalid base64url encoding in {0}")]
    Base64(&'static str),
    /// A JWK is invalid: missing or ill-sized members, a point not on the curve, inconsistent parts.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The algorithm name is not one this library implements (this includes `none`).
    #[error("unsupported algorithm: {0}")]
    UnsupportedAlgorithm(String),
    /// The algorithm is implemented but outside the caller's allow-list.
    #[error("algorithm not allowed: {0}")]
    AlgorithmNotAllowed(String),
    /// The key cannot be used with the algorithm (wrong `kty`/`crv`, too short, `alg`/`use` mismatch).
    #[error("key does not fit the algorithm: {0}")]
    KeyMismatch(String),
    /// No candidate key was found for the token (by `kid`, `alg`, `use`).
    #[error("no usable key: {0}")]
    KeyNotFound(String),
    /// A private key was needed but only the public part is present.
    #[error("a private key is required")]
    PrivateKeyRequired,
    /// The signature (or MAC) does not verify.
    #[error("signature verification failed")]
    InvalidSignature,
    /// A header parameter listed in `crit` is not understood (RFC 7515 §4.1.11).
    #[error("unsupported critical header parameter: {0}")]
    UnsupportedCritical(String),
    /// A header is invalid: duplicate names across protected/unprotected parts, wrong types.
    #[error("invalid header: {0}")]
    InvalidHeader(String),
    /// An explicit limit (size, depth, count) was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// A JWT claim check failed.
    #[error(transparent)]
    Claims(#[from] ClaimsError),
    /// The crypto backend reported a failure that is not the caller's fault.
    #[error("crypto backend failure")]
    Backend,
}

impl Error {
    /// A stable snake_case code for this error, suitable for logs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Malformed(_) => "malformed",
            Error::Base64(_) => "invalid_base64",
            Error::InvalidKey(_) => "invalid_key",
            Error::UnsupportedAlgorithm(_) => "unsupported_algorithm",
            Error::AlgorithmNotAllowed(_) => "algorithm_not_allowed",
            Error::KeyMismatch(_) => "key_mismatch",
            Error::KeyNotFound(_) => "key_not_found",
            Error::PrivateKeyRequired => "private_key_required",
            Error::InvalidSignature => "invalid_signature",
            Error::UnsupportedCritical(_) => "unsupported_crit",
            Error::InvalidHeader(_) => "invalid_header",
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::Claims(c) => c.code(),
            Error::Backend => "crypto_error",
        }
    }
}

/// A JWT claims check failed (RFC 7519 §4.1, RFC 8725 §3.11).
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ClaimsError {
    /// `exp` is in the past, beyond the leeway (RFC 7519 §4.1.4).
    #[error("token expired")]
    Expired,
    /// `nbf` is in the future, beyond the leeway (RFC 7519 §4.1.5).
    #[error("token not yet valid")]
    NotYetValid,
    /// `iat` is in the future beyond the leeway, or older than the allowed maximum age.
    #[error("token issued-at time is not acceptable")]
    IssuedAt,
    /// `iss` is not the expected issuer (RFC 7519 §4.1.1).
    #[error("unexpected issuer")]
    Issuer,
    /// `aud` does not contain the expected audience (RFC 7519 §4.1.3).
    #[error("unexpected audience")]
    Audience,
    /// The JOSE `typ` header is not the expected one (RFC 8725 §3.11).
    #[error("unexpected token type")]
    Type,
    /// A required claim is absent.
    #[error("missing claim: {0}")]
    Missing(String),
    /// A claim has the wrong JSON type (e.g. a string `exp`).
    #[error("invalid claim: {0}")]
    Invalid(String),
}

impl ClaimsError {
    /// A stable snake_case code for this error.
    pub fn code(&self) -> &'static str {
        match self {
            ClaimsError::Expired => "token_expired",
            ClaimsError::NotYetValid => "token_not_yet_valid",
            ClaimsError::IssuedAt => "invalid_iat",
            ClaimsError::Issuer => "invalid_issuer",
            ClaimsError::Audience => "invalid_audience",
            ClaimsError::Type => "invalid_typ",
            ClaimsError::Missing(_) => "missing_claim",
            ClaimsError::Invalid(_) => "invalid_claim",
        }
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
