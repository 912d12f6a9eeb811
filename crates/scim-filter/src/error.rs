//! The crate's error type and its SCIM error mapping (RFC 7644 §3.12).

use std::fmt;

/// What kind of text was being parsed or checked; decides the SCIM `scimType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Context {
    /// A `filter` query parameter (RFC 7644 §3.4.2.2).
    Filter,
    /// A PATCH operation `path` (RFC 7644 §3.5.2).
    PatchPath,
    /// An `attributes`/`excludedAttributes` list (RFC 7644 §3.4.2.5).
    AttributeList,
    /// A `sortBy` attribute (RFC 7644 §3.4.2.3).
    SortBy,
}

impl fmt::Display for Context {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Context::Filter => "filter",
            Context::PatchPath => "path",
            Context::AttributeList => "attribute list",
            Context::SortBy => "sortBy",
        })
    }
}

/// Which [`crate::Limits`] bound was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LimitKind {
    /// `max_len`: input bytes.
    Length,
    /// `max_depth`: nesting of `( )`, `not`, `[ ]`.
    Depth,
    /// `max_comparisons`: attribute expressions.
    Comparisons,
}

impl fmt::Display for LimitKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            LimitKind::Length => "input length",
            LimitKind::Depth => "nesting depth",
            LimitKind::Comparisons => "number of comparisons",
        })
    }
}

/// The SCIM `scimType` detail error keyword (RFC 7644 §3.12, Table 9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScimType {
    /// `invalidFilter`: "The specified filter syntax was invalid ... or the specified attribute
    /// and filter comparison combination is not supported."
    InvalidFilter,
    /// `invalidPath`: "The "path" attribute was invalid or malformed."
    InvalidPath,
    /// `invalidValue`: a required value was missing or not compatible (used for attribute lists).
    InvalidValue,
}

impl ScimType {
    /// The registered keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            ScimType::InvalidFilter => "invalidFilter",
            ScimType::InvalidPath => "invalidPath",
            ScimType::InvalidValue => "invalidValue",
        }
    }
}

/// Everything that can go wrong in this crate. Each variant carries the byte offset into the
/// input it refers to, so a client can point at the problem.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The text does not follow the grammar.
    #[error("invalid {context} at byte {offset}: expected {expected}, found {found}")]
    Syntax {
        /// What was being parsed.
        context: Context,
        /// Byte offset of the offending token.
        offset: usize,
        /// What the grammar allowed there.
        expected: &'static str,
        /// What was there instead (a short, quoted excerpt or "end of input").
        found: String,
    },
    /// A [`crate::Limits`] bound was exceeded.
    #[error("invalid {context} at byte {offset}: {limit} exceeds the limit of {max}")]
    Limit {
        /// What was being parsed.
        context: Context,
        /// Byte offset where the limit was crossed.
        offset: usize,
        /// Which limit.
        limit: LimitKind,
        /// The configured maximum.
        max: usize,
    },
    /// The attribute is not in the schema (RFC 7644 §3.4.2.2 / RFC 7643 §7).
    #[error("invalid {context} at byte {offset}: unknown attribute \"{path}\"")]
    UnknownAttribute {
        /// What was being checked.
        context: Context,
        /// Byte offset of the path.
        offset: usize,
        /// The path as written.
        path: String,
    },
    /// The operator is not allowed on the attribute's type (e.g. RFC 7644 §3.4.2.2: `gt` on a
    /// boolean or binary attribute "SHALL cause a failed response (HTTP status code 400) with
    /// scimType of invalidFilter").
    #[error("invalid {context} at byte {offset}: operator \"{op}\" is not allowed on {attr_type} attribute \"{path}\"")]
    OperatorNotAllowed {
        /// What was being checked.
        context: Context,
        /// Byte offset of the expression.
        offset: usize,
        /// The operator keyword.
        op: &'static str,
        /// The attribute's type.
        attr_type: &'static str,
        /// The path as written.
        path: String,
    },
    /// A value path (`attr[...]`) or a sub-attribute on an attribute that is not complex
    /// (RFC 7644 §3.4.2.2 `valuePath`, RFC 7643 §2.3.8).
    #[error("invalid {context} at byte {offset}: \"{path}\" is not a complex attribute")]
    NotComplex {
        /// What was being checked.
        context: Context,
        /// Byte offset of the path.
        offset: usize,
        /// The path as written.
        path: String,
    },
    /// The literal's type cannot be compared with the attribute's type, or a resource value has
    /// a type other than the schema says (comparisons across types are errors, not false).
    #[error("invalid {context} at byte {offset}: {detail}")]
    TypeMismatch {
        /// What was being checked.
        context: Context,
        /// Byte offset of the expression.
        offset: usize,
        /// Which types met.
        detail: String,
    },
    /// The translation target cannot express the expression faithfully.
    #[error("invalid {context} at byte {offset}: {target} cannot express {detail}")]
    Unsupported {
        /// What was being translated.
        context: Context,
        /// Byte offset of the expression.
        offset: usize,
        /// `"SQL"` or `"LDAP"`.
        target: &'static str,
        /// What could not be expressed.
        detail: String,
    },
}

impl Error {
    /// The byte offset the error points at.
    pub fn offset(&self) -> usize {
        match self {
            Error::Syntax { offset, .. }
            | Error::Limit { offset, .. }
            | Error::UnknownAttribute { offset, .. }
            | Error::OperatorNotAllowed { offset, .. }
            | Error::NotComplex { offset, .. }
            | Error::TypeMismatch { offset, .. }
            | Error::Unsupported { offset, .. } => *offset,
        }
    }

    /// What was being parsed or checked.
    pub fn context(&self) -> Context {
        match self {
            Error::Syntax { context, .. }
            | Error::Limit { context, .. }
            | Error::UnknownAttribute { context, .. }
            | Error::OperatorNotAllowed { context, .. }
            | Error::NotComplex { context, .. }
            | Error::TypeMismatch { context, .. }
            | Error::Unsupported { context, .. } => *context,
        }
    }

    /// The HTTP status a SCIM server answers with: always 400 (RFC 7644 §3.12).
    pub fn status(&self) -> u16 {
        400
    }

    /// The `scimType` (RFC 7644 §3.12): `invalidFilter` for filters, `invalidPath` for PATCH
    /// paths, `invalidValue` for attribute lists and `sortBy`.
    pub fn scim_type(&self) -> ScimType {
        match self.context() {
            Context::Filter => ScimType::InvalidFilter,
            Context::PatchPath => ScimType::InvalidPath,
            Context::AttributeList | Context::SortBy => ScimType::InvalidValue,
        }
    }

    /// The SCIM error response body (RFC 7644 §3.12), ready to serialize.
    pub fn to_scim_error(&self) -> serde_json::Value {
        serde_json::json!({
            "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
            "status": self.status().to_string(),
            "scimType": self.scim_type().as_str(),
            "detail": self.to_string(),
        })
    }
}
