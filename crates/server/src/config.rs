//! The `idforge serve` configuration: a TOML file, parsed and validated into typed values.

use std::collections::HashSet;
use std::fmt;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Scopes a client gets only by listing them in its `scopes`: they grant administrative power
/// (issuing credential offers, administering organizations, writing users' attributes), so the
/// default never includes them.
pub const ADMINISTRATIVE_SCOPES: [&str; 3] = ["credential_offers", "org_admin", "user_admin"];

/// The built-in demo configuration (`idforge serve` without `--config` prints and uses it).
pub const DEMO_CONFIG: &str = r#"# idforge serve: built-in demo configuration
[[clients]]
client_id = "demo-client"
client_secret = "demo-secret"
redirect_uris = ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
token_endpoint_auth_method = "client_secret_basic"
access_token_format = "jwt"
scope_as_array = false

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
name = "Alice Liddell"
given_name = "Alice"
family_name = "Liddell"
email = "alice@example.com"
email_verified = true
"#;

/// The configuration file: issuer, signing key, clients and users.
///
/// Unknown keys are refused. Build one with [`ServeConfig::from_toml`] (which validates) or
/// with [`ServeConfig::new`] and the `with_*` methods, then [`ServeConfig::validate`].
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ServeConfig {
    /// Issuer identifier (an http(s) URL without query, fragment or trailing slash); defaults to
    /// `http://ADDR` of the bound address.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub issuer: Option<String>,
    /// A private JWK (JSON text) to sign with; an EC P-256 key is generated at start if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signing_key: Option<String>,
    /// Registered clients (`[[clients]]`).
    #[serde(default)]
    pub clients: Vec<ClientConfig>,
    /// Users who can log in (`[[users]]`).
    #[serde(default)]
    pub users: Vec<UserConfig>,
    /// The implicit root organization (`[root]`, id and handle `root`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root: Option<crate::orgs::RootConfig>,
    /// Organizations below the root (`[[organizations]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub organizations: Vec<crate::orgs::OrganizationConfig>,
    /// The device authorization grant (`[device]`, RFC 8628).
    #[serde(default, skip_serializing_if = "DeviceConfig::is_default")]
    pub device: DeviceConfig,
    /// Issuers whose JWTs token exchange accepts (`[[trusted_issuers]]`, RFC 8693).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_issuers: Vec<TrustedIssuerConfig>,
    /// `[credential_issuer]`: the OID4VCI credential issuer is on (see `crate::oid4vci`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub credential_issuer: Option<crate::oid4vci::CredentialIssuerConfig>,
    /// `[[credential_templates]]`: what the credential issuer issues.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub credential_templates: Vec<crate::oid4vci::CredentialTemplateConfig>,
    /// Where user notifications go (`[notifications]`, CIBA email and SMS channels).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub notifications: Option<NotificationsConfig>,
    /// `[token_store]`: token persistence and the memory grant store's bounds (see
    /// `crate::token_store`).
    #[serde(
        default,
        skip_serializing_if = "crate::token_store::TokenStoreConfig::is_default"
    )]
    pub token_store: crate::token_store::TokenStoreConfig,
    /// `[limits]`: connection and request bounds (`idforge serve`'s accept loop and every
    /// route).
    #[serde(
        default,
        skip_serializing_if = "crate::limits::LimitsConfig::is_default"
    )]
    pub limits: crate::limits::LimitsConfig,
    /// `[login]`: the login form's lifetime and password attempt limits.
    #[serde(default, skip_serializing_if = "crate::login::LoginConfig::is_default")]
    pub login: crate::login::LoginConfig,
    /// Login sessions (`[sessions]`): idle, remember-me and absolute lifetimes, and what a
    /// password update does.
    #[serde(
        default,
        skip_serializing_if = "crate::sessions::SessionsConfig::is_default"
    )]
    pub sessions: crate::sessions::SessionsConfig,
    /// `[pages]`: a host's templates and message catalogs (docs/pages.md).
    #[serde(default, skip_serializing_if = "crate::pages::PagesConfig::is_default")]
    pub pages: crate::pages::PagesConfig,
    /// `[branding]`: the root's name, logo, colour and footer links on the pages.
    #[serde(
        default,
        skip_serializing_if = "crate::pages::BrandingConfig::is_default"
    )]
    pub branding: crate::pages::BrandingConfig,
    /// `[outbound]`: how relying parties are reached (CIBA ping/push, back-channel logout):
    /// extra trusted CA certificates, the time one attempt may take.
    #[serde(
        default,
        skip_serializing_if = "crate::outbound::OutboundConfig::is_default"
    )]
    pub outbound: crate::outbound::OutboundConfig,
    /// `[attributes]`: which user attributes idforge keeps in its own database (the rest stay
    /// in the connected user store, here the `[[users]]` of this file). Absent: the users are
    /// idforge's own, as before (docs/attributes.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<AttributesConfig>,
    /// `[database]`: how expired rows are swept from the SQL database (see
    /// `crate::storage::DatabaseConfig`).
    #[serde(
        default,
        skip_serializing_if = "crate::storage::DatabaseConfig::is_default"
    )]
    pub database: crate::storage::DatabaseConfig,
}

