//! Response and Assertion validation: SAML Profiles §4.1.4.2-4.1.4.3 (Web Browser SSO
//! `<Response>` usage and processing rules) and SAML Core §3.4 / §2, with the anti-wrapping
//! design of [`crate::dsig`]: every value is read from the subtree that a verified signature
//! covers, reached through the same parse.

use std::sync::Arc;

use crate::xml::{Document, Node};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idforge_jose::crypto::{self, CertInfo, PrivateKey, PublicKey};
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::dsig::VerifyOptions;
use crate::error::{Error, Result};
use crate::model::{Assertion, Attribute, NameId, SignedParts};
use crate::ports::{PendingRequest, ReplayCache, RequestStore};
use crate::xml::{self, child_elements, is, Limits, NS_ASSERTION, NS_PROTOCOL};

/// `urn:oasis:names:tc:SAML:2.0:status:Success` (SAML Core §3.2.2.2).
pub const STATUS_SUCCESS: &str = "urn:oasis:names:tc:SAML:2.0:status:Success";
/// Bearer confirmation method (SAML Profiles §3.3).
pub const CM_BEARER: &str = "urn:oasis:names:tc:SAML:2.0:cm:bearer";
/// Entity NameID format (SAML Core §8.3.6).
pub const NAMEID_ENTITY: &str = "urn:oasis:names:tc:SAML:2.0:nameid-format:entity";

/// A pinned IdP signing key, usually from a certificate in metadata.
#[derive(Debug, Clone)]
pub struct TrustedKey {
    /// The key.
    pub key: PublicKey,
    /// Facts of the certificate it came from, if any.
    pub certificate: Option<CertInfo>,
}

impl TrustedKey {
    /// From a DER X.509 certificate. Expiry is not enforced: SAML metadata pins keys, and
    /// SAML Metadata Interop §2.5.1 says certificate validity is not the trust anchor.
    pub fn from_certificate_der(der: &[u8]) -> Result<Self> {
        let (key, info) = crypto::x509_public_key(der).map_err(|e| Error::Key(e.to_string()))?;
        Ok(TrustedKey {
            key,
            certificate: Some(info),
        })
    }

    /// Every certificate of a PEM file.
    pub fn from_certificate_pem(pem: &[u8]) -> Result<Vec<Self>> {
        crypto::x509_pem_to_der(pem)
            .map_err(|e| Error::Key(e.to_string()))?
            .iter()
            .map(|d| Self::from_certificate_der(d))
            .collect()
    }

    /// From base64 DER as found in `ds:X509Certificate`.
    pub fn from_certificate_base64(b64: &str) -> Result<Self> {
        let compact: String = b64.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        let der = STANDARD
            .decode(compact)
            .map_err(|_| Error::Key("bad base64 certificate".into()))?;
        Self::from_certificate_der(&der)
    }
}

/// What the SP knows about one IdP.
#[derive(Debug, Clone)]
pub struct IdentityProvider {
    /// The IdP entityID; `Issuer` must equal it.
    pub entity_id: String,
    /// Keys whose signatures are accepted (several during rollover).
    pub signing_keys: Vec<TrustedKey>,
}

/// SP policy for validating responses. Serde-friendly so hosts load it from config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SpConfig {
    /// The SP entityID (the Audience the IdP must name).
    pub entity_id: String,
    /// The Assertion Consumer Service URLs; Destination and Recipient must be one of them.
    pub acs_urls: Vec<String>,
    /// Allowed clock skew in seconds for every time check. Default 120.
    pub clock_skew_seconds: i64,
    /// Accept IdP-initiated (unsolicited) responses. Default `false`.
    pub allow_unsolicited: bool,
    /// Require the Assertion itself to be signed. Default `false` (a signed Response suffices).
    pub want_assertions_signed: bool,
    /// Require the Response to be signed. Default `false`.
    pub want_response_signed: bool,
    /// Accept SHA-1 digests and signature methods. Default `false`.
    pub allow_sha1: bool,
    /// Parser limits.
    pub limits: Limits,
}

