//! SD-JWT VC (draft-ietf-oauth-sd-jwt-vc): `dc+sd-jwt` typing, `vct`, claims that are never
//! selectively disclosable, status references (draft-ietf-oauth-status-list), JWT VC Issuer
//! Metadata (`/.well-known/jwt-vc-issuer`) and `x5c` (decoding here; chain validation in
//! [`X5cIssuerKeyResolver`](crate::X5cIssuerKeyResolver)).

use std::collections::HashMap;

use async_trait::async_trait;
use base64::Engine;
use idforge_jose::{Clock, Header, JwkSet, KeySet, LocalSigner, Signer};
use rand::{CryptoRng, RngCore};
use serde_json::{Map, Value};

use crate::issuer::{Issuance, Issuer, IssuerConfig};
use crate::verifier::{IssuerContext, IssuerKeyResolver, SdJwtVerifier, Verified, VerifierConfig};
use crate::{Error, Result};

/// `typ` of SD-JWT VCs (draft-ietf-oauth-sd-jwt-vc §3.2.1).
pub const TYP: &str = idforge_jose::claims::typ::SD_JWT_VC;
/// The `typ` this draft used until November 2024; accepted on input only when
/// [`VcPolicy::accept_vc_sd_jwt`] is set (draft-ietf-oauth-sd-jwt-vc §3.2.1).
pub const LEGACY_TYP: &str = "vc+sd-jwt";

/// Claims that MUST NOT be selectively disclosable (draft-ietf-oauth-sd-jwt-vc §3.2.2.2).
pub const NEVER_DISCLOSABLE: [&str; 7] =
    ["iss", "nbf", "exp", "cnf", "vct", "vct#integrity", "status"];

/// Checks an SD-JWT VC's unsecured payload and disclosure policy before issuance:
/// - `vct` present and a string (§3.2.2.1);
/// - no path at or under a never-disclosable claim (§3.2.2.2);
/// - `iss`/`vct#integrity` strings, `iat`/`nbf`/`exp` numbers, `status` an object, when present.
pub fn check_issuance(issuance: &Issuance) -> Result<()> {
    let claims = &issuance.claims;
    match claims.get("vct") {
        Some(Value::String(v)) if !v.is_empty() => {}
        Some(_) => return Err(Error::InvalidVct("`vct` must be a non-empty string".into())),
        None => return Err(Error::InvalidVct("`vct` is required (§3.2.2.1)".into())),
    }
    for p in &issuance.disclose {
        if let Some(first) = p.tokens().first() {
            if NEVER_DISCLOSABLE.contains(&first.as_str()) {
                return Err(Error::NeverDisclosable(first.clone()));
            }
        }
    }
    check_registered(claims)
}

fn check_registered(claims: &Map<String, Value>) -> Result<()> {
    // One pass over the members instead of seven map lookups.
    for (name, v) in claims {
        let valid = match name.as_str() {
            "iss" | "vct#integrity" | "sub" => v.is_string(),
            "iat" | "nbf" | "exp" => v.is_number(),
            "status" => StatusReference::from_value(v).map(|_| true)?,
            _ => true,
        };
        if !valid {
            return Err(Error::Jose(
                idforge_jose::ClaimsError::Invalid(name.clone()).into(),
            ));
        }
    }
    Ok(())
}

/// An SD-JWT VC issuer: an [`Issuer`] with `typ: dc+sd-jwt` and the VC checks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcIssuer {
    issuer: Issuer,
}

impl VcIssuer {
    /// Wraps `config`, forcing `typ` to `dc+sd-jwt`.
    pub fn new(config: IssuerConfig) -> Self {
        VcIssuer {
            issuer: Issuer::new(config.typ(TYP)),
        }
    }

