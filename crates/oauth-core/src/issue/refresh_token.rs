//! Refresh tokens: stored 256-bit random strings, or self-contained signed JWTs that carry
//! their grant (self-contained persistence).

use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::records::{Grant, TokenContents, TokenKind, TokenRecord};
use crate::secret::{random_token, TokenHash, SECRET_BYTES};

/// The private `typ` of self-contained refresh tokens, so they are never accepted as access
/// tokens or ID tokens (RFC 8725 §3.11).
pub const REFRESH_TOKEN_TYP: &str = "rt+jwt";

/// The private claim of a self-contained refresh token holding the grant's
/// [`TokenContents`], so they survive refresh.
const CONTENTS_CLAIM: &str = "ext";

/// A new refresh token for `grant`: when tokens are stored, a 256-bit random string and its
/// record (the caller stores it with `insert_token` or `rotate`); when self-contained, a
/// signed JWT carrying the grant and no record.
pub async fn issue_refresh_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
) -> Result<(String, Option<TokenRecord>)> {
    let now = ctx.clock.now();
    let exp = now
        .saturating_add(ctx.config.refresh_token_ttl)
        .min(grant.expires_at);
    if ctx.config.token_persistence.is_self_contained() {
        let claims = self_contained_claims(ctx, client, grant, scopes, now, exp)?;
        let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
        let token = super::sign_own(ctx, REFRESH_TOKEN_TYP, &payload).await?;
        return Ok((token, None));
    }
    let token = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
    let record = TokenRecord::new(
        TokenHash::of(&token),
        TokenKind::RefreshToken,
        grant,
        scopes.clone(),
        now,
        exp,
    );
    Ok((token, Some(record)))
}

fn self_contained_claims(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
    now: i64,
    exp: i64,
) -> Result<Map<String, Value>> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(ctx.config.issuer));
    claims.insert("aud".into(), json!(ctx.config.issuer));
    claims.insert("client_id".into(), json!(client.client_id));
    if let Some(sub) = &grant.subject {
        claims.insert("sub".into(), json!(sub));
    }
    claims.insert("scope".into(), json!(scopes.to_param()));
    claims.insert("gid".into(), json!(grant.id));
    claims.insert("gexp".into(), json!(grant.expires_at));
    claims.insert(
        "jti".into(),
        json!(random_token(ctx.rng.as_ref(), SECRET_BYTES)?),
    );
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(exp));
    if let Some(sid) = &grant.sid {
        claims.insert("sid".into(), json!(sid));
    }
    super::add_auth_context(&mut claims, grant);
    if !grant.contents.is_empty() {
        let contents = serde_json::to_value(&grant.contents).map_err(Error::internal)?;
        claims.insert(CONTENTS_CLAIM.into(), contents);
    }
    Ok(claims)
}

/// The grant a self-contained refresh token describes; `None` if a member is missing or
/// malformed.
pub fn grant_from_refresh_claims(claims: &Map<String, Value>) -> Option<Grant> {
    let s = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_owned);
    let scope = s("scope").unwrap_or_default();
    let contents = match claims.get(CONTENTS_CLAIM) {
        None => TokenContents::default(),
        Some(v) => serde_json::from_value(v.clone()).ok()?,
    };
    let mut grant = Grant::new(
        s("gid")?,
        s("client_id")?,
        Scopes::from_values(scope.split(' ').filter(|v| !v.is_empty())),
        claims.get("iat").and_then(Value::as_i64)?,
        claims.get("gexp").and_then(Value::as_i64)?,
    )
    .with_contents(contents);
    grant.subject = s("sub");
    grant.auth_time = claims.get("auth_time").and_then(Value::as_i64);
    grant.acr = s("acr");
    grant.amr = claims
        .get("amr")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    grant.sid = s("sid");
    Some(grant)
}
