//! Token introspection (RFC 7662).

use std::sync::Arc;

use serde_json::{json, Map, Value};

use crate::client::authenticate_client;
use crate::error::{Error, Result};
use crate::model::{Scopes, TokenRequest};
use crate::ports::{TokenHash, TokenKind, TokenState};
use crate::provider::Context;
use crate::tokens::{self, resolve_access_token, DENY_GRANT, DENY_TOKEN, REFRESH_TOKEN_TYP};

/// The introspection endpoint.
#[derive(Debug, Clone)]
pub struct IntrospectionEndpoint {
    ctx: Arc<Context>,
}

fn inactive() -> Value {
    // RFC 7662 §2.2: for any invalid token, only `{"active": false}`.
    json!({ "active": false })
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
        let hint = req.params.get("token_type_hint");
        // RFC 7662 §2.1: the hint only orders the search.
        let order: [TokenKind; 2] = if hint == Some("refresh_token") {
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
        let info = match resolve_access_token(&self.ctx, token).await {
            Ok(info) => info,
            Err(Error::InvalidToken(_)) => return Ok(None),
            Err(e) => return Err(e),
        };
        let mut out = Map::new();
        out.insert("active".into(), json!(true));
        out.insert("scope".into(), json!(info.scopes.to_param()));
        out.insert("client_id".into(), json!(info.client_id));
        out.insert("token_type".into(), json!("Bearer"));
        out.insert("exp".into(), json!(info.expires_at));
        out.insert("iat".into(), json!(info.issued_at));
        out.insert("iss".into(), json!(self.ctx.config.issuer));
        if let Some(sub) = &info.subject {
            out.insert("sub".into(), json!(sub));
        }
        if let Some(claims) = &info.jwt_claims {
            for name in ["aud", "jti", "auth_time", "acr"] {
                if let Some(v) = claims.get(name) {
                    out.insert(name.into(), v.clone());
                }
            }
        }
        Ok(Some(Value::Object(out)))
    }

    async fn refresh(&self, token: &str) -> Result<Option<Value>> {
        let ctx = &self.ctx;
        let now = ctx.clock.now();
        if ctx.config.non_persistent {
            let Ok(claims) = tokens::verify_own_jwt(ctx, token, REFRESH_TOKEN_TYP).await else {
                return Ok(None);
            };
            let Some(grant) = tokens::grant_from_refresh_claims(&claims) else {
                return Ok(None);
            };
            if ctx
                .grants
                .is_marked(&TokenHash::namespaced(DENY_TOKEN, token), now)
                .await?
                || ctx
                    .grants
                    .is_marked(&TokenHash::namespaced(DENY_GRANT, &grant.id), now)
                    .await?
            {
                return Ok(None);
            }
            let mut out = json!({
                "active": true,
                "scope": grant.scopes.to_param(),
                "client_id": grant.client_id,
                "token_type": "refresh_token",
                "exp": claims.get("exp"),
                "iat": claims.get("iat"),
                "iss": ctx.config.issuer,
            });
            if let (Some(sub), Some(obj)) = (&grant.subject, out.as_object_mut()) {
                obj.insert("sub".into(), json!(sub));
            }
            return Ok(Some(out));
        }
        let found = ctx.grants.token(&TokenHash::of(token), now).await?;
        let Some((record, grant)) = found
            .filter(|(r, _)| r.kind == TokenKind::RefreshToken && r.state == TokenState::Active)
        else {
            return Ok(None);
        };
        let scopes: &Scopes = &record.scopes;
        let mut out = json!({
            "active": true,
            "scope": scopes.to_param(),
            "client_id": record.client_id,
            "token_type": "refresh_token",
            "exp": record.expires_at,
            "iat": record.issued_at,
            "iss": ctx.config.issuer,
        });
        if let (Some(sub), Some(obj)) = (&grant.subject, out.as_object_mut()) {
            obj.insert("sub".into(), json!(sub));
        }
        Ok(Some(out))
    }
}
