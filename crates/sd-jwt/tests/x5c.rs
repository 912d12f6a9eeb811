//! SD-JWT VC issuer keys from `x5c` (draft-ietf-oauth-sd-jwt-vc-19 §2.5): a root CA →
//! issuing CA → issuer certificate chain built here, verified through `X5cIssuerKeyResolver`,
//! and every rejection with its typed error.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use base64::Engine;
use idforge_jose::crypto::{self, CertificateTemplate, ChainError, ChainFailure, EcCurve};
use idforge_jose::{FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
use idforge_sd_jwt::{
    Error, IssBinding, Issuance, VcIssuer, VcPolicy, VcVerifier, VerifierConfig,
    X5cIssuerKeyResolver, X5cPolicy,
};
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000;
const DAY: i64 = 86_400;
const YEAR: i64 = 365 * DAY;
const ISS: &str = "https://issuer.example";

fn ec() -> Key {
    Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap()
}

fn issue_cert(
    subject: &Key,
    template: CertificateTemplate,
    issuer: &Key,
    issuer_cert: Option<&[u8]>,
) -> Vec<u8> {
    crypto::x509_issue(
        subject.public_key().unwrap(),
        &template,
        issuer.private_key().unwrap(),
        issuer_cert,
    )
    .unwrap()
}

/// Root CA → issuing CA → issuer (end-entity) certificate.
struct Pki {
    root: Vec<u8>,
    ca: Vec<u8>,
    leaf: Vec<u8>,
    leaf_key: Key,
}

fn pki_with(ca_is_ca: bool, leaf_validity: (i64, i64)) -> Pki {
    let (root_key, ca_key, leaf_key) = (ec(), ec(), ec());
    let root = issue_cert(
        &root_key,
        CertificateTemplate::new("Test Root CA", NOW - YEAR, NOW + 10 * YEAR).ca(None),
        &root_key,
        None,
    );
    let mut ca_template = CertificateTemplate::new("Test Issuing CA", NOW - YEAR, NOW + 5 * YEAR);
    if ca_is_ca {
        ca_template = ca_template.ca(Some(0));
    }
    let ca = issue_cert(&ca_key, ca_template, &root_key, Some(&root));
    let leaf = issue_cert(
        &leaf_key,
        CertificateTemplate::new("PID Issuer", leaf_validity.0, leaf_validity.1)
            .dns_name("issuer.example")
            .uri(ISS),
        &ca_key,
        Some(&ca),
    );
    Pki {
        root,
        ca,
        leaf,
        leaf_key,
    }
}

fn pki() -> Pki {
    pki_with(true, (NOW - DAY, NOW + YEAR))
}

fn b64(der: &[u8]) -> Value {
    base64::engine::general_purpose::STANDARD.encode(der).into()
}

/// An SD-JWT VC signed by `key` with `header` members and `iss`.
fn vc(key: &Key, header: &[(&str, Value)], iss: Option<&str>) -> String {
    let mut claims = json!({"vct": "urn:eudi:pid:1", "given_name": "Erika"});
    if let Some(iss) = iss {
        claims["iss"] = iss.into();
    }
    let mut issuance = Issuance::new(claims.as_object().cloned().unwrap())
        .disclose(["/given_name"])
        .unwrap();
    for (name, value) in header {
        issuance = issuance.header(name, value.clone());
    }
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
    VcIssuer::default()
        .issue(&issuance, &signer, &mut rand::thread_rng())
        .unwrap()
}

fn x5c_vc(p: &Pki, chain: &[&[u8]], iss: Option<&str>) -> String {
    let x5c = Value::Array(chain.iter().map(|c| b64(c)).collect());
    vc(&p.leaf_key, &[("x5c", x5c)], iss)
}

fn resolver(anchors: &[&[u8]], now: i64) -> X5cIssuerKeyResolver {
    X5cIssuerKeyResolver::new(
        anchors.iter().map(|a| a.to_vec()),
        Arc::new(FixedClock::new(now)),
    )
    .unwrap()
}

fn verify(text: &str, r: &X5cIssuerKeyResolver) -> Result<idforge_sd_jwt::VerifiedVc, Error> {
    VcVerifier::default().verify(text, r, &FixedClock::new(NOW))
}

fn chain_failure(e: Error) -> ChainFailure {
    match e {
        Error::CertificateChain(c) => c
            .failure()
            .unwrap_or_else(|| panic!("not a path validation failure: {c:?}")),
        other => panic!("not a certificate chain error: {other:?}"),
    }
}

#[test]
fn vc_with_x5c_verifies_through_the_resolver() {
    let p = pki();
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    let r = resolver(&[&p.root], NOW);
    let verified = verify(&text, &r).unwrap();
    assert_eq!(verified.sd_jwt.claims["given_name"], "Erika");
    // The certificate the credential was verified under.
    let issuer = r
        .resolve(&verified.sd_jwt.header, &verified.sd_jwt.claims)
        .unwrap();
    assert_eq!(issuer.certificate.subject, "CN=PID Issuer");
    assert_eq!(issuer.certificate.uris, [ISS]);
    assert_eq!(issuer.certificate.dns_names, ["issuer.example"]);
    assert_eq!(issuer.path_sha256.len(), 3);
    // Intermediates are a pool: order does not matter, the anchor may be included.
    let text = x5c_vc(&p, &[&p.leaf, &p.root, &p.ca], Some(ISS));
    verify(&text, &r).unwrap();
    // Without `iss` too: under the current draft the certificate names the issuer.
    verify(&x5c_vc(&p, &[&p.leaf, &p.ca], None), &r).unwrap();
    // A `kid` in the header is carried over to the certificate key.
    let kid_vc = vc(
        &p.leaf_key,
        &[
            ("x5c", json!([b64(&p.leaf), b64(&p.ca)])),
            ("kid", "k1".into()),
        ],
        Some(ISS),
    );
    verify(&kid_vc, &r).unwrap();
    // Trust anchors from PEM.
    let pem = format!(
        "-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n",
        b64(&p.root).as_str().unwrap()
    );
    let from_pem =
        X5cIssuerKeyResolver::from_pem(pem.as_bytes(), Arc::new(FixedClock::new(NOW))).unwrap();
    verify(&x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS)), &from_pem).unwrap();
}