impl Default for SpConfig {
    fn default() -> Self {
        SpConfig {
            entity_id: String::new(),
            acs_urls: Vec::new(),
            clock_skew_seconds: 120,
            allow_unsolicited: false,
            want_assertions_signed: false,
            want_response_signed: false,
            allow_sha1: false,
            limits: Limits::default(),
        }
    }
}

impl SpConfig {
    /// A config with the entityID and one ACS URL, other fields default.
    pub fn new(entity_id: impl Into<String>, acs_url: impl Into<String>) -> Self {
        SpConfig {
            entity_id: entity_id.into(),
            acs_urls: vec![acs_url.into()],
            ..Self::default()
        }
    }
}

/// How `InResponseTo` is checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestCheck {
    /// The response must answer this request ID (or be unsolicited, if allowed).
    Exact(String),
    /// No request outstanding: only unsolicited responses, if allowed.
    NoneOutstanding,
    /// Accept any `InResponseTo`; the caller checks it against its `RequestStore` (as
    /// [`AssertionConsumer`] does).
    Deferred,
}

/// The result of [`validate_response`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ValidatedResponse {
    /// The Response `ID`.
    pub response_id: String,
    /// The Response `InResponseTo`.
    pub in_response_to: Option<String>,
    /// The assertion.
    pub assertion: Assertion,
}

