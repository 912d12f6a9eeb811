//! Single Logout (SAML Core §3.7, Profiles §4.4): LogoutRequest and LogoutResponse building
//! (HTTP-Redirect and HTTP-POST, signed) and validation of the ones an IdP sends.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::authn::new_id;
use crate::binding::{post_form, redirect_query, with_query, MessageKind, SpSigner};
use crate::dsig::{
    sign_enveloped, verify_enveloped, DigestAlgorithm, SigningOptions, VerifyOptions,
};
use crate::error::{Error, Result};
use crate::model::NameId;
use crate::response::{parse_instant, IdentityProvider, STATUS_SUCCESS};
use crate::xml::{
    self, child_elements, escape_attr, escape_text, is, Limits, NS_ASSERTION, NS_PROTOCOL,
};

/// How the message was authenticated (SAML Profiles §4.4.3.1 / §4.4.3.3 require LogoutRequest
/// and LogoutResponse to be signed, by XML signature or by the binding).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BindingAuth {
    /// The HTTP-Redirect query signature was verified with an IdP key
    /// ([`crate::binding::RedirectMessage::verify`]).
    RedirectSignatureVerified,
    /// No binding-level signature: an enveloped XML signature is required.
    None,
}

fn name_id_xml(n: &NameId) -> String {
    let mut x = String::from("<saml:NameID");
    for (attr, v) in [
        ("Format", &n.format),
        ("NameQualifier", &n.name_qualifier),
        ("SPNameQualifier", &n.sp_name_qualifier),
        ("SPProvidedID", &n.sp_provided_id),
    ] {
        if let Some(v) = v {
            x.push_str(&format!(" {attr}=\"{}\"", escape_attr(v)));
        }
    }
    x.push_str(&format!(">{}</saml:NameID>", escape_text(&n.value)));
    x
}

/// A LogoutRequest (SAML Core §3.7.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutRequest {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination` (the peer's SLO endpoint).
    pub destination: String,
    /// `Issuer`.
    pub issuer: String,
    /// `NotOnOrAfter`.
    pub not_on_or_after: Option<OffsetDateTime>,
    /// The principal.
    pub name_id: NameId,
    /// `SessionIndex` values.
    pub session_indexes: Vec<String>,
}

impl LogoutRequest {
    /// A request from `issuer` to `destination` for the session of `name_id`, valid 5 minutes.
    pub fn new(
        issuer: &str,
        destination: &str,
        name_id: NameId,
        session_indexes: Vec<String>,
        now: OffsetDateTime,
    ) -> Result<Self> {
        Ok(LogoutRequest {
            id: new_id()?,
            issue_instant: now,
            destination: destination.to_owned(),
            issuer: issuer.to_owned(),
            not_on_or_after: Some(now + Duration::minutes(5)),
            name_id,
            session_indexes,
        })
    }

    /// The XML (unsigned).
    pub fn to_xml(&self) -> String {
        let noa = self
            .not_on_or_after
            .map(|t| {
                format!(
                    " NotOnOrAfter=\"{}\"",
                    t.format(&Rfc3339).unwrap_or_default()
                )
            })
            .unwrap_or_default();
        let mut x = format!(
            "<samlp:LogoutRequest xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\"{noa}><saml:Issuer>{}</saml:Issuer>{}",
            escape_attr(&self.id),
            self.issue_instant.format(&Rfc3339).unwrap_or_default(),
            escape_attr(&self.destination),
            escape_text(&self.issuer),
            name_id_xml(&self.name_id),
        );
        for s in &self.session_indexes {
            x.push_str(&format!(
                "<samlp:SessionIndex>{}</samlp:SessionIndex>",
                escape_text(s)
            ));
        }
        x.push_str("</samlp:LogoutRequest>");
        x
    }

    /// HTTP-Redirect URL, query-signed when `signer`.
    pub fn redirect_url(
        &self,
        relay_state: Option<&str>,
        signer: Option<&SpSigner>,
    ) -> Result<String> {
        Ok(with_query(
            &self.destination,
            &redirect_query(MessageKind::Request, &self.to_xml(), relay_state, signer)?,
        ))
    }

    /// HTTP-POST form with an enveloped XML signature.
    pub fn post_form(&self, relay_state: Option<&str>, signer: &SpSigner) -> Result<String> {
        let xml = sign(&self.to_xml(), &self.id, signer)?;
        Ok(post_form(
            &self.destination,
            MessageKind::Request,
            &xml,
            relay_state,
        ))
    }
}

