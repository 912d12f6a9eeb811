//! An IdP simulator that builds (and signs) SAML Responses: for tests, benches, fuzz seeds,
//! demos and the CLI's examples. It is ordinary library code (no test-only shortcuts in the
//! validator), but it is not an IdP: it has no policy, only templates.

use idforge_jose::crypto::{self, PrivateKey};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::dsig::{sign_enveloped, DigestAlgorithm, SignatureAlgorithm, SigningOptions};
use crate::error::{Error, Result};
use crate::response::{IdentityProvider, SpConfig, TrustedKey, STATUS_SUCCESS};
use crate::xml::{escape_attr, escape_text};

/// A simulated IdP with a signing key and its self-signed certificate.
#[derive(Debug, Clone)]
pub struct TestIdp {
    /// The IdP entityID.
    pub entity_id: String,
    /// The private signing key.
    pub key: PrivateKey,
    /// The self-signed certificate (DER).
    pub certificate: Vec<u8>,
    /// The signature algorithm it uses.
    pub algorithm: SignatureAlgorithm,
}

impl TestIdp {
    /// A fresh RSA-2048 IdP.
    pub fn generate_rsa(entity_id: &str) -> Result<Self> {
        let (n, e, parts) = crypto::rsa_generate(2048).map_err(|e| Error::Key(e.to_string()))?;
        let key = crypto::rsa_private(&n, &e, &parts).map_err(|e| Error::Key(e.to_string()))?;
        Self::with_key(entity_id, key, SignatureAlgorithm::RsaSha256)
    }

    /// An IdP around an existing key.
    pub fn with_key(
        entity_id: &str,
        key: PrivateKey,
        algorithm: SignatureAlgorithm,
    ) -> Result<Self> {
        let now = OffsetDateTime::now_utc().unix_timestamp();
        let certificate =
            crypto::x509_self_signed(&key, entity_id, now - 86_400, now + 3_650 * 86_400)
                .map_err(|e| Error::Key(e.to_string()))?;
        Ok(TestIdp {
            entity_id: entity_id.to_owned(),
            key,
            certificate,
            algorithm,
        })
    }

    /// What an SP configures to trust this IdP.
    pub fn trusted(&self) -> Result<IdentityProvider> {
        Ok(IdentityProvider {
            entity_id: self.entity_id.clone(),
            signing_keys: vec![TrustedKey::from_certificate_der(&self.certificate)?],
        })
    }

    /// The certificate as PEM.
    pub fn certificate_pem(&self) -> String {
        use base64::Engine as _;
        let b64 = base64::engine::general_purpose::STANDARD.encode(&self.certificate);
        let mut out = String::from("-----BEGIN CERTIFICATE-----\n");
        for chunk in b64.as_bytes().chunks(64) {
            out.push_str(std::str::from_utf8(chunk).unwrap_or(""));
            out.push('\n');
        }
        out.push_str("-----END CERTIFICATE-----\n");
        out
    }

    /// Signs the element with `ID = id` (enveloped, Exclusive C14N, SHA-256).
    pub fn sign(&self, xml: &str, id: &str) -> Result<String> {
        let opts = SigningOptions {
            algorithm: self.algorithm,
            digest: DigestAlgorithm::Sha256,
            certificate: Some(self.certificate.clone()),
        };
        sign_enveloped(xml, id, &self.key, &opts)
    }

    /// IdP metadata (an `EntityDescriptor` with `ID`) listing this IdP's certificate plus
    /// `extra_certificates` (rollover), an SSO endpoint for both bindings, and the given
    /// `validUntil`/`cacheDuration`.
    pub fn metadata_xml(
        &self,
        sso_url: &str,
        extra_certificates: &[Vec<u8>],
        valid_until: Option<OffsetDateTime>,
        cache_duration: Option<&str>,
    ) -> String {
        use base64::Engine as _;
        let mut x = format!(
            "<md:EntityDescriptor xmlns:md=\"urn:oasis:names:tc:SAML:2.0:metadata\" xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" ID=\"_md\" entityID=\"{}\"",
            escape_attr(&self.entity_id)
        );
        if let Some(v) = valid_until {
            x.push_str(&format!(
                " validUntil=\"{}\"",
                v.format(&Rfc3339).unwrap_or_default()
            ));
        }
        if let Some(c) = cache_duration {
            x.push_str(&format!(" cacheDuration=\"{}\"", escape_attr(c)));
        }
        x.push_str("><md:IDPSSODescriptor WantAuthnRequestsSigned=\"true\" protocolSupportEnumeration=\"urn:oasis:names:tc:SAML:2.0:protocol\">");
        for c in std::iter::once(&self.certificate).chain(extra_certificates) {
            x.push_str(&format!(
                "<md:KeyDescriptor use=\"signing\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                base64::engine::general_purpose::STANDARD.encode(c)
            ));
        }
        x.push_str("<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:persistent</md:NameIDFormat>");
        for b in [crate::authn::BINDING_REDIRECT, crate::authn::BINDING_POST] {
            x.push_str(&format!(
                "<md:SingleSignOnService Binding=\"{b}\" Location=\"{}\"/>",
                escape_attr(sso_url)
            ));
        }
        x.push_str("</md:IDPSSODescriptor></md:EntityDescriptor>");
        x
    }

