//! Client authentication at the token, introspection, revocation and PAR endpoints (RFC 6749
//! §2.3, RFC 7523 §2.2 / OIDC Core §9 `private_key_jwt`).
//!
//! [`presented`] reads which credentials a request carries (a pure function of the request),
//! [`accepts`] decides whether a client registered with one method may use the presented
//! one, and [`authenticate_client`] is the thin async wrapper that looks the client up.

use base64::engine::general_purpose::STANDARD;
use base64::Engine;
use idforge_jose::{crypto::ct_eq, JwsPolicy, KeySet};
use serde_json::Value;

use crate::client::{Client, ClientAuthMethod, ASYMMETRIC_ALGS};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::TokenRequest;
use crate::secret::TokenHash;

/// The client-assertion type of RFC 7523 §2.2.
pub const JWT_BEARER_ASSERTION: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// The credentials a request carries (RFC 6749 §2.3), read before any client is looked up.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Credentials {
    /// A client secret, sent with HTTP Basic or in the form body.
    Secret {
        /// The client id.
        client_id: String,
        /// The secret.
        secret: String,
        /// How it was sent (`client_secret_basic` or `client_secret_post`).
        method: ClientAuthMethod,
    },
    /// A `private_key_jwt` client assertion (RFC 7523 §2.2).
    Assertion {
        /// The `client_id` form parameter, if sent (it must then name the assertion's `sub`).
        client_id: Option<String>,
        /// The JWT.
        assertion: String,
    },
    /// Only a `client_id`: a public client (RFC 6749 §2.1).
    Public {
        /// The client id.
        client_id: String,
    },
    /// Nothing at all: an anonymous request, which only grants whose specification allows it
    /// accept (e.g. the OID4VCI pre-authorized code).
    Anonymous,
}

/// Whether a client registered for `registered` may authenticate with `presented`.
///
/// `client_secret_basic` and `client_secret_post` carry the same secret (RFC 6749 §2.3.1), so
/// a client registered for one is accepted with the other, as node-oidc-provider and Keycloak
/// do (certified relying parties such as openid-client default to `post`). A `private_key_jwt`
/// or `none` client never authenticates with a secret, and a secret client never as public.
pub fn accepts(registered: ClientAuthMethod, presented: ClientAuthMethod) -> bool {
    use ClientAuthMethod::{ClientSecretBasic, ClientSecretPost};
    match registered {
        ClientSecretBasic | ClientSecretPost => {
            matches!(presented, ClientSecretBasic | ClientSecretPost)
        }
        other => other == presented,
    }
}

