//! Client authentication with private_key_jwt, introspection, revocation, discovery, JWKS,
//! token formats (opaque, JWT, non-persistent), encrypted ID tokens, signed UserInfo.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::{Header, JwsAlgorithm, JwsPolicy, KeySet, LocalSigner};
use idforge_jwe::{nested, ContentEncryption, JwePolicy, KeyManagementAlgorithm};
use idforge_oauth_core::{
    AccessTokenFormat, Client, ClientAuthMethod, TokenPersistence, TokenRequest, UserInfoResponse,
};
use serde_json::{json, Value};

fn assertion(env: &Env, claims: Value) -> String {
    let signer = LocalSigner::new(env.client_key.clone(), JwsAlgorithm::ES256).unwrap();
    idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap()
}

fn assertion_claims(jti: &str, aud: Value) -> Value {
    json!({"iss": "jwt", "sub": "jwt", "aud": aud, "exp": NOW + 60, "iat": NOW, "jti": jti})
}

async fn cc_with_assertion(env: &Env, a: &str) -> Result<(), idforge_oauth_core::Error> {
    let body = format!(
        "grant_type=client_credentials&client_assertion_type={}&client_assertion={a}",
        urlencode(idforge_oauth_core::client_auth::JWT_BEARER_ASSERTION)
    );
    env.provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .map(|_| ())
}

#[tokio::test]
async fn private_key_jwt_rules() {
    let env = env();
    let token_endpoint = format!("{ISSUER}/token");
    // Issuer or token endpoint URL, as a string or in an array (RFC 7523 §3 item 3).
    for (i, aud) in [json!(ISSUER), json!(token_endpoint), json!(["x", ISSUER])]
        .into_iter()
        .enumerate()
    {
        let a = assertion(&env, assertion_claims(&format!("ok-{i}"), aud));
        cc_with_assertion(&env, &a).await.unwrap();
    }
    // jti replay (item 7).
    let a = assertion(&env, assertion_claims("once", json!(ISSUER)));
    cc_with_assertion(&env, &a).await.unwrap();
    assert_eq!(
        cc_with_assertion(&env, &a).await.unwrap_err().code(),
        "invalid_client"
    );
    // Wrong audience, expired, no jti, too long-lived, iss != sub, wrong key, HMAC.
    let bad = [
        assertion_claims("a1", json!("https://other.example")),
        json!({"iss": "jwt", "sub": "jwt", "aud": ISSUER, "exp": NOW - 120, "jti": "a2"}),
        json!({"iss": "jwt", "sub": "jwt", "aud": ISSUER, "exp": NOW + 60}),
        json!({"iss": "jwt", "sub": "jwt", "aud": ISSUER, "exp": NOW + 3600, "jti": "a3"}),
        json!({"iss": "web", "sub": "jwt", "aud": ISSUER, "exp": NOW + 60, "jti": "a4"}),
    ];
    for claims in bad {
        let a = assertion(&env, claims.clone());
        assert_eq!(
            cc_with_assertion(&env, &a).await.unwrap_err().code(),
            "invalid_client",
            "{claims}"
        );
    }
    let other = idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
        idforge_jose::crypto::EcCurve::P256,
    ))
    .unwrap();
    let signer = LocalSigner::new(other, JwsAlgorithm::ES256).unwrap();
    let claims = assertion_claims("a5", json!(ISSUER));
    let a = idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap();
    assert_eq!(
        cc_with_assertion(&env, &a).await.unwrap_err().code(),
        "invalid_client"
    );
    let hmac = idforge_jose::Key::generate(idforge_jose::KeySpec::Oct(32)).unwrap();
    let signer = LocalSigner::new(hmac, JwsAlgorithm::HS256).unwrap();
    let a = idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap();
    assert_eq!(
        cc_with_assertion(&env, &a).await.unwrap_err().code(),
        "invalid_client"
    );
    assert_eq!(
        cc_with_assertion(&env, "not.a.jwt")
            .await
            .unwrap_err()
            .code(),
        "invalid_client"
    );
    // Wrong assertion type.
    let a = assertion(&env, assertion_claims("a6", json!(ISSUER)));
    let body =
        format!("grant_type=client_credentials&client_assertion_type=urn:x&client_assertion={a}");
    assert_eq!(
        env.provider
            .token
            .handle_form(body.as_bytes(), None)
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
    // A secret-based client cannot authenticate with a JWT.
    let claims = json!({"iss": "web", "sub": "web", "aud": ISSUER, "exp": NOW + 60, "jti": "a7"});
    let a = assertion(&env, claims);
    assert_eq!(
        cc_with_assertion(&env, &a).await.unwrap_err().code(),
        "invalid_client"
    );
}

