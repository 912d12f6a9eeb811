//! Validation of backchannel authentication requests (CIBA §7.1, §7.1.1, §13): pure functions
//! over the parameters, the client's registration and the configuration, unit-tested without a
//! store; the signed-request check needs the client's keys and the replay mark, so it is async.

use idforge_jose::{JwsPolicy, KeySet};
use idforge_oauth_core::{Client, Context, Error, Params, Scopes};
use serde_json::{Map, Value};

use crate::model::{CibaClient, CibaConfig, MAX_NOTIFICATION_TOKEN};

/// CIBA §13 error codes with their HTTP status (400 unless stated).
pub mod codes {
    /// The `login_hint_token` has expired.
    pub const EXPIRED_LOGIN_HINT_TOKEN: &str = "expired_login_hint_token";
    /// The hint names no user the provider knows.
    pub const UNKNOWN_USER_ID: &str = "unknown_user_id";
    /// `user_code` is required and missing.
    pub const MISSING_USER_CODE: &str = "missing_user_code";
    /// `user_code` is wrong.
    pub const INVALID_USER_CODE: &str = "invalid_user_code";
    /// The `binding_message` is invalid or unacceptable.
    pub const INVALID_BINDING_MESSAGE: &str = "invalid_binding_message";
    /// Token endpoint (§11): the user has not yet decided.
    pub const AUTHORIZATION_PENDING: &str = "authorization_pending";
    /// Token endpoint (§11): polling too fast.
    pub const SLOW_DOWN: &str = "slow_down";
    /// Token endpoint (§11): the `auth_req_id` expired.
    pub const EXPIRED_TOKEN: &str = "expired_token";
}

/// Client-authentication parameters, allowed beside a signed `request` (CIBA §7.1.1).
const AUTH_PARAMS: [&str; 4] = [
    "client_id",
    "client_secret",
    "client_assertion",
    "client_assertion_type",
];

/// Claims of the signed request that are about the JWT itself (CIBA §7.1.1).
const JWT_CLAIMS: [&str; 6] = ["iss", "aud", "exp", "iat", "nbf", "jti"];

/// A CIBA §13 error with its status.
pub fn error(code: &'static str, description: &str) -> Error {
    Error::protocol(code, 400, description)
}

/// `access_denied` at the backchannel endpoint: 403 (CIBA §13).
pub fn access_denied(description: &str) -> Error {
    Error::protocol("access_denied", 403, description)
}

/// The hint naming the user (CIBA §7.1: exactly one).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Hint {
    /// `login_hint`: an identifier of the user (a username, an email address...).
    LoginHint(String),
    /// `login_hint_token`: a token about the user, in a format the deployment defines.
    LoginHintToken(String),
    /// `id_token_hint`: an ID token this provider issued to the client (may be expired).
    IdTokenHint(String),
}

/// A validated backchannel authentication request (before the user is resolved).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct BackchannelParams {
    /// `scope`, with `openid`.
    pub scopes: Scopes,
    /// The one hint.
    pub hint: Hint,
    /// `binding_message`.
    pub binding_message: Option<String>,
    /// `user_code`.
    pub user_code: Option<String>,
    /// `acr_values`, in order of preference.
    pub acr_values: Vec<String>,
    /// `requested_expiry` in seconds.
    pub requested_expiry: Option<i64>,
    /// `client_notification_token` (ping and push).
    pub client_notification_token: Option<String>,
    /// RFC 9396 `authorization_details`.
    pub authorization_details: Option<Value>,
    /// RFC 8707 `resource` values.
    pub resources: Vec<String>,
    /// `actor_token` and `actor_token_type` (on-behalf-of).
    pub actor_token: Option<(String, String)>,
}

fn invalid(why: &str) -> Error {
    Error::InvalidRequest(why.to_owned())
}

