//! The crate's one error type.

use thiserror::Error;

/// Everything that can go wrong while issuing, presenting or verifying an SD-JWT.
///
/// Every variant has a stable snake_case [`code`](Error::code) (what the CLI prints after
/// `error:`). Messages never contain key material or undisclosed claim values.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    /// A JOSE-level failure (signature, algorithm allow-list, key, JWS syntax).
    #[error(transparent)]
    Jose(#[from] idforge_jose::Error),
    /// The SD-JWT is not well formed (RFC 9901 §4: `<JWT>~<D1>~...~<Dn>~[<KB-JWT>]`).
    #[error("malformed SD-JWT: {0}")]
    Malformed(String),
    /// A Disclosure is malformed: not base64url, not a JSON array of 2 or 3 elements, or a
    /// non-string salt or claim name (RFC 9901 §4.2.1, §4.2.2, §7.1 step 3).
    #[error("malformed disclosure: {0}")]
    MalformedDisclosure(String),
    /// `_sd_alg` names a hash outside the verifier's policy or not a string (RFC 9901 §4.1.1,
    /// §7.1 step 2).
    #[error("`_sd_alg` not allowed: {0}")]
    SdAlgNotAllowed(String),
    /// The same digest appears more than once in the payload or in disclosed values
    /// (RFC 9901 §7.1 step 3.4).
    #[error("digest appears more than once")]
    DuplicateDigest,
    /// The same Disclosure string was sent twice (RFC 9901 §7.1 step 3.4: its digest would be
    /// referenced twice).
    #[error("disclosure sent more than once")]
    DuplicateDisclosure,
    /// A Disclosure is not referenced by any digest in the payload or in other Disclosures
    /// (RFC 9901 §7.1 step 3.5).
    #[error("disclosure not referenced by any digest")]
    UnreferencedDisclosure,
    /// A Disclosure names `_sd` or `...` (RFC 9901 §7.1 step 3.2.1.2).
    #[error("forbidden claim name in disclosure: {0}")]
    ForbiddenClaimName(String),
    /// A disclosed claim name already exists at its level (RFC 9901 §7.1 step 3.2.1.3).
    #[error("disclosed claim already exists: {0}")]
    ClaimExists(String),
    /// An object-property Disclosure is referenced from an array, or an array-element Disclosure
    /// from `_sd` (RFC 9901 §7.1 steps 3.2.1.1 and 3.2.2.1).
    #[error("disclosure of the wrong kind for its position: {0}")]
    WrongDisclosureKind(String),
    /// `_sd` is not an array of strings, `...` is not a string or shares its object with other
    /// members, or `_sd_alg` is not at the top level (RFC 9901 §4.1.1, §4.2.4).
    #[error("invalid selective-disclosure structure: {0}")]
    InvalidStructure(String),
    /// A limit of [`Limits`](crate::Limits) was exceeded.
    #[error("limit exceeded: {0}")]
    LimitExceeded(String),
    /// Key binding is required but the presentation has no KB-JWT (RFC 9901 §7.3 step 2).
    #[error("key binding JWT required")]
    KeyBindingRequired,
    /// The SD-JWT has no usable `cnf` (RFC 7800 §3.2 `jwk`) to check key binding with
    /// (RFC 9901 §4.1.2, §7.3 step 5.1).
    #[error("no usable holder key (`cnf`): {0}")]
    MissingHolderKey(String),
    /// The KB-JWT is invalid: wrong `typ`, missing claim (RFC 9901 §4.3, §7.3 step 5).
    #[error("invalid key binding JWT: {0}")]
    InvalidKeyBinding(String),
    /// `sd_hash` in the KB-JWT does not match the presentation (RFC 9901 §7.3 step 5.7).
    #[error("`sd_hash` does not match the presentation")]
    SdHashMismatch,
    /// The KB-JWT `aud` is not the expected audience (RFC 9901 §7.3 step 5.6).
    #[error("key binding JWT audience mismatch")]
    AudienceMismatch,
    /// The KB-JWT `nonce` is not the expected nonce (RFC 9901 §7.3 step 5.6).
    #[error("key binding JWT nonce mismatch")]
    NonceMismatch,
    /// The KB-JWT `iat` is outside the acceptable window (RFC 9901 §7.3 step 5.5).
    #[error("key binding JWT `iat` outside the acceptable window")]
    KeyBindingIat,
    /// A JSON Pointer (RFC 6901) is malformed or names nothing in the claims.
    #[error("invalid path `{0}`")]
    InvalidPath(String),
    /// The issuer's input claims already use `_sd`, `_sd_alg` or `...` (RFC 9901 §4.2.4).
    #[error("reserved claim name in input: {0}")]
    ReservedClaimName(String),
    /// SD-JWT VC: a claim that must never be selectively disclosable was put in the policy
    /// (draft-ietf-oauth-sd-jwt-vc §3.2.2.2).
    #[error("claim must not be selectively disclosable: {0}")]
    NeverDisclosable(String),
    /// SD-JWT VC: `vct` missing, not a string or not allowed (draft-ietf-oauth-sd-jwt-vc
    /// §3.2.2.1).
    #[error("invalid `vct`: {0}")]
    InvalidVct(String),
    /// SD-JWT VC: the `typ` header is not `dc+sd-jwt` (draft-ietf-oauth-sd-jwt-vc §3.2.1), or a
    /// plain SD-JWT's `typ` is not the expected one (RFC 9901 §9.11).
    #[error("invalid `typ` header: {0}")]
    InvalidTyp(String),
    /// SD-JWT VC: `status` is not an object (draft-ietf-oauth-sd-jwt-vc §3.2.2.2).
    #[error("invalid `status`: {0}")]
    InvalidStatus(String),
    /// The status list resolver reported the credential as not valid (revoked, suspended).
    #[error("credential status is not valid: {0}")]
    StatusNotValid(String),
    /// JWT VC Issuer Metadata is invalid (draft-ietf-oauth-sd-jwt-vc §5.3).
    #[error("invalid issuer metadata: {0}")]
    InvalidIssuerMetadata(String),
    /// A port (key resolver, status resolver) failed for reasons outside the token.
    #[error("resolver failure: {0}")]
    Resolver(String),
    /// SD-JWT VC X.509 mechanism: the Issuer-signed JWT's protected header has no `x5c`
    /// (RFC 7515 §4.1.6; draft-ietf-oauth-sd-jwt-vc-19 §2.5).
    #[error("no `x5c` header")]
    MissingX5c,
    /// `x5c` is not a non-empty array of standard-base64 DER certificates (RFC 7515 §4.1.6).
    #[error("invalid `x5c`: {0}")]
    InvalidX5c(String),
    /// The `x5c` certificate chain does not validate against the trust anchors (RFC 5280 §6):
    /// expired, not yet valid, unknown issuer, bad signature, CA or path length violations,
    /// chain too long. [`code`](Error::code) is the chain error's own code
    /// (`certificate_expired`, `unknown_certificate_issuer`, ...).
    #[error(transparent)]
    CertificateChain(#[from] idforge_jose::crypto::ChainError),
    /// The `x5c` end-entity certificate is self-signed and the policy refuses that (OpenID4VC
    /// HAIP 1.0 §6.1.1: "The X.509 certificate signing the request MUST NOT be self-signed").
    #[error("the `x5c` end-entity certificate is self-signed")]
    SelfSignedCertificate,
    /// `iss` does not match the `x5c` end-entity certificate under the configured binding rule
    /// ([`IssBinding`](crate::IssBinding); draft-ietf-oauth-sd-jwt-vc-01 to -09 §3.5).
    #[error("`iss` does not match the `x5c` certificate: {0}")]
    IssuerCertificateMismatch(String),
}

impl Error {
    /// A stable snake_case code for this error, suitable for logs and the CLI.
    pub fn code(&self) -> &'static str {
        match self {
            Error::Jose(e) => e.code(),
            Error::Malformed(_) => "malformed",
            Error::MalformedDisclosure(_) => "malformed_disclosure",
            Error::SdAlgNotAllowed(_) => "sd_alg_not_allowed",
            Error::DuplicateDigest => "duplicate_digest",
            Error::DuplicateDisclosure => "duplicate_disclosure",
            Error::UnreferencedDisclosure => "unreferenced_disclosure",
            Error::ForbiddenClaimName(_) => "forbidden_claim_name",
            Error::ClaimExists(_) => "claim_exists",
            Error::WrongDisclosureKind(_) => "wrong_disclosure_kind",
            Error::InvalidStructure(_) => "invalid_sd_structure",
            Error::LimitExceeded(_) => "limit_exceeded",
            Error::KeyBindingRequired => "key_binding_required",
            Error::MissingHolderKey(_) => "missing_holder_key",
            Error::InvalidKeyBinding(_) => "invalid_key_binding",
            Error::SdHashMismatch => "sd_hash_mismatch",
            Error::AudienceMismatch => "invalid_audience",
            Error::NonceMismatch => "invalid_nonce",
            Error::KeyBindingIat => "invalid_iat",
            Error::InvalidPath(_) => "invalid_path",
            Error::ReservedClaimName(_) => "reserved_claim_name",
            Error::NeverDisclosable(_) => "never_disclosable",
            Error::InvalidVct(_) => "invalid_vct",
            Error::InvalidTyp(_) => "invalid_typ",
            Error::InvalidStatus(_) => "invalid_status",
            Error::StatusNotValid(_) => "status_not_valid",
            Error::InvalidIssuerMetadata(_) => "invalid_issuer_metadata",
            Error::Resolver(_) => "resolver_error",
            Error::MissingX5c => "missing_x5c",
            Error::InvalidX5c(_) => "invalid_x5c",
            Error::CertificateChain(e) => e.code(),
            Error::SelfSignedCertificate => "self_signed_certificate",
            Error::IssuerCertificateMismatch(_) => "issuer_certificate_mismatch",
        }
    }
}

impl From<idforge_jose::ClaimsError> for Error {
    fn from(e: idforge_jose::ClaimsError) -> Self {
        Error::Jose(e.into())
    }
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;
