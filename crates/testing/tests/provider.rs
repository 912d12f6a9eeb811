//! TestProvider: determinism, several issuers, minting through the real issuance code,
//! scripted flows, negative fixtures, the clock, key rotation, the HTTP router and the
//! control endpoint.
#![allow(clippy::unwrap_used)]

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use http_body_util::BodyExt;
use idforge_jose::{ClaimsValidation, FixedClock, JwsAlgorithm, JwsPolicy, KeySet};
use idforge_testing::{
    AccessTokenSpec, AuthorizeScript, Consent, Defect, IdTokenSpec, IssuerSpec, ScriptedLogin,
    TestClient, TestError, TestIssuer, TestProvider, DEFAULT_START_TIME, PUBLIC_CLIENT_ID,
    SUPPORTED_ALGORITHMS, TEST_CLIENT_ID,
};
use serde_json::{json, Map, Value};
use tower::ServiceExt;

/// Verifies `token` against `issuer`'s published JWKS (parsed from its JSON), as an
/// independent verifier would: algorithm allow-list, `iss`, `aud`, `typ`, `exp`/`nbf` at the
/// provider's time.
fn verify(
    issuer: &TestIssuer,
    token: &str,
    aud: &str,
    typ: &str,
) -> Result<Map<String, Value>, idforge_jose::Error> {
    let jwks_json = issuer.jwks().to_json();
    let keys = KeySet::from_jwk_set(&idforge_jose::JwkSet::from_json(&jwks_json)?)?;
    let policy = JwsPolicy::new([issuer.algorithm()]);
    let validation = ClaimsValidation {
        issuer: Some(issuer.issuer().to_owned()),
        audience: Some(aud.to_owned()),
        typ: Some(typ.to_owned()),
        leeway: 0,
        ..ClaimsValidation::default()
    };
    let clock = FixedClock::new(issuer.now());
    let jwt = idforge_jose::verify_jwt(token, &policy, &keys, &validation, &clock)?;
    Ok(jwt.claims)
}

fn claims(token: &str) -> Map<String, Value> {
    let payload = token.split('.').nth(1).unwrap();
    serde_json::from_slice(&idforge_jose::b64::decode(payload, "payload").unwrap()).unwrap()
}

async fn everything(seed: u64) -> Vec<String> {
    let idp = TestProvider::new(seed).unwrap();
    let issuer = idp.issuer();
    let mut out = vec![
        issuer.jwks().to_json(),
        issuer
            .issue_access_token(&AccessTokenSpec::new("alice").scope("read"))
            .await
            .unwrap(),
        issuer
            .issue_id_token(&IdTokenSpec::new("alice").nonce("n"))
            .await
            .unwrap(),
    ];
    let (authorized, tokens) = issuer
        .code_flow(&AuthorizeScript::new(ScriptedLogin::user("alice")))
        .await
        .unwrap();
    out.push(authorized.location.clone());
    out.push(tokens.to_json().to_string());
    idp.advance(Duration::from_secs(90));
    let refreshed = issuer
        .refresh(
            &TestClient::default_confidential(),
            tokens.refresh_token.as_deref().unwrap(),
            None,
        )
        .await
        .unwrap();
    out.push(refreshed.to_json().to_string());
    for defect in Defect::ALL {
        out.push(
            issuer
                .invalid_access_token(&AccessTokenSpec::new("bob"), defect)
                .await
                .unwrap(),
        );
    }
    out
}

#[tokio::test]
async fn two_runs_with_the_same_seed_produce_byte_identical_tokens() {
    let first = everything(7).await;
    let second = everything(7).await;
    assert_eq!(first, second);
    let other = everything(8).await;
    assert!(first.iter().zip(&other).all(|(a, b)| a != b));
}

