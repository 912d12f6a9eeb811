//! The crate's one error type: every registered OAuth 2.0 / OIDC error code, its description and
//! its HTTP status.

use serde_json::{json, Map, Value};
use thiserror::Error;

/// Every protocol error oauth-core can return, one variant per registered error code, plus
/// [`Error::Internal`] (storage or crypto failures), which is reported as `server_error` without
/// its detail.
///
/// The `String` of a protocol variant is the `error_description` sent to the client: it is
/// written by this crate for the client and never contains internal detail.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum Error {
    // RFC 6749 §4.1.2.1 and §5.2
    /// `invalid_request`: missing, invalid or repeated parameter (RFC 6749 §4.1.2.1, §5.2).
    #[error("invalid_request: {0}")]
    InvalidRequest(String),
    /// `unauthorized_client`: the client may not use this grant or response type.
    #[error("unauthorized_client: {0}")]
    UnauthorizedClient(String),
    /// `access_denied`: the resource owner or server denied the request (RFC 6749 §4.1.2.1).
    #[error("access_denied: {0}")]
    AccessDenied(String),
    /// `unsupported_response_type` (RFC 6749 §4.1.2.1).
    #[error("unsupported_response_type: {0}")]
    UnsupportedResponseType(String),
    /// `invalid_scope`: unknown, malformed or exceeding scope (RFC 6749 §4.1.2.1, §5.2).
    #[error("invalid_scope: {0}")]
    InvalidScope(String),
    /// `server_error` with a description meant for the client (RFC 6749 §4.1.2.1).
    #[error("server_error: {0}")]
    ServerError(String),
    /// `temporarily_unavailable`: overloaded or full (RFC 6749 §4.1.2.1).
    #[error("temporarily_unavailable: {0}")]
    TemporarilyUnavailable(String),
    /// `invalid_client`: client authentication failed (RFC 6749 §5.2); HTTP 401.
    #[error("invalid_client: {0}")]
    InvalidClient(String),
    /// `invalid_grant`: the code, refresh token or credentials are invalid, expired, revoked or
    /// were issued to another client or redirect URI (RFC 6749 §5.2).
    #[error("invalid_grant: {0}")]
    InvalidGrant(String),
    /// `unsupported_grant_type` (RFC 6749 §5.2).
    #[error("unsupported_grant_type: {0}")]
    UnsupportedGrantType(String),
    // RFC 6750 §3.1
    /// `invalid_token`: the bearer token is expired, revoked, malformed or invalid; HTTP 401.
    #[error("invalid_token: {0}")]
    InvalidToken(String),
    /// `insufficient_scope`: the token lacks the scope the resource needs; HTTP 403.
    #[error("insufficient_scope: {0}")]
    InsufficientScope(String),
    // RFC 7009 §2.2.1
    /// `unsupported_token_type`: revocation of this token type is not supported.
    #[error("unsupported_token_type: {0}")]
    UnsupportedTokenType(String),
    // OIDC Core §3.1.2.6
    /// `interaction_required`: `prompt=none` but the user must interact.
    #[error("interaction_required: {0}")]
    InteractionRequired(String),
    /// `login_required`: `prompt=none` but the user must authenticate.
    #[error("login_required: {0}")]
    LoginRequired(String),
    /// `account_selection_required`: `prompt=none` but the user must choose an account.
    #[error("account_selection_required: {0}")]
    AccountSelectionRequired(String),
    /// `consent_required`: `prompt=none` but the user must consent.
    #[error("consent_required: {0}")]
    ConsentRequired(String),
    /// `invalid_request_uri`: the `request_uri` is unreachable or invalid.
    #[error("invalid_request_uri: {0}")]
    InvalidRequestUri(String),
    /// `invalid_request_object`: the request object is invalid.
    #[error("invalid_request_object: {0}")]
    InvalidRequestObject(String),
    /// `request_not_supported`: the `request` parameter is not supported.
    #[error("request_not_supported: {0}")]
    RequestNotSupported(String),
    /// `request_uri_not_supported`: the `request_uri` parameter is not supported.
    #[error("request_uri_not_supported: {0}")]
    RequestUriNotSupported(String),
    /// `registration_not_supported`: the `registration` parameter is not supported.
    #[error("registration_not_supported: {0}")]
    RegistrationNotSupported(String),
    /// An error code registered by another specification that an extension emits (RFC 8628
    /// §3.5 `authorization_pending`/`slow_down`/`expired_token`, CIBA §11 / §13, OID4VCI
    /// §8.3.1, RFC 8693 `invalid_target`, RFC 9396 `invalid_authorization_details`, ...), with
    /// its HTTP status and any extra response members.
    #[error("{}: {}", .0.code, .0.description)]
    Protocol(Box<ProtocolError>),
    /// A failure inside the server (storage, key material, crypto). The detail is for logs only:
    /// responses say `server_error` with a generic description.
    #[error("internal error: {0}")]
    Internal(String),
}

