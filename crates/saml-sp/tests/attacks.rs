//! The attack suite: each case must be rejected with a precise error. Where a published CVE
//! stands for the class, the case names it.

mod common;

use common::saml::*;
use idforge_saml_sp::dsig::{sign_enveloped, DigestAlgorithm, SignatureAlgorithm, SigningOptions};
use idforge_saml_sp::Error;

fn signed_assertion() -> (idforge_saml_sp::testkit::ResponseSpec, String) {
    let s = spec();
    let xml = idp().signed_response(&s, true, false).expect("sign");
    (s, xml)
}

fn signed_response() -> (idforge_saml_sp::testkit::ResponseSpec, String) {
    let s = spec();
    let xml = idp().signed_response(&s, false, true).expect("sign");
    (s, xml)
}

fn evil_assertion(s: &idforge_saml_sp::testkit::ResponseSpec, id: &str) -> String {
    let mut evil = s.clone();
    evil.assertion_id = id.to_owned();
    evil.name_id = "admin@example.com".into();
    element(&evil.to_xml(IDP), "saml:Assertion")
}

#[test]
fn baseline_valid_responses_are_accepted() {
    let (_, xml) = signed_assertion();
    let v = check(&xml).expect("signed assertion");
    assert!(v.assertion.signed.assertion && !v.assertion.signed.response);
    let (_, xml) = signed_response();
    let v = check(&xml).expect("signed response");
    assert!(v.assertion.signed.response && !v.assertion.signed.assertion);
    let s = spec();
    let both = idp().signed_response(&s, true, true).expect("sign");
    let v = check(&both).expect("both");
    assert_eq!(
        v.assertion.name_id.expect("nameid").value,
        "alice@example.com"
    );
}

/// XSW: the signed assertion is moved into `samlp:Extensions` and an evil unsigned one takes
/// its place (CVE-2016-5697, ruby-saml; "On Breaking SAML", USENIX Security 2012).
#[test]
fn xsw_signed_assertion_moved_into_extensions() {
    let (s, xml) = signed_assertion();
    let signed = element(&xml, "saml:Assertion");
    let evil = evil_assertion(&s, &format!("{}-evil", s.assertion_id));
    let without = remove(&xml, "saml:Assertion");
    let at = without.find("<samlp:Status>").expect("status");
    let attacked = format!(
        "{}<samlp:Extensions>{signed}</samlp:Extensions>{}",
        &without[..at],
        &without[at..]
    )
    .replace("</samlp:Response>", &format!("{evil}</samlp:Response>"));
    assert!(
        matches!(check(&attacked), Err(Error::AssertionCount(_))),
        "{:?}",
        check(&attacked)
    );
}

/// XSW: an evil assertion carrying the same ID as the signed one (cloned), so an ID lookup and
/// the reading code may pick different elements (CVE-2016-5697 class).
#[test]
fn xsw_cloned_assertion_same_id() {
    let (s, xml) = signed_assertion();
    let evil = evil_assertion(&s, &s.assertion_id);
    let attacked = xml.replacen("<saml:Assertion", &format!("{evil}<saml:Assertion"), 1);
    let err = check(&attacked).expect_err("rejected");
    assert!(
        matches!(err, Error::AssertionCount(_) | Error::DuplicateId(_)),
        "{err:?}"
    );
}

/// XSW: the original signed assertion wrapped inside the signature's `ds:Object`, an evil
/// assertion in the normal position.
#[test]
fn xsw_signed_assertion_wrapped_in_object() {
    let (s, xml) = signed_response();
    let signed = element(&xml, "saml:Assertion");
    let evil = evil_assertion(&s, "_evil");
    let attacked = xml.replace(&signed, &evil).replace(
        "</ds:Signature>",
        &format!("<ds:Object>{signed}</ds:Object></ds:Signature>"),
    );
    assert!(
        matches!(check(&attacked), Err(Error::AssertionCount(_))),
        "{:?}",
        check(&attacked)
    );
}

/// Two elements with the same ID anywhere (not only assertions): the reference is ambiguous.
#[test]
fn duplicate_ids_are_rejected() {
    let (s, xml) = signed_assertion();
    let attacked = xml.replacen(
        "<samlp:Status>",
        &format!(
            "<samlp:Extensions><x ID=\"{}\"/></samlp:Extensions><samlp:Status>",
            s.assertion_id
        ),
        1,
    );
    assert_eq!(
        check(&attacked).expect_err("must be rejected"),
        Error::DuplicateId(s.assertion_id)
    );
}