/// Decodes the HTTP-POST `SAMLResponse` form value (SAML Bindings §3.5.4: base64 of the XML,
/// no DEFLATE). Raw XML (starting with `<`) is passed through for CLI convenience.
pub fn decode_post_value(value: &[u8], limits: &Limits) -> Result<Vec<u8>> {
    let trimmed = value.trim_ascii();
    if trimmed.first() == Some(&b'<') {
        return Ok(trimmed.to_vec());
    }
    if trimmed.len() > limits.max_bytes.saturating_mul(4) / 3 + 4 {
        return Err(Error::TooLarge(limits.max_bytes));
    }
    let compact: Vec<u8> = trimmed
        .iter()
        .copied()
        .filter(|b| !b.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(compact)
        .map_err(|_| Error::Binding("SAMLResponse is not base64".into()))
}

/// Parses an `xs:dateTime` (SAML Core §1.3.3: UTC).
pub fn parse_instant(s: &str) -> Result<OffsetDateTime> {
    OffsetDateTime::parse(s.trim(), &Rfc3339)
        .map_err(|_| Error::MalformedMessage(format!("bad dateTime {s:?}")))
}

fn opt_instant(node: Node<'_, '_>, name: &str) -> Result<Option<OffsetDateTime>> {
    node.attribute(name).map(parse_instant).transpose()
}

fn status_error(status: Node<'_, '_>) -> Result<()> {
    let code = xml::required_child(status, NS_PROTOCOL, "StatusCode")?;
    let top = xml::required_attr(code, "Value")?;
    if top == STATUS_SUCCESS {
        return Ok(());
    }
    let second = xml::unique_child(code, NS_PROTOCOL, "StatusCode")?
        .and_then(|c| c.attribute("Value"))
        .map(str::to_owned);
    let message = xml::unique_child(status, NS_PROTOCOL, "StatusMessage")?
        .map(xml::simple_text)
        .transpose()?;
    Err(Error::Status {
        top: top.to_owned(),
        second,
        message,
    })
}

fn check_issuer(node: Node<'_, '_>, expected: &str) -> Result<()> {
    if let Some(format) = node.attribute("Format") {
        if format != NAMEID_ENTITY {
            return Err(Error::WrongIssuer(format!("Format {format}")));
        }
    }
    let value = xml::simple_text(node)?;
    if value.trim() != expected {
        return Err(Error::WrongIssuer(value));
    }
    Ok(())
}

/// Validates a SAML Response (raw XML bytes) against the SP policy and the IdP's keys at `now`.
/// Pure: no I/O, no replay bookkeeping (see [`AssertionConsumer`] for that). Encrypted
/// assertions are refused; see [`validate_response_decrypting`].
pub fn validate_response(
    xml_bytes: &[u8],
    sp: &SpConfig,
    idp: &IdentityProvider,
    request: &RequestCheck,
    now: OffsetDateTime,
) -> Result<ValidatedResponse> {
    validate_response_decrypting(xml_bytes, sp, idp, &[], request, now)
}

/// The single assertion of the document: exactly one (encrypted or not) anywhere, and it is a
/// direct child of the Response root. An unsigned assertion beside a signed one, or one hidden
/// in Extensions/Object/Advice, is refused before anything is read (the XML signature wrapping
/// variants of Somorovsky et al., "On Breaking SAML", USENIX Security 2012).
fn single_assertion<'a, 'i>(doc: &'a Document<'i>, root: Node<'a, 'i>) -> Result<Node<'a, 'i>> {
    let mut all = doc.descendants().filter(|n| {
        is(*n, NS_ASSERTION, "Assertion") || is(*n, NS_ASSERTION, "EncryptedAssertion")
    });
    // Counted, not collected: the common single assertion needs no list.
    match (all.next(), all.count()) {
        (Some(a), 0) if a.parent() == Some(root) => Ok(a),
        (Some(_), 0) => Err(Error::AssertionCount(
            "assertion is not a child of the Response".into(),
        )),
        (None, _) => Err(Error::AssertionCount("no assertion".into())),
        (Some(_), more) => Err(Error::AssertionCount(format!("{} assertions", more + 1))),
    }
}

/// [`validate_response`] that also decrypts an `EncryptedAssertion` / `EncryptedID` with one of
/// the SP's `decryption_keys` (several during rollover; XML Encryption 1.1). A signature on the
/// Response covers the encrypted form and is checked before decryption; a signature on the
/// Assertion is checked on the decrypted element.
pub fn validate_response_decrypting(
    xml_bytes: &[u8],
    sp: &SpConfig,
    idp: &IdentityProvider,
    decryption_keys: &[PrivateKey],
    request: &RequestCheck,
    now: OffsetDateTime,
) -> Result<ValidatedResponse> {
    let text = xml::as_utf8(xml_bytes, &sp.limits)?;
    let doc = xml::parse(text, &sp.limits)?;
    let root = doc.root_element();
    if !is(root, NS_PROTOCOL, "Response") {
        return Err(Error::MalformedMessage("root is not samlp:Response".into()));
    }
    // SAML Core §3.2.2: Version 2.0, ID and IssueInstant required.
    if xml::required_attr(root, "Version")? != "2.0" {
        return Err(Error::MalformedMessage("Version must be 2.0".into()));
    }
    let response_id = xml::required_attr(root, "ID")?.to_owned();
    parse_instant(xml::required_attr(root, "IssueInstant")?)?;
    let opts = VerifyOptions {
        allow_sha1: sp.allow_sha1,
        ..VerifyOptions::default()
    };
    let keys: Vec<PublicKey> = idp.signing_keys.iter().map(|k| k.key.clone()).collect();
    let skew = Duration::seconds(sp.clock_skew_seconds.max(0));

    let assertion = single_assertion(&doc, root)?;

    // Signatures first (a failing signature is an error even if the other one is valid).
    let response_signed = crate::dsig::verify_enveloped(&doc, root, &keys, &opts)?;
    let ctx = Ctx {
        sp,
        idp,
        decryption_keys,
        request,
        now,
        keys: &keys,
        opts: &opts,
        skew,
        response_id,
    };
    if is(assertion, NS_ASSERTION, "EncryptedAssertion") {
        let plaintext = crate::xmlenc::decrypt_element(assertion, decryption_keys)?;
        let plaintext = std::str::from_utf8(&plaintext)
            .map_err(|_| Error::MalformedXml("decrypted assertion is not UTF-8".into()))?;
        // Decrypt in place (XML Encryption 1.1 §4.5): the rest of the document is unchanged, so
        // what the Response signature covered still holds; the namespace context is the same.
        let range = assertion.range();
        let (Some(head), Some(tail)) = (text.get(..range.start), text.get(range.end..)) else {
            return Err(Error::MalformedXml("bad element range".into()));
        };
        let replaced = format!("{head}{plaintext}{tail}");
        let doc2 = xml::parse(&replaced, &sp.limits)?;
        let root2 = doc2.root_element();
        let a2 = single_assertion(&doc2, root2)?;
        if !is(a2, NS_ASSERTION, "Assertion") {
            return Err(Error::MalformedMessage(
                "EncryptedAssertion did not decrypt to an Assertion".into(),
            ));
        }
        return finish(&doc2, root2, a2, response_signed, ctx);
    }
    finish(&doc, root, assertion, response_signed, ctx)
}

struct Ctx<'c> {
    sp: &'c SpConfig,
    idp: &'c IdentityProvider,
    decryption_keys: &'c [PrivateKey],
    request: &'c RequestCheck,
    now: OffsetDateTime,
    keys: &'c [PublicKey],
    opts: &'c VerifyOptions,
    skew: Duration,
    response_id: String,
}

