//! Issuing and resolving tokens: RFC 9068 JWT or opaque access tokens, refresh tokens (stored
//! or self-contained), and OpenID Connect ID tokens.

use idforge_jose::{jws, Header, JwsAlgorithm, JwsPolicy};
use idforge_jwe::{nested::EncryptionPolicy, ContentEncryption, KeyManagementAlgorithm};
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::config::AccessTokenFormat;
use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::ports::{random_token, Grant, TokenHash, TokenKind, TokenRecord, TokenState};
use crate::provider::Context;

/// The private `typ` of self-contained refresh tokens (non-persistent mode), so they are never
/// accepted as access tokens or ID tokens (RFC 8725 §3.11).
pub const REFRESH_TOKEN_TYP: &str = "rt+jwt";

/// Bytes of entropy of opaque access tokens and authorization codes (256 bits).
pub(crate) const SECRET_BYTES: usize = 32;

/// Namespaces of deny-list marks.
pub(crate) const DENY_TOKEN: &str = "deny-token";
pub(crate) const DENY_GRANT: &str = "deny-grant";

/// Algorithms the provider's own tokens may carry (whatever its key store signs with).
const OWN_ALGS: [JwsAlgorithm; 13] = JwsAlgorithm::ALL;

/// The `scope` claim: RFC 9068 §2.2.3's space-separated string, or (WSO2-style option, per
/// client or globally) a JSON array.
#[derive(serde::Serialize)]
#[serde(untagged)]
enum ScopeClaim<'a> {
    String(String),
    Array(&'a [String]),
}

/// RFC 9068 §2.2 claims, serialized without building a map.
#[derive(serde::Serialize)]
struct AccessTokenClaims<'a> {
    iss: &'a str,
    exp: i64,
    aud: &'a str,
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
    /// Non-persistent mode: the grant id, so the family can be denied as a whole.
    #[serde(skip_serializing_if = "Option::is_none")]
    gid: Option<&'a str>,
}

/// An issued access token.
#[derive(Debug, Clone)]
pub(crate) struct IssuedToken {
    pub token: String,
    pub expires_in: i64,
}

async fn sign(
    ctx: &Context,
    alg: Option<JwsAlgorithm>,
    typ: &str,
    claims: &Map<String, Value>,
) -> Result<(String, JwsAlgorithm)> {
    let signer = ctx.keys.signer(alg).await?;
    let payload = serde_json::to_vec(claims).map_err(Error::internal)?;
    let token =
        jws::sign_compact_with(Header::new().with_typ(typ), &payload, signer.as_ref()).await?;
    Ok((token, signer.algorithm()))
}

fn add_auth_context(claims: &mut Map<String, Value>, grant: &Grant) {
    if let Some(t) = grant.auth_time {
        claims.insert("auth_time".into(), json!(t));
    }
    if let Some(acr) = &grant.acr {
        claims.insert("acr".into(), json!(acr));
    }
    if !grant.amr.is_empty() {
        claims.insert("amr".into(), json!(grant.amr));
    }
}