    /// A Response whose assertion is encrypted for `recipient` (signed first when
    /// `sign_assertion`), the Response signed over the encrypted form when `sign_response`.
    pub fn encrypted_response(
        &self,
        spec: &ResponseSpec,
        recipient: &idforge_jose::crypto::PublicKey,
        content: crate::xmlenc::ContentAlgorithm,
        oaep_sha256: bool,
        sign_assertion: bool,
        sign_response: bool,
    ) -> Result<String> {
        let mut xml = spec.to_xml(&self.entity_id);
        if sign_assertion {
            xml = self.sign(&xml, &spec.assertion_id)?;
        }
        let start = xml
            .find("<saml:Assertion ")
            .ok_or_else(|| Error::MalformedMessage("no assertion".into()))?;
        let end = xml
            .find("</saml:Assertion>")
            .map(|e| e + "</saml:Assertion>".len())
            .ok_or_else(|| Error::MalformedMessage("no assertion end".into()))?;
        let (head, rest) = xml.split_at(start);
        let (assertion, tail) = rest.split_at(end - start);
        // The fragment is encrypted as written (it relies on the Response's xmlns:saml).
        let enc = crate::xmlenc::encrypt_element(assertion, recipient, content, oaep_sha256)?;
        let mut out =
            format!("{head}<saml:EncryptedAssertion>{enc}</saml:EncryptedAssertion>{tail}");
        if sign_response {
            out = self.sign(&out, &spec.response_id)?;
        }
        Ok(out)
    }

    /// A Response per `spec`, with the assertion and/or the response signed.
    pub fn signed_response(
        &self,
        spec: &ResponseSpec,
        sign_assertion: bool,
        sign_response: bool,
    ) -> Result<String> {
        let mut xml = spec.to_xml(&self.entity_id);
        if sign_assertion {
            xml = self.sign(&xml, &spec.assertion_id)?;
        }
        if sign_response {
            xml = self.sign(&xml, &spec.response_id)?;
        }
        Ok(xml)
    }
}

/// The content of a simulated Response.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseSpec {
    /// Response ID.
    pub response_id: String,
    /// Assertion ID.
    pub assertion_id: String,
    /// Response Destination.
    pub destination: Option<String>,
    /// InResponseTo (on the Response and the bearer confirmation).
    pub in_response_to: Option<String>,
    /// Bearer Recipient.
    pub recipient: String,
    /// The single Audience.
    pub audience: String,
    /// NameID value.
    pub name_id: String,
    /// NameID Format.
    pub name_id_format: String,
    /// IssueInstant of both elements.
    pub issue_instant: OffsetDateTime,
    /// Conditions NotBefore.
    pub not_before: OffsetDateTime,
    /// Conditions and bearer NotOnOrAfter.
    pub not_on_or_after: OffsetDateTime,
    /// SessionIndex.
    pub session_index: String,
    /// Attributes (name, values).
    pub attributes: Vec<(String, Vec<String>)>,
    /// Top-level and second-level status code.
    pub status: (String, Option<String>),
    /// Filler attribute values to reach a target size (benchmarks).
    pub padding: usize,
}

