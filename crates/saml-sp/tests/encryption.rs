//! EncryptedAssertion / EncryptedID (SAML Core §2.2.4, §2.3.4; XML Encryption 1.1): RSA-OAEP
//! (MGF1-SHA1 and SHA-256 variants), AES-GCM and AES-CBC, several SP keys during rollover,
//! signatures before and after encryption, and the failure cases.

mod common;

use common::saml::*;
use idforge_jose::crypto::{self, PrivateKey, PublicKey};
use idforge_saml_sp::response::{
    validate_response, validate_response_decrypting, RequestCheck, ValidatedResponse,
};
use idforge_saml_sp::xmlenc::{encrypt_element, ContentAlgorithm};
use idforge_saml_sp::{Error, Result};

fn sp_key() -> (PrivateKey, PublicKey) {
    let (n, e, parts) = crypto::rsa_generate(2048).expect("rsa");
    let private = crypto::rsa_private(&n, &e, &parts).expect("private");
    let public = private.public_key().expect("public");
    (private, public)
}

fn validate(xml: &str, keys: &[PrivateKey]) -> Result<ValidatedResponse> {
    validate_response_decrypting(
        xml.as_bytes(),
        &sp(),
        &idp().trusted().expect("t"),
        keys,
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
}

#[test]
fn every_content_and_key_transport_combination() {
    let (private, public) = sp_key();
    for content in [
        ContentAlgorithm::AesGcm(16),
        ContentAlgorithm::AesGcm(32),
        ContentAlgorithm::AesCbc(16),
        ContentAlgorithm::AesCbc(32),
    ] {
        for oaep_sha256 in [false, true] {
            for (sign_assertion, sign_response) in [(true, false), (false, true), (true, true)] {
                let s = spec();
                let xml = idp()
                    .encrypted_response(
                        &s,
                        &public,
                        content,
                        oaep_sha256,
                        sign_assertion,
                        sign_response,
                    )
                    .expect("encrypt");
                assert!(xml.contains("<saml:EncryptedAssertion>"));
                assert!(
                    !xml.contains("alice@example.com"),
                    "the assertion must be encrypted"
                );
                let v = validate(&xml, std::slice::from_ref(&private)).unwrap_or_else(|e| {
                    panic!("{content:?} sha256={oaep_sha256} {sign_assertion}/{sign_response}: {e}")
                });
                assert_eq!(
                    v.assertion.name_id.expect("name id").value,
                    "alice@example.com"
                );
                assert_eq!(v.assertion.signed.assertion, sign_assertion);
                assert_eq!(v.assertion.signed.response, sign_response);
            }
        }
    }
}

#[test]
fn rollover_wrong_key_and_no_key() {
    let (old, _) = sp_key();
    let (new, new_public) = sp_key();
    let s = spec();
    let xml = idp()
        .encrypted_response(
            &s,
            &new_public,
            ContentAlgorithm::AesGcm(32),
            true,
            true,
            false,
        )
        .expect("enc");
    validate(&xml, &[old.clone(), new]).expect("second key decrypts");
    assert_eq!(
        validate(&xml, &[old]).expect_err("wrong key"),
        Error::DecryptionFailed
    );
    assert!(matches!(validate(&xml, &[]), Err(Error::Unsupported(_))));
    // The plain entry point refuses encrypted assertions.
    assert!(matches!(
        validate_response(
            xml.as_bytes(),
            &sp(),
            &idp().trusted().expect("t"),
            &RequestCheck::Exact("_req1".into()),
            now()
        ),
        Err(Error::Unsupported(_))
    ));
}

#[test]
fn tampered_ciphertext_is_one_opaque_error() {
    let (private, public) = sp_key();
    for content in [ContentAlgorithm::AesGcm(16), ContentAlgorithm::AesCbc(16)] {
        let s = spec();
        let xml = idp()
            .encrypted_response(&s, &public, content, false, true, false)
            .expect("enc");
        // Flip one base64 character of the content CipherValue (the last one in the document).
        let at = xml.rfind("<xenc:CipherValue>").expect("cv") + "<xenc:CipherValue>".len() + 20;
        let mut bytes = xml.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        let xml = String::from_utf8(bytes).expect("utf8");
        let err = validate(&xml, std::slice::from_ref(&private)).expect_err("tampered");
        // GCM: the tag fails; CBC: the plaintext no longer parses or the signature fails.
        assert!(
            matches!(
                err,
                Error::DecryptionFailed | Error::MalformedXml(_) | Error::SignatureInvalid(_)
            ),
            "{content:?}: {err:?}"
        );
    }
}

#[test]
fn encrypted_name_id() {
    let (private, public) = sp_key();
    let s = spec();
    let xml = s.to_xml(IDP);
    let start = xml.find("<saml:NameID").expect("nameid");
    let end = xml.find("</saml:NameID>").expect("end") + "</saml:NameID>".len();
    let enc = encrypt_element(
        &xml[start..end],
        &public,
        ContentAlgorithm::AesGcm(16),
        true,
    )
    .expect("enc");
    let xml = format!(
        "{}<saml:EncryptedID>{enc}</saml:EncryptedID>{}",
        &xml[..start],
        &xml[end..]
    );
    let xml = idp().sign(&xml, &s.assertion_id).expect("sign");
    let v = validate(&xml, &[private]).expect("valid");
    let name_id = v.assertion.name_id.expect("decrypted name id");
    assert_eq!(name_id.value, "alice@example.com");
    assert_eq!(
        name_id.format.as_deref(),
        Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
    );
}

/// An encrypted assertion beside a plaintext one is still two assertions.
#[test]
fn encrypted_plus_plaintext_assertion_is_refused() {
    let (private, public) = sp_key();
    let s = spec();
    let xml = idp()
        .encrypted_response(&s, &public, ContentAlgorithm::AesGcm(16), true, true, false)
        .expect("enc");
    let plain = element(
        &idp().signed_response(&spec(), true, false).expect("sign"),
        "saml:Assertion",
    );
    let attacked = xml.replace("</samlp:Response>", &format!("{plain}</samlp:Response>"));
    assert!(matches!(
        validate(&attacked, &[private]),
        Err(Error::AssertionCount(_))
    ));
}

/// RSA PKCS#1 v1.5 key transport is refused (Bleichenbacher).
#[test]
fn rsa_v15_key_transport_is_refused() {
    let (private, public) = sp_key();
    let s = spec();
    let xml = idp()
        .encrypted_response(
            &s,
            &public,
            ContentAlgorithm::AesGcm(16),
            false,
            true,
            false,
        )
        .expect("enc");
    let attacked = xml.replace(
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
        "http://www.w3.org/2001/04/xmlenc#rsa-1_5",
    );
    assert!(matches!(
        validate(&attacked, &[private]),
        Err(Error::Unsupported(_))
    ));
}