fn finish(
    doc: &Document<'_>,
    root: Node<'_, '_>,
    assertion: Node<'_, '_>,
    response_signed: bool,
    ctx: Ctx<'_>,
) -> Result<ValidatedResponse> {
    let Ctx {
        sp,
        idp,
        decryption_keys,
        request,
        now,
        keys,
        opts,
        skew,
        response_id,
    } = ctx;
    let assertion_signed = crate::dsig::verify_enveloped(doc, assertion, keys, opts)?;
    if sp.want_response_signed && !response_signed {
        return Err(Error::SignatureMissing(
            "the Response must be signed".into(),
        ));
    }
    if sp.want_assertions_signed && !assertion_signed {
        return Err(Error::SignatureMissing(
            "the Assertion must be signed".into(),
        ));
    }
    if !response_signed && !assertion_signed {
        // SAML Profiles §4.1.4.2 / Bindings §3.5.5.2: the assertion must be protected.
        return Err(Error::SignatureMissing(
            "neither Response nor Assertion is signed".into(),
        ));
    }

    // Destination (SAML Core §3.2.2, Bindings §3.5.5.2: required when the message is signed).
    match root.attribute("Destination") {
        Some(d) if !sp.acs_urls.iter().any(|u| u == d) => {
            return Err(Error::WrongDestination(d.to_owned()))
        }
        None if response_signed => {
            return Err(Error::WrongDestination(
                "missing on a signed Response".into(),
            ))
        }
        _ => {}
    }
    // Response Issuer is optional, but if present it must be the IdP (Profiles §4.1.4.2).
    if let Some(issuer) = xml::unique_child(root, NS_ASSERTION, "Issuer")? {
        check_issuer(issuer, &idp.entity_id)?;
    }
    status_error(xml::required_child(root, NS_PROTOCOL, "Status")?)?;

    let in_response_to = root.attribute("InResponseTo").map(str::to_owned);
    match (request, in_response_to.as_deref()) {
        (RequestCheck::Exact(want), Some(got)) if want != got => {
            return Err(Error::InResponseToMismatch(got.to_owned()))
        }
        (RequestCheck::NoneOutstanding, Some(got)) => {
            return Err(Error::InResponseToMismatch(got.to_owned()))
        }
        (_, None) if !sp.allow_unsolicited => return Err(Error::UnsolicitedNotAllowed),
        _ => {}
    }

    let parsed = read_assertion(
        assertion,
        sp,
        idp,
        decryption_keys,
        in_response_to.as_deref(),
        now,
        skew,
    )?;
    Ok(ValidatedResponse {
        response_id,
        in_response_to,
        assertion: Assertion {
            signed: SignedParts {
                response: response_signed,
                assertion: assertion_signed,
            },
            ..parsed
        },
    })
}