/// `[attributes]`: the storage location of user attributes (WSO2 IS 7.3). `local` lists the
/// attributes kept in idforge's database (`--database`); every other attribute, the password
/// and the subject stay in the connected user store, which for `idforge serve` is this file's
/// `[[users]]` (read-only). A `local` attribute's value in the file is imported once, when the
/// database has none for that user; the database's value wins afterwards.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct AttributesConfig {
    /// Attributes kept locally (no duplicates; never `sub` or `username`).
    #[serde(default)]
    pub local: Vec<String>,
}

impl AttributesConfig {
    /// Keeps `local` in idforge's database.
    pub fn new<I: IntoIterator<Item = S>, S: Into<String>>(local: I) -> Self {
        AttributesConfig {
            local: local.into_iter().map(Into::into).collect(),
        }
    }

    /// The validated placement.
    pub fn placement(&self) -> Result<idforge_oauth_core::users::AttributePlacement, ConfigError> {
        idforge_oauth_core::users::AttributePlacement::with_local(&self.local)
            .map_err(ConfigError::Attributes)
    }
}

/// `[notifications]`: messages to users (CIBA `email` and `sms` channels).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct NotificationsConfig {
    /// A file to which every message is appended as one JSON object a line (`channel`, `to`,
    /// `subject`, `text`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outbox: Option<std::path::PathBuf>,
}

/// One `[[trusted_issuers]]` entry: an issuer whose JWTs token exchange accepts as
/// `subject_token` or `actor_token` (RFC 8693; WSO2 IS 7.3 trusted token issuers).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TrustedIssuerConfig {
    /// The `iss` value, compared exactly.
    pub issuer: String,
    /// Its keys: a JWK Set as a JSON string (exactly one of `jwks` and `jwks_uri`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks: Option<String>,
    /// Where its keys are fetched (`https://` or `http://`, through `[outbound]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// Accepted `aud` values; default: this provider's issuer and token endpoint.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    /// Claims (at most 2) that find the local user: `username` is the login name, anything else
    /// a user claim (`email`, ...).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub lookup_attributes: Vec<String>,
    /// Map the external subject to a local user by `lookup_attributes` (default true); false:
    /// the external `sub` is the subject.
    #[serde(default = "yes")]
    pub implicit_association: bool,
}

fn yes() -> bool {
    true
}

impl TrustedIssuerConfig {
    /// An issuer with an inline JWK Set (JSON text), associating users by `lookup_attributes`.
    pub fn with_jwks(issuer: impl Into<String>, jwks: impl Into<String>) -> Self {
        TrustedIssuerConfig {
            issuer: issuer.into(),
            jwks: Some(jwks.into()),
            jwks_uri: None,
            audience: Vec::new(),
            lookup_attributes: Vec::new(),
            implicit_association: true,
        }
    }

    /// Sets the lookup attributes.
    pub fn with_lookup_attributes<S: Into<String>>(
        mut self,
        attrs: impl IntoIterator<Item = S>,
    ) -> Self {
        self.lookup_attributes = attrs.into_iter().map(Into::into).collect();
        self
    }

    /// Turns implicit association off (the external `sub` is the subject).
    pub fn without_association(mut self) -> Self {
        self.implicit_association = false;
        self
    }
}