/// Validates the authentication request parameters (after a signed request was unpacked):
///
/// - §7.1 `scope` with `openid` (else `invalid_scope`); the scope values themselves are checked
///   against the provider and client by the endpoint;
/// - §7.1 exactly one of `login_hint`, `login_hint_token`, `id_token_hint` (else
///   `invalid_request`);
/// - §7.1 `binding_message` per the configured rules (else `invalid_binding_message`);
/// - §7.1 `user_code` required when the client registered `backchannel_user_code_parameter`
///   and the provider supports it (else `missing_user_code`);
/// - §7.1 `requested_expiry` a positive integer;
/// - §7.1 `client_notification_token` required for ping and push, at most 1024 characters,
///   RFC 6750 §2.1 `b64token` syntax;
/// - RFC 9396 §2 `authorization_details`: a JSON array of objects with a string `type` (of
///   the configured types, when restricted), else `invalid_authorization_details`;
/// - RFC 8707 §2 `resource`: absolute URIs without fragment, else `invalid_target`;
/// - RFC 8693 §2.1 `actor_token` with `actor_token_type`, neither without the other.
pub fn backchannel_params(
    params: &Params,
    client: &CibaClient,
    config: &CibaConfig,
    limits: &idforge_oauth_core::Limits,
) -> Result<BackchannelParams, Error> {
    let scope = params
        .get("scope")
        .ok_or_else(|| Error::InvalidScope("scope is required".into()))?;
    let scopes = Scopes::parse(scope, limits)?;
    if !scopes.contains("openid") {
        return Err(Error::InvalidScope(
            "a CIBA request must include the openid scope".into(),
        ));
    }
    let hints = [
        params
            .get("login_hint")
            .map(|h| Hint::LoginHint(h.to_owned())),
        params
            .get("login_hint_token")
            .map(|h| Hint::LoginHintToken(h.to_owned())),
        params
            .get("id_token_hint")
            .map(|h| Hint::IdTokenHint(h.to_owned())),
    ];
    let mut present = hints.into_iter().flatten();
    let hint = present
        .next()
        .ok_or_else(|| invalid("one of login_hint, login_hint_token, id_token_hint is required"))?;
    if present.next().is_some() {
        return Err(invalid("only one hint may be sent"));
    }
    let binding_message = params.get("binding_message").map(str::to_owned);
    if let Some(m) = &binding_message {
        if !config.binding_message.accepts(m) {
            return Err(error(
                codes::INVALID_BINDING_MESSAGE,
                "the binding message is too long or has characters that cannot be shown",
            ));
        }
    }
    let user_code = params.get("user_code").map(str::to_owned);
    if client.user_code_parameter && config.user_code_supported && user_code.is_none() {
        return Err(error(codes::MISSING_USER_CODE, "user_code is required"));
    }
    let acr_values = params
        .get("acr_values")
        .map(|v| {
            v.split(' ')
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default();
    let requested_expiry = match params.get("requested_expiry") {
        None => None,
        Some(v) => Some(
            v.parse::<i64>()
                .ok()
                .filter(|s| *s > 0)
                .ok_or_else(|| invalid("requested_expiry must be a positive integer"))?,
        ),
    };
    let client_notification_token = params.get("client_notification_token").map(str::to_owned);
    if client.delivery_mode.notifies() {
        match &client_notification_token {
            None => {
                return Err(invalid(
                    "client_notification_token is required in ping and push modes",
                ))
            }
            Some(t) if !is_b64token(t) || t.len() > MAX_NOTIFICATION_TOKEN => {
                return Err(invalid(
                    "client_notification_token is not a valid bearer token",
                ))
            }
            Some(_) => {}
        }
    }
    let authorization_details = match params.get("authorization_details") {
        None => None,
        Some(text) => Some(authorization_details(text, config)?),
    };
    let mut resources = Vec::new();
    for r in params.get_all("resource") {
        if !is_absolute_uri(r) {
            return Err(Error::protocol(
                "invalid_target",
                400,
                "resource must be an absolute URI without a fragment",
            ));
        }
        if !resources.contains(r) {
            resources.push(r.clone());
        }
    }
    let actor_token = match (params.get("actor_token"), params.get("actor_token_type")) {
        (None, None) => None,
        (Some(t), Some(ty)) => Some((t.to_owned(), ty.to_owned())),
        (Some(_), None) => return Err(invalid("actor_token_type is required with actor_token")),
        (None, Some(_)) => return Err(invalid("actor_token_type without actor_token")),
    };
    Ok(BackchannelParams {
        scopes,
        hint,
        binding_message,
        user_code,
        acr_values,
        requested_expiry,
        client_notification_token,
        authorization_details,
        resources,
        actor_token,
    })
}

/// RFC 6750 §2.1: `b64token = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`.
pub fn is_b64token(t: &str) -> bool {
    let body = t.trim_end_matches('=');
    !body.is_empty()
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~+/".contains(&b))
}

/// RFC 8707 §2: an absolute URI (a scheme, then `:`) without a fragment.
fn is_absolute_uri(r: &str) -> bool {
    let Some((scheme, rest)) = r.split_once(':') else {
        return false;
    };
    !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
        && !rest.is_empty()
        && !r.contains('#')
        && !r.contains(char::is_whitespace)
}

/// RFC 9396 §2: a JSON array of objects, each with a string `type`.
fn authorization_details(text: &str, config: &CibaConfig) -> Result<Value, Error> {
    let bad = |why: &str| Error::protocol("invalid_authorization_details", 400, why);
    let value = idforge_jose::json::parse_value(text.as_bytes(), 16, "authorization_details")
        .map_err(|_| bad("authorization_details is not valid JSON"))?;
    let list = value
        .as_array()
        .filter(|l| !l.is_empty())
        .ok_or_else(|| bad("authorization_details must be a non-empty array"))?;
    for item in list {
        let ty = item
            .as_object()
            .and_then(|o| o.get("type"))
            .and_then(Value::as_str)
            .ok_or_else(|| bad("each authorization detail needs a string type"))?;
        if !config.authorization_details_types.is_empty()
            && !config.authorization_details_types.iter().any(|t| t == ty)
        {
            return Err(bad("unsupported authorization details type"));
        }
    }
    Ok(value)
}

/// The `auth_req_id` lifetime (CIBA §7.1 `requested_expiry`, §7.3 `expires_in`): the
/// requested one, else the client's, else the default, capped at the configured maximum.
pub fn expires_in(config: &CibaConfig, client: &CibaClient, requested: Option<i64>) -> i64 {
    requested
        .or(client.expiry)
        .unwrap_or(config.default_expiry)
        .clamp(1, config.max_expiry)
}

/// CIBA §7.1.1: with a signed `request`, no authentication request parameter may appear outside
/// it; without one, a client that registered a signing algorithm is refused.
pub fn check_signed_presence(params: &Params, client: &CibaClient) -> Result<bool, Error> {
    let signed = params.get("request").is_some();
    if signed {
        if let Some((name, _)) = params
            .iter()
            .find(|(n, _)| *n != "request" && !AUTH_PARAMS.contains(n))
        {
            return Err(invalid(&format!(
                "`{name}` must be inside the signed request, not beside it"
            )));
        }
    } else if client.signing_alg.is_some() {
        return Err(invalid(
            "this client registered signed authentication requests",
        ));
    }
    Ok(signed)
}

/// The claims of a signed authentication request (CIBA §7.1.1), as request parameters:
/// string values as they are, other values as their JSON text.
pub fn claims_to_params(
    claims: &Map<String, Value>,
    limits: &idforge_oauth_core::Limits,
) -> Result<Params, Error> {
    let mut pairs = Vec::new();
    for (name, value) in claims {
        if JWT_CLAIMS.contains(&name.as_str()) {
            continue;
        }
        if name == "request" {
            return Err(invalid("a signed request cannot nest another"));
        }
        let text = match value {
            Value::Null => continue,
            Value::String(s) => s.clone(),
            // RFC 8707 `resource` may repeat: an array of strings becomes repeated values.
            Value::Array(list) if name == "resource" && list.iter().all(Value::is_string) => {
                for v in list {
                    pairs.push((name.clone(), v.as_str().unwrap_or_default().to_owned()));
                }
                continue;
            }
            other => other.to_string(),
        };
        if text.len() > limits.max_value_bytes {
            return Err(invalid("a parameter of the signed request is too long"));
        }
        pairs.push((name.clone(), text));
    }
    if pairs.len() > limits.max_params {
        return Err(invalid("too many parameters"));
    }
    Params::from_pairs(pairs)
}

/// The claim checks of a signed authentication request (CIBA §7.1.1), a pure function of the
/// verified claims and `now`: `iss` the client, `aud` the issuer (or the backchannel endpoint),
/// `exp`, `iat`, `nbf` and `jti` present; not expired, not before `nbf`, lifetime bounded.
/// Returns the `jti` and the time until which it must be remembered.
pub fn check_request_claims(
    claims: &Map<String, Value>,
    client_id: &str,
    config: &CibaConfig,
    leeway: i64,
    now: i64,
) -> Result<(String, i64), Error> {
    let bad = |why: &str| invalid(&format!("signed request: {why}"));
    let num = |n: &str| {
        claims
            .get(n)
            .and_then(Value::as_i64)
            .ok_or_else(|| bad(&format!("`{n}` is required")))
    };
    let (exp, iat, nbf) = (num("exp")?, num("iat")?, num("nbf")?);
    let jti = claims
        .get("jti")
        .and_then(Value::as_str)
        .filter(|j| !j.is_empty())
        .ok_or_else(|| bad("`jti` is required"))?;
    if claims.get("iss").and_then(Value::as_str) != Some(client_id) {
        return Err(bad("`iss` must be the client_id"));
    }
    let accepted = [config.issuer.clone(), config.backchannel_endpoint()];
    let accepted: Vec<&str> = accepted.iter().map(String::as_str).collect();
    if idforge_oauth_core::validate::audience_names(claims, &accepted) != Some(true) {
        return Err(bad("`aud` must name this provider"));
    }
    if exp <= now.saturating_sub(leeway) {
        return Err(bad("expired"));
    }
    if nbf > now.saturating_add(leeway) || iat > now.saturating_add(leeway) {
        return Err(bad("not yet valid"));
    }
    if exp.saturating_sub(nbf) > config.max_signed_request_lifetime {
        return Err(bad("lifetime too long"));
    }
    Ok((jti.to_owned(), exp.saturating_add(leeway)))
}

/// Verifies a signed authentication request (CIBA §7.1.1) of `client` and returns its
/// parameters: signature by a key of the client's `jwks` with its registered algorithm (or
/// one of the configured asymmetric ones), the claims of [`check_request_claims`], and the
/// `jti` accepted once (an atomic mark in the grant store).
pub async fn signed_request_params(
    ctx: &Context,
    client: &Client,
    ciba_client: &CibaClient,
    config: &CibaConfig,
    jwt: &str,
) -> Result<Params, Error> {
    let bad = |why: &str| invalid(&format!("signed request: {why}"));
    if jwt.split('.').count() != 3 || jwt.len() > ctx.config.limits.max_value_bytes {
        return Err(bad("not a signed JWT"));
    }
    let algs = match ciba_client.signing_alg {
        Some(a) => vec![a],
        None => config.signing_algs.clone(),
    };
    let jwks = client
        .jwks
        .as_ref()
        .ok_or_else(|| bad("the client has no registered keys"))?;
    let keys = KeySet::from_jwk_set(jwks).map_err(|_| bad("the client's keys are unusable"))?;
    let verified = JwsPolicy::new(algs)
        .verify_compact(jwt, &keys)
        .map_err(|_| bad("signature or algorithm not accepted"))?;
    let claims = idforge_jose::json::parse_object(&verified.payload, 16, "signed request")
        .map_err(|_| bad("the payload is not a JSON object"))?;
    let now = ctx.now();
    let (jti, until) =
        check_request_claims(&claims, &client.client_id, config, ctx.config.leeway, now)?;
    let key = idforge_oauth_core::TokenHash::namespaced(
        "ciba-request-jti",
        &format!("{}\0{jti}", client.client_id),
    );
    if !ctx.grants.mark(&key, until, now).await? {
        return Err(bad("`jti` was already used"));
    }
    claims_to_params(&claims, &ctx.config.limits)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CharacterSet, DeliveryMode};
    use idforge_oauth_core::Limits;
    use serde_json::json;

    fn cfg() -> CibaConfig {
        CibaConfig::new("https://op.example")
    }

    fn parse(pairs: &[(&str, &str)], client: &CibaClient) -> Result<BackchannelParams, Error> {
        let p = Params::from_pairs(pairs.iter().copied()).unwrap();
        backchannel_params(&p, client, &cfg(), &Limits::default())
    }

    fn ok(pairs: &[(&str, &str)]) -> BackchannelParams {
        parse(pairs, &CibaClient::default()).unwrap()
    }

    fn code(pairs: &[(&str, &str)], client: &CibaClient) -> (&'static str, u16) {
        let e = parse(pairs, client).unwrap_err();
        (e.code(), e.status())
    }

    const BASE: [(&str, &str); 2] = [("scope", "openid email"), ("login_hint", "alice")];

    fn with<'a>(extra: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
        let mut v = BASE.to_vec();
        v.extend_from_slice(extra);
        v
    }

    #[test]
    fn minimal_request() {
        let p = ok(&BASE);
        assert_eq!(p.scopes.values(), ["openid", "email"]);
        assert_eq!(p.hint, Hint::LoginHint("alice".into()));
        assert_eq!(p.binding_message, None);
        assert!(p.resources.is_empty() && p.actor_token.is_none());
    }

    #[test]
    fn scope_with_openid_is_required_s7_1() {
        let d = CibaClient::default();
        assert_eq!(code(&[("login_hint", "a")], &d), ("invalid_scope", 400));
        assert_eq!(
            code(&[("scope", "email"), ("login_hint", "a")], &d),
            ("invalid_scope", 400)
        );
    }

    #[test]
    fn exactly_one_hint_s7_1() {
        let d = CibaClient::default();
        assert_eq!(code(&[("scope", "openid")], &d), ("invalid_request", 400));
        for (a, b) in [
            ("login_hint", "login_hint_token"),
            ("login_hint", "id_token_hint"),
            ("login_hint_token", "id_token_hint"),
        ] {
            assert_eq!(
                code(&[("scope", "openid"), (a, "x"), (b, "y")], &d),
                ("invalid_request", 400)
            );
        }
        let p = ok(&[("scope", "openid"), ("login_hint_token", "t")]);
        assert_eq!(p.hint, Hint::LoginHintToken("t".into()));
        let p = ok(&[("scope", "openid"), ("id_token_hint", "jwt")]);
        assert_eq!(p.hint, Hint::IdTokenHint("jwt".into()));
    }

    #[test]
    fn binding_message_rules_s7_1() {
        let d = CibaClient::default();
        let p = ok(&with(&[("binding_message", "W4SCT")]));
        assert_eq!(p.binding_message.as_deref(), Some("W4SCT"));
        let long = "x".repeat(51);
        assert_eq!(
            code(&with(&[("binding_message", &long)]), &d),
            ("invalid_binding_message", 400)
        );
        assert_eq!(
            code(&with(&[("binding_message", "a\u{7}b")]), &d),
            ("invalid_binding_message", 400)
        );
        let mut strict = cfg();
        strict.binding_message.characters = CharacterSet::AsciiPrintable;
        let p = Params::from_pairs(with(&[("binding_message", "café")])).unwrap();
        let e = backchannel_params(&p, &d, &strict, &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_binding_message");
    }

    #[test]
    fn user_code_when_registered_s7_1() {
        let c = CibaClient::default().with_user_code();
        assert_eq!(code(&BASE, &c), ("missing_user_code", 400));
        let p = parse(&with(&[("user_code", "1234")]), &c).unwrap();
        assert_eq!(p.user_code.as_deref(), Some("1234"));
        // Not required of clients that did not register it.
        assert!(ok(&BASE).user_code.is_none());
        // Nor when the provider does not support it.
        let mut off = cfg();
        off.user_code_supported = false;
        let p = Params::from_pairs(BASE).unwrap();
        assert!(backchannel_params(&p, &c, &off, &Limits::default()).is_ok());
    }

    #[test]
    fn acr_values_and_requested_expiry_s7_1() {
        let p = ok(&with(&[
            ("acr_values", "urn:acr:mfa  urn:acr:pwd"),
            ("requested_expiry", "60"),
        ]));
        assert_eq!(p.acr_values, ["urn:acr:mfa", "urn:acr:pwd"]);
        assert_eq!(p.requested_expiry, Some(60));
        let d = CibaClient::default();
        for bad in ["0", "-5", "soon", "1.5"] {
            assert_eq!(
                code(&with(&[("requested_expiry", bad)]), &d),
                ("invalid_request", 400)
            );
        }
    }

    #[test]
    fn expiry_is_capped() {
        let c = cfg();
        let d = CibaClient::default();
        assert_eq!(expires_in(&c, &d, None), 120);
        assert_eq!(expires_in(&c, &d, Some(30)), 30);
        assert_eq!(expires_in(&c, &d, Some(100_000)), 600);
        assert_eq!(expires_in(&c, &d.clone().with_expiry(300), None), 300);
        assert_eq!(expires_in(&c, &d.with_expiry(9_000), None), 600);
    }

    #[test]
    fn notification_token_for_ping_and_push_s7_1() {
        for mode in [DeliveryMode::Ping, DeliveryMode::Push] {
            let c = CibaClient::default().with_delivery(mode, Some("https://rp/cb".into()));
            assert_eq!(code(&BASE, &c), ("invalid_request", 400));
            let long = "a".repeat(1025);
            assert_eq!(
                code(&with(&[("client_notification_token", &long)]), &c),
                ("invalid_request", 400)
            );
            assert_eq!(
                code(&with(&[("client_notification_token", "has space")]), &c),
                ("invalid_request", 400)
            );
            let p = parse(
                &with(&[("client_notification_token", "8d67dc78-7faa==")]),
                &c,
            )
            .unwrap();
            assert_eq!(
                p.client_notification_token.as_deref(),
                Some("8d67dc78-7faa==")
            );
        }
        assert!(is_b64token("abc/+~._-=="));
        assert!(!is_b64token("==="));
        assert!(!is_b64token("a=b"));
    }

    #[test]
    fn authorization_details_rfc9396() {
        let d = CibaClient::default();
        let details = r#"[{"type":"calendar_event","action":"create","with":"bob"}]"#;
        let p = ok(&with(&[("authorization_details", details)]));
        assert_eq!(
            p.authorization_details.unwrap()[0]["type"],
            json!("calendar_event")
        );
        for bad in [
            "{",
            "{}",
            "[]",
            r#"[{"action":"x"}]"#,
            r#"[{"type":7}]"#,
            "[1]",
        ] {
            assert_eq!(
                code(&with(&[("authorization_details", bad)]), &d),
                ("invalid_authorization_details", 400),
                "{bad}"
            );
        }
        let restricted = cfg().with_authorization_details_types(["payment"]);
        let p = Params::from_pairs(with(&[("authorization_details", details)])).unwrap();
        let e = backchannel_params(&p, &d, &restricted, &Limits::default()).unwrap_err();
        assert_eq!(e.code(), "invalid_authorization_details");
    }

    #[test]
    fn resources_rfc8707() {
        let d = CibaClient::default();
        let p = Params::from_pairs(with(&[
            ("resource", "https://calendar.example/"),
            ("resource", "urn:example:rs"),
        ]))
        .unwrap();
        let v = backchannel_params(&p, &d, &cfg(), &Limits::default()).unwrap();
        assert_eq!(v.resources, ["https://calendar.example/", "urn:example:rs"]);
        for bad in ["calendar", "https://rs.example/#f", ":x", "1http://x"] {
            assert_eq!(
                code(&with(&[("resource", bad)]), &d),
                ("invalid_target", 400),
                "{bad}"
            );
        }
    }

    #[test]
    fn actor_token_needs_its_type_rfc8693() {
        let d = CibaClient::default();
        assert_eq!(
            code(&with(&[("actor_token", "t")]), &d),
            ("invalid_request", 400)
        );
        assert_eq!(
            code(&with(&[("actor_token_type", "x")]), &d),
            ("invalid_request", 400)
        );
        let p = ok(&with(&[("actor_token", "t"), ("actor_token_type", "ty")]));
        assert_eq!(p.actor_token, Some(("t".into(), "ty".into())));
    }

    #[test]
    fn signed_request_presence_s7_1_1() {
        let d = CibaClient::default();
        let signed = Params::from_pairs([("request", "a.b.c"), ("client_id", "c")]).unwrap();
        assert!(check_signed_presence(&signed, &d).unwrap());
        let mixed = Params::from_pairs([("request", "a.b.c"), ("login_hint", "x")]).unwrap();
        assert_eq!(
            check_signed_presence(&mixed, &d).unwrap_err().code(),
            "invalid_request"
        );
        let plain = Params::from_pairs(BASE).unwrap();
        assert!(!check_signed_presence(&plain, &d).unwrap());
        let must_sign = d.with_signing_alg(idforge_jose::JwsAlgorithm::ES256);
        assert_eq!(
            check_signed_presence(&plain, &must_sign)
                .unwrap_err()
                .code(),
            "invalid_request"
        );
    }

    #[test]
    fn signed_request_claims_s7_1_1() {
        let c = cfg();
        let now = 1_000;
        let good = json!({
            "iss": "client", "aud": "https://op.example", "exp": now + 60, "iat": now,
            "nbf": now, "jti": "j1", "scope": "openid", "login_hint": "alice"
        });
        let claims = good.as_object().unwrap().clone();
        assert_eq!(
            check_request_claims(&claims, "client", &c, 0, now).unwrap(),
            ("j1".to_owned(), now + 60)
        );
        // The backchannel endpoint is an accepted audience too, in an array.
        let mut m = claims.clone();
        m.insert("aud".into(), json!(["https://op.example/bc-authorize"]));
        assert!(check_request_claims(&m, "client", &c, 0, now).is_ok());
        // Every one of iss, aud, exp, iat, nbf, jti is required.
        for name in JWT_CLAIMS {
            let mut m = claims.clone();
            m.remove(name);
            let e = check_request_claims(&m, "client", &c, 0, now).unwrap_err();
            assert_eq!(e.code(), "invalid_request", "{name}");
        }
        let cases = [
            ("iss", json!("other")),
            ("aud", json!("https://elsewhere.example")),
            ("exp", json!(now)),
            ("nbf", json!(now + 30)),
            ("iat", json!(now + 30)),
            ("jti", json!(7)),
            ("exp", json!(now + 4000)),
        ];
        for (name, value) in cases {
            let mut m = claims.clone();
            m.insert(name.into(), value.clone());
            assert!(
                check_request_claims(&m, "client", &c, 0, now).is_err(),
                "{name}={value}"
            );
        }
        let p = claims_to_params(&claims, &Limits::default()).unwrap();
        assert_eq!(p.get("login_hint"), Some("alice"));
        assert_eq!(p.get("jti"), None);
        let mut m = claims.clone();
        m.insert("requested_expiry".into(), json!(30));
        m.insert("authorization_details".into(), json!([{"type": "t"}]));
        m.insert("resource".into(), json!(["urn:a", "urn:b"]));
        let p = claims_to_params(&m, &Limits::default()).unwrap();
        assert_eq!(p.get("requested_expiry"), Some("30"));
        assert_eq!(p.get("authorization_details"), Some(r#"[{"type":"t"}]"#));
        assert_eq!(p.get_all("resource"), ["urn:a", "urn:b"]);
        m.insert("request".into(), json!("x"));
        assert!(claims_to_params(&m, &Limits::default()).is_err());
    }
}