/// A protocol error of another specification ([`Error::Protocol`]).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProtocolError {
    /// The registered error code, sent as `error`.
    pub code: &'static str,
    /// The `error_description`, written for the client (no internal detail).
    pub description: String,
    /// The HTTP status of the direct error response.
    pub status: u16,
    /// Extra members of the JSON error body (e.g. OID4VCI's `c_nonce`); `error` and
    /// `error_description` cannot be overridden.
    pub members: Map<String, Value>,
}

/// Shorthand for results in this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// The registered error code sent as `error`.
    pub fn code(&self) -> &'static str {
        match self {
            Error::InvalidRequest(_) => "invalid_request",
            Error::UnauthorizedClient(_) => "unauthorized_client",
            Error::AccessDenied(_) => "access_denied",
            Error::UnsupportedResponseType(_) => "unsupported_response_type",
            Error::InvalidScope(_) => "invalid_scope",
            Error::ServerError(_) | Error::Internal(_) => "server_error",
            Error::TemporarilyUnavailable(_) => "temporarily_unavailable",
            Error::InvalidClient(_) => "invalid_client",
            Error::InvalidGrant(_) => "invalid_grant",
            Error::UnsupportedGrantType(_) => "unsupported_grant_type",
            Error::InvalidToken(_) => "invalid_token",
            Error::InsufficientScope(_) => "insufficient_scope",
            Error::UnsupportedTokenType(_) => "unsupported_token_type",
            Error::InteractionRequired(_) => "interaction_required",
            Error::LoginRequired(_) => "login_required",
            Error::AccountSelectionRequired(_) => "account_selection_required",
            Error::ConsentRequired(_) => "consent_required",
            Error::InvalidRequestUri(_) => "invalid_request_uri",
            Error::InvalidRequestObject(_) => "invalid_request_object",
            Error::RequestNotSupported(_) => "request_not_supported",
            Error::RequestUriNotSupported(_) => "request_uri_not_supported",
            Error::RegistrationNotSupported(_) => "registration_not_supported",
            Error::Protocol(p) => p.code,
        }
    }

    /// The `error_description` safe to send: the variant's text, or a generic sentence for
    /// [`Error::Internal`] so internal detail never leaks.
    pub fn description(&self) -> &str {
        match self {
            Error::Internal(_) => "the server could not complete the request",
            Error::Protocol(p) => &p.description,
            Error::InvalidRequest(d)
            | Error::UnauthorizedClient(d)
            | Error::AccessDenied(d)
            | Error::UnsupportedResponseType(d)
            | Error::InvalidScope(d)
            | Error::ServerError(d)
            | Error::TemporarilyUnavailable(d)
            | Error::InvalidClient(d)
            | Error::InvalidGrant(d)
            | Error::UnsupportedGrantType(d)
            | Error::InvalidToken(d)
            | Error::InsufficientScope(d)
            | Error::UnsupportedTokenType(d)
            | Error::InteractionRequired(d)
            | Error::LoginRequired(d)
            | Error::AccountSelectionRequired(d)
            | Error::ConsentRequired(d)
            | Error::InvalidRequestUri(d)
            | Error::InvalidRequestObject(d)
            | Error::RequestNotSupported(d)
            | Error::RequestUriNotSupported(d)
            | Error::RegistrationNotSupported(d) => d,
        }
    }

    /// The HTTP status of a direct (non-redirect) error response.
    ///
    /// RFC 6749 §5.2: 400, except `invalid_client` which is 401; `access_denied` at the token
    /// endpoint is 400 too (RFC 8628 §3.5, CIBA §11; at the authorization endpoint it is
    /// redirected, never a status); RFC 6750 §3.1: `invalid_token` 401, `insufficient_scope`
    /// 403; RFC 7009 §2.2.1 `unsupported_token_type` 400; server errors 500 and
    /// `temporarily_unavailable` 503; a [`ProtocolError`] carries its own.
    pub fn status(&self) -> u16 {
        match self {
            Error::InvalidClient(_) | Error::InvalidToken(_) => 401,
            Error::InsufficientScope(_) => 403,
            Error::Protocol(p) => p.status,
            Error::ServerError(_) | Error::Internal(_) => 500,
            Error::TemporarilyUnavailable(_) => 503,
            _ => 400,
        }
    }

    /// The JSON error body of RFC 6749 §5.2: `{"error", "error_description"}`, plus a
    /// [`ProtocolError`]'s extra members.
    pub fn to_json(&self) -> Value {
        let mut body = json!({ "error": self.code(), "error_description": self.description() });
        if let (Error::Protocol(p), Value::Object(out)) = (self, &mut body) {
            for (k, v) in &p.members {
                if k != "error" && k != "error_description" {
                    out.insert(k.clone(), v.clone());
                }
            }
        }
        body
    }

    /// An error code of another specification (see [`Error::Protocol`]), with the HTTP status
    /// its specification gives it.
    pub fn protocol(code: &'static str, status: u16, description: impl Into<String>) -> Error {
        Error::Protocol(Box::new(ProtocolError {
            code,
            description: description.into(),
            status,
            members: Map::new(),
        }))
    }

    /// Adds a member to the JSON body of a [`Error::Protocol`] (no effect on other variants,
    /// whose bodies RFC 6749 §5.2 fixes).
    pub fn with_member(mut self, name: impl Into<String>, value: Value) -> Error {
        if let Error::Protocol(p) = &mut self {
            p.members.insert(name.into(), value);
        }
        self
    }

    /// The `WWW-Authenticate` challenge for bearer-token errors (RFC 6750 §3), for
    /// `invalid_token`, `insufficient_scope` and requests without a token (`None` error).
    pub fn bearer_challenge(error: Option<&Error>) -> String {
        match error {
            None => "Bearer".to_owned(),
            Some(e) => format!(
                "Bearer error=\"{}\", error_description=\"{}\"",
                e.code(),
                e.description().replace(['"', '\\'], "'")
            ),
        }
    }

    /// Builds an internal error from any displayable failure.
    pub(crate) fn internal(e: impl std::fmt::Display) -> Error {
        Error::Internal(e.to_string())
    }
}

