//! Token exchange (RFC 8693) with trusted token issuers, implicit account association and
//! delegation (`act`, `may_act`): the pure decisions (scope narrowing, the `act` claim, the
//! `may_act` check, association) and the [`TokenExchangeGrant`] handler that verifies the
//! subject and actor tokens and issues the new token.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use idforge_jose::{ClaimsValidation, JwsPolicy, KeySet};
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::config::{AccessTokenFormat, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, persists, IssueOptions};
use crate::model::{Scopes, TokenRequest, TokenResponse};
use crate::ports::{JwksFetcher, UserLookup};
use crate::records::{Grant, TokenContents};
use crate::secret::random_token;
use crate::token_exchange::{
    AccountAssociation, ExchangeTokenType, IssuerKeys, PresentedToken, RequestedTokenType,
    TokenExchangeRequest, TrustedIssuer, TOKEN_EXCHANGE_GRANT_TYPE,
};
use crate::validate::{audience_names, resolve_access_token, verify_own_jwt};

use super::GrantHandler;

/// The client registration member that allows impersonation (a token exchange without
/// `actor_token`).
pub const ALLOW_IMPERSONATION_MEMBER: &str = "allow_impersonation";

/// How long a fetched JWK Set is used before it is fetched again.
pub const JWKS_CACHE_SECONDS: i64 = 3600;

/// A token naming an unknown `kid` triggers a fetch at most this often per `jwks_uri`.
pub const JWKS_REFETCH_SECONDS: i64 = 60;

/// Who issued a verified token.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum TokenIssuer {
    /// This provider.
    Own,
    /// A trusted issuer (its `iss`).
    Trusted(String),
}

/// A subject or actor token that verified.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct VerifiedToken {
    /// Who issued it.
    pub issuer: TokenIssuer,
    /// Its `sub` (for this provider's client-credentials tokens, the client id).
    pub subject: String,
    /// Its scopes (`scope` claim, a string or an array; empty if absent).
    pub scopes: Scopes,
    /// Its claims (for opaque tokens of this provider, the grant's extra claims).
    pub claims: Map<String, Value>,
}

impl VerifiedToken {
    /// Its `act` claim (RFC 8693 §4.1), if any.
    pub fn act(&self) -> Option<&Value> {
        self.claims.get("act")
    }

    /// Its `may_act` claim (RFC 8693 §4.4), if any.
    pub fn may_act(&self) -> Option<&Value> {
        self.claims.get("may_act")
    }

    /// The `iss` to name in `act` (trusted issuers only; this provider's own is implied).
    fn external_issuer(&self) -> Option<&str> {
        match &self.issuer {
            TokenIssuer::Own => None,
            TokenIssuer::Trusted(iss) => Some(iss),
        }
    }
}

/// RFC 8693 §2.2.2: a subject or actor token that fails verification is `invalid_request`.
fn unverified(which: &str) -> Error {
    Error::InvalidRequest(format!(
        "the {which} is invalid, expired, not for this provider, or from an untrusted issuer"
    ))
}

/// The `scope` claim as scopes: RFC 8693 §4.2 space-separated string, or an array.
pub fn scope_claim(claims: &Map<String, Value>) -> Scopes {
    match claims.get("scope") {
        Some(Value::String(s)) => Scopes::from_values(s.split(' ').filter(|s| !s.is_empty())),
        Some(Value::Array(a)) => Scopes::from_values(a.iter().filter_map(Value::as_str)),
        _ => Scopes::from_values(Vec::<String>::new()),
    }
}

