//! JSON Web Signature (RFC 7515): compact and JSON serializations, with RFC 7797 unencoded
//! payloads available only on request.
//!
//! Signing takes a [`Header`] and a signer; verification takes a [`JwsPolicy`] (the caller's
//! algorithm allow-list, understood `crit` names, limits) and a [`Verifier`]. The `alg` in the
//! token only selects among what the policy already allows (RFC 8725 §3.1).

use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::alg::JwsAlgorithm;
use crate::json::parse_object;
use crate::signer::{LocalSigner, Signer, Verifier};
use crate::{b64, Error, Key, Result};

/// A JOSE header: an ordered JSON object with typed accessors for the registered members.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Header {
    map: Map<String, Value>,
}

impl Header {
    /// An empty header.
    pub fn new() -> Self {
        Header::default()
    }

    /// A header holding `map` as is.
    pub fn from_map(map: Map<String, Value>) -> Self {
        Header { map }
    }

    /// The members.
    pub fn as_map(&self) -> &Map<String, Value> {
        &self.map
    }

    /// Member `name`, if present.
    pub fn get(&self, name: &str) -> Option<&Value> {
        self.map.get(name)
    }

    fn str_member(&self, name: &str) -> Option<&str> {
        self.map.get(name).and_then(Value::as_str)
    }

    /// `alg`.
    pub fn alg(&self) -> Option<&str> {
        self.str_member("alg")
    }
    /// `kid`.
    pub fn kid(&self) -> Option<&str> {
        self.str_member("kid")
    }
    /// `typ`.
    pub fn typ(&self) -> Option<&str> {
        self.str_member("typ")
    }
    /// `cty`.
    pub fn cty(&self) -> Option<&str> {
        self.str_member("cty")
    }

    /// Sets member `name`.
    pub fn set(&mut self, name: impl Into<String>, value: impl Into<Value>) -> &mut Self {
        self.map.insert(name.into(), value.into());
        self
    }

    /// Builder form of [`set`](Header::set).
    pub fn with(mut self, name: impl Into<String>, value: impl Into<Value>) -> Self {
        self.set(name, value);
        self
    }

    /// Sets `typ`.
    pub fn with_typ(self, typ: &str) -> Self {
        self.with("typ", typ)
    }

    /// Sets `kid`.
    pub fn with_kid(self, kid: &str) -> Self {
        self.with("kid", kid)
    }

    /// Whether `b64` is explicitly `false` (RFC 7797 §3).
    pub fn unencoded_payload(&self) -> bool {
        self.map.get("b64") == Some(&Value::Bool(false))
    }
}

/// Compares a `typ` (or `cty`) value with an expected media type as RFC 7515 §4.1.9 says:
/// case-insensitively, with the `application/` prefix optional.
pub fn media_type_eq(actual: &str, expected: &str) -> bool {
    fn strip(s: &str) -> &str {
        if s.len() > 12 && s[..12].eq_ignore_ascii_case("application/") {
            &s[12..]
        } else {
            s
        }
    }
    strip(actual).eq_ignore_ascii_case(strip(expected))
}

/// Size, depth and count limits for JWS parsing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Maximum length of a whole serialized JWS.
    pub max_input_bytes: usize,
    /// Maximum decoded size of one JOSE header.
    pub max_header_bytes: usize,
    /// Maximum nesting depth of a header or of the JSON serialization.
    pub max_json_depth: usize,
    /// Maximum number of signatures in the general JSON serialization.
    pub max_signatures: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 1 << 20,
            max_header_bytes: 16 << 10,
            max_json_depth: 16,
            max_signatures: 8,
        }
    }
}

/// What a verifier accepts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwsPolicy {
    /// The allow-list; a token whose `alg` is not here is rejected before any key is touched.
    pub algorithms: Vec<JwsAlgorithm>,
    /// Extension header names this application understands and processes, so they may appear
    /// in `crit` (RFC 7515 §4.1.11).
    pub critical: Vec<String>,
    /// Accept `b64: false` (RFC 7797). Off by default: most JWS consumers assume base64url
    /// payloads, and an unencoded payload changes what the signature covers.
    pub allow_unencoded_payload: bool,
    /// Parser limits.
    pub limits: Limits,
}

impl JwsPolicy {
    /// A policy accepting exactly `algorithms`.
    pub fn new(algorithms: impl IntoIterator<Item = JwsAlgorithm>) -> Self {
        JwsPolicy {
            algorithms: algorithms.into_iter().collect(),
            critical: Vec::new(),
            allow_unencoded_payload: false,
            limits: Limits::default(),
        }
    }