/// Issues an access token for `grant` with `scopes`.
///
/// JWT format follows RFC 9068 §2.2: `iss exp aud sub client_id iat jti` and `scope`, header
/// `typ: at+jwt` (§2.1); `sub` is the client id when there is no resource owner (§2.2). Opaque
/// tokens carry 256 bits from the injected RNG. Both are stored by hash, except JWTs in
/// non-persistent mode, which are self-contained.
pub(crate) async fn issue_access_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
) -> Result<IssuedToken> {
    let now = ctx.clock.now();
    let format = client
        .access_token_format
        .unwrap_or(ctx.config.access_token_format);
    let persist = format == AccessTokenFormat::Opaque || !ctx.config.non_persistent;
    let mut exp = now.saturating_add(ctx.config.access_token_ttl);
    if persist {
        exp = exp.min(grant.expires_at);
    }
    let token = match format {
        AccessTokenFormat::Opaque => random_token(ctx.rng.as_ref(), SECRET_BYTES)?,
        AccessTokenFormat::Jwt => {
            let jti = random_token(ctx.rng.as_ref(), 16)?;
            let array;
            let scope = if client.scope_as_array.unwrap_or(ctx.config.scope_as_array) {
                array = scopes.values();
                ScopeClaim::Array(array)
            } else {
                ScopeClaim::String(scopes.to_param())
            };
            let claims = AccessTokenClaims {
                iss: &ctx.config.issuer,
                exp,
                aud: &ctx.config.issuer,
                sub: grant.subject.as_deref().unwrap_or(&client.client_id),
                client_id: &client.client_id,
                iat: now,
                jti: &jti,
                scope,
                auth_time: grant.auth_time,
                acr: grant.acr.as_deref(),
                amr: (!grant.amr.is_empty()).then_some(grant.amr.as_slice()),
                gid: ctx.config.non_persistent.then_some(grant.id.as_str()),
            };
            let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
            let signer = ctx.keys.signer(None).await?;
            jws::sign_compact_with(
                Header::new().with_typ(idforge_jose::claims::typ::ACCESS_TOKEN),
                &payload,
                signer.as_ref(),
            )
            .await?
        }
    };
    if persist {
        ctx.grants
            .insert_token(TokenRecord {
                hash: TokenHash::of(&token),
                kind: TokenKind::AccessToken,
                grant_id: grant.id.clone(),
                client_id: client.client_id.clone(),
                scopes: scopes.clone(),
                issued_at: now,
                expires_at: exp,
                code: None,
                state: TokenState::Active,
            })
            .await?;
    }
    Ok(IssuedToken {
        token,
        expires_in: exp - now,
    })
}

/// A new refresh token: in persistent mode a 256-bit random string and its record (the caller
/// stores it with `insert_token` or `rotate`); in non-persistent mode a signed self-contained
/// JWT and no record.
pub(crate) async fn new_refresh_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
) -> Result<(String, Option<TokenRecord>)> {
    let now = ctx.clock.now();
    if ctx.config.non_persistent {
        let exp = now
            .saturating_add(ctx.config.refresh_token_ttl)
            .min(grant.expires_at);
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
        add_auth_context(&mut claims, grant);
        let (token, _) = sign(ctx, None, REFRESH_TOKEN_TYP, &claims).await?;
        return Ok((token, None));
    }
    let token = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
    let record = TokenRecord {
        hash: TokenHash::of(&token),
        kind: TokenKind::RefreshToken,
        grant_id: grant.id.clone(),
        client_id: client.client_id.clone(),
        scopes: scopes.clone(),
        issued_at: now,
        expires_at: now
            .saturating_add(ctx.config.refresh_token_ttl)
            .min(grant.expires_at),
        code: None,
        state: TokenState::Active,
    };
    Ok((token, Some(record)))
}

/// Verifies one of the provider's own JWTs (signature, `typ`, `iss`, `exp`).
pub(crate) async fn verify_own_jwt(
    ctx: &Context,
    token: &str,
    typ: &str,
) -> Result<Map<String, Value>, ()> {
    let jwt = own_jwt(ctx, token).await?;
    let validation = idforge_jose::ClaimsValidation::default()
        .issuer(ctx.config.issuer.clone())
        .typ(typ)
        .leeway(0);
    validation
        .validate(&jwt.header, &jwt.claims, ctx.clock.as_ref())
        .map_err(|_| ())?;
    Ok(jwt.claims)
}

/// A JWT whose signature is one of the provider's own keys, with no claim checked yet (an
/// `id_token_hint` may be expired, OIDC Core §3.1.2.1; [`verify_own_jwt`] checks the rest).
pub(crate) async fn own_jwt(ctx: &Context, token: &str) -> Result<idforge_jose::Jwt, ()> {
    let keys = ctx.keys.verification_keys().await.map_err(|_| ())?;
    let policy = JwsPolicy::new(OWN_ALGS);
    let verified = policy
        .verify_compact(token, keys.as_ref())
        .map_err(|_| ())?;
    let claims = idforge_jose::json::parse_object(
        &verified.payload,
        policy.limits.max_json_depth.max(32),
        "JWT claims",
    )
    .map_err(|_| ())?;
    Ok(idforge_jose::Jwt {
        header: verified.header,
        claims,
    })
}

