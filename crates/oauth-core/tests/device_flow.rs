//! The device authorization grant (RFC 8628) through the public API: the device authorization
//! endpoint, user-code verification (page and app-native JSON API) and the token endpoint,
//! every RFC 8628 §3.5 error, `slow_down` and single redemption under 100 concurrent polls,
//! attempt limits, and the memory store's conformance suite.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::{basic, urlencode, ISSUER, NOW};
use idforge_jose::{
    crypto::EcCurve, FixedClock, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet, KeySpec,
    LocalSigner,
};
use idforge_oauth_core::device::{
    DecisionKind, DeviceApproval, DeviceSettings, UserCodeSubmission, UserDecision,
    DEVICE_CODE_GRANT_TYPE,
};
use idforge_oauth_core::endpoint::device::VerdictStatus;
use idforge_oauth_core::memory::{
    MemoryAttemptLimiter, MemoryClientStore, MemoryDeviceCodeStore, MemoryGrantStore,
    MemoryUserStore,
};
use idforge_oauth_core::{
    AuthorizationExtension, AuthorizationRequest, Client, Config, DeviceAuthorizationEndpoint,
    DeviceFlow, DeviceVerification, Error, Grant, OsRng, Provider, TokenPersistence, TokenResponse,
};
use serde_json::{json, Map, Value};

const IP: &str = "198.51.100.7";

struct Env {
    provider: Provider,
    clock: Arc<FixedClock>,
    endpoint: DeviceAuthorizationEndpoint,
    verification: DeviceVerification,
    key: Key,
}

fn env_with(settings: DeviceSettings) -> Env {
    env_full(settings, Config::new(ISSUER))
}

fn env_full(settings: DeviceSettings, config: Config) -> Env {
    env_extended(settings, config, None)
}

fn env_extended(
    settings: DeviceSettings,
    config: Config,
    extension: Option<Arc<dyn AuthorizationExtension>>,
) -> Env {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    let mut claims = Map::new();
    claims.insert("sub".into(), json!("alice-sub"));
    users
        .add_user("alice", "wonderland", claims, &OsRng::new())
        .unwrap();
    let clients = MemoryClientStore::with_clients([
        Client::public("tv")
            .with_grant_types([DEVICE_CODE_GRANT_TYPE, "refresh_token"])
            .with_scopes(["openid", "profile", "offline_access"])
            .with_metadata("client_name", json!("Living-room TV")),
        Client::confidential("box", "box-secret")
            .with_grant_types([DEVICE_CODE_GRANT_TYPE])
            .with_metadata("device_code_expiry_seconds", json!(120)),
        Client::confidential("web", "web-secret"),
    ]);
    let flow = DeviceFlow::new(
        settings,
        Arc::new(MemoryDeviceCodeStore::new()),
        Arc::new(MemoryAttemptLimiter::new()),
    )
    .unwrap();
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = Provider::builder(config)
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users.clone())
        .passwords(users)
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(clock.clone())
        .grant_handler(flow.grant());
    let provider = match extension {
        Some(e) => provider.authorization_extension(e),
        None => provider,
    }
    .build()
    .unwrap();
    Env {
        endpoint: DeviceAuthorizationEndpoint::new(provider.ctx.clone(), flow.clone()),
        verification: DeviceVerification::new(provider.ctx.clone(), flow),
        provider,
        clock,
        key,
    }
}

fn env() -> Env {
    env_with(DeviceSettings::new())
}

async fn authorize(env: &Env, body: &str) -> Value {
    env.endpoint
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap()
        .to_json()
}

async fn poll(env: &Env, device_code: &str) -> Result<TokenResponse, Error> {
    let body = format!(
        "grant_type={}&device_code={}&client_id=tv",
        urlencode(DEVICE_CODE_GRANT_TYPE),
        urlencode(device_code)
    );
    env.provider.token.handle_form(body.as_bytes(), None).await
}

fn submission(code: &str, password: &str, decision: DecisionKind) -> UserCodeSubmission {
    UserCodeSubmission::new(code, "alice", password, decision)
}

