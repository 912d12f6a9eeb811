//! Verification (RFC 9901 §7.1, §7.3): issuer signature, digest processing, key binding.

use idforge_jose::claims::typ::KB_JWT;
use idforge_jose::jws::media_type_eq;
use idforge_jose::{
    b64, ClaimsValidation, Clock, Header, Jwk, JwsAlgorithm, JwsPolicy, Key, KeySet,
};
use serde_json::{Map, Value};

use crate::format::{Limits, SdJwt, Serialization};
use crate::hash::SdAlg;
use crate::process::{process_owned, DisclosedClaim};
use crate::{Error, Result};

/// What a key resolver sees about the Issuer-signed JWT before its signature is checked.
/// Use it only to choose keys; nothing here is trusted yet.
#[derive(Debug)]
pub struct IssuerContext<'a> {
    /// The JOSE header (protected and unprotected members).
    pub header: &'a Header,
    /// The unverified payload (`iss` selects metadata, `vct` a trust framework).
    pub claims: &'a Map<String, Value>,
}

impl IssuerContext<'_> {
    /// The unverified `iss`, if a string.
    pub fn iss(&self) -> Option<&str> {
        self.claims.get("iss").and_then(Value::as_str)
    }

    /// The `x5c` header (RFC 7515 §4.1.6) decoded to DER certificates, end-entity first.
    /// Nothing is validated here: [`X5cIssuerKeyResolver`](crate::X5cIssuerKeyResolver)
    /// validates the chain against trust anchors (draft-ietf-oauth-sd-jwt-vc-19 §2.5).
    pub fn x5c(&self) -> Result<Option<Vec<Vec<u8>>>> {
        crate::vc::x5c_der(self.header)
    }
}

/// The issuer key port: returns the keys that may have signed this Issuer-signed JWT
/// (RFC 9901 §7.1 step 2.3; draft-ietf-oauth-sd-jwt-vc §3.5 Issuer Signature Mechanisms).
///
/// Synchronous like the `jose` [`Verifier`](idforge_jose::Verifier): hosts fetch and cache
/// JWT VC Issuer Metadata or trust lists outside the verification call.
pub trait IssuerKeyResolver: Send + Sync {
    /// Keys for the issuer described by `ctx`; an error rejects the SD-JWT.
    fn issuer_keys(&self, ctx: &IssuerContext<'_>) -> Result<KeySet>;
}

impl IssuerKeyResolver for KeySet {
    fn issuer_keys(&self, _: &IssuerContext<'_>) -> Result<KeySet> {
        Ok(self.clone())
    }
}

impl IssuerKeyResolver for Key {
    fn issuer_keys(&self, _: &IssuerContext<'_>) -> Result<KeySet> {
        Ok(KeySet::new(vec![self.clone()]))
    }
}

/// Key binding requirements (RFC 9901 §7.3 step 5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KeyBindingPolicy {
    /// Reject presentations without a KB-JWT (RFC 9901 §7.3 steps 1–2).
    pub required: bool,
    /// The expected `aud` (RFC 9901 §7.3 step 5.6). When `None`, `aud` must still be present.
    pub audience: Option<String>,
    /// The expected `nonce` (RFC 9901 §7.3 step 5.6). When `None`, `nonce` must still be present.
    pub nonce: Option<String>,
    /// Algorithms the KB-JWT may use (RFC 9901 §7.3 step 5.2).
    pub algorithms: Vec<JwsAlgorithm>,
    /// How old `iat` may be, in seconds (RFC 9901 §7.3 step 5.5).
    pub max_age: i64,
    /// Clock skew tolerated on `iat` (both directions), `exp` and `nbf`, in seconds.
    pub leeway: i64,
}

impl Default for KeyBindingPolicy {
    fn default() -> Self {
        KeyBindingPolicy {
            required: false,
            audience: None,
            nonce: None,
            algorithms: default_algorithms(),
            max_age: 300,
            leeway: 30,
        }
    }
}

impl KeyBindingPolicy {
    /// Key binding required, for this audience and nonce.
    pub fn required(audience: impl Into<String>, nonce: impl Into<String>) -> Self {
        KeyBindingPolicy {
            required: true,
            audience: Some(audience.into()),
            nonce: Some(nonce.into()),
            ..KeyBindingPolicy::default()
        }
    }
}

/// Every asymmetric JWS algorithm (HS* makes no sense for a public holder or issuer key).
pub fn default_algorithms() -> Vec<JwsAlgorithm> {
    use JwsAlgorithm::*;
    vec![
        ES256, ES384, ES512, EdDSA, PS256, PS384, PS512, RS256, RS384, RS512,
    ]
}

