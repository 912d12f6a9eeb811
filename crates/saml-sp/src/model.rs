//! Typed results: the validated [`Assertion`] and its parts (SAML Core §2).

use serde::{Deserialize, Serialize};
use time::OffsetDateTime;

/// A `saml:NameID` (SAML Core §2.2.3) with its format and qualifiers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NameId {
    /// The identifier (all text nodes concatenated, see [`crate::xml::simple_text`]).
    pub value: String,
    /// `Format` (SAML Core §8.3), when present.
    pub format: Option<String>,
    /// `NameQualifier`.
    pub name_qualifier: Option<String>,
    /// `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
    /// `SPProvidedID`.
    pub sp_provided_id: Option<String>,
}

/// A `saml:Attribute` (SAML Core §2.7.3.1) with every value in document order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attribute {
    /// `Name`.
    pub name: String,
    /// `NameFormat`, when present.
    pub name_format: Option<String>,
    /// `FriendlyName`, when present.
    pub friendly_name: Option<String>,
    /// The text of each `AttributeValue` (an `xsi:nil` value is the empty string).
    pub values: Vec<String>,
}

/// Which parts of the message carried a verified signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SignedParts {
    /// The `samlp:Response` was signed by the IdP.
    pub response: bool,
    /// The `saml:Assertion` was signed by the IdP.
    pub assertion: bool,
}

/// A validated assertion: everything here was read from the signed subtree.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assertion {
    /// The assertion `ID`.
    pub id: String,
    /// The assertion `Issuer` (the IdP entityID).
    pub issuer: String,
    /// `IssueInstant`.
    #[serde(with = "time::serde::rfc3339")]
    pub issue_instant: OffsetDateTime,
    /// The subject's NameID, when the IdP sent one.
    pub name_id: Option<NameId>,
    /// `AuthnStatement/@SessionIndex` (needed for Single Logout).
    pub session_index: Option<String>,
    /// `AuthnStatement/@AuthnInstant`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub authn_instant: Option<OffsetDateTime>,
    /// `AuthnStatement/@SessionNotOnOrAfter`.
    #[serde(with = "time::serde::rfc3339::option")]
    pub session_not_on_or_after: Option<OffsetDateTime>,
    /// `AuthnContext/AuthnContextClassRef`.
    pub authn_context_class_ref: Option<String>,
    /// Every attribute of every AttributeStatement.
    pub attributes: Vec<Attribute>,
    /// The `InResponseTo` this assertion answers (from the bearer confirmation), if any.
    pub in_response_to: Option<String>,
    /// Until when the assertion may be accepted (the earliest of Conditions/@NotOnOrAfter and
    /// the bearer SubjectConfirmationData/@NotOnOrAfter); the replay cache keeps the ID as long.
    #[serde(with = "time::serde::rfc3339")]
    pub not_on_or_after: OffsetDateTime,
    /// Which parts were signed.
    pub signed: SignedParts,
}

impl Assertion {
    /// All values of the attribute named `name`.
    pub fn attribute(&self, name: &str) -> Option<&[String]> {
        self.attributes
            .iter()
            .find(|a| a.name == name)
            .map(|a| a.values.as_slice())
    }
}
