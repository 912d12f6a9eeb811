//! Request objects by value (RFC 9101 JAR, OIDC Core §6.1) and pushed authorization requests
//! (RFC 9126): end-to-end flows, every rejection with its error code, single use, client
//! binding, expiry via the clock, concurrency.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use idforge_jose::{
    crypto::EcCurve, Header, JwsAlgorithm, JwsPolicy, Key, KeySet, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::MemoryPushedRequestStore;
use idforge_oauth_core::{
    Client, ClientStore, Config, Error, Interaction, PushedAuthorizationResponse,
};
use serde_json::{json, Value};

const PAR_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// Signs `claims` as a request object with `key` (`typ: oauth-authz-req+jwt`).
fn sign_with(key: &Key, alg: JwsAlgorithm, claims: &Value) -> String {
    let signer = LocalSigner::new(key.clone(), alg).unwrap();
    idforge_jose::sign_jwt(
        Header::new().with_typ("oauth-authz-req+jwt"),
        claims.as_object().unwrap(),
        &signer,
    )
    .unwrap()
}

/// A request object from client `jwt`, signed with its registered key.
fn sign(env: &Env, claims: &Value) -> String {
    sign_with(&env.client_key, JwsAlgorithm::ES256, claims)
}

/// A complete request object for client `jwt`.
fn ro_claims(jti: &str) -> Value {
    json!({
        "iss": "jwt", "aud": ISSUER, "exp": NOW + 60, "iat": NOW, "nbf": NOW - 5, "jti": jti,
        "client_id": "jwt", "response_type": "code", "redirect_uri": RP_CB,
        "scope": "openid profile", "state": "inside", "nonce": "n-inside",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256",
        "max_age": 3600, "claims": {"id_token": {"email": null}}
    })
}

fn with(mut claims: Value, name: &str, value: Value) -> Value {
    claims[name] = value;
    claims
}

fn without(mut claims: Value, name: &str) -> Value {
    claims.as_object_mut().unwrap().remove(name);
    claims
}

/// The front-channel query carrying `request`: OAuth parameters outside the object are ignored
/// (the `state` and `nonce` here must not win).
fn ro_query(jwt: &str) -> String {
    format!(
        "client_id=jwt&response_type=code&scope=openid%20profile&redirect_uri={}&state=outside&nonce=n-outside&request={jwt}",
        urlencode(RP_CB)
    )
}

fn client_assertion(env: &Env, jti: &str) -> String {
    let claims =
        json!({"iss": "jwt", "sub": "jwt", "aud": ISSUER, "exp": NOW + 60, "iat": NOW, "jti": jti});
    let signer = LocalSigner::new(env.client_key.clone(), JwsAlgorithm::ES256).unwrap();
    idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap()
}

fn assertion_params(env: &Env, jti: &str) -> String {
    format!(
        "client_assertion_type={}&client_assertion={}",
        urlencode(idforge_oauth_core::client_auth::JWT_BEARER_ASSERTION),
        client_assertion(env, jti)
    )
}

fn claims_of(env: &Env, jwt: &str) -> serde_json::Map<String, Value> {
    let keys = KeySet::new(vec![env.op_key.to_public().unwrap()]);
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &keys)
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

/// Redeems `code` for client `jwt` (private_key_jwt) and returns the ID token's claims.
async fn redeem_as_jwt_client(env: &Env, code: &str) -> serde_json::Map<String, Value> {
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}&{}",
        urlencode(RP_CB),
        assertion_params(env, &format!("assert-{code}"))
    );
    let tokens = env
        .provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap();
    claims_of(env, tokens.id_token.as_deref().unwrap())
}

async fn start(env: &Env, query: &str) -> Interaction {
    env.provider
        .authorization
        .start(query.as_bytes(), Some(&alice()))
        .await
}

