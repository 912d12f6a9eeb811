//! The device authorization grant's parsers (RFC 8628): the device authorization request form
//! (§3.1) through the endpoint, the app-native JSON submission, and user-code input (§6.1).
//! Arbitrary input never panics; errors carry a registered code and status; a parsed user code
//! is always 8 characters of the RFC 8628 §6.1 alphabet.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use std::sync::{Arc, OnceLock};

use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::device::{
    DeviceSettings, UserCode, UserCodeSubmission, DEVICE_CODE_GRANT_TYPE, USER_CODE_ALPHABET,
};
use idforge_oauth_core::memory::{
    MemoryAttemptLimiter, MemoryClientStore, MemoryDeviceCodeStore, MemoryGrantStore,
    MemoryUserStore,
};
use idforge_oauth_core::{Client, Config, DeviceAuthorizationEndpoint, DeviceFlow, Provider};
use libfuzzer_sys::fuzz_target;

fn endpoint() -> &'static DeviceAuthorizationEndpoint {
    static E: OnceLock<DeviceAuthorizationEndpoint> = OnceLock::new();
    E.get_or_init(|| {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let flow = DeviceFlow::new(
            DeviceSettings::new(),
            Arc::new(MemoryDeviceCodeStore::with_capacity(10_000)),
            Arc::new(MemoryAttemptLimiter::new()),
        )
        .expect("flow");
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let p = Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([
                Client::public("tv").with_grant_types([DEVICE_CODE_GRANT_TYPE]),
                Client::confidential("box", "box-secret").with_grant_types([DEVICE_CODE_GRANT_TYPE]),
            ])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(Arc::new(KeyRing::new(
                LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"),
            )))
            .clock(Arc::new(FixedClock::new(1_800_000_000)))
            .grant_handler(flow.grant())
            .build()
            .expect("provider");
        DeviceAuthorizationEndpoint::new(p.ctx.clone(), flow)
    })
}

fuzz_target!(|data: &[u8]| {
    let (auth, body) = oauth_common::header_and_body(data);
    match oauth_common::block_on(endpoint().handle_form(body, auth.as_deref())) {
        Ok(r) => {
            let code = UserCode::parse(&r.user_code).expect("issued user codes parse");
            assert_eq!(code.display(), r.user_code);
        }
        Err(e) => {
            assert!(!e.code().is_empty());
            assert!((400..=503).contains(&e.status()));
        }
    }
    if let Ok(s) = UserCodeSubmission::from_json(data) {
        assert!(!s.user_code.is_empty() && !s.username.is_empty());
    }
    if let Some(c) = UserCode::parse(&String::from_utf8_lossy(data)) {
        assert_eq!(c.as_str().len(), 8);
        assert!(c.as_str().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
    }
});
