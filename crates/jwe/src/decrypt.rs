//! Decryption (RFC 7516 §5.2) of the compact (§7.1) and JSON (§7.2) serializations.

use idforge_jose::json::parse_object;
use idforge_jose::{b64, Header, Key, KeySet};
use serde_json::{Map, Value};

use crate::alg::{ContentEncryption, KeyManagementAlgorithm};
use crate::keymgmt;
use crate::{zip, Error, Result};

/// Size, depth, count and work limits for JWE parsing (defaults suit ID tokens and API
/// payloads).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Limits {
    /// Maximum length of a whole serialized JWE (default 1 MiB).
    pub max_input_bytes: usize,
    /// Maximum size of a `zip: "DEF"` plaintext after inflation (default 250 KiB). Inflation
    /// streams and stops at this bound, so a zip bomb costs at most this much memory.
    pub max_plaintext_bytes: usize,
    /// Maximum nesting depth of a header or of the JSON serialization (default 16).
    pub max_json_depth: usize,
    /// Maximum number of recipients in the general JSON serialization (default 16).
    pub max_recipients: usize,
    /// Maximum PBES2 iteration count `p2c` accepted (default 310 000), bounding the work one
    /// token can cost (RFC 8725 §3.8: PBES2 DoS).
    pub max_pbes2_count: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 1 << 20,
            max_plaintext_bytes: 250 << 10,
            max_json_depth: 16,
            max_recipients: 16,
            max_pbes2_count: 310_000,
        }
    }
}

/// What a recipient accepts: the caller's allow-lists decide, never the token (RFC 8725 §3.1).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JwePolicy {
    /// Key management algorithms accepted; anything else is [`Error::AlgorithmNotAllowed`].
    pub algorithms: Vec<KeyManagementAlgorithm>,
    /// Content encryption algorithms accepted.
    pub encryptions: Vec<ContentEncryption>,
    /// Extension header names this application understands, so they may appear in `crit`
    /// (RFC 7516 §4.1.13).
    pub critical: Vec<String>,
    /// Parser limits.
    pub limits: Limits,
}

/// A JWE that decrypted and authenticated.
#[derive(Debug, Clone, PartialEq)]
pub struct Decrypted {
    /// The JOSE header: protected, shared unprotected and the recipient's header merged
    /// (RFC 7516 §7.2.1 guarantees their names are disjoint). Only the protected members are
    /// integrity protected.
    pub header: Header,
    /// The plaintext (inflated if `zip` was `DEF`).
    pub plaintext: Vec<u8>,
    /// Which recipient's key opened it (0 for compact and flattened JSON).
    pub recipient_index: usize,
    /// The key management algorithm used.
    pub alg: KeyManagementAlgorithm,
    /// The content encryption algorithm used.
    pub enc: ContentEncryption,
}

/// A recipient's unprotected header and encrypted key.
type RecipientPart = (Option<Map<String, Value>>, Vec<u8>);

/// A JWE split into its parts, not yet trusted.
struct Parts {
    protected_b64: String,
    protected: Map<String, Value>,
    shared: Option<Map<String, Value>>,
    recipients: Vec<RecipientPart>,
    iv: Vec<u8>,
    ciphertext: Vec<u8>,
    tag: Vec<u8>,
    aad_b64: Option<String>,
}

fn decode(s: &str, what: &'static str) -> Result<Vec<u8>> {
    b64::decode(s, what).map_err(|_| Error::Malformed(format!("`{what}` is not base64url")))
}

fn take_string(m: &mut Map<String, Value>, name: &'static str) -> Result<Option<String>> {
    match m.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::Malformed(format!("`{name}` must be a string"))),
    }
}

fn take_object(
    m: &mut Map<String, Value>,
    name: &'static str,
) -> Result<Option<Map<String, Value>>> {
    match m.remove(name) {
        None => Ok(None),
        Some(Value::Object(o)) => Ok(Some(o)),
        Some(_) => Err(Error::Malformed(format!("`{name}` must be an object"))),
    }
}