impl From<idforge_jose::Error> for Error {
    fn from(e: idforge_jose::Error) -> Self {
        Error::internal(format!("jose: {e}"))
    }
}

impl From<idforge_jwe::Error> for Error {
    fn from(e: idforge_jwe::Error) -> Self {
        Error::internal(format!("jwe: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_and_statuses() {
        let cases = [
            (Error::InvalidRequest("x".into()), "invalid_request", 400),
            (Error::InvalidClient("x".into()), "invalid_client", 401),
            (Error::InvalidGrant("x".into()), "invalid_grant", 400),
            (Error::InvalidToken("x".into()), "invalid_token", 401),
            (
                Error::InsufficientScope("x".into()),
                "insufficient_scope",
                403,
            ),
            (
                Error::TemporarilyUnavailable("x".into()),
                "temporarily_unavailable",
                503,
            ),
            (Error::LoginRequired("x".into()), "login_required", 400),
            (
                Error::UnsupportedTokenType("x".into()),
                "unsupported_token_type",
                400,
            ),
        ];
        for (e, code, status) in cases {
            assert_eq!(e.code(), code);
            assert_eq!(e.status(), status);
        }
    }

    #[test]
    fn access_denied_is_400_and_protocol_errors_keep_their_status() {
        // RFC 8628 §3.5, CIBA §11: `access_denied` at the token endpoint is a 400.
        assert_eq!(Error::AccessDenied("x".into()).status(), 400);
        let e = Error::protocol("slow_down", 400, "poll less often")
            .with_member("interval", json!(10))
            .with_member("error", json!("forged"));
        assert_eq!(e.code(), "slow_down");
        assert_eq!(e.status(), 400);
        let body = e.to_json();
        assert_eq!(body["error"], "slow_down");
        assert_eq!(body["error_description"], "poll less often");
        assert_eq!(body["interval"], 10);
        // The registered members cannot be overridden; other variants take no members.
        let plain = Error::InvalidGrant("x".into()).with_member("interval", json!(1));
        assert_eq!(plain.to_json().as_object().map(|o| o.len()), Some(2));
    }

    #[test]
    fn internal_detail_never_leaks() {
        let e = Error::Internal("database password=hunter2 at 10.0.0.1".into());
        assert_eq!(e.code(), "server_error");
        let body = e.to_json().to_string();
        assert!(!body.contains("hunter2"), "{body}");
        assert_eq!(e.status(), 500);
    }

    #[test]
    fn bearer_challenge_quotes_are_safe() {
        let e = Error::InvalidToken("bad \"token\"".into());
        let c = Error::bearer_challenge(Some(&e));
        assert_eq!(
            c,
            "Bearer error=\"invalid_token\", error_description=\"bad 'token'\""
        );
        assert_eq!(Error::bearer_challenge(None), "Bearer");
    }
}