#[tokio::test]
async fn es256_keys_and_payloads_are_reproducible_its_signatures_are_not() {
    let mint = || async {
        let idp = TestProvider::builder()
            .seed(3)
            .issuer(IssuerSpec::new("").with_algorithm(JwsAlgorithm::ES256))
            .build()
            .unwrap();
        let t = idp
            .issuer()
            .issue_access_token(&AccessTokenSpec::new("alice"))
            .await
            .unwrap();
        (idp.issuer().jwks().to_json(), t)
    };
    let (jwks_a, a) = mint().await;
    let (jwks_b, b) = mint().await;
    assert_eq!(jwks_a, jwks_b);
    let signing_input = |t: &str| t.rsplit_once('.').unwrap().0.to_owned();
    assert_eq!(signing_input(&a), signing_input(&b));
}

#[tokio::test]
async fn several_issuers_each_with_its_own_keys_algorithm_and_discovery() {
    let idp = TestProvider::builder()
        .seed(1)
        .issuer(IssuerSpec::new("tenant-a"))
        .issuer(IssuerSpec::new("tenant-b").with_algorithm(JwsAlgorithm::ES256))
        .issuer(IssuerSpec::new("tenant-c").with_algorithm(JwsAlgorithm::RS256))
        .build()
        .unwrap();
    assert!(matches!(
        idp.issuer_at("nope"),
        Err(TestError::UnknownIssuer(_))
    ));
    let mut kids = Vec::new();
    for (path, alg) in [
        ("tenant-a", "EdDSA"),
        ("tenant-b", "ES256"),
        ("tenant-c", "RS256"),
    ] {
        let issuer = idp.issuer_at(path).unwrap();
        assert_eq!(issuer.issuer(), format!("https://idp.test/{path}"));
        let meta = issuer.discovery().await.unwrap();
        assert_eq!(meta["issuer"], issuer.issuer());
        assert_eq!(meta["id_token_signing_alg_values_supported"], json!([alg]));
        let token = issuer
            .issue_access_token(
                &AccessTokenSpec::new("alice")
                    .audience("https://api.example")
                    .scope("read write")
                    .claim("tenant", json!(path)),
            )
            .await
            .unwrap();
        let c = verify(issuer, &token, "https://api.example", "at+jwt").unwrap();
        assert_eq!(c["sub"], "alice");
        assert_eq!(c["scope"], "read write");
        assert_eq!(c["tenant"], path);
        assert_eq!(c["client_id"], TEST_CLIENT_ID);
        kids.push(issuer.current_kid().unwrap());
        // Another issuer's keys do not verify it.
        let other = idp.issuer_at("tenant-a").unwrap();
        if path != "tenant-a" {
            assert!(verify(other, &token, "https://api.example", "at+jwt").is_err());
        }
    }
    kids.dedup();
    assert_eq!(kids.len(), 3);
    assert!(matches!(
        TestProvider::builder()
            .issuer(IssuerSpec::new("x"))
            .issuer(IssuerSpec::new("/x/"))
            .build(),
        Err(TestError::DuplicateIssuer(_))
    ));
    assert!(matches!(
        TestProvider::builder()
            .issuer(IssuerSpec::new("").with_algorithm(JwsAlgorithm::HS256))
            .build(),
        Err(TestError::UnsupportedAlgorithm(JwsAlgorithm::HS256))
    ));
    assert_eq!(SUPPORTED_ALGORITHMS.len(), 4);
}

#[tokio::test]
async fn minted_tokens_are_the_providers_own() {
    let idp = TestProvider::new(5).unwrap();
    let issuer = idp.issuer();
    let at = issuer
        .issue_access_token(
            &AccessTokenSpec::for_client("svc")
                .ttl(Duration::from_secs(120))
                .scope("jobs"),
        )
        .await
        .unwrap();
    let c = verify(issuer, &at, issuer.issuer(), "at+jwt").unwrap();
    assert_eq!(c["sub"], "svc");
    assert_eq!(c["exp"], json!(DEFAULT_START_TIME + 120));
    // The provider's own introspection knows it (it was stored as the token endpoint's are).
    let body = format!("token={at}");
    let auth = TestClient::default_confidential().authorization().unwrap();
    let req = idforge_oauth_core::TokenRequest::from_form(
        body.as_bytes(),
        Some(auth),
        &issuer.provider().ctx.config.limits,
    )
    .unwrap();
    let info = issuer.provider().introspection.handle(&req).await.unwrap();
    assert_eq!(info["active"], true);

    let id = issuer
        .issue_id_token(
            &IdTokenSpec::new("alice")
                .audience("rp-1")
                .nonce("n-1")
                .acr("urn:mace:incommon:iap:silver")
                .amr(["pwd", "otp"])
                .claim("groups", json!(["admins"])),
        )
        .await
        .unwrap();
    let c = verify(issuer, &id, "rp-1", "JWT").unwrap();
    assert_eq!(c["nonce"], "n-1");
    assert_eq!(c["azp"], "rp-1");
    assert_eq!(c["amr"], json!(["pwd", "otp"]));
    assert_eq!(c["groups"], json!(["admins"]));
    // The provider's claims cannot be overridden.
    assert!(matches!(
        issuer
            .issue_access_token(&AccessTokenSpec::new("a").claim("iss", json!("x")))
            .await,
        Err(TestError::ReservedClaim(name)) if name == "iss"
    ));
}