    /// Issues with a local key after [`check_issuance`].
    pub fn issue<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        signer: &LocalSigner,
        rng: &mut R,
    ) -> Result<String> {
        check_issuance(issuance)?;
        self.issuer.issue(issuance, signer, rng)
    }

    /// Issues through any [`Signer`] after [`check_issuance`].
    pub async fn issue_with<R: RngCore + CryptoRng + ?Sized>(
        &self,
        issuance: &Issuance,
        signer: &dyn Signer,
        rng: &mut R,
    ) -> Result<String> {
        check_issuance(issuance)?;
        self.issuer.issue_with(issuance, signer, rng).await
    }
}

impl Default for VcIssuer {
    fn default() -> Self {
        VcIssuer::new(IssuerConfig::default())
    }
}

/// SD-JWT VC verification policy.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct VcPolicy {
    /// Accepted `vct` values (exact, case-sensitive, §3.2.2.1); empty accepts any.
    pub vcts: Vec<String>,
    /// Also accept `typ: vc+sd-jwt` (§3.2.1 transition); off by default.
    pub accept_vc_sd_jwt: bool,
}

/// A verified SD-JWT VC.
#[derive(Debug, Clone, PartialEq)]
pub struct VerifiedVc {
    /// The SD-JWT verification result.
    pub sd_jwt: Verified,
    /// `vct`.
    pub vct: String,
    /// `vct#integrity`, when present (an SRI string over the type metadata, §7).
    pub vct_integrity: Option<String>,
    /// The status reference, when present, for the caller (or a [`StatusListResolver`]).
    pub status: Option<StatusReference>,
}

/// An SD-JWT VC verifier.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VcVerifier {
    /// The SD-JWT verifier (its `typ` list is set from `policy`).
    pub sd_jwt: SdJwtVerifier,
    /// VC policy.
    pub policy: VcPolicy,
}

impl VcVerifier {
    /// A verifier; `config.typ` is replaced by `dc+sd-jwt` (and `vc+sd-jwt` if allowed).
    pub fn new(mut config: VerifierConfig, policy: VcPolicy) -> Self {
        config.typ = vec![TYP.to_owned()];
        if policy.accept_vc_sd_jwt {
            config.typ.push(LEGACY_TYP.to_owned());
        }
        VcVerifier {
            sd_jwt: SdJwtVerifier::new(config),
            policy,
        }
    }

    /// Verifies per draft-ietf-oauth-sd-jwt-vc §3.4: RFC 9901 §7 processing (signature with a key
    /// from `keys`, digests, key binding when configured), `typ`, time claims via `clock`, then:
    /// - `vct` present, a string, never delivered by a Disclosure, allowed (§3.2.2.1);
    /// - no never-disclosable claim delivered by a Disclosure (§3.2.2.2);
    /// - `status`, when present, a well-formed reference (exposed, not checked: see
    ///   [`verify_with_status`](VcVerifier::verify_with_status)).
    pub fn verify(
        &self,
        text: &str,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
    ) -> Result<VerifiedVc> {
        let verified = self.sd_jwt.verify(text, keys, clock)?;
        for d in &verified.disclosed {
            if d.parent.is_none() && d.path.tokens().len() == 1 {
                let name = d.path.tokens()[0].as_str();
                if NEVER_DISCLOSABLE.contains(&name) {
                    return Err(Error::NeverDisclosable(name.to_owned()));
                }
            }
        }
        let vct = match verified.claims.get("vct") {
            Some(Value::String(v)) if !v.is_empty() => v.clone(),
            Some(_) => return Err(Error::InvalidVct("`vct` must be a non-empty string".into())),
            None => return Err(Error::InvalidVct("`vct` is required".into())),
        };
        if !self.policy.vcts.is_empty() && !self.policy.vcts.contains(&vct) {
            return Err(Error::InvalidVct(format!(
                "`{}` is not accepted",
                crate::hash::truncate(&vct)
            )));
        }
        check_registered(&verified.claims)?;
        let vct_integrity = verified
            .claims
            .get("vct#integrity")
            .and_then(Value::as_str)
            .map(str::to_owned);
        let status = verified
            .claims
            .get("status")
            .map(StatusReference::from_value)
            .transpose()?;
        Ok(VerifiedVc {
            sd_jwt: verified,
            vct,
            vct_integrity,
            status,
        })
    }