/// `error: error_description` of a request object rejected after the query's redirect URI was
/// trusted.
async fn ro_error(env: &Env, jwt: &str) -> String {
    let r = redirect(start(env, &ro_query(jwt)).await);
    assert_eq!(r.param("code"), None, "{r:?}");
    assert_eq!(r.redirect_uri, RP_CB);
    // The object was not accepted, so the state is the query's.
    assert_eq!(r.param("state"), Some("outside"));
    assert_eq!(r.param("iss"), Some(ISSUER));
    format!(
        "{}: {}",
        r.param("error").unwrap(),
        r.param("error_description").unwrap_or("")
    )
}

#[tokio::test]
async fn signed_request_object_flow_end_to_end() {
    let env = env();
    let jwt = sign(&env, &ro_claims("ro-1"));
    let r = redirect(start(&env, &ro_query(&jwt)).await);
    assert_eq!(r.param("error"), None, "{r:?}");
    // RFC 9101 §5: the object's parameters, not the query's.
    assert_eq!(r.param("state"), Some("inside"));
    let code = r.param("code").unwrap().to_owned();
    let id = redeem_as_jwt_client(&env, &code).await;
    assert_eq!(id["nonce"], "n-inside");
    assert_eq!(id["aud"], "jwt");
    assert_eq!(id["sub"], "alice-sub");
    // The `claims` member (a JSON object inside the JWT) reached the ID token.
    assert_eq!(id["email"], "alice@example.com");

    // A minimal object (RFC 9101 only: no iss, aud, exp, jti) with response_type and scope
    // only in the query (OIDC Core §6.1 lets them be there).
    let minimal = json!({
        "redirect_uri": RP_CB, "state": "min", "nonce": "n-min",
        "code_challenge": CHALLENGE, "code_challenge_method": "S256"
    });
    let r = redirect(start(&env, &ro_query(&sign(&env, &minimal))).await);
    assert_eq!(r.param("error"), None, "{r:?}");
    assert_eq!(r.param("state"), Some("min"));

    // Without redirect_uri in the object, the query's is ignored: an openid request then has
    // none (OIDC Core §3.1.2.1), and the error is shown, not redirected.
    let no_redirect = without(ro_claims("ro-2"), "redirect_uri");
    match start(&env, &ro_query(&sign(&env, &no_redirect))).await {
        Interaction::ShowError(e) => assert_eq!(e.code(), "invalid_request"),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn request_object_rejections_have_their_error_codes() {
    let env = env();
    let ok = sign(&env, &ro_claims("base"));
    let mut parts: Vec<String> = ok.split('.').map(str::to_owned).collect();
    // Bad signature: the payload of another object under this signature.
    let other = sign(&env, &ro_claims("other"));
    parts[1] = other.split('.').nth(1).unwrap().to_owned();
    let tampered = parts.join(".");
    // alg none (RFC 9101 §10.1: never accepted).
    let b64 = |v: &Value| idforge_jose::b64::encode(v.to_string().as_bytes());
    let none = format!(
        "{}.{}.",
        b64(&json!({"alg": "none", "typ": "oauth-authz-req+jwt"})),
        b64(&ro_claims("none"))
    );
    // HS256: symmetric algorithms are not accepted (the client's keys are asymmetric).
    let hs = format!(
        "{}.{}.c2lnbmF0dXJl",
        b64(&json!({"alg": "HS256"})),
        b64(&ro_claims("hs"))
    );
    // A key the client never registered.
    let stranger = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let unregistered = sign_with(&stranger, JwsAlgorithm::ES256, &ro_claims("unreg"));
    let stranger_same_kid = Key::from_jwk(stranger.jwk().clone().with_kid("rp-1")).unwrap();
    let unregistered_kid = sign_with(
        &stranger_same_kid,
        JwsAlgorithm::ES256,
        &ro_claims("unreg2"),
    );
    let cases: Vec<(&str, String, &str)> = vec![
        ("bad signature", tampered, "signature is invalid"),
        ("alg none", none, "must be signed"),
        ("HS256", hs, "algorithm is not accepted"),
        ("unregistered key", unregistered, "signature is invalid"),
        (
            "unregistered key, registered kid",
            unregistered_kid,
            "signature is invalid",
        ),
        (
            "wrong iss",
            sign(&env, &with(ro_claims("c1"), "iss", json!("web"))),
            "iss is not",
        ),
        (
            "wrong aud",
            sign(
                &env,
                &with(ro_claims("c2"), "aud", json!("https://other.example")),
            ),
            "aud does not",
        ),
        (
            "aud array without us",
            sign(
                &env,
                &with(ro_claims("c3"), "aud", json!(["https://a.example"])),
            ),
            "aud does not",
        ),
        (
            "wrong client_id",
            sign(&env, &with(ro_claims("c4"), "client_id", json!("web"))),
            "client_id does not match",
        ),
        (
            "expired",
            sign(&env, &with(ro_claims("c5"), "exp", json!(NOW - 120))),
            "expired",
        ),
        (
            "not yet valid",
            sign(&env, &with(ro_claims("c6"), "nbf", json!(NOW + 600))),
            "not yet valid",
        ),
        (
            "nested request",
            sign(&env, &with(ro_claims("c7"), "request", json!(ok.clone()))),
            "`request` is not allowed",
        ),
        (
            "nested request_uri",
            sign(&env, &with(ro_claims("c8"), "request_uri", json!("urn:x"))),
            "`request_uri` is not allowed",
        ),
        (
            "response_type differs",
            sign(
                &env,
                &with(ro_claims("c9"), "response_type", json!("token")),
            ),
            "`response_type` differs",
        ),
        (
            "scope differs",
            sign(
                &env,
                &with(ro_claims("c10"), "scope", json!("openid email")),
            ),
            "`scope` differs",
        ),
        (
            "encrypted (JWE)",
            "eyJhbGciOiJSU0EtT0FFUCJ9.a.b.c.d".to_owned(),
            "encrypted request objects",
        ),
        ("not a JWT", "abc".to_owned(), "not a JWT"),
    ];
    for (what, jwt, why) in cases {
        let e = ro_error(&env, &jwt).await;
        assert!(e.starts_with("invalid_request_object: "), "{what}: {e}");
        assert!(e.contains(why), "{what}: {e}");
    }
    // Replayed jti (RFC 9101 §10.3): the first use passes, the second is refused.
    let once = sign(&env, &ro_claims("once"));
    assert!(redirect(start(&env, &ro_query(&once)).await)
        .param("code")
        .is_some());
    assert!(ro_error(&env, &once).await.contains("jti replay"));
    // Expiry via the clock: valid now, expired two minutes later (leeway 30 s).
    let later = sign(&env, &ro_claims("later"));
    env.clock.advance(120);
    assert_eq!(
        ro_error(&env, &later).await,
        "invalid_request_object: request object: token expired"
    );
}

#[tokio::test]
async fn request_object_rules_for_the_client() {
    let env = env();
    // A client that registered ES384 may not sign with ES256 (RFC 9101 §10.5).
    let jwks = env.clients.client("jwt").await.unwrap().unwrap().jwks;
    let mut es384 = Client::confidential("es384", "x")
        .with_redirect_uri(RP_CB)
        .with_consent_implied()
        .with_request_object_signing_alg(JwsAlgorithm::ES384);
    es384.jwks = jwks.clone();
    env.clients.insert(es384);
    let claims = with(
        with(ro_claims("r1"), "client_id", json!("es384")),
        "iss",
        json!("es384"),
    );
    let q = ro_query(&sign(&env, &claims)).replace("client_id=jwt", "client_id=es384");
    let r = redirect(start(&env, &q).await);
    assert_eq!(r.param("error"), Some("invalid_request_object"));
    // Registering HS256 does not make a symmetric request object acceptable.
    let mut hs = Client::confidential("hs", "x")
        .with_redirect_uri(RP_CB)
        .with_consent_implied()
        .with_request_object_signing_alg(JwsAlgorithm::HS256);
    hs.jwks = jwks.clone();
    // Refused when loaded...
    assert!(hs.validate().is_err());
    // ...and by the request object rules if a store skipped validation.
    env.clients.insert(hs);
    let claims = with(
        with(ro_claims("r2"), "client_id", json!("hs")),
        "iss",
        json!("hs"),
    );
    let q = ro_query(&sign(&env, &claims)).replace("client_id=jwt", "client_id=hs");
    assert_eq!(
        redirect(start(&env, &q).await).param("error"),
        Some("invalid_request_object")
    );
    // A client without keys cannot send request objects.
    let claims = with(
        with(ro_claims("r3"), "client_id", json!("web")),
        "iss",
        json!("web"),
    );
    let q = ro_query(&sign(&env, &claims)).replace("client_id=jwt", "client_id=web");
    assert_eq!(
        redirect(start(&env, &q).await).param("error"),
        Some("invalid_request_object")
    );
    // Until client and redirect URI are trusted, errors are shown, never redirected.
    let q = format!(
        "client_id=jwt&request={}",
        sign(&env, &with(ro_claims("r4"), "iss", json!("x")))
    );
    match start(&env, &q).await {
        // `jwt` has one registered redirect URI and the query has no `openid` scope, so that
        // one is trusted (RFC 6749 §3.1.2.3) and the error is redirected there.
        Interaction::Redirect(r) => assert_eq!(r.param("error"), Some("invalid_request_object")),
        other => panic!("{other:?}"),
    }
    let q = format!(
        "client_id=jwt&scope=openid&redirect_uri=https%3A%2F%2Fevil.example%2F&request={}",
        sign(&env, &with(ro_claims("r5"), "iss", json!("x")))
    );
    match start(&env, &q).await {
        Interaction::ShowError(e) => assert_eq!(e.code(), "invalid_request_object"),
        other => panic!("{other:?}"),
    }
    // `request` and `request_uri` together.
    let q = format!(
        "{}&request_uri={PAR_PREFIX}abc",
        ro_query(&sign(&env, &ro_claims("r6")))
    );
    assert_eq!(
        redirect(start(&env, &q).await).param("error"),
        Some("invalid_request")
    );
}

// ------------------------------------------------------------------------------------------
// Pushed authorization requests (RFC 9126)

fn web_par_body() -> String {
    format!(
        "response_type=code&client_id=web&redirect_uri={}&scope=openid%20profile%20email&state=par-state&nonce=par-nonce&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode(RP_CB)
    )
}

async fn push(
    env: &Env,
    body: &str,
    auth: Option<&str>,
) -> Result<PushedAuthorizationResponse, Error> {
    env.provider
        .pushed_authorization
        .handle_form(body.as_bytes(), auth)
        .await
}

async fn push_web(env: &Env) -> String {
    let r = push(env, &web_par_body(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    r.request_uri
}

fn par_query(client_id: &str, request_uri: &str) -> String {
    format!(
        "client_id={client_id}&request_uri={}",
        urlencode(request_uri)
    )
}

#[tokio::test]
async fn par_end_to_end() {
    let env = env();
    let r = push(&env, &web_par_body(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    assert_eq!(r.expires_in, 60);
    let random = r.request_uri.strip_prefix(PAR_PREFIX).unwrap();
    // 256 bits, base64url.
    assert_eq!(random.len(), 43, "{random}");
    let r = redirect(start(&env, &par_query("web", &r.request_uri)).await);
    assert_eq!(r.param("error"), None, "{r:?}");
    assert_eq!(r.param("state"), Some("par-state"));
    let code = r.param("code").unwrap();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    let tokens = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    assert_eq!(
        claims_of(&env, &tokens.id_token.unwrap())["nonce"],
        "par-nonce"
    );

    // Other query parameters are ignored once a request_uri is used (RFC 9126 §4).
    let uri = push_web(&env).await;
    let q = format!(
        "{}&state=outside&scope=openid%20phone",
        par_query("web", &uri)
    );
    let r = redirect(start(&env, &q).await);
    assert_eq!(r.param("state"), Some("par-state"));

    // client_secret_post, with the credentials left out of the stored request.
    let body = web_par_body().replace("client_id=web", "client_id=post&client_secret=post-secret");
    let r = push(&env, &body, None).await.unwrap();
    let r = redirect(start(&env, &par_query("post", &r.request_uri)).await);
    assert!(r.param("code").is_some(), "{r:?}");
}

#[tokio::test]
async fn par_validates_like_the_authorization_endpoint() {
    let env = env();
    let auth = basic("web", "web-secret");
    let base = web_par_body();
    let cases = [
        // Client authentication as at the token endpoint.
        (base.clone(), Some(basic("web", "wrong")), "invalid_client"),
        (base.clone(), None, "invalid_client"),
        (
            base.replace("client_id=web", "client_id=post"),
            Some(auth.clone()),
            "invalid_request",
        ),
        // The authorization endpoint's validation, as JSON errors (RFC 9126 §2.3).
        (
            base.replace(&urlencode(RP_CB), "https%3A%2F%2Fevil.example%2Fcb"),
            Some(auth.clone()),
            "invalid_request",
        ),
        (
            base.replace("response_type=code", "response_type=token"),
            Some(auth.clone()),
            "unsupported_response_type",
        ),
        (
            base.replace("scope=openid%20profile%20email", "scope=openid%20admin"),
            Some(auth.clone()),
            "invalid_scope",
        ),
        (
            base.replace("code_challenge_method=S256", "code_challenge_method=plain"),
            Some(auth.clone()),
            "invalid_request",
        ),
        (
            format!("{base}&prompt=none%20login"),
            Some(auth.clone()),
            "invalid_request",
        ),
        (
            format!(
                "{base}&request_uri={}",
                urlencode(&format!("{PAR_PREFIX}x"))
            ),
            Some(auth.clone()),
            "invalid_request",
        ),
        (
            format!("{base}&request=abc"),
            Some(auth.clone()),
            "invalid_request_object",
        ),
    ];
    for (body, auth, code) in cases {
        let e = push(&env, &body, auth.as_deref()).await.unwrap_err();
        assert_eq!(e.code(), code, "{body}");
    }
    // Nothing was stored by the failures: a public client's push works (PKCE required).
    let spa = format!(
        "response_type=code&client_id=spa&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode("https://spa.example/cb")
    );
    assert!(push(&env, &spa, None).await.is_ok());
    let e = push(
        &env,
        &spa.replace(
            &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
            "",
        ),
        None,
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
}

#[tokio::test]
async fn par_with_a_request_object() {
    let env = env();
    let jwt = sign(&env, &ro_claims("par-ro"));
    let body = format!(
        "client_id=jwt&request={jwt}&{}",
        assertion_params(&env, "par-assert-1")
    );
    let r = push(&env, &body, None).await.unwrap();
    let r = redirect(start(&env, &par_query("jwt", &r.request_uri)).await);
    assert_eq!(r.param("error"), None, "{r:?}");
    assert_eq!(r.param("state"), Some("inside"));
    let id = redeem_as_jwt_client(&env, r.param("code").unwrap()).await;
    assert_eq!(id["nonce"], "n-inside");
    // The object's jti was spent at the PAR endpoint.
    let body = format!(
        "client_id=jwt&request={jwt}&{}",
        assertion_params(&env, "par-assert-2")
    );
    assert_eq!(
        push(&env, &body, None).await.unwrap_err().code(),
        "invalid_request_object"
    );
    // A bad object at the PAR endpoint: JSON error, nothing stored.
    let bad = sign(
        &env,
        &with(ro_claims("par-bad"), "aud", json!("https://x.example")),
    );
    let body = format!(
        "client_id=jwt&request={bad}&{}",
        assertion_params(&env, "par-assert-3")
    );
    assert_eq!(
        push(&env, &body, None).await.unwrap_err().code(),
        "invalid_request_object"
    );
}

fn show_error_code(i: Interaction) -> String {
    match i {
        Interaction::ShowError(e) => e.code().to_owned(),
        Interaction::Redirect(r) => r.param("error").unwrap_or("none").to_owned(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test]
async fn request_uri_is_single_use_bound_and_expires() {
    let env = env();
    // Reuse.
    let uri = push_web(&env).await;
    assert!(redirect(start(&env, &par_query("web", &uri)).await)
        .param("code")
        .is_some());
    assert_eq!(
        show_error_code(start(&env, &par_query("web", &uri)).await),
        "invalid_request_uri"
    );
    // Another client: refused (and the request_uri is spent).
    let uri = push_web(&env).await;
    assert_eq!(
        show_error_code(start(&env, &par_query("post", &uri)).await),
        "invalid_request_uri"
    );
    assert_eq!(
        show_error_code(start(&env, &par_query("web", &uri)).await),
        "invalid_request_uri"
    );
    // Expiry via the clock (default 60 s).
    let uri = push_web(&env).await;
    env.clock.advance(61);
    assert_eq!(
        show_error_code(start(&env, &par_query("web", &uri)).await),
        "invalid_request_uri"
    );
    // Unknown URN; and an https URL is never fetched.
    assert_eq!(
        show_error_code(start(&env, &par_query("web", &format!("{PAR_PREFIX}nope"))).await),
        "invalid_request_uri"
    );
    assert_eq!(
        show_error_code(start(&env, &par_query("web", "https://rp.example/ro.jwt")).await),
        "request_uri_not_supported"
    );
}

#[tokio::test]
async fn configurable_expires_in() {
    let mut cfg = config();
    cfg.pushed_authorization_request_ttl = 10;
    let env = env_with(cfg);
    let r = push(&env, &web_par_body(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    assert_eq!(r.expires_in, 10);
    env.clock.advance(9);
    assert!(
        redirect(start(&env, &par_query("web", &r.request_uri)).await)
            .param("code")
            .is_some()
    );
    let r = push(&env, &web_par_body(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    env.clock.advance(10);
    assert_eq!(
        show_error_code(start(&env, &par_query("web", &r.request_uri)).await),
        "invalid_request_uri"
    );
}

#[tokio::test]
async fn require_pushed_authorization_requests() {
    let mut cfg = config();
    cfg.require_pushed_authorization_requests = true;
    let env = env_with(cfg);
    // A plain request is refused (redirected: client and redirect URI are trusted).
    let r = redirect(start(&env, &web_query()).await);
    assert_eq!(r.param("error"), Some("invalid_request"));
    // So is a request object sent by value.
    let r = redirect(start(&env, &ro_query(&sign(&env, &ro_claims("req-par")))).await);
    assert_eq!(r.param("error"), Some("invalid_request"));
    // Through PAR it works.
    let uri = push_web(&env).await;
    assert!(redirect(start(&env, &par_query("web", &uri)).await)
        .param("code")
        .is_some());
    let m = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(m["require_pushed_authorization_requests"], true);

    // Per client (RFC 9126 §6).
    let env = common::env();
    env.clients.insert(
        Client::confidential("web", "web-secret")
            .with_redirect_uri(RP_CB)
            .with_consent_implied()
            .with_require_pushed_authorization_requests(),
    );
    let r = redirect(start(&env, &web_query()).await);
    assert_eq!(r.param("error"), Some("invalid_request"));
    let uri = push_web(&env).await;
    assert!(redirect(start(&env, &par_query("web", &uri)).await)
        .param("code")
        .is_some());

    // Requiring PAR without a store is a configuration error.
    let mut cfg = Config::new(ISSUER);
    cfg.require_pushed_authorization_requests = true;
    let built = idforge_oauth_core::Provider::builder(cfg)
        .clients(env.clients.clone())
        .grants(env.grants.clone())
        .claims(Arc::new(idforge_oauth_core::memory::MemoryUserStore::new()))
        .keys(Arc::new(idforge_jose::KeyRing::new(
            LocalSigner::new(env.op_key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .build();
    assert!(built.is_err());
}

#[tokio::test]
async fn concurrent_redemption_of_one_request_uri_exactly_one_wins() {
    let env = Arc::new(env());
    let uri = push_web(&env).await;
    let mut tasks = Vec::new();
    for _ in 0..50 {
        let env = env.clone();
        let q = par_query("web", &uri);
        tasks.push(tokio::spawn(async move { start(&env, &q).await }));
    }
    let mut won = 0;
    for t in tasks {
        match t.await.unwrap() {
            Interaction::Redirect(r) if r.param("code").is_some() => won += 1,
            other => assert_eq!(show_error_code(other), "invalid_request_uri"),
        }
    }
    assert_eq!(won, 1);
}

#[tokio::test]
async fn discovery_advertises_request_objects_and_par() {
    let env = env();
    let m = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(m["request_parameter_supported"], true);
    // Only PAR URNs: nothing is ever fetched from a URL.
    assert_eq!(m["request_uri_parameter_supported"], false);
    assert_eq!(
        m["pushed_authorization_request_endpoint"],
        format!("{ISSUER}/par")
    );
    assert_eq!(m["require_pushed_authorization_requests"], false);
    let algs = m["request_object_signing_alg_values_supported"]
        .as_array()
        .unwrap();
    assert!(algs.contains(&json!("ES256")) && algs.contains(&json!("PS256")));
    assert!(!algs
        .iter()
        .any(|a| a == "none" || a.as_str().unwrap().starts_with("HS")));

    // Without a PAR path, no endpoint is advertised and pushing is refused.
    let mut cfg = config();
    cfg.pushed_authorization_request_path = None;
    let env = env_with(cfg);
    let m = env.provider.discovery.metadata().await.unwrap();
    assert!(m.get("pushed_authorization_request_endpoint").is_none());
    assert!(!env.provider.pushed_authorization.enabled());
    assert_eq!(
        push(&env, &web_par_body(), Some(&basic("web", "web-secret")))
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
}

#[cfg(feature = "testkit")]
#[tokio::test]
async fn pushed_request_store_passes_testkit() {
    idforge_oauth_core::testkit::run_all_pushed(&MemoryPushedRequestStore::new()).await;
}

#[tokio::test]
async fn bounded_pushed_request_store() {
    use idforge_oauth_core::PushedRequestStore;
    let store = MemoryPushedRequestStore::with_capacity(1);
    let req = |h: &str, exp: i64| idforge_oauth_core::PushedRequest {
        hash: idforge_oauth_core::TokenHash::of(h),
        client_id: "c".into(),
        params: idforge_oauth_core::Params::default(),
        created_at: NOW,
        expires_at: exp,
    };
    store.insert(req("a", NOW + 10)).await.unwrap();
    let e = store.insert(req("b", NOW + 10)).await.unwrap_err();
    assert_eq!(e.code(), "temporarily_unavailable");
    let mut later = req("c", NOW + 100);
    later.created_at = NOW + 20;
    store.insert(later).await.unwrap();
    assert_eq!(store.len(), 1);
}

#[cfg(feature = "http")]
#[tokio::test]
async fn par_over_http() {
    use http::{Method, Request};
    let env = env();
    let req = Request::builder()
        .method(Method::POST)
        .uri("/par")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic("web", "web-secret"))
        .body(web_par_body().into_bytes())
        .unwrap();
    let r = env.provider.handle_http(req).await.unwrap();
    // RFC 9126 §2.2: 201 Created, JSON, not cached.
    assert_eq!(r.status(), 201);
    assert_eq!(r.headers()["cache-control"], "no-store");
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["expires_in"], 60);
    let uri = body["request_uri"].as_str().unwrap();
    assert!(uri.starts_with(PAR_PREFIX));
    assert!(redirect(start(&env, &par_query("web", uri)).await)
        .param("code")
        .is_some());
    // RFC 9126 §2.3: wrong client credentials are 401, validation errors 400, GET 405.
    let req = Request::builder()
        .method(Method::POST)
        .uri("/par")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic("web", "nope"))
        .body(web_par_body().into_bytes())
        .unwrap();
    let r = env.provider.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 401);
    let req = Request::builder()
        .method(Method::POST)
        .uri("/par")
        .header("content-type", "application/x-www-form-urlencoded")
        .header("authorization", basic("web", "web-secret"))
        .body(
            web_par_body()
                .replace("response_type=code", "response_type=token")
                .into_bytes(),
        )
        .unwrap();
    let r = env.provider.handle_http(req).await.unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["error"], "unsupported_response_type");
    let req = Request::get("/par").body(Vec::new()).unwrap();
    assert_eq!(env.provider.handle_http(req).await.unwrap().status(), 405);
}
