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

/// Signs `payload` with the A.5 issuer key (ES256, `typ` given) and appends `disclosures`:
/// the tool for building SD-JWTs an honest issuer never would.
pub fn forge(typ: Option<&str>, payload: &serde_json::Value, disclosures: &[String]) -> String {
    let signer = idforge_jose::LocalSigner::new(issuer_key(), idforge_jose::JwsAlgorithm::ES256)
        .expect("signer");
    let mut header = idforge_jose::Header::new();
    if let Some(t) = typ {
        header = header.with_typ(t);
    }
    let jwt = idforge_jose::jws::sign_compact(header, payload.to_string().as_bytes(), &signer)
        .expect("sign");
    let mut out = jwt;
    out.push('~');
    for d in disclosures {
        out.push_str(d);
        out.push('~');
    }
    out
}

/// A disclosure with compact JSON and its sha-256 digest.
pub fn disclosure(salt: &str, name: Option<&str>, value: serde_json::Value) -> (String, String) {
    let d = idforge_sd_jwt::Disclosure::from_parts(salt, name, value).expect("disclosure");
    (
        d.encoded().to_owned(),
        d.digest(idforge_sd_jwt::SdAlg::Sha256),
    )
}

/// A disclosure of arbitrary JSON text (for malformed shapes).
pub fn raw_disclosure(json: &str) -> (String, String) {
    let enc = idforge_jose::b64::encode(json.as_bytes());
    let digest = idforge_sd_jwt::SdAlg::Sha256.digest_b64(&enc);
    (enc, digest)
}