    /// [`verify`](VcVerifier::verify), then asks `resolver` about a `status_list` reference
    /// (draft-ietf-oauth-sd-jwt-vc §3.4: "the status SHOULD be checked"). Anything but
    /// [`StatusValue::Valid`] is [`Error::StatusNotValid`]. A credential without a status
    /// reference passes.
    pub async fn verify_with_status(
        &self,
        text: &str,
        keys: &dyn IssuerKeyResolver,
        clock: &dyn Clock,
        resolver: &dyn StatusListResolver,
    ) -> Result<VerifiedVc> {
        let vc = self.verify(text, keys, clock)?;
        if let Some(list) = vc.status.as_ref().and_then(|s| s.status_list.as_ref()) {
            match resolver.status(list).await? {
                StatusValue::Valid => {}
                other => return Err(Error::StatusNotValid(format!("{other:?}"))),
            }
        }
        Ok(vc)
    }
}

impl Default for VcVerifier {
    fn default() -> Self {
        VcVerifier::new(VerifierConfig::default(), VcPolicy::default())
    }
}

/// The `status` claim (draft-ietf-oauth-sd-jwt-vc §3.2.2.2; draft-ietf-oauth-status-list §6.1).
#[derive(Debug, Clone, PartialEq)]
pub struct StatusReference {
    /// The Token Status List reference, when the `status_list` mechanism is used.
    pub status_list: Option<StatusListReference>,
    /// The whole `status` object (other mechanisms live here).
    pub raw: Map<String, Value>,
}

/// `status.status_list`: `{"idx": <index>, "uri": "<status list token URI>"}`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct StatusListReference {
    /// Index of this credential in the list.
    pub idx: u64,
    /// Where the Status List Token is.
    pub uri: String,
}

impl StatusReference {
    /// Parses and checks a `status` value: an object; `status_list`, when present, with a
    /// non-negative integer `idx` and a string `uri`.
    pub fn from_value(v: &Value) -> Result<Self> {
        let Value::Object(raw) = v else {
            return Err(Error::InvalidStatus("`status` must be an object".into()));
        };
        let status_list = match raw.get("status_list") {
            None => None,
            Some(Value::Object(l)) => {
                let idx = l.get("idx").and_then(Value::as_u64).ok_or_else(|| {
                    Error::InvalidStatus("`status_list.idx` must be a non-negative integer".into())
                })?;
                let uri = l
                    .get("uri")
                    .and_then(Value::as_str)
                    .filter(|u| !u.is_empty())
                    .ok_or_else(|| {
                        Error::InvalidStatus("`status_list.uri` must be a string".into())
                    })?;
                Some(StatusListReference {
                    idx,
                    uri: uri.to_owned(),
                })
            }
            Some(_) => {
                return Err(Error::InvalidStatus(
                    "`status_list` must be an object".into(),
                ))
            }
        };
        Ok(StatusReference {
            status_list,
            raw: raw.clone(),
        })
    }
}

/// Status values (draft-ietf-oauth-status-list §7.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusValue {
    /// `0x00` VALID.
    Valid,
    /// `0x01` INVALID (revoked).
    Invalid,
    /// `0x02` SUSPENDED.
    Suspended,
    /// Any other (application-specific) value.
    Other(u8),
}

impl StatusValue {
    /// From the list's raw value.
    pub fn from_u8(v: u8) -> Self {
        match v {
            0 => StatusValue::Valid,
            1 => StatusValue::Invalid,
            2 => StatusValue::Suspended,
            n => StatusValue::Other(n),
        }
    }
}