/// Whether `secret` is `client`'s secret and its registration accepts `method`. Hashes and
/// compares in constant time even for unknown clients, so timing does not reveal which ids
/// exist.
fn secret_matches(client: Option<&Client>, secret: &str, method: ClientAuthMethod) -> bool {
    let presented = TokenHash::of(secret);
    let stored = client
        .and_then(|c| c.client_secret_hash)
        .unwrap_or(TokenHash([0; 32]));
    let equal = ct_eq(&presented.0, &stored.0);
    equal && client.is_some_and(|c| accepts(c.token_endpoint_auth_method, method))
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

/// Reads the credentials of a request: at most one method (RFC 6749 §2.3), a `client_id`
/// parameter agreeing with them.
pub fn presented(req: &TokenRequest) -> Result<Credentials> {
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
        return Ok(Credentials::Secret {
            client_id: id,
            secret,
            method: ClientAuthMethod::ClientSecretBasic,
        });
    }
    if let Some(secret) = post_secret {
        let client_id = body_id
            .ok_or_else(|| Error::InvalidRequest("client_secret without client_id".into()))?;
        return Ok(Credentials::Secret {
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
        return Ok(Credentials::Assertion {
            client_id: body_id.map(str::to_owned),
            assertion: assertion.to_owned(),
        });
    }
    match body_id {
        Some(id) => Ok(Credentials::Public {
            client_id: id.to_owned(),
        }),
        None => Ok(Credentials::Anonymous),
    }
}

/// Authenticates the client of a token, introspection, revocation or PAR request (RFC 6749
/// §2.3, §3.2.1) with a method its registration accepts ([`accepts`]); anonymous requests are
/// `invalid_client`.
pub async fn authenticate_client(ctx: &Context, req: &TokenRequest) -> Result<Client> {
    authenticate_optional(ctx, req)
        .await?
        .ok_or_else(|| Error::InvalidClient("client authentication required".into()))
}

/// As [`authenticate_client`], but a request carrying no credentials at all is `Ok(None)`:
/// for grants that allow anonymous access. Presented credentials must still be right.
pub async fn authenticate_optional(ctx: &Context, req: &TokenRequest) -> Result<Option<Client>> {
    let failed = || Error::InvalidClient("client authentication failed".into());
    match presented(req)? {
        Credentials::Anonymous => Ok(None),
        Credentials::Secret {
            client_id,
            secret,
            method,
        } => {
            let client = ctx.clients.client(&client_id).await?;
            if secret_matches(client.as_ref(), &secret, method) {
                Ok(client)
            } else {
                Err(failed())
            }
        }
        Credentials::Public { client_id } => match ctx.clients.client(&client_id).await? {
            Some(c) if c.token_endpoint_auth_method == ClientAuthMethod::None => Ok(Some(c)),
            _ => Err(failed()),
        },
        Credentials::Assertion {
            client_id,
            assertion,
        } => private_key_jwt(ctx, client_id.as_deref(), &assertion)
            .await
            .map(Some),
    }
}

/// RFC 7523 §3 / OIDC Core §9 `private_key_jwt`: `iss` = `sub` = client id; `aud` identifies
/// this server: its issuer or the URL of any endpoint the assertion may be sent to
/// ([`Context::client_assertion_audiences`]; CIBA §7.1 sends it to the backchannel endpoint); `exp` required and not too far ahead; `jti`
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
    let audiences = ctx.client_assertion_audiences();
    let accepted: Vec<&str> = audiences.iter().map(String::as_str).collect();
    if crate::validate::audience_names(&claims, &accepted) != Some(true) {
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
    fn non_ascii_authorization_header_does_not_panic() {
        for h in ["ééé", "Basi\u{e9}x", "\u{1F600}\u{1F600}", "Bear\u{e9}r x"] {
            let req = TokenRequest {
                params: crate::model::Params::default(),
                authorization: Some(h.to_owned()),
            };
            // Not HTTP Basic, so no credentials: anonymous, which only grants allowing it
            // accept.
            assert_eq!(presented(&req), Ok(Credentials::Anonymous), "{h}");
        }
    }

    fn form(pairs: &[(&str, &str)], authorization: Option<String>) -> TokenRequest {
        TokenRequest {
            params: crate::model::Params::from_pairs(pairs.iter().copied()).unwrap(),
            authorization,
        }
    }

    #[test]
    fn secret_methods_are_interchangeable_and_nothing_else_is() {
        use ClientAuthMethod::*;
        // RFC 6749 §2.3.1: basic and post carry the same secret.
        assert!(accepts(ClientSecretBasic, ClientSecretPost));
        assert!(accepts(ClientSecretPost, ClientSecretBasic));
        assert!(accepts(ClientSecretBasic, ClientSecretBasic));
        // A private_key_jwt or public client never authenticates with a secret.
        assert!(!accepts(PrivateKeyJwt, ClientSecretBasic));
        assert!(!accepts(PrivateKeyJwt, ClientSecretPost));
        assert!(!accepts(None, ClientSecretPost));
        assert!(!accepts(ClientSecretBasic, None));
        assert!(!accepts(ClientSecretPost, PrivateKeyJwt));
    }

    #[test]
    fn secret_checks_in_constant_shape() {
        let basic = Client::confidential("c", "s");
        let post =
            Client::confidential("c", "s").with_auth_method(ClientAuthMethod::ClientSecretPost);
        let jwt = Client::confidential("c", "s").with_auth_method(ClientAuthMethod::PrivateKeyJwt);
        assert!(secret_matches(
            Some(&basic),
            "s",
            ClientAuthMethod::ClientSecretPost
        ));
        assert!(secret_matches(
            Some(&post),
            "s",
            ClientAuthMethod::ClientSecretBasic
        ));
        assert!(!secret_matches(
            Some(&basic),
            "wrong",
            ClientAuthMethod::ClientSecretBasic
        ));
        assert!(!secret_matches(
            Some(&jwt),
            "s",
            ClientAuthMethod::ClientSecretPost
        ));
        assert!(!secret_matches(
            None,
            "s",
            ClientAuthMethod::ClientSecretBasic
        ));
    }

    #[test]
    fn presented_credentials() {
        let basic = format!("Basic {}", STANDARD.encode("c:s"));
        assert_eq!(
            presented(&form(&[], Some(basic.clone()))),
            Ok(Credentials::Secret {
                client_id: "c".into(),
                secret: "s".into(),
                method: ClientAuthMethod::ClientSecretBasic
            })
        );
        // RFC 6749 §2.3: one method per request.
        let two = presented(&form(
            &[("client_id", "c"), ("client_secret", "s")],
            Some(basic),
        ));
        assert_eq!(two.unwrap_err().code(), "invalid_request");
        assert_eq!(
            presented(&form(&[("client_id", "p")], None)),
            Ok(Credentials::Public {
                client_id: "p".into()
            })
        );
        assert_eq!(presented(&form(&[], None)), Ok(Credentials::Anonymous));
        let e = presented(&form(&[("client_assertion", "x.y.z")], None)).unwrap_err();
        assert_eq!(e.code(), "invalid_request");
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