/// The issued token's scopes: the subject token's, narrowed by `scope` if sent (a scope the
/// subject token lacks is `invalid_scope`: an exchange never widens); each must be supported
/// and allowed to the client (`invalid_scope` when requested; silently dropped when taken
/// from the subject token).
pub fn decide_scopes(
    config: &Config,
    client: &Client,
    requested: Option<&Scopes>,
    subject: &Scopes,
) -> Result<Scopes> {
    let usable = |s: &str| config.scopes_supported.iter().any(|x| x == s) && client.allows_scope(s);
    match requested {
        Some(req) => {
            for s in req.values() {
                if !subject.contains(s) {
                    return Err(Error::InvalidScope(format!(
                        "scope `{s}` exceeds the subject token's scope"
                    )));
                }
                if !usable(s) {
                    return Err(Error::InvalidScope(format!("scope `{s}` is not allowed")));
                }
            }
            Ok(req.clone())
        }
        None => Ok(Scopes::from_values(
            subject.values().iter().filter(|s| usable(s)).cloned(),
        )),
    }
}

/// The `act` claim of the issued token (RFC 8693 §4.1): the new actor, with the subject
/// token's own `act` nested inside it, so a delegation chain reads newest first.
pub fn delegation_act(actor: &VerifiedToken, previous: Option<&Value>) -> Value {
    let mut act = Map::new();
    act.insert("sub".into(), json!(actor.subject));
    if let Some(iss) = actor.external_issuer() {
        act.insert("iss".into(), json!(iss));
    }
    if let Some(prev) = previous {
        act.insert("act".into(), prev.clone());
    }
    Value::Object(act)
}

/// RFC 8693 §4.4: when the subject token carries `may_act`, only the party it names may act:
/// the actor token's `sub` (and `iss`, if `may_act` names one), or without an actor the
/// requesting client. Otherwise `invalid_grant`.
pub fn check_may_act(
    may_act: Option<&Value>,
    actor: Option<&VerifiedToken>,
    client_id: &str,
) -> Result<()> {
    let Some(may_act) = may_act else {
        return Ok(());
    };
    let refused = || Error::InvalidGrant("the actor is not allowed to act for the subject".into());
    let obj = may_act.as_object().ok_or_else(refused)?;
    let want_sub = obj.get("sub").and_then(Value::as_str);
    let want_iss = obj.get("iss").and_then(Value::as_str);
    let (sub, iss) = match actor {
        Some(a) => (a.subject.as_str(), a.external_issuer()),
        None => (client_id, None),
    };
    if want_sub != Some(sub) {
        return Err(refused());
    }
    if let Some(want) = want_iss {
        if iss != Some(want) {
            return Err(refused());
        }
    }
    Ok(())
}

/// Implicit account association's decision: exactly one local match is the subject; none or
/// several is `invalid_grant`.
pub fn associate(matches: Vec<String>) -> Result<String> {
    let mut it = matches.into_iter();
    match (it.next(), it.next()) {
        (Some(one), None) => Ok(one),
        (None, _) => Err(Error::InvalidGrant(
            "no local account matches the subject token".into(),
        )),
        (Some(_), Some(_)) => Err(Error::InvalidGrant(
            "several local accounts match the subject token".into(),
        )),
    }
}

/// The claims of a compact JWT, read without verification (to choose the keys by `iss`; once
/// the signature over the same payload segment verifies, they are the verified claims).
fn peek_claims(token: &str) -> Option<Map<String, Value>> {
    let mut parts = token.split('.');
    let (_, payload, _) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() {
        return None;
    }
    let bytes = idforge_jose::b64::decode(payload, "payload").ok()?;
    idforge_jose::json::parse_object(&bytes, 32, "JWT claims").ok()
}

#[cfg(test)]
fn peek_issuer(token: &str) -> Option<String> {
    peek_claims(token)?
        .get("iss")
        .and_then(Value::as_str)
        .map(str::to_owned)
}

#[derive(Debug)]
struct Cached {
    keys: Arc<KeySet>,
    fetched_at: i64,
}

/// The `urn:ietf:params:oauth:grant-type:token-exchange` handler (RFC 8693).
pub struct TokenExchangeGrant {
    issuers: Vec<TrustedIssuer>,
    fetcher: Option<Arc<dyn JwksFetcher>>,
    users: Option<Arc<dyn UserLookup>>,
    cache: Mutex<HashMap<String, Cached>>,
}

impl std::fmt::Debug for TokenExchangeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenExchangeGrant")
            .field("issuers", &self.issuers)
            .finish_non_exhaustive()
    }
}