#[tokio::test]
async fn the_device_authorization_response_follows_rfc_8628() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid%20profile").await;
    // RFC 8628 §3.2.
    let device_code = r["device_code"].as_str().unwrap();
    assert!(device_code.len() >= 43, "256 bits: {device_code}");
    let user_code = r["user_code"].as_str().unwrap();
    assert_eq!(user_code.len(), 9);
    assert_eq!(&user_code[4..5], "-");
    assert!(user_code
        .bytes()
        .filter(|b| *b != b'-')
        .all(|b| b"BCDFGHJKLMNPQRSTVWXZ".contains(&b)));
    assert_eq!(r["verification_uri"], format!("{ISSUER}/device"));
    assert_eq!(
        r["verification_uri_complete"],
        format!("{ISSUER}/device?user_code={user_code}")
    );
    assert_eq!(r["expires_in"], 600);
    assert_eq!(r["interval"], 5);
    // A client's own lifetime.
    let r = env
        .endpoint
        .handle_form(b"scope=", Some(&basic("box", "box-secret")))
        .await
        .unwrap();
    assert_eq!(r.expires_in, 120);
    // Discovery (RFC 8628 §4).
    let m = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(
        m["device_authorization_endpoint"],
        format!("{ISSUER}/device_authorization")
    );
    assert!(m["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == DEVICE_CODE_GRANT_TYPE));
}

#[tokio::test]
async fn the_device_authorization_endpoint_refuses_what_it_must() {
    let env = env();
    let e = env.endpoint.handle_form(b"scope=openid", None).await;
    assert_eq!(e.unwrap_err().code(), "invalid_client");
    let e = env
        .endpoint
        .handle_form(b"", Some(&basic("web", "web-secret")))
        .await;
    assert_eq!(e.unwrap_err().code(), "unauthorized_client");
    let e = env
        .endpoint
        .handle_form(b"", Some(&basic("box", "wrong")))
        .await;
    assert_eq!(e.unwrap_err().code(), "invalid_client");
    let e = env
        .endpoint
        .handle_form(b"client_id=tv&scope=email", None)
        .await;
    assert_eq!(e.unwrap_err().code(), "invalid_scope");
    let e = env
        .endpoint
        .handle_form(b"client_id=tv&client_id=tv", None)
        .await;
    assert_eq!(e.unwrap_err().code(), "invalid_request");
}

#[tokio::test]
async fn approve_then_poll_issues_tokens_once() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid%20offline_access").await;
    let (dc, uc) = (
        r["device_code"].as_str().unwrap(),
        r["user_code"].as_str().unwrap(),
    );
    assert_eq!(
        poll(&env, dc).await.unwrap_err().code(),
        "authorization_pending"
    );
    // The page shows the client and the scopes before the user decides (RFC 8628 §5.4);
    // the code is typed in lower case with a space.
    let typed = uc.to_lowercase().replace('-', " ");
    let prompt = env.verification.lookup(&typed, IP).await.unwrap();
    assert_eq!(prompt.client_id, "tv");
    assert_eq!(prompt.client_name, "Living-room TV");
    assert_eq!(prompt.scopes.values(), ["openid", "offline_access"]);
    assert_eq!(prompt.user_code, uc);
    // Wrong password: access_denied, still pending.
    let e = env
        .verification
        .submit(&submission(uc, "nope", DecisionKind::Approve), IP)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    env.clock.advance(5);
    assert_eq!(
        poll(&env, dc).await.unwrap_err().code(),
        "authorization_pending"
    );
    let v = env
        .verification
        .submit(&submission(uc, "wonderland", DecisionKind::Approve), IP)
        .await
        .unwrap();
    assert_eq!(v.status, VerdictStatus::Approved);
    assert_eq!(
        v.to_json(),
        json!({"status": "approved", "client_id": "tv", "scope": "openid offline_access"})
    );
    env.clock.advance(5);
    let t = poll(&env, dc).await.unwrap();
    let claims: Value = serde_json::from_slice(
        &JwsPolicy::new([JwsAlgorithm::ES256])
            .verify_compact(
                &t.access_token,
                &KeySet::new(vec![env.key.to_public().unwrap()]),
            )
            .unwrap()
            .payload,
    )
    .unwrap();
    assert_eq!(claims["sub"], "alice-sub");
    assert_eq!(claims["client_id"], "tv");
    assert_eq!(claims["amr"], json!(["pwd"]));
    assert!(t.id_token.is_some() && t.refresh_token.is_some());
    // Redeemed once; the code is now unknown (invalid_grant); the user code is spent too.
    env.clock.advance(5);
    assert_eq!(poll(&env, dc).await.unwrap_err().code(), "invalid_grant");
    let e = env.verification.lookup(uc, IP).await.unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
}

