//! The end-session endpoint's request parser (RP-Initiated Logout 1.0 §2): arbitrary query
//! bytes (`id_token_hint`, `client_id`, `post_logout_redirect_uri`, `state`, `ui_locales`,
//! `logout_hint`) against a browser with a live session. Never panics; errors carry a
//! registered code and a 4xx status; a redirect only ever goes to a registered
//! `post_logout_redirect_uri`; a confirmation request survives a serde round trip.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use std::sync::{Arc, OnceLock};

use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::endpoint::end_session::EndSessionRequest;
use idforge_oauth_core::memory::{
    MemoryClientStore, MemoryGrantStore, MemorySessionStore, MemoryUserStore,
};
use idforge_oauth_core::{Client, Config, Login, LogoutStep, Params, Provider};
use libfuzzer_sys::fuzz_target;

const BYE: &str = "https://rp.example/bye";

fn provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([Client::confidential(
                "rp", "rp-secret",
            )
            .with_redirect_uri("https://rp.example/cb")
            .with_post_logout_redirect_uri(BYE)
            .with_frontchannel_logout("https://rp.example/fc", true)])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .sessions(Arc::new(MemorySessionStore::with_capacity(10_000)))
            .claims(Arc::new(MemoryUserStore::new().with_iterations(1)))
            .keys(Arc::new(KeyRing::new(
                LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"),
            )))
            .clock(Arc::new(FixedClock::new(1_800_000_000)))
            .build()
            .expect("provider")
    })
}

fuzz_target!(|data: &[u8]| {
    let p = provider();
    let Ok(params) = Params::parse(data, &p.ctx.config.limits) else {
        return;
    };
    let login = Login::new("alice", 1_800_000_000, vec!["pwd".into()]);
    let sid = oauth_common::block_on(p.sessions.login(login, None))
        .expect("login")
        .session
        .sid;
    match oauth_common::block_on(p.end_session.start(&params, Some(&sid))) {
        LogoutStep::ShowError(e) => {
            assert!(!e.code().is_empty());
            assert!((400..500).contains(&e.status()), "{e:?}");
        }
        LogoutStep::LoggedOut(out) => {
            if let Some(to) = &out.redirect {
                assert!(to == BYE || to.starts_with(&format!("{BYE}?state=")), "{to}");
            }
        }
        LogoutStep::Confirm { request } => {
            let json = serde_json::to_string(&*request).expect("serialize");
            let back: EndSessionRequest = serde_json::from_str(&json).expect("deserialize");
            assert_eq!(back, *request);
        }
        LogoutStep::Cancelled { .. } => panic!("start never cancels"),
    }
    // Leave no session behind.
    let _ = oauth_common::block_on(p.sessions.end(&sid));
});
