//! Token introspection (RFC 7662).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::client_auth::authenticate_client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::refresh_token::grant_from_refresh_claims;
use crate::issue::REFRESH_TOKEN_TYP;
use crate::model::{Scopes, TokenRequest};
use crate::records::{Grant, TokenKind, TokenState};
use crate::revocation;
use crate::secret::TokenHash;
use crate::validate::{resolve_access_token, verify_own_jwt, AccessTokenInfo};

/// The introspection endpoint.
#[derive(Debug, Clone)]
pub struct IntrospectionEndpoint {
    ctx: Arc<Context>,
}

fn inactive() -> Value {
    // RFC 7662 §2.2: for any invalid token, only `{"active": false}`.
    json!({ "active": false })
}

/// The RFC 7662 §2.2 members of an active token, then the grant's extension members (RFC 7662
/// §2.2 allows them: `act`, `authorization_details`, `cnf`, organization claims), which never
/// replace a registered one.
fn active_response(
    issuer: &str,
    token_type: &str,
    client_id: &str,
    scopes: &Scopes,
    (iat, exp): (i64, i64),
    grant: &Grant,
) -> Value {
    let mut out = Map::new();
    out.insert("active".into(), json!(true));
    out.insert("scope".into(), json!(scopes.to_param()));
    out.insert("client_id".into(), json!(client_id));
    out.insert("token_type".into(), json!(token_type));
    out.insert("exp".into(), json!(exp));
    out.insert("iat".into(), json!(iat));
    out.insert("iss".into(), json!(issuer));
    if let Some(sub) = &grant.subject {
        out.insert("sub".into(), json!(sub));
    }
    let aud = match grant.contents.audience.as_slice() {
        [] => json!(issuer),
        [one] => json!(one),
        many => json!(many),
    };
    out.insert("aud".into(), aud);
    if let Some(t) = grant.auth_time {
        out.insert("auth_time".into(), json!(t));
    }
    if let Some(acr) = &grant.acr {
        out.insert("acr".into(), json!(acr));
    }
    for (name, value) in grant.contents.access_token_claims() {
        out.entry(name.clone()).or_insert_with(|| value.clone());
    }
    Value::Object(out)
}

/// The response for a resolved access token.
pub fn access_token_response(issuer: &str, info: &AccessTokenInfo) -> Value {
    let mut v = active_response(
        issuer,
        info.token_type.name(),
        &info.client_id,
        &info.scopes,
        (info.issued_at, info.expires_at),
        &info.grant,
    );
    if let (Some(claims), Value::Object(out)) = (&info.jwt_claims, &mut v) {
        if let Some(jti) = claims.get("jti") {
            out.insert("jti".into(), jti.clone());
        }
    }
    v
}

impl IntrospectionEndpoint {
    /// The endpoint over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        IntrospectionEndpoint { ctx }
    }

    /// Handles a form body plus `Authorization` header.
    pub async fn handle_form(&self, body: &[u8], authorization: Option<&str>) -> Result<Value> {
        let req = TokenRequest::from_form(
            body,
            authorization.map(str::to_owned),
            &self.ctx.config.limits,
        )?;
        self.handle(&req).await
    }

    /// RFC 7662 §2.1: the caller authenticates (public clients may not introspect), sends
    /// `token` and an optional `token_type_hint`; the answer is the §2.2 JSON.
    pub async fn handle(&self, req: &TokenRequest) -> Result<Value> {
        let ctx = &self.ctx;
        if ctx.config.introspection_path.is_none() {
            return Err(Error::InvalidRequest("introspection is disabled".into()));
        }
        let client = authenticate_client(ctx, req).await?;
        if client.is_public() {
            return Err(Error::UnauthorizedClient(
                "public clients may not introspect".into(),
            ));
        }
        let token = req.params.require("token")?;
        // RFC 7662 §2.1: the hint only orders the search.
        let refresh_first = req.params.get("token_type_hint") == Some("refresh_token");
        let order = if refresh_first {
            [TokenKind::RefreshToken, TokenKind::AccessToken]
        } else {
            [TokenKind::AccessToken, TokenKind::RefreshToken]
        };
        for kind in order {
            let found = match kind {
                TokenKind::AccessToken => self.access(token).await?,
                _ => self.refresh(token).await?,
            };
            if let Some(v) = found {
                return Ok(v);
            }
        }
        Ok(inactive())
    }

    async fn access(&self, token: &str) -> Result<Option<Value>> {
        match resolve_access_token(&self.ctx, token).await {
            Ok(info) => Ok(Some(access_token_response(&self.ctx.config.issuer, &info))),
            Err(Error::InvalidToken(_)) => Ok(None),
            Err(e) => Err(e),
        }
    }

    async fn refresh(&self, token: &str) -> Result<Option<Value>> {
        let ctx = &self.ctx;
        let now = ctx.clock.now();
        let issuer = &ctx.config.issuer;
        if ctx.config.token_persistence.is_self_contained() {
            if let Ok(claims) = verify_own_jwt(ctx, token, REFRESH_TOKEN_TYP).await {
                let Some(grant) = grant_from_refresh_claims(&claims) else {
                    return Ok(None);
                };
                if revocation::is_denied(ctx, token, &grant.id, now).await? {
                    return Ok(None);
                }
                let int = |n: &str| claims.get(n).and_then(Value::as_i64).unwrap_or(now);
                let times = (int("iat"), int("exp"));
                let v = active_response(
                    issuer,
                    "refresh_token",
                    &grant.client_id,
                    &grant.scopes,
                    times,
                    &grant,
                );
                return Ok(Some(v));
            }
        }
        let found = ctx.grants.token(&TokenHash::of(token), now).await?;
        let Some((record, grant)) = found
            .filter(|(r, _)| r.kind == TokenKind::RefreshToken && r.state == TokenState::Active)
        else {
            return Ok(None);
        };
        Ok(Some(active_response(
            issuer,
            "refresh_token",
            &record.client_id,
            &record.scopes,
            (record.issued_at, record.expires_at),
            &grant,
        )))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::records::TokenContents;

    #[test]
    fn extension_members_never_replace_registered_ones() {
        let mut contents = TokenContents::new().with_audience("https://rs");
        contents
            .add_access_token_claim("act", json!({"sub": "agent"}))
            .unwrap();
        contents
            .add_access_token_claim("token_type", json!("forged"))
            .unwrap();
        let grant = Grant::new("g", "c", Scopes::from_values(["a"]), 1, 99)
            .with_subject("alice")
            .with_contents(contents);
        let v = active_response("https://op", "Bearer", "c", &grant.scopes, (1, 9), &grant);
        assert_eq!(v["active"], true);
        assert_eq!(v["aud"], "https://rs");
        assert_eq!(v["act"]["sub"], "agent");
        assert_eq!(v["token_type"], "Bearer");
        assert_eq!(v["sub"], "alice");
        assert_eq!((v["iat"].as_i64(), v["exp"].as_i64()), (Some(1), Some(9)));
    }

    #[test]
    fn audience_defaults_to_the_issuer() {
        let grant = Grant::new("g", "c", Scopes::default(), 1, 99);
        let v = active_response("https://op", "Bearer", "c", &grant.scopes, (1, 9), &grant);
        assert_eq!(v["aud"], "https://op");
        assert!(v.get("sub").is_none());
    }
}