fn form(body: &str, auth: Option<String>) -> TokenRequest {
    TokenRequest::from_form(body.as_bytes(), auth, &Default::default()).unwrap()
}

async fn tokens_for_web(env: &Env) -> idforge_oauth_core::TokenResponse {
    let code = code_for(env, &web_query()).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    env.provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("web", "web-secret")))
        .await
        .unwrap()
}

#[tokio::test]
async fn introspection_and_revocation() {
    for format in [AccessTokenFormat::Jwt, AccessTokenFormat::Opaque] {
        let env = env_with(config().with_access_token_format(format));
        let t = tokens_for_web(&env).await;
        let rs = Some(basic("cc-only", "cc-secret"));
        let i = &env.provider.introspection;
        let v = i
            .handle(&form(&format!("token={}", t.access_token), rs.clone()))
            .await
            .unwrap();
        assert_eq!(v["active"], true, "{format:?}");
        assert_eq!(v["client_id"], "web");
        assert_eq!(v["sub"], "alice-sub");
        assert_eq!(v["scope"], "openid profile email");
        assert_eq!(v["token_type"], "Bearer");
        let rt = t.refresh_token.clone().unwrap();
        let v = i
            .handle(&form(
                &format!("token={rt}&token_type_hint=refresh_token"),
                rs.clone(),
            ))
            .await
            .unwrap();
        assert_eq!(v["active"], true);
        assert_eq!(v["token_type"], "refresh_token");
        let v = i.handle(&form("token=garbage", rs.clone())).await.unwrap();
        assert_eq!(v, json!({"active": false}));
        // Introspection requires an authenticated confidential client.
        assert_eq!(
            i.handle(&form("token=x", None)).await.unwrap_err().code(),
            "invalid_client"
        );
        assert_eq!(
            i.handle(&form("token=x&client_id=spa", None))
                .await
                .unwrap_err()
                .code(),
            "unauthorized_client"
        );
        // Revocation: only the owning client; unknown tokens are fine (RFC 7009 §2.2).
        let r = &env.provider.revocation;
        let web = Some(basic("web", "web-secret"));
        assert_eq!(
            r.handle(&form(&format!("token={}", t.access_token), rs.clone()))
                .await
                .unwrap_err()
                .code(),
            "unauthorized_client"
        );
        r.handle(&form("token=unknown", web.clone())).await.unwrap();
        assert_eq!(
            r.handle(&form("token=x&token_type_hint=id_token", web.clone()))
                .await
                .unwrap_err()
                .code(),
            "unsupported_token_type"
        );
        // Revoking the access token leaves the refresh token.
        r.handle(&form(&format!("token={}", t.access_token), web.clone()))
            .await
            .unwrap();
        let v = i
            .handle(&form(&format!("token={}", t.access_token), rs.clone()))
            .await
            .unwrap();
        assert_eq!(v["active"], false);
        let v = i
            .handle(&form(&format!("token={rt}"), rs.clone()))
            .await
            .unwrap();
        assert_eq!(v["active"], true);
        // Revoking the refresh token revokes the grant and its access tokens (RFC 7009 §2.1).
        let t2 = env
            .provider
            .token
            .handle_form(
                format!("grant_type=refresh_token&refresh_token={rt}").as_bytes(),
                web.as_deref(),
            )
            .await
            .unwrap();
        let rt2 = t2.refresh_token.unwrap();
        r.handle(&form(&format!("token={rt2}"), web.clone()))
            .await
            .unwrap();
        let v = i
            .handle(&form(&format!("token={}", t2.access_token), rs.clone()))
            .await
            .unwrap();
        assert_eq!(
            v["active"], false,
            "{format:?}: access token of a revoked grant"
        );
    }
}

