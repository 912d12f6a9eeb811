//! `refresh_token` (RFC 6749 §6): rotation with reuse detection (RFC 9700 §4.14.2), an optional
//! grace window, scope narrowing. Stored refresh tokens rotate through the store's atomic
//! `rotate`; self-contained ones through the deny-list ([`revocation`]).

use async_trait::async_trait;
use serde_json::Value;

use crate::client::Client;
use crate::config::{grant_type, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::refresh_token::grant_from_refresh_claims;
use crate::issue::{issue_refresh_token, issue_token_response, IssueOptions, REFRESH_TOKEN_TYP};
use crate::model::{Scopes, TokenRequest, TokenResponse};
use crate::records::{Grant, RotateOutcome, TokenKind, TokenRecord, TokenState};
use crate::revocation;
use crate::secret::{random_token, TokenHash, SECRET_BYTES};
use crate::validate::verify_own_jwt;

use super::GrantHandler;

/// The `refresh_token` grant handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct RefreshTokenGrant;

fn invalid() -> Error {
    Error::InvalidGrant("the refresh token is invalid, expired or revoked".into())
}

/// RFC 6749 §6: the scopes of the refreshed access token — the original ones, or the requested
/// `scope`, which "MUST NOT include any scope not originally granted".
pub fn narrowed(config: &Config, req: &TokenRequest, original: &Scopes) -> Result<Scopes> {
    match req.params.get("scope") {
        None => Ok(original.clone()),
        Some(s) => {
            let scopes = Scopes::parse(s, &config.limits)?;
            if !scopes.is_subset_of(original) {
                return Err(Error::InvalidScope(
                    "scope exceeds the original grant".into(),
                ));
            }
            Ok(scopes)
        }
    }
}

/// RFC 6749 §10.4: a refresh token is bound to the client it was issued to, and only a refresh
/// token is one.
pub fn check_refresh_record(record: &TokenRecord, client: &Client) -> Result<()> {
    if record.kind != TokenKind::RefreshToken || record.client_id != client.client_id {
        return Err(invalid());
    }
    Ok(())
}

/// The grant tokens are issued from on refresh: the original, without the authorization
/// request's `nonce` (OIDC Core §12.2: a refreshed ID token has no `nonce`).
fn refreshed(grant: Grant) -> Grant {
    Grant {
        nonce: None,
        ..grant
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
        let now = ctx.clock.now();
        if ctx.config.token_persistence.is_self_contained() && looks_self_contained(token) {
            return handle_self_contained(ctx, client, req, token, now).await;
        }
        let hash = TokenHash::of(token);
        let (record, _) = ctx.grants.token(&hash, now).await?.ok_or_else(invalid)?;
        check_refresh_record(&record, client)?;
        let scopes = narrowed(&ctx.config, req, &record.scopes)?;
        let (grant, new_refresh) = if ctx.config.refresh_token_rotation {
            let new_token = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
            let mut new_record = record.clone();
            new_record.hash = TokenHash::of(&new_token);
            new_record.issued_at = now;
            new_record.state = TokenState::Active;
            let grace = ctx.config.refresh_token_grace_seconds;
            match ctx.grants.rotate(&hash, new_record, now, grace).await? {
                RotateOutcome::Rotated(_, grant) => (grant, Some(new_token)),
                RotateOutcome::Reused(old) => {
                    revocation::revoke_family(ctx, &old.grant_id, old.expires_at).await?;
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
        let options = IssueOptions::new().id_token(scopes.contains("openid"));
        let grant = refreshed(grant);
        let mut response = issue_token_response(ctx, client, &grant, &scopes, options).await?;
        response.refresh_token = new_refresh;
        Ok(response)
    }
}

/// Self-contained refresh tokens are JWTs; an opaque one (an opaque-format client's) is stored.
fn looks_self_contained(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

/// The refresh token is a signed JWT carrying its grant; rotation and reuse detection use the
/// deny-list (without it, a refresh token stays valid until it expires and reuse cannot be
/// detected).
async fn handle_self_contained(
    ctx: &Context,
    client: &Client,
    req: &TokenRequest,
    token: &str,
    now: i64,
) -> Result<TokenResponse> {
    let claims = verify_own_jwt(ctx, token, REFRESH_TOKEN_TYP)
        .await
        .map_err(|_| invalid())?;
    let grant = grant_from_refresh_claims(&claims).ok_or_else(invalid)?;
    if grant.client_id != client.client_id {
        return Err(invalid());
    }
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
    if revocation::is_family_denied(ctx, &grant.id, now).await? {
        return Err(invalid());
    }
    if ctx.config.refresh_token_rotation
        && !revocation::use_refresh_token_once(ctx, token, exp, now).await?
    {
        // Reuse of a rotated token: revoke the whole family.
        revocation::revoke_family(ctx, &grant.id, grant.expires_at).await?;
        return Err(invalid());
    }
    let scopes = narrowed(&ctx.config, req, &grant.scopes)?;
    let options = IssueOptions::new().id_token(scopes.contains("openid"));
    let mut response = issue_token_response(ctx, client, &grant, &scopes, options).await?;
    if ctx.config.refresh_token_rotation {
        let (next, _) = issue_refresh_token(ctx, client, &grant, &grant.scopes).await?;
        response.refresh_token = Some(next);
    }
    Ok(response)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(scope: Option<&str>) -> TokenRequest {
        match scope {
            Some(s) => crate::grant::test_request(&[("scope", s)]),
            None => crate::grant::test_request(&[]),
        }
    }

    #[test]
    fn scope_may_only_narrow() {
        let cfg = Config::new("https://op.example");
        let original = Scopes::from_values(["openid", "email", "profile"]);
        assert_eq!(narrowed(&cfg, &req(None), &original).unwrap(), original);
        assert_eq!(
            narrowed(&cfg, &req(Some("email")), &original)
                .unwrap()
                .values(),
            ["email"]
        );
        let e = narrowed(&cfg, &req(Some("email phone")), &original).unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
    }

    #[test]
    fn refresh_token_is_bound_to_client_and_kind() {
        let grant = Grant::new("g", "app", Scopes::default(), 0, 100);
        let r = TokenRecord::new(
            TokenHash::of("rt"),
            TokenKind::RefreshToken,
            &grant,
            Scopes::default(),
            0,
            100,
        );
        assert!(check_refresh_record(&r, &Client::public("app")).is_ok());
        assert!(check_refresh_record(&r, &Client::public("other")).is_err());
        let mut at = r.clone();
        at.kind = TokenKind::AccessToken;
        assert!(check_refresh_record(&at, &Client::public("app")).is_err());
    }

    #[test]
    fn refreshed_tokens_have_no_nonce() {
        let mut grant = Grant::new("g", "app", Scopes::default(), 0, 100);
        grant.nonce = Some("n".into());
        assert_eq!(refreshed(grant).nonce, None);
    }
}