#[tokio::test]
async fn every_negative_fixture_fails_verification_for_its_reason() {
    let idp = TestProvider::new(9).unwrap();
    let issuer = idp.issuer();
    let spec = AccessTokenSpec::new("alice").audience("api");
    let valid = issuer.issue_access_token(&spec).await.unwrap();
    verify(issuer, &valid, "api", "at+jwt").unwrap();
    for defect in Defect::ALL {
        let bad = issuer.invalid_access_token(&spec, defect).await.unwrap();
        let err = verify(issuer, &bad, "api", "at+jwt").unwrap_err();
        let c = claims(&bad);
        let header: Value = serde_json::from_slice(
            &idforge_jose::b64::decode(bad.split('.').next().unwrap(), "h").unwrap(),
        )
        .unwrap();
        match defect {
            Defect::Expired => assert!(c["exp"].as_i64().unwrap() < idp.now() - 300),
            Defect::NotYetValid => assert!(c["nbf"].as_i64().unwrap() > idp.now()),
            Defect::WrongIssuer => assert_eq!(c["iss"], idforge_testing::WRONG_ISSUER),
            Defect::WrongAudience => assert_eq!(c["aud"], idforge_testing::WRONG_AUDIENCE),
            Defect::WrongTyp => assert_eq!(header["typ"], "JWT"),
            Defect::TamperedSignature => {
                let tampered = issuer.corrupt(&valid, defect).unwrap();
                assert_eq!(
                    tampered.rsplit_once('.').unwrap().0,
                    valid.rsplit_once('.').unwrap().0
                );
                assert_ne!(tampered, valid);
            }
            Defect::UnknownKid => assert!(header["kid"].as_str().unwrap().starts_with("unknown-")),
            Defect::AlgNone => {
                assert_eq!(header["alg"], "none");
                assert!(bad.ends_with('.'));
            }
            Defect::KeyConfusion => assert_eq!(header["alg"], "HS256"),
            Defect::RotatedAwayKey => {
                let kid = header["kid"].as_str().unwrap();
                assert!(issuer
                    .jwks()
                    .keys
                    .iter()
                    .all(|k| k.kid.as_deref() != Some(kid)));
                assert_ne!(kid, issuer.current_kid().unwrap());
            }
            _ => unreachable!("a new defect needs its check here"),
        }
        assert_eq!(Defect::from_name(defect.name()), Some(defect));
        // Each is still otherwise well-formed: apart from its defect, it says what the
        // valid one says.
        assert_eq!(c["sub"], "alice", "{defect:?}: {err}");
    }
    // ID tokens too: the wrong `typ` there is at+jwt.
    let bad = issuer
        .invalid_id_token(&IdTokenSpec::new("alice"), Defect::WrongTyp)
        .await
        .unwrap();
    assert!(verify(issuer, &bad, TEST_CLIENT_ID, "JWT").is_err());
}

