//! Token revocation (RFC 7009). What a revocation takes down and the deny-list are in
//! [`revocation`].

use std::sync::Arc;

use serde_json::Value;

use crate::client_auth::authenticate_client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::refresh_token::grant_from_refresh_claims;
use crate::issue::REFRESH_TOKEN_TYP;
use crate::model::TokenRequest;
use crate::revocation::{self, RevocationScope};
use crate::secret::TokenHash;
use crate::validate::verify_own_jwt;

/// The revocation endpoint.
#[derive(Debug, Clone)]
pub struct RevocationEndpoint {
    ctx: Arc<Context>,
}

fn not_yours() -> Error {
    Error::UnauthorizedClient("the token was not issued to this client".into())
}

impl RevocationEndpoint {
    /// The endpoint over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        RevocationEndpoint { ctx }
    }

    /// Handles a form body plus `Authorization` header.
    pub async fn handle_form(&self, body: &[u8], authorization: Option<&str>) -> Result<()> {
        let req = TokenRequest::from_form(
            body,
            authorization.map(str::to_owned),
            &self.ctx.config.limits,
        )?;
        self.handle(&req).await
    }

    /// RFC 7009 §2.1: authenticates the client, then revokes `token` if it was issued to that
    /// client. Revoking a refresh token revokes its whole grant (access tokens included);
    /// revoking an access token revokes that token. §2.2: an unknown or invalid token still
    /// gets a success response (`Ok(())`, HTTP 200).
    pub async fn handle(&self, req: &TokenRequest) -> Result<()> {
        let ctx = &self.ctx;
        if ctx.config.revocation_path.is_none() {
            return Err(Error::InvalidRequest("revocation is disabled".into()));
        }
        let client = authenticate_client(ctx, req).await?;
        let token = req.params.require("token")?;
        revocation::check_token_type_hint(req.params.get("token_type_hint"))?;
        let now = ctx.clock.now();
        let hash = TokenHash::of(token);
        if let Some((record, _)) = ctx.grants.token(&hash, now).await? {
            if record.client_id != client.client_id {
                return Err(not_yours());
            }
            match revocation::scope_of(&record.kind) {
                RevocationScope::Family => {
                    revocation::revoke_family(ctx, &record.grant_id, record.expires_at).await?
                }
                RevocationScope::Token => {
                    ctx.grants.revoke_token(&hash).await?;
                }
            }
            return Ok(());
        }
        if !ctx.config.token_persistence.records_revocations() {
            return Ok(());
        }
        // Self-contained tokens: a deny-list entry until they expire.
        if let Ok(claims) = verify_own_jwt(ctx, token, REFRESH_TOKEN_TYP).await {
            let grant = grant_from_refresh_claims(&claims);
            let Some(grant) = grant else { return Ok(()) };
            if grant.client_id != client.client_id {
                return Err(not_yours());
            }
            return revocation::revoke_family(ctx, &grant.id, grant.expires_at).await;
        }
        let access = idforge_jose::claims::typ::ACCESS_TOKEN;
        if let Ok(claims) = verify_own_jwt(ctx, token, access).await {
            if claims.get("client_id").and_then(Value::as_str) != Some(client.client_id.as_str()) {
                return Err(not_yours());
            }
            let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
            return revocation::deny_token(ctx, token, exp).await;
        }
        Ok(())
    }
}