impl Default for TokenExchangeGrant {
    fn default() -> Self {
        Self::new()
    }
}

impl TokenExchangeGrant {
    /// Exchanges of this provider's own tokens only; add trusted issuers and ports with the
    /// `with_*` methods.
    pub fn new() -> Self {
        TokenExchangeGrant {
            issuers: Vec::new(),
            fetcher: None,
            users: None,
            cache: Mutex::default(),
        }
    }

    /// Trusts `issuer`'s tokens.
    pub fn with_trusted_issuer(mut self, issuer: TrustedIssuer) -> Self {
        self.issuers.push(issuer);
        self
    }

    /// The port fetching `jwks_uri` keys (needed by issuers with [`IssuerKeys::Remote`]).
    pub fn with_jwks_fetcher(mut self, fetcher: Arc<dyn JwksFetcher>) -> Self {
        self.fetcher = Some(fetcher);
        self
    }

    /// The port finding local users (needed by issuers with [`AccountAssociation::Lookup`]).
    pub fn with_user_lookup(mut self, users: Arc<dyn UserLookup>) -> Self {
        self.users = Some(users);
        self
    }

    /// The trusted issuers.
    pub fn trusted_issuers(&self) -> &[TrustedIssuer] {
        &self.issuers
    }

    fn cached(&self, uri: &str) -> Option<(Arc<KeySet>, i64)> {
        let c = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        c.get(uri).map(|c| (c.keys.clone(), c.fetched_at))
    }

    /// The issuer's keys: inline, or fetched (cached for [`JWKS_CACHE_SECONDS`], fetched again
    /// for an unknown `kid` at most every [`JWKS_REFETCH_SECONDS`]).
    async fn keys_for(
        &self,
        issuer: &TrustedIssuer,
        kid: Option<&str>,
        now: i64,
    ) -> Result<Arc<KeySet>> {
        let uri = match &issuer.keys {
            IssuerKeys::Inline(k) => return Ok(k.clone()),
            IssuerKeys::Remote(uri) => uri,
        };
        if let Some((keys, at)) = self.cached(uri) {
            let known = kid.is_none_or(|kid| keys.keys().iter().any(|k| k.kid() == Some(kid)));
            let fresh = now < at.saturating_add(JWKS_CACHE_SECONDS);
            let may_refetch = now >= at.saturating_add(JWKS_REFETCH_SECONDS);
            if fresh && (known || !may_refetch) {
                return Ok(keys);
            }
        }
        let fetcher = self
            .fetcher
            .as_ref()
            .ok_or_else(|| Error::Internal("no JWKS fetcher for a jwks_uri issuer".into()))?;
        let set = fetcher.fetch(uri).await?;
        let keys = Arc::new(
            KeySet::from_jwk_set(&set.to_public())
                .map_err(|e| Error::Internal(format!("jwks_uri {uri}: {e}")))?,
        );
        self.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(
            uri.clone(),
            Cached {
                keys: keys.clone(),
                fetched_at: now,
            },
        );
        Ok(keys)
    }

