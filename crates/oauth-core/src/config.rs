//! Provider configuration: plain, serde-(de)serializable, with safe defaults.

use serde::{Deserialize, Serialize};

use crate::model::Limits;
use crate::session::SessionPolicy;

/// A configuration that cannot work, found when the provider is built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The issuer identifier is not usable.
    #[error("issuer: {0}")]
    Issuer(&'static str),
    /// An endpoint path does not start with `/`.
    #[error("{0}: must start with /")]
    Path(&'static str),
    /// A lifetime is zero or negative.
    #[error("{0}: must be positive")]
    Lifetime(&'static str),
    /// A setting needs a port or another setting that is missing.
    #[error("{0}")]
    Requires(&'static str),
    /// A grant type is enabled (by the configuration or a client) that no grant handler
    /// serves: a typo or a missing extension crate.
    #[error("grant type `{0}` is enabled but no grant handler serves it")]
    UnknownGrantType(String),
    /// A client registration is unusable.
    #[error("client {client_id}: {reason}")]
    Client {
        /// The client.
        client_id: String,
        /// Why.
        reason: String,
    },
}

impl From<ConfigError> for crate::error::Error {
    fn from(e: ConfigError) -> Self {
        crate::error::Error::Internal(e.to_string())
    }
}

/// Access token format (per provider, overridable per client).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum AccessTokenFormat {
    /// RFC 9068 JWT access tokens (`typ: at+jwt`).
    #[default]
    Jwt,
    /// Random opaque strings (256 bits), resolved by introspection.
    Opaque,
}

/// Where the tokens of a grant live (WSO2 "non-persistent access tokens").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum TokenPersistence {
    /// Every code and token is stored (by hash) and resolved through the
    /// [`GrantStore`](crate::ports::GrantStore).
    #[default]
    Stored,
    /// JWT access and refresh tokens are self-contained and issuing them writes nothing; only
    /// revocations are stored, as a deny-list expiring with the tokens. Opaque tokens are still
    /// stored.
    SelfContained,
    /// Self-contained, and revocations are not recorded either: a revoked token stays valid
    /// until it expires and refresh-token reuse cannot be detected. Writes nothing at all.
    SelfContainedWithoutRevocation,
}

impl TokenPersistence {
    /// Whether JWT tokens are self-contained (not stored).
    pub fn is_self_contained(self) -> bool {
        self != TokenPersistence::Stored
    }

    /// Whether revocations of self-contained tokens are recorded in the deny-list.
    pub fn records_revocations(self) -> bool {
        self == TokenPersistence::SelfContained
    }
}

/// Grant types the token endpoint accepts (built-in names; other crates register more).
pub mod grant_type {
    /// RFC 6749 §4.1.3.
    pub const AUTHORIZATION_CODE: &str = "authorization_code";
    /// RFC 6749 §6.
    pub const REFRESH_TOKEN: &str = "refresh_token";
    /// RFC 6749 §4.4.
    pub const CLIENT_CREDENTIALS: &str = "client_credentials";
    /// RFC 6749 §4.3 (deprecated by RFC 9700 §2.4; off unless enabled).
    pub const PASSWORD: &str = "password";
}

/// The configuration of an OpenID Provider.
///
/// Start from [`Config::new`] and set fields or use the `with_*` methods; `#[non_exhaustive]`
/// so that new settings never break a user. [`Config::validate`] runs when the provider is
/// built, so a bad setting fails at start, never as a 500 later.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct Config {
    /// Issuer identifier (https URL without query or fragment, OIDC Discovery §3).
    pub issuer: String,
    /// Path of the authorization endpoint under the issuer.
    pub authorization_path: String,
    /// Path of the token endpoint.
    pub token_path: String,
    /// Path of the UserInfo endpoint (`None`: disabled and not advertised).
    pub userinfo_path: Option<String>,
    /// Path of the introspection endpoint (`None`: disabled).
    pub introspection_path: Option<String>,
    /// Path of the revocation endpoint (`None`: disabled).
    pub revocation_path: Option<String>,
    /// Path of the JWKS document.
    pub jwks_path: String,
    /// Grant types enabled (the token endpoint refuses others with `unsupported_grant_type`).
    pub grant_types: Vec<String>,
    /// Scopes the provider knows; requests for others are `invalid_scope`.
    pub scopes_supported: Vec<String>,
    /// Authorization code lifetime (RFC 6749 §4.1.2 recommends at most 10 minutes).
    pub authorization_code_ttl: i64,
    /// Access token lifetime in seconds.
    pub access_token_ttl: i64,
    /// Refresh token lifetime in seconds (also the lifetime of the grant).
    pub refresh_token_ttl: i64,
    /// ID token lifetime in seconds.
    pub id_token_ttl: i64,
    /// Default access token format.
    pub access_token_format: AccessTokenFormat,
    /// Where tokens live: stored, or self-contained JWTs with or without a revocation
    /// deny-list.
    pub token_persistence: TokenPersistence,
    /// Put the claims released by scopes (`profile email address phone`) in the ID token too,
    /// not only in UserInfo. OIDC Core §5.4 returns them from UserInfo when an access token is
    /// issued; many relying parties expect them in the ID token, so this defaults to `true`.
    pub scope_claims_in_id_token: bool,
    /// Default form of the `scope` claim in JWT access tokens: `true` for a JSON array.
    pub scope_as_array: bool,
    /// Rotate refresh tokens on every use (RFC 9700 §4.14.2).
    pub refresh_token_rotation: bool,
    /// Seconds during which a just-rotated refresh token may still be used (concurrent
    /// refresh); 0 disables the grace window.
    pub refresh_token_grace_seconds: i64,
    /// Issue refresh tokens for `client_credentials` (RFC 6749 §4.4.3 says SHOULD NOT).
    pub client_credentials_refresh: bool,
    /// Allow PKCE `plain` (RFC 7636 §4.2; RFC 9700 §2.1.1 recommends S256 only).
    pub allow_plain_pkce: bool,
    /// Require PKCE from every client, not only public ones (RFC 9700 §2.1.1).
    pub require_pkce: bool,
    /// Maximum lifetime of a `private_key_jwt` client assertion, in seconds.
    pub max_client_assertion_lifetime: i64,
    /// Clock skew tolerated on incoming JWTs.
    pub leeway: i64,
    /// Path of the pushed authorization request endpoint (RFC 9126 §2); `None` disables it.
    /// It also needs a [`PushedRequestStore`](crate::ports::PushedRequestStore) port.
    pub pushed_authorization_request_path: Option<String>,
    /// Lifetime of a pushed request's `request_uri`, in seconds (RFC 9126 §2.2 `expires_in`;
    /// short, since it is used at once).
    pub pushed_authorization_request_ttl: i64,
    /// Refuse authorization requests that did not come through the pushed authorization
    /// request endpoint (RFC 9126 §5 `require_pushed_authorization_requests`).
    pub require_pushed_authorization_requests: bool,
    /// Input limits.
    pub limits: Limits,
    /// Login session lifetimes and the password-update policy (used when a
    /// [`SessionStore`](crate::ports::SessionStore) is configured).
    pub sessions: SessionPolicy,
    /// Path of the end-session endpoint (RP-Initiated Logout 1.0 §2 `end_session_endpoint`);
    /// advertised when a session store is configured.
    pub end_session_path: Option<String>,
}