#[tokio::test]
async fn opaque_tokens_and_scope_array() {
    let mut cfg = config().with_access_token_format(AccessTokenFormat::Opaque);
    cfg.scope_as_array = true;
    let env = env_with(cfg);
    let t = tokens_for_web(&env).await;
    assert!(!t.access_token.contains('.'), "opaque");
    assert!(t.access_token.len() >= 43);
    assert!(matches!(
        env.provider.userinfo.handle(&t.access_token).await.unwrap(),
        UserInfoResponse::Json(_)
    ));
    // Per-client override to JWT, with the scope claim as an array (global setting).
    let mut c = Client::confidential("arr", "s").with_grant_types(["client_credentials"]);
    c.access_token_format = Some(AccessTokenFormat::Jwt);
    env.clients.insert(c.clone());
    let r = env
        .provider
        .token
        .handle_form(
            b"grant_type=client_credentials&scope=profile%20email",
            Some(&basic("arr", "s")),
        )
        .await
        .unwrap();
    let keys = KeySet::new(vec![env.op_key.to_public().unwrap()]);
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&r.access_token, &keys)
        .unwrap();
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["scope"], json!(["profile", "email"]));
    // Per-client string override.
    c.scope_as_array = Some(false);
    env.clients.insert(c);
    let r = env
        .provider
        .token
        .handle_form(
            b"grant_type=client_credentials&scope=profile%20email",
            Some(&basic("arr", "s")),
        )
        .await
        .unwrap();
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&r.access_token, &keys)
        .unwrap();
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["scope"], "profile email");
}