    /// Also understands the critical header `name`.
    pub fn understanding(mut self, name: impl Into<String>) -> Self {
        self.critical.push(name.into());
        self
    }

    /// Accepts RFC 7797 unencoded payloads.
    pub fn allowing_unencoded_payload(mut self) -> Self {
        self.allow_unencoded_payload = true;
        self
    }
}

/// A JWS whose signature verified.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The JOSE header (protected and unprotected members together).
    pub header: Header,
    /// The payload bytes.
    pub payload: Vec<u8>,
    /// Which signature verified (0 for compact and flattened).
    pub signature_index: usize,
    /// The algorithm that verified.
    pub alg: JwsAlgorithm,
}

// ---------------------------------------------------------------------------------------------
// Signing

fn prepare_header(mut header: Header, alg: JwsAlgorithm, kid: Option<&str>) -> Result<Header> {
    match header.alg() {
        Some(a) if a != alg.name() => {
            return Err(Error::InvalidHeader(format!(
                "header says {a} but the signer uses {alg}"
            )));
        }
        _ => {
            header.set("alg", alg.name());
        }
    }
    if let (None, Some(kid)) = (header.kid(), kid) {
        header.set("kid", kid);
    }
    if header.get("b64").is_some() {
        check_b64_member(&header)?;
    }
    Ok(header)
}

fn signing_input(protected_b64: &str, payload: &[u8], unencoded: bool) -> Vec<u8> {
    let mut input = Vec::with_capacity(protected_b64.len() + 1 + payload.len() * 4 / 3 + 4);
    input.extend_from_slice(protected_b64.as_bytes());
    input.push(b'.');
    if unencoded {
        input.extend_from_slice(payload);
    } else {
        let mut s = String::with_capacity(payload.len() * 4 / 3 + 4);
        b64::encode_into(payload, &mut s);
        input.extend_from_slice(s.as_bytes());
    }
    input
}

/// The pieces of a signature in progress.
struct Pending {
    protected_b64: String,
    input: Vec<u8>,
    unencoded: bool,
}

fn begin(header: Header, alg: JwsAlgorithm, kid: Option<&str>, payload: &[u8]) -> Result<Pending> {
    let header = prepare_header(header, alg, kid)?;
    let json = serde_json::to_vec(&header.map).map_err(|_| Error::Backend)?;
    let protected_b64 = b64::encode(json);
    let unencoded = header.unencoded_payload();
    let input = signing_input(&protected_b64, payload, unencoded);
    Ok(Pending {
        protected_b64,
        input,
        unencoded,
    })
}

fn finish_compact(p: Pending, signature: &[u8], detached: bool) -> Result<String> {
    let sig = b64::encode(signature);
    if detached {
        return Ok(format!("{}..{}", p.protected_b64, sig));
    }
    if p.unencoded && p.input[p.protected_b64.len() + 1..].contains(&b'.') {
        // RFC 7797 §5.2: an unencoded payload containing '.' cannot use the compact form.
        return Err(Error::InvalidHeader(
            "unencoded payload contains '.'; use a detached payload".into(),
        ));
    }
    let mut out = String::from_utf8(p.input)
        .map_err(|_| Error::InvalidHeader("unencoded payload is not valid UTF-8".into()))?;
    out.push('.');
    out.push_str(&sig);
    Ok(out)
}

/// Signs `payload` into a compact JWS with a local key (synchronous fast path). `alg` is set from
/// the signer, and `kid` too when the header has none.
pub fn sign_compact(header: Header, payload: &[u8], signer: &LocalSigner) -> Result<String> {
    let p = begin(header, signer.algorithm(), signer.key_id(), payload)?;
    let sig = signer.sign_sync(&p.input)?;
    finish_compact(p, &sig, false)
}

/// Signs `payload` into a compact JWS with any [`Signer`] (KMS, HSM, local).
pub async fn sign_compact_with(
    header: Header,
    payload: &[u8],
    signer: &dyn Signer,
) -> Result<String> {
    let p = begin(header, signer.algorithm(), signer.key_id(), payload)?;
    let sig = signer.sign(&p.input).await?;
    finish_compact(p, &sig, false)
}

