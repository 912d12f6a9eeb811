//! AuthnRequest (SAML Core §3.4.1) construction for the Web Browser SSO profile (Profiles
//! §4.1.4.1), sent with HTTP-Redirect or HTTP-POST.

use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::binding::{post_form, redirect_query, with_query, MessageKind, SpSigner};
use crate::dsig::{sign_enveloped, DigestAlgorithm, SigningOptions};
use crate::error::{Error, Result};
use crate::ports::PendingRequest;
use crate::response::SpConfig;
use crate::xml::{escape_attr, escape_text};

/// HTTP-POST binding URI (Bindings §3.5.1).
pub const BINDING_POST: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST";
/// HTTP-Redirect binding URI (Bindings §3.4.1).
pub const BINDING_REDIRECT: &str = "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect";

/// `NameIDPolicy` (SAML Core §3.4.1.1).
#[derive(Debug, Clone, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
pub struct NameIdPolicy {
    /// `Format`.
    pub format: Option<String>,
    /// `AllowCreate`.
    pub allow_create: Option<bool>,
    /// `SPNameQualifier`.
    pub sp_name_qualifier: Option<String>,
}

/// `Comparison` of `RequestedAuthnContext` (SAML Core §3.3.2.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Comparison {
    /// `exact` (the default).
    #[default]
    Exact,
    /// `minimum`.
    Minimum,
    /// `maximum`.
    Maximum,
    /// `better`.
    Better,
}

/// `RequestedAuthnContext` with class references (SAML Core §3.3.2.2.1).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct RequestedAuthnContext {
    /// Comparison.
    pub comparison: Comparison,
    /// `AuthnContextClassRef` values, in order.
    pub class_refs: Vec<String>,
}

/// An AuthnRequest.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuthnRequest {
    /// `ID`: 128 random bits, hex, prefixed with `_` (xs:ID must not start with a digit).
    pub id: String,
    /// `IssueInstant`.
    pub issue_instant: OffsetDateTime,
    /// `Destination`: the IdP SSO endpoint.
    pub destination: String,
    /// `AssertionConsumerServiceURL`.
    pub acs_url: String,
    /// `Issuer`: the SP entityID.
    pub issuer: String,
    /// `ForceAuthn`.
    pub force_authn: bool,
    /// `IsPassive`.
    pub is_passive: bool,
    /// `NameIDPolicy`.
    pub name_id_policy: Option<NameIdPolicy>,
    /// `RequestedAuthnContext`.
    pub requested_authn_context: Option<RequestedAuthnContext>,
}

/// A fresh `_` + 32 hex digits ID (128 bits of entropy, SAML Core §1.3.4).
pub fn new_id() -> Result<String> {
    let mut b = [0u8; 16];
    idforge_jose::crypto::random_bytes(&mut b).map_err(|_| Error::Key("no randomness".into()))?;
    Ok(format!(
        "_{}",
        b.iter().map(|x| format!("{x:02x}")).collect::<String>()
    ))
}

impl AuthnRequest {
    /// A request from `sp` (first ACS URL) to the IdP SSO endpoint `destination`.
    pub fn new(sp: &SpConfig, destination: &str, now: OffsetDateTime) -> Result<Self> {
        Ok(AuthnRequest {
            id: new_id()?,
            issue_instant: now,
            destination: destination.to_owned(),
            acs_url: sp.acs_urls.first().cloned().unwrap_or_default(),
            issuer: sp.entity_id.clone(),
            force_authn: false,
            is_passive: false,
            name_id_policy: None,
            requested_authn_context: None,
        })
    }

    /// The XML (unsigned).
    pub fn to_xml(&self) -> String {
        let mut x = format!(
            concat!(
                "<samlp:AuthnRequest xmlns:samlp=\"urn:oasis:names:tc:SAML:2.0:protocol\" ",
                "xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ID=\"{id}\" Version=\"2.0\" ",
                "IssueInstant=\"{ii}\" Destination=\"{dest}\" AssertionConsumerServiceURL=\"{acs}\" ",
                "ProtocolBinding=\"{pb}\""
            ),
            id = escape_attr(&self.id),
            ii = self.issue_instant.format(&Rfc3339).unwrap_or_default(),
            dest = escape_attr(&self.destination),
            acs = escape_attr(&self.acs_url),
            pb = BINDING_POST,
        );
        if self.force_authn {
            x.push_str(" ForceAuthn=\"true\"");
        }
        if self.is_passive {
            x.push_str(" IsPassive=\"true\"");
        }
        x.push_str(&format!(
            "><saml:Issuer>{}</saml:Issuer>",
            escape_text(&self.issuer)
        ));
        if let Some(p) = &self.name_id_policy {
            x.push_str("<samlp:NameIDPolicy");
            if let Some(f) = &p.format {
                x.push_str(&format!(" Format=\"{}\"", escape_attr(f)));
            }
            if let Some(q) = &p.sp_name_qualifier {
                x.push_str(&format!(" SPNameQualifier=\"{}\"", escape_attr(q)));
            }
            if let Some(a) = p.allow_create {
                x.push_str(&format!(" AllowCreate=\"{a}\""));
            }
            x.push_str("/>");
        }
        if let Some(r) = &self.requested_authn_context {
            let c = match r.comparison {
                Comparison::Exact => "exact",
                Comparison::Minimum => "minimum",
                Comparison::Maximum => "maximum",
                Comparison::Better => "better",
            };
            x.push_str(&format!("<samlp:RequestedAuthnContext Comparison=\"{c}\">"));
            for cr in &r.class_refs {
                x.push_str(&format!(
                    "<saml:AuthnContextClassRef>{}</saml:AuthnContextClassRef>",
                    escape_text(cr)
                ));
            }
            x.push_str("</samlp:RequestedAuthnContext>");
        }
        x.push_str("</samlp:AuthnRequest>");
        x
    }

    /// The XML signed with an enveloped signature (for HTTP-POST, Bindings §3.5.5.2).
    pub fn to_signed_xml(&self, signer: &SpSigner) -> Result<String> {
        let opts = SigningOptions {
            algorithm: signer.algorithm,
            digest: DigestAlgorithm::Sha256,
            certificate: signer.certificate.clone(),
        };
        sign_enveloped(&self.to_xml(), &self.id, &signer.key, &opts)
    }

    /// The HTTP-Redirect URL (Bindings §3.4.4.1); signed over the query octets when `signer`.
    pub fn redirect_url(
        &self,
        relay_state: Option<&str>,
        signer: Option<&SpSigner>,
    ) -> Result<String> {
        let q = redirect_query(MessageKind::Request, &self.to_xml(), relay_state, signer)?;
        Ok(with_query(&self.destination, &q))
    }

    /// The HTTP-POST auto-submit form; the XML is signed when `signer`.
    pub fn post_form(
        &self,
        relay_state: Option<&str>,
        signer: Option<&SpSigner>,
    ) -> Result<String> {
        let xml = match signer {
            Some(s) => self.to_signed_xml(s)?,
            None => self.to_xml(),
        };
        Ok(post_form(
            &self.destination,
            MessageKind::Request,
            &xml,
            relay_state,
        ))
    }

    /// The record to keep in the `RequestStore` until the response arrives.
    pub fn pending(
        &self,
        idp_entity_id: &str,
        relay_state: Option<&str>,
        ttl: Duration,
    ) -> PendingRequest {
        PendingRequest {
            id: self.id.clone(),
            idp_entity_id: idp_entity_id.to_owned(),
            relay_state: relay_state.map(str::to_owned),
            expires_at: self.issue_instant + ttl,
        }
    }
}