#[tokio::test]
async fn non_persistent_mode_writes_nothing_and_deny_list_works() {
    let env = env_with(config().with_token_persistence(TokenPersistence::SelfContained));
    let cc = basic("cc-only", "cc-secret");
    let r = env
        .provider
        .token
        .handle_form(b"grant_type=client_credentials", Some(&cc))
        .await
        .unwrap();
    assert_eq!(env.grants.len(), (0, 0, 0), "issuing wrote nothing");
    let i = &env.provider.introspection;
    let v = i
        .handle(&form(
            &format!("token={}", r.access_token),
            Some(cc.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(v["active"], true);
    // Revocation goes to the deny-list.
    env.provider
        .revocation
        .handle(&form(
            &format!("token={}", r.access_token),
            Some(cc.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(env.grants.len().2, 1, "one deny-list entry");
    let v = i
        .handle(&form(
            &format!("token={}", r.access_token),
            Some(cc.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(v["active"], false);

    // Code flow: the code is stored (single use), the tokens are not.
    let t = tokens_for_web(&env).await;
    let rt1 = t.refresh_token.clone().unwrap();
    assert_eq!(rt1.split('.').count(), 3, "self-contained refresh token");
    assert!(env.provider.userinfo.handle(&t.access_token).await.is_ok());
    let web = basic("web", "web-secret");
    let body = format!("grant_type=refresh_token&refresh_token={rt1}");
    let t2 = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&web))
        .await
        .unwrap();
    let rt2 = t2.refresh_token.clone().unwrap();
    // Reuse of rt1: refused and the family (rt2, access tokens) is revoked.
    assert_eq!(
        env.provider
            .token
            .handle_form(body.as_bytes(), Some(&web))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    let body2 = format!("grant_type=refresh_token&refresh_token={rt2}");
    assert_eq!(
        env.provider
            .token
            .handle_form(body2.as_bytes(), Some(&web))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    assert_eq!(
        env.provider
            .userinfo
            .handle(&t2.access_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
    // Access tokens are not accepted as refresh tokens and vice versa (typ).
    let body3 = format!("grant_type=refresh_token&refresh_token={}", t.access_token);
    assert_eq!(
        env.provider
            .token
            .handle_form(body3.as_bytes(), Some(&web))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    assert_eq!(
        env.provider.userinfo.handle(&rt1).await.unwrap_err().code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn non_persistent_without_deny_list_stores_nothing_at_all() {
    let cfg = config().with_token_persistence(TokenPersistence::SelfContainedWithoutRevocation);
    let env = env_with(cfg);
    let cc = basic("cc-only", "cc-secret");
    let r = env
        .provider
        .token
        .handle_form(b"grant_type=client_credentials", Some(&cc))
        .await
        .unwrap();
    env.provider
        .revocation
        .handle(&form(
            &format!("token={}", r.access_token),
            Some(cc.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(env.grants.len(), (0, 0, 0));
    // Valid until it expires.
    let v = env
        .provider
        .introspection
        .handle(&form(
            &format!("token={}", r.access_token),
            Some(cc.clone()),
        ))
        .await
        .unwrap();
    assert_eq!(v["active"], true);
    env.clock.advance(3600);
    let v = env
        .provider
        .introspection
        .handle(&form(&format!("token={}", r.access_token), Some(cc)))
        .await
        .unwrap();
    assert_eq!(v["active"], false, "expiry via the clock");
}

#[tokio::test]
async fn encrypted_id_token_and_signed_userinfo() {
    let env = env();
    let mut c = Client::confidential("enc", "s")
        .with_redirect_uri(RP_CB)
        .with_jwks(idforge_jose::JwkSet {
            keys: vec![env.client_key.public_jwk().unwrap()],
        })
        .with_consent_implied();
    c.id_token_encrypted_response_alg = Some(KeyManagementAlgorithm::EcdhEsA256Kw);
    c.userinfo_signed_response_alg = Some(JwsAlgorithm::ES256);
    env.clients.insert(c);
    let q = web_query().replace("client_id=web", "client_id=enc");
    let code = code_for(&env, &q).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    let t = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("enc", "s")))
        .await
        .unwrap();
    let id_token = t.id_token.unwrap();
    assert_eq!(id_token.split('.').count(), 5, "compact JWE");
    let n = nested::decrypt_and_verify(
        &id_token,
        &JwePolicy::new(
            [KeyManagementAlgorithm::EcdhEsA256Kw],
            [ContentEncryption::A128CbcHs256],
        ),
        &KeySet::new(vec![env.client_key.clone()]),
        &JwsPolicy::new([JwsAlgorithm::ES256]),
        &KeySet::new(vec![env.op_key.to_public().unwrap()]),
    )
    .unwrap();
    let claims: Value = serde_json::from_slice(&n.verified.payload).unwrap();
    assert_eq!(claims["aud"], "enc");
    assert_eq!(claims["nonce"], "n1");
    let UserInfoResponse::Jwt(jwt) = env.provider.userinfo.handle(&t.access_token).await.unwrap()
    else {
        panic!("signed userinfo expected")
    };
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&jwt, &KeySet::new(vec![env.op_key.to_public().unwrap()]))
        .unwrap();
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["sub"], "alice-sub");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "enc");
}

#[tokio::test]
async fn discovery_follows_configuration() {
    let env = env();
    let m = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(m["issuer"], ISSUER);
    assert_eq!(m["token_endpoint"], format!("{ISSUER}/token"));
    assert_eq!(m["authorization_endpoint"], format!("{ISSUER}/authorize"));
    assert_eq!(m["jwks_uri"], format!("{ISSUER}/jwks.json"));
    assert_eq!(m["code_challenge_methods_supported"], json!(["S256"]));
    assert_eq!(m["authorization_response_iss_parameter_supported"], true);
    assert_eq!(m["id_token_signing_alg_values_supported"][0], "ES256");
    let grants: Vec<&str> = m["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    for g in [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
    ] {
        assert!(grants.contains(&g), "{g}");
    }
    assert!(m["userinfo_endpoint"].is_string() && m["introspection_endpoint"].is_string());

    // Disabled things are not advertised.
    let mut cfg = idforge_oauth_core::Config::new(ISSUER);
    cfg.grant_types = vec!["client_credentials".into()];
    cfg.userinfo_path = None;
    cfg.introspection_path = None;
    cfg.revocation_path = None;
    let env = env_with(cfg);
    let m = env.provider.discovery.metadata().await.unwrap();
    for absent in [
        "authorization_endpoint",
        "userinfo_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
        "code_challenge_methods_supported",
    ] {
        assert!(m.get(absent).is_none(), "{absent} advertised");
    }
    assert_eq!(m["grant_types_supported"], json!(["client_credentials"]));
    assert_eq!(
        env.provider.userinfo.handle("x").await.unwrap_err().code(),
        "invalid_request",
        "disabled endpoint refuses"
    );
    // The authorization endpoint refuses when the code grant is disabled.
    let r = redirect(
        env.provider
            .authorization
            .start(web_query().as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("error"), Some("unauthorized_client"));
}

#[tokio::test]
async fn jwks_publishes_public_keys_only() {
    let env = env();
    let jwks = env.provider.discovery.jwks().await.unwrap();
    let keys = jwks["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1);
    assert_eq!(keys[0]["kid"], "op-1");
    assert!(keys[0].get("d").is_none(), "no private part");
    // An ID token verifies with the published set.
    let t = tokens_for_web(&env).await;
    let set = idforge_jose::JwkSet::from_json(&jwks.to_string()).unwrap();
    let keys = KeySet::from_jwk_set(&set).unwrap();
    JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(t.id_token.as_deref().unwrap(), &keys)
        .unwrap();
}

#[tokio::test]
async fn client_secret_post_and_public_client_auth_methods() {
    let env = env();
    let mut c = Client::public("pub2").with_grant_types(["client_credentials"]);
    c.token_endpoint_auth_method = ClientAuthMethod::None;
    env.clients.insert(c);
    // A public client presenting a secret is refused (method mismatch).
    let e = env
        .provider
        .token
        .handle_form(
            b"grant_type=client_credentials&client_id=pub2&client_secret=x",
            None,
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}