/// An unsigned assertion beside the signed one: CVE-2022-41912 (crewjam/saml, multiple
/// Assertion elements).
#[test]
fn unsigned_assertion_beside_signed_one() {
    let (s, xml) = signed_assertion();
    let evil = evil_assertion(&s, "_evil2");
    let attacked = xml.replace("</samlp:Response>", &format!("{evil}</samlp:Response>"));
    assert!(matches!(check(&attacked), Err(Error::AssertionCount(_))));
}

/// Signature stripped: no signature anywhere (CWE-347: unsigned assertions must never be
/// accepted).
#[test]
fn signature_stripped() {
    let (_, xml) = signed_assertion();
    let attacked = remove(&xml, "ds:Signature");
    assert!(matches!(check(&attacked), Err(Error::SignatureMissing(_))));
}

/// A signature that covers a different element than the one it sits in (CVE-2020-5390,
/// pysaml2 did not check that the signature is enveloped in the element it protects).
#[test]
fn signature_over_a_different_element() {
    let (_, xml) = signed_response();
    let sig = element(&xml, "ds:Signature");
    let without = remove(&xml, "ds:Signature");
    // Move the Response's signature (Reference #response) into the Assertion.
    let at = without
        .find("</saml:Issuer><saml:Subject>")
        .expect("assertion issuer")
        + "</saml:Issuer>".len();
    let attacked = format!("{}{sig}{}", &without[..at], &without[at..]);
    assert!(
        matches!(check(&attacked), Err(Error::ReferenceInvalid(_))),
        "{:?}",
        check(&attacked)
    );
}

/// A signature with `URI=""` (whole document) is not the SAML profile (Core §5.4.2).
#[test]
fn whole_document_reference_is_refused() {
    let (s, xml) = signed_response();
    let attacked = xml.replace(&format!("URI=\"#{}\"", s.response_id), "URI=\"\"");
    assert!(matches!(check(&attacked), Err(Error::ReferenceInvalid(_))));
}

/// Comment injection in NameID: `alice@example.com<!---->.evil.com` canonicalizes like the
/// signed `alice@example.com.evil.com`; reading only the first text node would log in as
/// alice (CVE-2017-11427 python-saml, CVE-2017-11428 ruby-saml, CVE-2017-11429 saml2-js,
/// CVE-2017-11430 OmniAuth-SAML, CVE-2018-0489 Shibboleth). We read the whole value.
#[test]
fn comment_injection_in_name_id() {
    let mut s = spec();
    s.name_id = "alice@example.com.evil.com".into();
    let xml = idp().signed_response(&s, true, false).expect("sign");
    let attacked = xml.replace(
        "alice@example.com.evil.com",
        "alice@example.com<!---->.evil.com",
    );
    let v = check(&attacked).expect("the signature still covers the canonical value");
    assert_eq!(
        v.assertion.name_id.expect("nameid").value,
        "alice@example.com.evil.com"
    );
}

/// Namespace confusion: an element spelled `saml:Assertion` but bound to another namespace is
/// not an assertion; with the real (signed) one renamed the response has none.
#[test]
fn namespace_prefix_confusion() {
    let (_, xml) = signed_response();
    let attacked = xml.replacen(
        "<saml:Assertion ",
        "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion:evil\" ",
        1,
    );
    let err = check(&attacked).expect_err("rejected");
    assert!(
        matches!(err, Error::AssertionCount(_) | Error::SignatureInvalid(_)),
        "{err:?}"
    );
}

/// Parser differential through entities: a DOCTYPE lets one parser see another ID or value
/// (CVE-2025-25291 / CVE-2025-25292, ruby-saml REXML vs Nokogiri). No DTD is ever accepted.
#[test]
fn parser_differential_doctype() {
    let (_, xml) = signed_assertion();
    let attacked = format!("<!DOCTYPE samlp:Response [<!ENTITY e \"alice\">]>{xml}");
    assert_eq!(
        check(&attacked).expect_err("must be rejected"),
        Error::DtdForbidden
    );
}

/// Duplicate attributes are a well-formedness error, not "first wins" or "last wins".
#[test]
fn parser_differential_duplicate_attribute() {
    let (s, xml) = signed_assertion();
    let attacked = xml.replacen(
        &format!("ID=\"{}\"", s.assertion_id),
        &format!("ID=\"{}\" ID=\"x\"", s.assertion_id),
        1,
    );
    assert!(matches!(check(&attacked), Err(Error::MalformedXml(_))));
}