/// RFC 7519 §4.1.3: whether `aud` (a string or an array of strings) names one of `accepted`;
/// `None` when the claim is absent, so each caller decides whether it is required.
pub(crate) fn audience_names(claims: &Map<String, Value>, accepted: &[&str]) -> Option<bool> {
    match claims.get("aud")? {
        Value::String(a) => Some(accepted.contains(&a.as_str())),
        Value::Array(list) => Some(
            list.iter()
                .any(|a| a.as_str().is_some_and(|a| accepted.contains(&a))),
        ),
        _ => Some(false),
    }
}

/// The grant a self-contained refresh token describes (non-persistent mode).
pub(crate) fn grant_from_refresh_claims(claims: &Map<String, Value>) -> Option<Grant> {
    let s = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_owned);
    let scope = s("scope").unwrap_or_default();
    Some(Grant {
        id: s("gid")?,
        client_id: s("client_id")?,
        subject: s("sub"),
        scopes: Scopes::from_values(scope.split(' ').filter(|v| !v.is_empty())),
        auth_time: claims.get("auth_time").and_then(Value::as_i64),
        acr: s("acr"),
        amr: claims
            .get("amr")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect()
            })
            .unwrap_or_default(),
        sid: s("sid"),
        nonce: None,
        claims: None,
        created_at: claims.get("iat").and_then(Value::as_i64)?,
        expires_at: claims.get("gexp").and_then(Value::as_i64)?,
    })
}

/// What an access token resolved to.
#[derive(Debug, Clone)]
pub(crate) struct AccessTokenInfo {
    pub client_id: String,
    pub subject: Option<String>,
    pub scopes: Scopes,
    pub issued_at: i64,
    pub expires_at: i64,
    pub grant: Grant,
    pub jwt_claims: Option<Map<String, Value>>,
}

fn invalid_token() -> Error {
    Error::InvalidToken("the access token is invalid, expired or revoked".into())
}

fn looks_like_jwt(token: &str) -> bool {
    token.bytes().filter(|b| *b == b'.').count() == 2
}

/// Resolves a presented access token (RFC 6750 §3.1 `invalid_token` when it does not).
pub(crate) async fn resolve_access_token(ctx: &Context, token: &str) -> Result<AccessTokenInfo> {
    let now = ctx.clock.now();
    if token.is_empty() || token.len() > 16 * 1024 {
        return Err(invalid_token());
    }
    let hash = TokenHash::of(token);
    if looks_like_jwt(token) {
        let claims = verify_own_jwt(ctx, token, idforge_jose::claims::typ::ACCESS_TOKEN)
            .await
            .map_err(|_| invalid_token())?;
        let s = |n: &str| claims.get(n).and_then(Value::as_str).map(str::to_owned);
        let scopes = match claims.get("scope") {
            Some(Value::String(v)) => Scopes::from_values(v.split(' ').filter(|v| !v.is_empty())),
            Some(Value::Array(a)) => Scopes::from_values(a.iter().filter_map(|v| v.as_str())),
            _ => Scopes::default(),
        };
        let client_id = s("client_id").ok_or_else(invalid_token)?;
        let iat = claims.get("iat").and_then(Value::as_i64).unwrap_or(now);
        let exp = claims.get("exp").and_then(Value::as_i64).unwrap_or(now);
        if let Some(gid) = s("gid") {
            // Non-persistent token: only the deny-list can say no.
            if ctx
                .grants
                .is_marked(&TokenHash::namespaced(DENY_TOKEN, token), now)
                .await?
                || ctx
                    .grants
                    .is_marked(&TokenHash::namespaced(DENY_GRANT, &gid), now)
                    .await?
            {
                return Err(invalid_token());
            }
            let subject =
                s("sub").filter(|sub| *sub != client_id || claims.contains_key("auth_time"));
            let grant = Grant {
                id: gid,
                client_id: client_id.clone(),
                subject: subject.clone(),
                scopes: scopes.clone(),
                auth_time: claims.get("auth_time").and_then(Value::as_i64),
                acr: s("acr"),
                amr: Vec::new(),
                sid: None,
                nonce: None,
                claims: None,
                created_at: iat,
                expires_at: exp,
            };
            return Ok(AccessTokenInfo {
                client_id,
                subject,
                scopes,
                issued_at: iat,
                expires_at: exp,
                grant,
                jwt_claims: Some(claims),
            });
        }
        let (record, grant) = ctx
            .grants
            .token(&hash, now)
            .await?
            .filter(|(r, _)| r.kind == TokenKind::AccessToken && r.state == TokenState::Active)
            .ok_or_else(invalid_token)?;
        return Ok(AccessTokenInfo {
            client_id: record.client_id,
            subject: grant.subject.clone(),
            scopes: record.scopes,
            issued_at: record.issued_at,
            expires_at: record.expires_at,
            grant,
            jwt_claims: Some(claims),
        });
    }
    let (record, grant) = ctx
        .grants
        .token(&hash, now)
        .await?
        .filter(|(r, _)| r.kind == TokenKind::AccessToken && r.state == TokenState::Active)
        .ok_or_else(invalid_token)?;
    Ok(AccessTokenInfo {
        client_id: record.client_id,
        subject: grant.subject.clone(),
        scopes: record.scopes,
        issued_at: record.issued_at,
        expires_at: record.expires_at,
        grant,
        jwt_claims: None,
    })
}

