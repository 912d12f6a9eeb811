//! Interop with independent XML-DSig / SAML implementations, installed by `.ci/saml.sh`:
//! - the Debian `xmlsec1` tool (libxmlsec1/OpenSSL) signs Responses that we validate, and
//!   verifies our signed AuthnRequests and Responses;
//! - Python `signxml` (lxml) does the same with Exclusive C14N, C14N 1.0 and C14N 1.1 and
//!   RSA/ECDSA signature methods;
//! - Python `pysaml2` acts as an IdP (see `interop/pysaml2_idp.py`): its Responses validate,
//!   and it accepts our signed AuthnRequests (both bindings) and our SP metadata; Single Logout
//!   both ways over both bindings is in `interop/logout.rs`;
//! - an XML Encryption 1.1 peer on Python `cryptography` (`interop/xmlenc_peer.py`) encrypts
//!   assertions and NameIDs that we decrypt, and decrypts ours (`interop/xmlenc.rs`).
//!
//! A missing peer prints a skip line, unless `IDFORGE_INTEROP=require` (CI), then it fails.

mod common;
#[path = "interop/logout.rs"]
mod logout_peer;
#[path = "interop/xmlenc.rs"]
mod xmlenc_peer;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::saml::*;
use idforge_jose::crypto::{self, EcCurve};
use idforge_saml_sp::dsig::SignatureAlgorithm;
use idforge_saml_sp::response::{validate_response, RequestCheck};
use idforge_saml_sp::testkit::{ResponseSpec, TestIdp};
use idforge_saml_sp::Error;

fn require() -> bool {
    std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require")
}

fn skip(test: &str, why: &str) {
    assert!(!require(), "{test}: IDFORGE_INTEROP=require but {why}");
    println!("SKIP {test}: {why} (run .ci/saml.sh)");
}

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/peers"))
}

fn xmlsec1() -> Option<&'static str> {
    Command::new("xmlsec1")
        .arg("--version")
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|_| "xmlsec1")
}

fn python_has(module: &str) -> bool {
    Command::new("python3")
        .env("PYTHONPATH", peers_dir().join("python"))
        .args(["-c", &format!("import {module}")])
        .output()
        .is_ok_and(|o| o.status.success())
}

