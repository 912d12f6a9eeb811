//! The records the stores keep: grants (the root of a token family), codes and tokens, pushed
//! authorization requests, and the outcomes of the atomic store operations.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::model::{ClaimsRequest, CodeChallengeMethod, Params, Scopes};
use crate::secret::TokenHash;

/// The authorization grant: the root of a token family. Codes, access tokens and refresh tokens
/// hang off it by `grant_id`, so revoking the grant revokes all of them (RFC 6749 §4.1.2, §10.4).
///
/// Built with [`Grant::new`] and the `with_*` methods; fields stay readable and writable, and
/// new ones can be added without breaking users (`#[non_exhaustive]`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Grant {
    /// Random identifier.
    pub id: String,
    /// The client it was granted to.
    pub client_id: String,
    /// The resource owner (`None` for `client_credentials`).
    pub subject: Option<String>,
    /// Scopes granted.
    pub scopes: Scopes,
    /// When the user authenticated (OIDC Core §2 `auth_time`).
    pub auth_time: Option<i64>,
    /// Authentication context class reference.
    pub acr: Option<String>,
    /// Authentication methods references.
    pub amr: Vec<String>,
    /// Session id (OIDC Front-Channel Logout §3 `sid`).
    pub sid: Option<String>,
    /// `nonce` of the authorization request.
    pub nonce: Option<String>,
    /// The `claims` request parameter.
    pub claims: Option<ClaimsRequest>,
    /// Creation time.
    pub created_at: i64,
    /// When the grant (and so every token of the family) ends.
    pub expires_at: i64,
    /// What the grant adds to the tokens issued from it (audience, extra claims, lifetime,
    /// token type); it survives refresh and shows in introspection.
    #[serde(default, skip_serializing_if = "TokenContents::is_empty")]
    pub contents: TokenContents,
}

impl Grant {
    /// A grant `id` of `client_id` for `scopes`, created at `created_at` and ending at
    /// `expires_at`, with no subject (add one with [`Grant::with_subject`]).
    pub fn new(
        id: impl Into<String>,
        client_id: impl Into<String>,
        scopes: Scopes,
        created_at: i64,
        expires_at: i64,
    ) -> Grant {
        Grant {
            id: id.into(),
            client_id: client_id.into(),
            subject: None,
            scopes,
            auth_time: None,
            acr: None,
            amr: Vec::new(),
            sid: None,
            nonce: None,
            claims: None,
            created_at,
            expires_at,
            contents: TokenContents::default(),
        }
    }

    /// Sets the resource owner.
    pub fn with_subject(mut self, subject: impl Into<String>) -> Self {
        self.subject = Some(subject.into());
        self
    }

    /// Sets how and when the user authenticated (OIDC Core §2 `auth_time`, `acr`, `amr`).
    pub fn with_authentication(
        mut self,
        auth_time: i64,
        acr: Option<String>,
        amr: Vec<String>,
    ) -> Self {
        self.auth_time = Some(auth_time);
        self.acr = acr;
        self.amr = amr;
        self
    }

    /// Sets the login session id (`sid`).
    pub fn with_sid(mut self, sid: impl Into<String>) -> Self {
        self.sid = Some(sid.into());
        self
    }

    /// Sets what the grant adds to its tokens.
    pub fn with_contents(mut self, contents: TokenContents) -> Self {
        self.contents = contents;
        self
    }
}

/// The access token's `token_type` (RFC 6749 §7.1).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TokenType {
    /// RFC 6750 bearer tokens.
    #[default]
    Bearer,
}

impl TokenType {
    /// The registered name sent as `token_type`.
    pub fn name(self) -> &'static str {
        match self {
            TokenType::Bearer => "Bearer",
        }
    }
}

/// Claims of an access token that the provider owns and a grant cannot set (RFC 9068 §2.2,
/// RFC 7519 §4.1, plus the provider's `gid`); `sub` comes from [`Grant::subject`] and `aud`
/// from [`TokenContents::audience`].
pub const ACCESS_TOKEN_OWN_CLAIMS: [&str; 13] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "jti",
    "client_id",
    "scope",
    "auth_time",
    "acr",
    "amr",
    "gid",
];