/// The `[device]` table: the device authorization grant's lifetimes (RFC 8628 §3.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct DeviceConfig {
    /// Lifetime of device and user codes, in seconds (default 600).
    pub expires_in_seconds: i64,
    /// Minimum polling interval, in seconds (default 5).
    pub interval_seconds: i64,
}

impl Default for DeviceConfig {
    fn default() -> Self {
        DeviceConfig {
            expires_in_seconds: 600,
            interval_seconds: 5,
        }
    }
}

impl DeviceConfig {
    /// Codes living `expires_in_seconds`, polled every `interval_seconds` at most.
    pub fn new(expires_in_seconds: i64, interval_seconds: i64) -> Self {
        DeviceConfig {
            expires_in_seconds,
            interval_seconds,
        }
    }

    fn is_default(&self) -> bool {
        *self == DeviceConfig::default()
    }
}

/// How a client authenticates at the token, introspection and revocation endpoints
/// (`token_endpoint_auth_method`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientAuth {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1); the default with a secret.
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A public client (RFC 6749 §2.1); the default without a secret.
    None,
}

impl ClientAuth {
    /// The registered name (RFC 7591 §2).
    pub fn name(self) -> &'static str {
        match self {
            ClientAuth::ClientSecretBasic => "client_secret_basic",
            ClientAuth::ClientSecretPost => "client_secret_post",
            ClientAuth::None => "none",
        }
    }
}

impl fmt::Display for ClientAuth {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// The access token format of a client (`access_token_format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum TokenFormat {
    /// RFC 9068 JWT access tokens (the default).
    #[default]
    Jwt,
    /// Random opaque strings, resolved by introspection.
    Opaque,
}

/// One `[[clients]]` entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct ClientConfig {
    /// The client identifier.
    pub client_id: String,
    /// The client secret (confidential clients); stored only as a hash.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_secret: Option<String>,
    /// Redirect URIs, compared exactly (loopback ports excepted, RFC 8252 §7.3).
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use (default `authorization_code`, `refresh_token`); each is
    /// also enabled on the provider.
    #[serde(default = "default_grant_types")]
    pub grant_types: Vec<String>,
    /// `client_secret_basic` (default with a secret), `client_secret_post`, or `none` (default
    /// without a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token_endpoint_auth_method: Option<ClientAuth>,
    /// `jwt` (default) or `opaque`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_format: Option<TokenFormat>,
    /// The `scope` claim of JWT access tokens as a JSON array instead of a string.
    #[serde(default)]
    pub scope_as_array: bool,
    /// The scopes the client may be granted. Absent: every scope the provider supports except
    /// the [`ADMINISTRATIVE_SCOPES`], which a client gets only by listing them. Each listed
    /// scope must be one the provider supports.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scopes: Option<Vec<String>>,
    /// `template = "wallet"`: an OID4VCI wallet (public, PKCE, pre-authorized code grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub template: Option<crate::oid4vci::ClientTemplate>,
    /// CIBA `backchannel_token_delivery_mode`: `poll` (default), `ping` or `push`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_token_delivery_mode: Option<idforge_ciba::DeliveryMode>,
    /// CIBA `backchannel_client_notification_endpoint` (ping and push).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_client_notification_endpoint: Option<String>,
    /// CIBA `backchannel_user_code_parameter`: requests carry the user's password as
    /// `user_code`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_user_code_parameter: bool,
    /// How users learn of this client's CIBA requests: `email`, `sms`, `external` (default
    /// `["external"]`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciba_channels: Option<Vec<idforge_ciba::Channel>>,
    /// Lifetime of this client's `auth_req_id` in seconds (default 120).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ciba_expiry_seconds: Option<i64>,
    /// An agent identity: its `client_credentials` access token is accepted as CIBA
    /// `actor_token`, giving `act.sub` = its `client_id`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub agent: bool,
    /// This client's device-code lifetime in seconds (RFC 8628), instead of
    /// `[device] expires_in_seconds`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_code_expiry_seconds: Option<i64>,
    /// May exchange tokens without an `actor_token` (RFC 8693 impersonation).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub allow_impersonation: bool,
    /// The organization the client is registered in (default the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Organization ids the client is shared with; `"*"`: every organization below its own,
    /// existing and future.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shared_with: Vec<String>,
    /// Where `{issuer}/logout` may redirect after logout, matched exactly (RP-Initiated
    /// Logout 1.0 §3.1).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub post_logout_redirect_uris: Vec<String>,
    /// Rendered as an iframe by the logout page (Front-Channel Logout 1.0 §2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub frontchannel_logout_uri: Option<String>,
    /// Add `iss` and `sid` to `frontchannel_logout_uri`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub frontchannel_logout_session_required: bool,
    /// Where Logout Tokens are POSTed (Back-Channel Logout 1.0 §2.2).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backchannel_logout_uri: Option<String>,
    /// Logout Tokens must carry `sid` (they always do when a session ends).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub backchannel_logout_session_required: bool,
    /// `[clients.branding]`: the application's name, logo, colour, home link and footer
    /// links on the pages (absent fields inherited from its organization and the root).
    #[serde(
        default,
        skip_serializing_if = "crate::pages::BrandingConfig::is_default"
    )]
    pub branding: crate::pages::BrandingConfig,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}

