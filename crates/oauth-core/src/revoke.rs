//! Token revocation (RFC 7009).

use std::sync::Arc;

use crate::client::authenticate_client;
use crate::error::{Error, Result};
use crate::model::TokenRequest;
use crate::ports::{TokenHash, TokenKind};
use crate::provider::Context;
use crate::tokens::{self, DENY_GRANT, DENY_TOKEN, REFRESH_TOKEN_TYP};

/// The revocation endpoint.
#[derive(Debug, Clone)]
pub struct RevocationEndpoint {
    ctx: Arc<Context>,
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
        // RFC 7009 §2.2.1: hints we do not know are `unsupported_token_type`.
        match req.params.get("token_type_hint") {
            None | Some("access_token") | Some("refresh_token") => {}
            Some(_) => {
                return Err(Error::UnsupportedTokenType(
                    "unknown token_type_hint".into(),
                ))
            }
        }
        let now = ctx.clock.now();
        let not_yours =
            || Error::UnauthorizedClient("the token was not issued to this client".into());
        let hash = TokenHash::of(token);
        if let Some((record, _)) = ctx.grants.token(&hash, now).await? {
            if record.client_id != client.client_id {
                return Err(not_yours());
            }
            match record.kind {
                TokenKind::RefreshToken => ctx.grants.revoke_grant(&record.grant_id).await?,
                _ => {
                    ctx.grants.revoke_token(&hash).await?;
                }
            }
            return Ok(());
        }
        if !(ctx.config.non_persistent && ctx.config.deny_list) {
            return Ok(());
        }
        // Self-contained tokens: record a deny-list entry until they expire.
        for typ in [idforge_jose::claims::typ::ACCESS_TOKEN, REFRESH_TOKEN_TYP] {
            let Ok(claims) = tokens::verify_own_jwt(ctx, token, typ).await else {
                continue;
            };
            let client_id = claims.get("client_id").and_then(|v| v.as_str());
            if client_id != Some(client.client_id.as_str()) {
                return Err(not_yours());
            }
            let exp = claims.get("exp").and_then(|v| v.as_i64()).unwrap_or(now);
            if typ == REFRESH_TOKEN_TYP {
                if let Some(grant) = tokens::grant_from_refresh_claims(&claims) {
                    ctx.grants
                        .mark(
                            &TokenHash::namespaced(DENY_GRANT, &grant.id),
                            grant.expires_at,
                            now,
                        )
                        .await?;
                }
            } else {
                ctx.grants
                    .mark(&TokenHash::namespaced(DENY_TOKEN, token), exp, now)
                    .await?;
            }
            return Ok(());
        }
        Ok(())
    }
}
