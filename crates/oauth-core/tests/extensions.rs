//! Extension points and remaining branches: custom grant handlers, key rotation, denial,
//! omitted redirect URIs, missing users, non-persistent refresh without a deny-list.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use idforge_jose::{
    crypto::EcCurve, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{issue_token_response, IssueOptions, TokenPersistence};
use idforge_oauth_core::{
    Client, Config, Context, Decision, Error, Grant, GrantHandler, Interaction, Provider, Scopes,
    TokenRequest, TokenResponse,
};
use serde_json::json;

/// An extension grant (RFC 6749 §4.5) as another crate would write one: it trusts a header-less
/// "assertion" naming the subject and issues the usual tokens.
struct TrustedSubjectGrant;

#[async_trait]
impl GrantHandler for TrustedSubjectGrant {
    fn grant_type(&self) -> &str {
        "urn:example:trusted-subject"
    }
    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let subject = req.params.require("subject")?;
        let now = ctx.clock.now();
        let grant = Grant::new(
            format!("ext-{subject}-{now}"),
            client.client_id.clone(),
            Scopes::from_values(["openid", "email"]),
            now,
            now + 600,
        )
        .with_subject(subject)
        .with_authentication(now, None, vec![]);
        ctx.grants.create_grant(grant.clone()).await?;
        let mut r = issue_token_response(
            ctx,
            client,
            &grant,
            &grant.scopes,
            IssueOptions::new().id_token(true),
        )
        .await?;
        r.extra.insert(
            "issued_token_type".into(),
            json!("urn:ietf:params:oauth:token-type:access_token"),
        );
        Ok(r)
    }
}

fn provider_with(keys: Arc<KeyRing>, extension: bool) -> Provider {
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user(
            "bob",
            "pw",
            json!({"email": "bob@example.com"})
                .as_object()
                .cloned()
                .unwrap(),
            &idforge_oauth_core::OsRng::new(),
        )
        .unwrap();
    let clients = MemoryClientStore::with_clients([
        Client::confidential("ext", "s")
            .with_grant_types(["urn:example:trusted-subject", "client_credentials"]),
        Client::confidential("plain", "s").with_grant_types(["client_credentials"]),
        Client::confidential("one-uri", "s")
            .with_redirect_uri(RP_CB)
            .with_consent_implied(),
    ]);
    let mut b = Provider::builder(Config::new(ISSUER))
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users)
        .keys(keys)
        .clock(Arc::new(idforge_jose::FixedClock::new(NOW)));
    if extension {
        b = b.grant_handler(Arc::new(TrustedSubjectGrant));
    }
    b.build().unwrap()
}

fn ring() -> (Arc<KeyRing>, Key) {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let key = Key::from_jwk(key.jwk().clone().with_kid("k1")).unwrap();
    (
        Arc::new(KeyRing::new(
            LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
        )),
        key,
    )
}

