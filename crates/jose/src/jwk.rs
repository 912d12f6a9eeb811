//! JSON Web Key (RFC 7517) with the key types of RFC 7518 §6 and RFC 8037.
//!
//! [`Jwk`] is the data: parsed strictly, serialized canonically, with unknown members preserved.
//! Turning it into something that can sign or decrypt is [`Key::from_jwk`](crate::Key::from_jwk),
//! which also checks the mathematics (point on curve, RSA parts consistent).

use serde::de::Error as _;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};

use crate::crypto::{self, EcCurve, HashAlg, OkpCurve, RsaPrivateParts};
use crate::{b64, Error, Result};

/// Deepest JSON nesting a JWK or JWK Set may have (a set's keys with `x5c` arrays need 3).
pub(crate) const JWK_MAX_DEPTH: usize = 8;

/// Secret bytes: redacted in `Debug`, compared in constant time.
#[derive(Clone)]
pub struct SecretBytes(Vec<u8>);

impl SecretBytes {
    /// Wraps secret bytes.
    pub fn new(bytes: Vec<u8>) -> Self {
        SecretBytes(bytes)
    }
    /// The secret bytes.
    pub fn expose(&self) -> &[u8] {
        &self.0
    }
}

impl PartialEq for SecretBytes {
    fn eq(&self, other: &Self) -> bool {
        crypto::ct_eq(&self.0, &other.0)
    }
}
impl Eq for SecretBytes {}

impl std::fmt::Debug for SecretBytes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "SecretBytes({} bytes)", self.0.len())
    }
}

impl Drop for SecretBytes {
    fn drop(&mut self) {
        // Best effort: overwrite before the allocation is returned.
        self.0.iter_mut().for_each(|b| *b = 0);
    }
}

/// The key-type specific members of a JWK.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeyParams {
    /// `kty: EC` (RFC 7518 §6.2).
    Ec {
        /// Curve.
        crv: EcCurve,
        /// X coordinate, full length.
        x: Vec<u8>,
        /// Y coordinate, full length.
        y: Vec<u8>,
        /// Private scalar, full length.
        d: Option<SecretBytes>,
    },
    /// `kty: RSA` (RFC 7518 §6.3).
    Rsa {
        /// Modulus.
        n: Vec<u8>,
        /// Public exponent.
        e: Vec<u8>,
        /// Private parts.
        private: Option<RsaPrivateParts>,
    },
    /// `kty: OKP` (RFC 8037 §2).
    Okp {
        /// Curve.
        crv: OkpCurve,
        /// Public key.
        x: Vec<u8>,
        /// Private key.
        d: Option<SecretBytes>,
    },
    /// `kty: oct` (RFC 7518 §6.4).
    Oct {
        /// The key value.
        k: SecretBytes,
    },
}

/// What a key is for (`use`, RFC 7517 §4.2).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KeyUse {
    /// `sig`
    Signature,
    /// `enc`
    Encryption,
    /// Any other registered or private value.
    Other(String),
}

impl KeyUse {
    fn as_str(&self) -> &str {
        match self {
            KeyUse::Signature => "sig",
            KeyUse::Encryption => "enc",
            KeyUse::Other(s) => s,
        }
    }
    fn parse(s: &str) -> Self {
        match s {
            "sig" => KeyUse::Signature,
            "enc" => KeyUse::Encryption,
            other => KeyUse::Other(other.to_owned()),
        }
    }
}

/// What to generate with [`Jwk::generate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeySpec {
    /// An EC key on the curve.
    Ec(EcCurve),
    /// An RSA key with this many modulus bits (at least 2048).
    Rsa(u32),
    /// An OKP key on the curve.
    Okp(OkpCurve),
    /// A symmetric key with this many bytes.
    Oct(usize),
}

/// A JSON Web Key (RFC 7517 §4).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Jwk {
    /// Key-type specific members.
    pub params: KeyParams,
    /// `kid` (RFC 7517 §4.5).
    pub kid: Option<String>,
    /// `alg` (RFC 7517 §4.4): when present, the only algorithm this key may be used with.
    pub alg: Option<String>,
    /// `use` (RFC 7517 §4.2).
    pub key_use: Option<KeyUse>,
    /// `key_ops` (RFC 7517 §4.3).
    pub key_ops: Option<Vec<String>>,
    /// `x5c` (RFC 7517 §4.7): base64 (not base64url) DER certificates.
    pub x5c: Option<Vec<String>>,
    /// Any other members, preserved as received (RFC 7517 §4: unknown members are ignored, not lost).
    pub other: Map<String, Value>,
}

