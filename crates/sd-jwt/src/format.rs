//! The SD-JWT serializations: compact `<JWT>~<D1>~...~<Dn>~[<KB-JWT>]` (RFC 9901 §4) and the
//! JWS JSON serializations with `disclosures`/`kb_jwt` unprotected headers (RFC 9901 §8).

use serde_json::{Map, Value};

use crate::hash::SdAlg;
use crate::{Error, Result};

/// Parser limits. Exceeding one is [`Error::LimitExceeded`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Maximum length of a whole SD-JWT or presentation, in bytes.
    pub max_input_bytes: usize,
    /// Maximum number of Disclosures.
    pub max_disclosures: usize,
    /// Maximum nesting depth of JSON, counted through recursive Disclosures as well.
    pub max_depth: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 1 << 20,
            max_disclosures: 1024,
            max_depth: 32,
        }
    }
}

/// Which serialization an SD-JWT arrived in (and a presentation is produced in).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Serialization {
    /// `<JWT>~<D1>~...~` (RFC 9901 §4).
    #[default]
    Compact,
    /// Flattened JWS JSON with `header.disclosures` (RFC 9901 §8.1).
    FlattenedJson,
    /// General JWS JSON; `disclosures`/`kb_jwt` in the first signature's header (RFC 9901 §8.1).
    GeneralJson,
}

/// An SD-JWT or SD-JWT+KB split into its parts, nothing verified yet.
#[derive(Debug, Clone, PartialEq)]
pub struct SdJwt {
    serialization: Serialization,
    /// The Issuer-signed JWT in compact form. For the JSON serializations: the first
    /// signature's `protected.payload.signature` (the form `sd_hash` is computed over, §8.1).
    issuer_jwt: String,
    disclosures: Vec<String>,
    kb_jwt: Option<String>,
    /// The JSON serialization as received (JSON forms only), parsed.
    json: Option<Map<String, Value>>,
}

impl SdJwt {
    /// Parses either serialization: JSON when the first non-space character is `{`.
    pub fn parse(text: &str, limits: &Limits) -> Result<Self> {
        if text.len() > limits.max_input_bytes {
            return Err(Error::LimitExceeded(format!(
                "SD-JWT longer than {} bytes",
                limits.max_input_bytes
            )));
        }
        let trimmed = text.trim();
        if trimmed.starts_with('{') {
            SdJwt::parse_json(trimmed, limits)
        } else {
            SdJwt::parse_compact(trimmed, limits)
        }
    }

    /// Parses the compact form (RFC 9901 §4): the Issuer-signed JWT, then each Disclosure
    /// followed by `~`, then an optional KB-JWT. Empty Disclosures (`~~`) are malformed.
    pub fn parse_compact(text: &str, limits: &Limits) -> Result<Self> {
        if text.len() > limits.max_input_bytes {
            return Err(Error::LimitExceeded(format!(
                "SD-JWT longer than {} bytes",
                limits.max_input_bytes
            )));
        }
        let Some(last_tilde) = text.rfind('~') else {
            return Err(Error::Malformed(
                "no `~` separator: a JWT is not an SD-JWT (RFC 9901 §4)".into(),
            ));
        };
        let (head, tail) = (&text[..last_tilde], &text[last_tilde + 1..]);
        let mut parts = head.split('~');
        let issuer_jwt = parts.next().unwrap_or_default();
        check_compact_jws(issuer_jwt, "Issuer-signed JWT")?;
        let mut disclosures = Vec::new();
        for d in parts {
            if d.is_empty() {
                return Err(Error::Malformed("empty disclosure".into()));
            }
            if disclosures.len() == limits.max_disclosures {
                return Err(Error::LimitExceeded(format!(
                    "more than {} disclosures",
                    limits.max_disclosures
                )));
            }
            disclosures.push(d.to_owned());
        }
        let kb_jwt = if tail.is_empty() {
            None
        } else {
            check_compact_jws(tail, "Key Binding JWT")?;
            Some(tail.to_owned())
        };
        Ok(SdJwt {
            serialization: Serialization::Compact,
            issuer_jwt: issuer_jwt.to_owned(),
            disclosures,
            kb_jwt,
            json: None,
        })
    }