impl Default for Config {
    fn default() -> Self {
        Config {
            issuer: "http://127.0.0.1:8080".into(),
            authorization_path: "/authorize".into(),
            token_path: "/token".into(),
            userinfo_path: Some("/userinfo".into()),
            introspection_path: Some("/introspect".into()),
            revocation_path: Some("/revoke".into()),
            jwks_path: "/jwks.json".into(),
            grant_types: vec![
                grant_type::AUTHORIZATION_CODE.into(),
                grant_type::REFRESH_TOKEN.into(),
                grant_type::CLIENT_CREDENTIALS.into(),
            ],
            scopes_supported: [
                "openid",
                "profile",
                "email",
                "address",
                "phone",
                "offline_access",
            ]
            .map(String::from)
            .to_vec(),
            authorization_code_ttl: 60,
            access_token_ttl: 3600,
            refresh_token_ttl: 30 * 24 * 3600,
            id_token_ttl: 3600,
            access_token_format: AccessTokenFormat::Jwt,
            token_persistence: TokenPersistence::Stored,
            scope_claims_in_id_token: true,
            scope_as_array: false,
            refresh_token_rotation: true,
            refresh_token_grace_seconds: 0,
            client_credentials_refresh: false,
            allow_plain_pkce: false,
            require_pkce: false,
            max_client_assertion_lifetime: 600,
            leeway: 30,
            pushed_authorization_request_path: Some("/par".into()),
            pushed_authorization_request_ttl: 60,
            require_pushed_authorization_requests: false,
            limits: Limits::default(),
            sessions: SessionPolicy::default(),
            end_session_path: Some("/logout".into()),
        }
    }
}