#[tokio::test]
async fn self_contained_tokens_work_too() {
    let config = Config::new(ISSUER).with_token_persistence(TokenPersistence::SelfContained);
    let env = env_full(DeviceSettings::new(), config);
    let r = authorize(&env, "client_id=tv&scope=openid%20offline_access").await;
    env.verification
        .submit(
            &submission(
                r["user_code"].as_str().unwrap(),
                "wonderland",
                DecisionKind::Approve,
            ),
            IP,
        )
        .await
        .unwrap();
    let t = poll(&env, r["device_code"].as_str().unwrap())
        .await
        .unwrap();
    // The self-contained refresh token works.
    let body = format!(
        "grant_type=refresh_token&client_id=tv&refresh_token={}",
        urlencode(t.refresh_token.as_deref().unwrap())
    );
    let refreshed = env.provider.token.handle_form(body.as_bytes(), None).await;
    assert!(refreshed.is_ok(), "{refreshed:?}");
}

#[tokio::test]
async fn deny_is_access_denied() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let v = env
        .verification
        .submit(
            &submission(
                r["user_code"].as_str().unwrap(),
                "wonderland",
                DecisionKind::Deny,
            ),
            IP,
        )
        .await
        .unwrap();
    assert_eq!(v.status, VerdictStatus::Denied);
    let e = poll(&env, r["device_code"].as_str().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "access_denied");
    assert_eq!(e.status(), 400);
}

#[tokio::test]
async fn expired_codes_are_expired_token_after_expiry() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    env.clock.advance(601);
    let e = poll(&env, r["device_code"].as_str().unwrap())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "expired_token");
    assert_eq!(e.status(), 400);
    let uc = r["user_code"].as_str().unwrap();
    assert_eq!(
        env.verification.lookup(uc, IP).await.unwrap_err().code(),
        "expired_token"
    );
    let j = env
        .verification
        .handle_json(
            json!({"user_code": uc, "username": "alice", "password": "wonderland", "decision": "approve"})
                .to_string()
                .as_bytes(),
            IP,
        )
        .await;
    assert_eq!(j.0, 400);
    assert_eq!(j.1["error"], "expired_token");
}