    /// Verifies a subject or actor token presented by `client` (RFC 8693 §2.1): this
    /// provider's (access token, opaque or JWT, revocation honoured; ID token or JWT) or a
    /// trusted issuer's JWT (signature with its keys and algorithms, `iss`, `exp`/`nbf` with
    /// the configured leeway, `aud` one of the accepted values). A token of this provider
    /// issued to another client is accepted only when its audience names the requesting
    /// client. Every failure is `invalid_request` (RFC 8693 §2.2.2); a failure of a port is
    /// `server_error`.
    pub async fn verify(
        &self,
        ctx: &Context,
        client: &Client,
        presented: &PresentedToken,
        which: &str,
    ) -> Result<VerifiedToken> {
        let token = presented.token.as_str();
        let peeked = peek_claims(token);
        let iss = peeked
            .as_ref()
            .and_then(|c| c.get("iss"))
            .and_then(Value::as_str);
        if iss.is_none_or(|i| i == ctx.config.issuer) {
            return self.verify_own(ctx, client, presented, which).await;
        }
        let issuer = self
            .issuers
            .iter()
            .find(|t| Some(t.issuer.as_str()) == iss)
            .ok_or_else(|| unverified(which))?;
        let kid = match &issuer.keys {
            // Only a fetched key set needs the `kid` up front (refresh on an unknown one).
            IssuerKeys::Remote(_) => idforge_jose::jws::peek_header(token)
                .map_err(|_| unverified(which))?
                .kid()
                .map(str::to_owned),
            IssuerKeys::Inline(_) => None,
        };
        let keys = self.keys_for(issuer, kid.as_deref(), ctx.now()).await?;
        let policy = JwsPolicy::new(issuer.algorithms.iter().copied());
        let verified = policy
            .verify_compact(token, keys.as_ref())
            .map_err(|_| unverified(which))?;
        // The signature covers the payload segment the claims were read from.
        let claims = peeked.ok_or_else(|| unverified(which))?;
        ClaimsValidation::default()
            .issuer(issuer.issuer.clone())
            .leeway(ctx.config.leeway)
            .validate(&verified.header, &claims, ctx.clock.as_ref())
            .map_err(|_| unverified(which))?;
        let default_audience = [ctx.config.issuer.clone(), ctx.config.token_endpoint()];
        let accepted: Vec<&str> = if issuer.audience.is_empty() {
            default_audience.iter().map(String::as_str).collect()
        } else {
            issuer.audience.iter().map(String::as_str).collect()
        };
        if audience_names(&claims, &accepted) != Some(true) {
            return Err(unverified(which));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| unverified(which))?
            .to_owned();
        Ok(VerifiedToken {
            issuer: TokenIssuer::Trusted(issuer.issuer.clone()),
            subject,
            scopes: scope_claim(&claims),
            claims,
        })
    }

    async fn verify_own(
        &self,
        ctx: &Context,
        client: &Client,
        presented: &PresentedToken,
        which: &str,
    ) -> Result<VerifiedToken> {
        let token = presented.token.as_str();
        let for_client = |issued_to: &str, aud: &[&str]| {
            issued_to == client.client_id || aud.contains(&client.client_id.as_str())
        };
        if presented.token_type != ExchangeTokenType::IdToken {
            match resolve_access_token(ctx, token).await {
                Ok(info) => {
                    if !for_client(&info.client_id, &info.audience(ctx)) {
                        return Err(unverified(which));
                    }
                    let mut claims = info.jwt_claims.clone().unwrap_or_default();
                    for (k, v) in info.extra_claims() {
                        claims.entry(k.clone()).or_insert_with(|| v.clone());
                    }
                    return Ok(VerifiedToken {
                        issuer: TokenIssuer::Own,
                        subject: info.subject.clone().unwrap_or(info.client_id.clone()),
                        scopes: info.scopes.clone(),
                        claims,
                    });
                }
                Err(Error::Internal(e)) => return Err(Error::Internal(e)),
                Err(_) if presented.token_type == ExchangeTokenType::AccessToken => {
                    return Err(unverified(which))
                }
                Err(_) => {}
            }
        }
        // An ID token (or another JWT) of this provider.
        let claims = verify_own_jwt(ctx, token, "JWT")
            .await
            .map_err(|_| unverified(which))?;
        let aud: Vec<&str> = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.as_str()],
            Some(Value::Array(a)) => a.iter().filter_map(Value::as_str).collect(),
            _ => Vec::new(),
        };
        let azp = claims.get("azp").and_then(Value::as_str).unwrap_or("");
        if !for_client(azp, &aud) {
            return Err(unverified(which));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| unverified(which))?
            .to_owned();
        Ok(VerifiedToken {
            issuer: TokenIssuer::Own,
            subject,
            scopes: scope_claim(&claims),
            claims,
        })
    }

    /// The local subject of a verified subject token: this provider's tokens as they are; a
    /// trusted issuer's by its [`AccountAssociation`].
    pub async fn local_subject(&self, subject: &VerifiedToken) -> Result<String> {
        let TokenIssuer::Trusted(iss) = &subject.issuer else {
            return Ok(subject.subject.clone());
        };
        let issuer = self
            .issuers
            .iter()
            .find(|t| &t.issuer == iss)
            .ok_or_else(|| unverified("subject_token"))?;
        match &issuer.association {
            AccountAssociation::ExternalSubject => Ok(subject.subject.clone()),
            AccountAssociation::Lookup(attrs) => {
                let mut pairs = Vec::with_capacity(attrs.len());
                for a in attrs {
                    let v = subject
                        .claims
                        .get(a)
                        .and_then(Value::as_str)
                        .ok_or_else(|| {
                            Error::InvalidGrant(format!(
                                "the subject token has no `{a}` to find the local account by"
                            ))
                        })?;
                    pairs.push((a.as_str(), v));
                }
                let users = self
                    .users
                    .as_ref()
                    .ok_or_else(|| Error::Internal("no user lookup for association".into()))?;
                associate(users.find_users(&pairs).await?)
            }
        }
    }
}