fn take_str(obj: &mut Map<String, Value>, name: &'static str) -> Result<Option<String>> {
    match obj.remove(name) {
        None => Ok(None),
        Some(Value::String(s)) => Ok(Some(s)),
        Some(_) => Err(Error::InvalidKey(format!("`{name}` must be a string"))),
    }
}

fn take_b64(obj: &mut Map<String, Value>, name: &'static str) -> Result<Option<Vec<u8>>> {
    take_str(obj, name)?
        .map(|s| b64::decode(s, name))
        .transpose()
}

fn need_b64(obj: &mut Map<String, Value>, name: &'static str) -> Result<Vec<u8>> {
    take_b64(obj, name)?.ok_or_else(|| Error::InvalidKey(format!("missing `{name}`")))
}

fn exact_len(bytes: Vec<u8>, len: usize, name: &str) -> Result<Vec<u8>> {
    if bytes.len() != len {
        return Err(Error::InvalidKey(format!(
            "`{name}` must be {len} bytes, got {}",
            bytes.len()
        )));
    }
    Ok(bytes)
}

impl Jwk {
    /// Parses a JWK from JSON text.
    /// Duplicate member names (at any depth) are refused.
    pub fn from_json(text: &str) -> Result<Self> {
        // Duplicate member names are refused (RFC 7517 §4: member names are unique), as in JWS
        // headers: a key whose `x` or `n` depends on which duplicate a parser keeps is ambiguous.
        let value = crate::json::parse_value(text.as_bytes(), JWK_MAX_DEPTH, "JWK")
            .map_err(|e| Error::InvalidKey(e.to_string()))?;
        Self::from_value(value)
    }