#[tokio::test]
async fn the_clock_expires_tokens_and_rotation_retires_keys() {
    let idp = TestProvider::new(2).unwrap();
    let issuer = idp.issuer();
    let t = issuer
        .issue_access_token(&AccessTokenSpec::new("alice").ttl(Duration::from_secs(60)))
        .await
        .unwrap();
    verify(issuer, &t, issuer.issuer(), "at+jwt").unwrap();
    idp.advance(Duration::from_secs(61));
    assert_eq!(idp.now(), DEFAULT_START_TIME + 61);
    assert!(verify(issuer, &t, issuer.issuer(), "at+jwt").is_err());

    let old_kid = issuer.current_kid().unwrap();
    let before = issuer
        .issue_access_token(&AccessTokenSpec::new("alice"))
        .await
        .unwrap();
    let new_kid = issuer.rotate_key(Duration::from_secs(300)).unwrap();
    assert_ne!(old_kid, new_kid);
    // Within the grace period the old key still verifies and is published.
    verify(issuer, &before, issuer.issuer(), "at+jwt").unwrap();
    idp.advance(Duration::from_secs(301));
    issuer.sweep_keys();
    assert!(issuer
        .jwks()
        .keys
        .iter()
        .all(|k| k.kid.as_deref() != Some(old_kid.as_str())));
    // The rotated-away fixture now uses that key.
    let bad = issuer
        .invalid_access_token(&AccessTokenSpec::new("alice"), Defect::RotatedAwayKey)
        .await
        .unwrap();
    let header = bad.split('.').next().unwrap();
    let header: Value =
        serde_json::from_slice(&idforge_jose::b64::decode(header, "h").unwrap()).unwrap();
    assert_eq!(header["kid"], old_kid.as_str());
}