/// How the verifier checks an SD-JWT. Build once, use for many presentations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VerifierConfig {
    /// Issuer signature policy: the algorithm allow-list (RFC 9901 §7.1 step 2.1).
    pub jws: JwsPolicy,
    /// `_sd_alg` values accepted (RFC 9901 §7.1 step 2.4).
    pub sd_algs: Vec<SdAlg>,
    /// Expected `typ` of the Issuer-signed JWT (RFC 9901 §9.11), compared per RFC 7515 §4.1.9;
    /// `None` accepts any.
    pub typ: Vec<String>,
    /// Time and issuer checks on the processed payload (RFC 9901 §7.1 step 4); `typ` in it is
    /// ignored (see [`typ`](VerifierConfig::typ)).
    pub claims: ClaimsValidation,
    /// Key binding.
    pub key_binding: KeyBindingPolicy,
    /// Parser limits.
    pub limits: Limits,
}

impl Default for VerifierConfig {
    fn default() -> Self {
        let claims = ClaimsValidation {
            require_exp: false,
            ..ClaimsValidation::default()
        };
        VerifierConfig {
            jws: JwsPolicy::new(default_algorithms()),
            sd_algs: SdAlg::ALL.to_vec(),
            typ: Vec::new(),
            claims,
            key_binding: KeyBindingPolicy::default(),
            limits: Limits::default(),
        }
    }
}

impl VerifierConfig {
    /// Sets the issuer algorithm allow-list.
    pub fn algorithms(mut self, algs: impl IntoIterator<Item = JwsAlgorithm>) -> Self {
        let limits = self.jws.limits;
        self.jws = JwsPolicy::new(algs);
        self.jws.limits = limits;
        self
    }
    /// Requires key binding for `audience` and `nonce`.
    pub fn require_key_binding(
        mut self,
        audience: impl Into<String>,
        nonce: impl Into<String>,
    ) -> Self {
        let algorithms = std::mem::take(&mut self.key_binding.algorithms);
        self.key_binding = KeyBindingPolicy {
            algorithms,
            ..KeyBindingPolicy::required(audience, nonce)
        };
        self
    }
    /// Accepts only these `typ` values.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ.push(typ.into());
        self
    }
}

/// The verified KB-JWT (RFC 9901 §4.3).
#[derive(Debug, Clone, PartialEq)]
pub struct KeyBinding {
    /// Its header.
    pub header: Header,
    /// Its claims (`iat`, `aud`, `nonce`, `sd_hash`, and any others).
    pub claims: Map<String, Value>,
}

/// A verified SD-JWT.
#[derive(Debug, Clone, PartialEq)]
pub struct Verified {
    /// The Issuer-signed JWT's header.
    pub header: Header,
    /// The Processed SD-JWT Payload (RFC 9901 §7.1 step 3).
    pub claims: Map<String, Value>,
    /// Which claims were disclosed, with their paths.
    pub disclosed: Vec<DisclosedClaim>,
    /// The `_sd_alg` in effect.
    pub sd_alg: SdAlg,
    /// The verified KB-JWT, when one was presented.
    pub key_binding: Option<KeyBinding>,
    /// The serialization it arrived in.
    pub serialization: Serialization,
}

impl Verified {
    /// The processed payload and disclosed paths as one JSON document:
    /// `{"claims": {...}, "disclosed": ["/given_name", ...]}`.
    pub fn to_json(&self) -> Value {
        let mut out = Map::new();
        out.insert("claims".into(), Value::Object(self.claims.clone()));
        out.insert(
            "disclosed".into(),
            Value::Array(
                self.disclosed
                    .iter()
                    .map(|d| d.path.to_string().into())
                    .collect(),
            ),
        );
        Value::Object(out)
    }
}

/// The issuer-side parts after signature and digest processing, before key binding.
pub(crate) struct Checked {
    pub(crate) sd: SdJwt,
    pub(crate) header: Header,
    pub(crate) claims: Map<String, Value>,
    pub(crate) disclosed: Vec<DisclosedClaim>,
    pub(crate) sd_alg: SdAlg,
}

/// An SD-JWT verifier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct SdJwtVerifier {
    /// Configuration.
    pub config: VerifierConfig,
}

impl SdJwtVerifier {
    /// A verifier with `config`.
    pub fn new(config: VerifierConfig) -> Self {
        SdJwtVerifier { config }
    }