/// One `[[users]]` entry.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct UserConfig {
    /// The login name; also the subject unless `claims.sub` is set.
    pub username: String,
    /// The password (hashed with PBKDF2 when loaded).
    pub password: String,
    /// Claims released by UserInfo and ID tokens (`email`, `name`, ...).
    #[serde(default)]
    pub claims: Map<String, Value>,
    /// The user's resident organization (default the root).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub organization: Option<String>,
    /// Shares into other organizations (`[[users.shares]]`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub shares: Vec<crate::orgs::ShareConfig>,
}

/// A configuration that cannot be used: the file is not valid TOML for [`ServeConfig`], or a
/// value is inconsistent. Every variant names what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// Not TOML, an unknown key, or a value of the wrong type (the parser's message).
    #[error("{0}")]
    Parse(String),
    /// `[pages]` or a `branding` table: an unreadable directory, a template that does not
    /// parse or render, a bad catalog, a bad colour or URL.
    #[error("{reason}")]
    Pages {
        /// What is wrong.
        reason: String,
    },
    /// A `[limits]` or `[login]` value out of range.
    #[error("{reason}")]
    Limit {
        /// What is out of range.
        reason: String,
    },
    /// The issuer is not an http(s) URL with a host and without query or fragment.
    #[error("issuer {issuer}: {reason}")]
    Issuer {
        /// The configured issuer.
        issuer: String,
        /// What is wrong with it.
        reason: &'static str,
    },
    /// `signing_key` is not a valid private JWK.
    #[error("signing_key: {0}")]
    SigningKey(String),
    /// `signing_key` is valid but cannot sign ID tokens (symmetric or public-only).
    #[error("signing_key: not an asymmetric signing key")]
    SigningKeyNotAsymmetric,
    /// Two clients share a `client_id`.
    #[error("client {client_id}: duplicate client_id")]
    DuplicateClient {
        /// The repeated identifier.
        client_id: String,
    },
    /// A secret-based authentication method without a `client_secret`.
    #[error("client {client_id}: {method} needs a client_secret")]
    MissingClientSecret {
        /// The client.
        client_id: String,
        /// Its authentication method.
        method: ClientAuth,
    },
    /// `scopes = []`: a client that may be granted nothing (omit `scopes` for the default).
    #[error("client {client_id}: scopes is empty (omit it for every non-administrative scope)")]
    EmptyScopes {
        /// The client.
        client_id: String,
    },
    /// A listed scope the provider does not support.
    #[error("client {client_id}: scope {scope} is not supported by the provider")]
    UnsupportedScope {
        /// The client.
        client_id: String,
        /// The scope.
        scope: String,
    },
    /// `[credential_issuer]`, `[[credential_templates]]` or a wallet client is inconsistent.
    #[error("credential issuer: {0}")]
    CredentialIssuer(String),
    /// A CIBA client setting is inconsistent (ping or push without an endpoint, email or
    /// SMS without an outbox, ...).
    #[error("client {client_id}: {reason}")]
    Ciba {
        /// The client.
        client_id: String,
        /// What is wrong.
        reason: String,
    },
    /// A lifetime or interval that is not a positive number of seconds.
    #[error("{field}: must be a positive number of seconds")]
    NotPositive {
        /// The field.
        field: String,
    },
    /// A `[token_store]` value is unusable.
    #[error("token_store.{field}: {reason}")]
    TokenStore {
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A `[database]` value is unusable.
    #[error("database.{field}: {reason}")]
    Database {
        /// The field.
        field: &'static str,
        /// Why.
        reason: &'static str,
    },
    /// A `[[trusted_issuers]]` entry is unusable.
    #[error("trusted issuer {issuer}: {reason}")]
    TrustedIssuer {
        /// The issuer.
        issuer: String,
        /// What is wrong.
        reason: String,
    },
    /// Two users share a `username`.
    #[error("user {username}: duplicate username")]
    DuplicateUser {
        /// The repeated name.
        username: String,
    },
    /// A `[sessions]` setting is unusable.
    #[error("sessions: {0}")]
    Sessions(String),
    /// `[outbound]`: a timeout out of range, a CA file that cannot be read or holds no
    /// certificate.
    #[error("outbound: {0}")]
    Outbound(String),
    /// `[attributes]` is unusable: an invalid or duplicate name, or `sub` / `username`.
    #[error("attributes: {0}")]
    Attributes(idforge_oauth_core::users::PlacementError),
    /// An organization, a user's residency or share, or a client's organization is invalid.
    #[error("organization {id}: {reason}")]
    Organization {
        /// The organization (or user, client) concerned.
        id: String,
        /// What is wrong.
        reason: String,
    },
}

