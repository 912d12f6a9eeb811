//! The token endpoint (RFC 6749 §3.2): client authentication once, then dispatch by
//! `grant_type` to a [`GrantHandler`]. Built-in handlers: `authorization_code`, `refresh_token`,
//! `client_credentials`, `password`.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::Map;

use crate::client::{authenticate_client, Client};
use crate::config::{grant_type, AccessTokenFormat};
use crate::error::{Error, Result};
use crate::model::{verify_pkce, Limits, Scopes, TokenRequest, TokenResponse};
use crate::ports::{
    random_token, ConsumeOutcome, Grant, RotateOutcome, TokenHash, TokenKind, TokenState,
};
use crate::provider::Context;
use crate::tokens::{self, DENY_GRANT, DENY_TOKEN, REFRESH_TOKEN_TYP};

/// One grant type. Built-in grants and those of other crates (device code, token exchange,
/// CIBA) are all handlers; the token endpoint has already authenticated `client` and checked
/// that it may use this grant type.
#[async_trait]
pub trait GrantHandler: Send + Sync {
    /// The `grant_type` value handled (an absolute URI for extension grants, RFC 6749 §4.5).
    fn grant_type(&self) -> &str;
    /// Handles a token request from an authenticated client.
    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse>;
}

/// Grant handlers by `grant_type`.
#[derive(Clone, Default)]
pub struct GrantRegistry {
    handlers: BTreeMap<String, Arc<dyn GrantHandler>>,
}

impl std::fmt::Debug for GrantRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl GrantRegistry {
    /// The four built-in grants (each still needs enabling in [`Config::grant_types`](crate::Config)).
    pub fn with_builtin() -> Self {
        let mut r = GrantRegistry::default();
        r.register(Arc::new(AuthorizationCodeGrant));
        r.register(Arc::new(RefreshTokenGrant));
        r.register(Arc::new(ClientCredentialsGrant));
        r.register(Arc::new(PasswordGrant));
        r
    }

    /// Adds (or replaces) the handler of its grant type.
    pub fn register(&mut self, handler: Arc<dyn GrantHandler>) {
        self.handlers
            .insert(handler.grant_type().to_owned(), handler);
    }

    /// The handler for `grant_type`.
    pub fn get(&self, grant_type: &str) -> Option<&Arc<dyn GrantHandler>> {
        self.handlers.get(grant_type)
    }

    /// Registered grant types.
    pub fn grant_types(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }
}

/// The token endpoint.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    ctx: Arc<Context>,
    registry: GrantRegistry,
}

impl TokenEndpoint {
    /// The endpoint with `registry`'s handlers.
    pub fn new(ctx: Arc<Context>, registry: GrantRegistry) -> Self {
        TokenEndpoint { ctx, registry }
    }

    /// Input limits for parsing forms.
    pub fn limits(&self) -> &Limits {
        &self.ctx.config.limits
    }

    /// Handles a form body plus `Authorization` header.
    pub async fn handle_form(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<TokenResponse> {
        let req = TokenRequest::from_form(body, authorization.map(str::to_owned), self.limits())?;
        self.handle(&req).await
    }

    /// Handles a parsed token request.
    pub async fn handle(&self, req: &TokenRequest) -> Result<TokenResponse> {
        let client = authenticate_client(&self.ctx, req).await?;
        let gt = req.grant_type()?;
        let handler = self
            .registry
            .get(gt)
            .filter(|_| self.ctx.config.grant_enabled(gt))
            .ok_or_else(|| Error::UnsupportedGrantType("grant_type not supported".into()))?;
        // RFC 6749 §5.2 `unauthorized_client`.
        if !client.allows_grant(gt) {
            return Err(Error::UnauthorizedClient(
                "the client may not use this grant type".into(),
            ));
        }
        handler.handle(&self.ctx, &client, req).await
    }
}

/// What to issue besides the access token.
#[derive(Debug, Clone, Copy, Default)]
pub struct IssueOptions<'a> {
    /// Issue a refresh token.
    pub refresh_token: bool,
    /// Issue an ID token (OpenID requests).
    pub id_token: bool,
    /// The authorization code being exchanged (for `c_hash`).
    pub code: Option<&'a str>,
}

/// Whether `grant`'s tokens are stored: always, except for JWT tokens in non-persistent mode.
fn persists(ctx: &Context, client: &Client) -> bool {
    !ctx.config.non_persistent
        || client
            .access_token_format
            .unwrap_or(ctx.config.access_token_format)
            == AccessTokenFormat::Opaque
}