#[tokio::test]
async fn scripted_code_flow_with_pkce_refresh_consent_and_cancel() {
    let idp = TestProvider::new(4).unwrap();
    let issuer = idp.issuer();
    let script = AuthorizeScript::new(ScriptedLogin::user("alice")).scope("openid email");
    let authorized = issuer.authorize(&script).await.unwrap();
    assert!(authorized
        .location
        .starts_with("http://127.0.0.1/callback?code="));
    assert_eq!(
        authorized.response.param("state"),
        Some(authorized.state.as_str())
    );
    assert_eq!(authorized.response.param("iss"), Some(issuer.issuer()));
    let tokens = issuer.exchange_code(&authorized).await.unwrap();
    let id = verify(
        issuer,
        tokens.id_token.as_deref().unwrap(),
        TEST_CLIENT_ID,
        "JWT",
    )
    .unwrap();
    assert_eq!(id["sub"], "alice");
    assert_eq!(id["nonce"], authorized.nonce.as_str());
    assert!(id.contains_key("c_hash") && id.contains_key("at_hash"));
    // Refresh, narrowing the scope.
    let refreshed = issuer
        .refresh(
            &TestClient::default_confidential(),
            tokens.refresh_token.as_deref().unwrap(),
            Some("openid"),
        )
        .await
        .unwrap();
    assert_eq!(refreshed.scope.as_deref(), Some("openid"));
    // The code is single-use, and its replay revokes the grant (RFC 6749 §4.1.2, §10.5).
    let again = issuer.exchange_code(&authorized).await.unwrap_err();
    assert_eq!(again.oauth_code(), Some("invalid_grant"));
    let revoked = issuer
        .refresh(
            &TestClient::default_confidential(),
            refreshed.refresh_token.as_deref().unwrap(),
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(revoked.oauth_code(), Some("invalid_grant"));

    // A public client: PKCE is what binds the code.
    let public = AuthorizeScript::new(ScriptedLogin::user("bob"))
        .client(TestClient::default_public())
        .scope("openid");
    let (_, tokens) = issuer.code_flow(&public).await.unwrap();
    let c = verify(issuer, &tokens.access_token, issuer.issuer(), "at+jwt").unwrap();
    assert_eq!(c["client_id"], PUBLIC_CLIENT_ID);
    assert_eq!(c["sub"], "bob");

    // The login's authentication context reaches the ID token.
    let strong = AuthorizeScript::new(
        ScriptedLogin::user("alice")
            .with_acr("urn:example:loa:3")
            .with_amr(["pwd", "otp"]),
    );
    let (_, tokens) = issuer.code_flow(&strong).await.unwrap();
    let id = claims(tokens.id_token.as_deref().unwrap());
    assert_eq!(id["acr"], "urn:example:loa:3");
    assert_eq!(id["amr"], json!(["pwd", "otp"]));

    // Refused consent and a cancelled login reach the client as access_denied.
    for login in [
        ScriptedLogin::user("alice").with_consent(Consent::Deny),
        ScriptedLogin::Cancel,
    ] {
        let a = issuer
            .authorize(&AuthorizeScript::new(login))
            .await
            .unwrap();
        assert_eq!(a.error(), Some("access_denied"));
        assert!(a.code().is_none());
    }
    // An unregistered redirect URI is an error page, not a redirect (RFC 6749 §4.1.2.1).
    let err = issuer
        .authorize(
            &AuthorizeScript::new(ScriptedLogin::user("alice"))
                .redirect_uri("https://evil.example/cb"),
        )
        .await
        .unwrap_err();
    assert!(err.oauth_code().is_some());
}

#[tokio::test]
async fn scripted_client_credentials_device_and_token_exchange() {
    let idp = TestProvider::new(6).unwrap();
    let issuer = idp.issuer();
    let client = TestClient::default_confidential();
    let cc = issuer.client_credentials(&client, None).await.unwrap();
    let c = verify(issuer, &cc.access_token, issuer.issuer(), "at+jwt").unwrap();
    assert_eq!(c["sub"], TEST_CLIENT_ID);
    let wrong = TestClient::confidential(TEST_CLIENT_ID, "nope");
    let err = issuer.client_credentials(&wrong, None).await.unwrap_err();
    assert_eq!(err.oauth_code(), Some("invalid_client"));

    // Device authorization (RFC 8628): pending, approved, redeemed once.
    let tv = TestClient::default_public();
    let start = issuer.start_device(&tv, Some("openid")).await.unwrap();
    let pending = issuer
        .poll_device(&tv, &start.device_code)
        .await
        .unwrap_err();
    assert_eq!(pending.oauth_code(), Some("authorization_pending"));
    issuer
        .approve_device(&start.user_code, "carol")
        .await
        .unwrap();
    idp.advance(Duration::from_secs(start.interval as u64));
    let tokens = issuer.poll_device(&tv, &start.device_code).await.unwrap();
    let c = verify(issuer, &tokens.access_token, issuer.issuer(), "at+jwt").unwrap();
    assert_eq!(c["sub"], "carol");
    // Denied, then expired.
    let denied = issuer.start_device(&tv, None).await.unwrap();
    issuer.deny_device(&denied.user_code).await.unwrap();
    let err = issuer
        .poll_device(&tv, &denied.device_code)
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some("access_denied"));
    let late = issuer.start_device(&tv, None).await.unwrap();
    idp.advance(Duration::from_secs(late.expires_in as u64 + 1));
    let err = issuer
        .poll_device(&tv, &late.device_code)
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some("expired_token"));

    // Token exchange (RFC 8693): delegation with an actor, then impersonation.
    let user = issuer
        .issue_access_token(&AccessTokenSpec::new("alice").scope("openid"))
        .await
        .unwrap();
    let actor = issuer
        // The provider accepts an actor token issued to, or meant for, the exchanging client.
        .issue_access_token(&AccessTokenSpec::for_client("agent").audience(TEST_CLIENT_ID))
        .await
        .unwrap();
    let exchanged = issuer
        .token_exchange(&client, &user, Some(&actor), Some("https://api.example"))
        .await
        .unwrap();
    let c = verify(
        issuer,
        &exchanged.access_token,
        "https://api.example",
        "at+jwt",
    )
    .unwrap();
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["act"]["sub"], "agent");
    let imp = issuer
        .token_exchange(&client, &user, None, None)
        .await
        .unwrap();
    let c = claims(&imp.access_token);
    assert_eq!(c["sub"], "alice");
    assert!(c.get("act").is_none());
}

