//! The UserInfo endpoint (OIDC Core §5.3).

use std::sync::Arc;

use idforge_jose::{jws, Header};
use serde_json::{json, Value};

use crate::claims::select_claims;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::id_token::encrypt_to_client;
use crate::validate::resolve_access_token;

/// A UserInfo response: JSON, or a signed (and possibly encrypted) JWT when the client
/// registered `userinfo_signed_response_alg`/`userinfo_encrypted_response_alg` (OIDC Core
/// §5.3.2, content type `application/jwt`).
#[derive(Debug, Clone, PartialEq)]
pub enum UserInfoResponse {
    /// `application/json`.
    Json(Value),
    /// `application/jwt`.
    Jwt(String),
}

/// Extracts a bearer token from an `Authorization` header (RFC 6750 §2.1; the scheme is
/// case-insensitive).
pub fn bearer_token(authorization: &str) -> Option<&str> {
    let (scheme, token) = authorization.trim().split_once(' ')?;
    let token = token.trim();
    (scheme.eq_ignore_ascii_case("bearer") && !token.is_empty()).then_some(token)
}

/// What an `Authorization` header says about bearer credentials (RFC 6750 §2.1, §3.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum BearerCredentials<'a> {
    /// No bearer credentials: another scheme (answered with a bare `Bearer` challenge).
    Absent,
    /// The `Bearer` scheme without a well-formed `b64token` (empty, several values, characters
    /// outside the token68 alphabet): RFC 6750 §3.1 `invalid_request`, 400.
    Malformed,
    /// A well-formed token.
    Token(&'a str),
}

/// Parses an `Authorization` header for the `Bearer` scheme (case-insensitive), checking the
/// token against RFC 6750 §2.1 `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" /
/// "/" ) *"="`.
pub fn parse_bearer(authorization: &str) -> BearerCredentials<'_> {
    let header = authorization.trim();
    let (scheme, rest) = match header.split_once(' ') {
        Some((s, r)) => (s, r.trim()),
        None => (header, ""),
    };
    if !scheme.eq_ignore_ascii_case("bearer") {
        return BearerCredentials::Absent;
    }
    let body = rest.trim_end_matches('=');
    let well_formed = !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b));
    if well_formed {
        BearerCredentials::Token(rest)
    } else {
        BearerCredentials::Malformed
    }
}

/// The UserInfo endpoint.
#[derive(Debug, Clone)]
pub struct UserInfoEndpoint {
    ctx: Arc<Context>,
}

impl UserInfoEndpoint {
    /// The endpoint over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        UserInfoEndpoint { ctx }
    }

    /// Answers for the access token `token`. Errors are RFC 6750 §3.1 `invalid_token` (401)
    /// or `insufficient_scope` (403, a token without `openid`).
    pub async fn handle(&self, token: &str) -> Result<UserInfoResponse> {
        let ctx = &self.ctx;
        if ctx.config.userinfo_path.is_none() {
            return Err(Error::InvalidRequest("UserInfo is disabled".into()));
        }
        let info = resolve_access_token(ctx, token).await?;
        // OIDC Core §5.3: UserInfo needs an access token obtained through an OpenID request.
        if !info.scopes.contains("openid") {
            return Err(Error::InsufficientScope(
                "the token lacks the openid scope".into(),
            ));
        }
        let subject = info
            .subject
            .clone()
            .ok_or_else(|| Error::InsufficientScope("the token has no end-user".into()))?;
        let all = ctx
            .claims
            .claims(&subject)
            .await?
            .ok_or_else(|| Error::InvalidToken("the user no longer exists".into()))?;
        let names = info
            .grant
            .claims
            .as_ref()
            .map(|c| c.userinfo.clone())
            .unwrap_or_default();
        let mut claims = select_claims(&all, &info.scopes, &names);
        // OIDC Core §5.3.2: `sub` MUST always be returned.
        claims.insert("sub".into(), json!(subject));
        let client = ctx.clients.client(&info.client_id).await?;
        let Some(client) = client else {
            return Err(Error::InvalidToken("the client no longer exists".into()));
        };
        if client.userinfo_signed_response_alg.is_none()
            && client.userinfo_encrypted_response_alg.is_none()
        {
            return Ok(UserInfoResponse::Json(Value::Object(claims)));
        }
        // OIDC Core §5.3.2: a signed response carries `iss` and `aud`.
        claims.insert("iss".into(), json!(ctx.config.issuer));
        claims.insert("aud".into(), json!(client.client_id));
        let signer = ctx.keys.signer(client.userinfo_signed_response_alg).await?;
        let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
        let jws = jws::sign_compact_with(Header::new().with_typ("JWT"), &payload, signer.as_ref())
            .await?;
        let Some(alg) = client.userinfo_encrypted_response_alg else {
            return Ok(UserInfoResponse::Jwt(jws));
        };
        let enc = client.userinfo_encrypted_response_enc;
        let jwe = encrypt_to_client(ctx, &client, alg, enc, &jws)?;
        Ok(UserInfoResponse::Jwt(jwe))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_parsing() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
        assert_eq!(bearer_token("Bearer "), None);
        assert_eq!(bearer_token(""), None);
    }

    #[test]
    fn malformed_bearer_credentials_are_told_from_absent_ones() {
        use BearerCredentials::*;
        assert_eq!(parse_bearer("Bearer abc-._~+/=="), Token("abc-._~+/=="));
        assert_eq!(parse_bearer("bearer  abc "), Token("abc"));
        assert_eq!(parse_bearer("Basic YTpi"), Absent);
        assert_eq!(parse_bearer(""), Absent);
        for bad in [
            "Bearer",
            "Bearer ",
            "Bearer a b",
            "Bearer a,b",
            "Bearer ==",
            "Bearer a=b",
            "Bearer \"a\"",
        ] {
            assert_eq!(parse_bearer(bad), Malformed, "{bad}");
        }
    }
}