/// Issues the token response for `grant` (access token, optionally refresh and ID tokens). For
/// grant handlers of other crates too. In persistent mode, `grant` must already be stored.
pub async fn issue_token_response(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
    options: IssueOptions<'_>,
) -> Result<TokenResponse> {
    let at = tokens::issue_access_token(ctx, client, grant, scopes).await?;
    let refresh_token = if options.refresh_token {
        let (token, record) = tokens::new_refresh_token(ctx, client, grant, scopes).await?;
        if let Some(record) = record {
            ctx.grants.insert_token(record).await?;
        }
        Some(token)
    } else {
        None
    };
    let id_token = if options.id_token && grant.subject.is_some() {
        Some(tokens::issue_id_token(ctx, client, grant, Some(&at.token), options.code).await?)
    } else {
        None
    };
    Ok(TokenResponse {
        access_token: at.token,
        token_type: "Bearer".into(),
        expires_in: at.expires_in,
        refresh_token,
        scope: Some(scopes.to_param()),
        id_token,
        extra: Map::new(),
    })
}

fn wants_refresh(ctx: &Context, client: &Client) -> bool {
    ctx.config.grant_enabled(grant_type::REFRESH_TOKEN)
        && client.allows_grant(grant_type::REFRESH_TOKEN)
}

/// Requested scopes for grants without an authorization step: each must be supported and
/// allowed to the client (RFC 6749 §3.3 `invalid_scope`); absent means the client's default.
fn requested_scopes(
    ctx: &Context,
    client: &Client,
    req: &TokenRequest,
    default: &[String],
) -> Result<Scopes> {
    let scopes = match req.params.get("scope") {
        Some(s) => Scopes::parse(s, &ctx.config.limits)?,
        None => Scopes::from_values(default.iter().cloned()),
    };
    for s in scopes.values() {
        if !ctx.config.scopes_supported.iter().any(|x| x == s) || !client.allows_scope(s) {
            return Err(Error::InvalidScope(format!("scope `{s}` is not allowed")));
        }
    }
    Ok(scopes)
}

/// Revokes a token family: the stored grant, and in non-persistent mode a deny-list entry for
/// the grant id until the family would have expired.
async fn revoke_family(ctx: &Context, grant_id: &str, until: i64) -> Result<()> {
    ctx.grants.revoke_grant(grant_id).await?;
    if ctx.config.non_persistent && ctx.config.deny_list {
        let now = ctx.clock.now();
        ctx.grants
            .mark(&TokenHash::namespaced(DENY_GRANT, grant_id), until, now)
            .await?;
    }
    Ok(())
}

/// `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6).
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationCodeGrant;

#[async_trait]
impl GrantHandler for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        grant_type::AUTHORIZATION_CODE
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let code = req.params.require("code")?;
        let invalid = || Error::InvalidGrant("the authorization code is invalid or expired".into());
        let now = ctx.clock.now();
        let (record, grant) = match ctx
            .grants
            .consume(&TokenHash::of(code), TokenKind::AuthorizationCode, now)
            .await?
        {
            ConsumeOutcome::NotFound => return Err(invalid()),
            // RFC 6749 §4.1.2: a code used twice must be denied, and the server SHOULD revoke
            // every token already issued from it (RFC 9700 §4.2.4).
            ConsumeOutcome::Replayed(record) => {
                revoke_family(
                    ctx,
                    &record.grant_id,
                    now.saturating_add(ctx.config.refresh_token_ttl),
                )
                .await?;
                return Err(invalid());
            }
            ConsumeOutcome::Consumed(record, grant) => (record, grant),
        };
        let fail = |e: Error| async {
            // The code is spent; nothing was issued from it, so drop the grant.
            ctx.grants.revoke_grant(&record.grant_id).await?;
            Err::<TokenResponse, Error>(e)
        };
        if record.kind != TokenKind::AuthorizationCode {
            return fail(invalid()).await;
        }
        // RFC 6749 §4.1.3: the code was issued to this (authenticated) client.
        if record.client_id != client.client_id {
            return fail(invalid()).await;
        }
        let Some(binding) = record.code.as_ref() else {
            return fail(invalid()).await;
        };
        // RFC 6749 §4.1.3: redirect_uri required and identical if it was in the request.
        match req.params.get("redirect_uri") {
            Some(r) if r != binding.redirect_uri => {
                return fail(Error::InvalidGrant("redirect_uri does not match".into())).await
            }
            None if binding.redirect_uri_sent => {
                return fail(Error::InvalidGrant("redirect_uri is required".into())).await
            }
            _ => {}
        }
        match (&binding.code_challenge, req.params.get("code_verifier")) {
            (Some((challenge, method)), Some(verifier)) => {
                if !verify_pkce(verifier, challenge, *method) {
                    return fail(Error::InvalidGrant("PKCE verification failed".into())).await;
                }
            }
            (Some(_), None) => {
                return fail(Error::InvalidGrant("code_verifier is required".into())).await
            }
            // RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is a
            // PKCE downgrade attempt.
            (None, Some(_)) => {
                return fail(Error::InvalidGrant(
                    "no code_challenge was sent for this code".into(),
                ))
                .await
            }
            (None, None) => {}
        }
        let options = IssueOptions {
            refresh_token: wants_refresh(ctx, client),
            id_token: grant.scopes.contains("openid"),
            code: Some(code),
        };
        let scopes = grant.scopes.clone();
        issue_token_response(ctx, client, &grant, &scopes, options).await
    }
}