#[async_trait]
impl GrantHandler for TokenExchangeGrant {
    fn grant_type(&self) -> &str {
        TOKEN_EXCHANGE_GRANT_TYPE
    }

    /// RFC 8693 §2: verifies the subject (and actor) token, enforces `may_act` and the
    /// impersonation permission, narrows the scope, sets `aud` from `audience` and `resource`
    /// and `act` from the actor, and answers with `issued_token_type` (§2.2.1).
    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let request = TokenExchangeRequest::from_params(&req.params, &ctx.config.limits)?;
        let subject = self
            .verify(ctx, client, &request.subject, "subject_token")
            .await?;
        let actor = match &request.actor {
            Some(a) => Some(self.verify(ctx, client, a, "actor_token").await?),
            None => None,
        };
        check_may_act(subject.may_act(), actor.as_ref(), &client.client_id)?;
        if actor.is_none()
            && client.metadata(ALLOW_IMPERSONATION_MEMBER) != Some(&Value::Bool(true))
        {
            return Err(Error::UnauthorizedClient(
                "the client may not impersonate: send an actor_token".into(),
            ));
        }
        let scopes = decide_scopes(&ctx.config, client, request.scope.as_ref(), &subject.scopes)?;
        let local = self.local_subject(&subject).await?;
        let mut contents = TokenContents::new();
        for aud in request.audience.iter().chain(&request.resource) {
            contents = contents.with_audience(aud.clone());
        }
        let act = match &actor {
            Some(a) => Some(delegation_act(a, subject.act())),
            // Impersonation: a delegation chain already on the subject token stays visible.
            None => subject.act().cloned(),
        };
        if let Some(act) = act {
            contents.add_access_token_claim("act", act)?;
        }
        let mut client = client.clone();
        if request.requested == RequestedTokenType::Jwt {
            client.access_token_format = Some(AccessTokenFormat::Jwt);
        }
        let now = ctx.now();
        let grant = Grant::new(
            random_token(ctx.rng.as_ref(), 16)?,
            client.client_id.clone(),
            scopes.clone(),
            now,
            now.saturating_add(ctx.config.access_token_ttl),
        )
        .with_subject(local)
        .with_contents(contents);
        let options = IssueOptions::new().new_grant(persists(ctx, &client));
        let mut response = issue_token_response(ctx, &client, &grant, &scopes, options).await?;
        response.extra.insert(
            "issued_token_type".into(),
            json!(request.requested.issued_token_type().uri()),
        );
        Ok(response)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token(issuer: TokenIssuer, sub: &str) -> VerifiedToken {
        VerifiedToken {
            issuer,
            subject: sub.into(),
            scopes: Scopes::from_values(["openid"]),
            claims: Map::new(),
        }
    }

