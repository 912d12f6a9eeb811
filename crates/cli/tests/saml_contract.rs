//! The `idforge saml` contract of issue 5: verify-response / authn-request / sp-metadata, exit
//! codes (0 success; 1 rejected with one `error: <code>: ...` line on stderr and nothing on
//! stdout; 2 usage error).

mod common;
use common::{fails_with, idforge, ok_text as ok};
use std::path::PathBuf;

use base64::Engine as _;
use idforge_saml_sp::binding::decode_redirect;
use idforge_saml_sp::response::{SpConfig, TrustedKey};
use idforge_saml_sp::testkit::{ResponseSpec, TestIdp};
use serde_json::Value;
use time::OffsetDateTime;

const SP: &str = "https://sp.example.com/metadata";
const ACS: &str = "https://sp.example.com/acs";
const IDP: &str = "https://idp.example.org/idp";

struct Fixture {
    dir: PathBuf,
    idp: TestIdp,
}

impl Fixture {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("idforge-saml-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("mkdir");
        let idp = TestIdp::generate_rsa(IDP).expect("idp");
        std::fs::write(dir.join("idp.pem"), idp.certificate_pem()).expect("write cert");
        let md = idp.metadata_xml("https://idp.example.org/sso", &[], None, Some("PT1H"));
        std::fs::write(dir.join("idp-metadata.xml"), md).expect("write metadata");
        Fixture { dir, idp }
    }
    fn path(&self, f: &str) -> String {
        self.dir.join(f).display().to_string()
    }
    fn response(
        &self,
        edit: impl FnOnce(&mut ResponseSpec),
        assertion: bool,
        response: bool,
    ) -> String {
        let mut s = ResponseSpec::new(
            &SpConfig::new(SP, ACS),
            Some("_req1"),
            OffsetDateTime::now_utc(),
        );
        edit(&mut s);
        self.idp
            .signed_response(&s, assertion, response)
            .expect("sign")
    }
}