    /// Parses the JWS JSON serializations of RFC 9901 §8.1: `disclosures` (an array of
    /// strings, required) and `kb_jwt` (optional) are unprotected header members, in the
    /// General form only in the first signature's header.
    pub fn parse_json(text: &str, limits: &Limits) -> Result<Self> {
        if text.len() > limits.max_input_bytes {
            return Err(Error::LimitExceeded(format!(
                "SD-JWT longer than {} bytes",
                limits.max_input_bytes
            )));
        }
        let obj = crate::json::parse_object(text.as_bytes(), limits.max_depth, "SD-JWT JSON")?;
        let payload = str_member(&obj, "payload")?;
        let (serialization, first) = match obj.get("signatures") {
            Some(Value::Array(sigs)) => {
                let Some(Value::Object(first)) = sigs.first() else {
                    return Err(Error::Malformed("`signatures` must hold objects".into()));
                };
                for other in &sigs[1..] {
                    let header = other.get("header").and_then(Value::as_object);
                    if header
                        .is_some_and(|h| h.contains_key("disclosures") || h.contains_key("kb_jwt"))
                    {
                        return Err(Error::Malformed(
                            "`disclosures`/`kb_jwt` only in the first signature's header (RFC 9901 §8.1)".into(),
                        ));
                    }
                }
                (Serialization::GeneralJson, first)
            }
            Some(_) => return Err(Error::Malformed("`signatures` must be an array".into())),
            None => (Serialization::FlattenedJson, &obj),
        };
        let protected = str_member(first, "protected")?;
        let signature = str_member(first, "signature")?;
        let header = match first.get("header") {
            Some(Value::Object(h)) => h,
            _ => {
                return Err(Error::Malformed(
                    "missing unprotected `header` with `disclosures` (RFC 9901 §8.1)".into(),
                ))
            }
        };
        let disclosures = match header.get("disclosures") {
            Some(Value::Array(items)) => {
                if items.len() > limits.max_disclosures {
                    return Err(Error::LimitExceeded(format!(
                        "more than {} disclosures",
                        limits.max_disclosures
                    )));
                }
                items
                    .iter()
                    .map(|d| match d {
                        Value::String(s) if !s.is_empty() => Ok(s.clone()),
                        _ => Err(Error::Malformed(
                            "`disclosures` must hold non-empty strings".into(),
                        )),
                    })
                    .collect::<Result<Vec<_>>>()?
            }
            _ => {
                return Err(Error::Malformed(
                    "`disclosures` must be an array in the unprotected header (RFC 9901 §8.1)"
                        .into(),
                ))
            }
        };
        let kb_jwt = match header.get("kb_jwt") {
            None => None,
            Some(Value::String(s)) => {
                check_compact_jws(s, "Key Binding JWT")?;
                Some(s.clone())
            }
            Some(_) => return Err(Error::Malformed("`kb_jwt` must be a string".into())),
        };
        let issuer_jwt = format!("{protected}.{payload}.{signature}");
        check_compact_jws(&issuer_jwt, "Issuer-signed JWT")?;
        Ok(SdJwt {
            serialization,
            issuer_jwt,
            disclosures,
            kb_jwt,
            json: Some(obj),
        })
    }

    /// Assembles an SD-JWT from parts in the compact serialization.
    pub fn from_parts(
        issuer_jwt: String,
        disclosures: Vec<String>,
        kb_jwt: Option<String>,
    ) -> Self {
        SdJwt {
            serialization: Serialization::Compact,
            issuer_jwt,
            disclosures,
            kb_jwt,
            json: None,
        }
    }

    /// The serialization it was parsed from.
    pub fn serialization(&self) -> Serialization {
        self.serialization
    }
    /// The Issuer-signed JWT in compact form.
    pub fn issuer_jwt(&self) -> &str {
        &self.issuer_jwt
    }
    /// The Disclosures, as received.
    pub fn disclosures(&self) -> &[String] {
        &self.disclosures
    }
    /// Each Disclosure decoded, keeping the text it was received as (RFC 9901 §7.1 step 3).
    pub(crate) fn decode_disclosures(&self, max_depth: usize) -> Result<Vec<crate::Disclosure>> {
        self.disclosures
            .iter()
            .map(|d| crate::Disclosure::parse(d, max_depth))
            .collect()
    }
    /// The KB-JWT, if any.
    pub fn kb_jwt(&self) -> Option<&str> {
        self.kb_jwt.as_deref()
    }
    /// The JSON serialization as received (JSON forms only).
    pub fn json(&self) -> Option<&Map<String, Value>> {
        self.json.as_ref()
    }

