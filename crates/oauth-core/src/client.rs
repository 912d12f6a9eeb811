//! Clients: registration model, redirect URI matching and client authentication.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idforge_jose::{crypto::ct_eq, JwkSet, JwsAlgorithm, JwsPolicy, KeySet};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::config::AccessTokenFormat;
use crate::error::{Error, Result};
use crate::model::TokenRequest;
use crate::ports::TokenHash;
use crate::provider::Context;

/// Token endpoint authentication methods (RFC 7591 §2, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A JWT signed with the client's private key (RFC 7523 §2.2, OIDC Core §9).
    PrivateKeyJwt,
    /// A public client: no authentication (RFC 6749 §2.1).
    None,
}

impl ClientAuthMethod {
    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }
}

/// A registered client (RFC 7591 §2 metadata names).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Client {
    /// The client identifier.
    pub client_id: String,
    /// SHA-256 of the client secret (never the secret itself).
    pub client_secret_hash: Option<TokenHash>,
    /// Registered redirect URIs, compared exactly (RFC 9700 §4.1.3).
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Scopes the client may request (empty: any scope the provider supports).
    pub scopes: Vec<String>,
    /// How the client authenticates at the token, introspection and revocation endpoints.
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// The client's public keys: `private_key_jwt` (RFC 7523), request objects (RFC 9101 §4)
    /// and ID token / UserInfo encryption.
    pub jwks: Option<JwkSet>,
    /// Access token format for this client (`None`: the provider default).
    pub access_token_format: Option<AccessTokenFormat>,
    /// `scope` claim as an array in JWT access tokens (`None`: the provider default).
    pub scope_as_array: Option<bool>,
    /// `id_token_signed_response_alg` (OIDC Registration §2); `None`: the key store default.
    pub id_token_signed_response_alg: Option<String>,
    /// `id_token_encrypted_response_alg`: encrypt ID tokens to the client's JWKS.
    pub id_token_encrypted_response_alg: Option<String>,
    /// `id_token_encrypted_response_enc` (default `A128CBC-HS256`, OIDC Registration §2).
    pub id_token_encrypted_response_enc: Option<String>,
    /// `userinfo_signed_response_alg` (OIDC Registration §2): UserInfo as a signed JWT.
    pub userinfo_signed_response_alg: Option<String>,
    /// `userinfo_encrypted_response_alg`: UserInfo JWT encrypted to the client's JWKS.
    pub userinfo_encrypted_response_alg: Option<String>,
    /// `userinfo_encrypted_response_enc` (default `A128CBC-HS256`).
    pub userinfo_encrypted_response_enc: Option<String>,
    /// A first-party client whose consent is implied (no consent interaction).
    pub consent_implied: bool,
    /// `request_object_signing_alg` (OIDC Registration §2, RFC 9101 §10.5): the only algorithm
    /// its request objects may use. `None`: any asymmetric algorithm its keys fit
    /// ([`REQUEST_OBJECT_SIGNING_ALGS`](crate::request_object::REQUEST_OBJECT_SIGNING_ALGS)).
    /// Symmetric (`HS*`) values are refused, as is `none`.
    pub request_object_signing_alg: Option<String>,
    /// `require_pushed_authorization_requests` (RFC 9126 §6): this client's authorization
    /// requests must come through the pushed authorization request endpoint.
    pub require_pushed_authorization_requests: bool,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            client_id: String::new(),
            client_secret_hash: None,
            redirect_uris: Vec::new(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: Vec::new(),
            token_endpoint_auth_method: ClientAuthMethod::ClientSecretBasic,
            jwks: None,
            access_token_format: None,
            scope_as_array: None,
            id_token_signed_response_alg: None,
            id_token_encrypted_response_alg: None,
            id_token_encrypted_response_enc: None,
            userinfo_signed_response_alg: None,
            userinfo_encrypted_response_alg: None,
            userinfo_encrypted_response_enc: None,
            consent_implied: false,
            request_object_signing_alg: None,
            require_pushed_authorization_requests: false,
        }
    }
}

impl Client {
    /// A confidential client authenticating with `client_secret_basic`.
    pub fn confidential(client_id: impl Into<String>, secret: &str) -> Client {
        Client {
            client_id: client_id.into(),
            client_secret_hash: Some(TokenHash::of(secret)),
            ..Client::default()
        }
    }

    /// A public client (`token_endpoint_auth_method: none`); PKCE S256 is required of it.
    pub fn public(client_id: impl Into<String>) -> Client {
        Client {
            client_id: client_id.into(),
            token_endpoint_auth_method: ClientAuthMethod::None,
            ..Client::default()
        }
    }