/// RFC 7516 §7.2.1: the names in the protected, shared unprotected and per-recipient headers
/// MUST be disjoint.
fn merge(
    protected: &Map<String, Value>,
    shared: Option<&Map<String, Value>>,
    recipient: Option<&Map<String, Value>>,
) -> Result<Map<String, Value>> {
    let mut merged = protected.clone();
    for part in [shared, recipient].into_iter().flatten() {
        for (k, v) in part {
            if merged.contains_key(k) {
                return Err(Error::InvalidHeader(format!(
                    "`{k}` appears in more than one header"
                )));
            }
            merged.insert(k.clone(), v.clone());
        }
    }
    Ok(merged)
}

impl JwePolicy {
    /// A policy accepting exactly these algorithms, with default limits and no extensions.
    pub fn new(
        algorithms: impl IntoIterator<Item = KeyManagementAlgorithm>,
        encryptions: impl IntoIterator<Item = ContentEncryption>,
    ) -> Self {
        JwePolicy {
            algorithms: algorithms.into_iter().collect(),
            encryptions: encryptions.into_iter().collect(),
            critical: Vec::new(),
            limits: Limits::default(),
        }
    }

    /// Also understands the critical header `name`.
    pub fn understanding(mut self, name: impl Into<String>) -> Self {
        self.critical.push(name.into());
        self
    }

    /// Replaces the limits.
    pub fn with_limits(mut self, limits: Limits) -> Self {
        self.limits = limits;
        self
    }

    fn check_size(&self, len: usize) -> Result<()> {
        if len > self.limits.max_input_bytes {
            return Err(Error::LimitExceeded(format!(
                "JWE longer than {} bytes",
                self.limits.max_input_bytes
            )));
        }
        Ok(())
    }

    fn parse_protected(&self, protected_b64: &str) -> Result<Map<String, Value>> {
        if protected_b64.is_empty() {
            return Ok(Map::new());
        }
        let bytes = decode(protected_b64, "protected")?;
        Ok(parse_object(
            &bytes,
            self.limits.max_json_depth,
            "protected header",
        )?)
    }

    /// Decrypts a compact JWE (RFC 7516 §7.1: five base64url parts) with the first key of
    /// `keys` that fits.
    pub fn decrypt_compact(&self, token: &str, keys: &KeySet) -> Result<Decrypted> {
        self.check_size(token.len())?;
        let token = token.trim();
        let parts: Vec<&str> = token.split('.').collect();
        let [h, ek, iv, ct, tag] = parts.as_slice() else {
            return Err(Error::Malformed(format!(
                "a compact JWE has 5 parts, this has {}",
                parts.len()
            )));
        };
        if h.is_empty() {
            return Err(Error::Malformed("empty protected header".into()));
        }
        let parsed = Parts {
            protected_b64: (*h).to_owned(),
            protected: self.parse_protected(h)?,
            shared: None,
            recipients: vec![(None, decode(ek, "encrypted_key")?)],
            iv: decode(iv, "iv")?,
            ciphertext: decode(ct, "ciphertext")?,
            tag: decode(tag, "tag")?,
            aad_b64: None,
        };
        self.decrypt_parts(parsed, keys)
    }

    /// Decrypts a JWE in the JSON serialization, general or flattened (RFC 7516 §7.2). Each
    /// recipient is tried in order; the first whose key opens the JWE wins.
    pub fn decrypt_json(&self, text: &str, keys: &KeySet) -> Result<Decrypted> {
        self.check_size(text.len())?;
        let mut outer = parse_object(text.as_bytes(), self.limits.max_json_depth, "JWE JSON")?;
        let protected_b64 = take_string(&mut outer, "protected")?.unwrap_or_default();
        let protected = self.parse_protected(&protected_b64)?;
        let shared = take_object(&mut outer, "unprotected")?;
        let iv = decode(&take_string(&mut outer, "iv")?.unwrap_or_default(), "iv")?;
        let ciphertext = match take_string(&mut outer, "ciphertext")? {
            Some(c) => decode(&c, "ciphertext")?,
            None => return Err(Error::Malformed("missing `ciphertext`".into())),
        };
        let tag = decode(&take_string(&mut outer, "tag")?.unwrap_or_default(), "tag")?;
        let aad_b64 = take_string(&mut outer, "aad")?;
        if let Some(a) = &aad_b64 {
            decode(a, "aad")?;
        }
        let recipients = match outer.remove("recipients") {
            Some(Value::Array(items)) => {
                if outer.contains_key("header") || outer.contains_key("encrypted_key") {
                    return Err(Error::Malformed(
                        "general and flattened syntax mixed".into(),
                    ));
                }
                if items.is_empty() {
                    return Err(Error::Malformed("`recipients` is empty".into()));
                }
                if items.len() > self.limits.max_recipients {
                    return Err(Error::LimitExceeded(format!(
                        "more than {} recipients",
                        self.limits.max_recipients
                    )));
                }
                let mut out = Vec::with_capacity(items.len());
                for item in items {
                    let Value::Object(mut r) = item else {
                        return Err(Error::Malformed("a recipient must be an object".into()));
                    };
                    let header = take_object(&mut r, "header")?;
                    let ek = decode(
                        &take_string(&mut r, "encrypted_key")?.unwrap_or_default(),
                        "encrypted_key",
                    )?;
                    out.push((header, ek));
                }
                out
            }
            Some(_) => return Err(Error::Malformed("`recipients` must be an array".into())),
            None => {
                let header = take_object(&mut outer, "header")?;
                let ek = decode(
                    &take_string(&mut outer, "encrypted_key")?.unwrap_or_default(),
                    "encrypted_key",
                )?;
                vec![(header, ek)]
            }
        };
        let parsed = Parts {
            protected_b64,
            protected,
            shared,
            recipients,
            iv,
            ciphertext,
            tag,
            aad_b64,
        };
        self.decrypt_parts(parsed, keys)
    }