#[tokio::test]
async fn slow_down_adds_five_seconds() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let dc = r["device_code"].as_str().unwrap();
    assert_eq!(
        poll(&env, dc).await.unwrap_err().code(),
        "authorization_pending"
    );
    env.clock.advance(2);
    assert_eq!(poll(&env, dc).await.unwrap_err().code(), "slow_down");
    // Now 10 s: a poll 7 s later is still too fast.
    env.clock.advance(7);
    assert_eq!(poll(&env, dc).await.unwrap_err().code(), "slow_down");
    env.clock.advance(15);
    assert_eq!(
        poll(&env, dc).await.unwrap_err().code(),
        "authorization_pending"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_polls_cannot_both_pass_and_redeem_once() {
    let env = Arc::new(env());
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let dc = r["device_code"].as_str().unwrap().to_owned();
    let run = |env: Arc<Env>, dc: String| async move {
        let tasks: Vec<_> = (0..100)
            .map(|_| {
                let (env, dc) = (env.clone(), dc.clone());
                tokio::spawn(async move { poll(&env, &dc).await })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    };
    let results = run(env.clone(), dc.clone()).await;
    let codes: Vec<&str> = results
        .iter()
        .map(|r| r.as_ref().unwrap_err().code())
        .collect();
    assert_eq!(
        codes
            .iter()
            .filter(|c| **c == "authorization_pending")
            .count(),
        1
    );
    assert_eq!(codes.iter().filter(|c| **c == "slow_down").count(), 99);

    env.verification
        .decide(
            r["user_code"].as_str().unwrap(),
            UserDecision::Approve(DeviceApproval::new("alice-sub", NOW, vec!["pwd".into()])),
            IP,
        )
        .await
        .unwrap();
    let results = run(env.clone(), dc).await;
    assert_eq!(results.iter().filter(|r| r.is_ok()).count(), 1);
    assert!(results
        .iter()
        .filter_map(|r| r.as_ref().err())
        .all(|e| e.code() == "invalid_grant"));
}

#[tokio::test]
async fn another_client_cannot_poll_the_code() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let body = format!(
        "grant_type={}&device_code={}",
        urlencode(DEVICE_CODE_GRANT_TYPE),
        urlencode(r["device_code"].as_str().unwrap())
    );
    let e = env
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("box", "box-secret")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
    // Missing device_code.
    let body = format!(
        "grant_type={}&client_id=tv",
        urlencode(DEVICE_CODE_GRANT_TYPE)
    );
    let e = env.provider.token.handle_form(body.as_bytes(), None).await;
    assert_eq!(e.unwrap_err().code(), "invalid_request");
}

#[tokio::test]
async fn the_json_api_speaks_the_contract() {
    let env = env();
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let uc = r["user_code"].as_str().unwrap();
    let body = |password: &str, decision: &str| {
        json!({"user_code": uc, "username": "alice", "password": password, "decision": decision})
            .to_string()
    };
    let (s, v) = env
        .verification
        .handle_json(body("bad", "approve").as_bytes(), IP)
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("access_denied")));
    let (s, v) = env
        .verification
        .handle_json(br#"{"user_code":"x"}"#, IP)
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_request")));
    let (s, v) = env
        .verification
        .handle_json(
            json!({"user_code": "BBBB-BBBB", "username": "alice", "password": "wonderland", "decision": "approve"})
                .to_string()
                .as_bytes(),
            IP,
        )
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
    let (s, v) = env
        .verification
        .handle_json(body("wonderland", "approve").as_bytes(), IP)
        .await;
    assert_eq!(s, 200);
    assert_eq!(
        v,
        json!({"status": "approved", "client_id": "tv", "scope": "openid"})
    );
    // Used: invalid_grant.
    let (s, v) = env
        .verification
        .handle_json(body("wonderland", "deny").as_bytes(), IP)
        .await;
    assert_eq!((s, v["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn brute_force_is_bounded_per_ip_and_per_code() {
    let env = env_with(DeviceSettings::new().with_attempt_limits(5, 3, 300));
    // Per IP: guessing codes.
    for _ in 0..5 {
        let e = env.verification.lookup("BBBB-BBBB", IP).await.unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
    }
    let e = env.verification.lookup("BBBB-BBBB", IP).await.unwrap_err();
    assert_eq!((e.code(), e.status()), ("temporarily_unavailable", 429));
    // Another address is not affected; the window ends.
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let uc = r["user_code"].as_str().unwrap();
    assert!(env.verification.lookup(uc, "203.0.113.1").await.is_ok());
    env.clock.advance(300);
    assert!(env.verification.lookup(uc, IP).await.is_ok());
    // Per device code: password guessing from many addresses.
    for i in 0..3 {
        let e = env
            .verification
            .submit(
                &submission(uc, "guess", DecisionKind::Approve),
                &format!("10.0.0.{i}"),
            )
            .await
            .unwrap_err();
        assert_eq!(e.code(), "access_denied");
    }
    let e = env
        .verification
        .submit(
            &submission(uc, "wonderland", DecisionKind::Approve),
            "10.0.1.1",
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "temporarily_unavailable");
}

#[cfg(feature = "testkit")]
#[tokio::test]
async fn memory_device_code_store_passes_testkit() {
    idforge_oauth_core::testkit::run_all_device(&MemoryDeviceCodeStore::new()).await;
}

/// An authorization extension scoping every decoupled grant to a tenant (as an organization's
/// issuer does), or refusing users other than alice-sub.
struct Tenant;

#[async_trait::async_trait]
impl AuthorizationExtension for Tenant {
    fn parameters(&self) -> Vec<&'static str> {
        Vec::new()
    }

    async fn check(&self, _: &Client, _: &AuthorizationRequest) -> Result<(), Error> {
        Ok(())
    }

    async fn shape_grant(
        &self,
        _: &Client,
        _: &AuthorizationRequest,
        _: &mut Grant,
    ) -> Result<(), Error> {
        Ok(())
    }

    async fn shape_decoupled_grant(
        &self,
        client: &Client,
        grant_type: &str,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        if grant.subject.as_deref() != Some("alice-sub") {
            return Err(Error::AccessDenied("not in this tenant".into()));
        }
        let tag = json!({"tenant": "t1", "flow": grant_type, "client": client.client_id});
        grant
            .contents
            .add_access_token_claim("tenant", tag.clone())?;
        grant.contents.add_id_token_claim("tenant", tag)?;
        Ok(())
    }
}

#[tokio::test]
async fn authorization_extensions_shape_device_grants() {
    let env = env_extended(
        DeviceSettings::new(),
        Config::new(ISSUER),
        Some(Arc::new(Tenant)),
    );
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let (dc, uc) = (
        r["device_code"].as_str().unwrap(),
        r["user_code"].as_str().unwrap(),
    );
    env.verification
        .submit(&submission(uc, "wonderland", DecisionKind::Approve), IP)
        .await
        .unwrap();
    let t = poll(&env, dc).await.unwrap();
    let keys = KeySet::new(vec![env.key.to_public().unwrap()]);
    let policy = JwsPolicy::new([JwsAlgorithm::ES256]);
    let want = json!({"tenant": "t1", "flow": DEVICE_CODE_GRANT_TYPE, "client": "tv"});
    for jwt in [&t.access_token, t.id_token.as_ref().unwrap()] {
        let claims: Value =
            serde_json::from_slice(&policy.verify_compact(jwt, &keys).unwrap().payload).unwrap();
        assert_eq!(claims["tenant"], want);
    }
}

#[tokio::test]
async fn an_extension_refusing_a_device_grant_fails_the_poll() {
    struct Nobody;
    #[async_trait::async_trait]
    impl AuthorizationExtension for Nobody {
        fn parameters(&self) -> Vec<&'static str> {
            Vec::new()
        }
        async fn check(&self, _: &Client, _: &AuthorizationRequest) -> Result<(), Error> {
            Ok(())
        }
        async fn shape_grant(
            &self,
            _: &Client,
            _: &AuthorizationRequest,
            _: &mut Grant,
        ) -> Result<(), Error> {
            Ok(())
        }
        async fn shape_decoupled_grant(
            &self,
            _: &Client,
            _: &str,
            _: &mut Grant,
        ) -> Result<(), Error> {
            Err(Error::AccessDenied("no".into()))
        }
    }
    let env = env_extended(
        DeviceSettings::new(),
        Config::new(ISSUER),
        Some(Arc::new(Nobody)),
    );
    let r = authorize(&env, "client_id=tv&scope=openid").await;
    let (dc, uc) = (
        r["device_code"].as_str().unwrap(),
        r["user_code"].as_str().unwrap(),
    );
    env.verification
        .submit(&submission(uc, "wonderland", DecisionKind::Approve), IP)
        .await
        .unwrap();
    // RFC 8628 §3.5 access_denied; no token, and the code is spent.
    assert_eq!(poll(&env, dc).await.unwrap_err().code(), "access_denied");
    env.clock.advance(10);
    assert!(poll(&env, dc).await.is_err());
}
