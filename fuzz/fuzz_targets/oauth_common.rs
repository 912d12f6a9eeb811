//! Shared by the oauth-core targets: a provider on the memory stores, and a tiny executor (the
//! memory stores never suspend, so polling to completion needs no runtime).
// Compiled into each oauth target, and no target uses every helper.
#![allow(dead_code)]

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{
    MemoryClientStore, MemoryGrantStore, MemoryPushedRequestStore, MemoryUserStore,
};
use idforge_oauth_core::{Client, Config, OsRng, Provider, Session};

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

pub fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut f = std::pin::pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
    }
}

pub fn provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let ring = KeyRing::new(LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"));
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        users
            .add_user("alice", "pw", serde_json::Map::new(), &OsRng::new())
            .expect("user");
        Provider::builder(Config::new("https://op.example").with_grant_type("password"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::confidential("web", "web-secret")
                    .with_redirect_uri("https://rp.example/cb")
                    .with_grant_types([
                        "authorization_code",
                        "refresh_token",
                        "client_credentials",
                        "password",
                    ])
                    .with_consent_implied(),
                Client::public("spa").with_redirect_uri("http://127.0.0.1/cb"),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .pushed_requests(Arc::new(MemoryPushedRequestStore::new()))
            .claims(users.clone())
            .passwords(users)
            .keys(Arc::new(ring))
            .clock(Arc::new(FixedClock::new(1_800_000_000)))
            .build()
            .expect("provider")
    })
}

/// A logged-in user (the authorization and PAR targets need one).
pub fn session() -> Session {
    Session::new("alice", 1_800_000_000)
}

/// Splits fuzz input into an `Authorization` header (the first line, if any) and a form body.
pub fn header_and_body(data: &[u8]) -> (Option<String>, &[u8]) {
    match data.iter().position(|b| *b == b'\n') {
        Some(i) => (
            Some(String::from_utf8_lossy(&data[..i]).into_owned()),
            &data[i + 1..],
        ),
        None => (None, data),
    }
}
