//! Access tokens: RFC 9068 JWTs or opaque 256-bit strings.

use crate::client::Client;
use crate::config::AccessTokenFormat;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::records::{Grant, TokenKind, TokenRecord, TokenType, ACCESS_TOKEN_OWN_CLAIMS};
use crate::secret::{random_token, TokenHash, SECRET_BYTES};

/// The `scope` claim: RFC 9068 §2.2.3's space-separated string, or (WSO2-style option, per
/// client or globally) a JSON array.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ScopeClaim<'a> {
    String(String),
    Array(&'a [String]),
}

/// RFC 7519 §4.1.3: `aud` is one string or an array of strings.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum AudienceClaim<'a> {
    One(&'a str),
    Many(&'a [String]),
}

/// RFC 9068 §2.2 claims, serialized without building a map.
#[derive(serde::Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    exp: i64,
    aud: AudienceClaim<'a>,
    sub: &'a str,
    client_id: &'a str,
    iat: i64,
    jti: &'a str,
    scope: ScopeClaim<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    auth_time: Option<i64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    acr: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    amr: Option<&'a [String]>,
    /// Self-contained mode: the grant id, so the family can be denied as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    gid: Option<&'a str>,
}

/// An issued access token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuedAccessToken {
    /// The token.
    pub token: String,
    /// Its lifetime in seconds (`expires_in`).
    pub expires_in: i64,
    /// Its type (`token_type`).
    pub token_type: TokenType,
}

/// Whether tokens of `client` are stored: always, except JWTs when tokens are self-contained.
pub fn persists(ctx: &Context, client: &Client) -> bool {
    !ctx.config.token_persistence.is_self_contained()
        || format_of(ctx, client) == AccessTokenFormat::Opaque
}

fn format_of(ctx: &Context, client: &Client) -> AccessTokenFormat {
    client
        .access_token_format
        .unwrap_or(ctx.config.access_token_format)
}

/// When an access token issued at `now` for `grant` expires: the grant's own lifetime if it
/// sets one, else the configured one; a stored token never outlives its grant.
pub fn access_token_expiry(ctx: &Context, grant: &Grant, now: i64, stored: bool) -> i64 {
    let ttl = grant
        .contents
        .access_token_ttl
        .unwrap_or(ctx.config.access_token_ttl);
    let exp = now.saturating_add(ttl);
    if stored {
        exp.min(grant.expires_at)
    } else {
        exp
    }
}

/// Issues an access token for `grant` with `scopes`, stored unless self-contained.
///
/// JWT format follows RFC 9068 §2.2: `iss exp aud sub client_id iat jti` and `scope`, header
/// `typ: at+jwt` (§2.1); `sub` is the client id when there is no resource owner (§2.2); `aud`
/// is the grant's audience ([`TokenContents::audience`](crate::TokenContents)) or else the
/// issuer. The grant's extra claims are added, never over the provider's own. Opaque tokens
/// carry 256 bits from the injected RNG.
pub async fn issue_access_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
) -> Result<IssuedAccessToken> {
    let (issued, record) = mint_access_token(ctx, client, grant, scopes).await?;
    if let Some(record) = record {
        ctx.grants.insert_token(record).await?;
    }
    Ok(issued)
}

/// [`issue_access_token`] without the store write: the token and, when it is stored, the
/// record the caller inserts (the token response decides what a refused insert means).
pub(crate) async fn mint_access_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
) -> Result<(IssuedAccessToken, Option<TokenRecord>)> {
    let now = ctx.clock.now();
    let stored = persists(ctx, client);
    let exp = access_token_expiry(ctx, grant, now, stored);
    let token = match format_of(ctx, client) {
        AccessTokenFormat::Opaque => random_token(ctx.rng.as_ref(), SECRET_BYTES)?,
        AccessTokenFormat::Jwt => {
            let payload = jwt_payload(ctx, client, grant, scopes, now, exp, !stored)?;
            super::sign_own(ctx, idforge_jose::claims::typ::ACCESS_TOKEN, &payload).await?
        }
    };
    let record = stored.then(|| {
        TokenRecord::new(
            TokenHash::of(&token),
            TokenKind::AccessToken,
            grant,
            scopes.clone(),
            now,
            exp,
        )
    });
    let issued = IssuedAccessToken {
        token,
        expires_in: exp - now,
        token_type: grant.contents.token_type,
    };
    Ok((issued, record))
}

/// The JWT claims as JSON bytes: the provider's claims, then the grant's extra claims that do
/// not collide with them.
fn jwt_payload(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
    now: i64,
    exp: i64,
    self_contained: bool,
) -> Result<Vec<u8>> {
    let jti = random_token(ctx.rng.as_ref(), 16)?;
    let scope = if client.scope_as_array.unwrap_or(ctx.config.scope_as_array) {
        ScopeClaim::Array(scopes.values())
    } else {
        ScopeClaim::String(scopes.to_param())
    };
    let aud = match grant.contents.audience.as_slice() {
        [] => AudienceClaim::One(&ctx.config.issuer),
        [one] => AudienceClaim::One(one),
        many => AudienceClaim::Many(many),
    };
    let claims = AccessTokenClaims {
        iss: &ctx.config.issuer,
        exp,
        aud,
        sub: grant.subject.as_deref().unwrap_or(&client.client_id),
        client_id: &client.client_id,
        iat: now,
        jti: &jti,
        scope,
        auth_time: grant.auth_time,
        acr: grant.acr.as_deref(),
        amr: (!grant.amr.is_empty()).then_some(grant.amr.as_slice()),
        gid: self_contained.then_some(grant.id.as_str()),
    };
    let extra = grant.contents.access_token_claims();
    if extra.is_empty() {
        // The common case writes the struct directly, without a map.
        return serde_json::to_vec(&claims).map_err(Error::internal);
    }
    // The extra claims are appended to the serialized object, without building a map: every
    // member the struct writes is one of `ACCESS_TOKEN_OWN_CLAIMS`, which are skipped here
    // (`TokenContents` refuses them already; a record read back from a store is checked
    // again), so no member name repeats and the provider's claims always win.
    let mut out = serde_json::to_vec(&claims).map_err(Error::internal)?;
    if out.pop() != Some(b'}') {
        return Err(Error::internal("access token claims"));
    }
    for (name, value) in extra {
        if ACCESS_TOKEN_OWN_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        out.push(b',');
        serde_json::to_writer(&mut out, name).map_err(Error::internal)?;
        out.push(b':');
        serde_json::to_writer(&mut out, value).map_err(Error::internal)?;
    }
    out.push(b'}');
    Ok(out)
}
