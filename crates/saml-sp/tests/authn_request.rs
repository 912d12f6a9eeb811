//! AuthnRequest over both bindings: the Redirect signature covers the exact query octets, the
//! POST form carries an enveloped XML signature; both verify with the SP certificate.

mod common;

use common::saml::*;
use idforge_saml_sp::authn::{AuthnRequest, Comparison, NameIdPolicy, RequestedAuthnContext};
use idforge_saml_sp::binding::{decode_redirect, MessageKind, SpSigner};
use idforge_saml_sp::dsig::{Signature, SignatureAlgorithm, VerifyOptions};
use idforge_saml_sp::response::TrustedKey;
use idforge_saml_sp::xml::{parse, Limits, NS_DSIG, NS_PROTOCOL};
use idforge_saml_sp::Error;

fn signer() -> (SpSigner, TrustedKey) {
    let sp_keys = idforge_saml_sp::testkit::TestIdp::generate_rsa(SP).expect("sp key");
    let trusted = TrustedKey::from_certificate_der(&sp_keys.certificate).expect("cert");
    (
        SpSigner {
            key: sp_keys.key.clone(),
            certificate: Some(sp_keys.certificate.clone()),
            algorithm: SignatureAlgorithm::RsaSha256,
        },
        trusted,
    )
}

fn request() -> AuthnRequest {
    let mut r =
        AuthnRequest::new(&sp(), "https://idp.example.org/sso?tenant=a", now()).expect("request");
    r.force_authn = true;
    r.name_id_policy = Some(NameIdPolicy {
        format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()),
        allow_create: Some(true),
        sp_name_qualifier: None,
    });
    r.requested_authn_context = Some(RequestedAuthnContext {
        comparison: Comparison::Minimum,
        class_refs: vec![
            "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport".into(),
        ],
    });
    r
}

#[test]
fn redirect_binding_signed_over_exact_query_octets() {
    let (signer, trusted) = signer();
    let req = request();
    let url = req
        .redirect_url(Some("/app?x=1&y=2"), Some(&signer))
        .expect("url");
    assert!(url.starts_with("https://idp.example.org/sso?tenant=a&SAMLRequest="));
    let query = url.split_once("tenant=a&").expect("query").1;
    let msg = decode_redirect(query, &Limits::default(), false).expect("decode");
    assert_eq!(msg.kind, MessageKind::Request);
    assert_eq!(msg.relay_state.as_deref(), Some("/app?x=1&y=2"));
    msg.verify(std::slice::from_ref(&trusted.key))
        .expect("signature verifies");
    let xml = String::from_utf8(msg.xml).expect("utf8");
    assert_eq!(xml, req.to_xml());
    let doc = parse(&xml, &Limits::default()).expect("parse");
    let root = doc.root_element();
    assert!(root.has_tag_name((NS_PROTOCOL, "AuthnRequest")));
    assert_eq!(root.attribute("ForceAuthn"), Some("true"));
    assert_eq!(root.attribute("AssertionConsumerServiceURL"), Some(ACS));

    // Any change to the signed octets breaks it, including RelayState.
    let tampered = query.replace("RelayState=%2Fapp", "RelayState=%2Fevil");
    let msg = decode_redirect(&tampered, &Limits::default(), false).expect("decode");
    assert!(matches!(
        msg.verify(std::slice::from_ref(&trusted.key)),
        Err(Error::SignatureInvalid(_))
    ));
    // Unsigned: SignatureMissing.
    let unsigned = req.redirect_url(None, None).expect("url");
    let q = unsigned.split_once("tenant=a&").expect("q").1;
    let msg = decode_redirect(q, &Limits::default(), false).expect("decode");
    assert!(matches!(
        msg.verify(&[trusted.key]),
        Err(Error::SignatureMissing(_))
    ));
}

#[test]
fn post_binding_carries_a_verifiable_enveloped_signature() {
    let (signer, trusted) = signer();
    let req = request();
    let html = req.post_form(Some("state"), Some(&signer)).expect("form");
    assert!(html.contains("action=\"https://idp.example.org/sso?tenant=a\""));
    assert!(html.contains("name=\"RelayState\" value=\"state\""));
    let value = html
        .split("name=\"SAMLRequest\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("value");
    use base64::Engine as _;
    let xml = String::from_utf8(
        base64::engine::general_purpose::STANDARD
            .decode(value)
            .expect("b64"),
    )
    .expect("utf8");
    let doc = parse(&xml, &Limits::default()).expect("parse");
    let sig = doc
        .descendants()
        .find(|n| n.has_tag_name((NS_DSIG, "Signature")))
        .expect("signature");
    assert_eq!(sig.parent(), Some(doc.root_element()));
    let opts = VerifyOptions::default();
    let s = Signature::parse(sig, &opts).expect("parse signature");
    assert_eq!(
        s.verify_references(&doc, &opts).expect("digest"),
        vec![doc.root_element().id()]
    );
    s.verify_signed_info(&[trusted.key]).expect("signature");
}

#[test]
fn pending_request_and_ids() {
    let a = request();
    let b = request();
    assert_ne!(a.id, b.id);
    assert_eq!(a.id.len(), 33);
    let p = a.pending(IDP, Some("rs"), time::Duration::minutes(10));
    assert_eq!(p.id, a.id);
    assert_eq!(p.expires_at, a.issue_instant + time::Duration::minutes(10));
}

#[test]
fn relay_state_is_bounded() {
    let req = request();
    assert!(matches!(
        req.redirect_url(Some(&"x".repeat(81)), None),
        Err(Error::Binding(_))
    ));
}
