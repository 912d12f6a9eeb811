//! The crate's single error type. Every variant has a stable snake_case [`Error::code`] that the
//! CLI prints and hosts can log; the `Display` text adds a human detail but never secrets.

/// Everything that can make the service provider reject an input.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The input is larger than [`crate::xml::Limits::max_bytes`] (or a decoded form of it is).
    #[error("input larger than {0} bytes")]
    TooLarge(usize),
    /// Elements nest deeper than [`crate::xml::Limits::max_depth`].
    #[error("elements nested deeper than {0}")]
    TooDeep(usize),
    /// One element has more than [`crate::xml::Limits::max_attributes`] attributes.
    #[error("more than {0} attributes on one element")]
    TooManyAttributes(usize),
    /// The document has more than [`crate::xml::Limits::max_nodes`] nodes.
    #[error("more than {0} XML nodes")]
    TooManyNodes(u32),
    /// A document type declaration was present: DTDs, entity declarations and therefore external
    /// entities (XXE) and entity expansion (billion laughs) are refused outright.
    #[error("DTDs and entity declarations are not allowed")]
    DtdForbidden,
    /// The input is not well-formed XML 1.0 with namespaces, or not UTF-8.
    #[error("malformed XML: {0}")]
    MalformedXml(String),
    /// An algorithm, transform or construct this crate deliberately does not support.
    #[error("unsupported: {0}")]
    Unsupported(String),
    /// A signature was required and is absent.
    #[error("missing signature: {0}")]
    SignatureMissing(String),
    /// The signature or a reference digest does not verify.
    #[error("invalid signature: {0}")]
    SignatureInvalid(String),
    /// No trusted key verifies the signature.
    #[error("signature not made by a trusted key")]
    UntrustedKey,
    /// A signature's reference does not point at the element that carries the signature, or the
    /// ID it names is absent or not unique.
    #[error("invalid reference: {0}")]
    ReferenceInvalid(String),
    /// Two elements carry the same `ID` value (signature-wrapping precondition).
    #[error("duplicate ID {0:?}")]
    DuplicateId(String),
    /// The SAML structure breaks a schema or profile rule.
    #[error("malformed SAML message: {0}")]
    MalformedMessage(String),
    /// More than one assertion, or an assertion outside the Response's direct children.
    #[error("the response must carry exactly one assertion, as a direct child: {0}")]
    AssertionCount(String),
    /// `Destination` differs from the ACS URL (SAML Bindings §3.5.5.2, Core §3.2.2).
    #[error("wrong Destination {0:?}")]
    WrongDestination(String),
    /// `Issuer` differs from the IdP's entityID (SAML Profiles §4.1.4.2).
    #[error("wrong Issuer {0:?}")]
    WrongIssuer(String),
    /// Top-level status is not Success (SAML Core §3.2.2.2).
    #[error("status {top}{}{}", .second.as_deref().map(|s| format!(" / {s}")).unwrap_or_default(), .message.as_deref().map(|m| format!(": {m}")).unwrap_or_default())]
    Status {
        /// The top-level StatusCode value.
        top: String,
        /// The second-level StatusCode value, when present.
        second: Option<String>,
        /// The StatusMessage, when present.
        message: Option<String>,
    },
    /// `InResponseTo` does not name the request this SP is waiting for.
    #[error("InResponseTo {0:?} does not match an outstanding request")]
    InResponseToMismatch(String),
    /// An unsolicited response (no `InResponseTo`) where they are not allowed.
    #[error("unsolicited response not allowed")]
    UnsolicitedNotAllowed,
    /// A time window has not opened yet (NotBefore in the future beyond the skew).
    #[error("not yet valid: {0}")]
    NotYetValid(String),
    /// A time window has closed (NotOnOrAfter in the past beyond the skew).
    #[error("expired: {0}")]
    Expired(String),
    /// No AudienceRestriction names this SP (SAML Core §2.5.1.4).
    #[error("audience restriction does not include this SP")]
    WrongAudience,
    /// The bearer SubjectConfirmationData Recipient is not the ACS URL (Profiles §4.1.4.2).
    #[error("wrong Recipient {0:?}")]
    WrongRecipient(String),
    /// No usable bearer SubjectConfirmation (Profiles §4.1.4.2).
    #[error("no valid bearer subject confirmation: {0}")]
    SubjectConfirmation(String),
    /// The assertion ID was seen before (Profiles §4.1.4.5 replay).
    #[error("assertion {0:?} replayed")]
    Replay(String),
    /// Decryption of an EncryptedAssertion/EncryptedID failed.
    #[error("decryption failed")]
    DecryptionFailed,
    /// A binding-level encoding problem (base64, DEFLATE, query parameters).
    #[error("binding: {0}")]
    Binding(String),
    /// Metadata is expired, unsigned where a signature is required, or malformed.
    #[error("metadata: {0}")]
    Metadata(String),
    /// A key or certificate could not be used.
    #[error("key: {0}")]
    Key(String),
    /// A port (storage) failed.
    #[error("store: {0}")]
    Store(String),
}

impl Error {
    /// A stable machine-readable code, e.g. `signature_invalid`, `replay`, `wrong_audience`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::TooLarge(_) => "too_large",
            Error::TooDeep(_) => "too_deep",
            Error::TooManyAttributes(_) => "too_many_attributes",
            Error::TooManyNodes(_) => "too_many_nodes",
            Error::DtdForbidden => "dtd_forbidden",
            Error::MalformedXml(_) => "malformed_xml",
            Error::Unsupported(_) => "unsupported",
            Error::SignatureMissing(_) => "signature_missing",
            Error::SignatureInvalid(_) => "signature_invalid",
            Error::UntrustedKey => "untrusted_key",
            Error::ReferenceInvalid(_) => "reference_invalid",
            Error::DuplicateId(_) => "duplicate_id",
            Error::MalformedMessage(_) => "malformed_message",
            Error::AssertionCount(_) => "assertion_count",
            Error::WrongDestination(_) => "wrong_destination",
            Error::WrongIssuer(_) => "wrong_issuer",
            Error::Status { .. } => "status_not_success",
            Error::InResponseToMismatch(_) => "in_response_to_mismatch",
            Error::UnsolicitedNotAllowed => "unsolicited_not_allowed",
            Error::NotYetValid(_) => "not_yet_valid",
            Error::Expired(_) => "expired",
            Error::WrongAudience => "wrong_audience",
            Error::WrongRecipient(_) => "wrong_recipient",
            Error::SubjectConfirmation(_) => "subject_confirmation",
            Error::Replay(_) => "replay",
            Error::DecryptionFailed => "decryption_failed",
            Error::Binding(_) => "binding",
            Error::Metadata(_) => "metadata",
            Error::Key(_) => "key",
            Error::Store(_) => "store",
        }
    }
}

/// `Result` with this crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;