    /// Parses a JWK from a JSON value, checking every member's type and length.
    pub fn from_value(value: Value) -> Result<Self> {
        let Value::Object(mut obj) = value else {
            return Err(Error::InvalidKey("a JWK must be a JSON object".into()));
        };
        let kty =
            take_str(&mut obj, "kty")?.ok_or_else(|| Error::InvalidKey("missing `kty`".into()))?;
        let params = match kty.as_str() {
            "EC" => {
                let crv_name = take_str(&mut obj, "crv")?
                    .ok_or_else(|| Error::InvalidKey("missing `crv`".into()))?;
                let crv = EcCurve::from_name(&crv_name).ok_or_else(|| {
                    Error::InvalidKey(format!("unsupported EC curve `{crv_name}`"))
                })?;
                let len = crv.coordinate_len();
                // RFC 7518 §6.2.1.2/3, §6.2.2.1: coordinates and d are full-length octet strings.
                let x = exact_len(need_b64(&mut obj, "x")?, len, "x")?;
                let y = exact_len(need_b64(&mut obj, "y")?, len, "y")?;
                let d = take_b64(&mut obj, "d")?
                    .map(|d| exact_len(d, len, "d"))
                    .transpose()?;
                KeyParams::Ec {
                    crv,
                    x,
                    y,
                    d: d.map(SecretBytes::new),
                }
            }
            "RSA" => {
                let n = need_b64(&mut obj, "n")?;
                let e = need_b64(&mut obj, "e")?;
                if n.is_empty() || e.is_empty() {
                    return Err(Error::InvalidKey("empty RSA modulus or exponent".into()));
                }
                if obj.contains_key("oth") {
                    // RFC 7518 §6.3.2.7: multi-prime keys; rare, and unsupported here.
                    return Err(Error::InvalidKey(
                        "multi-prime RSA keys (`oth`) are not supported".into(),
                    ));
                }
                let d = take_b64(&mut obj, "d")?;
                let crt_names = ["p", "q", "dp", "dq", "qi"];
                let mut crt = Vec::new();
                for name in crt_names {
                    if let Some(v) = take_b64(&mut obj, name)? {
                        crt.push(v);
                    }
                }
                let private = match d {
                    None if crt.is_empty() => None,
                    None => return Err(Error::InvalidKey("RSA CRT parameters without `d`".into())),
                    Some(d) => {
                        // RFC 7518 §6.3.2: the CRT members come all together or not at all.
                        let crt = match <[Vec<u8>; 5]>::try_from(crt) {
                            Ok(all) => Some(all),
                            Err(v) if v.is_empty() => None,
                            Err(_) => {
                                return Err(Error::InvalidKey(
                                    "incomplete RSA CRT parameters".into(),
                                ))
                            }
                        };
                        Some(RsaPrivateParts { d, crt })
                    }
                };
                KeyParams::Rsa { n, e, private }
            }
            "OKP" => {
                let crv_name = take_str(&mut obj, "crv")?
                    .ok_or_else(|| Error::InvalidKey("missing `crv`".into()))?;
                let crv = OkpCurve::from_name(&crv_name).ok_or_else(|| {
                    Error::InvalidKey(format!("unsupported OKP curve `{crv_name}`"))
                })?;
                let x = exact_len(need_b64(&mut obj, "x")?, 32, "x")?;
                let d = take_b64(&mut obj, "d")?
                    .map(|d| exact_len(d, 32, "d"))
                    .transpose()?;
                KeyParams::Okp {
                    crv,
                    x,
                    d: d.map(SecretBytes::new),
                }
            }
            "oct" => {
                let k = need_b64(&mut obj, "k")?;
                if k.is_empty() {
                    return Err(Error::InvalidKey("empty symmetric key".into()));
                }
                KeyParams::Oct {
                    k: SecretBytes::new(k),
                }
            }
            other => return Err(Error::InvalidKey(format!("unsupported `kty` `{other}`"))),
        };
        let kid = take_str(&mut obj, "kid")?;
        let alg = take_str(&mut obj, "alg")?;
        let key_use = take_str(&mut obj, "use")?.map(|u| KeyUse::parse(&u));
        let key_ops = match obj.remove("key_ops") {
            None => None,
            Some(Value::Array(items)) => {
                let mut ops = Vec::with_capacity(items.len());
                for item in items {
                    let Value::String(op) = item else {
                        return Err(Error::InvalidKey(
                            "`key_ops` must be an array of strings".into(),
                        ));
                    };
                    // RFC 7517 §4.3: duplicate key operation values MUST NOT be present.
                    if ops.contains(&op) {
                        return Err(Error::InvalidKey(format!("duplicate key operation `{op}`")));
                    }
                    ops.push(op);
                }
                Some(ops)
            }
            Some(_) => return Err(Error::InvalidKey("`key_ops` must be an array".into())),
        };
        let x5c = match obj.remove("x5c") {
            None => None,
            Some(v) => Some(
                serde_json::from_value::<Vec<String>>(v)
                    .map_err(|_| Error::InvalidKey("`x5c` must be an array of strings".into()))?,
            ),
        };
        Ok(Jwk {
            params,
            kid,
            alg,
            key_use,
            key_ops,
            x5c,
            other: obj,
        })
    }

    /// Every member as (name, value), sorted by name: the key parameters, then the common
    /// members, then the preserved unknown ones (which never override a known member).
    fn members(&self) -> Vec<(&str, Member<'_>)> {
        let mut m: Vec<(&str, Member<'_>)> = Vec::with_capacity(8 + self.other.len());
        match &self.params {
            KeyParams::Ec { crv, x, y, d } => {
                m.push(("kty", Member::Str("EC")));
                m.push(("crv", Member::Str(crv.name())));
                m.push(("x", Member::Bytes(x)));
                m.push(("y", Member::Bytes(y)));
                if let Some(d) = d {
                    m.push(("d", Member::Bytes(d.expose())));
                }
            }
            KeyParams::Rsa { n, e, private } => {
                m.push(("kty", Member::Str("RSA")));
                m.push(("n", Member::Bytes(n)));
                m.push(("e", Member::Bytes(e)));
                if let Some(p) = private {
                    m.push(("d", Member::Bytes(&p.d)));
                    if let Some(crt) = &p.crt {
                        for (name, v) in ["p", "q", "dp", "dq", "qi"].iter().zip(crt.iter()) {
                            m.push((name, Member::Bytes(v)));
                        }
                    }
                }
            }
            KeyParams::Okp { crv, x, d } => {
                m.push(("kty", Member::Str("OKP")));
                m.push(("crv", Member::Str(crv.name())));
                m.push(("x", Member::Bytes(x)));
                if let Some(d) = d {
                    m.push(("d", Member::Bytes(d.expose())));
                }
            }
            KeyParams::Oct { k } => {
                m.push(("kty", Member::Str("oct")));
                m.push(("k", Member::Bytes(k.expose())));
            }
        }
        if let Some(kid) = &self.kid {
            m.push(("kid", Member::Str(kid)));
        }
        if let Some(u) = &self.key_use {
            m.push(("use", Member::Str(u.as_str())));
        }
        if let Some(ops) = &self.key_ops {
            m.push(("key_ops", Member::Strings(ops)));
        }
        if let Some(alg) = &self.alg {
            m.push(("alg", Member::Str(alg)));
        }
        if let Some(x5c) = &self.x5c {
            m.push(("x5c", Member::Strings(x5c)));
        }
        let known = m.len();
        for (k, v) in &self.other {
            if !m[..known].iter().any(|(name, _)| name == k) {
                m.push((k, Member::Value(v)));
            }
        }
        // Stable: a name appears once, so the order is fully determined by the names.
        m.sort_by(|a, b| a.0.cmp(b.0));
        m
    }

    /// Serializes to a JSON object with members in a stable (name) order.
    pub fn to_value(&self) -> Value {
        Value::Object(
            self.members()
                .into_iter()
                .map(|(k, v)| (k.to_owned(), v.to_value()))
                .collect(),
        )
    }

    /// Serializes to compact JSON text.
    pub fn to_json(&self) -> String {
        self.to_value().to_string()
    }

    /// The JWK `kty` value.
    pub fn kty(&self) -> &'static str {
        match self.params {
            KeyParams::Ec { .. } => "EC",
            KeyParams::Rsa { .. } => "RSA",
            KeyParams::Okp { .. } => "OKP",
            KeyParams::Oct { .. } => "oct",
        }
    }