impl ServeConfig {
    /// An empty configuration: no clients, no users, generated key, issuer from the address.
    pub fn new() -> Self {
        ServeConfig::default()
    }

    /// The built-in demo configuration ([`DEMO_CONFIG`]).
    pub fn demo() -> Self {
        // The constant is tested to parse and validate; an empty configuration is the
        // unreachable fallback.
        ServeConfig::from_toml(DEMO_CONFIG).unwrap_or_default()
    }

    /// Parses TOML and validates the result ([`ServeConfig::validate`]).
    pub fn from_toml(text: &str) -> Result<Self, ConfigError> {
        let config: ServeConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse(e.to_string()))?;
        config.validate()?;
        Ok(config)
    }

    /// Sets the issuer.
    pub fn with_issuer(mut self, issuer: impl Into<String>) -> Self {
        self.issuer = Some(issuer.into());
        self
    }

    /// Sets the signing key (a private JWK as JSON text).
    pub fn with_signing_key(mut self, jwk: impl Into<String>) -> Self {
        self.signing_key = Some(jwk.into());
        self
    }

    /// Adds a client.
    pub fn with_client(mut self, client: ClientConfig) -> Self {
        self.clients.push(client);
        self
    }

    /// Adds a trusted token issuer.
    pub fn with_trusted_issuer(mut self, issuer: TrustedIssuerConfig) -> Self {
        self.trusted_issuers.push(issuer);
        self
    }

    /// Sets the `[device]` table.
    pub fn with_device(mut self, device: DeviceConfig) -> Self {
        self.device = device;
        self
    }

    /// Sets `[attributes]` (which attributes idforge keeps in its own database).
    pub fn with_attributes(mut self, attributes: AttributesConfig) -> Self {
        self.attributes = Some(attributes);
        self
    }

    /// Adds a user.
    pub fn with_user(mut self, user: UserConfig) -> Self {
        self.users.push(user);
        self
    }

    /// Checks everything that can be checked before the server starts: the issuer's form, the
    /// signing key, unique client ids and usernames, a secret for secret-based authentication,
    /// and that every listed scope is one the provider supports.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if let Some(issuer) = &self.issuer {
            check_issuer(issuer)?;
        }
        if let Some(jwk) = &self.signing_key {
            crate::oauth::signing_key(jwk)?;
        }
        self.limits.validate()?;
        self.login.validate()?;
        // Templates parse and render, catalogs and branding are well-formed.
        crate::pages::validate(self)?;
        for (field, v) in [
            ("device.expires_in_seconds", self.device.expires_in_seconds),
            ("device.interval_seconds", self.device.interval_seconds),
        ] {
            if v <= 0 {
                return Err(ConfigError::NotPositive {
                    field: field.into(),
                });
            }
        }
        self.token_store.validate()?;
        self.database.store_options()?;
        let mut supported = crate::oauth::scopes_supported();
        supported.extend(crate::oid4vci::extra_scopes(self));
        crate::oid4vci::validate(self)?;
        if crate::orgs::enabled(self) {
            supported.push(crate::orgs::ORG_ADMIN.to_owned());
        }
        supported.extend(crate::attributes::extra_scopes(self));
        let mut ids = HashSet::new();
        for c in &self.clients {
            if !ids.insert(c.client_id.as_str()) {
                return Err(ConfigError::DuplicateClient {
                    client_id: c.client_id.clone(),
                });
            }
            let method = c.auth_method();
            if method != ClientAuth::None && c.client_secret.is_none() {
                return Err(ConfigError::MissingClientSecret {
                    client_id: c.client_id.clone(),
                    method,
                });
            }
            crate::ciba::validate_client(c, self.notifications.as_ref())?;
            if c.device_code_expiry_seconds.is_some_and(|s| s <= 0) {
                return Err(ConfigError::NotPositive {
                    field: format!("client {}: device_code_expiry_seconds", c.client_id),
                });
            }
            if let Some(scopes) = &c.scopes {
                if scopes.is_empty() {
                    return Err(ConfigError::EmptyScopes {
                        client_id: c.client_id.clone(),
                    });
                }
                if let Some(scope) = scopes.iter().find(|s| !supported.contains(s)) {
                    return Err(ConfigError::UnsupportedScope {
                        client_id: c.client_id.clone(),
                        scope: scope.clone(),
                    });
                }
            }
        }
        for t in &self.trusted_issuers {
            crate::token_exchange::trusted_issuer(t)?;
        }
        for t in self
            .organizations
            .iter()
            .flat_map(|o| &o.settings.trusted_issuers)
        {
            crate::token_exchange::trusted_issuer(t)?;
        }
        let mut names = HashSet::new();
        for u in &self.users {
            if !names.insert(u.username.as_str()) {
                return Err(ConfigError::DuplicateUser {
                    username: u.username.clone(),
                });
            }
        }
        if crate::orgs::enabled(self) {
            crate::orgs::build(self)?;
        }
        self.sessions.validate()?;
        self.outbound.validate()?;
        if let Some(a) = &self.attributes {
            a.placement()?;
        }
        Ok(())
    }
}