/// Signs with a detached payload (RFC 7515 Appendix F): `header..signature`.
pub fn sign_compact_detached(
    header: Header,
    payload: &[u8],
    signer: &LocalSigner,
) -> Result<String> {
    let p = begin(header, signer.algorithm(), signer.key_id(), payload)?;
    let sig = signer.sign_sync(&p.input)?;
    finish_compact(p, &sig, true)
}

/// One signer of a JSON-serialized JWS: its protected header, optional unprotected header, key.
pub struct JsonSignature<'a> {
    /// Integrity-protected header members.
    pub protected: Header,
    /// Unprotected header members (must not repeat protected names, RFC 7515 §7.2.1).
    pub unprotected: Option<Header>,
    /// The signer.
    pub signer: &'a LocalSigner,
}

/// Signs `payload` in the JWS JSON serialization (RFC 7515 §7.2): flattened when there is one
/// signature and `flattened` is set, general otherwise.
pub fn sign_json(
    payload: &[u8],
    signatures: Vec<JsonSignature<'_>>,
    flattened: bool,
) -> Result<String> {
    if signatures.is_empty() || (flattened && signatures.len() != 1) {
        return Err(Error::InvalidHeader(
            "flattened JSON needs exactly one signature".into(),
        ));
    }
    let mut entries = Vec::with_capacity(signatures.len());
    let mut unencoded = None;
    for s in signatures {
        // The signer's `kid` goes into the protected header only when neither header names one:
        // a `kid` the caller put in the unprotected header (RFC 7520 §4.6) must not be repeated,
        // since the two headers must be disjoint (RFC 7515 §7.2.1).
        let unprotected_kid = s
            .unprotected
            .as_ref()
            .is_some_and(|u| u.get("kid").is_some());
        let kid = if unprotected_kid {
            None
        } else {
            s.signer.key_id()
        };
        let p = begin(s.protected, s.signer.algorithm(), kid, payload)?;
        if *unencoded.get_or_insert(p.unencoded) != p.unencoded {
            return Err(Error::InvalidHeader(
                "b64 must be the same for all signatures".into(),
            ));
        }
        if let Some(u) = &s.unprotected {
            let protected: Map<String, Value> =
                serde_json::from_slice(&b64::decode(&p.protected_b64, "protected")?)
                    .map_err(|_| Error::Backend)?;
            disjoint(&protected, u.as_map())?;
        }
        let sig = s.signer.sign_sync(&p.input)?;
        let mut entry = Map::new();
        entry.insert("protected".into(), p.protected_b64.into());
        if let Some(u) = s.unprotected {
            entry.insert("header".into(), Value::Object(u.map));
        }
        entry.insert("signature".into(), b64::encode(sig).into());
        entries.push(entry);
    }
    let payload_value = if unencoded == Some(true) {
        String::from_utf8(payload.to_vec())
            .map_err(|_| Error::InvalidHeader("unencoded payload is not UTF-8".into()))?
    } else {
        b64::encode(payload)
    };
    let mut out = Map::new();
    out.insert("payload".into(), payload_value.into());
    if flattened {
        out.extend(entries.remove(0));
    } else {
        out.insert(
            "signatures".into(),
            Value::Array(entries.into_iter().map(Value::Object).collect()),
        );
    }
    Ok(Value::Object(out).to_string())
}

// ---------------------------------------------------------------------------------------------
// Verification

fn disjoint(protected: &Map<String, Value>, unprotected: &Map<String, Value>) -> Result<()> {
    // RFC 7515 §7.2.1: the protected and unprotected header names MUST be disjoint.
    match unprotected.keys().find(|k| protected.contains_key(*k)) {
        Some(dup) => Err(Error::InvalidHeader(format!(
            "`{dup}` appears in both protected and unprotected headers"
        ))),
        None => Ok(()),
    }
}

fn check_b64_member(header: &Header) -> Result<()> {
    // RFC 7797 §3 and §6: `b64` is a boolean and, when present, must be listed in `crit`.
    match header.get("b64") {
        None => Ok(()),
        Some(Value::Bool(_)) => {
            let listed = header
                .get("crit")
                .and_then(Value::as_array)
                .is_some_and(|c| c.iter().any(|n| n == "b64"));
            if listed {
                Ok(())
            } else {
                Err(Error::InvalidHeader(
                    "`b64` must be listed in `crit`".into(),
                ))
            }
        }
        Some(_) => Err(Error::InvalidHeader("`b64` must be a boolean".into())),
    }
}