#[test]
fn algorithm_allow_list_still_applies() {
    let p = pki();
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    let verifier = VcVerifier::new(
        VerifierConfig::default().algorithms([JwsAlgorithm::ES384]),
        VcPolicy::default(),
    );
    let err = verifier
        .verify(&text, &resolver(&[&p.root], NOW), &FixedClock::new(NOW))
        .unwrap_err();
    assert_eq!(err.code(), "algorithm_not_allowed");
}

#[test]
fn signature_must_be_by_the_certificate_key() {
    let p = pki();
    let x5c = json!([b64(&p.leaf), b64(&p.ca)]);
    let text = vc(&ec(), &[("x5c", x5c)], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(err.code(), "invalid_signature");
}

#[test]
fn unknown_root_is_rejected() {
    let p = pki();
    let other = pki();
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    let err = verify(&text, &resolver(&[&other.root], NOW)).unwrap_err();
    assert_eq!(err.code(), "unknown_certificate_issuer");
    assert_eq!(chain_failure(err), ChainFailure::UnknownIssuer);
    // Sending the untrusted root along changes nothing.
    let text = x5c_vc(&p, &[&p.leaf, &p.ca, &p.root], Some(ISS));
    let err = verify(&text, &resolver(&[&other.root], NOW)).unwrap_err();
    assert_eq!(chain_failure(err), ChainFailure::UnknownIssuer);
}

#[test]
fn expired_leaf_is_rejected_at_the_clock_time() {
    let p = pki();
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    // The credential itself has no `exp`: only the certificate expires, by the resolver's clock.
    let err = verify(&text, &resolver(&[&p.root], NOW + 2 * YEAR)).unwrap_err();
    assert_eq!(err.code(), "certificate_expired");
    assert_eq!(chain_failure(err), ChainFailure::Expired);
    let clock = Arc::new(FixedClock::new(NOW));
    let r = X5cIssuerKeyResolver::new([p.root.clone()], clock.clone()).unwrap();
    verify(&text, &r).unwrap();
    clock.advance(YEAR + 1);
    assert_eq!(
        chain_failure(verify(&text, &r).unwrap_err()),
        ChainFailure::Expired
    );
}

#[test]
fn not_yet_valid_leaf_is_rejected() {
    let p = pki_with(true, (NOW + DAY, NOW + YEAR));
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(err.code(), "certificate_not_yet_valid");
    assert_eq!(chain_failure(err), ChainFailure::NotYetValid);
    verify(&text, &resolver(&[&p.root], NOW + 2 * DAY)).unwrap();
}

#[test]
fn intermediate_without_ca_flag_is_rejected() {
    let p = pki_with(false, (NOW - DAY, NOW + YEAR));
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(err.code(), "invalid_ca_certificate");
    assert_eq!(chain_failure(err), ChainFailure::InvalidCa);
}

#[test]
fn self_signed_leaf_is_refused_by_default() {
    let key = ec();
    let cert = issue_cert(
        &key,
        CertificateTemplate::new("Self", NOW - DAY, NOW + YEAR).uri(ISS),
        &key,
        None,
    );
    let text = vc(&key, &[("x5c", json!([b64(&cert)]))], Some(ISS));
    // Pinned as a trust anchor: the chain validates, the policy refuses (HAIP 1.0 §6.1.1).
    let pinned = resolver(&[&cert], NOW);
    assert_eq!(
        verify(&text, &pinned).unwrap_err(),
        Error::SelfSignedCertificate
    );
    assert_eq!(
        verify(&text, &pinned).unwrap_err().code(),
        "self_signed_certificate"
    );
    // Not a trust anchor: refused as well.
    let other = pki();
    assert_eq!(
        verify(&text, &resolver(&[&other.root], NOW)).unwrap_err(),
        Error::SelfSignedCertificate
    );
    // Allowed by policy, and pinned: accepted.
    verify(&text, &pinned.clone().allow_self_signed(true)).unwrap();
    // Allowed by policy but not pinned: still no path to a trust anchor.
    let err = verify(
        &text,
        &resolver(&[&other.root], NOW).allow_self_signed(true),
    )
    .unwrap_err();
    assert_eq!(chain_failure(err), ChainFailure::SelfSigned);
}

#[test]
fn broken_signature_in_the_chain_is_rejected() {
    let p = pki();
    // The last byte is the end of the ECDSA `s`: the DER stays valid, the signature does not.
    let mut ca = p.ca.clone();
    *ca.last_mut().unwrap() ^= 1;
    let text = x5c_vc(&p, &[&p.leaf, &ca], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(err.code(), "invalid_certificate_signature");
    assert_eq!(chain_failure(err), ChainFailure::BadSignature);
    let mut leaf = p.leaf.clone();
    *leaf.last_mut().unwrap() ^= 1;
    let text = x5c_vc(&p, &[&leaf, &p.ca], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(chain_failure(err), ChainFailure::BadSignature);
}

#[test]
fn iss_binding_rules() {
    let p = pki();
    let r = resolver(&[&p.root], NOW);
    let check = |binding: IssBinding, iss: Option<&str>| {
        verify(
            &x5c_vc(&p, &[&p.leaf, &p.ca], iss),
            &r.clone().iss_binding(binding),
        )
    };
    // Default, draft -10 and later (-19 §2.5): `iss` is not compared with the certificate.
    assert_eq!(
        X5cPolicy::default().iss_binding,
        IssBinding::CertificateSubject
    );
    check(
        IssBinding::CertificateSubject,
        Some("https://other.example"),
    )
    .unwrap();

    // Drafts -04 to -09 §3.5: URI SAN, or the domain of an https `iss` as a dNSName SAN.
    let rule = IssBinding::HttpsUriOrDnsName;
    check(rule, Some(ISS)).unwrap();
    check(rule, Some("https://issuer.example/tenant/7")).unwrap();
    for bad in [
        Some("https://other.example"),
        Some("https://issuer.example.other.example"),
        Some("dns:issuer.example"),
        None,
    ] {
        let err = check(rule, bad).unwrap_err();
        assert!(
            matches!(err, Error::IssuerCertificateMismatch(_)),
            "{bad:?}: {err:?}"
        );
        assert_eq!(err.code(), "issuer_certificate_mismatch");
    }

    // Drafts -01 to -03 §3.5: `dns:` URI → dNSName SAN, anything else → URI SAN.
    let rule = IssBinding::DnsUriOrUri;
    check(rule, Some("dns:issuer.example")).unwrap();
    check(rule, Some(ISS)).unwrap();
    for bad in [
        Some("dns:other.example"),
        Some("https://issuer.example/tenant/7"),
        None,
    ] {
        let err = check(rule, bad).unwrap_err();
        assert!(
            matches!(err, Error::IssuerCertificateMismatch(_)),
            "{bad:?}: {err:?}"
        );
    }
}

#[test]
fn chain_longer_than_the_limit_is_rejected() {
    let p = pki();
    let text = x5c_vc(&p, &[&p.leaf, &p.ca], Some(ISS));
    // The path leaf → CA → root has three certificates.
    let err = verify(&text, &resolver(&[&p.root], NOW).max_chain_len(2)).unwrap_err();
    assert_eq!(err, Error::CertificateChain(ChainError::TooLong { max: 2 }));
    assert_eq!(err.code(), "certificate_chain_too_long");
    verify(&text, &resolver(&[&p.root], NOW).max_chain_len(3)).unwrap();
    // More `x5c` entries than the default limit of 10: refused before any parsing.
    let mut long: Vec<&[u8]> = vec![&p.leaf];
    long.extend(std::iter::repeat_n(p.ca.as_slice(), 10));
    let err = verify(&x5c_vc(&p, &long, Some(ISS)), &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(
        err,
        Error::CertificateChain(ChainError::TooLong { max: 10 })
    );
}

#[test]
fn missing_x5c_is_rejected() {
    let p = pki();
    let text = vc(&p.leaf_key, &[], Some(ISS));
    let err = verify(&text, &resolver(&[&p.root], NOW)).unwrap_err();
    assert_eq!(err, Error::MissingX5c);
    assert_eq!(err.code(), "missing_x5c");
}

#[test]
fn x5c_that_is_not_base64_der_is_rejected() {
    let p = pki();
    let r = resolver(&[&p.root], NOW);
    for x5c in [
        json!(["not base64!"]),
        json!([b64(&p.leaf)
            .as_str()
            .unwrap()
            .replace('+', "-")
            .replace('/', "_")
            + "$"]),
        json!([b64(b"definitely not DER")]),
        json!([b64(&p.leaf), b64(b"junk")]),
        json!([42]),
        json!([]),
        json!(b64(&p.leaf)),
    ] {
        let text = vc(&p.leaf_key, &[("x5c", x5c.clone())], Some(ISS));
        let err = verify(&text, &r).unwrap_err();
        assert!(matches!(err, Error::InvalidX5c(_)), "{x5c}: {err:?}");
        assert_eq!(err.code(), "invalid_x5c");
    }
}

#[test]
fn resolver_configuration_is_checked() {
    let clock = Arc::new(FixedClock::new(NOW));
    assert_eq!(
        X5cIssuerKeyResolver::new(Vec::new(), clock.clone()).unwrap_err(),
        Error::CertificateChain(ChainError::NoTrustAnchors)
    );
    assert_eq!(
        X5cIssuerKeyResolver::new([b"junk".to_vec()], clock.clone())
            .unwrap_err()
            .code(),
        "malformed_trust_anchor"
    );
    assert!(X5cIssuerKeyResolver::from_pem(b"no pem here", clock).is_err());
    // The policy is plain serde configuration.
    let policy: X5cPolicy =
        serde_json::from_str(r#"{"iss_binding": "https_uri_or_dns_name", "max_chain_len": 4}"#)
            .unwrap();
    assert_eq!(policy.iss_binding, IssBinding::HttpsUriOrDnsName);
    assert_eq!(policy.max_chain_len, 4);
    assert!(!policy.allow_self_signed);
}