/// `refresh_token` (RFC 6749 §6): rotation with reuse detection (RFC 9700 §4.14.2), optional
/// grace window, scope narrowing.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokenGrant;

fn narrowed(ctx: &Context, req: &TokenRequest, original: &Scopes) -> Result<Scopes> {
    // RFC 6749 §6: the requested scope MUST NOT include any scope not originally granted.
    match req.params.get("scope") {
        None => Ok(original.clone()),
        Some(s) => {
            let scopes = Scopes::parse(s, &ctx.config.limits)?;
            if !scopes.is_subset_of(original) {
                return Err(Error::InvalidScope(
                    "scope exceeds the original grant".into(),
                ));
            }
            Ok(scopes)
        }
    }
}

#[async_trait]
impl GrantHandler for RefreshTokenGrant {
    fn grant_type(&self) -> &str {
        grant_type::REFRESH_TOKEN
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let token = req.params.require("refresh_token")?;
        let invalid =
            || Error::InvalidGrant("the refresh token is invalid, expired or revoked".into());
        let now = ctx.clock.now();
        if ctx.config.non_persistent {
            return self
                .handle_self_contained(ctx, client, req, token, now)
                .await;
        }
        let hash = TokenHash::of(token);
        let (record, _) = ctx
            .grants
            .token(&hash, now)
            .await?
            .filter(|(r, _)| r.kind == TokenKind::RefreshToken)
            .ok_or_else(invalid)?;
        // RFC 6749 §10.4: refresh tokens are bound to the client they were issued to.
        if record.client_id != client.client_id {
            return Err(invalid());
        }
        let scopes = narrowed(ctx, req, &record.scopes)?;
        let (grant, new_refresh) = if ctx.config.refresh_token_rotation {
            let new_token = random_token(ctx.rng.as_ref(), tokens::SECRET_BYTES)?;
            let mut new_record = record.clone();
            new_record.hash = TokenHash::of(&new_token);
            new_record.issued_at = now;
            new_record.state = TokenState::Active;
            let outcome = ctx
                .grants
                .rotate(
                    &hash,
                    new_record,
                    now,
                    ctx.config.refresh_token_grace_seconds,
                )
                .await?;
            match outcome {
                RotateOutcome::Rotated(_, grant) => (grant, Some(new_token)),
                RotateOutcome::Reused(old) => {
                    revoke_family(ctx, &old.grant_id, old.expires_at).await?;
                    return Err(invalid());
                }
                RotateOutcome::NotFound => return Err(invalid()),
            }
        } else {
            match ctx.grants.token(&hash, now).await? {
                Some((r, grant)) if r.state == TokenState::Active => (grant, None),
                _ => return Err(invalid()),
            }
        };
        let mut response = issue_token_response(
            ctx,
            client,
            &Grant {
                nonce: None,
                ..grant.clone()
            },
            &scopes,
            IssueOptions {
                refresh_token: false,
                id_token: scopes.contains("openid"),
                code: None,
            },
        )
        .await?;
        response.refresh_token = new_refresh;
        Ok(response)
    }
}

