//! Single Logout: LogoutRequest/LogoutResponse over both bindings, signed by XML signature or by
//! the Redirect query signature, and the rejection cases (SAML Core §3.7, Profiles §4.4).

mod common;

use base64::Engine as _;
use common::saml::*;
use idforge_saml_sp::binding::{decode_redirect, SpSigner};
use idforge_saml_sp::logout::{
    validate_logout_request, validate_logout_response, BindingAuth, LogoutExpectations,
    LogoutRequest, LogoutResponse,
};
use idforge_saml_sp::model::NameId;
use idforge_saml_sp::Error;

const SP_SLO: &str = "https://sp.example.com/slo";

fn idp_signer() -> SpSigner {
    SpSigner {
        key: idp().key.clone(),
        certificate: None,
        algorithm: idp().algorithm,
    }
}

fn name_id() -> NameId {
    NameId {
        value: "alice@example.com".into(),
        format: Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into()),
        name_qualifier: None,
        sp_name_qualifier: None,
        sp_provided_id: None,
    }
}

fn form_xml(html: &str) -> Vec<u8> {
    let v = html
        .split("value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("value");
    base64::engine::general_purpose::STANDARD
        .decode(v)
        .expect("b64")
}

#[test]
fn idp_initiated_logout_over_redirect_and_post() {
    let trusted = idp().trusted().expect("t");
    let exp = LogoutExpectations {
        idp: &trusted,
        slo_url: SP_SLO,
        clock_skew_seconds: 60,
        allow_sha1: false,
        limits: Default::default(),
    };
    let req = LogoutRequest::new(
        IDP,
        SP_SLO,
        name_id(),
        vec!["_s1".into(), "_s2".into()],
        now(),
    )
    .expect("req");

    // Redirect: the query signature authenticates it.
    let url = req
        .redirect_url(Some("rs"), Some(&idp_signer()))
        .expect("url");
    let msg = decode_redirect(
        url.split_once('?').expect("q").1,
        &Default::default(),
        false,
    )
    .expect("decode");
    msg.verify(&[trusted.signing_keys[0].key.clone()])
        .expect("query signature");
    let v = validate_logout_request(
        &msg.xml,
        &exp,
        BindingAuth::RedirectSignatureVerified,
        now(),
    )
    .expect("valid");
    assert_eq!(v.id, req.id);
    assert_eq!(v.name_id, name_id());
    assert_eq!(v.session_indexes, vec!["_s1", "_s2"]);
    // Without a verified binding signature the same XML is unsigned.
    assert!(matches!(
        validate_logout_request(&msg.xml, &exp, BindingAuth::None, now()),
        Err(Error::SignatureMissing(_))
    ));

    // POST: enveloped XML signature.
    let html = req.post_form(None, &idp_signer()).expect("form");
    let xml = form_xml(&html);
    validate_logout_request(&xml, &exp, BindingAuth::None, now()).expect("signed POST");
    let tampered = String::from_utf8(xml).expect("utf8").replace("_s2", "_s3");
    assert!(matches!(
        validate_logout_request(tampered.as_bytes(), &exp, BindingAuth::None, now()),
        Err(Error::SignatureInvalid(_))
    ));

    // Expired.
    let late = now() + time::Duration::minutes(10);
    assert!(matches!(
        validate_logout_request(&form_xml(&html), &exp, BindingAuth::None, late),
        Err(Error::Expired(_))
    ));
    // Wrong destination.
    let other = LogoutRequest::new(
        IDP,
        "https://other.example.com/slo",
        name_id(),
        vec![],
        now(),
    )
    .expect("req");
    let xml = form_xml(&other.post_form(None, &idp_signer()).expect("form"));
    assert!(matches!(
        validate_logout_request(&xml, &exp, BindingAuth::None, now()),
        Err(Error::WrongDestination(_))
    ));
    // Wrong issuer.
    let other = LogoutRequest::new("https://evil.example.org", SP_SLO, name_id(), vec![], now())
        .expect("req");
    let xml = form_xml(&other.post_form(None, &idp_signer()).expect("form"));
    assert!(matches!(
        validate_logout_request(&xml, &exp, BindingAuth::None, now()),
        Err(Error::WrongIssuer(_))
    ));
}

#[test]
fn sp_initiated_logout_response_checks() {
    let trusted = idp().trusted().expect("t");
    let exp = LogoutExpectations {
        idp: &trusted,
        slo_url: SP_SLO,
        clock_skew_seconds: 60,
        allow_sha1: false,
        limits: Default::default(),
    };
    let ours = LogoutRequest::new(
        SP,
        "https://idp.example.org/slo",
        name_id(),
        vec!["_s1".into()],
        now(),
    )
    .expect("req");
    assert!(ours
        .to_xml()
        .contains("<samlp:SessionIndex>_s1</samlp:SessionIndex>"));

    let resp = LogoutResponse::success(IDP, SP_SLO, &ours.id, now()).expect("resp");
    let xml = form_xml(&resp.post_form(None, &idp_signer()).expect("form"));
    validate_logout_response(&xml, &exp, BindingAuth::None, &ours.id).expect("valid");
    assert!(matches!(
        validate_logout_response(&xml, &exp, BindingAuth::None, "_other"),
        Err(Error::InResponseToMismatch(_))
    ));

    let url = resp.redirect_url(None, Some(&idp_signer())).expect("url");
    let msg = decode_redirect(
        url.split_once('?').expect("q").1,
        &Default::default(),
        false,
    )
    .expect("decode");
    msg.verify(&[trusted.signing_keys[0].key.clone()])
        .expect("query signature");
    validate_logout_response(
        &msg.xml,
        &exp,
        BindingAuth::RedirectSignatureVerified,
        &ours.id,
    )
    .expect("valid");

    let mut failed = resp.clone();
    failed.status = "urn:oasis:names:tc:SAML:2.0:status:Responder".into();
    let xml = form_xml(&failed.post_form(None, &idp_signer()).expect("form"));
    assert!(matches!(
        validate_logout_response(&xml, &exp, BindingAuth::None, &ours.id),
        Err(Error::Status { .. })
    ));
}