struct Tmp(PathBuf);
impl Tmp {
    fn new(name: &str) -> Self {
        let p = std::env::temp_dir().join(format!(
            "idforge-saml-interop-{name}-{}",
            std::process::id()
        ));
        std::fs::create_dir_all(&p).expect("mkdir");
        Tmp(p)
    }
    fn write(&self, name: &str, data: impl AsRef<[u8]>) -> String {
        let p = self.0.join(name);
        std::fs::write(&p, data).expect("write");
        p.display().to_string()
    }
    fn read(&self, name: &str) -> String {
        std::fs::read_to_string(self.0.join(name)).expect("read")
    }
}
impl Drop for Tmp {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn run(cmd: &mut Command) -> String {
    let out = cmd.output().expect("spawn peer");
    assert!(
        out.status.success(),
        "{cmd:?} failed:\n{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn ec_idp() -> TestIdp {
    let (x, y, d) = crypto::ec_generate(EcCurve::P256).expect("ec");
    let key = crypto::ec_private(EcCurve::P256, &x, &y, &d).expect("key");
    TestIdp::with_key(IDP, key, SignatureAlgorithm::EcdsaSha256).expect("idp")
}

fn write_keys(t: &Tmp, signer: &TestIdp) -> (String, String) {
    let key = t.write(
        "key.pem",
        crypto::private_key_to_pem(&signer.key).expect("pem"),
    );
    let cert = t.write("cert.pem", signer.certificate_pem());
    (key, cert)
}

fn validate_with(
    xml: &str,
    signer: &TestIdp,
) -> idforge_saml_sp::Result<idforge_saml_sp::response::ValidatedResponse> {
    validate_response(
        xml.as_bytes(),
        &sp(),
        &signer.trusted().expect("trusted"),
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
}

const C14N: [(&str, &str); 3] = [
    ("exc", "http://www.w3.org/2001/10/xml-exc-c14n#"),
    ("c14n10", "http://www.w3.org/TR/2001/REC-xml-c14n-20010315"),
    ("c14n11", "http://www.w3.org/2006/12/xml-c14n11"),
];

/// (signature method name, URI, digest name, digest URI, EC key?)
const ALGS: [(&str, &str, &str, &str, bool); 4] = [
    (
        "rsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha256",
        "sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        false,
    ),
    (
        "rsa-sha512",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha512",
        "sha512",
        "http://www.w3.org/2001/04/xmlenc#sha512",
        false,
    ),
    (
        "rsa-sha384",
        "http://www.w3.org/2001/04/xmldsig-more#rsa-sha384",
        "sha384",
        "http://www.w3.org/2001/04/xmldsig-more#sha384",
        false,
    ),
    (
        "ecdsa-sha256",
        "http://www.w3.org/2001/04/xmldsig-more#ecdsa-sha256",
        "sha256",
        "http://www.w3.org/2001/04/xmlenc#sha256",
        true,
    ),
];

fn template(c14n: &str, sig: &str, digest: &str, id: &str) -> String {
    format!(
        concat!(
            "<ds:Signature xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><ds:SignedInfo>",
            "<ds:CanonicalizationMethod Algorithm=\"{c}\"/><ds:SignatureMethod Algorithm=\"{s}\"/>",
            "<ds:Reference URI=\"#{id}\"><ds:Transforms>",
            "<ds:Transform Algorithm=\"http://www.w3.org/2000/09/xmldsig#enveloped-signature\"/>",
            "<ds:Transform Algorithm=\"{c}\"/></ds:Transforms><ds:DigestMethod Algorithm=\"{d}\"/>",
            "<ds:DigestValue/></ds:Reference></ds:SignedInfo><ds:SignatureValue/>",
            "<ds:KeyInfo><ds:X509Data/></ds:KeyInfo></ds:Signature>"
        ),
        c = c14n,
        s = sig,
        d = digest,
        id = id
    )
}

#[test]
fn xmlsec1_signed_responses_validate() {
    let Some(x) = xmlsec1() else {
        return skip("xmlsec1_signed_responses_validate", "xmlsec1 not found");
    };
    let rsa = idp();
    let ec = ec_idp();
    let mut cases = 0;
    for (c14n_name, c14n) in C14N {
        for (sig_name, sig, _, digest, is_ec) in ALGS {
            for sign_response in [false, true] {
                let signer = if is_ec { &ec } else { rsa };
                let t = Tmp::new(&format!("xmlsec-{c14n_name}-{sig_name}-{sign_response}"));
                let (key, cert) = write_keys(&t, signer);
                let s = ResponseSpec::new(&sp(), Some("_req1"), now());
                let xml = s.to_xml(IDP);
                let (id, anchor, tag) = if sign_response {
                    (
                        &s.response_id,
                        "</saml:Issuer><samlp:Status>",
                        "urn:oasis:names:tc:SAML:2.0:protocol:Response",
                    )
                } else {
                    (
                        &s.assertion_id,
                        "</saml:Issuer><saml:Subject>",
                        "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
                    )
                };
                let tmpl = xml.replacen(
                    anchor,
                    &anchor.replacen(
                        "</saml:Issuer>",
                        &format!("</saml:Issuer>{}", template(c14n, sig, digest, id)),
                        1,
                    ),
                    1,
                );
                let input = t.write("tmpl.xml", &tmpl);
                let output = t.0.join("signed.xml").display().to_string();
                run(Command::new(x).args([
                    "--sign",
                    "--privkey-pem",
                    &format!("{key},{cert}"),
                    "--id-attr:ID",
                    tag,
                    "--output",
                    &output,
                    &input,
                ]));
                let signed = t.read("signed.xml");
                let v = validate_with(&signed, signer).unwrap_or_else(|e| {
                    panic!("xmlsec1 {c14n_name} {sig_name} response={sign_response}: {e}")
                });
                assert_eq!(
                    v.assertion.name_id.expect("name id").value,
                    "alice@example.com"
                );
                assert_eq!(v.assertion.signed.response, sign_response);
                // Mutating the peer's output is caught.
                let bad = signed.replace(
                    "alice@example.com</saml:NameID>",
                    "alicf@example.com</saml:NameID>",
                );
                assert!(matches!(
                    validate_with(&bad, signer),
                    Err(Error::SignatureInvalid(_))
                ));
                cases += 1;
            }
        }
    }
    println!("xmlsec1: {cases} signed responses validated");
}

#[test]
fn xmlsec1_verifies_our_signatures() {
    let Some(x) = xmlsec1() else {
        return skip("xmlsec1_verifies_our_signatures", "xmlsec1 not found");
    };
    for signer in [idp().clone(), ec_idp()] {
        let t = Tmp::new(&format!("xmlsec-verify-{:?}", signer.algorithm));
        let (_, cert) = write_keys(&t, &signer);
        // Our signed Response (assertion and response signed).
        let s = ResponseSpec::new(&sp(), Some("_req1"), now());
        let signed = signer.signed_response(&s, true, false).expect("sign");
        let f = t.write("resp.xml", &signed);
        run(Command::new(x).args([
            "--verify",
            "--pubkey-cert-pem",
            &cert,
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:assertion:Assertion",
            &f,
        ]));
        // Our signed AuthnRequest (POST binding XML).
        let req =
            idforge_saml_sp::authn::AuthnRequest::new(&sp(), "https://idp.example.org/sso", now())
                .expect("req");
        let s2 = idforge_saml_sp::binding::SpSigner {
            key: signer.key.clone(),
            certificate: Some(signer.certificate.clone()),
            algorithm: signer.algorithm,
        };
        let f = t.write("authn.xml", req.to_signed_xml(&s2).expect("sign"));
        run(Command::new(x).args([
            "--verify",
            "--pubkey-cert-pem",
            &cert,
            "--id-attr:ID",
            "urn:oasis:names:tc:SAML:2.0:protocol:AuthnRequest",
            &f,
        ]));
    }
}

fn signxml(args: &[&str]) -> String {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/signxml_peer.py");
    run(Command::new("python3")
        .env("PYTHONPATH", peers_dir().join("python"))
        .arg(script)
        .args(args))
}

#[test]
fn signxml_signed_responses_validate() {
    if !python_has("signxml") {
        return skip(
            "signxml_signed_responses_validate",
            "python signxml not installed",
        );
    }
    let rsa = idp();
    let ec = ec_idp();
    let mut cases = 0;
    for (c14n_name, _) in C14N {
        for (sig_name, _, digest_name, _, is_ec) in ALGS {
            let signer = if is_ec { &ec } else { rsa };
            let t = Tmp::new(&format!("signxml-{c14n_name}-{sig_name}"));
            let (key, cert) = write_keys(&t, signer);
            let s = ResponseSpec::new(&sp(), Some("_req1"), now());
            let input = t.write("in.xml", s.to_xml(IDP));
            let out = t.0.join("out.xml").display().to_string();
            signxml(&[
                "sign",
                &input,
                &out,
                &key,
                &cert,
                &s.assertion_id,
                c14n_name,
                sig_name,
                digest_name,
            ]);
            let signed = t.read("out.xml");
            let v = validate_with(&signed, signer)
                .unwrap_or_else(|e| panic!("signxml {c14n_name} {sig_name}: {e}"));
            assert!(v.assertion.signed.assertion);
            let bad = signed.replace("<saml:AttributeValue>admins", "<saml:AttributeValue>root");
            assert!(matches!(
                validate_with(&bad, signer),
                Err(Error::SignatureInvalid(_))
            ));
            cases += 1;
        }
    }
    println!("signxml: {cases} signed responses validated");
}

#[test]
fn signxml_verifies_our_signatures() {
    if !python_has("signxml") {
        return skip(
            "signxml_verifies_our_signatures",
            "python signxml not installed",
        );
    }
    for signer in [idp().clone(), ec_idp()] {
        let t = Tmp::new(&format!("signxml-verify-{:?}", signer.algorithm));
        let (_, cert) = write_keys(&t, &signer);
        let s = ResponseSpec::new(&sp(), Some("_req1"), now());
        let f = t.write(
            "resp.xml",
            signer.signed_response(&s, false, true).expect("sign"),
        );
        assert_eq!(signxml(&["verify", &f, &cert, "Response"]).trim(), "OK");
        let req =
            idforge_saml_sp::authn::AuthnRequest::new(&sp(), "https://idp.example.org/sso", now())
                .expect("req");
        let s2 = idforge_saml_sp::binding::SpSigner {
            key: signer.key.clone(),
            certificate: Some(signer.certificate.clone()),
            algorithm: signer.algorithm,
        };
        let f = t.write("authn.xml", req.to_signed_xml(&s2).expect("sign"));
        assert_eq!(signxml(&["verify", &f, &cert, "AuthnRequest"]).trim(), "OK");
    }
}

fn pysaml2(t: &Tmp, args: &[&str]) -> std::process::Output {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/pysaml2_idp.py");
    Command::new("python3")
        .env("PYTHONPATH", peers_dir().join("python"))
        .env("PYTHONWARNINGS", "ignore")
        .arg(script)
        .arg(args.first().copied().unwrap_or(""))
        .arg(&t.0)
        .args(args.get(1..).unwrap_or_default())
        .output()
        .expect("spawn python3")
}

fn pysaml2_ok(t: &Tmp, args: &[&str]) -> String {
    let out = pysaml2(t, args);
    assert!(
        out.status.success(),
        "pysaml2 {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Our SP's Single Logout endpoint (both bindings, in the SP metadata).
const SP_SLO: &str = "https://sp.example.com/slo";

/// An SP signing key and our SP metadata (with its certificate and SLO endpoints) for pysaml2.
fn sp_side(t: &Tmp) -> (idforge_saml_sp::binding::SpSigner, String) {
    let sp_key = TestIdp::generate_rsa(SP).expect("sp key");
    let md = idforge_saml_sp::metadata::SpMetadata {
        entity_id: SP.into(),
        acs_urls: vec![ACS.into()],
        slo: [
            idforge_saml_sp::authn::BINDING_REDIRECT,
            idforge_saml_sp::authn::BINDING_POST,
        ]
        .iter()
        .map(|b| idforge_saml_sp::metadata::Endpoint {
            binding: (*b).into(),
            location: SP_SLO.into(),
            response_location: None,
        })
        .collect(),
        signing_certificate: Some(sp_key.certificate.clone()),
        authn_requests_signed: true,
        want_assertions_signed: true,
        ..Default::default()
    };
    let path = t.write("sp-metadata.xml", md.to_xml());
    (
        idforge_saml_sp::binding::SpSigner {
            key: sp_key.key.clone(),
            certificate: Some(sp_key.certificate.clone()),
            algorithm: SignatureAlgorithm::RsaSha256,
        },
        path,
    )
}

#[test]
fn pysaml2_idp_responses_validate() {
    if !python_has("saml2") || xmlsec1().is_none() {
        return skip(
            "pysaml2_idp_responses_validate",
            "python pysaml2 or xmlsec1 not installed",
        );
    }
    let t = Tmp::new("pysaml2-response");
    let (key, cert) = write_keys(&t, idp());
    let (_, sp_md) = sp_side(&t);
    for sign_response in ["0", "1"] {
        let xml = pysaml2_ok(
            &t,
            &[
                "response",
                &key,
                &cert,
                &sp_md,
                SP,
                "_req1",
                ACS,
                sign_response,
                "sha256",
            ],
        );
        let v = validate_with(&xml, idp()).unwrap_or_else(|e| {
            panic!("pysaml2 response (sign_response={sign_response}): {e}\n{xml}")
        });
        let a = v.assertion;
        assert!(a.signed.assertion);
        assert_eq!(a.signed.response, sign_response == "1");
        assert_eq!(
            a.name_id.as_ref().map(|n| n.value.as_str()),
            Some("alice-persistent-id")
        );
        let mail = a
            .attributes
            .iter()
            .find(|x| x.friendly_name.as_deref() == Some("mail"))
            .expect("mail");
        assert_eq!(mail.values, vec!["alice@example.com"]);
        let aff = a
            .attributes
            .iter()
            .find(|x| x.friendly_name.as_deref() == Some("eduPersonAffiliation"))
            .expect("aff");
        assert_eq!(aff.values, vec!["staff", "member"]);
        assert!(a.session_index.is_some());
        // Replayed into a response for another request: refused.
        assert!(matches!(
            validate_response(
                xml.as_bytes(),
                &sp(),
                &idp().trusted().expect("t"),
                &RequestCheck::Exact("_other".into()),
                now()
            ),
            Err(Error::InResponseToMismatch(_))
        ));
    }
    // Encrypted (and signed, then Response-signed) assertion for the SP's encryption cert.
    let sp_enc = TestIdp::generate_rsa(SP).expect("sp enc key");
    let enc_cert = t.write("sp-enc.pem", sp_enc.certificate_pem());
    for sign_response in ["0", "1"] {
        let xml = pysaml2_ok(
            &t,
            &[
                "response",
                &key,
                &cert,
                &sp_md,
                SP,
                "_req1",
                ACS,
                sign_response,
                "sha256",
                &enc_cert,
            ],
        );
        assert!(xml.contains("EncryptedAssertion") && !xml.contains("alice-persistent-id"));
        assert!(
            matches!(validate_with(&xml, idp()), Err(Error::Unsupported(_))),
            "needs a decryption key"
        );
        let v = idforge_saml_sp::response::validate_response_decrypting(
            xml.as_bytes(),
            &sp(),
            &idp().trusted().expect("t"),
            std::slice::from_ref(&sp_enc.key),
            &RequestCheck::Exact("_req1".into()),
            now(),
        )
        .unwrap_or_else(|e| panic!("pysaml2 encrypted response: {e}\n{xml}"));
        assert_eq!(
            v.assertion.name_id.as_ref().map(|n| n.value.as_str()),
            Some("alice-persistent-id")
        );
        assert_eq!(v.assertion.signed.response, sign_response == "1");
    }
    // pysaml2's defaults are RSA-SHA1/SHA-1: refused unless the SP opts in.
    let xml = pysaml2_ok(
        &t,
        &[
            "response", &key, &cert, &sp_md, SP, "_req1", ACS, "0", "sha1",
        ],
    );
    assert!(matches!(
        validate_with(&xml, idp()),
        Err(Error::Unsupported(_))
    ));
    let mut cfg = sp();
    cfg.allow_sha1 = true;
    validate_response(
        xml.as_bytes(),
        &cfg,
        &idp().trusted().expect("t"),
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
    .expect("SHA-1 accepted when opted in");
}

#[test]
fn pysaml2_accepts_our_authn_requests_and_metadata() {
    if !python_has("saml2") || xmlsec1().is_none() {
        return skip(
            "pysaml2_accepts_our_authn_requests_and_metadata",
            "python pysaml2 or xmlsec1 not installed",
        );
    }
    let t = Tmp::new("pysaml2-authn");
    let (key, cert) = write_keys(&t, idp());
    let (signer, sp_md) = sp_side(&t);
    let mut req =
        idforge_saml_sp::authn::AuthnRequest::new(&sp(), "https://idp.example.org/sso", now())
            .expect("req");
    req.force_authn = true;
    req.name_id_policy = Some(idforge_saml_sp::authn::NameIdPolicy {
        format: Some("urn:oasis:names:tc:SAML:2.0:nameid-format:persistent".into()),
        allow_create: Some(true),
        sp_name_qualifier: None,
    });

    // HTTP-Redirect, signature over the query string.
    let url = req
        .redirect_url(Some("/after-login"), Some(&signer))
        .expect("url");
    let query = url.split_once('?').expect("query").1;
    let out = pysaml2_ok(&t, &["authn-redirect", &key, &cert, &sp_md, query]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["id"], req.id.as_str());
    assert_eq!(v["issuer"], SP);
    assert_eq!(v["acs"], ACS);
    assert_eq!(v["force_authn"], "true");
    // A tampered RelayState breaks pysaml2's check of our query signature.
    let bad = query.replace("after-login", "evil");
    assert!(!pysaml2(&t, &["authn-redirect", &key, &cert, &sp_md, &bad])
        .status
        .success());

    // HTTP-POST, enveloped XML signature.
    use base64::Engine as _;
    let b64 = base64::engine::general_purpose::STANDARD
        .encode(req.to_signed_xml(&signer).expect("signed"));
    let out = pysaml2_ok(&t, &["authn-post", &key, &cert, &sp_md, &b64]);
    let v: serde_json::Value = serde_json::from_str(out.trim()).expect("json");
    assert_eq!(v["id"], req.id.as_str());
    assert_eq!(
        v["name_id_format"],
        "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent"
    );
    // Unsigned POST requests are refused (want_authn_requests_signed).
    let unsigned = base64::engine::general_purpose::STANDARD.encode(req.to_xml());
    assert!(
        !pysaml2(&t, &["authn-post", &key, &cert, &sp_md, &unsigned])
            .status
            .success()
    );
}

/// xmlsec1 encrypts the (our-signed) assertion for the SP's certificate; we decrypt and validate.
#[test]
fn xmlsec1_encrypted_assertions_decrypt() {
    let Some(x) = xmlsec1() else {
        return skip("xmlsec1_encrypted_assertions_decrypt", "xmlsec1 not found");
    };
    let sp_keys = TestIdp::generate_rsa(SP).expect("sp key");
    let t = Tmp::new("xmlsec-enc");
    let sp_cert = t.write("sp-cert.pem", sp_keys.certificate_pem());
    let mut cases = 0;
    for (content, session) in [
        ("http://www.w3.org/2009/xmlenc11#aes128-gcm", "aes-128"),
        ("http://www.w3.org/2009/xmlenc11#aes256-gcm", "aes-256"),
        ("http://www.w3.org/2001/04/xmlenc#aes128-cbc", "aes-128"),
        ("http://www.w3.org/2001/04/xmlenc#aes256-cbc", "aes-256"),
    ] {
        // xmlsec1 1.2 supports only SHA-1 for OAEP: default and explicit DigestMethod forms.
        for oaep_digest in [
            "",
            "<ds:DigestMethod Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/>",
        ] {
            let s = ResponseSpec::new(&sp(), Some("_req1"), now());
            let signed = idp().signed_response(&s, true, false).expect("sign");
            let data = t.write("resp.xml", &signed);
            let tmpl = t.write(
                "tmpl.xml",
                format!(
                    concat!(
                        "<xenc:EncryptedData xmlns:xenc=\"http://www.w3.org/2001/04/xmlenc#\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" ",
                        "Type=\"http://www.w3.org/2001/04/xmlenc#Element\"><xenc:EncryptionMethod Algorithm=\"{c}\"/>",
                        "<ds:KeyInfo><xenc:EncryptedKey><xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\">{d}</xenc:EncryptionMethod>",
                        "<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>",
                        "<xenc:CipherData><xenc:CipherValue/></xenc:CipherData></xenc:EncryptedData>"
                    ),
                    c = content,
                    d = oaep_digest
                ),
            );
            let out = t.0.join("enc.xml").display().to_string();
            run(Command::new(x).args([
                "--encrypt",
                "--pubkey-cert-pem",
                &sp_cert,
                "--session-key",
                session,
                "--xml-data",
                &data,
                "--node-xpath",
                "//*[local-name()='Assertion']",
                "--output",
                &out,
                &tmpl,
            ]));
            let enc = t.read("enc.xml");
            let start = enc.find("<xenc:EncryptedData").expect("encrypted data");
            let end =
                enc.find("</xenc:EncryptedData>").expect("end") + "</xenc:EncryptedData>".len();
            let wrapped = format!(
                "{}<saml:EncryptedAssertion>{}</saml:EncryptedAssertion>{}",
                &enc[..start],
                &enc[start..end],
                &enc[end..]
            );
            assert!(!wrapped.contains("alice@example.com"));
            let v = idforge_saml_sp::response::validate_response_decrypting(
                wrapped.as_bytes(),
                &sp(),
                &idp().trusted().expect("t"),
                std::slice::from_ref(&sp_keys.key),
                &RequestCheck::Exact("_req1".into()),
                now(),
            )
            .unwrap_or_else(|e| panic!("xmlsec1 {content} {oaep_digest}: {e}"));
            assert!(v.assertion.signed.assertion);
            assert_eq!(
                v.assertion.name_id.expect("name id").value,
                "alice@example.com"
            );
            cases += 1;
        }
    }
    println!("xmlsec1: {cases} encrypted assertions decrypted and validated");
}