    /// Verifies an SD-JWT or SD-JWT+KB in any serialization (RFC 9901 §7.3).
    pub fn verify(
        &self,
        text: &str,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
    ) -> Result<Verified> {
        let sd = SdJwt::parse(text, &self.config.limits)?;
        self.verify_parsed(sd, keys, clock)
    }

    /// Verifies an already split SD-JWT.
    pub fn verify_parsed(
        &self,
        sd: SdJwt,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
    ) -> Result<Verified> {
        // RFC 9901 §7.3 step 2: a required KB-JWT must be there before anything else is done.
        if self.config.key_binding.required && sd.kb_jwt().is_none() {
            return Err(Error::KeyBindingRequired);
        }
        let checked = self.check_issuer_signed(sd, keys, clock)?;
        let key_binding = match checked.sd.kb_jwt() {
            Some(kb) => Some(self.check_key_binding(kb, &checked, clock)?),
            None => None,
        };
        Ok(Verified {
            header: checked.header,
            claims: checked.claims,
            disclosed: checked.disclosed,
            sd_alg: checked.sd_alg,
            key_binding,
            serialization: checked.sd.serialization(),
        })
    }

    /// RFC 9901 §7.1: signature, `_sd_alg`, digests, validity claims.
    pub(crate) fn check_issuer_signed(
        &self,
        sd: SdJwt,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
    ) -> Result<Checked> {
        let limits = &self.config.limits;
        let mut parts = sd.issuer_jwt().split('.');
        let (Some(h), Some(p)) = (parts.next(), parts.next()) else {
            return Err(Error::Malformed(
                "Issuer-signed JWT is not a compact JWS".into(),
            ));
        };
        let payload_bytes = b64::decode(p, "payload")?;
        let payload =
            crate::json::parse_object(&payload_bytes, limits.max_depth, "SD-JWT payload")?;
        let unverified_header = Header::from_map(crate::json::parse_object(
            &b64::decode(h, "protected header")?,
            limits.max_depth,
            "protected header",
        )?);
        // §7.1 step 2.3: the key comes from the caller's resolver, never from the token alone.
        let key_set = keys.issuer_keys(&IssuerContext {
            header: &unverified_header,
            claims: &payload,
        })?;
        // §7.1 steps 2.1–2.2: allow-listed algorithm (never `none`), valid signature.
        let verified = match (sd.serialization(), sd.json_text()) {
            (Serialization::Compact, _) | (_, None) => {
                self.config.jws.verify_compact(sd.issuer_jwt(), &key_set)?
            }
            (_, Some(json)) => self.config.jws.verify_json(&json, &key_set)?,
        };
        if verified.payload != payload_bytes {
            // A general JSON serialization whose other signature covered a different payload
            // cannot happen (one payload per JWS); this guards the invariant anyway.
            return Err(Error::Malformed("payload mismatch".into()));
        }
        let mut header = verified.header;
        // The SD-JWT members of the unprotected header are not part of the JOSE header proper.
        let mut map = header.as_map().clone();
        map.remove("disclosures");
        map.remove("kb_jwt");
        header = Header::from_map(map);
        // RFC 9901 §9.11 / SD-JWT VC §3.2.1: explicit typing.
        if !self.config.typ.is_empty() {
            let ok = header
                .typ()
                .is_some_and(|t| self.config.typ.iter().any(|want| media_type_eq(t, want)));
            if !ok {
                return Err(Error::InvalidTyp(
                    header
                        .typ()
                        .map(crate::hash::truncate)
                        .unwrap_or_else(|| "missing".into()),
                ));
            }
        }
        // §7.1 step 2.4 / §4.1.1: `_sd_alg` absent means sha-256; otherwise it must be allowed.
        let sd_alg = SdAlg::of_payload(&payload)?;
        if !self.config.sd_algs.contains(&sd_alg) {
            return Err(Error::SdAlgNotAllowed(sd_alg.name().into()));
        }
        // §7.1 step 3: decode each Disclosure as received and resolve digests.
        let disclosures = sd.decode_disclosures(limits.max_depth)?;
        let processed = process_owned(payload, disclosures, sd_alg, limits.max_depth)?;
        // §7.1 step 4: validity claims on the processed payload.
        let mut claims_check = self.config.claims.clone();
        claims_check.typ = None;
        claims_check.validate(&header, &processed.claims, clock)?;
        Ok(Checked {
            sd,
            header,
            claims: processed.claims,
            disclosed: processed.disclosed,
            sd_alg,
        })
    }

