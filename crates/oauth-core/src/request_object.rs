//! Request objects passed by value (`request=<JWT>`): RFC 9101 (JWT-Secured Authorization
//! Request, JAR) and OpenID Connect Core §6.1.
//!
//! [`request_object_params`] verifies a request object against the client's registered keys and
//! returns the authorization request parameters it carries, which replace the query's (RFC 9101
//! §5). The authorization endpoint and the pushed authorization request endpoint both call it, so
//! the rules live in one place:
//!
//! - signed with an asymmetric algorithm: the client's `request_object_signing_alg` if it
//!   registered one, else any of [`REQUEST_OBJECT_SIGNING_ALGS`] that its key fits; never `none`
//!   (not even representable in `idforge_jose`) and never `HS*` (RFC 9101 §10.1, RFC 8725 §3.1);
//! - verified with a key of the client's `jwks` (RFC 9101 §4: signed by the client);
//! - `typ`, if present, is `oauth-authz-req+jwt` or `JWT` (RFC 9101 §4, §10.8);
//! - `iss`, if present, is the client id; `aud`, if present, contains the issuer; `exp` and `nbf`
//!   are checked against the clock when present; a `jti`, when present, is accepted once (RFC
//!   9101 §4, §10.3 replay);
//! - `client_id` inside equals the `client_id` of the query (RFC 9101 §5);
//! - `request` and `request_uri` are not allowed inside (RFC 9101 §4);
//! - encrypted (JWE) request objects are refused: this provider has no decryption keys.
//!
//! Every failure is `invalid_request_object` (RFC 9101 §6.1, OIDC Core §3.1.2.6).

use idforge_jose::{JwsAlgorithm, JwsPolicy, KeySet};
use serde_json::{Map, Value};

use crate::client::{Client, ASYMMETRIC_ALGS};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Params;
use crate::secret::TokenHash;

/// The media type of RFC 9101 §10.8 (`typ` header `oauth-authz-req+jwt`).
pub const REQUEST_OBJECT_TYP: &str = "oauth-authz-req+jwt";

/// The algorithms a request object may be signed with when the client registered no
/// `request_object_signing_alg` (asymmetric only, RFC 9101 §10.1); advertised as
/// `request_object_signing_alg_values_supported` (OIDC Discovery §3).
pub const REQUEST_OBJECT_SIGNING_ALGS: [JwsAlgorithm; 10] = ASYMMETRIC_ALGS;

/// How long a `jti` of a request object without `exp` is remembered, in seconds. A request
/// object with `exp` is remembered until `exp` (plus leeway).
pub const JTI_MEMORY_WITHOUT_EXP: i64 = 24 * 3600;

/// JWT claims describing the request object itself (RFC 7519 §4.1), not authorization request
/// parameters; they are not copied into the request.
const JWT_CLAIMS: [&str; 7] = ["iss", "aud", "exp", "nbf", "iat", "jti", "sub"];

fn bad(why: impl Into<String>) -> Error {
    Error::InvalidRequestObject(why.into())
}

/// Verifies the request object `jwt` sent by `client` (RFC 9101 §4, §5; OIDC Core §6.1, §6.3)
/// and returns the authorization request parameters: the ones inside the object, plus
/// `client_id`, and `response_type` and `scope` from `query` when the object lacks them (OIDC
/// Core §6.1 requires them in the query too; when both carry one, they must be equal). Every
/// other query parameter is ignored (RFC 9101 §5).
pub async fn request_object_params(
    ctx: &Context,
    client: &Client,
    jwt: &str,
    query: &Params,
) -> Result<Params> {
    let claims = verify(ctx, client, jwt).await?;
    let mut pairs: Vec<(String, String)> = Vec::with_capacity(claims.len() + 3);
    for (name, value) in &claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        // Checked by `verify`; added back below from the query.
        if name == "client_id" {
            continue;
        }
        let text = match value {
            Value::String(s) => s.clone(),
            Value::Null => continue,
            // `claims` (OIDC Core §5.5), `max_age` and any other non-string member travel as
            // their JSON text, as they would in a query string.
            other => other.to_string(),
        };
        if text.len() > ctx.config.limits.max_value_bytes {
            return Err(bad(format!("`{name}` is too long")));
        }
        pairs.push((name.clone(), text));
    }
    // OIDC Core §6.1: response_type (and client_id) "MUST match those in the Request Object, if
    // present"; scope with `openid` must also be sent as a query parameter. The object wins;
    // the query fills in what it lacks, and a disagreement is an error.
    for name in ["response_type", "scope"] {
        let inside = pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.clone());
        match (inside, query.get(name)) {
            (Some(i), Some(q)) if !same_value(name, &i, q) => {
                return Err(bad(format!(
                    "`{name}` differs between the request object and the query"
                )))
            }
            (None, Some(q)) => pairs.push((name.to_owned(), q.to_owned())),
            _ => {}
        }
    }
    pairs.push(("client_id".into(), client.client_id.clone()));
    if pairs.len() > ctx.config.limits.max_params {
        return Err(bad("too many parameters"));
    }
    Params::from_pairs(pairs).map_err(|_| bad("repeated parameter"))
}

/// `scope` compares as a set (RFC 6749 §3.3), everything else exactly.
fn same_value(name: &str, a: &str, b: &str) -> bool {
    if name != "scope" {
        return a == b;
    }
    fn set(s: &str) -> Vec<&str> {
        let mut v: Vec<&str> = s.split(' ').filter(|t| !t.is_empty()).collect();
        v.sort_unstable();
        v.dedup();
        v
    }
    set(a) == set(b)
}

