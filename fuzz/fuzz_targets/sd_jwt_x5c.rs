//! Issuer keys from `x5c` (SD-JWT VC issuer key resolution, RFC 7515 §4.1.6): an arbitrary JOSE
//! header and claims never panic the resolver; a key is only returned for a chain that
//! validates against the fixed anchor.
#![no_main]

use std::sync::{Arc, OnceLock};

use idforge_jose::crypto::{self, CertificateTemplate, EcCurve};
use idforge_jose::{FixedClock, Header, Key, KeySpec};
use idforge_sd_jwt::X5cIssuerKeyResolver;
use libfuzzer_sys::fuzz_target;

const NOW: i64 = 1_800_000_000;

fn resolver() -> &'static X5cIssuerKeyResolver {
    static R: OnceLock<X5cIssuerKeyResolver> = OnceLock::new();
    R.get_or_init(|| {
        let root = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
        let template = CertificateTemplate::new("fuzz root", NOW - 3600, NOW + 3600).ca(None);
        let der = crypto::x509_issue(
            root.public_key().expect("public"),
            &template,
            root.private_key().expect("private"),
            None,
        )
        .expect("root certificate");
        X5cIssuerKeyResolver::new([der], Arc::new(FixedClock::new(NOW))).expect("resolver")
    })
}

fuzz_target!(|data: &[u8]| {
    // The header JSON, then optionally a newline and the claims JSON.
    let (h, c) = match data.iter().position(|b| *b == b'\n') {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (data, &b"{}"[..]),
    };
    let (Ok(header), Ok(claims)) = (
        idforge_jose::json::parse_object(h, 16, "header"),
        idforge_jose::json::parse_object(c, 16, "claims"),
    ) else {
        return;
    };
    if let Err(e) = resolver().resolve(&Header::from_map(header), &claims) {
        assert!(!e.code().is_empty());
    }
});
