//! Shared fixtures: a provider on the memory stores with a fixed clock and an ES256 key.
#![allow(dead_code, unreachable_pub, clippy::unwrap_used)]

use std::sync::Arc;

use idforge_jose::{
    crypto::EcCurve, FixedClock, JwkSet, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{
    MemoryClientStore, MemoryGrantStore, MemoryPushedRequestStore, MemorySessionStore,
    MemoryUserStore,
};
use idforge_oauth_core::{
    AuthorizationResponse, Client, ClientAuthMethod, Config, Interaction, OsRng, Provider, Session,
};
use serde_json::json;

pub const ISSUER: &str = "https://op.example";
pub const NOW: i64 = 1_800_000_000;
pub const RP_CB: &str = "https://rp.example/cb";
pub const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

pub struct Env {
    pub provider: Provider,
    pub clock: Arc<FixedClock>,
    pub grants: Arc<MemoryGrantStore>,
    pub clients: Arc<MemoryClientStore>,
    pub op_key: Key,
    pub client_key: Key,
}

pub fn config() -> Config {
    Config::new(ISSUER).with_grant_type("password")
}

pub fn env() -> Env {
    env_with(config())
}

pub fn env_with(config: Config) -> Env {
    env_built(config, None)
}

/// A provider keeping login sessions in `sessions` (single sign-on and logout).
pub fn env_with_sessions(config: Config, sessions: Arc<MemorySessionStore>) -> Env {
    env_built(config, Some(sessions))
}

fn env_built(config: Config, sessions: Option<Arc<MemorySessionStore>>) -> Env {
    let op_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let op_key = Key::from_jwk(op_key.jwk().clone().with_kid("op-1")).unwrap();
    let ring = KeyRing::new(LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256).unwrap());
    let client_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let client_key = Key::from_jwk(client_key.jwk().clone().with_kid("rp-1")).unwrap();
    let client_jwks = JwkSet {
        keys: vec![client_key.public_jwk().unwrap()],
    };
    let all_grants = [
        "authorization_code",
        "refresh_token",
        "client_credentials",
        "password",
    ];
    let clients = Arc::new(MemoryClientStore::with_clients([
        Client::confidential("web", "web-secret")
            .with_redirect_uri(RP_CB)
            .with_grant_types(all_grants)
            .with_consent_implied(),
        Client::confidential("post", "post-secret")
            .with_auth_method(ClientAuthMethod::ClientSecretPost)
            .with_redirect_uri(RP_CB)
            .with_grant_types(all_grants)
            .with_consent_implied(),
        Client::public("spa")
            .with_redirect_uri("https://spa.example/cb")
            .with_redirect_uri("http://127.0.0.1/native")
            .with_consent_implied(),
        Client::public("asks-consent").with_redirect_uri("https://spa.example/cb"),
        Client::confidential("jwt", "unused")
            .with_auth_method(ClientAuthMethod::PrivateKeyJwt)
            .with_jwks(client_jwks)
            .with_redirect_uri(RP_CB)
            .with_grant_types(all_grants)
            .with_consent_implied(),
        Client::confidential("cc-only", "cc-secret").with_grant_types(["client_credentials"]),
    ]));
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user(
            "alice",
            "wonderland",
            serde_json::from_value(json!({
                "sub": "alice-sub", "name": "Alice Liddell", "email": "alice@example.com",
                "email_verified": true, "phone_number": "+44 20 0000", "favourite": "tea"
            }))
            .unwrap(),
            &OsRng::new(),
        )
        .unwrap();
    let grants = Arc::new(MemoryGrantStore::new());
    let clock = Arc::new(FixedClock::new(NOW));
    let mut builder = Provider::builder(config);
    if let Some(s) = sessions {
        builder = builder.sessions(s);
    }
    let provider = builder
        .clients(clients.clone())
        .grants(grants.clone())
        .claims(users.clone())
        .passwords(users)
        .keys(Arc::new(ring))
        .pushed_requests(Arc::new(MemoryPushedRequestStore::new()))
        .clock(clock.clone())
        .build()
        .unwrap();
    Env {
        provider,
        clock,
        grants,
        clients,
        op_key,
        client_key,
    }
}

pub fn alice() -> Session {
    Session::new("alice-sub", NOW - 10)
}

pub fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

pub fn redirect(i: Interaction) -> AuthorizationResponse {
    match i {
        Interaction::Redirect(r) => r,
        other => panic!("expected a redirect, got {other:?}"),
    }
}

/// Runs the authorization request `query` for a logged-in alice and returns the code.
pub async fn code_for(env: &Env, query: &str) -> String {
    let r = redirect(
        env.provider
            .authorization
            .start(query.as_bytes(), Some(&alice()))
            .await,
    );
    assert_eq!(r.param("error"), None, "{r:?}");
    r.param("code").unwrap().to_owned()
}

pub fn web_query() -> String {
    format!(
        "response_type=code&client_id=web&redirect_uri={}&scope=openid%20profile%20email&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode(RP_CB)
    )
}

pub fn urlencode(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}