/// The claims each scope value releases (OIDC Core §5.4).
pub fn scope_claim_names(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// Selects the user's claims released by `scopes` plus the explicitly requested `names`
/// (OIDC Core §5.4, §5.5). Claims the user does not have are simply absent (§5.3.2).
pub(crate) fn select_claims(
    all: &Map<String, Value>,
    scopes: &Scopes,
    names: &[String],
) -> Map<String, Value> {
    let mut out = Map::new();
    for scope in scopes.values() {
        for name in scope_claim_names(scope) {
            if let Some(v) = all.get(*name) {
                out.insert((*name).to_owned(), v.clone());
            }
        }
    }
    for name in names {
        if let Some(v) = all.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out.remove("sub");
    out
}

/// The `at_hash`/`c_hash` of OIDC Core §3.1.3.6/§3.3.2.11: base64url of the left half of the
/// hash (the one of the ID token's JWS `alg`) of the ASCII value.
pub fn half_hash(alg: JwsAlgorithm, value: &str) -> String {
    let digest = alg.hash().digest(value.as_bytes());
    idforge_jose::b64::encode(&digest[..digest.len() / 2])
}

/// The protocol claims of an ID token (OIDC Core §2, §3.1.3.6).
struct ProtocolClaims<'a> {
    ctx: &'a Context,
    client: &'a Client,
    grant: &'a Grant,
    subject: &'a str,
    alg: JwsAlgorithm,
    access_token: Option<&'a str>,
    code: Option<&'a str>,
    now: i64,
}

impl ProtocolClaims<'_> {
    /// Sets them, removing any the grant does not call for.
    fn apply(&self, claims: &mut Map<String, Value>, lifetime: i64) {
        for name in [
            "auth_time",
            "acr",
            "amr",
            "nonce",
            "at_hash",
            "c_hash",
            "sid",
        ] {
            claims.remove(name);
        }
        claims.insert("iss".into(), json!(self.ctx.config.issuer));
        claims.insert("sub".into(), json!(self.subject));
        claims.insert("aud".into(), json!(self.client.client_id));
        claims.insert("exp".into(), json!(self.now.saturating_add(lifetime)));
        claims.insert("iat".into(), json!(self.now));
        add_auth_context(claims, self.grant);
        if let Some(nonce) = &self.grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        claims.insert("azp".into(), json!(self.client.client_id));
        if let Some(at) = self.access_token {
            claims.insert("at_hash".into(), json!(half_hash(self.alg, at)));
        }
        if let Some(code) = self.code {
            claims.insert("c_hash".into(), json!(half_hash(self.alg, code)));
        }
        if let Some(sid) = &self.grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
    }
}