/// OIDC Discovery §3, RFC 8414 §2: an http(s) URL with a host and no query or fragment. A
/// trailing slash is dropped when the provider is built.
fn check_issuer(issuer: &str) -> Result<(), ConfigError> {
    let bad = |reason| ConfigError::Issuer {
        issuer: issuer.to_owned(),
        reason,
    };
    let rest = issuer
        .strip_prefix("https://")
        .or_else(|| issuer.strip_prefix("http://"))
        .ok_or_else(|| bad("not an http(s) URL"))?;
    if rest.is_empty() || rest.starts_with('/') {
        return Err(bad("no host"));
    }
    if rest.contains(['?', '#']) {
        return Err(bad("a query or fragment is not allowed"));
    }
    Ok(())
}

impl ClientConfig {
    /// A public client (no secret) with the default grant types.
    pub fn new(client_id: impl Into<String>) -> Self {
        ClientConfig {
            client_id: client_id.into(),
            client_secret: None,
            redirect_uris: Vec::new(),
            grant_types: default_grant_types(),
            token_endpoint_auth_method: None,
            access_token_format: None,
            scope_as_array: false,
            scopes: None,
            template: None,
            backchannel_token_delivery_mode: None,
            backchannel_client_notification_endpoint: None,
            backchannel_user_code_parameter: false,
            ciba_channels: None,
            ciba_expiry_seconds: None,
            agent: false,
            device_code_expiry_seconds: None,
            allow_impersonation: false,
            organization: None,
            shared_with: Vec::new(),
            post_logout_redirect_uris: Vec::new(),
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            branding: crate::pages::BrandingConfig::default(),
        }
    }

    /// Sets the client secret (making it confidential, `client_secret_basic` by default).
    pub fn with_secret(mut self, secret: impl Into<String>) -> Self {
        self.client_secret = Some(secret.into());
        self
    }