/// A compact JWS parsed and checked up to its signature.
struct Compact<'t> {
    parsed: Parsed,
    protected_b64: &'t str,
    segment: Cow<'t, [u8]>,
    payload: Vec<u8>,
    signature: Vec<u8>,
}

struct Parsed {
    header: Header,
    alg: JwsAlgorithm,
    unencoded: bool,
}

fn parse_headers(
    protected_b64: &str,
    unprotected: Option<Map<String, Value>>,
    policy: &JwsPolicy,
) -> Result<Parsed> {
    if protected_b64.len() > policy.limits.max_header_bytes * 4 / 3 + 4 {
        return Err(Error::LimitExceeded("protected header too large".into()));
    }
    let protected = if protected_b64.is_empty() {
        Map::new()
    } else {
        let bytes = b64::decode(protected_b64, "protected header")?;
        parse_object(&bytes, policy.limits.max_json_depth, "protected header")?
    };
    if protected.is_empty() && unprotected.is_none() {
        return Err(Error::InvalidHeader("empty JOSE header".into()));
    }
    // RFC 7515 §4.1.11; `b64` (RFC 7797 §6) is understood only when the policy allows it.
    crate::crit::check(
        &protected,
        &unprotected.iter().collect::<Vec<_>>(),
        &protected,
        &[],
        |name| {
            (name == "b64" && policy.allow_unencoded_payload)
                || policy.critical.iter().any(|c| c == name)
        },
    )?;
    if unprotected.as_ref().is_some_and(|u| u.contains_key("b64")) {
        return Err(Error::InvalidHeader(
            "`b64` must be integrity protected".into(),
        ));
    }
    let protected_header = Header::from_map(protected);
    check_b64_member(&protected_header)?;
    let unencoded = protected_header.unencoded_payload();
    if unencoded && !policy.allow_unencoded_payload {
        return Err(Error::UnsupportedCritical("b64".into()));
    }
    let mut map = protected_header.map;
    if let Some(u) = unprotected {
        disjoint(&map, &u)?;
        map.extend(u);
    }
    let header = Header::from_map(map);
    let alg_name = match header.get("alg") {
        Some(Value::String(s)) => s.as_str(),
        Some(_) => return Err(Error::InvalidHeader("`alg` must be a string".into())),
        None => return Err(Error::InvalidHeader("missing `alg`".into())),
    };
    let alg = JwsAlgorithm::from_name(alg_name)?;
    if !policy.algorithms.contains(&alg) {
        return Err(Error::AlgorithmNotAllowed(alg_name.to_owned()));
    }
    if header.get("kid").is_some_and(|k| !k.is_string()) {
        return Err(Error::InvalidHeader("`kid` must be a string".into()));
    }
    Ok(Parsed {
        header,
        alg,
        unencoded,
    })
}

impl JwsPolicy {
    fn check_size(&self, len: usize) -> Result<()> {
        if len > self.limits.max_input_bytes {
            return Err(Error::LimitExceeded(format!(
                "JWS longer than {} bytes",
                self.limits.max_input_bytes
            )));
        }
        Ok(())
    }

    /// Verifies a compact JWS (RFC 7515 §5.2) and returns its header and payload.
    pub fn verify_compact(&self, token: &str, verifier: &dyn Verifier) -> Result<Verified> {
        self.verify_compact_inner(token, None, verifier)
    }

    /// Verifies a compact JWS whose payload was detached (RFC 7515 Appendix F).
    pub fn verify_compact_detached(
        &self,
        token: &str,
        payload: &[u8],
        verifier: &dyn Verifier,
    ) -> Result<Verified> {
        self.verify_compact_inner(token, Some(payload), verifier)
    }

    /// Verifies a compact JWS whose key comes from its own protected header (a `jwk`, an
    /// `x5c` chain, a DID URL in `kid`: OID4VCI key proofs, DPoP proofs). `resolve` sees the
    /// header once the policy's checks have passed (size, `alg` allow-list, `crit`, `b64`) and
    /// returns the key to verify with, which comes back with the result. The header is parsed
    /// once, where [`peek_header`] followed by [`verify_compact`](Self::verify_compact) parses
    /// it twice.
    pub fn verify_compact_with_header_key(
        &self,
        token: &str,
        resolve: impl FnOnce(&Header) -> Result<Key>,
    ) -> Result<(Verified, Key)> {
        let c = self.parse_compact(token, None)?;
        let key = resolve(&c.parsed.header)?;
        let verified = self.finish(
            c.parsed,
            c.protected_b64,
            &c.segment,
            c.payload,
            &c.signature,
            0,
            &key,
        )?;
        Ok((verified, key))
    }