/// Issues an ID token (OIDC Core §2, §3.1.3.6, §12.2) for `grant`, signed with the current key
/// for the client's `id_token_signed_response_alg`, and encrypted when the client registered
/// `id_token_encrypted_response_alg` (OIDC Core §10.2, nested JWT).
pub(crate) async fn issue_id_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    access_token: Option<&str>,
    code: Option<&str>,
) -> Result<String> {
    let now = ctx.clock.now();
    let subject = grant
        .subject
        .as_deref()
        .ok_or_else(|| Error::internal("ID token without a subject"))?;
    let alg = client
        .id_token_signed_response_alg
        .as_deref()
        .map(JwsAlgorithm::from_name)
        .transpose()
        .map_err(|_| Error::internal("client id_token_signed_response_alg unsupported"))?;
    let signer = ctx.keys.signer(alg).await?;
    let alg = signer.algorithm();
    let mut claims = Map::new();
    // Requested claims first, so the protocol claims below always win.
    if ctx.config.scope_claims_in_id_token || grant.claims.is_some() {
        let all = ctx.claims.claims(subject).await?.unwrap_or_default();
        let scopes = if ctx.config.scope_claims_in_id_token {
            grant.scopes.clone()
        } else {
            Scopes::default()
        };
        let names = grant
            .claims
            .as_ref()
            .map(|c| c.id_token.clone())
            .unwrap_or_default();
        claims.extend(select_claims(&all, &scopes, &names));
    }
    let mut lifetime = ctx.config.id_token_ttl;
    let protocol = ProtocolClaims {
        ctx,
        client,
        grant,
        subject,
        alg,
        access_token,
        code,
        now,
    };
    protocol.apply(&mut claims, lifetime);
    if let Some(hook) = &ctx.pre_issue_id_token {
        hook.before_issue(client, grant, &mut claims, &mut lifetime)
            .await?;
        // The hook cannot forge what relying parties validate.
        protocol.apply(&mut claims, lifetime.max(1));
    }
    let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
    let jws =
        jws::sign_compact_with(Header::new().with_typ("JWT"), &payload, signer.as_ref()).await?;
    match &client.id_token_encrypted_response_alg {
        None => Ok(jws),
        Some(alg) => {
            let alg = KeyManagementAlgorithm::from_name(alg).map_err(|_| {
                Error::internal("client id_token_encrypted_response_alg unsupported")
            })?;
            // OIDC Registration §2: enc defaults to A128CBC-HS256 when alg is set.
            let enc = client
                .id_token_encrypted_response_enc
                .as_deref()
                .map(ContentEncryption::from_name)
                .transpose()
                .map_err(|_| Error::internal("client id_token_encrypted_response_enc unsupported"))?
                .unwrap_or(ContentEncryption::A128CbcHs256);
            let jwks = client
                .jwks
                .clone()
                .ok_or_else(|| Error::internal("client asks for encryption but has no JWKS"))?;
            Ok(EncryptionPolicy::new(alg, enc, jwks).encrypt_jwt(&jws)?)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_oidc_example() {
        // OIDC Core Appendix A.3/A.4 example: access token and its ES/RS256 at_hash.
        assert_eq!(
            half_hash(
                JwsAlgorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(half_hash(JwsAlgorithm::ES384, "x").len(), 32);
    }

    #[test]
    fn scope_claims_selection() {
        let all: Map<String, Value> = serde_json::from_value(json!({
            "sub": "alice", "name": "Alice", "email": "a@example.com", "phone_number": "+1",
            "custom": 1
        }))
        .unwrap();
        let got = select_claims(
            &all,
            &Scopes::from_values(["openid", "email"]),
            &["custom".into()],
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.contains_key("email") && got.contains_key("custom"));
        assert!(!got.contains_key("name") && !got.contains_key("sub"));
    }
}
