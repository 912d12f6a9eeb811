//! Shared by the CIBA targets: an oauth-core provider with CIBA registered on the memory
//! stores (clients of every delivery mode, one with registered keys for signed requests).
#![allow(dead_code)]

use std::sync::{Arc, OnceLock};

use idforge_ciba::memory::{MemoryCibaRequestStore, MemoryUserResolver, RecordingNotifier};
use idforge_ciba::{
    AgentClientActors, Channel, Ciba, CibaClient, CibaConfig, DeliveryMode, GRANT_TYPE,
};
use idforge_jose::{
    crypto::EcCurve, FixedClock, JwkSet, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, OsRng, Provider};

pub struct Env {
    pub provider: Provider,
    pub ciba: Ciba,
}

fn client(id: &str, c: CibaClient) -> Client {
    c.apply(
        Client::confidential(id, &format!("{id}-secret"))
            .with_grant_types([GRANT_TYPE, "client_credentials"]),
    )
}

pub fn env() -> &'static Env {
    static E: OnceLock<Env> = OnceLock::new();
    E.get_or_init(|| {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
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
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"),
        )))
        .clock(Arc::new(FixedClock::new(1_800_000_000)));
        let provider = ciba.register(builder).build().expect("provider");
        Env { provider, ciba }
    })
}