/// The status port: fetches (and caches) Status List Tokens and reads a credential's entry.
#[async_trait]
pub trait StatusListResolver: Send + Sync {
    /// The status at `reference.idx` of the list at `reference.uri`.
    async fn status(&self, reference: &StatusListReference) -> Result<StatusValue>;
}

/// In-memory [`StatusListResolver`]: `(uri, idx) → value`; unknown entries are an error.
#[derive(Debug, Clone, Default)]
pub struct MemoryStatusList {
    entries: HashMap<(String, u64), u8>,
}

impl MemoryStatusList {
    /// Sets one entry.
    pub fn set(&mut self, uri: impl Into<String>, idx: u64, value: u8) {
        self.entries.insert((uri.into(), idx), value);
    }
}

#[async_trait]
impl StatusListResolver for MemoryStatusList {
    async fn status(&self, r: &StatusListReference) -> Result<StatusValue> {
        self.entries
            .get(&(r.uri.clone(), r.idx))
            .map(|v| StatusValue::from_u8(*v))
            .ok_or_else(|| Error::Resolver("unknown status list entry".into()))
    }
}

/// JWT VC Issuer Metadata (draft-ietf-oauth-sd-jwt-vc §5.2), served at
/// `/.well-known/jwt-vc-issuer`.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JwtVcIssuerMetadata {
    /// `issuer`: MUST equal the `iss` of the credentials it describes (§5.3).
    pub issuer: String,
    /// `jwks_uri`: where the issuer's JWK Set is (exclusive with `jwks`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks_uri: Option<String>,
    /// `jwks`: the issuer's JWK Set by value (exclusive with `jwks_uri`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jwks: Option<Value>,
}

impl JwtVcIssuerMetadata {
    /// Parses and validates a metadata document (§5.2): `issuer` a string; exactly one of
    /// `jwks_uri` (a string) and `jwks` (a JWK Set with a `keys` array). Unknown members are
    /// ignored.
    pub fn from_json(text: &str) -> Result<Self> {
        let obj = crate::json::parse_object(text.as_bytes(), 16, "issuer metadata")
            .map_err(|e| Error::InvalidIssuerMetadata(e.to_string()))?;
        let issuer = match obj.get("issuer") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => {
                return Err(Error::InvalidIssuerMetadata(
                    "`issuer` must be a string".into(),
                ))
            }
        };
        let jwks_uri = match obj.get("jwks_uri") {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                return Err(Error::InvalidIssuerMetadata(
                    "`jwks_uri` must be a string".into(),
                ))
            }
        };
        let jwks = obj.get("jwks").cloned();
        match (&jwks_uri, &jwks) {
            (Some(_), Some(_)) => {
                return Err(Error::InvalidIssuerMetadata(
                    "`jwks_uri` and `jwks` must not both be present".into(),
                ))
            }
            (None, None) => {
                return Err(Error::InvalidIssuerMetadata(
                    "one of `jwks_uri` or `jwks` is required".into(),
                ))
            }
            (None, Some(set)) => {
                JwkSet::from_value(set.clone())
                    .map_err(|e| Error::InvalidIssuerMetadata(e.to_string()))?;
            }
            _ => {}
        }
        Ok(JwtVcIssuerMetadata {
            issuer,
            jwks_uri,
            jwks,
        })
    }

    /// Serializes the document.
    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// §5.3: `issuer` must be identical to the credential's `iss`.
    pub fn check_issuer(&self, iss: &str) -> Result<()> {
        if self.issuer == iss {
            Ok(())
        } else {
            Err(Error::InvalidIssuerMetadata(
                "`issuer` does not match `iss`".into(),
            ))
        }
    }

    /// The JWK Set given by value, if any.
    pub fn key_set(&self) -> Result<Option<KeySet>> {
        match &self.jwks {
            None => Ok(None),
            Some(v) => {
                let set = JwkSet::from_value(v.clone())
                    .map_err(|e| Error::InvalidIssuerMetadata(e.to_string()))?;
                Ok(Some(KeySet::from_jwk_set(&set)?))
            }
        }
    }
}