    /// Whether the JWK carries private (or secret) material.
    pub fn is_private(&self) -> bool {
        match &self.params {
            KeyParams::Ec { d, .. } | KeyParams::Okp { d, .. } => d.is_some(),
            KeyParams::Rsa { private, .. } => private.is_some(),
            KeyParams::Oct { .. } => true,
        }
    }

    /// The public part of an asymmetric key; `None` for `oct` keys, which have no public part.
    ///
    /// `key_ops` keeps only the public operations (`verify`, `encrypt`, `wrapKey`).
    pub fn to_public(&self) -> Option<Jwk> {
        let params = match &self.params {
            KeyParams::Ec { crv, x, y, .. } => KeyParams::Ec {
                crv: *crv,
                x: x.clone(),
                y: y.clone(),
                d: None,
            },
            KeyParams::Rsa { n, e, .. } => KeyParams::Rsa {
                n: n.clone(),
                e: e.clone(),
                private: None,
            },
            KeyParams::Okp { crv, x, .. } => KeyParams::Okp {
                crv: *crv,
                x: x.clone(),
                d: None,
            },
            KeyParams::Oct { .. } => return None,
        };
        let key_ops = self.key_ops.as_ref().map(|ops| {
            ops.iter()
                .filter(|op| matches!(op.as_str(), "verify" | "encrypt" | "wrapKey"))
                .cloned()
                .collect()
        });
        Some(Jwk {
            params,
            key_ops,
            ..self.clone()
        })
    }

    /// The RFC 7638 JWK thumbprint (SHA-256), base64url-encoded.
    pub fn thumbprint(&self) -> String {
        b64::encode(self.thumbprint_bytes(HashAlg::Sha256))
    }

    /// The RFC 7638 thumbprint with the given hash, raw bytes.
    pub fn thumbprint_bytes(&self, hash: HashAlg) -> Vec<u8> {
        hash.digest(self.thumbprint_input().as_bytes())
    }