    /// The text `sd_hash` covers (RFC 9901 §4.3.1, §8.1): the Issuer-signed JWT in compact
    /// form, then every Disclosure followed by `~`, without the KB-JWT.
    pub fn hash_input(&self) -> String {
        hash_input(
            &self.issuer_jwt,
            self.disclosures.iter().map(String::as_str),
        )
    }

    /// `sd_hash` for this presentation under `alg`.
    pub fn sd_hash(&self, alg: SdAlg) -> String {
        alg.digest_b64(&self.hash_input())
    }

    /// The same SD-JWT with other Disclosures and KB-JWT, in the same serialization.
    pub fn with(&self, disclosures: Vec<String>, kb_jwt: Option<String>) -> SdJwt {
        let mut out = self.clone();
        out.disclosures = disclosures;
        out.kb_jwt = kb_jwt;
        if let Some(json) = &mut out.json {
            let header = match self.serialization {
                Serialization::GeneralJson => json
                    .get_mut("signatures")
                    .and_then(Value::as_array_mut)
                    .and_then(|s| s.first_mut())
                    .and_then(Value::as_object_mut)
                    .and_then(|s| s.get_mut("header"))
                    .and_then(Value::as_object_mut),
                _ => json.get_mut("header").and_then(Value::as_object_mut),
            };
            if let Some(h) = header {
                h.insert(
                    "disclosures".into(),
                    Value::Array(out.disclosures.iter().cloned().map(Value::String).collect()),
                );
                match &out.kb_jwt {
                    Some(kb) => h.insert("kb_jwt".into(), kb.clone().into()),
                    None => h.remove("kb_jwt"),
                };
            }
        }
        out
    }

    /// Serializes in the form it was parsed from (or built for).
    pub fn serialize(&self) -> String {
        match &self.json {
            Some(json) if self.serialization != Serialization::Compact => {
                Value::Object(json.clone()).to_string()
            }
            _ => {
                let mut out = self.hash_input();
                if let Some(kb) = &self.kb_jwt {
                    out.push_str(kb);
                }
                out
            }
        }
    }

    /// The JSON text with the Disclosures and KB-JWT headers, for the JWS layer (JSON forms).
    pub(crate) fn json_text(&self) -> Option<String> {
        self.json
            .as_ref()
            .map(|j| Value::Object(j.clone()).to_string())
    }
}

impl std::fmt::Display for SdJwt {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.serialize())
    }
}

pub(crate) fn hash_input<'a>(
    issuer_jwt: &str,
    disclosures: impl Iterator<Item = &'a str>,
) -> String {
    let mut s = String::with_capacity(issuer_jwt.len() + 256);
    s.push_str(issuer_jwt);
    s.push('~');
    for d in disclosures {
        s.push_str(d);
        s.push('~');
    }
    s
}

fn str_member<'a>(obj: &'a Map<String, Value>, name: &str) -> Result<&'a str> {
    match obj.get(name) {
        Some(Value::String(s)) => Ok(s),
        Some(_) => Err(Error::Malformed(format!("`{name}` must be a string"))),
        None => Err(Error::Malformed(format!("missing `{name}`"))),
    }
}

/// A compact JWS has exactly three `.`-separated parts and a non-empty header.
fn check_compact_jws(s: &str, what: &str) -> Result<()> {
    let mut parts = s.split('.');
    let ok = matches!(
        (parts.next(), parts.next(), parts.next(), parts.next()),
        (Some(h), Some(_), Some(_), None) if !h.is_empty()
    );
    if ok {
        Ok(())
    } else {
        Err(Error::Malformed(format!("{what} is not a compact JWS")))
    }
}
