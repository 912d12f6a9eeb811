//! A SAML 2.0 IdP for service providers' test suites: it signs Responses (assertion, response
//! or both), and builds every wrapping, signature and condition attack of idforge-saml-sp's
//! attack suite ([`SamlAttack`]), so an SP's tests can prove it rejects each one.
//!
//! Built on [`idforge_saml_sp::testkit::TestIdp`] and [`ResponseSpec`] (the same code behind
//! `idforge saml test-idp`). With the fixed key ([`TestSamlIdp::fixed`]) and a seed, a
//! Response is byte-identical run to run: the IDs come from a seeded RNG, RSA PKCS#1 v1.5
//! signatures are deterministic, and the certificate is a fixed one.
//!
//! The fixed keys in this module are published test material: never trust them anywhere.

use std::sync::Mutex;

use base64::Engine as _;
use idforge_jose::crypto;
use idforge_saml_sp::dsig::{sign_enveloped, DigestAlgorithm, SignatureAlgorithm, SigningOptions};
use idforge_saml_sp::response::{IdentityProvider, SpConfig};
use idforge_saml_sp::{Error, Result};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha20Rng;
use time::{Duration, OffsetDateTime};

pub use idforge_saml_sp::testkit::{ResponseSpec, TestIdp};

/// The fixed IdP signing key (RSA-2048, PKCS#8). Test material: published, never trust it.
const IDP_KEY_PEM: &str = include_str!("saml/idp-key.pem");
/// The fixed IdP's self-signed certificate.
const IDP_CERT_PEM: &str = include_str!("saml/idp-cert.pem");
/// The attacker's key for [`SamlAttack::UntrustedKey`] (RSA-2048), and its certificate.
const ATTACKER_KEY_PEM: &str = include_str!("saml/attacker-key.pem");
const ATTACKER_CERT_PEM: &str = include_str!("saml/attacker-cert.pem");

/// Which elements the IdP signs (SAML Profiles §4.1.3.5: the assertion, the Response, or both
/// must be signed when the Response travels over HTTP-POST).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
pub enum Signing {
    /// Only the `Assertion` (the common IdP default).
    Assertion,
    /// Only the `Response`.
    Response,
    /// The `Assertion` first, then the `Response` over it.
    Both,
    /// Nothing (an SP must refuse it: Profiles §4.1.3.5).
    Unsigned,
}

impl Signing {
    fn parts(self) -> (bool, bool) {
        match self {
            Signing::Assertion => (true, false),
            Signing::Response => (false, true),
            Signing::Both => (true, true),
            Signing::Unsigned => (false, false),
        }
    }
}

/// What a correct SP does with an attack.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expected {
    /// It refuses the Response.
    Rejected,
    /// It refuses the Response, or accepts it with exactly this NameID (the whole text
    /// content); accepting it with any other NameID (a truncated one) is the vulnerability.
    RejectedOrNameId(&'static str),
}

