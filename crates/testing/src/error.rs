//! [`TestError`]: why a test provider could not be built or a scripted step failed.

use idforge_jose::JwsAlgorithm;

/// Why a [`TestProvider`](crate::TestProvider) could not be built, a token minted, or a
/// scripted flow step could not go on.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TestError {
    /// The provider answered with an OAuth error (what a client would receive).
    #[error("{0}")]
    OAuth(#[from] idforge_oauth_core::Error),
    /// The provider refused its configuration.
    #[error("{0}")]
    Config(#[from] idforge_oauth_core::ConfigError),
    /// A key could not be derived, loaded or used.
    #[error("key: {0}")]
    Key(#[from] idforge_jose::Error),
    /// Test issuers sign with `EdDSA`, `ES256`, `ES384` or `RS256`.
    #[error("test issuers do not sign with {0:?}")]
    UnsupportedAlgorithm(JwsAlgorithm),
    /// An extra claim names one the provider sets itself (`iss`, `exp`, `sub`, ...).
    #[error("claim {0} is set by the provider")]
    ReservedClaim(String),
    /// No issuer with this path.
    #[error("no issuer at path {0:?}")]
    UnknownIssuer(String),
    /// Two issuers with the same path.
    #[error("two issuers at path {0:?}")]
    DuplicateIssuer(String),
    /// A scripted step found the provider somewhere the script did not expect (for
    /// instance an error page where a redirect was due).
    #[error("unexpected step: {0}")]
    Unexpected(String),
    /// The loopback listener could not be bound.
    #[error("cannot listen: {0}")]
    Io(#[from] std::io::Error),
}

impl TestError {
    /// The OAuth error code when the provider answered with one (`invalid_grant`, ...).
    pub fn oauth_code(&self) -> Option<&'static str> {
        match self {
            TestError::OAuth(e) => Some(e.code()),
            _ => None,
        }
    }
}
