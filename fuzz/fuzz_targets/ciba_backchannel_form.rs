//! The backchannel authentication request (CIBA §7.1): arbitrary form bodies and
//! `Authorization` headers never panic, through the pure validation and the whole endpoint;
//! errors carry a registered code and status.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;
#[path = "ciba_common.rs"]
mod ciba_common;

use idforge_ciba::validate::backchannel_params;
use idforge_ciba::{CibaClient, CibaConfig, DeliveryMode};
use idforge_oauth_core::{Limits, TokenRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (auth, body) = oauth_common::header_and_body(data);
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
    let env = ciba_common::env();
    if let Err(e) = oauth_common::block_on(env.ciba.backchannel(&env.provider.ctx, &req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
});