impl Drop for Fixture {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn verify_args(cert: &str) -> Vec<&str> {
    vec![
        "saml",
        "verify-response",
        "--idp-cert",
        cert,
        "--sp-entity-id",
        SP,
        "--acs-url",
        ACS,
    ]
}

#[test]
fn verify_response_prints_the_assertion_as_json() {
    let f = Fixture::new("ok");
    let cert = f.path("idp.pem");
    let xml = f.response(|_| {}, true, false);
    let mut args = verify_args(&cert);
    args.extend(["--request-id", "_req1"]);
    // Raw XML and the base64 form value both work.
    for input in [
        xml.clone(),
        base64::engine::general_purpose::STANDARD.encode(&xml),
    ] {
        let out: Value = serde_json::from_str(&ok(&args, input.as_bytes())).expect("json");
        assert_eq!(out["name_id"], "alice@example.com");
        assert!(out["session_index"]
            .as_str()
            .expect("session")
            .starts_with("_s"));
        assert_eq!(
            out["attributes"]["groups"],
            serde_json::json!(["admins", "staff"])
        );
        assert_eq!(
            out["attributes"]["mail"],
            serde_json::json!(["alice@example.com"])
        );
        assert_eq!(out["issuer"], IDP);
    }
    // The same through metadata.
    let md = f.path("idp-metadata.xml");
    let out = ok(
        &[
            "saml",
            "verify-response",
            "--idp-metadata",
            &md,
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--request-id",
            "_req1",
        ],
        xml.as_bytes(),
    );
    assert!(out.contains("\"name_id\": \"alice@example.com\""));
}

#[test]
fn verify_response_rejections_are_one_line() {
    let f = Fixture::new("reject");
    let cert = f.path("idp.pem");
    let mut args = verify_args(&cert);
    args.extend(["--request-id", "_req1"]);
    let wrong_aud = f.response(|s| s.audience = "https://other".into(), true, false);
    fails_with(&args, wrong_aud.as_bytes(), "wrong_audience");
    let tampered = f
        .response(|_| {}, true, false)
        .replace("alice@", "mallory@");
    fails_with(&args, tampered.as_bytes(), "signature_invalid");
    fails_with(&args, b"<not xml", "malformed_xml");
    fails_with(&args, b"!!!", "binding");
    let response_only = f.response(|_| {}, false, true);
    let mut strict = args.clone();
    strict.push("--want-assertions-signed");
    fails_with(&strict, response_only.as_bytes(), "signature_missing");
    ok(&args, response_only.as_bytes());
    let mut later = args.clone();
    later.extend(["--now", "2099-01-01T00:00:00Z"]);
    fails_with(
        &later,
        f.response(|_| {}, true, false).as_bytes(),
        "expired",
    );
    // Unsolicited.
    let unsolicited = f.response(|s| s.in_response_to = None, true, false);
    let plain = verify_args(&cert);
    fails_with(&plain, unsolicited.as_bytes(), "unsolicited_not_allowed");
    let mut allow = plain.clone();
    allow.push("--allow-unsolicited");
    ok(&allow, unsolicited.as_bytes());
    // A solicited response with no --request-id: we are not waiting for it.
    fails_with(
        &plain,
        f.response(|_| {}, true, false).as_bytes(),
        "in_response_to_mismatch",
    );
}

#[test]
fn usage_errors_exit_2() {
    let out = idforge(&["saml", "verify-response", "--acs-url", ACS], b"");
    assert_eq!(out.status.code(), Some(2));
    let out = idforge(&["saml", "sp-metadata", "--sp-entity-id", SP], b"");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn authn_request_redirect_is_signed_over_the_query() {
    let f = Fixture::new("authn");
    let key = f.path("sp-key.pem");
    std::fs::write(
        &key,
        idforge_jose::crypto::private_key_to_pem(&f.idp.key).expect("pem"),
    )
    .expect("write key");
    let out = ok(
        &[
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--idp-sso-url",
            "https://idp.example.org/sso",
            "--relay-state",
            "/home",
            "--sign-key",
            &key,
            "--force-authn",
            "--name-id-format",
            "urn:oasis:names:tc:SAML:2.0:nameid-format:persistent",
            "--json",
        ],
        b"",
    );
    let v: Value = serde_json::from_str(&out).expect("json");
    let url = v["url"].as_str().expect("url");
    let id = v["id"].as_str().expect("id");
    let query = url.split_once('?').expect("query").1;
    let msg = decode_redirect(query, &Default::default(), false).expect("decode");
    let cert = TrustedKey::from_certificate_der(&f.idp.certificate).expect("cert");
    msg.verify(&[cert.key]).expect("query signature verifies");
    let xml = String::from_utf8(msg.xml).expect("utf8");
    assert!(xml.contains(&format!("ID=\"{id}\"")));
    assert!(xml.contains("ForceAuthn=\"true\""));
    assert_eq!(msg.relay_state.as_deref(), Some("/home"));

    // POST from metadata.
    let md = f.path("idp-metadata.xml");
    let html = ok(
        &[
            "saml",
            "authn-request",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--idp-metadata",
            &md,
            "--binding",
            "post",
            "--sign-key",
            &key,
        ],
        b"",
    );
    assert!(html.contains("<form method=\"post\" action=\"https://idp.example.org/sso\">"));
    assert!(html.contains("name=\"SAMLRequest\""));
}

#[test]
fn sp_metadata() {
    let f = Fixture::new("md");
    let cert = f.path("idp.pem");
    let xml = ok(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--signing-cert",
            &cert,
            "--authn-requests-signed",
            "--want-assertions-signed",
            "--slo-url",
            "https://sp.example.com/slo",
        ],
        b"",
    );
    assert!(xml.starts_with("<md:EntityDescriptor"));
    assert!(xml.contains(&format!("entityID=\"{SP}\"")));
    assert!(xml.contains(&format!(
        "Location=\"{ACS}\" index=\"0\" isDefault=\"true\""
    )));
    assert!(xml.contains("AuthnRequestsSigned=\"true\" WantAssertionsSigned=\"true\""));
    assert!(xml.contains("<md:KeyDescriptor use=\"signing\">"));
    fails_with(
        &[
            "saml",
            "sp-metadata",
            "--sp-entity-id",
            SP,
            "--acs-url",
            ACS,
            "--signing-cert",
            "/nonexistent.pem",
        ],
        b"",
        "io_error",
    );
}