#[tokio::test]
async fn extension_grant_is_dispatched_advertised_and_gated() {
    let (keys, key) = ring();
    let op = provider_with(keys.clone(), true);
    let r = op
        .token
        .handle_form(
            b"grant_type=urn%3Aexample%3Atrusted-subject&subject=bob",
            Some(&basic("ext", "s")),
        )
        .await
        .unwrap();
    assert_eq!(
        r.extra["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    assert_eq!(
        r.to_json()["issued_token_type"],
        "urn:ietf:params:oauth:token-type:access_token"
    );
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(
            r.id_token.as_deref().unwrap(),
            &KeySet::new(vec![key.to_public().unwrap()]),
        )
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["sub"], "bob");
    assert_eq!(claims["email"], "bob@example.com");
    // The client authenticates first, then the grant is checked against its registration.
    let e = op
        .token
        .handle_form(
            b"grant_type=urn%3Aexample%3Atrusted-subject&subject=bob",
            Some(&basic("plain", "s")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unauthorized_client");
    let e = op
        .token
        .handle_form(
            b"grant_type=urn%3Aexample%3Atrusted-subject&subject=bob",
            Some(&basic("ext", "bad")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
    let m = op.discovery.metadata().await.unwrap();
    assert!(m["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "urn:example:trusted-subject"));
    // Without registration the same request is unsupported.
    let op = provider_with(keys, false);
    let e = op
        .token
        .handle_form(
            b"grant_type=urn%3Aexample%3Atrusted-subject&subject=bob",
            Some(&basic("ext", "s")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unsupported_grant_type");
}

#[tokio::test]
async fn key_rotation_keeps_old_tokens_valid_until_retired() {
    let (keys, _) = ring();
    let op = provider_with(keys.clone(), false);
    let cc = basic("plain", "s");
    let old = op
        .token
        .handle_form(b"grant_type=client_credentials", Some(&cc))
        .await
        .unwrap();
    let new_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let new_key = Key::from_jwk(new_key.jwk().clone().with_kid("k2")).unwrap();
    keys.rotate(
        LocalSigner::new(new_key, JwsAlgorithm::ES256).unwrap(),
        NOW + 3600,
    );
    let new = op
        .token
        .handle_form(b"grant_type=client_credentials", Some(&cc))
        .await
        .unwrap();
    let jwks = op.discovery.jwks().await.unwrap();
    let kids: Vec<&str> = jwks["keys"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| k["kid"].as_str().unwrap())
        .collect();
    assert_eq!(kids, ["k2", "k1"], "new key first, old key still published");
    for t in [&old.access_token, &new.access_token] {
        let body = format!("token={t}");
        let v = op
            .introspection
            .handle_form(body.as_bytes(), Some(&cc))
            .await
            .unwrap();
        assert_eq!(v["active"], true);
    }
    keys.sweep(NOW + 3600);
    let v = op
        .introspection
        .handle_form(format!("token={}", old.access_token).as_bytes(), Some(&cc))
        .await
        .unwrap();
    assert_eq!(v["active"], false, "retired key no longer verifies");
}

#[tokio::test]
async fn redirect_uri_may_be_omitted_with_one_registered_uri() {
    let (keys, _) = ring();
    let op = provider_with(keys, false);
    let q = format!("response_type=code&client_id=one-uri&scope=email&code_challenge={CHALLENGE}&code_challenge_method=S256");
    let Interaction::Redirect(r) = op
        .authorization
        .start(
            q.as_bytes(),
            Some(&idforge_oauth_core::Session::new("bob", NOW)),
        )
        .await
    else {
        panic!()
    };
    assert_eq!(r.redirect_uri, RP_CB);
    let code = r.param("code").unwrap();
    // Not sent in the request, so not required at the token endpoint (RFC 6749 §4.1.3).
    let body = format!("grant_type=authorization_code&code={code}&code_verifier={VERIFIER}");
    let t = op
        .token
        .handle_form(body.as_bytes(), Some(&basic("one-uri", "s")))
        .await
        .unwrap();
    assert!(t.id_token.is_none(), "no openid scope, no ID token");
    assert_eq!(t.scope.as_deref(), Some("email"));
}

#[tokio::test]
async fn denial_and_untrusted_resume() {
    let env = env();
    let a = &env.provider.authorization;
    let Interaction::Login { request, .. } = a.start(web_query().as_bytes(), None).await else {
        panic!()
    };
    let r = redirect(a.resume((*request).clone(), Decision::Denied).await);
    assert_eq!(r.param("error"), Some("access_denied"));
    assert_eq!(r.param("state"), Some("s1"));
    // A tampered pending request (redirect URI swapped) is not trusted on resume.
    let mut evil = (*request).clone();
    evil.redirect_uri = "https://evil.example/cb".into();
    assert!(matches!(
        a.resume(evil, Decision::LoggedIn(alice())).await,
        Interaction::ShowError(_)
    ));
    let mut ghost = *request;
    ghost.client_id = "ghost".into();
    assert!(matches!(
        a.resume(ghost, Decision::LoggedIn(alice())).await,
        Interaction::ShowError(_)
    ));
}

#[tokio::test]
async fn userinfo_for_a_deleted_user_is_invalid_token() {
    let env = env();
    let q = web_query();
    let session = idforge_oauth_core::Session::new("nobody-sub", NOW);
    let Interaction::Redirect(r) = env
        .provider
        .authorization
        .start(q.as_bytes(), Some(&session))
        .await
    else {
        panic!()
    };
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        r.param("code").unwrap(),
        urlencode(RP_CB)
    );
    let t = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    let e = env
        .provider
        .userinfo
        .handle(&t.access_token)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token");
}

#[tokio::test]
async fn non_persistent_refresh_without_deny_list_cannot_detect_reuse() {
    let cfg = config().with_token_persistence(TokenPersistence::SelfContainedWithoutRevocation);
    let env = env_with(cfg);
    let code = code_for(&env, &web_query()).await;
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    let auth = basic("web", "web-secret");
    let t = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&auth))
        .await
        .unwrap();
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}",
        t.refresh_token.unwrap()
    );
    // Documented trade-off: with the deny-list off, a refresh token stays usable until exp.
    for _ in 0..2 {
        env.provider
            .token
            .handle_form(refresh.as_bytes(), Some(&auth))
            .await
            .unwrap();
    }
    env.clock.advance(31 * 24 * 3600);
    let e = env
        .provider
        .token
        .handle_form(refresh.as_bytes(), Some(&auth))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant", "expired");
}

#[tokio::test]
async fn private_key_jwt_at_introspection() {
    let env = env();
    let signer = LocalSigner::new(env.client_key.clone(), JwsAlgorithm::ES256).unwrap();
    let claims = json!({"iss": "jwt", "sub": "jwt", "aud": format!("{ISSUER}/token"), "exp": NOW + 60, "jti": "i-1"});
    let a = idforge_jose::sign_jwt(
        idforge_jose::Header::new(),
        claims.as_object().unwrap(),
        &signer,
    )
    .unwrap();
    let body = format!(
        "token=nope&client_assertion_type={}&client_assertion={a}",
        urlencode(idforge_oauth_core::client_auth::JWT_BEARER_ASSERTION)
    );
    let v = env
        .provider
        .introspection
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap();
    assert_eq!(v, json!({"active": false}));
    // The same assertion cannot be replayed at another endpoint either.
    let e = env
        .provider
        .revocation
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}

/// A pre-issue ID token action (WSO2 "pre-issue ID token"): adds and removes claims, shortens
/// the lifetime, and tries (in vain) to forge protected claims.
struct Hook;

#[async_trait]
impl idforge_oauth_core::PreIssueIdTokenAction for Hook {
    async fn before_issue(
        &self,
        client: &Client,
        grant: &Grant,
        claims: &mut serde_json::Map<String, serde_json::Value>,
        lifetime: &mut i64,
    ) -> Result<(), Error> {
        if client.client_id == "refuse" {
            return Err(Error::AccessDenied("policy".into()));
        }
        claims.insert(
            "department".into(),
            json!(format!(
                "dept-of-{}",
                grant.subject.as_deref().unwrap_or("")
            )),
        );
        claims.remove("name");
        claims.insert("sub".into(), json!("mallory"));
        claims.insert("nonce".into(), json!("forged"));
        claims.insert("aud".into(), json!("other"));
        *lifetime = 300;
        Ok(())
    }
}

#[tokio::test]
async fn pre_issue_id_token_action() {
    let env = env();
    // Rebuild the provider with the hook over the same stores.
    let ctx = &env.provider.ctx;
    let op = Provider::builder(ctx.config.clone())
        .clients(ctx.clients.clone())
        .grants(ctx.grants.clone())
        .claims(ctx.claims.clone())
        .passwords(ctx.passwords.clone().unwrap())
        .keys(ctx.keys.clone())
        .clock(ctx.clock.clone())
        .pre_issue_id_token(Arc::new(Hook))
        .build()
        .unwrap();
    let Interaction::Redirect(r) = op
        .authorization
        .start(web_query().as_bytes(), Some(&alice()))
        .await
    else {
        panic!()
    };
    let body = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        r.param("code").unwrap(),
        urlencode(RP_CB)
    );
    let t = op
        .token
        .handle_form(body.as_bytes(), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(
            t.id_token.as_deref().unwrap(),
            &KeySet::new(vec![env.op_key.to_public().unwrap()]),
        )
        .unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["department"], "dept-of-alice-sub");
    assert!(claims.get("name").is_none(), "removed by the hook");
    assert_eq!(claims["email"], "alice@example.com", "kept");
    assert_eq!(claims["sub"], "alice-sub", "protected");
    assert_eq!(claims["nonce"], "n1", "protected");
    assert_eq!(claims["aud"], "web", "protected");
    assert_eq!(claims["exp"], NOW + 300, "lifetime changed by the hook");
    // A hook error aborts the request with that error.
    env.clients.insert(
        Client::confidential("refuse", "s")
            .with_redirect_uri(RP_CB)
            .with_grant_types(["password"]),
    );
    let e = op
        .token
        .handle_form(
            b"grant_type=password&username=alice&password=wonderland&scope=openid",
            Some(&basic("refuse", "s")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
}