    /// Adds a redirect URI.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets the grant types.
    pub fn with_grant_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.grant_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the authentication method.
    pub fn with_auth_method(mut self, method: ClientAuth) -> Self {
        self.token_endpoint_auth_method = Some(method);
        self
    }

    /// Sets the access token format.
    pub fn with_access_token_format(mut self, format: TokenFormat) -> Self {
        self.access_token_format = Some(format);
        self
    }

    /// Sets this client's device-code lifetime in seconds.
    pub fn with_device_code_expiry(mut self, seconds: i64) -> Self {
        self.device_code_expiry_seconds = Some(seconds);
        self
    }

    /// Lets the client exchange tokens without an `actor_token` (RFC 8693 impersonation).
    pub fn with_impersonation(mut self) -> Self {
        self.allow_impersonation = true;
        self
    }

    /// Sets the scopes the client may be granted.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = Some(scopes.into_iter().map(Into::into).collect());
        self
    }

    /// The effective authentication method: the configured one, else `client_secret_basic`
    /// with a secret and `none` without.
    pub fn auth_method(&self) -> ClientAuth {
        match (self.token_endpoint_auth_method, &self.client_secret) {
            (Some(m), _) => m,
            (None, Some(_)) => ClientAuth::ClientSecretBasic,
            (None, None) => ClientAuth::None,
        }
    }

    /// The scopes the client may be granted, given the provider's supported scopes: the listed
    /// ones, or every supported scope except the [`ADMINISTRATIVE_SCOPES`].
    pub fn allowed_scopes(&self, supported: &[String]) -> Vec<String> {
        match &self.scopes {
            Some(listed) => listed.clone(),
            None => supported
                .iter()
                .filter(|s| !ADMINISTRATIVE_SCOPES.contains(&s.as_str()))
                .cloned()
                .collect(),
        }
    }
}

impl UserConfig {
    /// A user without claims.
    pub fn new(username: impl Into<String>, password: impl Into<String>) -> Self {
        UserConfig {
            username: username.into(),
            password: password.into(),
            claims: Map::new(),
            organization: None,
            shares: Vec::new(),
        }
    }