/// Claims of an ID token that the provider owns (OIDC Core §2, §3.1.3.6; the same list the
/// pre-issue hook cannot change).
pub const ID_TOKEN_OWN_CLAIMS: [&str; 14] = [
    "iss",
    "sub",
    "aud",
    "exp",
    "nbf",
    "iat",
    "auth_time",
    "acr",
    "amr",
    "nonce",
    "azp",
    "at_hash",
    "c_hash",
    "sid",
];

/// What a grant adds to the tokens issued from it: the extension surface other crates use
/// (token exchange `audience` and `act`, RFC 9396 `authorization_details`, `cnf`, organization
/// claims...). The provider's own claims cannot be set here: [`TokenContents::add_access_token_claim`]
/// and [`TokenContents::add_id_token_claim`] refuse them, and issuance writes the provider's
/// claims last in any case.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenContents {
    /// Audience values (`aud` of the access token; RFC 8707 `resource`, RFC 8693 `audience`).
    /// Empty: the issuer.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub audience: Vec<String>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    access_token_claims: Map<String, Value>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    id_token_claims: Map<String, Value>,
    /// Access-token lifetime in seconds for this grant (`None`: the configured one).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token_ttl: Option<i64>,
    /// The access token's type.
    #[serde(default, skip_serializing_if = "is_bearer")]
    pub token_type: TokenType,
}

fn is_bearer(t: &TokenType) -> bool {
    *t == TokenType::Bearer
}

impl TokenContents {
    /// Nothing added.
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether nothing is added.
    pub fn is_empty(&self) -> bool {
        *self == TokenContents::default()
    }

    /// Adds an audience value (kept once, in order).
    pub fn with_audience(mut self, aud: impl Into<String>) -> Self {
        let aud = aud.into();
        if !self.audience.contains(&aud) {
            self.audience.push(aud);
        }
        self
    }

    /// Sets the access-token lifetime in seconds (at least 1).
    pub fn with_access_token_ttl(mut self, seconds: i64) -> Self {
        self.access_token_ttl = Some(seconds.max(1));
        self
    }

    /// Adds a claim to every access token of the grant (JWT claim, introspection member).
    /// Refuses the provider's own claims ([`ACCESS_TOKEN_OWN_CLAIMS`]).
    pub fn add_access_token_claim(
        &mut self,
        name: impl Into<String>,
        value: Value,
    ) -> Result<(), ReservedClaim> {
        add_claim(
            &mut self.access_token_claims,
            &ACCESS_TOKEN_OWN_CLAIMS,
            name.into(),
            value,
        )
    }

    /// Adds a claim to every ID token of the grant. Refuses the provider's own claims
    /// ([`ID_TOKEN_OWN_CLAIMS`]).
    pub fn add_id_token_claim(
        &mut self,
        name: impl Into<String>,
        value: Value,
    ) -> Result<(), ReservedClaim> {
        add_claim(
            &mut self.id_token_claims,
            &ID_TOKEN_OWN_CLAIMS,
            name.into(),
            value,
        )
    }

    /// The extra access-token claims.
    pub fn access_token_claims(&self) -> &Map<String, Value> {
        &self.access_token_claims
    }

    /// The extra ID-token claims.
    pub fn id_token_claims(&self) -> &Map<String, Value> {
        &self.id_token_claims
    }
}

fn add_claim(
    claims: &mut Map<String, Value>,
    owned: &[&str],
    name: String,
    value: Value,
) -> Result<(), ReservedClaim> {
    if owned.contains(&name.as_str()) {
        return Err(ReservedClaim(name));
    }
    claims.insert(name, value);
    Ok(())
}

/// A grant tried to set a claim the provider owns.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("claim `{0}` is set by the provider and cannot be added by a grant")]
pub struct ReservedClaim(pub String);

