//! Shared test helpers: the RFC 9901 Appendix A.5 keys, spec test data, a tiny executor.
#![allow(dead_code, unreachable_pub)]

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

use idforge_jose::{Jwk, Key};

/// RFC 9901 Appendix A.5: the Issuer's P-256 key.
pub const ISSUER_JWK: &str = r#"{"kty":"EC","d":"Ur2bNKuBPOrAaxsRnbSH6hIhmNTxSGXshDSUD1a1y7g","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#;
/// RFC 9901 Appendix A.5: the Holder's P-256 key.
pub const HOLDER_JWK: &str = r#"{"kty":"EC","d":"5K5SCos8zf9zRemGGUl6yfok-_NiiryNZsvANWMhF-I","crv":"P-256","x":"TCAER19Zvu3OHF4j4W4vfSVoHIP1ILilDls7vCeGemc","y":"ZxjiWWbZMQGHVWKVQ4hbSIirsVfuecCE6t4jT9F2HZQ"}"#;

pub fn issuer_key() -> Key {
    Key::from_json(ISSUER_JWK).expect("RFC 9901 A.5 issuer key")
}
pub fn issuer_public() -> Key {
    issuer_key().to_public().expect("EC")
}
/// The A.5 issuer key under the `kid` the SD-JWT VC draft examples use.
pub fn vc_issuer_public() -> Key {
    Key::from_jwk(
        issuer_public()
            .jwk()
            .clone()
            .with_kid("doc-signer-05-25-2022"),
    )
    .expect("EC")
}
pub fn holder_key() -> Key {
    Key::from_json(HOLDER_JWK).expect("RFC 9901 A.5 holder key")
}
pub fn holder_public_jwk() -> Jwk {
    holder_key().public_jwk().expect("EC")
}

/// Reads `tests/data/<name>` and joins the lines (the RFC wraps long strings).
pub fn data(name: &str) -> String {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/");
    std::fs::read_to_string(format!("{path}{name}"))
        .expect("test data")
        .lines()
        .map(str::trim)
        .collect()
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Runs a future that never waits on I/O (our ports in tests answer at once).
pub fn block_on<F: Future>(f: F) -> F::Output {
    let waker = Waker::from(Arc::new(Noop));
    let mut cx = Context::from_waker(&waker);
    let mut f = pin!(f);
    loop {
        if let Poll::Ready(v) = f.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::yield_now();
    }
}