/// The metadata URL for an `iss` (draft-ietf-oauth-sd-jwt-vc §5.1): `/.well-known/jwt-vc-issuer`
/// inserted between the host and the path (a terminating `/` removed first). `iss` must be an
/// `https` URL without query or fragment.
pub fn well_known_url(iss: &str) -> Result<String> {
    let rest = iss
        .strip_prefix("https://")
        .ok_or_else(|| Error::InvalidIssuerMetadata("`iss` must be an https URL".into()))?;
    if rest.contains(['?', '#']) {
        return Err(Error::InvalidIssuerMetadata(
            "`iss` must not have a query or fragment".into(),
        ));
    }
    let (host, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, ""),
    };
    if host.is_empty() {
        return Err(Error::InvalidIssuerMetadata("`iss` has no host".into()));
    }
    let path = path.trim_end_matches('/');
    Ok(format!("https://{host}/.well-known/jwt-vc-issuer{path}"))
}

/// An [`IssuerKeyResolver`] over JWT VC Issuer Metadata the host already fetched: keys are
/// chosen by the (unverified) `iss`; an unknown issuer is rejected (§3.5).
#[derive(Debug, Clone, Default)]
pub struct IssuerMetadataResolver {
    issuers: HashMap<String, KeySet>,
}

impl IssuerMetadataResolver {
    /// Adds an issuer from a metadata document with `jwks` by value, or with `jwks` fetched by
    /// the host from its `jwks_uri`.
    pub fn insert(
        &mut self,
        metadata: &JwtVcIssuerMetadata,
        fetched_jwks: Option<&JwkSet>,
    ) -> Result<()> {
        let keys = match (metadata.key_set()?, fetched_jwks) {
            (Some(keys), _) => keys,
            (None, Some(set)) => KeySet::from_jwk_set(set)?,
            (None, None) => {
                return Err(Error::InvalidIssuerMetadata(
                    "no keys: fetch `jwks_uri` first".into(),
                ))
            }
        };
        self.issuers.insert(metadata.issuer.clone(), keys);
        Ok(())
    }
}

impl IssuerKeyResolver for IssuerMetadataResolver {
    fn issuer_keys(&self, ctx: &IssuerContext<'_>) -> Result<KeySet> {
        let iss = ctx
            .iss()
            .ok_or_else(|| Error::Resolver("no `iss` to look issuer metadata up by".into()))?;
        self.issuers.get(iss).cloned().ok_or_else(|| {
            Error::Resolver(format!("unknown issuer `{}`", crate::hash::truncate(iss)))
        })
    }
}

/// The `x5c` header decoded to DER (RFC 7515 §4.1.6: standard base64, not base64url), end-entity
/// certificate first; `None` without an `x5c` member. Anything but a non-empty array of base64
/// strings is [`Error::InvalidX5c`]. Decoding checks nothing about the certificates: validate
/// them with [`X5cIssuerKeyResolver`](crate::X5cIssuerKeyResolver).
pub fn x5c_der(header: &Header) -> Result<Option<Vec<Vec<u8>>>> {
    match header.get("x5c") {
        None => Ok(None),
        Some(Value::Array(items)) if !items.is_empty() => items
            .iter()
            .enumerate()
            .map(|(i, c)| match c {
                Value::String(s) => base64::engine::general_purpose::STANDARD
                    .decode(s)
                    .map_err(|_| Error::InvalidX5c(format!("entry {i} is not base64"))),
                _ => Err(Error::InvalidX5c(format!("entry {i} is not a string"))),
            })
            .collect::<Result<Vec<_>>>()
            .map(Some),
        Some(_) => Err(Error::InvalidX5c("`x5c` must be a non-empty array".into())),
    }
}
