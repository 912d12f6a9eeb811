//! SAML 2.0 bindings (SAML Bindings): HTTP-Redirect (§3.4: DEFLATE, base64, query-string
//! signature over the exact octets) and HTTP-POST (§3.5: base64 form value, auto-submit form).

use std::io::{Read as _, Write as _};

use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use flate2::read::DeflateDecoder;
use flate2::write::DeflateEncoder;
use flate2::Compression;
use idforge_jose::crypto::{self, PrivateKey, PublicKey};

use crate::dsig::SignatureAlgorithm;
use crate::error::{Error, Result};
use crate::xml::{escape_attr, Limits};

/// Which kind of message a binding carries (the parameter name, Bindings §3.4.4 / §3.5.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// `SAMLRequest` (AuthnRequest, LogoutRequest).
    Request,
    /// `SAMLResponse` (Response, LogoutResponse).
    Response,
}

impl MessageKind {
    /// The form/query parameter name.
    pub fn param(self) -> &'static str {
        match self {
            MessageKind::Request => "SAMLRequest",
            MessageKind::Response => "SAMLResponse",
        }
    }
}

/// A signing key for query-string and XML signatures.
#[derive(Debug, Clone)]
pub struct SpSigner {
    /// The private key.
    pub key: PrivateKey,
    /// The certificate (DER) published in SP metadata and placed in `KeyInfo`.
    pub certificate: Option<Vec<u8>>,
    /// The signature algorithm.
    pub algorithm: SignatureAlgorithm,
}

fn enc(s: &str) -> String {
    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// Raw DEFLATE (RFC 1951) then base64, as Bindings §3.4.4.1 requires.
pub fn deflate_base64(xml: &str) -> Result<String> {
    let mut e = DeflateEncoder::new(Vec::new(), Compression::default());
    e.write_all(xml.as_bytes())
        .map_err(|_| Error::Binding("deflate".into()))?;
    let out = e.finish().map_err(|_| Error::Binding("deflate".into()))?;
    Ok(STANDARD.encode(out))
}

/// base64 then raw INFLATE with an output bound (DEFLATE bombs are refused at `limit` bytes).
pub fn inflate_base64(value: &str, limit: usize) -> Result<Vec<u8>> {
    let compact: String = value.chars().filter(|c| !c.is_ascii_whitespace()).collect();
    let raw = STANDARD
        .decode(compact)
        .map_err(|_| Error::Binding("message is not base64".into()))?;
    let mut out = Vec::new();
    let mut d = DeflateDecoder::new(raw.as_slice()).take(limit as u64 + 1);
    d.read_to_end(&mut out)
        .map_err(|_| Error::Binding("message is not DEFLATE data".into()))?;
    if out.len() > limit {
        return Err(Error::TooLarge(limit));
    }
    Ok(out)
}

/// Builds the HTTP-Redirect query string for `xml` (Bindings §3.4.4.1). With a signer, the
/// signature covers exactly `SAMLRequest=..&RelayState=..&SigAlg=..` as emitted.
pub fn redirect_query(
    kind: MessageKind,
    xml: &str,
    relay_state: Option<&str>,
    signer: Option<&SpSigner>,
) -> Result<String> {
    let mut q = format!("{}={}", kind.param(), enc(&deflate_base64(xml)?));
    if let Some(rs) = relay_state {
        // Bindings §3.4.3: RelayState MUST NOT exceed 80 bytes.
        if rs.len() > 80 {
            return Err(Error::Binding("RelayState longer than 80 bytes".into()));
        }
        q.push_str("&RelayState=");
        q.push_str(&enc(rs));
    }
    if let Some(s) = signer {
        q.push_str("&SigAlg=");
        q.push_str(&enc(s.algorithm.uri()));
        let kind_key =
            crypto::public_key_kind(&s.key.public_key().map_err(|e| Error::Key(e.to_string()))?);
        let scheme = s
            .algorithm
            .scheme(kind_key)
            .ok_or_else(|| Error::Key("signature algorithm does not fit the key".into()))?;
        let sig = crypto::sign(&s.key, scheme, q.as_bytes())
            .map_err(|_| Error::Key("signing failed".into()))?;
        q.push_str("&Signature=");
        q.push_str(&enc(&STANDARD.encode(sig)));
    }
    Ok(q)
}

/// `url` with `query` appended (`?` or `&`).
pub fn with_query(url: &str, query: &str) -> String {
    let sep = if url.contains('?') { '&' } else { '?' };
    format!("{url}{sep}{query}")
}

/// A decoded HTTP-Redirect message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectMessage {
    /// Request or response.
    pub kind: MessageKind,
    /// The inflated XML.
    pub xml: Vec<u8>,
    /// RelayState, decoded.
    pub relay_state: Option<String>,
    /// The query-string signature, if present.
    pub signature: Option<RedirectSignature>,
}

/// A query-string signature as received (Bindings §3.4.4.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RedirectSignature {
    /// `SigAlg`.
    pub algorithm: SignatureAlgorithm,
    /// The decoded `Signature`.
    pub value: Vec<u8>,
    /// The exact octets that were signed, rebuilt from the raw (still URL-encoded) parameters
    /// in the order the binding fixes.
    pub signed_octets: String,
}

fn dec(s: &str) -> Result<String> {
    let plus = s.replace('+', " ");
    let bytes: Vec<u8> = url::form_urlencoded::parse(format!("x={plus}").as_bytes())
        .next()
        .map(|(_, v)| v.into_owned().into_bytes())
        .unwrap_or_default();
    String::from_utf8(bytes).map_err(|_| Error::Binding("parameter is not UTF-8".into()))
}