    /// Adds a claim.
    pub fn with_claim(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.claims.insert(name.into(), value.into());
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses_and_validates() {
        let c = ServeConfig::from_toml(DEMO_CONFIG).expect("demo config");
        assert_eq!(c.clients[0].client_id, "demo-client");
        assert_eq!(c.clients[0].auth_method(), ClientAuth::ClientSecretBasic);
        assert_eq!(c.users[0].claims["email"], "alice@example.com");
        assert_eq!(ServeConfig::demo(), c);
    }

    #[test]
    fn unknown_keys_and_values_are_refused() {
        assert!(matches!(
            ServeConfig::from_toml("bogus = 1"),
            Err(ConfigError::Parse(_))
        ));
        assert!(matches!(
            ServeConfig::from_toml("[[clients]]\nclient_id = \"x\"\nextra = 1"),
            Err(ConfigError::Parse(_))
        ));
        let e = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"x\"\naccess_token_format = \"paper\"",
        )
        .unwrap_err();
        assert!(
            matches!(&e, ConfigError::Parse(m) if m.contains("paper")),
            "{e}"
        );
        let e = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"x\"\nclient_secret = \"s\"\ntoken_endpoint_auth_method = \"tls\"",
        )
        .unwrap_err();
        assert!(
            matches!(&e, ConfigError::Parse(m) if m.contains("tls")),
            "{e}"
        );
    }

    #[test]
    fn secret_methods_need_a_secret() {
        let e = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"x\"\ntoken_endpoint_auth_method = \"client_secret_basic\"",
        )
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::MissingClientSecret {
                client_id: "x".into(),
                method: ClientAuth::ClientSecretBasic
            }
        );
        assert_eq!(
            e.to_string(),
            "client x: client_secret_basic needs a client_secret"
        );
        // Without a method and a secret: a public client.
        let c = ServeConfig::from_toml("[[clients]]\nclient_id = \"x\"").expect("public");
        assert_eq!(c.clients[0].auth_method(), ClientAuth::None);
    }

    #[test]
    fn signing_key_is_checked_when_loaded() {
        assert!(matches!(
            ServeConfig::from_toml("signing_key = \"{}\""),
            Err(ConfigError::SigningKey(_))
        ));
        let oct =
            r#"signing_key = '{"kty":"oct","k":"c2VjcmV0LXNlY3JldC1zZWNyZXQtc2VjcmV0LXNlY3JldA"}'"#;
        assert_eq!(
            ServeConfig::from_toml(oct),
            Err(ConfigError::SigningKeyNotAsymmetric)
        );
    }

    #[test]
    fn issuer_form_is_checked() {
        for (issuer, reason) in [
            ("ftp://x", "not an http(s) URL"),
            ("https://", "no host"),
            (
                "https://op.example?x=1",
                "a query or fragment is not allowed",
            ),
            ("https://op.example#f", "a query or fragment is not allowed"),
        ] {
            assert_eq!(
                ServeConfig::from_toml(&format!("issuer = \"{issuer}\"")),
                Err(ConfigError::Issuer {
                    issuer: issuer.into(),
                    reason
                }),
                "{issuer}"
            );
        }
        assert!(ServeConfig::from_toml("issuer = \"https://op.example/tenant\"").is_ok());
    }

    #[test]
    fn duplicates_are_refused() {
        let e = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"a\"\n[[clients]]\nclient_id = \"a\"",
        )
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::DuplicateClient {
                client_id: "a".into()
            }
        );
        let e = ServeConfig::from_toml(
            "[[users]]\nusername = \"u\"\npassword = \"p\"\n[[users]]\nusername = \"u\"\npassword = \"q\"",
        )
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::DuplicateUser {
                username: "u".into()
            }
        );
    }

    #[test]
    fn listed_scopes_must_be_supported() {
        let e = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"app\"\nscopes = [\"openid\", \"telepathy\"]",
        )
        .unwrap_err();
        assert_eq!(
            e,
            ConfigError::UnsupportedScope {
                client_id: "app".into(),
                scope: "telepathy".into()
            }
        );
        assert_eq!(
            e.to_string(),
            "client app: scope telepathy is not supported by the provider"
        );
        // Administrative scopes are refused too while the provider does not support them.
        assert!(matches!(
            ServeConfig::from_toml("[[clients]]\nclient_id = \"app\"\nscopes = [\"org_admin\"]"),
            Err(ConfigError::UnsupportedScope { scope, .. }) if scope == "org_admin"
        ));
        assert_eq!(
            ServeConfig::from_toml("[[clients]]\nclient_id = \"app\"\nscopes = []"),
            Err(ConfigError::EmptyScopes {
                client_id: "app".into()
            })
        );
        let c = ServeConfig::from_toml("[[clients]]\nclient_id = \"app\"\nscopes = [\"openid\"]")
            .expect("listed");
        assert_eq!(
            c.clients[0].scopes.as_deref(),
            Some(&["openid".to_owned()][..])
        );
    }

    #[test]
    fn absent_scopes_mean_every_supported_scope_but_administrative_ones() {
        let supported: Vec<String> = ["openid", "email", "credential_offers", "org_admin", "phone"]
            .map(String::from)
            .to_vec();
        let c = ClientConfig::new("app");
        assert_eq!(c.allowed_scopes(&supported), ["openid", "email", "phone"]);
        let c = c.with_scopes(["openid", "org_admin"]);
        assert_eq!(c.allowed_scopes(&supported), ["openid", "org_admin"]);
    }

    #[test]
    fn builders_match_the_toml_form() {
        let built = ServeConfig::new()
            .with_issuer("https://op.example")
            .with_client(
                ClientConfig::new("app")
                    .with_secret("s")
                    .with_redirect_uri("https://app.example/cb")
                    .with_grant_types(["client_credentials"])
                    .with_auth_method(ClientAuth::ClientSecretPost)
                    .with_access_token_format(TokenFormat::Opaque)
                    .with_scopes(["profile"]),
            )
            .with_user(UserConfig::new("bob", "pw").with_claim("email", "bob@example.com"));
        let text = toml::to_string(&built).expect("serialize");
        assert_eq!(ServeConfig::from_toml(&text).expect("round trip"), built);
    }
}