/// The algorithms `client` may sign request objects with.
fn allowed_algs(client: &Client) -> Result<Vec<JwsAlgorithm>> {
    // `Client::validate` refuses a symmetric value when the client is loaded; a client from a
    // store that skipped it is refused here too (RFC 9101 §10.1: no MAC with a shared secret
    // this provider does not hold).
    match client.request_object_signing_alg {
        None => Ok(REQUEST_OBJECT_SIGNING_ALGS.to_vec()),
        Some(alg) if REQUEST_OBJECT_SIGNING_ALGS.contains(&alg) => Ok(vec![alg]),
        Some(_) => Err(bad(
            "the client's request_object_signing_alg is not an accepted algorithm",
        )),
    }
}

/// Signature and claim checks; returns the claims.
async fn verify(ctx: &Context, client: &Client, jwt: &str) -> Result<Map<String, Value>> {
    match jwt.split('.').count() {
        3 => {}
        // RFC 9101 §4 allows encrypting the object to the OP; this provider has no decryption
        // keys (its key store only signs), so it cannot read one.
        5 => return Err(bad("encrypted request objects are not supported")),
        _ => return Err(bad("the request object is not a JWT")),
    }
    let header =
        idforge_jose::jws::peek_header(jwt).map_err(|_| bad("malformed request object header"))?;
    match header.alg() {
        // RFC 9101 §10.1 / OIDC Core §6.1: unsigned request objects are refused.
        Some("none") | None => return Err(bad("the request object must be signed")),
        _ => {}
    }
    if let Some(typ) = header.typ() {
        if !idforge_jose::jws::media_type_eq(typ, REQUEST_OBJECT_TYP)
            && !idforge_jose::jws::media_type_eq(typ, "JWT")
        {
            return Err(bad("unexpected request object typ"));
        }
    }
    let jwks = client
        .jwks
        .as_ref()
        .ok_or_else(|| bad("the client has no registered keys"))?;
    let keys = KeySet::from_jwk_set(jwks).map_err(|_| bad("the client's keys are unusable"))?;
    let verified = JwsPolicy::new(allowed_algs(client)?)
        .verify_compact(jwt, &keys)
        .map_err(|e| match e {
            idforge_jose::Error::AlgorithmNotAllowed(_)
            | idforge_jose::Error::UnsupportedAlgorithm(_) => {
                bad("the request object's algorithm is not accepted for this client")
            }
            idforge_jose::Error::KeyNotFound(_) => {
                bad("no registered key of the client fits the request object")
            }
            _ => bad("the request object's signature is invalid"),
        })?;
    let claims = idforge_jose::json::parse_object(&verified.payload, 16, "request object")
        .map_err(|_| bad("the request object's payload is not a JSON object"))?;
    // exp / nbf (and an iat in the future) against the clock, when present.
    let validation = idforge_jose::ClaimsValidation {
        leeway: ctx.config.leeway,
        require_exp: false,
        ..Default::default()
    };
    validation
        .validate(&verified.header, &claims, ctx.clock.as_ref())
        .map_err(|e| bad(format!("request object: {e}")))?;
    // RFC 9101 §4: iss, if present, is the client id.
    match claims.get("iss") {
        None => {}
        Some(Value::String(iss)) if *iss == client.client_id => {}
        Some(_) => return Err(bad("the request object's iss is not the client_id")),
    }
    // RFC 9101 §4: aud, if present, is (or contains) the issuer identifier.
    if crate::validate::audience_names(&claims, &[&ctx.config.issuer]) == Some(false) {
        return Err(bad("the request object's aud does not name this provider"));
    }
    // RFC 9101 §4: "request" and "request_uri" MUST NOT be included in request objects.
    for nested in ["request", "request_uri"] {
        if claims.contains_key(nested) {
            return Err(bad(format!(
                "`{nested}` is not allowed inside a request object"
            )));
        }
    }
    // RFC 9101 §5: the client_id inside, if present, is the one of the query.
    if claims
        .get("client_id")
        .is_some_and(|c| c.as_str() != Some(client.client_id.as_str()))
    {
        return Err(bad("client_id does not match the request's client_id"));
    }
    // RFC 9101 §10.3: a jti is accepted once, through the same atomic `mark` as client
    // assertions' jti (RFC 7523 §3 item 7), in its own namespace.
    if let Some(jti) = claims.get("jti") {
        let jti = jti
            .as_str()
            .ok_or_else(|| bad("the request object's jti is not a string"))?;
        let now = ctx.clock.now();
        let until = match claims.get("exp").and_then(Value::as_i64) {
            Some(exp) => exp.saturating_add(ctx.config.leeway),
            None => now.saturating_add(JTI_MEMORY_WITHOUT_EXP),
        };
        let key = TokenHash::namespaced(
            "request-object-jti",
            &format!("{}\0{jti}", client.client_id),
        );
        if !ctx.grants.mark(&key, until, now).await? {
            return Err(bad("the request object was already used (jti replay)"));
        }
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scope_compares_as_a_set() {
        assert!(same_value("scope", "openid profile", "profile  openid"));
        assert!(!same_value("scope", "openid", "openid profile"));
        assert!(!same_value("response_type", "code", "code "));
    }
}
