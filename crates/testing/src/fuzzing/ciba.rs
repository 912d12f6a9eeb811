//! OpenID CIBA request parsers and the backchannel endpoint (idforge-ciba).

use std::sync::{Arc, OnceLock};

use idforge_ciba::memory::{MemoryCibaRequestStore, MemoryUserResolver, RecordingNotifier};
use idforge_ciba::validate::{backchannel_params, check_request_claims, claims_to_params};
use idforge_ciba::{
    AgentClientActors, Channel, Ciba, CibaClient, CibaConfig, DeliveryMode, GRANT_TYPE,
};
use idforge_jose::{crypto::EcCurve, JwkSet, JwsAlgorithm, Key, KeySpec};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, Limits, OsRng, Params, Provider, TokenRequest};

use super::fixtures::*;

/// The CIBA entry points' provider (issuer `https://op.example`) and CIBA service.
#[derive(Debug)]
pub struct CibaEnv {
    /// The oauth-core provider with CIBA registered.
    pub provider: Provider,
    /// The CIBA service.
    pub ciba: Ciba,
}

fn client(id: &str, c: CibaClient) -> Client {
    c.apply(
        Client::confidential(id, &format!("{id}-secret"))
            .with_grant_types([GRANT_TYPE, "client_credentials"]),
    )
}

/// Clients `poll` (agent), `ping`, `push`, `coded` (user code) and `signed` (ES256 signed
/// requests), each with secret `<id>-secret`; user `alice` by login hint `alice`, login hint
/// token `tok` and user code `1234`.
pub fn ciba_env() -> &'static CibaEnv {
    static E: OnceLock<CibaEnv> = OnceLock::new();
    E.get_or_init(|| {
        let client_key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let mut claims = serde_json::Map::new();
        claims.insert("email".into(), "alice@example.com".into());
        users
            .add_user("alice", "pw", claims, &OsRng::new())
            .expect("user");
        let resolver = Arc::new(MemoryUserResolver::new());
        resolver.add_login_hint("alice", "alice");
        resolver.add_login_hint_token("tok", "alice", 1_900_000_000);
        resolver.set_user_code("alice", "1234");
        let ciba = Ciba::builder(CibaConfig::new("https://op.example"))
            .store(Arc::new(MemoryCibaRequestStore::with_capacity(10_000)))
            .users(resolver)
            .notifier(Arc::new(RecordingNotifier::new()))
            .actors(Arc::new(AgentClientActors))
            .build()
            .expect("ciba");
        let clients = MemoryClientStore::with_clients([
            client("poll", CibaClient::default().with_agent()),
            client(
                "ping",
                CibaClient::default()
                    .with_delivery(DeliveryMode::Ping, Some("https://rp.example/cb".into())),
            ),
            client(
                "push",
                CibaClient::default()
                    .with_delivery(DeliveryMode::Push, Some("https://rp.example/cb".into()))
                    .with_channels([Channel::Email, Channel::External]),
            ),
            client("coded", CibaClient::default().with_user_code()),
            client(
                "signed",
                CibaClient::default().with_signing_alg(JwsAlgorithm::ES256),
            )
            .with_jwks(JwkSet {
                keys: vec![client_key.public_jwk().expect("public")],
            }),
        ]);
        let builder = Provider::builder(
            Config::new("https://op.example")
                .with_grant_type(GRANT_TYPE)
                .with_grant_type("client_credentials"),
        )
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users)
        .keys(ring())
        .clock(clock());
        let provider = ciba.register(builder).build().expect("provider");
        CibaEnv { provider, ciba }
    })
}

/// The backchannel authentication request (CIBA §7.1): arbitrary form bodies and
/// `Authorization` headers never panic, through the pure validation and the whole endpoint;
/// errors carry a registered code and status.
pub fn ciba_backchannel_form(data: &[u8]) {
    let (auth, body) = header_and_body(data);
    let Ok(req) = TokenRequest::from_form(body, auth, &Limits::default()) else {
        return;
    };
    let cfg = CibaConfig::new("https://op.example");
    for client in [
        CibaClient::default(),
        CibaClient::default()
            .with_delivery(DeliveryMode::Push, Some("https://rp/cb".into()))
            .with_user_code(),
    ] {
        if let Err(e) = backchannel_params(&req.params, &client, &cfg, &Limits::default()) {
            assert!(!e.code().is_empty());
        }
    }
    let env = ciba_env();
    if let Err(e) = block_on(env.ciba.backchannel(&env.provider.ctx, &req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
}

/// Signed authentication requests (CIBA §7.1.1): arbitrary `request` values through the
/// endpoint (signature, claims, jti), and arbitrary JSON claim sets through the pure claim
/// checks and the claims-to-parameters conversion. Never panics.
pub fn ciba_signed_request(data: &[u8]) {
    if let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(data) {
        let cfg = CibaConfig::new("https://op.example");
        let _ = check_request_claims(&claims, "signed", &cfg, 0, NOW);
        let _ = claims_to_params(&claims, &Limits::default());
    }
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(params) = Params::from_pairs([("request", text)]) else {
        return;
    };
    let req = TokenRequest {
        params,
        authorization: Some("Basic c2lnbmVkOnNpZ25lZC1zZWNyZXQ=".into()),
    };
    let env = ciba_env();
    if let Err(e) = block_on(env.ciba.backchannel(&env.provider.ctx, &req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
}