/// Every attack of idforge-saml-sp's attack suite (`crates/saml-sp/tests/attacks.rs`), as a
/// Response built from a valid one. Each variant's doc names the class and, where one stands
/// for it, the published CVE.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "fuzzing", derive(arbitrary::Arbitrary))]
#[non_exhaustive]
pub enum SamlAttack {
    /// XML Signature Wrapping: the signed assertion moved into `samlp:Extensions`, an evil
    /// unsigned one in its place (CVE-2016-5697 ruby-saml; "On Breaking SAML", USENIX
    /// Security 2012).
    XswAssertionInExtensions,
    /// XSW: an evil assertion with the same `ID` as the signed one, placed before it, so an ID
    /// lookup and the reading code may pick different elements (CVE-2016-5697 class).
    XswClonedAssertionSameId,
    /// XSW: the signed assertion hidden in the Response signature's `ds:Object`, an evil
    /// assertion in the normal position.
    XswAssertionInSignatureObject,
    /// Another element carrying the signed assertion's `ID` (the reference is ambiguous).
    DuplicateId,
    /// An unsigned evil assertion beside the signed one (CVE-2022-41912, crewjam/saml).
    UnsignedAssertionBesideSigned,
    /// The signature removed (CWE-347: unsigned assertions are never accepted).
    SignatureStripped,
    /// The Response's signature moved into the Assertion, where it covers another element
    /// than its parent (CVE-2020-5390, pysaml2).
    SignatureOverOtherElement,
    /// A `Reference URI=""` (whole document), outside the SAML profile (Core §5.4.2).
    WholeDocumentReference,
    /// The signed assertion's `saml:` prefix rebound to another namespace, so it is no longer
    /// a SAML assertion.
    NamespaceConfusion,
    /// `alice@example.com<!---->.evil.com`: the signature covers the canonical
    /// `alice@example.com.evil.com`; reading only the first text node yields `alice@example.com`
    /// (CVE-2017-11427 python-saml, CVE-2017-11428 ruby-saml, CVE-2017-11429 saml2-js,
    /// CVE-2017-11430 OmniAuth-SAML, CVE-2018-0489 Shibboleth).
    CommentInjectionInNameId,
    /// A DOCTYPE with an internal entity before a validly signed Response: parser
    /// differentials (CVE-2025-25291 / CVE-2025-25292, ruby-saml).
    DoctypeEntity,
    /// A duplicated `ID` attribute on the signed assertion (a well-formedness error, not
    /// "first wins" or "last wins").
    DuplicateAttribute,
    /// An external entity in a DOCTYPE (XXE, CVE-2016-10149 pysaml2).
    XxeExternalEntity,
    /// Nested entity expansion ("billion laughs", CWE-776).
    BillionLaughs,
    /// The NameID changed after signing (the digest no longer matches).
    TamperedAfterSigning,
    /// Signed by a key the SP does not trust, that key's certificate in `KeyInfo` (KeyInfo is
    /// never a trust source, CWE-347).
    UntrustedKey,
    /// Signed with RSA-SHA1 and a SHA-1 digest (refused unless the SP opted in).
    Sha1Signature,
    /// `HMACOutputLength` in the `SignatureMethod` (CVE-2009-0217).
    HmacOutputLength,
    /// An XPath transform in the signature's `Transforms` (outside the SAML profile).
    XpathTransform,
    /// Signed by the trusted key but with another entity as `Issuer` (Profiles §4.1.4.2).
    WrongIssuer,
    /// An `Audience` naming another SP (Core §2.5.1.4).
    WrongAudience,
    /// A bearer `Recipient` that is not the SP's ACS URL (Profiles §4.1.4.2).
    WrongRecipient,
    /// A Response `Destination` that is not the SP's ACS URL (Core §3.2.2).
    WrongDestination,
    /// `NotOnOrAfter` an hour in the past (Core §2.5.1.2).
    Expired,
    /// `NotBefore` an hour in the future (Core §2.5.1.2).
    NotYetValid,
    /// `InResponseTo` naming a request the SP did not send (Profiles §4.1.4.3).
    InResponseToMismatch,
    /// The bearer `SubjectConfirmationData/@InResponseTo` differs from the Response's, so a
    /// captured assertion cannot be re-wrapped for another request (Profiles §4.1.4.2).
    BearerInResponseToMismatch,
}