    /// Adds a redirect URI.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets the grant types.
    pub fn with_grant_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.grant_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the authentication method.
    pub fn with_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.token_endpoint_auth_method = method;
        self
    }

    /// Sets the client's JWKS.
    pub fn with_jwks(mut self, jwks: JwkSet) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Sets `request_object_signing_alg` (RFC 9101 §10.5).
    pub fn with_request_object_signing_alg(mut self, alg: impl Into<String>) -> Self {
        self.request_object_signing_alg = Some(alg.into());
        self
    }

    /// Marks consent as implied.
    pub fn with_consent_implied(mut self) -> Self {
        self.consent_implied = true;
        self
    }

    /// Whether the client is public (RFC 6749 §2.1).
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == ClientAuthMethod::None
    }

    /// Whether the client may use `grant_type` (else `unauthorized_client`, RFC 6749 §5.2).
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Whether the client may request `scope`.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s == scope)
    }

    /// Finds the registered redirect URI `requested` matches.
    ///
    /// RFC 9700 §4.1.3: exact string comparison. RFC 8252 §7.3: for a loopback IP literal
    /// (`http://127.0.0.1`, `http://[::1]`) the port is ignored, since native apps get an
    /// ephemeral port at run time. `localhost` gets no such leniency (RFC 8252 §8.3).
    pub fn match_redirect_uri<'a>(&'a self, requested: &'a str) -> Option<&'a str> {
        if let Some(exact) = self.redirect_uris.iter().find(|r| *r == requested) {
            return Some(exact);
        }
        let (req_host, req_rest) = loopback_parts(requested)?;
        self.redirect_uris
            .iter()
            .find(|reg| loopback_parts(reg).is_some_and(|(h, r)| h == req_host && r == req_rest))
            .map(|_| requested)
    }
}

/// Splits `http://HOST[:PORT]REST` when HOST is a loopback IP literal (`127.0.0.1`-style IPv4
/// or `[::1]`), returning the host and everything after the port (path, query). No user info,
/// no fragment, a port of digits only.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    if uri.contains('#') {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']')?;
        let ip: std::net::Ipv6Addr = v6[..close].parse().ok()?;
        if !ip.is_loopback() {
            return None;
        }
        (&authority[..close + 2], &v6[close + 1..])
    } else {
        let (h, p) = match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        };
        let ip: std::net::Ipv4Addr = h.parse().ok()?;
        if !ip.is_loopback() {
            return None;
        }
        (h, p)
    };
    match port.strip_prefix(':') {
        None if port.is_empty() => {}
        Some(digits)
            if digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse::<u16>().is_ok() => {}
        _ => return None,
    }
    Some((host, tail))
}

/// The client-assertion type of RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

enum Presented {
    Secret {
        client_id: String,
        secret: String,
        method: ClientAuthMethod,
    },
    Assertion {
        client_id: Option<String>,
        assertion: String,
    },
    Public {
        client_id: String,
    },
}

/// Decodes `Authorization: Basic` (RFC 6749 §2.3.1: id and secret are form-urlencoded first).
fn parse_basic(header: &str) -> Result<(String, String)> {
    let bad = || Error::InvalidClient("malformed Basic credentials".into());
    let (scheme, rest) = header.trim().split_once(' ').ok_or_else(bad)?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(bad());
    }
    let decoded = STANDARD.decode(rest.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(decoded).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    let unescape = |s: &str| -> String {
        if !s.contains(['%', '+']) {
            return s.to_owned();
        }
        form_urlencoded::parse(format!("x={s}").as_bytes())
            .next()
            .map(|(_, v)| v.into_owned())
            .unwrap_or_default()
    };
    Ok((unescape(id), unescape(secret)))
}