    /// Decrypts either serialization, chosen by the first non-space character (`{` for JSON).
    pub fn decrypt(&self, input: &str, keys: &KeySet) -> Result<Decrypted> {
        if input.trim_start().starts_with('{') {
            self.decrypt_json(input, keys)
        } else {
            self.decrypt_compact(input, keys)
        }
    }

    /// RFC 7516 §5.2 steps 3–5 for one recipient: merged header, `crit`, `zip` placement,
    /// `alg`/`enc` parsed and checked against the allow-lists.
    fn recipient_header(
        &self,
        parts: &Parts,
        recipient: Option<&Map<String, Value>>,
    ) -> Result<(
        Map<String, Value>,
        KeyManagementAlgorithm,
        ContentEncryption,
    )> {
        let merged = merge(&parts.protected, parts.shared.as_ref(), recipient)?;
        // RFC 7516 §4.1.13 (as RFC 7515 §4.1.11); RFC 7797's `b64` means nothing in a JWE.
        let unprotected: Vec<&Map<String, Value>> = parts.shared.iter().chain(recipient).collect();
        idforge_jose::crit::check(&parts.protected, &unprotected, &merged, &["b64"], |name| {
            self.critical.iter().any(|c| c == name)
        })?;
        // RFC 7516 §4.1.3: `zip` MUST be integrity protected.
        if merged.contains_key("zip") && !parts.protected.contains_key("zip") {
            return Err(Error::InvalidHeader(
                "`zip` must be integrity protected".into(),
            ));
        }
        let name = |n: &'static str| -> Result<&str> {
            match merged.get(n) {
                Some(Value::String(s)) => Ok(s.as_str()),
                Some(_) => Err(Error::InvalidHeader(format!("`{n}` must be a string"))),
                None => Err(Error::InvalidHeader(format!("missing `{n}`"))),
            }
        };
        let alg = KeyManagementAlgorithm::from_name(name("alg")?)?;
        let enc = ContentEncryption::from_name(name("enc")?)?;
        if !self.algorithms.contains(&alg) {
            return Err(Error::AlgorithmNotAllowed(alg.name().into()));
        }
        if !self.encryptions.contains(&enc) {
            return Err(Error::AlgorithmNotAllowed(enc.name().into()));
        }
        if merged.get("kid").is_some_and(|k| !k.is_string()) {
            return Err(Error::InvalidHeader("`kid` must be a string".into()));
        }
        match merged.get("zip") {
            None => {}
            Some(Value::String(z)) if z == "DEF" => {}
            Some(Value::String(z)) => {
                return Err(Error::UnsupportedAlgorithm(format!("zip `{z}`")))
            }
            Some(_) => return Err(Error::InvalidHeader("`zip` must be a string".into())),
        }
        Ok((merged, alg, enc))
    }

    fn decrypt_parts(&self, parts: Parts, keys: &KeySet) -> Result<Decrypted> {
        if parts.protected.is_empty()
            && parts.shared.is_none()
            && parts.recipients.iter().all(|r| r.0.is_none())
        {
            return Err(Error::InvalidHeader("empty JOSE header".into()));
        }
        // RFC 7516 §5.1 step 2, RFC 7518 §4.5/§4.6: dir and ECDH-ES admit a single recipient.
        // Checked for the whole JWE first, so the answer does not depend on key order.
        let single = parts.recipients.len() == 1;
        if !single {
            for (r, _) in &parts.recipients {
                let alg = [Some(&parts.protected), parts.shared.as_ref(), r.as_ref()]
                    .into_iter()
                    .flatten()
                    .find_map(|m| m.get("alg"))
                    .and_then(Value::as_str);
                if matches!(alg, Some("dir" | "ECDH-ES")) {
                    return Err(Error::InvalidHeader(
                        "dir and ECDH-ES cannot be used with more than one recipient".into(),
                    ));
                }
            }
        }
        // RFC 7516 §5.2 step 14: AAD = ASCII(protected) or ASCII(protected || '.' || aad).
        let mut aad = parts.protected_b64.clone().into_bytes();
        if let Some(a) = &parts.aad_b64 {
            aad.push(b'.');
            aad.extend_from_slice(a.as_bytes());
        }
        let mut first_err: Option<Error> = None;
        for (index, (recipient, ek)) in parts.recipients.iter().enumerate() {
            match self.try_recipient(&parts, recipient.as_ref(), ek, single, &aad, keys) {
                Ok((header, alg, enc, plaintext)) => {
                    return Ok(Decrypted {
                        header: Header::from_map(header),
                        plaintext,
                        recipient_index: index,
                        alg,
                        enc,
                    })
                }
                // An authentication failure is the most telling outcome; keep it over the
                // "not for us" errors of other recipients.
                Err(e) => match (&first_err, &e) {
                    (None, _) | (Some(_), Error::InvalidTag) => first_err = Some(e),
                    _ => {}
                },
            }
        }
        Err(first_err.unwrap_or(Error::InvalidTag))
    }

    fn candidates<'k>(
        &self,
        keys: &'k KeySet,
        alg: KeyManagementAlgorithm,
        enc: ContentEncryption,
        kid: Option<&'k str>,
    ) -> Vec<&'k Key> {
        keys.keys()
            .iter()
            .filter(|k| {
                kid.is_none_or(|want| k.kid() == Some(want))
                    && k.is_private()
                    && alg.check_key(k).is_ok()
                    && (alg != KeyManagementAlgorithm::Dir
                        || k.secret().map(<[u8]>::len) == Some(enc.cek_len()))
                    && ["decrypt", "unwrapKey", "deriveKey", "deriveBits"]
                        .iter()
                        .any(|op| k.jwk().permits(op))
            })
            .collect()
    }

    #[allow(clippy::type_complexity)]
    fn try_recipient(
        &self,
        parts: &Parts,
        recipient: Option<&Map<String, Value>>,
        ek: &[u8],
        single: bool,
        aad: &[u8],
        keys: &KeySet,
    ) -> Result<(
        Map<String, Value>,
        KeyManagementAlgorithm,
        ContentEncryption,
        Vec<u8>,
    )> {
        let (merged, alg, enc) = self.recipient_header(parts, recipient)?;
        if alg.is_direct() && !single {
            return Err(Error::InvalidHeader(format!(
                "{alg} cannot be used with more than one recipient"
            )));
        }
        let kid = merged.get("kid").and_then(Value::as_str);
        let candidates = self.candidates(keys, alg, enc, kid);
        if candidates.is_empty() {
            return Err(Error::KeyNotFound(match kid {
                Some(kid) => format!("no {alg}/{enc} key with kid `{kid}`"),
                None => format!("no key fits {alg}/{enc}"),
            }));
        }
        let mut last = Error::InvalidTag;
        for key in candidates {
            let result = keymgmt::recipient_cek(alg, enc, key, ek, &merged, &self.limits)
                .and_then(|cek| enc.decrypt(&cek, &parts.iv, aad, &parts.ciphertext, &parts.tag));
            match result {
                Ok(mut plaintext) => {
                    if merged.contains_key("zip") {
                        plaintext = zip::inflate(&plaintext, self.limits.max_plaintext_bytes)?;
                    }
                    return Ok((merged, alg, enc, plaintext));
                }
                Err(e) => last = e,
            }
        }
        Err(last)
    }
}
