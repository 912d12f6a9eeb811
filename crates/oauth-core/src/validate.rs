//! Validating what the provider issued: its own JWTs (`id_token_hint`, RFC 8693
//! `subject_token`, self-contained refresh tokens) and presented access tokens, for this crate's
//! UserInfo and introspection endpoints and for resource endpoints of other crates (the OID4VCI
//! credential endpoint, the organization-switch grant).

use idforge_jose::{JwsAlgorithm, JwsPolicy, Jwt};
use serde_json::{Map, Value};

use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::records::{
    Grant, TokenContents, TokenKind, TokenState, TokenType, ACCESS_TOKEN_OWN_CLAIMS,
};
use crate::revocation;
use crate::secret::TokenHash;

/// Algorithms the provider's own tokens may carry (whatever its key store signs with).
const OWN_ALGS: [JwsAlgorithm; 13] = JwsAlgorithm::ALL;

/// Longest token accepted for resolution; longer ones are refused before any work.
const MAX_TOKEN_BYTES: usize = 16 * 1024;

/// Verifies one of the provider's own JWTs: signature by one of its keys, `typ` (RFC 8725
/// §3.11, so one kind of token is never taken for another), `iss`, and `exp`/`nbf` with no
/// leeway. Every failure is `invalid_token` without detail.
pub async fn verify_own_jwt(ctx: &Context, token: &str, typ: &str) -> Result<Map<String, Value>> {
    let jwt = own_jwt(ctx, token).await?;
    let validation = idforge_jose::ClaimsValidation::default()
        .issuer(ctx.config.issuer.clone())
        .typ(typ)
        .leeway(0);
    validation
        .validate(&jwt.header, &jwt.claims, ctx.clock.as_ref())
        .map_err(|_| invalid_token())?;
    Ok(jwt.claims)
}

/// A JWT whose signature is one of the provider's own keys, with no claim checked yet (an
/// `id_token_hint` may be expired, OIDC Core §3.1.2.1; [`verify_own_jwt`] checks the rest).
pub async fn own_jwt(ctx: &Context, token: &str) -> Result<Jwt> {
    if token.len() > MAX_TOKEN_BYTES {
        return Err(invalid_token());
    }
    let keys = ctx.keys.verification_keys().await?;
    let policy = JwsPolicy::new(OWN_ALGS);
    let verified = policy
        .verify_compact(token, keys.as_ref())
        .map_err(|_| invalid_token())?;
    let claims = idforge_jose::json::parse_object(
        &verified.payload,
        policy.limits.max_json_depth.max(32),
        "JWT claims",
    )
    .map_err(|_| invalid_token())?;
    Ok(Jwt {
        header: verified.header,
        claims,
    })
}

/// RFC 7519 §4.1.3: whether `aud` (a string or an array of strings) names one of `accepted`;
/// `None` when the claim is absent, so each caller decides whether it is required.
pub fn audience_names(claims: &Map<String, Value>, accepted: &[&str]) -> Option<bool> {
    match claims.get("aud")? {
        Value::String(a) => Some(accepted.contains(&a.as_str())),
        Value::Array(list) => Some(
            list.iter()
                .any(|a| a.as_str().is_some_and(|a| accepted.contains(&a))),
        ),
        _ => Some(false),
    }
}

/// What a presented access token resolved to.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccessTokenInfo {
    /// The client it was issued to.
    pub client_id: String,
    /// The resource owner, if any.
    pub subject: Option<String>,
    /// Its scopes.
    pub scopes: Scopes,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Its grant. For a self-contained token, rebuilt from the token's claims (audience and
    /// extra claims included); otherwise the stored grant.
    pub grant: Grant,
    /// The JWT claims, for JWT access tokens.
    pub jwt_claims: Option<Map<String, Value>>,
    /// Its type.
    pub token_type: TokenType,
}

impl AccessTokenInfo {
    /// The audience values (`aud`): the grant's, or the issuer when it sets none.
    pub fn audience<'a>(&'a self, ctx: &'a Context) -> Vec<&'a str> {
        if self.grant.contents.audience.is_empty() {
            vec![ctx.config.issuer.as_str()]
        } else {
            self.grant
                .contents
                .audience
                .iter()
                .map(String::as_str)
                .collect()
        }
    }

    /// The extra claims the grant added (`act`, `authorization_details`, `cnf`, ...).
    pub fn extra_claims(&self) -> &Map<String, Value> {
        self.grant.contents.access_token_claims()
    }
}

fn invalid_token() -> Error {
    Error::InvalidToken("the access token is invalid, expired or revoked".into())
}

fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