fn presented(req: &TokenRequest) -> Result<Presented> {
    let p = &req.params;
    let basic = match req.authorization.as_deref() {
        // `get`, not slicing: a multi-byte character at the boundary must not panic (found
        // by the oauth_token_form fuzz target).
        Some(h)
            if h.trim_start()
                .get(..5)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic")) =>
        {
            Some(parse_basic(h)?)
        }
        _ => None,
    };
    let post_secret = p.get("client_secret");
    let assertion = p.get("client_assertion");
    // RFC 6749 §2.3: "The client MUST NOT use more than one authentication method in each
    // request."
    let count = [basic.is_some(), post_secret.is_some(), assertion.is_some()]
        .iter()
        .filter(|b| **b)
        .count();
    if count > 1 {
        return Err(Error::InvalidRequest(
            "more than one client authentication method used".into(),
        ));
    }
    let body_id = p.get("client_id");
    if let Some((id, secret)) = basic {
        if body_id.is_some_and(|b| b != id) {
            return Err(Error::InvalidRequest(
                "client_id does not match the authenticated client".into(),
            ));
        }
        return Ok(Presented::Secret {
            client_id: id,
            secret,
            method: ClientAuthMethod::ClientSecretBasic,
        });
    }
    if let Some(secret) = post_secret {
        let client_id = body_id
            .ok_or_else(|| Error::InvalidRequest("client_secret without client_id".into()))?;
        return Ok(Presented::Secret {
            client_id: client_id.to_owned(),
            secret: secret.to_owned(),
            method: ClientAuthMethod::ClientSecretPost,
        });
    }
    if let Some(assertion) = assertion {
        if p.get("client_assertion_type") != Some(JWT_BEARER_ASSERTION) {
            return Err(Error::InvalidRequest(
                "unsupported or missing client_assertion_type".into(),
            ));
        }
        return Ok(Presented::Assertion {
            client_id: body_id.map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    match body_id {
        Some(id) => Ok(Presented::Public {
            client_id: id.to_owned(),
        }),
        None => Err(Error::InvalidClient(
            "client authentication required".into(),
        )),
    }
}

/// Authenticates the client of a token, introspection or revocation request (RFC 6749 §2.3,
/// §3.2.1), with the method it registered and no other.
pub async fn authenticate_client(ctx: &Context, req: &TokenRequest) -> Result<Client> {
    let presented = presented(req)?;
    let failed = || Error::InvalidClient("client authentication failed".into());
    match presented {
        Presented::Secret {
            client_id,
            secret,
            method,
        } => {
            let client = ctx.clients.client(&client_id).await?;
            // Hash and compare even for unknown clients, so timing does not reveal which ids
            // exist.
            let presented_hash = TokenHash::of(&secret);
            let stored = client
                .as_ref()
                .and_then(|c| c.client_secret_hash)
                .unwrap_or(TokenHash([0; 32]));
            let ok = ct_eq(&presented_hash.0, &stored.0);
            match client {
                Some(c) if ok && c.token_endpoint_auth_method == method => Ok(c),
                _ => Err(failed()),
            }
        }
        Presented::Public { client_id } => match ctx.clients.client(&client_id).await? {
            Some(c) if c.token_endpoint_auth_method == ClientAuthMethod::None => Ok(c),
            _ => Err(failed()),
        },
        Presented::Assertion {
            client_id,
            assertion,
        } => private_key_jwt(ctx, client_id.as_deref(), &assertion).await,
    }
}

/// Asymmetric algorithms accepted for client assertions and request objects (no HMAC: the
/// client holds no shared secret in `private_key_jwt`, and the store keeps only a hash of a
/// client secret).
pub(crate) const ASYMMETRIC_ALGS: [JwsAlgorithm; 10] = [
    JwsAlgorithm::RS256,
    JwsAlgorithm::RS384,
    JwsAlgorithm::RS512,
    JwsAlgorithm::PS256,
    JwsAlgorithm::PS384,
    JwsAlgorithm::PS512,
    JwsAlgorithm::ES256,
    JwsAlgorithm::ES384,
    JwsAlgorithm::ES512,
    JwsAlgorithm::EdDSA,
];

/// RFC 7523 §3 / OIDC Core §9 `private_key_jwt`: `iss` = `sub` = client id; `aud` identifies
/// this server (its issuer or token endpoint URL); `exp` required and not too far ahead; `jti`
/// required and never accepted twice (item 7).
async fn private_key_jwt(ctx: &Context, body_id: Option<&str>, assertion: &str) -> Result<Client> {
    let failed = |why: &str| Error::InvalidClient(format!("invalid client assertion: {why}"));
    let header = idforge_jose::jws::peek_header(assertion).map_err(|_| failed("malformed JWT"))?;
    let _ = header;
    // The issuer is read before verification only to find the client's keys.
    let unverified_iss = unverified_claim(assertion, "sub").ok_or_else(|| failed("no sub"))?;
    if body_id.is_some_and(|id| id != unverified_iss) {
        return Err(Error::InvalidRequest(
            "client_id does not match the assertion".into(),
        ));
    }
    let client = ctx
        .clients
        .client(&unverified_iss)
        .await?
        .filter(|c| c.token_endpoint_auth_method == ClientAuthMethod::PrivateKeyJwt)
        .ok_or_else(|| failed("unknown client"))?;
    let jwks = client
        .jwks
        .as_ref()
        .ok_or_else(|| failed("no client keys"))?;
    let keys = KeySet::from_jwk_set(jwks).map_err(|_| failed("client keys unusable"))?;
    let verified = JwsPolicy::new(ASYMMETRIC_ALGS)
        .verify_compact(assertion, &keys)
        .map_err(|_| failed("signature"))?;
    let claims: serde_json::Map<String, Value> =
        serde_json::from_slice(&verified.payload).map_err(|_| failed("claims"))?;
    let validation = idforge_jose::ClaimsValidation {
        issuer: Some(client.client_id.clone()),
        leeway: ctx.config.leeway,
        require_exp: true,
        ..Default::default()
    };
    validation
        .validate(&verified.header, &claims, ctx.clock.as_ref())
        .map_err(|e| failed(e.code()))?;
    if claims.get("sub").and_then(Value::as_str) != Some(client.client_id.as_str()) {
        return Err(failed("sub"));
    }
    let token_endpoint = ctx.config.token_endpoint();
    let accepted = [ctx.config.issuer.as_str(), token_endpoint.as_str()];
    if crate::tokens::audience_names(&claims, &accepted) != Some(true) {
        return Err(failed("aud"));
    }
    let now = ctx.clock.now();
    let exp = claims
        .get("exp")
        .and_then(Value::as_i64)
        .ok_or_else(|| failed("exp"))?;
    if exp - now > ctx.config.max_client_assertion_lifetime {
        return Err(failed("lifetime too long"));
    }
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .ok_or_else(|| failed("no jti"))?;
    let key = TokenHash::namespaced(
        "client-assertion-jti",
        &format!("{}\0{jti}", client.client_id),
    );
    if !ctx
        .grants
        .mark(&key, exp.saturating_add(ctx.config.leeway), now)
        .await?
    {
        return Err(failed("jti replayed"));
    }
    Ok(client)
}

fn unverified_claim(jwt: &str, name: &str) -> Option<String> {
    let payload = jwt.split('.').nth(1)?;
    let bytes = idforge_jose::b64::decode(payload, "payload").ok()?;
    let v: Value = serde_json::from_slice(&bytes).ok()?;
    v.get(name)?.as_str().map(str::to_owned)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirect_uri_exact_and_loopback() {
        let c = Client::public("app")
            .with_redirect_uri("https://app.example/cb")
            .with_redirect_uri("http://127.0.0.1/cb")
            .with_redirect_uri("http://[::1]:1234/cb");
        assert_eq!(
            c.match_redirect_uri("https://app.example/cb"),
            Some("https://app.example/cb")
        );
        assert_eq!(c.match_redirect_uri("https://app.example/cb/"), None);
        assert_eq!(c.match_redirect_uri("https://app.example/cb?x=1"), None);
        assert_eq!(c.match_redirect_uri("https://APP.example/cb"), None);
        // RFC 8252 §7.3: any port on the loopback IP.
        assert_eq!(
            c.match_redirect_uri("http://127.0.0.1:51004/cb"),
            Some("http://127.0.0.1:51004/cb")
        );
        assert!(c.match_redirect_uri("http://[::1]:9/cb").is_some());
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:51004/other"), None);
        assert_eq!(c.match_redirect_uri("http://localhost:51004/cb"), None);
        assert_eq!(c.match_redirect_uri("https://127.0.0.1:51004/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:99999/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:/cb"), None);
        assert_eq!(c.match_redirect_uri("http://u@127.0.0.1:80/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:80/cb#f"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.2:80/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:80/cb?x"), None);
    }

    #[test]
    fn non_ascii_authorization_header_does_not_panic() {
        for h in ["ééé", "Basi\u{e9}x", "\u{1F600}\u{1F600}", "Bear\u{e9}r x"] {
            let req = TokenRequest {
                params: crate::model::Params::default(),
                authorization: Some(h.to_owned()),
            };
            assert!(presented(&req).is_err(), "{h}");
        }
    }

    #[test]
    fn basic_credentials_are_form_decoded() {
        let h = format!("Basic {}", STANDARD.encode("my%3Aclient:s%20ecret"));
        assert_eq!(
            parse_basic(&h).unwrap(),
            ("my:client".to_owned(), "s ecret".to_owned())
        );
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
    }
}