    #[test]
    fn act_nests_the_previous_chain() {
        // RFC 8693 §4.1 example shape.
        let actor = token(TokenIssuer::Own, "agent-2");
        let prev = json!({"sub": "agent-1"});
        assert_eq!(
            delegation_act(&actor, Some(&prev)),
            json!({"sub": "agent-2", "act": {"sub": "agent-1"}})
        );
        let ext = token(TokenIssuer::Trusted("https://idp.example".into()), "svc");
        assert_eq!(
            delegation_act(&ext, None),
            json!({"sub": "svc", "iss": "https://idp.example"})
        );
    }

    #[test]
    fn may_act_names_who_may_act() {
        let actor = token(TokenIssuer::Own, "agent");
        let other = token(TokenIssuer::Own, "intruder");
        let may = json!({"sub": "agent"});
        assert!(check_may_act(None, Some(&other), "c").is_ok());
        assert!(check_may_act(Some(&may), Some(&actor), "c").is_ok());
        assert_eq!(
            check_may_act(Some(&may), Some(&other), "c")
                .unwrap_err()
                .code(),
            "invalid_grant"
        );
        // Without an actor, the client must be the one named.
        assert!(check_may_act(Some(&may), None, "agent").is_ok());
        assert!(check_may_act(Some(&may), None, "c").is_err());
        // An `iss` in may_act must match the actor's issuer.
        let may_iss = json!({"sub": "agent", "iss": "https://idp.example"});
        assert!(check_may_act(Some(&may_iss), Some(&actor), "c").is_err());
        let ext = token(TokenIssuer::Trusted("https://idp.example".into()), "agent");
        assert!(check_may_act(Some(&may_iss), Some(&ext), "c").is_ok());
        assert!(check_may_act(Some(&json!("agent")), Some(&actor), "c").is_err());
    }

    #[test]
    fn scopes_only_narrow() {
        let cfg = Config::new("https://op.example");
        let client = Client::confidential("c", "s").with_scopes(["openid", "profile", "email"]);
        let subject = Scopes::from_values(["openid", "profile", "phone", "api:read"]);
        // Default: the subject's, minus what the client may not have or the provider lacks.
        assert_eq!(
            decide_scopes(&cfg, &client, None, &subject)
                .unwrap()
                .values(),
            ["openid", "profile"]
        );
        let narrow = Scopes::from_values(["profile"]);
        assert_eq!(
            decide_scopes(&cfg, &client, Some(&narrow), &subject)
                .unwrap()
                .values(),
            ["profile"]
        );
        let wider = Scopes::from_values(["email"]);
        assert_eq!(
            decide_scopes(&cfg, &client, Some(&wider), &subject)
                .unwrap_err()
                .code(),
            "invalid_scope"
        );
        let not_allowed = Scopes::from_values(["phone"]);
        assert!(decide_scopes(&cfg, &client, Some(&not_allowed), &subject).is_err());
    }

    #[test]
    fn association_needs_exactly_one_match() {
        assert_eq!(associate(vec!["u1".into()]).unwrap(), "u1");
        assert_eq!(associate(vec![]).unwrap_err().code(), "invalid_grant");
        assert_eq!(
            associate(vec!["u1".into(), "u2".into()])
                .unwrap_err()
                .code(),
            "invalid_grant"
        );
    }

    #[test]
    fn scope_claim_reads_strings_and_arrays() {
        let mut c = Map::new();
        c.insert("scope".into(), json!("a  b"));
        assert_eq!(scope_claim(&c).values(), ["a", "b"]);
        c.insert("scope".into(), json!(["x", 1, "y"]));
        assert_eq!(scope_claim(&c).values(), ["x", "y"]);
    }

    #[test]
    fn peek_issuer_reads_only_well_formed_jwts() {
        let payload = idforge_jose::b64::encode(br#"{"iss":"https://idp.example"}"#);
        assert_eq!(
            peek_issuer(&format!("e30.{payload}.sig")).as_deref(),
            Some("https://idp.example")
        );
        assert!(peek_issuer("opaque").is_none());
        assert!(peek_issuer(&format!("e30.{payload}.sig.x")).is_none());
    }
}