/// Resolves a presented access token, JWT or opaque, stored or self-contained, to its grant,
/// claims and scopes; a revoked one (deny-list included) is `invalid_token` (RFC 6750 §3.1).
pub async fn resolve_access_token(ctx: &Context, token: &str) -> Result<AccessTokenInfo> {
    let now = ctx.clock.now();
    if token.is_empty() || token.len() > MAX_TOKEN_BYTES {
        return Err(invalid_token());
    }
    let jwt_claims = if looks_like_jwt(token) {
        let claims = verify_own_jwt(ctx, token, idforge_jose::claims::typ::ACCESS_TOKEN).await?;
        if claims.contains_key("gid") {
            // Self-contained: only the deny-list can say no.
            let info = self_contained_info(&ctx.config.issuer, claims, now)?;
            if revocation::is_denied(ctx, token, &info.grant.id, now).await? {
                return Err(invalid_token());
            }
            return Ok(info);
        }
        Some(claims)
    } else {
        None
    };
    let (record, grant) = ctx
        .grants
        .token(&TokenHash::of(token), now)
        .await?
        .filter(|(r, _)| r.kind == TokenKind::AccessToken && r.state == TokenState::Active)
        .ok_or_else(invalid_token)?;
    Ok(AccessTokenInfo {
        client_id: record.client_id,
        subject: grant.subject.clone(),
        scopes: record.scopes,
        issued_at: record.issued_at,
        expires_at: record.expires_at,
        token_type: grant.contents.token_type,
        grant,
        jwt_claims,
    })
}

/// The grant a self-contained JWT access token describes (a pure function of its verified
/// claims): audience values other than the issuer and every claim the provider does not own
/// come back as the grant's [`TokenContents`].
fn self_contained_info(
    issuer: &str,
    claims: Map<String, Value>,
    now: i64,
) -> Result<AccessTokenInfo> {
    let s = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_owned);
    let scopes = match claims.get("scope") {
        Some(Value::String(v)) => Scopes::from_values(v.split(' ').filter(|v| !v.is_empty())),
        Some(Value::Array(a)) => Scopes::from_values(a.iter().filter_map(|v| v.as_str())),
        _ => Scopes::default(),
    };
    let client_id = s("client_id").ok_or_else(invalid_token)?;
    let gid = s("gid").ok_or_else(invalid_token)?;
    let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
    let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
    // RFC 9068 §2.2: `sub` is the client id when there is no resource owner; a token with
    // `auth_time` had a user even if the user's id equals the client's.
    let subject = s("sub").filter(|sub| *sub != client_id || claims.contains_key("auth_time"));
    let mut contents = TokenContents::default();
    let audience: Vec<String> = match claims.get("aud") {
        Some(Value::String(a)) => vec![a.clone()],
        Some(Value::Array(list)) => list
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    if audience != [issuer] {
        for aud in audience {
            contents = contents.with_audience(aud);
        }
    }
    for (name, value) in &claims {
        if !ACCESS_TOKEN_OWN_CLAIMS.contains(&name.as_str()) {
            // Cannot fail: the owned names were just skipped.
            contents
                .add_access_token_claim(name.clone(), value.clone())
                .map_err(Error::from)?;
        }
    }
    let mut grant =
        Grant::new(gid, client_id.clone(), scopes.clone(), iat, exp).with_contents(contents);
    grant.subject = subject.clone();
    grant.auth_time = claims.get("auth_time").and_then(Value::as_i64);
    grant.acr = s("acr");
    Ok(AccessTokenInfo {
        client_id,
        subject,
        scopes,
        issued_at: iat,
        expires_at: exp,
        token_type: TokenType::Bearer,
        grant,
        jwt_claims: Some(claims),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn audience_claim_forms() {
        let c = claims(json!({"aud": ["a", "b"]}));
        assert_eq!(audience_names(&c, &["b"]), Some(true));
        assert_eq!(audience_names(&c, &["c"]), Some(false));
        assert_eq!(
            audience_names(&claims(json!({"aud": "a"})), &["a"]),
            Some(true)
        );
        assert_eq!(
            audience_names(&claims(json!({"aud": 7})), &["a"]),
            Some(false)
        );
        assert_eq!(audience_names(&claims(json!({})), &["a"]), None);
    }

    #[test]
    fn self_contained_token_gives_back_its_grant_contents() {
        let c = claims(json!({
            "iss": "https://op", "sub": "alice", "aud": ["https://rs1", "https://rs2"],
            "client_id": "c", "iat": 10, "exp": 70, "jti": "j", "scope": "read write",
            "gid": "g1", "auth_time": 5, "act": {"sub": "agent"}, "org_id": "o1"
        }));
        let info = self_contained_info("https://op", c, 20).unwrap();
        assert_eq!(info.subject.as_deref(), Some("alice"));
        assert_eq!(info.grant.id, "g1");
        assert_eq!(info.grant.contents.audience, ["https://rs1", "https://rs2"]);
        assert_eq!(info.extra_claims()["act"]["sub"], "agent");
        assert_eq!(info.extra_claims()["org_id"], "o1");
        assert!(!info.extra_claims().contains_key("jti"));
        assert_eq!(info.scopes.values(), ["read", "write"]);
        assert_eq!((info.issued_at, info.expires_at), (10, 70));
    }

    #[test]
    fn self_contained_client_token_has_no_subject_and_issuer_audience_is_default() {
        let c = claims(json!({
            "iss": "https://op", "sub": "c", "aud": "https://op", "client_id": "c",
            "iat": 10, "exp": 70, "jti": "j", "scope": ["a"], "gid": "g"
        }));
        let info = self_contained_info("https://op", c, 20).unwrap();
        assert_eq!(info.subject, None);
        assert!(info.grant.contents.audience.is_empty());
        assert_eq!(info.scopes.values(), ["a"]);
        let no_client = claims(json!({"gid": "g"}));
        assert!(self_contained_info("https://op", no_client, 0).is_err());
    }
}