    /// RFC 9901 §7.3 step 5.
    fn check_key_binding(
        &self,
        kb_jwt: &str,
        checked: &Checked,
        clock: &dyn Clock,
    ) -> Result<KeyBinding> {
        let policy = &self.config.key_binding;
        // Step 5.1: the holder key from `cnf` (RFC 7800 §3.2 `jwk`).
        let holder = holder_key(&checked.claims)?;
        // Steps 5.2–5.3: allow-listed algorithm, signature by the `cnf` key.
        let mut jws = JwsPolicy::new(policy.algorithms.iter().copied());
        jws.limits = self.config.jws.limits;
        let verified = jws.verify_compact(kb_jwt, &holder)?;
        // Step 5.4: `typ` must be `kb+jwt`.
        if !verified
            .header
            .typ()
            .is_some_and(|t| media_type_eq(t, KB_JWT))
        {
            return Err(Error::InvalidKeyBinding("`typ` must be `kb+jwt`".into()));
        }
        let claims =
            crate::json::parse_object(&verified.payload, self.config.limits.max_depth, "KB-JWT")?;
        // Step 5.5: `iat` within the window.
        let iat = match claims.get("iat").and_then(Value::as_i64) {
            Some(iat) => iat,
            None => {
                return Err(Error::InvalidKeyBinding(
                    "`iat` missing or not an integer".into(),
                ))
            }
        };
        let now = clock.now();
        if iat > now.saturating_add(policy.leeway)
            || iat < now.saturating_sub(policy.max_age.saturating_add(policy.leeway))
        {
            return Err(Error::KeyBindingIat);
        }
        // Step 5.6: `nonce` and `aud`.
        let nonce = match claims.get("nonce") {
            Some(Value::String(n)) => n,
            _ => {
                return Err(Error::InvalidKeyBinding(
                    "`nonce` missing or not a string".into(),
                ))
            }
        };
        if policy.nonce.as_ref().is_some_and(|want| want != nonce) {
            return Err(Error::NonceMismatch);
        }
        let aud_ok = match (claims.get("aud"), &policy.audience) {
            (Some(Value::String(_)), None) => true,
            (Some(Value::String(a)), Some(want)) => a == want,
            (None, _) => return Err(Error::InvalidKeyBinding("`aud` missing".into())),
            // RFC 9901 §4.3: the KB-JWT names its single intended receiver; an array (which
            // one is meant?) is refused.
            _ => {
                return Err(Error::InvalidKeyBinding(
                    "`aud` must be a single string".into(),
                ))
            }
        };
        if !aud_ok {
            return Err(Error::AudienceMismatch);
        }
        // Step 5.7: `sd_hash` over the presentation exactly as received.
        let expected = checked.sd.sd_hash(checked.sd_alg);
        match claims.get("sd_hash") {
            Some(Value::String(h)) if *h == expected => {}
            Some(Value::String(_)) => return Err(Error::SdHashMismatch),
            _ => {
                return Err(Error::InvalidKeyBinding(
                    "`sd_hash` missing or not a string".into(),
                ))
            }
        }
        // Step 5.8: the KB-JWT is a JWT; its own `exp`/`nbf`, when present, apply.
        let jwt_check = ClaimsValidation {
            require_exp: false,
            leeway: policy.leeway,
            ..ClaimsValidation::default()
        };
        jwt_check.validate(&verified.header, &claims, clock)?;
        Ok(KeyBinding {
            header: verified.header,
            claims,
        })
    }
}

/// The holder's public key from `cnf.jwk` (RFC 7800 §3.2; RFC 9901 §4.1.2).
pub(crate) fn holder_key(claims: &Map<String, Value>) -> Result<Key> {
    let cnf = match claims.get("cnf") {
        Some(Value::Object(c)) => c,
        Some(_) => return Err(Error::MissingHolderKey("`cnf` is not an object".into())),
        None => return Err(Error::MissingHolderKey("no `cnf` claim".into())),
    };
    let jwk = match cnf.get("jwk") {
        Some(v @ Value::Object(_)) => Jwk::from_value(v.clone())?,
        Some(_) => return Err(Error::MissingHolderKey("`cnf.jwk` is not an object".into())),
        None => {
            return Err(Error::MissingHolderKey(
                "only `cnf.jwk` (RFC 7800 §3.2) is supported".into(),
            ))
        }
    };
    if jwk.is_private() {
        return Err(Error::MissingHolderKey(
            "`cnf.jwk` must be a public key".into(),
        ));
    }
    Ok(Key::from_jwk(jwk)?)
}