/// Decodes an HTTP-Redirect query string (without the leading `?`). Repeated SAML parameters
/// are refused (HTTP parameter pollution); other parameters are ignored.
pub fn decode_redirect(query: &str, limits: &Limits, allow_sha1: bool) -> Result<RedirectMessage> {
    if query.len() > limits.max_bytes {
        return Err(Error::TooLarge(limits.max_bytes));
    }
    let mut req = None;
    let mut resp = None;
    let mut relay = None;
    let mut sigalg = None;
    let mut sig = None;
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        let slot = match k {
            "SAMLRequest" => &mut req,
            "SAMLResponse" => &mut resp,
            "RelayState" => &mut relay,
            "SigAlg" => &mut sigalg,
            "Signature" => &mut sig,
            _ => continue,
        };
        if slot.replace(v).is_some() {
            return Err(Error::Binding(format!("{k} repeated")));
        }
    }
    let (kind, raw_msg) = match (req, resp) {
        (Some(r), None) => (MessageKind::Request, r),
        (None, Some(r)) => (MessageKind::Response, r),
        _ => {
            return Err(Error::Binding(
                "exactly one of SAMLRequest/SAMLResponse".into(),
            ))
        }
    };
    let xml = inflate_base64(&dec(raw_msg)?, limits.max_bytes)?;
    let relay_state = relay.map(dec).transpose()?;
    let signature = match (sigalg, sig) {
        (None, None) => None,
        (Some(a), Some(s)) => {
            let alg_uri = dec(a)?;
            let algorithm = SignatureAlgorithm::from_uri(&alg_uri)
                .ok_or_else(|| Error::Unsupported(format!("SigAlg {alg_uri}")))?;
            if algorithm.is_sha1() && !allow_sha1 {
                return Err(Error::Unsupported(format!("SigAlg {alg_uri} (SHA-1)")));
            }
            let value = STANDARD
                .decode(dec(s)?.trim())
                .map_err(|_| Error::Binding("Signature is not base64".into()))?;
            let mut signed_octets = format!("{}={raw_msg}", kind.param());
            if let Some(r) = relay {
                signed_octets.push_str("&RelayState=");
                signed_octets.push_str(r);
            }
            signed_octets.push_str("&SigAlg=");
            signed_octets.push_str(a);
            Some(RedirectSignature {
                algorithm,
                value,
                signed_octets,
            })
        }
        _ => return Err(Error::Binding("SigAlg and Signature go together".into())),
    };
    Ok(RedirectMessage {
        kind,
        xml,
        relay_state,
        signature,
    })
}

impl RedirectMessage {
    /// Verifies the query-string signature with one of `keys`; a missing signature is
    /// `SignatureMissing`.
    pub fn verify(&self, keys: &[PublicKey]) -> Result<()> {
        let sig = self
            .signature
            .as_ref()
            .ok_or_else(|| Error::SignatureMissing("redirect binding without Signature".into()))?;
        let mut fitting = false;
        for key in keys {
            if let Some(scheme) = sig.algorithm.scheme(crypto::public_key_kind(key)) {
                fitting = true;
                if crypto::verify(key, scheme, sig.signed_octets.as_bytes(), &sig.value)
                    .unwrap_or(false)
                {
                    return Ok(());
                }
            }
        }
        if fitting {
            Err(Error::SignatureInvalid(
                "query-string signature does not verify".into(),
            ))
        } else {
            Err(Error::UntrustedKey)
        }
    }
}

/// The HTTP-POST binding's auto-submitting HTML form (Bindings §3.5.4), with a no-script
/// button. All values are HTML-escaped.
pub fn post_form(action: &str, kind: MessageKind, xml: &str, relay_state: Option<&str>) -> String {
    let value = STANDARD.encode(xml.as_bytes());
    let relay = relay_state
        .map(|r| {
            format!(
                "<input type=\"hidden\" name=\"RelayState\" value=\"{}\"/>",
                escape_attr(r)
            )
        })
        .unwrap_or_default();
    format!(
        concat!(
            "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>SAML</title></head>",
            "<body onload=\"document.forms[0].submit()\">",
            "<form method=\"post\" action=\"{action}\">",
            "<input type=\"hidden\" name=\"{param}\" value=\"{value}\"/>{relay}",
            "<noscript><button type=\"submit\">Continue</button></noscript>",
            "</form></body></html>\n"
        ),
        action = escape_attr(action),
        param = kind.param(),
        value = value,
        relay = relay,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inflate_refuses_bombs() {
        let big = "a".repeat(1 << 20);
        let b64 = deflate_base64(&big).expect("deflate");
        assert!(b64.len() < 4096);
        assert_eq!(
            inflate_base64(&b64, 1000).expect_err("bomb"),
            Error::TooLarge(1000)
        );
        assert_eq!(inflate_base64(&b64, 1 << 20).expect("fits").len(), 1 << 20);
        assert!(matches!(inflate_base64("!!", 10), Err(Error::Binding(_))));
    }

    #[test]
    fn repeated_parameters_are_refused() {
        let q = redirect_query(MessageKind::Request, "<a/>", None, None).expect("q");
        let doubled = format!("{q}&{q}");
        assert!(matches!(
            decode_redirect(&doubled, &Limits::default(), false),
            Err(Error::Binding(_))
        ));
    }

    #[test]
    fn form_escapes_values() {
        let html = post_form(
            "https://idp/sso?a=1&b=\"2\"",
            MessageKind::Request,
            "<x/>",
            Some("<rs>"),
        );
        assert!(html.contains("action=\"https://idp/sso?a=1&amp;b=&quot;2&quot;\""));
        assert!(html.contains("value=\"&lt;rs&gt;\""));
    }
}