impl SamlAttack {
    /// Every attack, in the order of the suite.
    pub const ALL: &'static [SamlAttack] = &[
        SamlAttack::XswAssertionInExtensions,
        SamlAttack::XswClonedAssertionSameId,
        SamlAttack::XswAssertionInSignatureObject,
        SamlAttack::DuplicateId,
        SamlAttack::UnsignedAssertionBesideSigned,
        SamlAttack::SignatureStripped,
        SamlAttack::SignatureOverOtherElement,
        SamlAttack::WholeDocumentReference,
        SamlAttack::NamespaceConfusion,
        SamlAttack::CommentInjectionInNameId,
        SamlAttack::DoctypeEntity,
        SamlAttack::DuplicateAttribute,
        SamlAttack::XxeExternalEntity,
        SamlAttack::BillionLaughs,
        SamlAttack::TamperedAfterSigning,
        SamlAttack::UntrustedKey,
        SamlAttack::Sha1Signature,
        SamlAttack::HmacOutputLength,
        SamlAttack::XpathTransform,
        SamlAttack::WrongIssuer,
        SamlAttack::WrongAudience,
        SamlAttack::WrongRecipient,
        SamlAttack::WrongDestination,
        SamlAttack::Expired,
        SamlAttack::NotYetValid,
        SamlAttack::InResponseToMismatch,
        SamlAttack::BearerInResponseToMismatch,
    ];

    /// A stable snake_case name (test names, logs).
    pub fn name(self) -> &'static str {
        match self {
            SamlAttack::XswAssertionInExtensions => "xsw_assertion_in_extensions",
            SamlAttack::XswClonedAssertionSameId => "xsw_cloned_assertion_same_id",
            SamlAttack::XswAssertionInSignatureObject => "xsw_assertion_in_signature_object",
            SamlAttack::DuplicateId => "duplicate_id",
            SamlAttack::UnsignedAssertionBesideSigned => "unsigned_assertion_beside_signed",
            SamlAttack::SignatureStripped => "signature_stripped",
            SamlAttack::SignatureOverOtherElement => "signature_over_other_element",
            SamlAttack::WholeDocumentReference => "whole_document_reference",
            SamlAttack::NamespaceConfusion => "namespace_confusion",
            SamlAttack::CommentInjectionInNameId => "comment_injection_in_name_id",
            SamlAttack::DoctypeEntity => "doctype_entity",
            SamlAttack::DuplicateAttribute => "duplicate_attribute",
            SamlAttack::XxeExternalEntity => "xxe_external_entity",
            SamlAttack::BillionLaughs => "billion_laughs",
            SamlAttack::TamperedAfterSigning => "tampered_after_signing",
            SamlAttack::UntrustedKey => "untrusted_key",
            SamlAttack::Sha1Signature => "sha1_signature",
            SamlAttack::HmacOutputLength => "hmac_output_length",
            SamlAttack::XpathTransform => "xpath_transform",
            SamlAttack::WrongIssuer => "wrong_issuer",
            SamlAttack::WrongAudience => "wrong_audience",
            SamlAttack::WrongRecipient => "wrong_recipient",
            SamlAttack::WrongDestination => "wrong_destination",
            SamlAttack::Expired => "expired",
            SamlAttack::NotYetValid => "not_yet_valid",
            SamlAttack::InResponseToMismatch => "in_response_to_mismatch",
            SamlAttack::BearerInResponseToMismatch => "bearer_in_response_to_mismatch",
        }
    }

    /// What a correct SP does with it.
    pub fn expected(self) -> Expected {
        match self {
            SamlAttack::CommentInjectionInNameId => Expected::RejectedOrNameId(INJECTED_NAME_ID),
            _ => Expected::Rejected,
        }
    }
}

impl std::fmt::Display for SamlAttack {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The NameID the comment-injection attack signs (and the only one an SP may read from it).
const INJECTED_NAME_ID: &str = "alice@example.com.evil.com";
/// The NameID of the evil assertions the wrapping attacks insert.
pub const EVIL_NAME_ID: &str = "admin@example.com";

/// A SAML IdP for SP tests: a [`TestIdp`] plus a seeded source of message IDs.
#[derive(Debug)]
pub struct TestSamlIdp {
    idp: TestIdp,
    rng: Mutex<ChaCha20Rng>,
}

impl TestSamlIdp {
    /// The IdP with the fixed (published) RSA-2048 key and certificate, IDs seeded with 0:
    /// Responses are byte-identical run to run for the same inputs.
    pub fn fixed(entity_id: &str) -> Result<Self> {
        Self::fixed_key(entity_id, IDP_KEY_PEM, IDP_CERT_PEM).map(|idp| Self::from_idp(idp, 0))
    }

    /// A fresh RSA-2048 key (see [`TestIdp::generate_rsa`]), IDs seeded with `seed`.
    pub fn generate(entity_id: &str, seed: u64) -> Result<Self> {
        Ok(Self::from_idp(TestIdp::generate_rsa(entity_id)?, seed))
    }

    /// Wraps an existing [`TestIdp`] (any key and algorithm), IDs seeded with `seed`.
    pub fn from_idp(idp: TestIdp, seed: u64) -> Self {
        TestSamlIdp {
            idp,
            rng: Mutex::new(ChaCha20Rng::seed_from_u64(seed)),
        }
    }

    /// The same IdP with its ID sequence restarted from `seed`.
    pub fn with_seed(self, seed: u64) -> Self {
        Self::from_idp(self.idp, seed)
    }