    fn verify_compact_inner(
        &self,
        token: &str,
        detached: Option<&[u8]>,
        verifier: &dyn Verifier,
    ) -> Result<Verified> {
        let c = self.parse_compact(token, detached)?;
        self.finish(
            c.parsed,
            c.protected_b64,
            &c.segment,
            c.payload,
            &c.signature,
            0,
            verifier,
        )
    }

    /// Splits and parses a compact JWS up to, not including, the signature check.
    fn parse_compact<'t>(&self, token: &'t str, detached: Option<&'t [u8]>) -> Result<Compact<'t>> {
        self.check_size(token.len())?;
        let token = token.trim_end_matches(['\r', '\n']);
        let mut parts = token.splitn(3, '.');
        let (Some(h), Some(p), Some(s)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(Error::Malformed("a compact JWS has three parts".into()));
        };
        if s.contains('.') {
            return Err(Error::Malformed("a compact JWS has three parts".into()));
        }
        if h.is_empty() {
            return Err(Error::Malformed("empty protected header".into()));
        }
        let parsed = parse_headers(h, None, self)?;
        let signature = b64::decode(s, "signature")?;
        // The signing input uses the payload segment as sent (RFC 7515 §5.2 step 8); a detached
        // payload (Appendix F) is encoded here unless `b64: false` (RFC 7797 §3).
        let (segment, payload): (Cow<'_, [u8]>, Vec<u8>) = match (detached, parsed.unencoded) {
            (Some(_), _) if !p.is_empty() => {
                return Err(Error::Malformed(
                    "payload given twice (detached and in the token)".into(),
                ))
            }
            (Some(d), true) => (Cow::Borrowed(d), d.to_vec()),
            (Some(d), false) => (Cow::Owned(b64::encode(d).into_bytes()), d.to_vec()),
            (None, true) => (Cow::Borrowed(p.as_bytes()), p.as_bytes().to_vec()),
            (None, false) => (Cow::Borrowed(p.as_bytes()), b64::decode(p, "payload")?),
        };
        Ok(Compact {
            parsed,
            protected_b64: h,
            segment,
            payload,
            signature,
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn finish(
        &self,
        parsed: Parsed,
        protected_b64: &str,
        payload_segment: &[u8],
        payload: Vec<u8>,
        signature: &[u8],
        index: usize,
        verifier: &dyn Verifier,
    ) -> Result<Verified> {
        let mut input = Vec::with_capacity(protected_b64.len() + 1 + payload_segment.len());
        input.extend_from_slice(protected_b64.as_bytes());
        input.push(b'.');
        input.extend_from_slice(payload_segment);
        verifier.verify(parsed.alg, parsed.header.kid(), &input, signature)?;
        Ok(Verified {
            header: parsed.header,
            payload,
            signature_index: index,
            alg: parsed.alg,
        })
    }

    /// Verifies a JWS in the JSON serialization (RFC 7515 §7.2), general or flattened. Succeeds
    /// with the first signature that verifies under this policy; fails if none does.
    pub fn verify_json(&self, text: &str, verifier: &dyn Verifier) -> Result<Verified> {
        self.check_size(text.len())?;
        let mut outer = parse_object(text.as_bytes(), self.limits.max_json_depth, "JWS JSON")?;
        let payload_segment = match outer.remove("payload") {
            Some(Value::String(p)) => p,
            Some(_) => return Err(Error::Malformed("`payload` must be a string".into())),
            None => return Err(Error::Malformed("missing `payload`".into())),
        };
        let entries: Vec<Map<String, Value>> = match outer.remove("signatures") {
            Some(Value::Array(items)) => {
                if ["protected", "header", "signature"]
                    .iter()
                    .any(|k| outer.contains_key(*k))
                {
                    return Err(Error::Malformed(
                        "general and flattened syntax mixed".into(),
                    ));
                }
                if items.is_empty() {
                    return Err(Error::Malformed("`signatures` is empty".into()));
                }
                if items.len() > self.limits.max_signatures {
                    return Err(Error::LimitExceeded(format!(
                        "more than {} signatures",
                        self.limits.max_signatures
                    )));
                }
                items
                    .into_iter()
                    .map(|v| match v {
                        Value::Object(m) => Ok(m),
                        _ => Err(Error::Malformed(
                            "a signature entry must be an object".into(),
                        )),
                    })
                    .collect::<Result<_>>()?
            }
            Some(_) => return Err(Error::Malformed("`signatures` must be an array".into())),
            None => vec![outer],
        };
        let mut first_err = None;
        let mut unencoded_seen = None;
        for (index, mut entry) in entries.into_iter().enumerate() {
            let result = (|| {
                let protected = match entry.remove("protected") {
                    Some(Value::String(s)) => s,
                    None => String::new(),
                    Some(_) => return Err(Error::Malformed("`protected` must be a string".into())),
                };
                let unprotected = match entry.remove("header") {
                    Some(Value::Object(m)) => Some(m),
                    None => None,
                    Some(_) => return Err(Error::Malformed("`header` must be an object".into())),
                };
                let signature = match entry.remove("signature") {
                    Some(Value::String(s)) => b64::decode(s, "signature")?,
                    _ => return Err(Error::Malformed("missing `signature`".into())),
                };
                let parsed = parse_headers(&protected, unprotected, self)?;
                // RFC 7797 §3: all signatures must agree on b64.
                if *unencoded_seen.get_or_insert(parsed.unencoded) != parsed.unencoded {
                    return Err(Error::InvalidHeader(
                        "b64 differs between signatures".into(),
                    ));
                }
                let payload = if parsed.unencoded {
                    payload_segment.as_bytes().to_vec()
                } else {
                    b64::decode(&payload_segment, "payload")?
                };
                self.finish(
                    parsed,
                    &protected,
                    payload_segment.as_bytes(),
                    payload,
                    &signature,
                    index,
                    verifier,
                )
            })();
            match result {
                Ok(v) => return Ok(v),
                Err(e) => {
                    first_err.get_or_insert(e);
                }
            }
        }
        Err(first_err.unwrap_or(Error::InvalidSignature))
    }

    /// Verifies either serialization, chosen by the first non-space character.
    pub fn verify(&self, input: &str, verifier: &dyn Verifier) -> Result<Verified> {
        if input.trim_start().starts_with('{') {
            self.verify_json(input, verifier)
        } else {
            self.verify_compact(input.trim(), verifier)
        }
    }
}

/// Decodes a compact JWS header without verifying anything — for routing only (e.g. choosing a
/// key set by `kid`); never trust what it returns.
pub fn peek_header(token: &str) -> Result<Header> {
    let h = token.split('.').next().unwrap_or_default();
    let bytes = b64::decode(h, "protected header")?;
    Ok(Header::from_map(parse_object(
        &bytes,
        Limits::default().max_json_depth,
        "protected header",
    )?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::crypto::EcCurve;
    use crate::KeySpec;

    /// The key comes from the header; the resolver runs only after the policy's header
    /// checks, its error is the result, and the signature is still checked.
    #[test]
    fn verify_compact_with_header_key() {
        let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
        let header = Header::new().with("jwk", key.public_jwk().unwrap().to_value());
        let token = sign_compact(header, b"{}", &signer).unwrap();
        let from_header = |h: &Header| {
            let jwk = crate::Jwk::from_value(h.get("jwk").cloned().unwrap_or_default())?;
            Key::from_jwk(jwk)
        };
        let policy = JwsPolicy::new([JwsAlgorithm::ES256]);
        let (v, k) = policy
            .verify_compact_with_header_key(&token, from_header)
            .unwrap();
        assert_eq!(v.payload, b"{}");
        assert_eq!(k.jwk(), &key.public_jwk().unwrap());
        // Another key in the header: the signature does not verify.
        let other = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let forged = sign_compact(
            Header::new().with("jwk", key.public_jwk().unwrap().to_value()),
            b"{}",
            &LocalSigner::new(other, JwsAlgorithm::ES256).unwrap(),
        )
        .unwrap();
        assert!(policy
            .verify_compact_with_header_key(&forged, from_header)
            .is_err());
        // The resolver's error is the result.
        let e = policy
            .verify_compact_with_header_key(&token, |_| Err(Error::InvalidKey("no".into())))
            .unwrap_err();
        assert!(matches!(e, Error::InvalidKey(m) if m == "no"));
        // An algorithm outside the policy fails before the resolver runs.
        let mut called = false;
        let r = JwsPolicy::new([JwsAlgorithm::ES384]).verify_compact_with_header_key(&token, |h| {
            called = true;
            from_header(h)
        });
        assert!(r.is_err() && !called);
    }
}