/// XXE: external entity (CVE-2016-10149, pysaml2).
#[test]
fn xxe_external_entity() {
    let xml = "<?xml version=\"1.0\"?><!DOCTYPE r [<!ENTITY x SYSTEM \"file:///etc/passwd\">]><samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\">&x;</samlp:Response>";
    assert_eq!(
        check(xml).expect_err("must be rejected"),
        Error::DtdForbidden
    );
}

/// Entity expansion (billion laughs, CWE-776).
#[test]
fn billion_laughs() {
    let mut xml = String::from("<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">");
    for i in 1..10 {
        let prev = if i == 1 {
            "lol".to_owned()
        } else {
            format!("lol{}", i - 1)
        };
        xml.push_str(&format!(
            "<!ENTITY lol{i} \"{}\">",
            format!("&{prev};").repeat(10)
        ));
    }
    xml.push_str("]><lolz>&lol9;</lolz>");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::DtdForbidden
    );
}

#[test]
fn expired_assertion() {
    let mut s = spec();
    s.not_before = now() - time::Duration::hours(2);
    s.not_on_or_after = now() - time::Duration::hours(1);
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert!(matches!(check(&xml), Err(Error::Expired(_))));
}

#[test]
fn not_yet_valid_assertion() {
    let mut s = spec();
    s.not_before = now() + time::Duration::hours(1);
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert!(matches!(check(&xml), Err(Error::NotYetValid(_))));
    // Within the configured skew it is fine.
    s.not_before = now() + time::Duration::seconds(60);
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert!(check(&xml).is_ok());
}

#[test]
fn wrong_audience() {
    let mut s = spec();
    s.audience = "https://other-sp.example.com".into();
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::WrongAudience
    );
}

#[test]
fn wrong_recipient() {
    let mut s = spec();
    s.recipient = "https://evil.example.com/acs".into();
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::WrongRecipient("https://evil.example.com/acs".into())
    );
}

#[test]
fn wrong_destination() {
    let mut s = spec();
    s.destination = Some("https://evil.example.com/acs".into());
    let xml = idp().signed_response(&s, false, true).expect("sign");
    assert!(matches!(check(&xml), Err(Error::WrongDestination(_))));
}

#[test]
fn wrong_issuer() {
    let s = spec();
    let xml = s.to_xml("https://evil-idp.example.org");
    let xml = idp().sign(&xml, &s.assertion_id).expect("sign");
    assert!(matches!(check(&xml), Err(Error::WrongIssuer(_))));
}

/// Tampering after signing breaks the digest.
#[test]
fn tampered_after_signing() {
    let (_, xml) = signed_assertion();
    let attacked = xml.replace(
        "alice@example.com</saml:NameID>",
        "admin@example.com</saml:NameID>",
    );
    assert!(matches!(check(&attacked), Err(Error::SignatureInvalid(_))));
}

/// A signature by a key the SP does not trust, with that key's certificate in KeyInfo: KeyInfo
/// is never a trust source (CWE-347).
#[test]
fn signed_by_untrusted_key_with_embedded_certificate() {
    let s = spec();
    let xml = attacker().signed_response(&s, true, false).expect("sign");
    assert!(matches!(check(&xml), Err(Error::SignatureInvalid(_))));
}

/// SHA-1 is refused unless opted in.
#[test]
fn sha1_refused_by_default() {
    let s = spec();
    let opts = SigningOptions {
        algorithm: SignatureAlgorithm::RsaSha1,
        digest: DigestAlgorithm::Sha1,
        certificate: None,
    };
    let xml = sign_enveloped(&s.to_xml(IDP), &s.assertion_id, &idp().key, &opts).expect("sign");
    assert!(matches!(check(&xml), Err(Error::Unsupported(_))));
    let mut cfg = sp();
    cfg.allow_sha1 = true;
    assert!(check_with(&xml, &cfg).is_ok());
}

/// HMACOutputLength truncation (CVE-2009-0217).
#[test]
fn hmac_output_length_refused() {
    let (_, xml) = signed_assertion();
    let attacked = xml.replacen(
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"/>",
        "<ds:SignatureMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#rsa-sha256\"><ds:HMACOutputLength>8</ds:HMACOutputLength></ds:SignatureMethod>",
        1,
    );
    assert!(matches!(check(&attacked), Err(Error::Unsupported(_))));
}

