//! The token exchange request parser (RFC 8693 §2.1) and the grant on arbitrary forms and
//! `Authorization` headers: never a panic; errors carry a registered code and status; a parsed
//! request always has a subject token of a supported type.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;

use std::sync::{Arc, OnceLock};

use idforge_jose::{crypto::EcCurve, FixedClock, JwkSet, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::token_exchange::{
    TokenExchangeRequest, TrustedIssuer, TOKEN_EXCHANGE_GRANT_TYPE,
};
use idforge_oauth_core::{Client, Config, Limits, Provider, TokenExchangeGrant, TokenRequest};
use libfuzzer_sys::fuzz_target;

fn provider() -> &'static Provider {
    static P: OnceLock<Provider> = OnceLock::new();
    P.get_or_init(|| {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let idp = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let jwks = JwkSet {
            keys: vec![idp.public_jwk().expect("public")],
        };
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let grant = TokenExchangeGrant::new()
            .with_trusted_issuer(
                TrustedIssuer::with_jwks("https://idp.example", &jwks)
                    .expect("issuer")
                    .with_lookup_attributes(["email"])
                    .expect("lookup"),
            )
            .with_user_lookup(users.clone());
        Provider::builder(Config::new("https://op.example"))
            .clients(Arc::new(MemoryClientStore::with_clients([Client::confidential(
                "rp",
                "rp-secret",
            )
            .with_grant_types([TOKEN_EXCHANGE_GRANT_TYPE, "client_credentials"])
            .with_metadata("allow_impersonation", serde_json::json!(true))])))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(Arc::new(KeyRing::new(
                LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"),
            )))
            .clock(Arc::new(FixedClock::new(1_800_000_000)))
            .grant_handler(Arc::new(grant))
            .build()
            .expect("provider")
    })
}

fuzz_target!(|data: &[u8]| {
    let (auth, body) = oauth_common::header_and_body(data);
    let Ok(req) = TokenRequest::from_form(body, auth, &Limits::default()) else {
        return;
    };
    if let Ok(r) = TokenExchangeRequest::from_params(&req.params, &Limits::default()) {
        assert!(!r.subject.token.is_empty());
    }
    if let Err(e) = oauth_common::block_on(provider().token.handle(&req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
});
