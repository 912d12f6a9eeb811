//! Signed authentication requests (CIBA §7.1.1): arbitrary `request` values through the
//! endpoint (signature, claims, jti), and arbitrary JSON claim sets through the pure claim
//! checks and the claims-to-parameters conversion. Never panics.
#![no_main]

#[path = "oauth_common.rs"]
mod oauth_common;
#[path = "ciba_common.rs"]
mod ciba_common;

use idforge_ciba::validate::{check_request_claims, claims_to_params};
use idforge_ciba::CibaConfig;
use idforge_oauth_core::{Limits, Params, TokenRequest};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(serde_json::Value::Object(claims)) = serde_json::from_slice(data) {
        let cfg = CibaConfig::new("https://op.example");
        let _ = check_request_claims(&claims, "signed", &cfg, 0, 1_800_000_000);
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
    let env = ciba_common::env();
    if let Err(e) = oauth_common::block_on(env.ciba.backchannel(&env.provider.ctx, &req)) {
        assert!(!e.code().is_empty());
        assert!((400..=503).contains(&e.status()));
    }
});
