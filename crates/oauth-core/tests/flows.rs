//! End-to-end flows on the memory stores: every grant, error branches, PKCE downgrade, code
//! replay, refresh reuse, concurrency, expiry via the clock.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use idforge_jose::{JwsAlgorithm, JwsPolicy, KeySet};
use idforge_oauth_core::{Decision, Error, Interaction, TokenResponse};
use serde_json::Value;

async fn exchange(env: &Env, body: &str, auth: Option<&str>) -> Result<TokenResponse, Error> {
    env.provider.token.handle_form(body.as_bytes(), auth).await
}

fn code_body(code: &str) -> String {
    format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    )
}

fn claims_of(env: &Env, jwt: &str) -> serde_json::Map<String, Value> {
    let keys = KeySet::new(vec![env.op_key.to_public().unwrap()]);
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &keys)
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

#[tokio::test]
async fn authorization_code_with_pkce_issues_all_tokens() {
    let env = env();
    let r = redirect(
        env.provider
            .authorization
            .start(web_query().as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("state"), Some("s1"));
    assert_eq!(r.param("iss"), Some(ISSUER), "RFC 9207 iss");
    let code = r.param("code").unwrap().to_owned();
    assert!(code.len() >= 43, "256-bit code");
    assert!(r.location().starts_with("https://rp.example/cb?code="));
    let resp = exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    assert_eq!(resp.token_type, "Bearer");
    assert_eq!(resp.expires_in, 3600);
    assert_eq!(resp.scope.as_deref(), Some("openid profile email"));
    assert!(resp.refresh_token.is_some());

    // RFC 9068 access token.
    let (header, _) = resp.access_token.split_once('.').unwrap();
    let header: Value =
        serde_json::from_slice(&idforge_jose::b64::decode(header, "h").unwrap()).unwrap();
    assert_eq!(header["typ"], "at+jwt");
    let at = claims_of(&env, &resp.access_token);
    assert_eq!(at["iss"], ISSUER);
    assert_eq!(at["sub"], "alice-sub");
    assert_eq!(at["client_id"], "web");
    assert_eq!(at["scope"], "openid profile email");
    for c in ["exp", "iat", "jti", "aud"] {
        assert!(at.contains_key(c), "{c}");
    }

    // ID token (OIDC Core §2, §3.1.3.6).
    let id = claims_of(&env, resp.id_token.as_deref().unwrap());
    assert_eq!(id["iss"], ISSUER);
    assert_eq!(id["sub"], "alice-sub");
    assert_eq!(id["aud"], "web");
    assert_eq!(id["azp"], "web");
    assert_eq!(id["nonce"], "n1");
    assert_eq!(id["auth_time"], NOW - 10);
    assert_eq!(id["exp"], NOW + 3600);
    assert_eq!(
        id["at_hash"],
        idforge_oauth_core::issue::half_hash(JwsAlgorithm::ES256, &resp.access_token)
    );
    assert_eq!(
        id["c_hash"],
        idforge_oauth_core::issue::half_hash(JwsAlgorithm::ES256, &code)
    );
    assert_eq!(id["name"], "Alice Liddell");
    assert_eq!(id["email"], "alice@example.com");
    assert!(!id.contains_key("phone_number"), "phone scope not granted");
    assert!(!id.contains_key("favourite"));

    // UserInfo.
    let info = env
        .provider
        .userinfo
        .handle(&resp.access_token)
        .await
        .unwrap();
    let idforge_oauth_core::UserInfoResponse::Json(info) = info else {
        panic!("json expected")
    };
    assert_eq!(info["sub"], "alice-sub");
    assert_eq!(info["email"], "alice@example.com");
    assert!(info.get("phone_number").is_none());
}

#[tokio::test]
async fn code_replay_is_refused_and_revokes_the_family() {
    let env = env();
    let code = code_for(&env, &web_query()).await;
    let auth = basic("web", "web-secret");
    let first = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap();
    assert!(env
        .provider
        .userinfo
        .handle(&first.access_token)
        .await
        .is_ok());
    let again = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap_err();
    assert_eq!(again.code(), "invalid_grant");
    // RFC 6749 §4.1.2: everything issued from the code is revoked.
    let e = env
        .provider
        .userinfo
        .handle(&first.access_token)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token");
    let refresh = format!(
        "grant_type=refresh_token&refresh_token={}",
        first.refresh_token.unwrap()
    );
    assert_eq!(
        exchange(&env, &refresh, Some(&auth))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
}

/// RFC 6749 §4.1.2 under real parallelism (worker threads, the memory store): exactly one of
/// 100 redemptions gets tokens, and the replays revoke them, even when a replay's revocation
/// lands while the winner is still storing its tokens.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn hundred_concurrent_redemptions_exactly_one_wins() {
    for _ in 0..20 {
        let env = Arc::new(env());
        let code = code_for(&env, &web_query()).await;
        let mut tasks = Vec::new();
        for _ in 0..100 {
            let env = env.clone();
            let body = code_body(&code);
            tasks.push(tokio::spawn(async move {
                exchange(&env, &body, Some(&basic("web", "web-secret"))).await
            }));
        }
        let mut winners = Vec::new();
        for t in tasks {
            match t.await.unwrap() {
                Ok(r) => winners.push(r),
                Err(e) => assert_eq!(e.code(), "invalid_grant"),
            }
        }
        assert_eq!(winners.len(), 1);
        // The winner's tokens went with the family the replays revoked.
        let e = env
            .provider
            .userinfo
            .handle(&winners[0].access_token)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_token");
        let refresh = format!(
            "grant_type=refresh_token&refresh_token={}",
            winners[0].refresh_token.as_deref().unwrap()
        );
        let e = exchange(&env, &refresh, Some(&basic("web", "web-secret")))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
    }
}

/// The testkit's redemption race on the memory store (128 attempts), tokens stored and
/// self-contained.
#[cfg(feature = "testkit")]
#[tokio::test]
async fn concurrent_code_redemption_on_memory() {
    use idforge_oauth_core::memory::MemoryGrantStore;
    use idforge_oauth_core::TokenPersistence;
    for persistence in [TokenPersistence::Stored, TokenPersistence::SelfContained] {
        // Two providers on one store: two hosts in one process.
        let store: Arc<dyn idforge_oauth_core::GrantStore> = Arc::new(MemoryGrantStore::new());
        idforge_oauth_core::testkit::concurrent_code_redemption(
            vec![store.clone(), store],
            persistence,
            128,
        )
        .await;
    }
}

#[tokio::test]
async fn pkce_rules_and_downgrade() {
    let env = env();
    let auth = basic("web", "web-secret");
    // Wrong verifier.
    let code = code_for(&env, &web_query()).await;
    let body = code_body(&code).replace(VERIFIER, &"a".repeat(43));
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
    // Missing verifier.
    let code = code_for(&env, &web_query()).await;
    let body = code_body(&code).replace(&format!("&code_verifier={VERIFIER}"), "");
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
    // Downgrade: no challenge in the request, a verifier at the token endpoint (RFC 9700 §4.8.2).
    let q = web_query().replace(
        &format!("&code_challenge={CHALLENGE}&code_challenge_method=S256"),
        "",
    );
    let code = code_for(&env, &q).await;
    assert_eq!(
        exchange(&env, &code_body(&code), Some(&auth))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    // Without challenge and without verifier, a confidential client may proceed.
    let code = code_for(&env, &q).await;
    let body = code_body(&code).replace(&format!("&code_verifier={VERIFIER}"), "");
    assert!(exchange(&env, &body, Some(&auth)).await.is_ok());
    // plain is refused by default, also when implied by a missing method (RFC 7636 §4.3).
    for q in [
        web_query().replace("code_challenge_method=S256", "code_challenge_method=plain"),
        web_query().replace("&code_challenge_method=S256", ""),
    ] {
        let r = redirect(
            env.provider
                .authorization
                .start(q.as_bytes(), Some(&alice()))
                .await,
        );
        assert_eq!(r.param("error"), Some("invalid_request"), "{q}");
        assert_eq!(r.param("state"), Some("s1"));
    }
    // Public clients must use PKCE.
    let q =
        "response_type=code&client_id=spa&redirect_uri=https%3A%2F%2Fspa.example%2Fcb&scope=openid";
    let r = redirect(
        env.provider
            .authorization
            .start(q.as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("error"), Some("invalid_request"));
    // Malformed challenge.
    let q = web_query().replace(CHALLENGE, "short");
    let r = redirect(
        env.provider
            .authorization
            .start(q.as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("error"), Some("invalid_request"));
}

#[tokio::test]
async fn plain_pkce_when_allowed() {
    let mut cfg = config();
    cfg.allow_plain_pkce = true;
    let env = env_with(cfg);
    let q = web_query()
        .replace(CHALLENGE, VERIFIER)
        .replace("S256", "plain");
    let code = code_for(&env, &q).await;
    assert!(
        exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
            .await
            .is_ok()
    );
}

#[tokio::test]
async fn public_client_native_loopback_flow() {
    let env = env();
    let q = format!(
        "response_type=code&client_id=spa&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode("http://127.0.0.1:49152/native")
    );
    let code = code_for(&env, &q).await;
    let body = format!(
        "grant_type=authorization_code&client_id=spa&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode("http://127.0.0.1:49152/native")
    );
    let resp = exchange(&env, &body, None).await.unwrap();
    assert!(resp.id_token.is_some());
    // The code is bound to the redirect URI used.
    let code = code_for(&env, &q).await;
    let body = body
        .replace("49152", "49153")
        .replace(&code_from(&body), &code);
    assert_eq!(
        exchange(&env, &body, None).await.unwrap_err().code(),
        "invalid_grant"
    );
}

fn code_from(body: &str) -> String {
    body.split('&')
        .find_map(|kv| kv.strip_prefix("code="))
        .unwrap()
        .to_owned()
}

#[tokio::test]
async fn code_bound_to_client() {
    let env = env();
    let code = code_for(&env, &web_query()).await;
    let body = format!(
        "{}&client_id=post&client_secret=post-secret",
        code_body(&code)
    );
    assert_eq!(
        exchange(&env, &body, None).await.unwrap_err().code(),
        "invalid_grant"
    );
    // ...and the code is burnt.
    assert_eq!(
        exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn code_expiry_via_clock() {
    let env = env();
    let code = code_for(&env, &web_query()).await;
    env.clock.advance(60);
    let e = exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
}

#[tokio::test]
async fn redirect_uri_mismatch_at_token_endpoint() {
    let env = env();
    let code = code_for(&env, &web_query()).await;
    let body = code_body(&code).replace(&urlencode(RP_CB), &urlencode("https://rp.example/other"));
    assert_eq!(
        exchange(&env, &body, Some(&basic("web", "web-secret")))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    let code = code_for(&env, &web_query()).await;
    let body = code_body(&code).replace(&format!("&redirect_uri={}", urlencode(RP_CB)), "");
    assert_eq!(
        exchange(&env, &body, Some(&basic("web", "web-secret")))
            .await
            .unwrap_err()
            .code(),
        "invalid_grant",
        "redirect_uri was in the request, so it is required"
    );
}

#[tokio::test]
async fn refresh_rotation_reuse_and_narrowing() {
    let env = env();
    let auth = basic("web", "web-secret");
    let code = code_for(&env, &web_query()).await;
    let first = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap();
    let rt1 = first.refresh_token.clone().unwrap();
    env.clock.advance(100);
    let body = format!("grant_type=refresh_token&refresh_token={rt1}&scope=openid%20email");
    let second = exchange(&env, &body, Some(&auth)).await.unwrap();
    assert_eq!(second.scope.as_deref(), Some("openid email"));
    let rt2 = second.refresh_token.clone().unwrap();
    assert_ne!(rt1, rt2, "rotated");
    let id = claims_of(&env, second.id_token.as_deref().unwrap());
    assert_eq!(id["sub"], "alice-sub");
    assert!(!id.contains_key("nonce"), "no nonce on refresh");
    assert_eq!(id["auth_time"], NOW - 10, "auth_time kept");
    // Scope wider than the grant.
    let body = format!("grant_type=refresh_token&refresh_token={rt2}&scope=openid%20phone");
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_scope"
    );
    // Reuse of rt1 revokes the family: rt2 and every access token die.
    let body = format!("grant_type=refresh_token&refresh_token={rt1}");
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
    let body = format!("grant_type=refresh_token&refresh_token={rt2}");
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
    assert_eq!(
        env.provider
            .userinfo
            .handle(&second.access_token)
            .await
            .unwrap_err()
            .code(),
        "invalid_token"
    );
}

#[tokio::test]
async fn refresh_bound_to_client_and_grace_window() {
    let mut cfg = config();
    cfg.refresh_token_grace_seconds = 10;
    let env = env_with(cfg);
    let auth = basic("web", "web-secret");
    let code = code_for(&env, &web_query()).await;
    let rt = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let body = format!("grant_type=refresh_token&refresh_token={rt}");
    let other = format!("{body}&client_id=post&client_secret=post-secret");
    assert_eq!(
        exchange(&env, &other, None).await.unwrap_err().code(),
        "invalid_grant"
    );
    let a = exchange(&env, &body, Some(&auth)).await.unwrap();
    env.clock.advance(5);
    let b = exchange(&env, &body, Some(&auth)).await.unwrap();
    assert_ne!(
        a.refresh_token, b.refresh_token,
        "concurrent refresh inside grace window"
    );
    env.clock.advance(30);
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn refresh_without_rotation() {
    let mut cfg = config();
    cfg.refresh_token_rotation = false;
    let env = env_with(cfg);
    let auth = basic("web", "web-secret");
    let code = code_for(&env, &web_query()).await;
    let rt = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    let body = format!("grant_type=refresh_token&refresh_token={rt}");
    for _ in 0..3 {
        let r = exchange(&env, &body, Some(&auth)).await.unwrap();
        assert!(
            r.refresh_token.is_none(),
            "the same refresh token stays valid"
        );
    }
}

#[tokio::test]
async fn refresh_token_expiry_via_clock() {
    let env = env();
    let auth = basic("web", "web-secret");
    let code = code_for(&env, &web_query()).await;
    let rt = exchange(&env, &code_body(&code), Some(&auth))
        .await
        .unwrap()
        .refresh_token
        .unwrap();
    env.clock.advance(30 * 24 * 3600);
    let body = format!("grant_type=refresh_token&refresh_token={rt}");
    assert_eq!(
        exchange(&env, &body, Some(&auth)).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn client_credentials() {
    let env = env();
    let body = "grant_type=client_credentials&scope=profile";
    let r = exchange(&env, body, Some(&basic("cc-only", "cc-secret")))
        .await
        .unwrap();
    assert!(r.refresh_token.is_none() && r.id_token.is_none());
    let at = claims_of(&env, &r.access_token);
    assert_eq!(at["sub"], "cc-only", "RFC 9068 §2.2: sub is the client");
    assert_eq!(at["client_id"], "cc-only");
    // openid needs a user.
    let e = exchange(
        &env,
        "grant_type=client_credentials&scope=openid",
        Some(&basic("cc-only", "cc-secret")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_scope");
    // Unknown scope.
    let e = exchange(
        &env,
        "grant_type=client_credentials&scope=admin",
        Some(&basic("cc-only", "cc-secret")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_scope");
    // A client not allowed this grant.
    let e = exchange(&env, "grant_type=client_credentials&client_id=spa", None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unauthorized_client");
    // UserInfo refuses a token without a user/openid.
    let e = env
        .provider
        .userinfo
        .handle(&r.access_token)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "insufficient_scope");
    assert_eq!(e.status(), 403);
}

#[tokio::test]
async fn password_grant() {
    let env = env();
    let auth = basic("web", "web-secret");
    let ok = exchange(
        &env,
        "grant_type=password&username=alice&password=wonderland&scope=openid%20email",
        Some(&auth),
    )
    .await
    .unwrap();
    let id = claims_of(&env, ok.id_token.as_deref().unwrap());
    assert_eq!(id["sub"], "alice-sub");
    assert_eq!(id["amr"], serde_json::json!(["pwd"]));
    for body in [
        "grant_type=password&username=alice&password=wrong",
        "grant_type=password&username=nobody&password=wonderland",
    ] {
        assert_eq!(
            exchange(&env, body, Some(&auth)).await.unwrap_err().code(),
            "invalid_grant"
        );
    }
    assert_eq!(
        exchange(&env, "grant_type=password&username=alice", Some(&auth))
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
}

#[tokio::test]
async fn password_grant_disabled_by_default() {
    let env = env_with(idforge_oauth_core::Config::new(ISSUER));
    let e = exchange(
        &env,
        "grant_type=password&username=alice&password=wonderland",
        Some(&basic("web", "web-secret")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "unsupported_grant_type");
}

#[tokio::test]
async fn token_endpoint_error_branches() {
    let env = env();
    let good = basic("web", "web-secret");
    let cases: Vec<(&str, Option<String>, &str)> = vec![
        (
            "grant_type=client_credentials",
            Some(basic("web", "wrong")),
            "invalid_client",
        ),
        (
            "grant_type=client_credentials",
            Some(basic("nobody", "x")),
            "invalid_client",
        ),
        ("grant_type=client_credentials", None, "invalid_client"),
        (
            "grant_type=client_credentials&client_id=web",
            None,
            "invalid_client",
        ),
        // A private_key_jwt client never authenticates with a secret, even its own.
        (
            "grant_type=client_credentials&client_id=jwt&client_secret=unused",
            None,
            "invalid_client",
        ),
        (
            "grant_type=client_credentials&client_id=post&client_secret=post-secret",
            Some(good.clone()),
            "invalid_request",
        ),
        (
            "grant_type=client_credentials&client_id=other",
            Some(good.clone()),
            "invalid_request",
        ),
        ("client_id=spa", None, "invalid_request"),
        (
            "grant_type=urn:example:unknown",
            Some(good.clone()),
            "unsupported_grant_type",
        ),
        (
            "grant_type=authorization_code",
            Some(good.clone()),
            "invalid_request",
        ),
        (
            "grant_type=authorization_code&code=nope",
            Some(good.clone()),
            "invalid_grant",
        ),
        (
            "grant_type=refresh_token",
            Some(good.clone()),
            "invalid_request",
        ),
        (
            "grant_type=refresh_token&refresh_token=nope",
            Some(good.clone()),
            "invalid_grant",
        ),
        (
            "grant_type=client_credentials&grant_type=password",
            Some(good.clone()),
            "invalid_request",
        ),
        (
            "grant_type=password&client_id=asks-consent",
            None,
            "unauthorized_client",
        ),
        (
            "grant_type=client_credentials&client_id=asks-consent",
            None,
            "unauthorized_client",
        ),
    ];
    for (body, auth, code) in cases {
        let e = exchange(&env, body, auth.as_deref()).await.unwrap_err();
        assert_eq!(e.code(), code, "{body}");
    }
    // A client registered for client_secret_basic may send the same secret in the body
    // (client_secret_post), and the other way round, as node-oidc-provider and Keycloak allow.
    exchange(
        &env,
        "grant_type=client_credentials&client_id=web&client_secret=web-secret",
        None,
    )
    .await
    .unwrap();
    exchange(
        &env,
        "grant_type=client_credentials",
        Some(&basic("post", "post-secret")),
    )
    .await
    .unwrap();
    let e = exchange(
        &env,
        "grant_type=client_credentials",
        Some(&basic("web", "wrong")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.status(), 401);
    // client_secret_post works for the client registered with it.
    assert!(exchange(
        &env,
        "grant_type=client_credentials&client_id=post&client_secret=post-secret",
        None
    )
    .await
    .is_ok());
    // ...and so does Basic: both carry the same secret (RFC 6749 §2.3.1).
    assert!(exchange(
        &env,
        "grant_type=client_credentials",
        Some(&basic("post", "post-secret")),
    )
    .await
    .is_ok());
    let e = exchange(
        &env,
        "grant_type=client_credentials",
        Some(&basic("post", "web-secret")),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}

#[tokio::test]
async fn authorization_errors_shown_not_redirected() {
    let env = env();
    let a = &env.provider.authorization;
    let cases = [
        "response_type=code&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
        "response_type=code&client_id=nobody&redirect_uri=https%3A%2F%2Frp.example%2Fcb",
        "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fevil.example%2Fcb",
        "response_type=code&client_id=web&redirect_uri=https%3A%2F%2Frp.example%2Fcb%2F",
        "response_type=code&client_id=web&scope=openid",
        "response_type=code&client_id=web&client_id=web",
    ];
    for q in cases {
        match a.start(q.as_bytes(), Some(&alice())).await {
            Interaction::ShowError(e) => assert_eq!(e.code(), "invalid_request", "{q}"),
            other => panic!("{q}: expected an error page, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn authorization_errors_redirected() {
    let env = env();
    let a = &env.provider.authorization;
    let base = web_query();
    let cases = [
        (
            base.replace("response_type=code", "response_type=token"),
            "unsupported_response_type",
        ),
        (base.replace("response_type=code&", ""), "invalid_request"),
        (
            base.replace("scope=openid%20profile%20email", "scope=openid%20admin"),
            "invalid_scope",
        ),
        (format!("{base}&response_mode=fragment"), "invalid_request"),
        (format!("{base}&prompt=none%20login"), "invalid_request"),
        (format!("{base}&prompt=bogus"), "invalid_request"),
        (format!("{base}&max_age=-1"), "invalid_request"),
        (format!("{base}&claims=notjson"), "invalid_request"),
        (format!("{base}&request=eyJ"), "invalid_request_object"),
        (
            format!("{base}&request_uri=https%3A%2F%2Fx"),
            "request_uri_not_supported",
        ),
        (
            format!("{base}&registration=%7B%7D"),
            "registration_not_supported",
        ),
    ];
    for (q, code) in cases {
        let r = redirect(a.start(q.as_bytes(), Some(&alice())).await);
        assert_eq!(r.param("error"), Some(code), "{q}");
        assert_eq!(r.param("state"), Some("s1"));
        assert_eq!(r.param("iss"), Some(ISSUER));
        assert_eq!(r.redirect_uri, RP_CB);
    }
}

#[tokio::test]
async fn prompt_max_age_login_and_consent() {
    let env = env();
    let a = &env.provider.authorization;
    // No session: login.
    let Interaction::Login { request, .. } = a.start(web_query().as_bytes(), None).await else {
        panic!("login expected")
    };
    // prompt=none without session: login_required.
    let r = redirect(
        a.start(format!("{}&prompt=none", web_query()).as_bytes(), None)
            .await,
    );
    assert_eq!(r.param("error"), Some("login_required"));
    // prompt=login forces login even with a session.
    assert!(matches!(
        a.start(
            format!("{}&prompt=login", web_query()).as_bytes(),
            Some(&alice())
        )
        .await,
        Interaction::Login { .. }
    ));
    // max_age: alice logged in 10 s ago.
    assert!(matches!(
        a.start(
            format!("{}&max_age=5", web_query()).as_bytes(),
            Some(&alice())
        )
        .await,
        Interaction::Login { .. }
    ));
    assert!(matches!(
        a.start(
            format!("{}&max_age=60", web_query()).as_bytes(),
            Some(&alice())
        )
        .await,
        Interaction::Redirect(_)
    ));
    let r = redirect(
        a.start(
            format!("{}&max_age=5&prompt=none", web_query()).as_bytes(),
            Some(&alice()),
        )
        .await,
    );
    assert_eq!(r.param("error"), Some("login_required"));
    // Resume after login issues the code (consent implied for `web`).
    let r = redirect(a.resume(*request, Decision::LoggedIn(alice())).await);
    assert!(r.param("code").is_some());

    // A client without implied consent.
    let q = format!(
        "response_type=code&client_id=asks-consent&redirect_uri={}&scope=openid%20email&state=z&code_challenge={CHALLENGE}&code_challenge_method=S256&login_hint=alice&ui_locales=en%20fr&acr_values=urn:a",
        urlencode("https://spa.example/cb")
    );
    let Interaction::Consent { request, session } = a.start(q.as_bytes(), Some(&alice())).await
    else {
        panic!("consent expected")
    };
    assert_eq!(request.login_hint.as_deref(), Some("alice"));
    assert_eq!(request.ui_locales, ["en", "fr"]);
    assert_eq!(request.acr_values, ["urn:a"]);
    let r = redirect(
        a.resume(
            (*request).clone(),
            Decision::Consented {
                session: session.clone(),
                granted: false,
            },
        )
        .await,
    );
    assert_eq!(r.param("error"), Some("access_denied"));
    assert_eq!(r.param("state"), Some("z"));
    let r = redirect(
        a.resume(
            *request,
            Decision::Consented {
                session,
                granted: true,
            },
        )
        .await,
    );
    assert!(r.param("code").is_some());
    // prompt=none and consent needed: consent_required.
    let r = redirect(
        a.start(format!("{q}&prompt=none").as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("error"), Some("consent_required"));
    // Already consented: no interaction.
    let mut s = alice();
    s.consented_scopes = vec!["openid".into(), "email".into()];
    assert!(matches!(
        a.start(q.as_bytes(), Some(&s)).await,
        Interaction::Redirect(_)
    ));
    // prompt=consent asks again.
    assert!(matches!(
        a.start(format!("{q}&prompt=consent").as_bytes(), Some(&s))
            .await,
        Interaction::Consent { .. }
    ));
}

#[tokio::test]
async fn form_post_response_mode() {
    let env = env();
    let q = format!("{}&response_mode=form_post", web_query());
    let r = redirect(
        env.provider
            .authorization
            .start(q.as_bytes(), Some(&alice()))
            .await,
    );
    let html = r.form_post_html();
    assert!(html.contains("action=\"https://rp.example/cb\""));
    assert!(html.contains(&format!(
        "name=\"code\" value=\"{}\"",
        r.param("code").unwrap()
    )));
    // Errors use the requested mode too.
    let q = format!("{}&response_mode=form_post&prompt=none", web_query());
    let r = redirect(env.provider.authorization.start(q.as_bytes(), None).await);
    assert_eq!(
        r.response_mode,
        idforge_oauth_core::model::ResponseMode::FormPost
    );
    assert_eq!(r.param("error"), Some("login_required"));
}

#[tokio::test]
async fn claims_parameter_reaches_id_token_and_userinfo() {
    let mut cfg = config();
    cfg.scope_claims_in_id_token = false;
    let env = env_with(cfg);
    let claims = urlencode(
        r#"{"id_token":{"favourite":null},"userinfo":{"phone_number":{"essential":true}}}"#,
    );
    let q = format!("{}&claims={claims}", web_query());
    let code = code_for(&env, &q).await;
    let resp = exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    let id = claims_of(&env, resp.id_token.as_deref().unwrap());
    assert_eq!(id["favourite"], "tea");
    assert!(
        !id.contains_key("email"),
        "scope claims only in UserInfo with this config"
    );
    let idforge_oauth_core::UserInfoResponse::Json(info) = env
        .provider
        .userinfo
        .handle(&resp.access_token)
        .await
        .unwrap()
    else {
        panic!()
    };
    assert_eq!(info["phone_number"], "+44 20 0000");
    assert_eq!(info["email"], "alice@example.com");
    assert!(info.get("favourite").is_none());
}

#[cfg(feature = "testkit")]
#[tokio::test]
async fn grant_store_passes_testkit() {
    idforge_oauth_core::testkit::run_all(&idforge_oauth_core::memory::MemoryGrantStore::new())
        .await;
}

#[cfg(feature = "testkit")]
#[tokio::test]
async fn bounded_memory_store_refuses_when_full() {
    use idforge_oauth_core::memory::{MemoryGrantStore, MemoryLimits};
    use idforge_oauth_core::GrantStore;
    let store = MemoryGrantStore::with_limits(MemoryLimits {
        max_grants: 2,
        ..MemoryLimits::default()
    });
    let g1 = idforge_oauth_core::testkit::grant(10);
    let g2 = idforge_oauth_core::testkit::grant(10_000);
    let g3 = idforge_oauth_core::testkit::grant(10_000);
    let g4 = idforge_oauth_core::testkit::grant(10_000);
    store.create_grant(g1).await.unwrap();
    store.create_grant(g2).await.unwrap();
    // Full, but g1 has expired by g3's creation time? No: creation time is T0 for all, so the
    // sweep frees nothing and the store refuses.
    let e = store.create_grant(g3).await.unwrap_err();
    assert_eq!(e.code(), "temporarily_unavailable");
    // Once time passes g1's expiry, a sweep makes room.
    let mut g4 = g4;
    g4.created_at += 20;
    store.create_grant(g4).await.unwrap();
    assert_eq!(store.len().0, 2);
}

/// An ID token for alice, issued to `web` through the whole code flow.
async fn alice_id_token(env: &Env) -> String {
    let code = code_for(env, &web_query()).await;
    exchange(env, &code_body(&code), Some(&basic("web", "web-secret")))
        .await
        .unwrap()
        .id_token
        .unwrap()
}

#[tokio::test]
async fn id_token_hint_names_the_user_who_must_be_logged_in() {
    let env = env();
    let a = &env.provider.authorization;
    let hint = alice_id_token(&env).await;
    let with_hint = |extra: &str| format!("{}&id_token_hint={hint}{extra}", web_query());
    let bob = idforge_oauth_core::Session::new("bob-sub", NOW - 10);

    // OIDC Core §3.1.2.1: the hinted user is logged in: a positive response, even silently.
    let r = redirect(
        a.start(with_hint("&prompt=none").as_bytes(), Some(&alice()))
            .await,
    );
    assert!(r.param("code").is_some(), "{r:?}");
    // Someone else is logged in: login_required under prompt=none...
    let r = redirect(
        a.start(with_hint("&prompt=none").as_bytes(), Some(&bob))
            .await,
    );
    assert_eq!(r.param("error"), Some("login_required"));
    // ...otherwise a login, after which the hinted user must be the one logged in.
    let Interaction::Login { request, .. } = a.start(with_hint("").as_bytes(), Some(&bob)).await
    else {
        panic!("login expected")
    };
    assert_eq!(request.id_token_hint_subject.as_deref(), Some("alice-sub"));
    let r = redirect(
        a.resume((*request).clone(), Decision::LoggedIn(bob.clone()))
            .await,
    );
    assert_eq!(r.param("error"), Some("login_required"));
    let r = redirect(a.resume(*request, Decision::LoggedIn(alice())).await);
    assert!(r.param("code").is_some());

    // An expired ID token is still a valid hint (§3.1.2.1 does not require a live one).
    env.clock.advance(10 * 24 * 3600);
    let r = redirect(
        a.start(with_hint("&prompt=none").as_bytes(), Some(&alice()))
            .await,
    );
    assert!(r.param("code").is_some(), "{r:?}");

    // Hints this OP did not issue to this client are invalid_request.
    let (head, sig) = hint.rsplit_once('.').unwrap();
    // Change the signature's first character for certain (a replace of some letters left it
    // unchanged whenever the signature happened to contain none of them).
    let first = if sig.starts_with('A') { "B" } else { "A" };
    let flipped = format!("{head}.{first}{}", &sig[1..]);
    let other_issuer = {
        let key = idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
            idforge_jose::crypto::EcCurve::P256,
        ))
        .unwrap();
        let signer = idforge_jose::LocalSigner::new(key, JwsAlgorithm::ES256).unwrap();
        let claims =
            serde_json::json!({"iss": ISSUER, "aud": "web", "sub": "alice-sub", "exp": NOW + 60});
        idforge_jose::sign_jwt(
            idforge_jose::Header::new(),
            claims.as_object().unwrap(),
            &signer,
        )
        .unwrap()
    };
    for bad in [
        flipped,
        other_issuer,
        "a.b.c.d.e".to_owned(),
        "not-a-jwt".to_owned(),
    ] {
        let q = format!("{}&id_token_hint={}", web_query(), urlencode(&bad));
        let r = redirect(a.start(q.as_bytes(), Some(&alice())).await);
        assert_eq!(r.param("error"), Some("invalid_request"), "{bad}");
    }
    // Issued to another client: the hint is not this client's to use.
    let spa = format!(
        "response_type=code&client_id=spa&redirect_uri={}&scope=openid&code_challenge={CHALLENGE}&code_challenge_method=S256&id_token_hint={hint}",
        urlencode("https://spa.example/cb")
    );
    let r = redirect(a.start(spa.as_bytes(), Some(&alice())).await);
    assert_eq!(r.param("error"), Some("invalid_request"));
    assert!(r
        .param("error_description")
        .unwrap()
        .contains("this client"));
}

#[tokio::test]
async fn essential_acr_values_are_binding() {
    let env = env();
    let a = &env.provider.authorization;
    let claims = urlencode(
        r#"{"id_token":{"acr":{"essential":true,"values":["urn:gold","urn:platinum"]}}}"#,
    );
    let q = format!("{}&claims={claims}", web_query());
    let mut silver = alice();
    silver.acr = Some("urn:silver".into());
    let mut gold = alice();
    gold.acr = Some("urn:gold".into());

    // OIDC Core §5.5.1.1: a session below the required acr must authenticate again.
    let r = redirect(
        a.start(format!("{q}&prompt=none").as_bytes(), Some(&silver))
            .await,
    );
    assert_eq!(r.param("error"), Some("login_required"));
    let Interaction::Login { request, .. } = a.start(q.as_bytes(), Some(&silver)).await else {
        panic!("login expected")
    };
    assert_eq!(
        request.claims.as_ref().unwrap().essential_acr,
        ["urn:gold", "urn:platinum"]
    );
    // Still not reached after the login: a failed authentication.
    let r = redirect(
        a.resume((*request).clone(), Decision::LoggedIn(silver.clone()))
            .await,
    );
    assert_eq!(r.param("error"), Some("access_denied"));
    // Reached: the code is issued and the ID token carries the acr.
    let r = redirect(a.resume(*request, Decision::LoggedIn(gold.clone())).await);
    let code = r.param("code").unwrap().to_owned();
    let t = exchange(&env, &code_body(&code), Some(&basic("web", "web-secret")))
        .await
        .unwrap();
    assert_eq!(claims_of(&env, &t.id_token.unwrap())["acr"], "urn:gold");
    // A session that already meets it needs no interaction.
    assert!(matches!(
        a.start(q.as_bytes(), Some(&gold)).await,
        Interaction::Redirect(_)
    ));
    // Voluntary (non-essential) acr requests do not bind.
    let voluntary = urlencode(r#"{"id_token":{"acr":{"values":["urn:gold"]}}}"#);
    let r = redirect(
        a.start(
            format!("{}&claims={voluntary}", web_query()).as_bytes(),
            Some(&silver),
        )
        .await,
    );
    assert!(r.param("code").is_some());
    // §5.5.1: malformed member types are invalid_request.
    for bad in [
        r#"{"id_token":{"acr":{"essential":"yes"}}}"#,
        r#"{"id_token":{"acr":{"essential":true,"value":7}}}"#,
        r#"{"id_token":{"acr":{"essential":true,"values":"urn:gold"}}}"#,
    ] {
        let q = format!("{}&claims={}", web_query(), urlencode(bad));
        let r = redirect(a.start(q.as_bytes(), Some(&gold)).await);
        assert_eq!(r.param("error"), Some("invalid_request"), "{bad}");
    }
}

#[tokio::test]
async fn display_is_validated_and_carried() {
    let env = env();
    let a = &env.provider.authorization;
    let Interaction::Login { request, .. } = a
        .start(format!("{}&display=popup", web_query()).as_bytes(), None)
        .await
    else {
        panic!("login expected")
    };
    assert_eq!(
        request.display,
        Some(idforge_oauth_core::model::Display::Popup)
    );
    let r = redirect(
        a.start(
            format!("{}&display=hologram", web_query()).as_bytes(),
            Some(&alice()),
        )
        .await,
    );
    assert_eq!(r.param("error"), Some("invalid_request"));
}