    /// RFC 7638 §3.2: the required members only, lexicographic order, no whitespace.
    fn thumbprint_input(&self) -> String {
        match &self.params {
            KeyParams::Ec { crv, x, y, .. } => format!(
                r#"{{"crv":"{}","kty":"EC","x":"{}","y":"{}"}}"#,
                crv.name(),
                b64::encode(x),
                b64::encode(y)
            ),
            KeyParams::Rsa { n, e, .. } => {
                // RFC 7638 §3.3: the integers as unsigned big-endian without leading zero octets.
                format!(
                    r#"{{"e":"{}","kty":"RSA","n":"{}"}}"#,
                    b64::encode(strip_zeros(e)),
                    b64::encode(strip_zeros(n))
                )
            }
            KeyParams::Okp { crv, x, .. } => {
                format!(
                    r#"{{"crv":"{}","kty":"OKP","x":"{}"}}"#,
                    crv.name(),
                    b64::encode(x)
                )
            }
            KeyParams::Oct { k } => format!(r#"{{"k":"{}","kty":"oct"}}"#, b64::encode(k.expose())),
        }
    }

    /// Generates a fresh private key.
    pub fn generate(spec: KeySpec) -> Result<Jwk> {
        let params = match spec {
            KeySpec::Ec(crv) => {
                let (x, y, d) = crypto::ec_generate(crv)?;
                KeyParams::Ec {
                    crv,
                    x,
                    y,
                    d: Some(SecretBytes::new(d)),
                }
            }
            KeySpec::Rsa(bits) => {
                if !(2048..=16384).contains(&bits) {
                    // RFC 7518 §3.3 / §4.2: 2048 bits minimum.
                    return Err(Error::InvalidKey(
                        "RSA keys must have 2048 to 16384 bits".into(),
                    ));
                }
                let (n, e, private) = crypto::rsa_generate(bits)?;
                KeyParams::Rsa {
                    n,
                    e,
                    private: Some(private),
                }
            }
            KeySpec::Okp(crv) => {
                let (x, d) = crypto::okp_generate(crv)?;
                KeyParams::Okp {
                    crv,
                    x,
                    d: Some(SecretBytes::new(d)),
                }
            }
            KeySpec::Oct(len) => {
                if !(16..=1024).contains(&len) {
                    return Err(Error::InvalidKey(
                        "symmetric keys must have 16 to 1024 bytes".into(),
                    ));
                }
                let mut k = vec![0u8; len];
                crypto::random_bytes(&mut k).map_err(|_| Error::Backend)?;
                KeyParams::Oct {
                    k: SecretBytes::new(k),
                }
            }
        };
        Ok(Jwk::from_params(params))
    }

    /// A JWK with just these parameters and no optional members.
    pub fn from_params(params: KeyParams) -> Jwk {
        Jwk {
            params,
            kid: None,
            alg: None,
            key_use: None,
            key_ops: None,
            x5c: None,
            other: Map::new(),
        }
    }

    /// Sets `kid`.
    pub fn with_kid(mut self, kid: impl Into<String>) -> Self {
        self.kid = Some(kid.into());
        self
    }

    /// Sets `alg`.
    pub fn with_alg(mut self, alg: impl Into<String>) -> Self {
        self.alg = Some(alg.into());
        self
    }

    /// Sets `use`.
    pub fn with_use(mut self, key_use: KeyUse) -> Self {
        self.key_use = Some(key_use);
        self
    }

    /// Whether the JWK's `use`/`key_ops` permit `op` (RFC 7517 §4.2–4.3). `op` is a `key_ops`
    /// value such as `sign`, `verify`, `encrypt`, `decrypt`, `wrapKey`, `unwrapKey`, `deriveKey`.
    pub fn permits(&self, op: &str) -> bool {
        if let Some(ops) = &self.key_ops {
            if !ops.iter().any(|o| o == op) {
                return false;
            }
        }
        match &self.key_use {
            None | Some(KeyUse::Other(_)) => true,
            Some(KeyUse::Signature) => matches!(op, "sign" | "verify"),
            Some(KeyUse::Encryption) => !matches!(op, "sign" | "verify"),
        }
    }
}

fn strip_zeros(b: &[u8]) -> &[u8] {
    let first = b
        .iter()
        .position(|x| *x != 0)
        .unwrap_or(b.len().saturating_sub(1));
    &b[first..]
}

/// One JWK member value, borrowed; byte strings are base64url-encoded when written.
enum Member<'a> {
    Str(&'a str),
    Bytes(&'a [u8]),
    Strings(&'a [String]),
    Value(&'a Value),
}

impl Member<'_> {
    fn to_value(&self) -> Value {
        match self {
            Member::Str(s) => Value::String((*s).to_owned()),
            Member::Bytes(b) => Value::String(b64::encode(b)),
            Member::Strings(v) => v.iter().map(|s| Value::String(s.clone())).collect(),
            Member::Value(v) => (*v).clone(),
        }
    }
}

impl Serialize for Member<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        match self {
            Member::Str(v) => s.serialize_str(v),
            Member::Bytes(b) => {
                // Coordinates and moduli fit the stack buffer; larger values are allocated.
                let mut buf = [0u8; 1024];
                match b64::encode_to_slice(b, &mut buf) {
                    Some(n) => s.serialize_str(std::str::from_utf8(&buf[..n]).unwrap_or_default()),
                    None => s.serialize_str(&b64::encode(b)),
                }
            }
            Member::Strings(v) => v.serialize(s),
            Member::Value(v) => v.serialize(s),
        }
    }
}

/// Written member by member in the order of [`Jwk::to_value`], without building a `Value`.
impl Serialize for Jwk {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        use serde::ser::SerializeMap;
        let members = self.members();
        let mut map = s.serialize_map(Some(members.len()))?;
        for (k, v) in &members {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for Jwk {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        Jwk::from_value(Value::deserialize(d)?).map_err(D::Error::custom)
    }
}

impl std::str::FromStr for Jwk {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        Jwk::from_json(s)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn duplicate_members_are_refused_in_jwks_and_sets() {
        let dup = r#"{"kty":"oct","k":"AAAA","k":"BBBB"}"#;
        assert!(matches!(Jwk::from_json(dup), Err(Error::InvalidKey(_))));
        let set = format!(r#"{{"keys":[{dup}]}}"#);
        assert!(crate::JwkSet::from_json(&set).is_err());
        assert!(crate::JwkSet::from_jwk_or_set(dup).is_err());
        let nested = r#"{"keys":[{"kty":"oct","k":"AAAA"}],"keys":[]}"#;
        assert!(crate::JwkSet::from_jwk_or_set(nested).is_err());
        assert!(Jwk::from_json(r#"{"kty":"oct","k":"AAAA"}"#).is_ok());
    }

    use super::*;

    /// The direct `Serialize` writes what the `Value` form holds, member for member, for every
    /// key type, private parts, common members and unknown members (which never override a
    /// known one).
    #[test]
    fn serialize_matches_to_value() {
        let texts = [
            r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","kid":"k1","use":"sig","zzz":1,"aaa":[true]}"#,
            r#"{"kty":"EC","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0","d":"jpsQnnGQmL-YBIffH1136cLyG5hW0Nd5zG15TglD0TQ","key_ops":["sign","verify"],"alg":"ES256"}"#,
            r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo","x5c":["MIIB"]}"#,
            r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#,
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","other":{"a":"b"}}"#,
        ];
        for text in texts {
            let jwk = Jwk::from_json(text).unwrap();
            let direct = serde_json::to_string(&jwk).unwrap();
            assert_eq!(direct, jwk.to_value().to_string(), "{text}");
            assert_eq!(Jwk::from_json(&direct).unwrap(), jwk);
        }
    }

    /// RFC 7638 §3.1 example: the RSA key and its thumbprint.
    #[test]
    fn rfc7638_thumbprint_example() {
        let jwk = Jwk::from_json(
            r#"{"kty":"RSA","n":"0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw","e":"AQAB","alg":"RS256","kid":"2011-04-29"}"#,
        )
        .unwrap();
        assert_eq!(
            jwk.thumbprint(),
            "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs"
        );
    }

    #[test]
    fn round_trip_preserves_unknown_members() {
        let text = r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow","kid":"a","ext":true}"#;
        let jwk = Jwk::from_json(text).unwrap();
        assert_eq!(jwk.other.get("ext"), Some(&Value::Bool(true)));
        let back = Jwk::from_json(&jwk.to_json()).unwrap();
        assert_eq!(back, jwk);
    }

    #[test]
    fn rejects_short_coordinates_and_bad_types() {
        let short = r#"{"kty":"EC","crv":"P-256","x":"AQ","y":"AQ"}"#;
        assert!(matches!(Jwk::from_json(short), Err(Error::InvalidKey(_))));
        assert!(Jwk::from_json(r#"{"kty":"EC","crv":"P-256","x":1,"y":"AQ"}"#).is_err());
        assert!(Jwk::from_json(r#"{"kty":"XYZ"}"#).is_err());
        assert!(Jwk::from_json(r#"[]"#).is_err());
        assert!(Jwk::from_json(r#"{"kty":"oct","k":"AQ","key_ops":["sign","sign"]}"#).is_err());
    }

    #[test]
    fn public_view_drops_private_parts() {
        let jwk = Jwk::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        assert!(jwk.is_private());
        let public = jwk.to_public().unwrap();
        assert!(!public.is_private());
        assert_eq!(public.thumbprint(), jwk.thumbprint());
        assert!(!public.to_json().contains("\"d\""));
        assert!(Jwk::generate(KeySpec::Oct(32))
            .unwrap()
            .to_public()
            .is_none());
    }
}
