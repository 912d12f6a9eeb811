//! Error codes of OID4VCI 1.0, spoken through oauth-core's [`Error::protocol`] so every endpoint
//! of the issuer answers with the same JSON shape (`error`, `error_description`, extra members).

use idforge_oauth_core::Error;

/// The error codes OID4VCI 1.0 registers for its endpoints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CredentialErrorCode {
    /// §8.3.1.2 `invalid_credential_request`: the request is missing a parameter, has an
    /// unsupported or repeated one, or is otherwise malformed.
    InvalidCredentialRequest,
    /// §8.3.1.2 `unknown_credential_configuration`: the `credential_configuration_id` is unknown
    /// or not authorized by the access token.
    UnknownCredentialConfiguration,
    /// §8.3.1.2 `unknown_credential_identifier`: the `credential_identifier` is unknown.
    UnknownCredentialIdentifier,
    /// §8.3.1.2 `invalid_proof`: a proof is missing or invalid.
    InvalidProof,
    /// §8.3.1.2 `invalid_nonce`: a proof carries a `c_nonce` that is not a live one.
    InvalidNonce,
    /// §8.3.1.2 `invalid_encryption_parameters`: encryption is required or the parameters
    /// are unsupported.
    InvalidEncryptionParameters,
    /// §8.3.1.2 `credential_request_denied`: the credential will not be issued.
    CredentialRequestDenied,
    /// §9.3 `issuance_pending`: the deferred credential is not ready yet (with `interval`).
    IssuancePending,
    /// §9.3 `invalid_transaction_id`: the `transaction_id` is unknown or already used.
    InvalidTransactionId,
    /// §11.3 `invalid_notification_id`: the `notification_id` is unknown.
    InvalidNotificationId,
    /// §11.3 `invalid_notification_request`: the notification request is malformed.
    InvalidNotificationRequest,
}

impl CredentialErrorCode {
    /// The registered code.
    pub fn code(self) -> &'static str {
        match self {
            Self::InvalidCredentialRequest => "invalid_credential_request",
            Self::UnknownCredentialConfiguration => "unknown_credential_configuration",
            Self::UnknownCredentialIdentifier => "unknown_credential_identifier",
            Self::InvalidProof => "invalid_proof",
            Self::InvalidNonce => "invalid_nonce",
            Self::InvalidEncryptionParameters => "invalid_encryption_parameters",
            Self::CredentialRequestDenied => "credential_request_denied",
            Self::IssuancePending => "issuance_pending",
            Self::InvalidTransactionId => "invalid_transaction_id",
            Self::InvalidNotificationId => "invalid_notification_id",
            Self::InvalidNotificationRequest => "invalid_notification_request",
        }
    }

    /// The error as oauth-core's [`Error::protocol`], HTTP 400 (§8.3.1.2, §9.3, §11.3).
    pub fn error(self, description: impl Into<String>) -> Error {
        Error::protocol(self.code(), 400, description)
    }
}

/// `invalid_proof` with `description`.
pub(crate) fn invalid_proof(description: impl Into<String>) -> Error {
    CredentialErrorCode::InvalidProof.error(description)
}

/// `invalid_credential_request` with `description`.
pub(crate) fn invalid_request(description: impl Into<String>) -> Error {
    CredentialErrorCode::InvalidCredentialRequest.error(description)
}

/// Why a credential template was refused when saved.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TemplateError {
    /// A member is missing, malformed or inconsistent with the others.
    #[error("invalid credential template: {0}")]
    Invalid(String),
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_the_registered_ones_with_status_400() {
        for (c, s) in [
            (
                CredentialErrorCode::InvalidCredentialRequest,
                "invalid_credential_request",
            ),
            (
                CredentialErrorCode::UnknownCredentialConfiguration,
                "unknown_credential_configuration",
            ),
            (
                CredentialErrorCode::UnknownCredentialIdentifier,
                "unknown_credential_identifier",
            ),
            (CredentialErrorCode::InvalidProof, "invalid_proof"),
            (CredentialErrorCode::InvalidNonce, "invalid_nonce"),
            (
                CredentialErrorCode::InvalidEncryptionParameters,
                "invalid_encryption_parameters",
            ),
            (
                CredentialErrorCode::CredentialRequestDenied,
                "credential_request_denied",
            ),
            (CredentialErrorCode::IssuancePending, "issuance_pending"),
            (
                CredentialErrorCode::InvalidTransactionId,
                "invalid_transaction_id",
            ),
            (
                CredentialErrorCode::InvalidNotificationId,
                "invalid_notification_id",
            ),
            (
                CredentialErrorCode::InvalidNotificationRequest,
                "invalid_notification_request",
            ),
        ] {
            let e = c.error("x");
            assert_eq!(e.code(), s);
            assert_eq!(e.status(), 400);
            assert_eq!(e.to_json()["error"], s);
        }
    }
}
