//! SD-JWT (RFC 9901) and SD-JWT VC parsers and verifiers (idforge-sd-jwt).

use std::sync::{Arc, OnceLock};

use idforge_jose::crypto::{self, CertificateTemplate, EcCurve};
use idforge_jose::{FixedClock, Header, Key, KeySpec};
use idforge_sd_jwt::{
    Credential, Disclosure, Limits, SdAlg, SdJwt, SdJwtVerifier, VcPolicy, VcVerifier,
    VerifierConfig, X5cIssuerKeyResolver,
};

use super::fixtures::*;

/// The RFC 9901 Appendix A.5 issuer key (public half).
fn issuer() -> &'static Key {
    static KEY: OnceLock<Key> = OnceLock::new();
    KEY.get_or_init(|| {
        Key::from_json(r#"{"kty":"EC","crv":"P-256","x":"b28d4MwZMjw8-00CG4xfnn9SLMVMM19SlqZpVb_uNtQ","y":"Xv5zWwuoaTgdS6hV43yI6gBwTnjukmFQQnJ_kCxzqk8"}"#)
            .expect("RFC 9901 A.5 key")
    })
}

/// An `x5c` resolver anchored on a fresh root certificate valid around [`NOW`].
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

/// SD-JWT parsing (RFC 9901 §4 compact, §8 JSON) and the holder's digest processing.
pub fn sd_jwt_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let limits = Limits::default();
    if let Ok(sd) = SdJwt::parse(text, &limits) {
        // What parsed re-serializes to something that parses to the same parts.
        let again = SdJwt::parse(&sd.serialize(), &limits).expect("re-parse");
        assert_eq!(again.disclosures(), sd.disclosures());
        assert_eq!(again.kb_jwt(), sd.kb_jwt());
        assert_eq!(again.issuer_jwt(), sd.issuer_jwt());
    }
    if let Ok(cred) = Credential::parse(text, &limits) {
        // Every Disclosure was referenced exactly once (RFC 9901 §7.1 step 3).
        assert_eq!(cred.disclosable().len(), cred.sd_jwt().disclosures().len());
        assert!(!cred.claims().contains_key("_sd") && !cred.claims().contains_key("_sd_alg"));
        let all: Vec<_> = cred.disclosable().iter().map(|d| d.path.clone()).collect();
        let _ = cred.present(&all);
    }
}

/// Full SD-JWT / SD-JWT VC verification (RFC 9901 §7.1, §7.3) against the RFC 9901 Appendix
/// A.5 issuer key, with and without required key binding.
pub fn sd_jwt_verify(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let clock = FixedClock::new(1_748_537_244);
    if let Ok(v) = SdJwtVerifier::default().verify(text, issuer(), &clock) {
        assert!(!v.claims.contains_key("_sd") && !v.claims.contains_key("_sd_alg"));
    }
    let kb =
        VerifierConfig::default().require_key_binding("https://verifier.example.org", "1234567890");
    if let Ok(v) = SdJwtVerifier::new(kb.clone()).verify(text, issuer(), &clock) {
        assert!(v.key_binding.is_some(), "required key binding was checked");
    }
    let vc = VcVerifier::new(
        kb,
        VcPolicy {
            accept_vc_sd_jwt: true,
            ..VcPolicy::default()
        },
    );
    if let Ok(v) = vc.verify(text, issuer(), &clock) {
        assert!(!v.vct.is_empty());
    }
}

/// Disclosure decoding (RFC 9901 §4.2): base64url, a 2- or 3-element JSON array, string salt
/// and name, strict JSON.
pub fn sd_jwt_disclosure(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = Disclosure::parse(text, 16) {
        assert_eq!(d.encoded(), text, "the string is kept exactly as received");
        assert_eq!(d.digest(SdAlg::Sha256), SdAlg::Sha256.digest_b64(text));
        // Rebuilding from the parts gives an equivalent (possibly re-encoded) Disclosure.
        if let Ok(again) = Disclosure::from_parts(d.salt(), d.name(), d.value().clone()) {
            let back = Disclosure::parse(again.encoded(), 16).expect("own encoding parses");
            assert_eq!(back.value(), d.value());
            assert_eq!(back.name(), d.name());
        }
    }
    // Also as raw JSON, base64url-encoded here.
    let encoded = idforge_jose::b64::encode(data);
    let _ = Disclosure::parse(&encoded, 16);
}

/// Issuer keys from `x5c` (SD-JWT VC issuer key resolution, RFC 7515 §4.1.6): an arbitrary JOSE
/// header and claims never panic the resolver; a key is only returned for a chain that
/// validates against the fixed anchor.
pub fn sd_jwt_x5c(data: &[u8]) {
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
}
