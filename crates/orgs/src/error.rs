//! One error type for the crate: rule violations, unknown records, conflicts the stores detect
//! atomically, and store failures (whose detail never reaches a response).

use crate::model::OrgId;

/// Why an organization operation was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum OrgError {
    /// A value is malformed or out of its limits (`field` names it).
    #[error("invalid {field}: {reason}")]
    Invalid {
        /// The field or parameter.
        field: &'static str,
        /// What is wrong.
        reason: String,
    },
    /// No organization has this id (or handle).
    #[error("organization {0} not found")]
    UnknownOrganization(String),
    /// No user has this id.
    #[error("user {0} not found")]
    UnknownUser(String),
    /// No application has this client id.
    #[error("application {0} not found")]
    UnknownApplication(String),
    /// The organization id is taken.
    #[error("organization id {0} already exists")]
    DuplicateId(OrgId),
    /// The handle is taken (handles are unique across the tree).
    #[error("handle {0} is already in use")]
    DuplicateHandle(String),
    /// The email domain is registered by another organization.
    #[error("email domain {0} is already registered by another organization")]
    DuplicateEmailDomain(String),
    /// Moving `org` under `parent` would put it below itself.
    #[error("moving {org} under {parent} would create a cycle")]
    Cycle {
        /// The organization moved.
        org: OrgId,
        /// The requested parent (the organization itself or one of its descendants).
        parent: OrgId,
    },
    /// The root organization cannot be moved, disabled or deleted.
    #[error("the root organization cannot be {0}")]
    Root(&'static str),
    /// Deleting needs an empty organization (no sub-organizations, no resident users) unless
    /// the policy cascades.
    #[error("organization {0} is not empty")]
    NotEmpty(OrgId),
    /// The organization (or one of its ancestors) is disabled.
    #[error("organization {0} is disabled")]
    Disabled(OrgId),
    /// Sharing reaches only below the user's resident organization.
    #[error("organization {org} is not below {of}")]
    NotDescendant {
        /// The organization named.
        org: OrgId,
        /// The organization it should be below.
        of: OrgId,
    },
    /// The user is neither resident nor shared in the organization.
    #[error("user {user} is not a member of {org}")]
    NotMember {
        /// The user.
        user: String,
        /// The organization.
        org: OrgId,
    },
    /// Root-level governance refuses the root issuer to this organization's applications.
    #[error("organization {0} may not use the root issuer")]
    RootIssuerDenied(OrgId),
    /// The administrator lacks the shared-user-management permission.
    #[error("the shared-user-management permission is required")]
    Forbidden,
    /// A store failed; the detail is for logs, never for responses.
    #[error("store failure: {0}")]
    Store(String),
}

impl OrgError {
    /// A malformed value.
    pub fn invalid(field: &'static str, reason: impl Into<String>) -> Self {
        OrgError::Invalid {
            field,
            reason: reason.into(),
        }
    }

    /// The HTTP status a management API answers with: 400 malformed, 403 forbidden, 404
    /// unknown, 409 conflicting with the tree's current state, 500 store failures.
    pub fn status(&self) -> u16 {
        match self {
            OrgError::Invalid { .. } => 400,
            OrgError::Forbidden => 403,
            OrgError::UnknownOrganization(_)
            | OrgError::UnknownUser(_)
            | OrgError::UnknownApplication(_) => 404,
            OrgError::Store(_) => 500,
            _ => 409,
        }
    }

    /// A short machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            OrgError::Invalid { .. } => "invalid_request",
            OrgError::UnknownOrganization(_) => "organization_not_found",
            OrgError::UnknownUser(_) => "user_not_found",
            OrgError::UnknownApplication(_) => "application_not_found",
            OrgError::DuplicateId(_) => "duplicate_id",
            OrgError::DuplicateHandle(_) => "duplicate_handle",
            OrgError::DuplicateEmailDomain(_) => "duplicate_email_domain",
            OrgError::Cycle { .. } => "cycle",
            OrgError::Root(_) => "root_organization",
            OrgError::NotEmpty(_) => "not_empty",
            OrgError::Disabled(_) => "organization_disabled",
            OrgError::NotDescendant { .. } => "not_descendant",
            OrgError::NotMember { .. } => "not_member",
            OrgError::RootIssuerDenied(_) => "root_issuer_denied",
            OrgError::Forbidden => "forbidden",
            OrgError::Store(_) => "server_error",
        }
    }

    /// The description safe to show a caller: the message, except for store failures.
    pub fn public_description(&self) -> String {
        match self {
            OrgError::Store(_) => "internal error".into(),
            other => other.to_string(),
        }
    }

    /// `{"error", "error_description"}` for API responses.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"error": self.code(), "error_description": self.public_description()})
    }
}

/// `Result` with [`OrgError`].
pub type Result<T, E = OrgError> = std::result::Result<T, E>;

/// A store or model failure: oauth-core's internal error, reported as `server_error` without
/// its detail (which is for logs only).
pub(crate) fn internal(e: OrgError) -> idforge_oauth_core::Error {
    idforge_oauth_core::Error::Internal(format!("orgs: {e}"))
}
