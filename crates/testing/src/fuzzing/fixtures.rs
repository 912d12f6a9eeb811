//! Fixed keys and providers the entry points verify against (the ones the repository's fuzz
//! targets used): RFC test keys, so seed tokens from the RFCs get past signature checks, and
//! oauth-core, CIBA and device-flow providers on the memory stores at a fixed time.

use std::future::Future;
use std::sync::{Arc, OnceLock};
use std::task::{Context, Poll, Wake, Waker};

use idforge_jose::{
    crypto::EcCurve, FixedClock, JwkSet, JwsAlgorithm, Key, KeyRing, KeySet, KeySpec, LocalSigner,
};
use idforge_jwe::{ContentEncryption, JwePolicy, KeyManagementAlgorithm, Limits as JweLimits};

/// The fixed "now" of the OAuth, CIBA and OID4VCI entry points (2027-01-15T08:00:00Z).
pub const NOW: i64 = 1_800_000_000;

// Fixed verification keys of the JWS entry points: the RFC 7515 Appendix A.1 HMAC key, the
// A.2 RSA and A.3 P-256 public keys, the RFC 8037 A.2 Ed25519 public key and the RFC 7520
// §3.1 P-521 key.
const KEYS: &[&str] = &[
    r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#,
    r#"{"kty":"RSA","kid":"2010-12-29","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#,
    r#"{"kty":"EC","kid":"e9bc097a-ce51-4036-9562-d2ade882db0d","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#,
];

/// The JWS entry points' verification keys.
pub(crate) fn jws_keys() -> &'static KeySet {
    static SET: OnceLock<KeySet> = OnceLock::new();
    SET.get_or_init(|| {
        KeySet::new(
            KEYS.iter()
                .map(|k| Key::from_json(k).expect("fixed fuzz key is valid"))
                .collect(),
        )
    })
}

/// The first input byte picks the JWS policy variant, the rest is the token.
pub(crate) fn policy_and_text(data: &[u8]) -> Option<(idforge_jose::JwsPolicy, &str)> {
    use idforge_jose::JwsPolicy;
    let (&selector, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let mut policy = JwsPolicy::new(JwsAlgorithm::ALL);
    if selector & 1 == 1 {
        policy = policy.allowing_unencoded_payload();
    }
    if selector & 2 == 2 {
        policy = policy.understanding("exp");
    }
    Some((policy, text))
}

// Fixed JWE keys from RFC 7520 and RFC 7516 so the seed corpora decrypt.
const JWE_KEYS: &str = r#"{"keys":[
 {"kty":"oct","kid":"81b20965-8332-43d9-a468-82160ad91ac8","use":"enc","alg":"A128KW","k":"GZy6sIZ6wl9NJOKB-jnmVQ"},
 {"kty":"EC","kid":"peregrin.took@tuckborough.example","use":"enc","crv":"P-384","x":"YU4rRUzdmVqmRtWOs2OpDE_T5fsNIodcG8G5FWPrTPMyxpzsSOGaQLpe2FpxBmu2","y":"A8-yxCHxkfBz3hKZfI1jUYMjUhsEveZ9THuwFjH2sCNdtksRJU7D5-SkgaFL1ETP","d":"iTx2pk7wW-GqJkHcEkFQb2EFyYcO7RugmaW3mRrQVAOUiPommT0IdnYK2xDlZh-j"},
 {"kty":"oct","kid":"18ec08e1-bfa9-4d95-b205-2b4dd1d4321d","use":"enc","alg":"A256GCMKW","k":"qC57l_uxcm7Nm3K-ct4GFjx8tM1U8CZ0NLBvdQstiS8"},
 {"kty":"EC","kid":"meriadoc.brandybuck@buckland.example","use":"enc","crv":"P-256","x":"Ze2loSV3wrroKUN_4zhwGhCqo3Xhu1td4QjeQ5wIVR0","y":"HlLtdXARY_f55A3fnzQbPcm6hgr34Mp8p-nuzQCE0Zw","d":"r_kHyZ-a06rmxM3yESK84r1otSg-aQcVStkRhA-iCM8"},
 {"kty":"oct","kid":"77c7e2b8-6e13-45cf-8672-617b5b45243a","use":"enc","alg":"A128GCM","k":"XctOhJAkA-pD9Lh7ZgW_2A"},
 {"kty":"oct","kid":"rfc7516-a3","k":"GawgguFyGrWKav7AX4VKUg"},
 {"kty":"OKP","kid":"Bob","use":"enc","crv":"X25519","x":"3p7bfXt9wbTTW2HC7OQ1Nz-DQ8hbeGdNrfx-FG-IK08","d":"XasIfmJKikt54X-Lg4AO5m87sSkmGLb9HC-LJ_-I4Os"},
 {"kty":"oct","kid":"pbes2","alg":"PBES2-HS512+A256KW","k":"ZW50cmFwX2_igJNwZXRlcl9sb25n4oCTY3JlZGl0X3R1bg"}
]}"#;

pub(crate) fn jwe_keys() -> &'static KeySet {
    static SET: OnceLock<KeySet> = OnceLock::new();
    SET.get_or_init(|| {
        let set = JwkSet::from_json(JWE_KEYS).expect("fixed keys parse");
        KeySet::from_jwk_set(&set).expect("fixed keys are valid")
    })
}