/// A LogoutResponse (SAML Core §3.7.2 / §3.2.2).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogoutResponse {
    /// `ID`.
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`.
    pub destination: String,
    /// `Issuer`.
    pub issuer: String,
    /// `InResponseTo`.
    pub in_response_to: String,
    /// Top-level status code.
    pub status: String,
}

impl LogoutResponse {
    /// A Success response to `request`.
    pub fn success(
        issuer: &str,
        destination: &str,
        in_response_to: &str,
        now: OffsetDateTime,
    ) -> Result<Self> {
        Ok(LogoutResponse {
            id: new_id()?,
            issue_instant: now,
            destination: destination.to_owned(),
            issuer: issuer.to_owned(),
            in_response_to: in_response_to.to_owned(),
            status: STATUS_SUCCESS.to_owned(),
        })
    }

    /// The XML (unsigned).
    pub fn to_xml(&self) -> String {
        format!(
            "<samlp:LogoutResponse xmlns:samlp=\"{NS_PROTOCOL}\" xmlns:saml=\"{NS_ASSERTION}\" ID=\"{}\" Version=\"2.0\" IssueInstant=\"{}\" Destination=\"{}\" InResponseTo=\"{}\"><saml:Issuer>{}</saml:Issuer><samlp:Status><samlp:StatusCode Value=\"{}\"/></samlp:Status></samlp:LogoutResponse>",
            escape_attr(&self.id),
            self.issue_instant.format(&Rfc3339).unwrap_or_default(),
            escape_attr(&self.destination),
            escape_attr(&self.in_response_to),
            escape_text(&self.issuer),
            escape_attr(&self.status),
        )
    }

    /// HTTP-Redirect URL, query-signed when `signer`.
    pub fn redirect_url(
        &self,
        relay_state: Option<&str>,
        signer: Option<&SpSigner>,
    ) -> Result<String> {
        Ok(with_query(
            &self.destination,
            &redirect_query(MessageKind::Response, &self.to_xml(), relay_state, signer)?,
        ))
    }

    /// HTTP-POST form with an enveloped XML signature.
    pub fn post_form(&self, relay_state: Option<&str>, signer: &SpSigner) -> Result<String> {
        let xml = sign(&self.to_xml(), &self.id, signer)?;
        Ok(post_form(
            &self.destination,
            MessageKind::Response,
            &xml,
            relay_state,
        ))
    }
}

fn sign(xml: &str, id: &str, signer: &SpSigner) -> Result<String> {
    let opts = SigningOptions {
        algorithm: signer.algorithm,
        digest: DigestAlgorithm::Sha256,
        certificate: signer.certificate.clone(),
    };
    sign_enveloped(xml, id, &signer.key, &opts)
}

/// What the SP expects of an incoming logout message.
#[derive(Debug, Clone)]
pub struct LogoutExpectations<'a> {
    /// The IdP and its keys.
    pub idp: &'a IdentityProvider,
    /// This SP's SLO endpoint (the Destination).
    pub slo_url: &'a str,
    /// Clock skew in seconds.
    pub clock_skew_seconds: i64,
    /// Accept SHA-1.
    pub allow_sha1: bool,
    /// Parser limits.
    pub limits: Limits,
}

fn common_checks<'a, 'i>(
    doc: &'a xml::Document<'i>,
    local: &str,
    exp: &LogoutExpectations<'_>,
    auth: BindingAuth,
) -> Result<xml::Node<'a, 'i>> {
    let root = doc.root_element();
    if !is(root, NS_PROTOCOL, local) {
        return Err(Error::MalformedMessage(format!(
            "root is not samlp:{local}"
        )));
    }
    if xml::required_attr(root, "Version")? != "2.0" {
        return Err(Error::MalformedMessage("Version must be 2.0".into()));
    }
    xml::required_attr(root, "ID")?;
    parse_instant(xml::required_attr(root, "IssueInstant")?)?;
    let keys: Vec<_> = exp.idp.signing_keys.iter().map(|k| k.key.clone()).collect();
    let opts = VerifyOptions {
        allow_sha1: exp.allow_sha1,
        ..VerifyOptions::default()
    };
    let xml_signed = verify_enveloped(doc, root, &keys, &opts)?;
    if !xml_signed && auth == BindingAuth::None {
        return Err(Error::SignatureMissing(format!(
            "{local} must be signed (Profiles §4.4.3)"
        )));
    }
    match root.attribute("Destination") {
        Some(d) if d != exp.slo_url => return Err(Error::WrongDestination(d.to_owned())),
        // Bindings §3.4.5.2 / §3.5.5.2: a signed message must carry Destination; a Redirect
        // message with a verified query signature is signed too.
        None if xml_signed || auth == BindingAuth::RedirectSignatureVerified => {
            return Err(Error::WrongDestination(
                "missing on a signed message".into(),
            ))
        }
        _ => {}
    }
    let issuer = xml::required_child(root, NS_ASSERTION, "Issuer")?;
    if xml::simple_text(issuer)?.trim() != exp.idp.entity_id {
        return Err(Error::WrongIssuer(xml::simple_text(issuer)?));
    }
    Ok(root)
}

/// A validated LogoutRequest from the IdP.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedLogoutRequest {
    /// Its ID (answer with [`LogoutResponse::success`]).
    pub id: String,
    /// The principal to log out.
    pub name_id: NameId,
    /// The sessions to end (empty: all of the principal's sessions with this IdP).
    pub session_indexes: Vec<String>,
}

/// Validates a LogoutRequest from the IdP (SAML Core §3.7.1, Profiles §4.4.4.1).
pub fn validate_logout_request(
    xml_bytes: &[u8],
    exp: &LogoutExpectations<'_>,
    auth: BindingAuth,
    now: OffsetDateTime,
) -> Result<ValidatedLogoutRequest> {
    let text = xml::as_utf8(xml_bytes, &exp.limits)?;
    let doc = xml::parse(text, &exp.limits)?;
    let root = common_checks(&doc, "LogoutRequest", exp, auth)?;
    if let Some(noa) = root.attribute("NotOnOrAfter") {
        let noa = parse_instant(noa)?;
        if now - Duration::seconds(exp.clock_skew_seconds.max(0)) >= noa {
            return Err(Error::Expired(format!("LogoutRequest NotOnOrAfter {noa}")));
        }
    }
    let n = xml::unique_child(root, NS_ASSERTION, "NameID")?.ok_or_else(|| {
        if xml::unique_child(root, NS_ASSERTION, "EncryptedID")
            .ok()
            .flatten()
            .is_some()
        {
            Error::Unsupported("EncryptedID in LogoutRequest".into())
        } else {
            Error::MalformedMessage("LogoutRequest without NameID".into())
        }
    })?;
    let name_id = NameId {
        value: xml::simple_text(n)?,
        format: n.attribute("Format").map(str::to_owned),
        name_qualifier: n.attribute("NameQualifier").map(str::to_owned),
        sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_owned),
        sp_provided_id: n.attribute("SPProvidedID").map(str::to_owned),
    };
    let session_indexes = child_elements(root)
        .filter(|c| is(*c, NS_PROTOCOL, "SessionIndex"))
        .map(|c| xml::simple_text(c).map(|s| s.trim().to_owned()))
        .collect::<Result<Vec<_>>>()?;
    Ok(ValidatedLogoutRequest {
        id: xml::required_attr(root, "ID")?.to_owned(),
        name_id,
        session_indexes,
    })
}

/// Validates the IdP's LogoutResponse to our request `request_id` (SAML Core §3.7.2).
pub fn validate_logout_response(
    xml_bytes: &[u8],
    exp: &LogoutExpectations<'_>,
    auth: BindingAuth,
    request_id: &str,
) -> Result<()> {
    let text = xml::as_utf8(xml_bytes, &exp.limits)?;
    let doc = xml::parse(text, &exp.limits)?;
    let root = common_checks(&doc, "LogoutResponse", exp, auth)?;
    match root.attribute("InResponseTo") {
        Some(id) if id == request_id => {}
        other => return Err(Error::InResponseToMismatch(other.unwrap_or("").to_owned())),
    }
    let status = xml::required_child(root, NS_PROTOCOL, "Status")?;
    let code = xml::required_child(status, NS_PROTOCOL, "StatusCode")?;
    let top = xml::required_attr(code, "Value")?;
    if top != STATUS_SUCCESS {
        let second = xml::unique_child(code, NS_PROTOCOL, "StatusCode")?
            .and_then(|c| c.attribute("Value"))
            .map(str::to_owned);
        return Err(Error::Status {
            top: top.to_owned(),
            second,
            message: None,
        });
    }
    Ok(())
}