impl From<ReservedClaim> for crate::error::Error {
    fn from(e: ReservedClaim) -> Self {
        crate::error::Error::Internal(e.to_string())
    }
}

/// What kind of secret a [`TokenRecord`] is.
///
/// [`GrantStore::consume`](crate::ports::GrantStore::consume) only consumes a record of the
/// kind it is asked for, so an artifact of one grant can never be spent by another grant's
/// redemption.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TokenKind {
    /// Authorization code (single use, RFC 6749 §4.1.2).
    AuthorizationCode,
    /// Access token.
    AccessToken,
    /// Refresh token (rotated on use by default).
    RefreshToken,
    /// A single-use artifact of an extension grant (device code, CIBA `auth_req_id`,
    /// pre-authorized code), named by that grant's `grant_type`.
    Artifact(String),
}

/// What an authorization code is bound to (RFC 6749 §4.1.3, RFC 7636 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBinding {
    /// The redirect URI used in the authorization request.
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri` (then the token request must).
    pub redirect_uri_sent: bool,
    /// The PKCE challenge and method.
    pub code_challenge: Option<(String, CodeChallengeMethod)>,
}

/// The state of a stored token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    /// Usable.
    Active,
    /// A single-use code already redeemed at `at`.
    Consumed {
        /// When.
        at: i64,
    },
    /// A refresh token replaced by a successor at `at`.
    Rotated {
        /// When.
        at: i64,
    },
}

/// A stored code or token, keyed by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TokenRecord {
    /// Hash of the secret.
    pub hash: TokenHash,
    /// Kind.
    pub kind: TokenKind,
    /// The grant (token family) it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Scopes of this token (may be narrower than the grant's).
    pub scopes: Scopes,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Code bindings, for authorization codes.
    pub code: Option<CodeBinding>,
    /// State.
    pub state: TokenState,
}

impl TokenRecord {
    /// An active record of `kind` for the secret hashed as `hash`, belonging to `grant`
    /// (its client and scopes), issued at `issued_at` and expiring at `expires_at`.
    pub fn new(
        hash: TokenHash,
        kind: TokenKind,
        grant: &Grant,
        scopes: Scopes,
        issued_at: i64,
        expires_at: i64,
    ) -> TokenRecord {
        TokenRecord {
            hash,
            kind,
            grant_id: grant.id.clone(),
            client_id: grant.client_id.clone(),
            scopes,
            issued_at,
            expires_at,
            code: None,
            state: TokenState::Active,
        }
    }
}

/// Outcome of [`GrantStore::consume`](crate::ports::GrantStore::consume).
// Short-lived return values, moved once: boxing would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// This caller consumed the artifact; it is now spent.
    Consumed(TokenRecord, Grant),
    /// The artifact was already consumed: a replay. The caller revokes the grant.
    Replayed(TokenRecord),
    /// Unknown, expired, or its grant is gone.
    NotFound,
}

/// Outcome of [`GrantStore::rotate`](crate::ports::GrantStore::rotate).
// Short-lived return values, moved once: boxing would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token is retired and the new one stored.
    Rotated(TokenRecord, Grant),
    /// The old token had already been rotated outside the grace window: reuse. The caller
    /// revokes the family.
    Reused(TokenRecord),
    /// Unknown, expired, or its grant is gone.
    NotFound,
}

/// A pushed authorization request (RFC 9126 §2): the validated authorization request
/// parameters a client sent to the pushed authorization request endpoint, waiting for the
/// authorization request that names its `request_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRequest {
    /// SHA-256 of the random part of the `request_uri` (never the URI itself, like codes).
    pub hash: TokenHash,
    /// The client that pushed it; the `request_uri` is bound to it (RFC 9126 §4).
    pub client_id: String,
    /// The authorization request parameters, a request object already verified and unpacked.
    pub params: Params,
    /// When it was pushed.
    pub created_at: i64,
    /// When the `request_uri` expires (RFC 9126 §2.2 `expires_in`).
    pub expires_at: i64,
}