impl ResponseSpec {
    /// A valid response for `sp` at `now` answering `in_response_to`.
    pub fn new(sp: &SpConfig, in_response_to: Option<&str>, now: OffsetDateTime) -> Self {
        let acs = sp.acs_urls.first().cloned().unwrap_or_default();
        let mut rnd = [0u8; 8];
        let _ = crypto::random_bytes(&mut rnd);
        let tag: String = rnd.iter().map(|b| format!("{b:02x}")).collect();
        ResponseSpec {
            response_id: format!("_r{tag}"),
            assertion_id: format!("_a{tag}"),
            destination: Some(acs.clone()),
            in_response_to: in_response_to.map(str::to_owned),
            recipient: acs,
            audience: sp.entity_id.clone(),
            name_id: "alice@example.com".into(),
            name_id_format: "urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress".into(),
            issue_instant: now,
            not_before: now - Duration::seconds(30),
            not_on_or_after: now + Duration::minutes(5),
            session_index: format!("_s{tag}"),
            attributes: vec![
                ("mail".into(), vec!["alice@example.com".into()]),
                ("groups".into(), vec!["admins".into(), "staff".into()]),
            ],
            status: (STATUS_SUCCESS.into(), None),
            padding: 0,
        }
    }

    /// The unsigned XML.
    pub fn to_xml(&self, issuer: &str) -> String {
        let t = |d: OffsetDateTime| d.format(&Rfc3339).unwrap_or_default();
        let irt = self
            .in_response_to
            .as_deref()
            .map(|i| format!(" InResponseTo=\"{}\"", escape_attr(i)))
            .unwrap_or_default();
        let dest = self
            .destination
            .as_deref()
            .map(|d| format!(" Destination=\"{}\"", escape_attr(d)))
            .unwrap_or_default();
        let second = self
            .status
            .1
            .as_deref()
            .map(|s| format!("<samlp:StatusCode Value=\"{}\"/>", escape_attr(s)))
            .unwrap_or_default();
        let mut attrs = String::new();
        for (name, values) in &self.attributes {
            attrs.push_str(&format!(
                "<saml:Attribute Name=\"{}\" NameFormat=\"urn:oasis:names:tc:SAML:2.0:attrname-format:basic\">",
                escape_attr(name)
            ));
            for v in values {
                attrs.push_str(&format!(
                    "<saml:AttributeValue>{}</saml:AttributeValue>",
                    escape_text(v)
                ));
            }
            attrs.push_str("</saml:Attribute>");
        }
        if self.padding > 0 {
            attrs.push_str("<saml:Attribute Name=\"padding\">");
            let mut n = 0;
            while n < self.padding {
                attrs.push_str(
                    "<saml:AttributeValue>0123456789abcdef0123456789abcdef</saml:AttributeValue>",
                );
                n += 72;
            }
            attrs.push_str("</saml:Attribute>");
        }
        format!(
            concat!(
                "<samlp:Response xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\"",
                " ID=\"{rid}\" Version=\"2.0\" IssueInstant=\"{ii}\"{dest}{irt}>",
                "<saml:Issuer>{issuer}</saml:Issuer>",
                "<samlp:Status><samlp:StatusCode Value=\"{st}\">{second}</samlp:StatusCode></samlp:Status>",
                "<saml:Assertion ID=\"{aid}\" Version=\"2.0\" IssueInstant=\"{ii}\">",
                "<saml:Issuer>{issuer}</saml:Issuer>",
                "<saml:Subject><saml:NameID Format=\"{nf}\">{nid}</saml:NameID>",
                "<saml:SubjectConfirmation Method=\"urn:oasis:names:tc:SAML:2.0:cm:bearer\">",
                "<saml:SubjectConfirmationData NotOnOrAfter=\"{noa}\" Recipient=\"{rcpt}\"{irt}/>",
                "</saml:SubjectConfirmation></saml:Subject>",
                "<saml:Conditions NotBefore=\"{nb}\" NotOnOrAfter=\"{noa}\">",
                "<saml:AudienceRestriction><saml:Audience>{aud}</saml:Audience></saml:AudienceRestriction>",
                "</saml:Conditions>",
                "<saml:AuthnStatement AuthnInstant=\"{ii}\" SessionIndex=\"{si}\">",
                "<saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext>",
                "</saml:AuthnStatement>",
                "<saml:AttributeStatement>{attrs}</saml:AttributeStatement>",
                "</saml:Assertion></samlp:Response>"
            ),
            rid = escape_attr(&self.response_id),
            aid = escape_attr(&self.assertion_id),
            ii = t(self.issue_instant),
            dest = dest,
            irt = irt,
            issuer = escape_text(issuer),
            st = escape_attr(&self.status.0),
            second = second,
            nf = escape_attr(&self.name_id_format),
            nid = escape_text(&self.name_id),
            noa = t(self.not_on_or_after),
            nb = t(self.not_before),
            rcpt = escape_attr(&self.recipient),
            aud = escape_text(&self.audience),
            si = escape_attr(&self.session_index),
            attrs = attrs,
        )
    }
}