/// Reads and checks the assertion (only ever the verified subtree).
#[allow(clippy::too_many_arguments)]
fn read_assertion(
    a: Node<'_, '_>,
    sp: &SpConfig,
    idp: &IdentityProvider,
    decryption_keys: &[PrivateKey],
    in_response_to: Option<&str>,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<Assertion> {
    // SAML Core §2.3.3.
    if xml::required_attr(a, "Version")? != "2.0" {
        return Err(Error::MalformedMessage(
            "Assertion Version must be 2.0".into(),
        ));
    }
    let id = xml::required_attr(a, "ID")?.to_owned();
    let issue_instant = parse_instant(xml::required_attr(a, "IssueInstant")?)?;
    let issuer = xml::required_child(a, NS_ASSERTION, "Issuer")?;
    check_issuer(issuer, &idp.entity_id)?;

    // Subject (Profiles §4.1.4.2: required, with a bearer SubjectConfirmation).
    let subject = xml::required_child(a, NS_ASSERTION, "Subject")?;
    let name_id = match xml::unique_child(subject, NS_ASSERTION, "NameID")? {
        Some(n) => Some(name_id_from(n)?),
        None => match xml::unique_child(subject, NS_ASSERTION, "EncryptedID")? {
            Some(enc) => Some(decrypt_name_id(enc, decryption_keys)?),
            None => None,
        },
    };
    let confirmation_until = check_bearer(subject, sp, in_response_to, now, skew)?;

    // Conditions (Core §2.5.1) with AudienceRestriction (Profiles §4.1.4.2).
    let conditions = xml::required_child(a, NS_ASSERTION, "Conditions")?;
    let nb = opt_instant(conditions, "NotBefore")?;
    let noa = opt_instant(conditions, "NotOnOrAfter")?;
    if let Some(nb) = nb {
        if now + skew < nb {
            return Err(Error::NotYetValid(format!("Conditions NotBefore {nb}")));
        }
    }
    if let Some(noa) = noa {
        if now - skew >= noa {
            return Err(Error::Expired(format!("Conditions NotOnOrAfter {noa}")));
        }
    }
    let mut audience_restrictions = 0;
    for c in child_elements(conditions) {
        if is(c, NS_ASSERTION, "AudienceRestriction") {
            audience_restrictions += 1;
            let mut ok = false;
            for aud in child_elements(c).filter(|n| is(*n, NS_ASSERTION, "Audience")) {
                if xml::simple_text(aud)?.trim() == sp.entity_id {
                    ok = true;
                }
            }
            // Core §2.5.1.4: every AudienceRestriction must include us.
            if !ok {
                return Err(Error::WrongAudience);
            }
        } else if is(c, NS_ASSERTION, "OneTimeUse") || is(c, NS_ASSERTION, "ProxyRestriction") {
            // OneTimeUse: enforced by the replay cache for every assertion anyway.
        } else {
            // Core §2.5.1: an unknown condition is Indeterminate, hence not valid.
            return Err(Error::Unsupported(format!(
                "condition <{}>",
                c.tag_name().name()
            )));
        }
    }
    if audience_restrictions == 0 {
        return Err(Error::WrongAudience);
    }

    // AuthnStatement (Profiles §4.1.4.2: at least one).
    let mut authn = child_elements(a).filter(|n| is(*n, NS_ASSERTION, "AuthnStatement"));
    let first = authn
        .next()
        .ok_or_else(|| Error::MalformedMessage("no AuthnStatement".into()))?;
    let authn_instant = Some(parse_instant(xml::required_attr(first, "AuthnInstant")?)?);
    let session_not_on_or_after = opt_instant(first, "SessionNotOnOrAfter")?;
    if let Some(s) = session_not_on_or_after {
        if now - skew >= s {
            return Err(Error::Expired(format!("SessionNotOnOrAfter {s}")));
        }
    }
    let session_index = first.attribute("SessionIndex").map(str::to_owned);
    let authn_context_class_ref = match xml::unique_child(first, NS_ASSERTION, "AuthnContext")? {
        Some(ctx) => xml::unique_child(ctx, NS_ASSERTION, "AuthnContextClassRef")?
            .map(xml::simple_text)
            .transpose()?
            .map(|s| s.trim().to_owned()),
        None => None,
    };

    let mut attributes = Vec::new();
    for st in child_elements(a).filter(|n| is(*n, NS_ASSERTION, "AttributeStatement")) {
        for at in child_elements(st) {
            if is(at, NS_ASSERTION, "EncryptedAttribute") {
                return Err(Error::Unsupported("EncryptedAttribute".into()));
            }
            if !is(at, NS_ASSERTION, "Attribute") {
                continue;
            }
            // Sized by the children (a few text nodes at most besides the values), so a
            // long multi-valued attribute is not regrown value by value.
            let mut values = Vec::with_capacity(at.children().count());
            values.extend(
                child_elements(at)
                    .filter(|v| is(*v, NS_ASSERTION, "AttributeValue"))
                    .map(|v| {
                        let mut texts = v
                            .descendants()
                            .filter(|d| d.is_text())
                            .filter_map(|d| d.text());
                        // One allocation of the exact size in the common single-text case.
                        match (texts.next(), texts.next()) {
                            (None, _) => String::new(),
                            (Some(t), None) => t.to_owned(),
                            (Some(a), Some(b)) => [a, b].into_iter().chain(texts).collect(),
                        }
                    }),
            );
            attributes.push(Attribute {
                name: xml::required_attr(at, "Name")?.to_owned(),
                name_format: at.attribute("NameFormat").map(str::to_owned),
                friendly_name: at.attribute("FriendlyName").map(str::to_owned),
                values,
            });
        }
    }
    let not_on_or_after = match noa {
        Some(n) if n < confirmation_until => n,
        _ => confirmation_until,
    };
    Ok(Assertion {
        id,
        issuer: idp.entity_id.clone(),
        issue_instant,
        name_id,
        session_index,
        authn_instant,
        session_not_on_or_after,
        authn_context_class_ref,
        attributes,
        in_response_to: in_response_to.map(str::to_owned),
        not_on_or_after,
        signed: SignedParts::default(),
    })
}

fn name_id_from(n: Node<'_, '_>) -> Result<NameId> {
    Ok(NameId {
        value: xml::simple_text(n)?,
        format: n.attribute("Format").map(str::to_owned),
        name_qualifier: n.attribute("NameQualifier").map(str::to_owned),
        sp_name_qualifier: n.attribute("SPNameQualifier").map(str::to_owned),
        sp_provided_id: n.attribute("SPProvidedID").map(str::to_owned),
    })
}

/// SAML Core §2.2.4 EncryptedID: decrypt, then parse the NameID in the namespace context of the
/// EncryptedID element (XML Encryption 1.1 §4.5).
fn decrypt_name_id(enc: Node<'_, '_>, keys: &[PrivateKey]) -> Result<NameId> {
    let plaintext = crate::xmlenc::decrypt_element(enc, keys)?;
    let plaintext = std::str::from_utf8(&plaintext)
        .map_err(|_| Error::MalformedXml("decrypted NameID is not UTF-8".into()))?;
    let mut wrapper = String::from("<w");
    for ns in enc.namespaces() {
        match ns.name() {
            Some("xml") => {}
            Some(p) => wrapper.push_str(&format!(" xmlns:{p}=\"{}\"", xml::escape_attr(ns.uri()))),
            None => wrapper.push_str(&format!(" xmlns=\"{}\"", xml::escape_attr(ns.uri()))),
        }
    }
    let wrapped = format!("{wrapper}>{plaintext}</w>");
    let doc = xml::parse(&wrapped, &Limits::default())?;
    let mut kids = child_elements(doc.root_element());
    match (kids.next(), kids.next()) {
        (Some(n), None) if is(n, NS_ASSERTION, "NameID") => name_id_from(n),
        _ => Err(Error::MalformedMessage(
            "EncryptedID did not decrypt to one NameID".into(),
        )),
    }
}

/// Profiles §4.1.4.2: at least one bearer SubjectConfirmation whose SubjectConfirmationData has
/// Recipient = an ACS URL, NotOnOrAfter in the future, no NotBefore, and InResponseTo equal to
/// the Response's. Returns that NotOnOrAfter.
fn check_bearer(
    subject: Node<'_, '_>,
    sp: &SpConfig,
    in_response_to: Option<&str>,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<OffsetDateTime> {
    let mut first_error = None;
    for sc in child_elements(subject).filter(|n| is(*n, NS_ASSERTION, "SubjectConfirmation")) {
        if sc.attribute("Method") != Some(CM_BEARER) {
            continue;
        }
        match check_one_bearer(sc, sp, in_response_to, now, skew) {
            Ok(until) => return Ok(until),
            Err(e) => {
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error
        .unwrap_or_else(|| Error::SubjectConfirmation("no bearer SubjectConfirmation".into())))
}

fn check_one_bearer(
    sc: Node<'_, '_>,
    sp: &SpConfig,
    in_response_to: Option<&str>,
    now: OffsetDateTime,
    skew: Duration,
) -> Result<OffsetDateTime> {
    let data = xml::unique_child(sc, NS_ASSERTION, "SubjectConfirmationData")?
        .ok_or_else(|| Error::SubjectConfirmation("no SubjectConfirmationData".into()))?;
    let recipient = data
        .attribute("Recipient")
        .ok_or_else(|| Error::SubjectConfirmation("no Recipient".into()))?;
    if !sp.acs_urls.iter().any(|u| u == recipient) {
        return Err(Error::WrongRecipient(recipient.to_owned()));
    }
    if data.attribute("NotBefore").is_some() {
        return Err(Error::SubjectConfirmation(
            "bearer data must not have NotBefore".into(),
        ));
    }
    let noa = parse_instant(
        data.attribute("NotOnOrAfter")
            .ok_or_else(|| Error::SubjectConfirmation("no NotOnOrAfter".into()))?,
    )?;
    if now - skew >= noa {
        return Err(Error::Expired(format!(
            "SubjectConfirmationData NotOnOrAfter {noa}"
        )));
    }
    if data.attribute("InResponseTo") != in_response_to {
        return Err(Error::InResponseToMismatch(
            data.attribute("InResponseTo").unwrap_or("").to_owned(),
        ));
    }
    Ok(noa)
}

/// The Assertion Consumer Service endpoint: validation plus the stateful rules (outstanding
/// request consumed once, assertion ID consumed once) through the ports.
pub struct AssertionConsumer {
    /// SP policy.
    pub sp: SpConfig,
    /// The IdP trusted for this ACS.
    pub idp: IdentityProvider,
    /// Replay cache port.
    pub replay: Arc<dyn ReplayCache>,
    /// Outstanding requests port.
    pub requests: Arc<dyn RequestStore>,
    /// The SP's decryption keys for EncryptedAssertion/EncryptedID (empty: refuse them).
    pub decryption_keys: Vec<PrivateKey>,
}

impl std::fmt::Debug for AssertionConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AssertionConsumer")
            .field("sp", &self.sp)
            .finish_non_exhaustive()
    }
}

impl AssertionConsumer {
    /// Handles the HTTP-POST `SAMLResponse` form value (base64). Returns the assertion and the
    /// request it answers (`None` for an allowed unsolicited response).
    pub async fn handle_post(
        &self,
        saml_response: &[u8],
        now: OffsetDateTime,
    ) -> Result<(Assertion, Option<PendingRequest>)> {
        let bytes = decode_post_value(saml_response, &self.sp.limits)?;
        let v = validate_response_decrypting(
            &bytes,
            &self.sp,
            &self.idp,
            &self.decryption_keys,
            &RequestCheck::Deferred,
            now,
        )?;
        // Profiles §4.1.4.5: bearer assertions are used once.
        let expires =
            v.assertion.not_on_or_after + Duration::seconds(self.sp.clock_skew_seconds.max(0));
        if !self.replay.consume(&v.assertion.id, expires, now).await? {
            return Err(Error::Replay(v.assertion.id));
        }
        let pending = match v.in_response_to.as_deref() {
            Some(id) => {
                let p = self
                    .requests
                    .take(id, now)
                    .await?
                    .ok_or_else(|| Error::InResponseToMismatch(id.to_owned()))?;
                if p.idp_entity_id != self.idp.entity_id {
                    return Err(Error::InResponseToMismatch(id.to_owned()));
                }
                Some(p)
            }
            None => None,
        };
        Ok((v.assertion, pending))
    }
}