impl RefreshTokenGrant {
    /// Non-persistent mode: the refresh token is a signed JWT; rotation and reuse detection
    /// use the deny-list (when it is switched off, a refresh token stays valid until it
    /// expires and reuse cannot be detected).
    async fn handle_self_contained(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
        token: &str,
        now: i64,
    ) -> Result<TokenResponse> {
        let invalid =
            || Error::InvalidGrant("the refresh token is invalid, expired or revoked".into());
        let claims = tokens::verify_own_jwt(ctx, token, REFRESH_TOKEN_TYP)
            .await
            .map_err(|_| invalid())?;
        let grant = tokens::grant_from_refresh_claims(&claims).ok_or_else(invalid)?;
        if grant.client_id != client.client_id {
            return Err(invalid());
        }
        let exp = claims
            .get("exp")
            .and_then(serde_json::Value::as_i64)
            .unwrap_or(now);
        if ctx.config.deny_list {
            let family = TokenHash::namespaced(DENY_GRANT, &grant.id);
            if ctx.grants.is_marked(&family, now).await? {
                return Err(invalid());
            }
            if ctx.config.refresh_token_rotation {
                let key = TokenHash::namespaced(DENY_TOKEN, token);
                if !ctx.grants.mark(&key, exp, now).await? {
                    // Reuse of a rotated token: revoke the whole family.
                    ctx.grants.mark(&family, grant.expires_at, now).await?;
                    return Err(invalid());
                }
            }
        }
        let scopes = narrowed(ctx, req, &grant.scopes)?;
        let mut response = issue_token_response(
            ctx,
            client,
            &grant,
            &scopes,
            IssueOptions {
                refresh_token: false,
                id_token: scopes.contains("openid"),
                code: None,
            },
        )
        .await?;
        if ctx.config.refresh_token_rotation {
            response.refresh_token = Some(
                tokens::new_refresh_token(ctx, client, &grant, &grant.scopes)
                    .await?
                    .0,
            );
        }
        Ok(response)
    }
}

/// `client_credentials` (RFC 6749 §4.4): confidential clients only, no refresh token by
/// default (§4.4.3), no ID token (there is no user).
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCredentialsGrant;

#[async_trait]
impl GrantHandler for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        grant_type::CLIENT_CREDENTIALS
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        // RFC 6749 §4.4: "MUST only be used by confidential clients".
        if client.is_public() {
            return Err(Error::UnauthorizedClient(
                "client_credentials needs a confidential client".into(),
            ));
        }
        let default: Vec<String> = if req.params.get("scope").is_some() {
            Vec::new()
        } else {
            client
                .scopes
                .iter()
                .filter(|s| *s != "openid" && *s != "offline_access")
                .cloned()
                .collect()
        };
        let scopes = requested_scopes(ctx, client, req, &default)?;
        if scopes.contains("openid") {
            return Err(Error::InvalidScope("openid needs a user".into()));
        }
        let now = ctx.clock.now();
        let refresh = ctx.config.client_credentials_refresh && wants_refresh(ctx, client);
        let lifetime = if refresh {
            ctx.config.refresh_token_ttl
        } else {
            ctx.config.access_token_ttl
        };
        let grant = Grant {
            id: random_token(ctx.rng.as_ref(), 16)?,
            client_id: client.client_id.clone(),
            subject: None,
            scopes: scopes.clone(),
            auth_time: None,
            acr: None,
            amr: Vec::new(),
            sid: None,
            nonce: None,
            claims: None,
            created_at: now,
            expires_at: now.saturating_add(lifetime),
        };
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        issue_token_response(
            ctx,
            client,
            &grant,
            &scopes,
            IssueOptions {
                refresh_token: refresh,
                id_token: false,
                code: None,
            },
        )
        .await
    }
}

/// `password` (RFC 6749 §4.3; RFC 9700 §2.4 says it MUST NOT be used, so it is disabled unless
/// listed in the configuration and a [`PasswordVerifier`](crate::PasswordVerifier) is set).
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordGrant;

#[async_trait]
impl GrantHandler for PasswordGrant {
    fn grant_type(&self) -> &str {
        grant_type::PASSWORD
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let verifier = ctx
            .passwords
            .as_ref()
            .ok_or_else(|| Error::UnsupportedGrantType("grant_type not supported".into()))?;
        let username = req.params.require("username")?;
        let password = req.params.require("password")?;
        let default: Vec<String> = Vec::new();
        let scopes = requested_scopes(ctx, client, req, &default)?;
        let subject = verifier
            .verify(username, password)
            .await?
            .ok_or_else(|| Error::InvalidGrant("invalid resource owner credentials".into()))?;
        let now = ctx.clock.now();
        let grant = Grant {
            id: random_token(ctx.rng.as_ref(), 16)?,
            client_id: client.client_id.clone(),
            subject: Some(subject),
            scopes: scopes.clone(),
            auth_time: Some(now),
            acr: None,
            amr: vec!["pwd".into()],
            sid: None,
            nonce: None,
            claims: None,
            created_at: now,
            expires_at: now.saturating_add(ctx.config.refresh_token_ttl),
        };
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        issue_token_response(
            ctx,
            client,
            &grant,
            &scopes,
            IssueOptions {
                refresh_token: wants_refresh(ctx, client),
                id_token: scopes.contains("openid"),
                code: None,
            },
        )
        .await
    }
}