    fn fixed_key(entity_id: &str, key_pem: &str, cert_pem: &str) -> Result<TestIdp> {
        let key = crypto::private_key_from_pem(key_pem.as_bytes())
            .map_err(|e| Error::Key(e.to_string()))?;
        let certificate = crypto::x509_pem_to_der(cert_pem.as_bytes())
            .map_err(|e| Error::Key(e.to_string()))?
            .into_iter()
            .next()
            .ok_or_else(|| Error::Key("no certificate".into()))?;
        Ok(TestIdp {
            entity_id: entity_id.to_owned(),
            key,
            certificate,
            algorithm: SignatureAlgorithm::RsaSha256,
        })
    }

    /// The underlying [`TestIdp`] (metadata, certificate PEM, encrypted responses).
    pub fn idp(&self) -> &TestIdp {
        &self.idp
    }

    /// The IdP entityID.
    pub fn entity_id(&self) -> &str {
        &self.idp.entity_id
    }

    /// What the SP configures to trust this IdP.
    pub fn trusted(&self) -> Result<IdentityProvider> {
        self.idp.trusted()
    }

    /// IdP metadata with an SSO endpoint at `sso_url` (see [`TestIdp::metadata_xml`]).
    pub fn metadata_xml(&self, sso_url: &str) -> String {
        self.idp.metadata_xml(sso_url, &[], None, None)
    }