impl Config {
    /// A default configuration for `issuer`.
    pub fn new(issuer: impl Into<String>) -> Self {
        Config {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            ..Config::default()
        }
    }

    /// Enables a grant type.
    pub fn with_grant_type(mut self, grant_type: &str) -> Self {
        if !self.grant_types.iter().any(|g| g == grant_type) {
            self.grant_types.push(grant_type.to_owned());
        }
        self
    }

    /// Sets the default access token format.
    pub fn with_access_token_format(mut self, format: AccessTokenFormat) -> Self {
        self.access_token_format = format;
        self
    }

    /// Sets where tokens live.
    pub fn with_token_persistence(mut self, persistence: TokenPersistence) -> Self {
        self.token_persistence = persistence;
        self
    }

    /// Checks the settings that cannot be expressed in their types: the issuer is an http(s)
    /// URL with a host and no query, fragment or trailing slash (OIDC Discovery §3, RFC 8414
    /// §2); endpoint paths start with `/`; lifetimes are positive.
    pub fn validate(&self) -> Result<(), ConfigError> {
        let issuer = &self.issuer;
        let rest = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"))
            .ok_or(ConfigError::Issuer("not an http(s) URL"))?;
        if rest.is_empty() || rest.starts_with('/') {
            return Err(ConfigError::Issuer("no host"));
        }
        if rest.contains(['?', '#']) || issuer.ends_with('/') {
            return Err(ConfigError::Issuer(
                "a query, fragment or trailing slash is not allowed",
            ));
        }
        let paths = [
            ("authorization_path", Some(&self.authorization_path)),
            ("token_path", Some(&self.token_path)),
            ("jwks_path", Some(&self.jwks_path)),
            ("userinfo_path", self.userinfo_path.as_ref()),
            ("introspection_path", self.introspection_path.as_ref()),
            ("revocation_path", self.revocation_path.as_ref()),
            (
                "pushed_authorization_request_path",
                self.pushed_authorization_request_path.as_ref(),
            ),
            ("end_session_path", self.end_session_path.as_ref()),
        ];
        for (name, path) in paths {
            if path.is_some_and(|p| !p.starts_with('/')) {
                return Err(ConfigError::Path(name));
            }
        }
        let lifetimes = [
            ("authorization_code_ttl", self.authorization_code_ttl),
            ("access_token_ttl", self.access_token_ttl),
            ("refresh_token_ttl", self.refresh_token_ttl),
            ("id_token_ttl", self.id_token_ttl),
            (
                "pushed_authorization_request_ttl",
                self.pushed_authorization_request_ttl,
            ),
            (
                "max_client_assertion_lifetime",
                self.max_client_assertion_lifetime,
            ),
        ];
        for (name, seconds) in lifetimes {
            if seconds <= 0 {
                return Err(ConfigError::Lifetime(name));
            }
        }
        if self.leeway < 0 || self.refresh_token_grace_seconds < 0 {
            return Err(ConfigError::Lifetime(
                "leeway / refresh_token_grace_seconds",
            ));
        }
        self.sessions.validate().map_err(ConfigError::Lifetime)?;
        Ok(())
    }

    /// The full URL of an endpoint path.
    pub fn url(&self, path: &str) -> String {
        format!("{}{}", self.issuer, path)
    }

    /// The token endpoint URL (an accepted `aud` of client assertions, RFC 7523 §3).
    pub fn token_endpoint(&self) -> String {
        self.url(&self.token_path)
    }

    /// Whether `grant_type` is enabled.
    pub fn grant_enabled(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }
}
