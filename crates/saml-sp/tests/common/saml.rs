//! Shared SAML fixtures: one RSA IdP per test binary, SP config, helpers to cut XML text.
#![allow(dead_code, unreachable_pub)]

use std::sync::OnceLock;

use idforge_saml_sp::response::{validate_response, RequestCheck, SpConfig, ValidatedResponse};
use idforge_saml_sp::testkit::{ResponseSpec, TestIdp};
use idforge_saml_sp::Result;
use time::OffsetDateTime;

pub const SP: &str = "https://sp.example.com/metadata";
pub const ACS: &str = "https://sp.example.com/acs";
pub const IDP: &str = "https://idp.example.org/idp";

pub fn idp() -> &'static TestIdp {
    static IDP_: OnceLock<TestIdp> = OnceLock::new();
    IDP_.get_or_init(|| TestIdp::generate_rsa(IDP).expect("idp"))
}

pub fn attacker() -> &'static TestIdp {
    static A: OnceLock<TestIdp> = OnceLock::new();
    A.get_or_init(|| TestIdp::generate_rsa(IDP).expect("attacker"))
}

pub fn sp() -> SpConfig {
    SpConfig::new(SP, ACS)
}

pub fn now() -> OffsetDateTime {
    OffsetDateTime::now_utc()
}

pub fn spec() -> ResponseSpec {
    ResponseSpec::new(&sp(), Some("_req1"), now())
}

pub fn check(xml: &str) -> Result<ValidatedResponse> {
    check_with(xml, &sp())
}

pub fn check_with(xml: &str, cfg: &SpConfig) -> Result<ValidatedResponse> {
    validate_response(
        xml.as_bytes(),
        cfg,
        &idp().trusted().expect("trusted"),
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
}

/// The byte range of the first `<tag` ... matching `</tag>` (no nesting of the same tag).
pub fn element_range(xml: &str, tag: &str) -> (usize, usize) {
    let start = xml.find(&format!("<{tag}")).expect("start tag");
    let close = format!("</{tag}>");
    let end = xml[start..].find(&close).expect("end tag") + start + close.len();
    (start, end)
}

pub fn element(xml: &str, tag: &str) -> String {
    let (s, e) = element_range(xml, tag);
    xml[s..e].to_owned()
}

pub fn remove(xml: &str, tag: &str) -> String {
    let (s, e) = element_range(xml, tag);
    format!("{}{}", &xml[..s], &xml[e..])
}