/// Every algorithm allowed, with low p2c and plaintext bounds so each run is fast.
pub(crate) fn jwe_policy() -> JwePolicy {
    JwePolicy::new(KeyManagementAlgorithm::ALL, ContentEncryption::ALL).with_limits(JweLimits {
        max_pbes2_count: 10_000,
        max_plaintext_bytes: 64 << 10,
        ..JweLimits::default()
    })
}

/// Anything accepted used allowed algorithms, named them in its header, and respects limits.
pub(crate) fn check_decrypted(policy: &JwePolicy, d: &idforge_jwe::Decrypted) {
    assert!(policy.algorithms.contains(&d.alg) && policy.encryptions.contains(&d.enc));
    assert_eq!(d.header.alg(), Some(d.alg.name()));
    assert!(
        d.plaintext.len()
            <= policy
                .limits
                .max_input_bytes
                .max(policy.limits.max_plaintext_bytes)
    );
}

// SAML: a fixed IdP certificate whose key signed the seed corpora (fuzz/corpus/saml_response),
// and a fixed "now" inside the seeds' validity window.
/// Test-only IdP certificate (its private key is not kept anywhere).
const IDP_CERT_PEM: &str = "-----BEGIN CERTIFICATE-----
MIIDFzCCAf+gAwIBAgIUazLzjMVDjYf07YPtCug9bCFbSzAwDQYJKoZIhvcNAQEL
BQAwGjEYMBYGA1UEAwwPaWRwLmV4YW1wbGUub3JnMCAXDTI2MTEyMzE2MDUyMVoY
DzIxMjYxMDMwMTYwNTIxWjAaMRgwFgYDVQQDDA9pZHAuZXhhbXBsZS5vcmcwggEi
MA0GCSqGSIb3DQEBAQUAA4IBDwAwggEKAoIBAQCTD8wmHVOOlJs6raX1VFyiWYaF
to/+4J0XVG8vLAVfJPS0JNmSi3E1q0SZgnyFacUOFoIT2eLiwsEJ8aviTaa5qd84
LW6xn/Wi929Amjs11ipv1/RkOgEA5fCugcyBDZ4M3LWpt3t9s+JDYuvOwScdcVa+
8wuGku8v6csb4KSciyRdzsrhMlNrdFyBj/VGB7DVZ+ZjYCmMKeV1h/cf4MI7LMrA
sD2tpFHeKBwTNEbmARkysd9/P20aqW61YN/apeVFEuqLIyZUIeBjpd/VJj1z4vVg
5aRF1KeZhqSaBMzc9M6mjuHZ7s+DUeaVFOozvJwPlOha1h6lNLxY8vO+IMhXAgMB
AAGjUzBRMB0GA1UdDgQWBBREMk/OPBOY4tYvk10uZVIf+a+0ZDAfBgNVHSMEGDAW
gBREMk/OPBOY4tYvk10uZVIf+a+0ZDAPBgNVHRMBAf8EBTADAQH/MA0GCSqGSIb3
DQEBCwUAA4IBAQB2UjT3ZrkcXIXgrsKzN1EivSXxJX1A3BtPpWP5dGl842uv6L2o
QGjLbiXXtroYOarsD9wAI4+CJ2uuSLNbz8O9DsojbojqxT4b0iFIVKnr3biJ/fgF
HCC8lMuWe5giWBCE0wsQNTbZAKPQppEkGtEGrRYqzRvDcEp46yrivnTY+VPptzkN
KC+xR7RUMlfzwjJAU7gxxuoe8P5Kfw4KYvIZXF4ZU8zVVKukDvsDpD9iLaLA5Wib
8IK0G5JzXw+PQ3mjmpFCeKzG4lzwmRNP+41MaZL0fhlr3Zqe0PxvD8eUyenO2B3X
Lv7+auEFqGuo1ydh63nqIi/bND2qInVBn7uH
-----END CERTIFICATE-----
";

pub(crate) fn saml_idp() -> &'static idforge_saml_sp::response::IdentityProvider {
    static IDP: OnceLock<idforge_saml_sp::response::IdentityProvider> = OnceLock::new();
    IDP.get_or_init(|| idforge_saml_sp::response::IdentityProvider {
        entity_id: "https://idp.example.org/idp".to_owned(),
        signing_keys: idforge_saml_sp::response::TrustedKey::from_certificate_pem(
            IDP_CERT_PEM.as_bytes(),
        )
        .expect("fixed certificate"),
    })
}

/// 2026-11-23T16:01:00Z, inside the SAML seeds' validity window.
pub(crate) fn saml_now() -> time::OffsetDateTime {
    time::OffsetDateTime::from_unix_timestamp(1_795_449_660).expect("time")
}

pub(crate) fn saml_sp() -> idforge_saml_sp::response::SpConfig {
    idforge_saml_sp::response::SpConfig::new(
        "https://sp.example.com/metadata",
        "https://sp.example.com/acs",
    )
}

struct Noop;
impl Wake for Noop {
    fn wake(self: Arc<Self>) {}
}

/// Polls `f` to completion on the calling thread. The memory stores never suspend, so no
/// runtime is needed (and a fuzz target must not start one per input).
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

/// A fresh ES256 key ring (the providers' signing keys; not what the entry points verify).
pub(crate) fn ring() -> Arc<KeyRing> {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    Arc::new(KeyRing::new(
        LocalSigner::new(key, JwsAlgorithm::ES256).expect("signer"),
    ))
}

pub(crate) fn clock() -> Arc<FixedClock> {
    Arc::new(FixedClock::new(NOW))
}