/// Transforms beyond enveloped + c14n (XPath/XSLT: DoS and wrapping surface).
#[test]
fn xpath_transform_refused() {
    let (_, xml) = signed_assertion();
    let attacked = xml.replacen(
        "<ds:Transforms>",
        "<ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
        1,
    );
    assert!(matches!(check(&attacked), Err(Error::Unsupported(_))));
}

#[test]
fn want_assertions_signed() {
    let (_, xml) = signed_response();
    let mut cfg = sp();
    cfg.want_assertions_signed = true;
    assert!(matches!(
        check_with(&xml, &cfg),
        Err(Error::SignatureMissing(_))
    ));
}

#[test]
fn status_not_success_reports_second_level() {
    let mut s = spec();
    s.status = (
        "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
        Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into()),
    );
    let xml = idp().signed_response(&s, true, true).expect("sign");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::Status {
            top: "urn:oasis:names:tc:SAML:2.0:status:Responder".into(),
            second: Some("urn:oasis:names:tc:SAML:2.0:status:AuthnFailed".into()),
            message: None
        }
    );
}

#[test]
fn in_response_to_mismatch_and_unsolicited() {
    let s = idforge_saml_sp::testkit::ResponseSpec::new(&sp(), Some("_other"), now());
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::InResponseToMismatch("_other".into())
    );
    let s = idforge_saml_sp::testkit::ResponseSpec::new(&sp(), None, now());
    let xml = idp().signed_response(&s, true, false).expect("sign");
    assert_eq!(
        check(&xml).expect_err("must be rejected"),
        Error::UnsolicitedNotAllowed
    );
    let mut cfg = sp();
    cfg.allow_unsolicited = true;
    assert!(check_with(&xml, &cfg).is_ok());
}

/// Bearer InResponseTo must equal the Response's (a captured assertion cannot be re-wrapped
/// into a response for another request).
#[test]
fn bearer_in_response_to_must_match_response() {
    let (_, xml) = signed_assertion();
    let attacked = xml.replacen("InResponseTo=\"_req1\"", "InResponseTo=\"_req2\"", 1);
    let err = validate(&attacked, "_req2");
    assert!(
        matches!(err, Err(Error::InResponseToMismatch(_))),
        "{err:?}"
    );
}

fn validate(
    xml: &str,
    req: &str,
) -> idforge_saml_sp::Result<idforge_saml_sp::response::ValidatedResponse> {
    idforge_saml_sp::response::validate_response(
        xml.as_bytes(),
        &sp(),
        &idp().trusted().expect("trusted"),
        &idforge_saml_sp::response::RequestCheck::Exact(req.into()),
        now(),
    )
}

/// Replay of a consumed assertion (CWE-294; SAML Profiles §4.1.4.5).
#[tokio::test]
async fn replay_is_rejected() {
    use base64::Engine as _;
    use idforge_saml_sp::ports::{
        MemoryReplayCache, MemoryRequestStore, PendingRequest, RequestStore,
    };
    use idforge_saml_sp::response::AssertionConsumer;
    use std::sync::Arc;
    let requests = Arc::new(MemoryRequestStore::default());
    let consumer = AssertionConsumer {
        sp: sp(),
        idp: idp().trusted().expect("trusted"),
        replay: Arc::new(MemoryReplayCache::default()),
        requests: requests.clone(),
        decryption_keys: Vec::new(),
    };
    let pending = PendingRequest {
        id: "_req1".into(),
        idp_entity_id: IDP.into(),
        relay_state: Some("/app".into()),
        expires_at: now() + time::Duration::minutes(5),
    };
    requests.save(pending.clone()).await.expect("save");
    let (_, xml) = signed_assertion();
    let form = base64::engine::general_purpose::STANDARD.encode(&xml);
    let (a, p) = consumer
        .handle_post(form.as_bytes(), now())
        .await
        .expect("first use");
    assert_eq!(p, Some(pending));
    assert_eq!(
        a.session_index.as_deref().map(|s| s.starts_with("_s")),
        Some(true)
    );
    let err = consumer
        .handle_post(form.as_bytes(), now())
        .await
        .expect_err("replay");
    assert!(matches!(err, Error::Replay(_)), "{err:?}");
    // A fresh assertion for the same (already answered) request is refused too.
    let (_, xml2) = signed_assertion();
    let form2 = base64::engine::general_purpose::STANDARD.encode(&xml2);
    let err = consumer
        .handle_post(form2.as_bytes(), now())
        .await
        .expect_err("request used");
    assert_eq!(err, Error::InResponseToMismatch("_req1".into()));
}