async fn send(
    app: &axum::Router,
    req: Request<Body>,
) -> (StatusCode, axum::http::HeaderMap, Vec<u8>) {
    let resp = app.clone().oneshot(req).await.unwrap();
    let status = resp.status();
    let headers = resp.headers().clone();
    let body = resp
        .into_body()
        .collect()
        .await
        .unwrap()
        .to_bytes()
        .to_vec();
    (status, headers, body)
}

fn post_json(uri: &str, body: Value) -> Request<Body> {
    Request::post(uri)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap()
}

#[tokio::test]
async fn the_router_serves_each_issuer_and_the_control_endpoint_in_process() {
    let idp = TestProvider::builder()
        .seed(11)
        .issuer(IssuerSpec::new(""))
        .issuer(IssuerSpec::new("tenant"))
        .build()
        .unwrap();
    let app = idp.router();
    for (prefix, issuer) in [
        ("", idp.issuer()),
        ("/tenant", idp.issuer_at("tenant").unwrap()),
    ] {
        let (status, _, body) = send(
            &app,
            Request::get(format!("{prefix}/.well-known/openid-configuration"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let meta: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(meta["issuer"], issuer.issuer());
        let (status, _, body) = send(
            &app,
            Request::get(format!("{prefix}/jwks.json"))
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(status, StatusCode::OK);
        let jwks: Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(jwks["keys"][0]["kid"], issuer.current_kid().unwrap());
    }

    // The authorization endpoint needs a scripted login, then redirects with a code.
    let query = "response_type=code&client_id=test-client&redirect_uri=http%3A%2F%2F127.0.0.1%2Fcallback&scope=openid&state=s1";
    let (status, _, _) = send(
        &app,
        Request::get(format!("/authorize?{query}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::BAD_REQUEST);
    let (status, _, _) = send(&app, post_json("/_test/login", json!({"subject": "dave"}))).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, headers, _) = send(
        &app,
        Request::get(format!("/authorize?{query}"))
            .body(Body::empty())
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::SEE_OTHER);
    let location = headers["location"].to_str().unwrap();
    assert!(location.contains("code=") && location.contains("state=s1"));

    // Device authorization over HTTP (RFC 8628 §3.1), then the scripted approval.
    let (status, _, body) = send(
        &app,
        Request::post("/device_authorization")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from("client_id=test-public&scope=openid"))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let device: Value = serde_json::from_slice(&body).unwrap();
    idp.issuer()
        .approve_device(device["user_code"].as_str().unwrap(), "dave")
        .await
        .unwrap();
    let (status, _, body) = send(
        &app,
        Request::post("/token")
            .header("content-type", "application/x-www-form-urlencoded")
            .body(Body::from(format!(
                "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Adevice_code&client_id=test-public&device_code={}",
                device["device_code"].as_str().unwrap()
            )))
            .unwrap(),
    )
    .await;
    assert_eq!(status, StatusCode::OK, "{}", String::from_utf8_lossy(&body));

    // Mint through the control endpoint, valid and defective.
    let (status, _, body) = send(
        &app,
        post_json(
            "/tenant/_test/token",
            json!({"subject": "erin", "audience": ["api"], "scope": "read", "claims": {"x": 1}}),
        ),
    )
    .await;
    assert_eq!(status, StatusCode::OK);
    let token = serde_json::from_slice::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    let tenant = idp.issuer_at("tenant").unwrap();
    let c = verify(tenant, &token, "api", "at+jwt").unwrap();
    assert_eq!(
        (c["sub"].clone(), c["x"].clone()),
        (json!("erin"), json!(1))
    );
    let (_, _, body) = send(
        &app,
        post_json(
            "/_test/token",
            json!({"kind": "id_token", "subject": "erin", "defect": "expired"}),
        ),
    )
    .await;
    let expired = serde_json::from_slice::<Value>(&body).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(verify(idp.issuer(), &expired, TEST_CLIENT_ID, "JWT").is_err());
    let (status, _, _) = send(&app, post_json("/_test/token", json!({"defect": "nope"}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Move the clock; it is shared.
    let (_, _, body) = send(&app, post_json("/_test/clock", json!({"advance": 3600}))).await;
    assert_eq!(
        serde_json::from_slice::<Value>(&body).unwrap()["now"],
        json!(DEFAULT_START_TIME + 3600)
    );
    assert_eq!(tenant.now(), DEFAULT_START_TIME + 3600);
    assert!(verify(tenant, &token, "api", "at+jwt").is_err());
    let (status, _, _) = send(&app, post_json("/_test/clock", json!({"advance": -1}))).await;
    assert_eq!(status, StatusCode::BAD_REQUEST);

    // Rotate over HTTP.
    let old = idp.issuer().current_kid().unwrap();
    let (_, _, body) = send(&app, post_json("/_test/rotate", json!({}))).await;
    let kid = serde_json::from_slice::<Value>(&body).unwrap()["kid"].clone();
    assert_eq!(kid, json!(idp.issuer().current_kid().unwrap()));
    assert_ne!(kid, json!(old));
    let (status, _, _) = send(&app, post_json("/_test/unknown", json!({}))).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn served_on_a_loopback_port_until_dropped() {
    let idp = TestProvider::builder().seed(1).serve().await.unwrap();
    let addr = idp.local_addr().unwrap();
    assert!(addr.ip().is_loopback());
    assert_eq!(idp.issuer().issuer(), format!("http://{addr}"));
    // Keys follow the seed and the issuer's path, not its URL: the same as in process.
    assert_eq!(
        idp.issuer().jwks().to_json(),
        TestProvider::new(1).unwrap().issuer().jwks().to_json()
    );
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    stream
        .write_all(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut text = String::new();
    stream.read_to_string(&mut text).await.unwrap();
    assert!(text.starts_with("HTTP/1.1 200"));
    assert!(text.contains(&format!("\"jwks_uri\":\"http://{addr}/jwks.json\"")));
    drop(idp);
    // The server task is aborted with the provider: the port stops answering.
    let mut refused = false;
    for _ in 0..50 {
        if tokio::net::TcpStream::connect(addr).await.is_err() {
            refused = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(refused);
}

#[tokio::test]
async fn scripted_ciba_approval_and_denial() {
    let idp = TestProvider::builder()
        .seed(12)
        .issuer(IssuerSpec::new("").with_user("bob", json!({"sub": "bob-sub"})))
        .build()
        .unwrap();
    let issuer = idp.issuer();
    let client = TestClient::default_confidential();
    let started = issuer
        .ciba_start(&client, "alice", "openid email", Some("MEET-42"))
        .await
        .unwrap();
    let pending = issuer
        .ciba_poll(&client, started.auth_req_id())
        .await
        .unwrap_err();
    assert_eq!(pending.oauth_code(), Some("authorization_pending"));
    // Only the user the request names may answer.
    let wrong = issuer.ciba_approve(&started, "mallory").await.unwrap_err();
    assert_eq!(wrong.oauth_code(), Some("access_denied"));
    issuer.ciba_approve(&started, "alice").await.unwrap();
    idp.advance(Duration::from_secs(
        started.response.interval.unwrap_or(5) as u64
    ));
    let tokens = issuer
        .ciba_poll(&client, started.auth_req_id())
        .await
        .unwrap();
    let id = verify(
        issuer,
        tokens.id_token.as_deref().unwrap(),
        TEST_CLIENT_ID,
        "JWT",
    )
    .unwrap();
    assert_eq!(id["sub"], "alice");
    let again = issuer
        .ciba_poll(&client, started.auth_req_id())
        .await
        .unwrap_err();
    assert_eq!(again.oauth_code(), Some("invalid_grant"));

    let denied = issuer
        .ciba_start(&client, "bob", "openid", None)
        .await
        .unwrap();
    issuer.ciba_deny(&denied, "bob-sub").await.unwrap();
    let err = issuer
        .ciba_poll(&client, denied.auth_req_id())
        .await
        .unwrap_err();
    assert_eq!(err.oauth_code(), Some("access_denied"));
    // CIBA acts only for users the provider knows (CIBA §13 `unknown_user_id`).
    let unknown = issuer
        .ciba_start(&client, "nobody", "openid", None)
        .await
        .unwrap_err();
    assert_eq!(unknown.oauth_code(), Some("unknown_user_id"));
}