    fn next_tag(&self) -> String {
        let mut b = [0u8; 8];
        match self.rng.lock() {
            Ok(mut rng) => rng.fill_bytes(&mut b),
            Err(poisoned) => poisoned.into_inner().fill_bytes(&mut b),
        }
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    /// A valid Response content for `sp` at `now` answering `in_response_to` (`None`: an
    /// IdP-initiated one), with IDs from this IdP's seeded sequence. Edit its public fields
    /// (NameID, attributes, times...) before signing.
    pub fn response_spec(
        &self,
        sp: &SpConfig,
        in_response_to: Option<&str>,
        now: OffsetDateTime,
    ) -> ResponseSpec {
        let tag = self.next_tag();
        let mut spec = ResponseSpec::new(sp, in_response_to, now);
        spec.response_id = format!("_r{tag}");
        spec.assertion_id = format!("_a{tag}");
        spec.session_index = format!("_s{tag}");
        spec
    }

    /// The Response XML for `spec`, signed as `signing` says.
    pub fn response(&self, spec: &ResponseSpec, signing: Signing) -> Result<String> {
        let (assertion, response) = signing.parts();
        self.idp.signed_response(spec, assertion, response)
    }

    /// The HTTP-POST `SAMLResponse` form value (base64 of the XML, SAML Bindings §3.5.4).
    pub fn post_value(xml: &str) -> String {
        base64::engine::general_purpose::STANDARD.encode(xml)
    }

    /// A Response built from the valid `spec` with `attack` applied.
    pub fn attack(&self, spec: &ResponseSpec, attack: SamlAttack) -> Result<String> {
        let signed_assertion = || self.response(spec, Signing::Assertion);
        let signed_response = || self.response(spec, Signing::Response);
        let evil = |id: &str| -> Result<String> {
            let mut e = spec.clone();
            e.assertion_id = id.to_owned();
            e.name_id = EVIL_NAME_ID.into();
            element(&e.to_xml(&self.idp.entity_id), "saml:Assertion")
        };
        let with = |f: &dyn Fn(&mut ResponseSpec)| -> Result<String> {
            let mut s = spec.clone();
            f(&mut s);
            self.response(&s, Signing::Assertion)
        };
        match attack {
            SamlAttack::XswAssertionInExtensions => {
                let xml = signed_assertion()?;
                let signed = element(&xml, "saml:Assertion")?;
                let evil = evil(&format!("{}-evil", spec.assertion_id))?;
                let without = remove(&xml, "saml:Assertion")?;
                let at = find(&without, "<samlp:Status>")?;
                Ok(format!(
                    "{}<samlp:Extensions>{signed}</samlp:Extensions>{}",
                    &without[..at],
                    &without[at..]
                )
                .replace("</samlp:Response>", &format!("{evil}</samlp:Response>")))
            }
            SamlAttack::XswClonedAssertionSameId => {
                let xml = signed_assertion()?;
                let evil = evil(&spec.assertion_id)?;
                Ok(xml.replacen("<saml:Assertion", &format!("{evil}<saml:Assertion"), 1))
            }
            SamlAttack::XswAssertionInSignatureObject => {
                let xml = signed_response()?;
                let signed = element(&xml, "saml:Assertion")?;
                let evil = evil(&format!("{}-evil", spec.assertion_id))?;
                Ok(xml.replace(&signed, &evil).replace(
                    "</ds:Signature>",
                    &format!("<ds:Object>{signed}</ds:Object></ds:Signature>"),
                ))
            }
            SamlAttack::DuplicateId => {
                let xml = signed_assertion()?;
                Ok(xml.replacen(
                    "<samlp:Status>",
                    &format!(
                        "<samlp:Extensions><x ID=\"{}\"/></samlp:Extensions><samlp:Status>",
                        spec.assertion_id
                    ),
                    1,
                ))
            }
            SamlAttack::UnsignedAssertionBesideSigned => {
                let xml = signed_assertion()?;
                let evil = evil(&format!("{}-evil", spec.assertion_id))?;
                Ok(xml.replace("</samlp:Response>", &format!("{evil}</samlp:Response>")))
            }
            SamlAttack::SignatureStripped => remove(&signed_assertion()?, "ds:Signature"),
            SamlAttack::SignatureOverOtherElement => {
                let xml = signed_response()?;
                let sig = element(&xml, "ds:Signature")?;
                let without = remove(&xml, "ds:Signature")?;
                let at = find(&without, "</saml:Issuer><saml:Subject>")? + "</saml:Issuer>".len();
                Ok(format!("{}{sig}{}", &without[..at], &without[at..]))
            }
            SamlAttack::WholeDocumentReference => {
                let xml = signed_response()?;
                let reference = format!("URI=\"#{}\"", spec.response_id);
                find(&xml, &reference)?;
                Ok(xml.replace(&reference, "URI=\"\""))
            }
            SamlAttack::NamespaceConfusion => Ok(signed_response()?.replacen(
                "<saml:Assertion ",
                "<saml:Assertion xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion:evil\" ",
                1,
            )),
            SamlAttack::CommentInjectionInNameId => {
                let xml = with(&|s| s.name_id = INJECTED_NAME_ID.into())?;
                let needle = format!(">{INJECTED_NAME_ID}</saml:NameID>");
                find(&xml, &needle)?;
                Ok(xml.replace(&needle, ">alice@example.com<!---->.evil.com</saml:NameID>"))
            }
            SamlAttack::DoctypeEntity => Ok(format!(
                "<!DOCTYPE samlp:Response [<!ENTITY e \"alice\">]>{}",
                signed_assertion()?
            )),
            SamlAttack::DuplicateAttribute => {
                let xml = signed_assertion()?;
                let id = format!("ID=\"{}\"", spec.assertion_id);
                find(&xml, &id)?;
                Ok(xml.replacen(&id, &format!("{id} ID=\"x\""), 1))
            }
            SamlAttack::XxeExternalEntity => {
                let xml = signed_assertion()?;
                let at = find(&xml, "<saml:Issuer>")?;
                Ok(format!(
                    "<?xml version=\"1.0\"?><!DOCTYPE samlp:Response [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>{}&x;{}",
                    &xml[..at],
                    &xml[at..]
                ))
            }
            SamlAttack::BillionLaughs => {
                let mut dtd = String::from("<!DOCTYPE samlp:Response [<!ENTITY lol \"lol\">");
                for i in 1..10 {
                    let prev = if i == 1 {
                        "lol".to_owned()
                    } else {
                        format!("lol{}", i - 1)
                    };
                    dtd.push_str(&format!(
                        "<!ENTITY lol{i} \"{}\">",
                        format!("&{prev};").repeat(10)
                    ));
                }
                dtd.push_str("]>");
                let xml = signed_assertion()?;
                let at = find(&xml, "<saml:Issuer>")?;
                Ok(format!("{dtd}{}&lol9;{}", &xml[..at], &xml[at..]))
            }
            SamlAttack::TamperedAfterSigning => {
                let xml = signed_assertion()?;
                let needle = format!(">{}</saml:NameID>", escape_text(&spec.name_id));
                find(&xml, &needle)?;
                Ok(xml.replace(&needle, &format!(">{EVIL_NAME_ID}</saml:NameID>")))
            }
            SamlAttack::UntrustedKey => {
                let attacker =
                    Self::fixed_key(&self.idp.entity_id, ATTACKER_KEY_PEM, ATTACKER_CERT_PEM)?;
                attacker.signed_response(spec, true, false)
            }
            SamlAttack::Sha1Signature => {
                let opts = SigningOptions {
                    algorithm: SignatureAlgorithm::RsaSha1,
                    digest: DigestAlgorithm::Sha1,
                    certificate: Some(self.idp.certificate.clone()),
                };
                sign_enveloped(
                    &spec.to_xml(&self.idp.entity_id),
                    &spec.assertion_id,
                    &self.idp.key,
                    &opts,
                )
            }
            SamlAttack::HmacOutputLength => {
                let xml = signed_assertion()?;
                let method = format!(
                    "<ds:SignatureMethod Algorithm=\"{}\"/>",
                    self.idp.algorithm.uri()
                );
                find(&xml, &method)?;
                Ok(xml.replacen(
                    &method,
                    &format!(
                        "<ds:SignatureMethod Algorithm=\"{}\"><ds:HMACOutputLength>8</ds:HMACOutputLength></ds:SignatureMethod>",
                        self.idp.algorithm.uri()
                    ),
                    1,
                ))
            }
            SamlAttack::XpathTransform => {
                let xml = signed_assertion()?;
                find(&xml, "<ds:Transforms>")?;
                Ok(xml.replacen(
                    "<ds:Transforms>",
                    "<ds:Transforms><ds:Transform Algorithm=\"http://www.w3.org/TR/1999/REC-xpath-19991116\"><ds:XPath>1</ds:XPath></ds:Transform>",
                    1,
                ))
            }
            SamlAttack::WrongIssuer => {
                let xml = spec.to_xml("https://evil-idp.example.org");
                self.idp.sign(&xml, &spec.assertion_id)
            }
            SamlAttack::WrongAudience => {
                with(&|s| s.audience = "https://other-sp.example.com".into())
            }
            SamlAttack::WrongRecipient => {
                with(&|s| s.recipient = "https://evil.example.com/acs".into())
            }
            SamlAttack::WrongDestination => {
                let mut s = spec.clone();
                s.destination = Some("https://evil.example.com/acs".into());
                self.response(&s, Signing::Response)
            }
            SamlAttack::Expired => with(&|s| {
                s.not_before = spec.issue_instant - Duration::hours(2);
                s.not_on_or_after = spec.issue_instant - Duration::hours(1);
            }),
            SamlAttack::NotYetValid => {
                with(&|s| s.not_before = spec.issue_instant + Duration::hours(1))
            }
            SamlAttack::InResponseToMismatch => {
                with(&|s| s.in_response_to = Some("_not-a-request-of-this-sp".into()))
            }
            SamlAttack::BearerInResponseToMismatch => {
                let Some(expected) = spec.in_response_to.as_deref() else {
                    return Err(Error::MalformedMessage(
                        "bearer_in_response_to_mismatch needs a spec with InResponseTo".into(),
                    ));
                };
                // An assertion captured from the answer to another request, re-wrapped in a
                // Response (unsigned here) that names the request the SP is waiting for.
                let captured = "_captured-request";
                let xml = with(&|s| s.in_response_to = Some(captured.into()))?;
                let attr = format!("InResponseTo=\"{captured}\"");
                find(&xml, &attr)?;
                Ok(xml.replacen(&attr, &format!("InResponseTo=\"{}\"", escape(expected)), 1))
            }
        }
    }
}

fn escape_text(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

fn find(xml: &str, needle: &str) -> Result<usize> {
    xml.find(needle)
        .ok_or_else(|| Error::MalformedMessage(format!("test IdP: {needle} not found")))
}

/// The byte range of the first `<tag` ... `</tag>` (the generated XML never nests `tag`).
fn element_range(xml: &str, tag: &str) -> Result<(usize, usize)> {
    let start = find(xml, &format!("<{tag}"))?;
    let close = format!("</{tag}>");
    let end = find(&xml[start..], &close)? + start + close.len();
    Ok((start, end))
}

fn element(xml: &str, tag: &str) -> Result<String> {
    let (s, e) = element_range(xml, tag)?;
    Ok(xml[s..e].to_owned())
}

fn remove(xml: &str, tag: &str) -> Result<String> {
    let (s, e) = element_range(xml, tag)?;
    Ok(format!("{}{}", &xml[..s], &xml[e..]))
}
