//! The `idforge-oid4vci` module: `[credential_issuer]` and `[[credential_templates]]` turn the
//! provider into an OpenID for Verifiable Credential Issuance 1.0 credential issuer.
//!
//! - The issuer's endpoints (metadata, JWT VC issuer metadata, offers by reference, nonce,
//!   credential, deferred credential, notification, status lists) through the crate's
//!   `HttpEndpoints`, after the provider's.
//! - `POST /credential-offers` and `POST /credential-status` for clients holding the
//!   `credential_offers` scope.
//! - The authorization code flow's `authorization_details` and `issuer_state` (OID4VCI §5),
//!   through the crate's `CredentialAuthorization`, for `wallet` clients only.
//! - `[[clients]]` with `template = "wallet"`: public, PKCE (oauth-core requires it of public
//!   clients), `authorization_code` and the pre-authorized code grant, any redirect URI scheme.
//!
//! Every use of idforge-oid4vci lives here.

use std::collections::HashMap;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::Router;
use idforge_jose::SystemClock;
use idforge_oauth_core::http::error_response;
use idforge_oauth_core::{Client, Context, Error};
use idforge_oid4vci::encryption::{ContentEncryption, EncryptionSettings, KeyManagementAlgorithm};
use idforge_oid4vci::memory::{MemoryIssuanceStore, MemoryTemplateStore};
use idforge_oid4vci::ports::{IssuanceStore, TemplateStore};
use idforge_oid4vci::{
    ClaimTemplate, CredentialAuthorization, CredentialFormat, CredentialIssuer, CredentialTemplate,
    Display, FixedDelay, IssuerCore, IssuerSettings, OfferGrant, OfferRequest,
    PreAuthorizedCodeGrant, WalletClients, PRE_AUTHORIZED_CODE_GRANT,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::config::{ClientAuth, ClientConfig, ConfigError, ServeConfig};
use crate::oauth::OAuth;

/// The scope a client needs for `POST /credential-offers` and `POST /credential-status`.
pub const CREDENTIAL_OFFERS_SCOPE: &str = "credential_offers";
/// The public client anonymous pre-authorized redemptions are attributed to.
pub const ANONYMOUS_CLIENT: &str = "oid4vci-anonymous-wallet";
/// Largest admin request body.
const MAX_ADMIN_BODY: usize = 16 * 1024;

/// `[credential_issuer]`: turns the credential issuer on; its identifier is the issuer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CredentialIssuerConfig {
    /// Most proofs (credentials) in one credential request (default 10).
    #[serde(default = "default_batch_size")]
    pub batch_size: u32,
    /// Whether wallets may redeem pre-authorized codes without a client id (default true).
    #[serde(default = "default_true")]
    pub anonymous_pre_authorized: bool,
    /// Wrong `tx_code` attempts after which the pre-authorized code is dead (default 5).
    #[serde(default = "default_attempts")]
    pub tx_code_max_attempts: u32,
    /// `request_encryption = { algs, encs, required }`: encrypted credential requests
    /// (OID4VCI 1.0 §10.1, metadata `credential_request_encryption`); the issuer's
    /// decryption keys (one per key family of `algs`) are generated when the server starts
    /// and published in the metadata.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_encryption: Option<EncryptionConfig>,
    /// `response_encryption = { algs, encs, required }`: encrypted credential responses
    /// (§10.2, metadata `credential_response_encryption`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_encryption: Option<EncryptionConfig>,
}

/// `request_encryption` / `response_encryption` in `[credential_issuer]`: the JWE algorithms
/// accepted (`algs`: `alg` names, default `["ECDH-ES"]`; `encs`: `enc` names, default
/// `["A128GCM"]`) and whether encryption is `required` (default false). Names are checked
/// when the configuration is loaded.
///
/// idforge-oid4vci has one set of algorithms and one `encryption_required` switch for both
/// directions: the server accepts and offers the union of the two tables' algorithms, and
/// requires encryption both ways when either table says `required = true`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct EncryptionConfig {
    /// Key management algorithms (`ECDH-ES*`, `RSA-OAEP*`).
    #[serde(default = "default_algs")]
    pub algs: Vec<JweAlg>,
    /// Content encryption algorithms.
    #[serde(default = "default_encs")]
    pub encs: Vec<JweEnc>,
    /// Encryption required.
    #[serde(default)]
    pub required: bool,
}

impl Default for EncryptionConfig {
    fn default() -> Self {
        EncryptionConfig {
            algs: default_algs(),
            encs: default_encs(),
            required: false,
        }
    }
}

fn default_algs() -> Vec<JweAlg> {
    vec![JweAlg(KeyManagementAlgorithm::EcdhEs)]
}
fn default_encs() -> Vec<JweEnc> {
    vec![JweEnc(ContentEncryption::A128Gcm)]
}

/// A JWE `alg` (RFC 7518 §4.1), written by its name in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JweAlg(pub KeyManagementAlgorithm);

/// A JWE `enc` (RFC 7518 §5.1), written by its name in the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JweEnc(pub ContentEncryption);

impl Serialize for JweAlg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for JweAlg {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        KeyManagementAlgorithm::from_name(&name)
            .map(JweAlg)
            .map_err(|_| serde::de::Error::custom(format!("unknown JWE alg `{name}`")))
    }
}

impl Serialize for JweEnc {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.0.name())
    }
}

impl<'de> Deserialize<'de> for JweEnc {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let name = String::deserialize(d)?;
        ContentEncryption::from_name(&name)
            .map(JweEnc)
            .map_err(|_| serde::de::Error::custom(format!("unknown JWE enc `{name}`")))
    }
}

impl CredentialIssuerConfig {
    /// The library's encryption settings for both tables (see [`EncryptionConfig`]), with
    /// freshly generated request decryption keys; `None` without either table.
    fn encryption(&self) -> Result<Option<EncryptionSettings>, ConfigError> {
        let tables: Vec<&EncryptionConfig> = [&self.request_encryption, &self.response_encryption]
            .into_iter()
            .flatten()
            .collect();
        if tables.is_empty() {
            return Ok(None);
        }
        let mut algs: Vec<KeyManagementAlgorithm> = Vec::new();
        let mut encs: Vec<ContentEncryption> = Vec::new();
        for t in &tables {
            if t.algs.is_empty() || t.encs.is_empty() {
                return Err(bad(
                    "[credential_issuer] encryption: `algs` and `encs` must not be empty",
                ));
            }
            for a in &t.algs {
                if !algs.contains(&a.0) {
                    algs.push(a.0);
                }
            }
            for e in &t.encs {
                if !encs.contains(&e.0) {
                    encs.push(e.0);
                }
            }
        }
        let settings = EncryptionSettings::generate(algs, encs).map_err(|e| {
            bad(format!(
                "[credential_issuer] encryption: {}",
                e.description()
            ))
        })?;
        Ok(Some(if tables.iter().any(|t| t.required) {
            settings.required()
        } else {
            settings
        }))
    }
}

fn default_batch_size() -> u32 {
    10
}
fn default_true() -> bool {
    true
}
fn default_attempts() -> u32 {
    5
}

impl Default for CredentialIssuerConfig {
    fn default() -> Self {
        CredentialIssuerConfig {
            batch_size: default_batch_size(),
            anonymous_pre_authorized: true,
            tx_code_max_attempts: default_attempts(),
            request_encryption: None,
            response_encryption: None,
        }
    }
}

/// The format of a `[[credential_templates]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum TemplateFormat {
    /// SD-JWT VC (`vct` required).
    #[serde(rename = "dc+sd-jwt")]
    SdJwtVc,
    /// W3C VC as a JWT (`types` required).
    #[serde(rename = "jwt_vc_json")]
    JwtVcJson,
}

/// A claim path: `"given_name"`, `"address.locality"` or `["address", "locality"]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
#[non_exhaustive]
pub enum ClaimPathConfig {
    /// Dot-separated names.
    Dotted(String),
    /// Segments.
    Segments(Vec<String>),
}

impl ClaimPathConfig {
    fn segments(&self) -> Vec<String> {
        match self {
            ClaimPathConfig::Dotted(s) => s.split('.').map(str::to_owned).collect(),
            ClaimPathConfig::Segments(v) => v.clone(),
        }
    }
}

/// A claim of a template: where it is in the user's `[users.claims]` (and in the credential).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct TemplateClaimConfig {
    /// The path.
    pub path: ClaimPathConfig,
    /// A user without it gets no credential.
    #[serde(default)]
    pub mandatory: bool,
    /// Display name for wallets.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
}

/// `[[credential_templates]]`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct CredentialTemplateConfig {
    /// The `credential_configuration_id`.
    pub id: String,
    /// `dc+sd-jwt` or `jwt_vc_json`.
    pub format: TemplateFormat,
    /// The SD-JWT VC type (`dc+sd-jwt`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vct: Option<String>,
    /// The credential types (`jwt_vc_json`); `VerifiableCredential` is added when missing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub types: Option<Vec<String>>,
    /// The scope that requests it (added to the provider's supported scopes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The claims.
    #[serde(default)]
    pub claims: Vec<TemplateClaimConfig>,
    /// Claim names (dotted paths) that are selectively disclosable (`dc+sd-jwt`).
    #[serde(default)]
    pub selectively_disclosable: Vec<String>,
    /// Display name of the credential.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub display_name: Option<String>,
    /// Validity of issued credentials in days (default 365).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub validity_days: Option<u32>,
    /// When set, the credential endpoint answers 202 and the credential is ready that many
    /// seconds later at the deferred endpoint.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deferred_seconds: Option<u64>,
}

/// `template` of a `[[clients]]` entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum ClientTemplate {
    /// A wallet: public, PKCE, authorization code and pre-authorized code grants, custom-scheme
    /// redirect URIs.
    Wallet,
}

/// The encryption tables' algorithms can be used without a shared secret (checked at load,
/// without generating keys).
fn check_encryption(ci: &CredentialIssuerConfig) -> Result<(), ConfigError> {
    use KeyManagementAlgorithm as A;
    for t in [&ci.request_encryption, &ci.response_encryption]
        .into_iter()
        .flatten()
    {
        if t.algs.is_empty() || t.encs.is_empty() {
            return Err(bad(
                "[credential_issuer] encryption: `algs` and `encs` must not be empty",
            ));
        }
        for a in &t.algs {
            if !matches!(
                a.0,
                A::EcdhEs
                    | A::EcdhEsA128Kw
                    | A::EcdhEsA192Kw
                    | A::EcdhEsA256Kw
                    | A::RsaOaep
                    | A::RsaOaep256
                    | A::RsaOaep384
                    | A::RsaOaep512
            ) {
                return Err(bad(format!(
                    "[credential_issuer] encryption: `{}` needs a shared secret; use ECDH-ES or RSA-OAEP",
                    a.0.name()
                )));
            }
        }
    }
    Ok(())
}

fn bad(m: impl Into<String>) -> ConfigError {
    ConfigError::CredentialIssuer(m.into())
}

impl CredentialTemplateConfig {
    /// The crate's template; refused when it cannot be issued.
    pub fn to_template(&self) -> Result<CredentialTemplate, ConfigError> {
        let format = match self.format {
            TemplateFormat::SdJwtVc => CredentialFormat::SdJwtVc {
                vct: self
                    .vct
                    .clone()
                    .ok_or_else(|| bad(format!("template {}: `vct` is required", self.id)))?,
            },
            TemplateFormat::JwtVcJson => {
                let mut types = self
                    .types
                    .clone()
                    .ok_or_else(|| bad(format!("template {}: `types` is required", self.id)))?;
                if !types.iter().any(|t| t == "VerifiableCredential") {
                    types.insert(0, "VerifiableCredential".into());
                }
                CredentialFormat::JwtVcJson { types }
            }
        };
        let mut t = CredentialTemplate::new(self.id.clone(), format)
            .with_validity_seconds(i64::from(self.validity_days.unwrap_or(365)) * 86_400)
            .with_selectively_disclosable(self.selectively_disclosable.clone());
        if let Some(s) = &self.scope {
            t = t.with_scope(s.clone());
        }
        if let Some(d) = &self.display_name {
            t = t.with_display(Display::new(d.clone()));
        }
        for c in &self.claims {
            let mut claim = ClaimTemplate::new(c.path.segments());
            if c.mandatory {
                claim = claim.mandatory();
            }
            if let Some(d) = &c.display_name {
                claim = claim.with_display(Display::new(d.clone()));
            }
            t = t.with_claim(claim);
        }
        t.validate()
            .map_err(|e| bad(format!("template {}: {e}", self.id)))?;
        Ok(t)
    }
}

/// Scopes the provider supports in addition to its defaults: with the credential issuer on,
/// `credential_offers` and every template's scope.
pub(crate) fn extra_scopes(config: &ServeConfig) -> Vec<String> {
    if config.credential_issuer.is_none() {
        return Vec::new();
    }
    let mut out = vec![CREDENTIAL_OFFERS_SCOPE.to_owned()];
    for t in &config.credential_templates {
        if let Some(s) = &t.scope {
            if !out.contains(s) {
                out.push(s.clone());
            }
        }
    }
    out
}

/// The checks of this module: templates need `[credential_issuer]`, have unique ids and can
/// be issued; a `wallet` client has no secret.
pub(crate) fn validate(config: &ServeConfig) -> Result<(), ConfigError> {
    if config.credential_issuer.is_none() && !config.credential_templates.is_empty() {
        return Err(bad("[[credential_templates]] needs [credential_issuer]"));
    }
    if let Some(ci) = &config.credential_issuer {
        settings(ci).validate().map_err(|e| bad(e.to_string()))?;
        check_encryption(ci)?;
    }
    let mut ids = Vec::new();
    for t in &config.credential_templates {
        if ids.contains(&t.id.as_str()) {
            return Err(bad(format!("template {}: duplicate id", t.id)));
        }
        ids.push(t.id.as_str());
        t.to_template()?;
    }
    for c in &config.clients {
        if config.credential_issuer.is_some() && c.client_id == ANONYMOUS_CLIENT {
            return Err(bad(format!(
                "client {ANONYMOUS_CLIENT}: the id is reserved for anonymous wallets"
            )));
        }
        if c.template == Some(ClientTemplate::Wallet) {
            if config.credential_issuer.is_none() {
                return Err(bad(format!(
                    "client {}: template = \"wallet\" needs [credential_issuer]",
                    c.client_id
                )));
            }
            if c.client_secret.is_some() {
                return Err(bad(format!(
                    "client {}: a wallet is a public client (no client_secret)",
                    c.client_id
                )));
            }
        }
    }
    Ok(())
}

/// A `wallet` client as registered: public, with the authorization code and pre-authorized
/// code grants.
pub(crate) fn effective_client(c: &ClientConfig) -> ClientConfig {
    let mut c = c.clone();
    if c.template == Some(ClientTemplate::Wallet) {
        c.token_endpoint_auth_method = Some(ClientAuth::None);
        for g in ["authorization_code", PRE_AUTHORIZED_CODE_GRANT] {
            if !c.grant_types.iter().any(|x| x == g) {
                c.grant_types.push(g.to_owned());
            }
        }
    }
    c
}

fn settings(ci: &CredentialIssuerConfig) -> IssuerSettings {
    let s = IssuerSettings::default()
        .with_batch_size(ci.batch_size)
        .with_tx_code_max_attempts(ci.tx_code_max_attempts);
    if ci.anonymous_pre_authorized {
        s.with_anonymous_access(ANONYMOUS_CLIENT)
    } else {
        s
    }
}

/// What the provider needs before it is built: the grant handler and the anonymous client.
pub(crate) struct Prepared {
    core: Arc<IssuerCore>,
    encryption: Option<EncryptionSettings>,
    pub(crate) grant: Arc<PreAuthorizedCodeGrant>,
    pub(crate) anonymous_client: Option<Client>,
}

/// Builds the issuer's shared parts, when `[credential_issuer]` is present.
pub(crate) fn prepare(
    config: &ServeConfig,
    stores: &crate::storage::Stores,
) -> Result<Option<Prepared>, ConfigError> {
    let Some(ci) = &config.credential_issuer else {
        return Ok(None);
    };
    let templates = config
        .credential_templates
        .iter()
        .map(CredentialTemplateConfig::to_template)
        .collect::<Result<Vec<_>, _>>()?;
    // On a database the templates were upserted before the build (`storage::open`).
    let (template_store, issuance): (Arc<dyn TemplateStore>, Arc<dyn IssuanceStore>) = match stores
        .sql()
    {
        Some(sql) => (Arc::new(sql.clone()), Arc::new(sql.clone())),
        None => (
            Arc::new(
                MemoryTemplateStore::with_templates(templates).map_err(|e| bad(e.to_string()))?,
            ),
            Arc::new(MemoryIssuanceStore::new()),
        ),
    };
    let core =
        IssuerCore::new(settings(ci), template_store, issuance).map_err(|e| bad(e.to_string()))?;
    Ok(Some(Prepared {
        encryption: ci.encryption()?,
        grant: Arc::new(PreAuthorizedCodeGrant::new(core.clone())),
        anonymous_client: ci.anonymous_pre_authorized.then(|| {
            Client::public(ANONYMOUS_CLIENT).with_grant_types([PRE_AUTHORIZED_CODE_GRANT])
        }),
        core,
    }))
}

impl Prepared {
    /// The authorization code flow's `authorization_details` and `issuer_state` (§5), for the
    /// `wallet` clients only, on the provider's (system) clock.
    pub(crate) fn authorization_extension(
        &self,
        issuer: &str,
        config: &ServeConfig,
    ) -> Arc<CredentialAuthorization> {
        let wallets = config
            .clients
            .iter()
            .filter(|c| c.template == Some(ClientTemplate::Wallet))
            .map(|c| c.client_id.clone())
            .collect();
        Arc::new(
            CredentialAuthorization::new(self.core.clone(), issuer, Arc::new(SystemClock))
                .with_wallet_clients(WalletClients::Only(wallets)),
        )
    }
}

/// The running credential issuer.
pub(crate) struct Oid4vci {
    pub(crate) issuer: CredentialIssuer,
    /// username → subject (`claims.sub`, else the username).
    subjects: HashMap<String, String>,
}

impl Oid4vci {
    pub(crate) fn new(ctx: Arc<Context>, prepared: Prepared, config: &ServeConfig) -> Self {
        let mut delays = FixedDelay::new();
        let mut deferred = false;
        for t in &config.credential_templates {
            if let Some(s) = t.deferred_seconds {
                delays = delays.with_delay(t.id.clone(), s);
                deferred = true;
            }
        }
        let mut issuer = CredentialIssuer::new(ctx, prepared.core);
        if let Some(e) = prepared.encryption {
            issuer = issuer.with_encryption(e);
        }
        if deferred {
            issuer = issuer.with_deferred(Arc::new(delays));
        }
        let subjects = config
            .users
            .iter()
            .map(|u| {
                let sub = u
                    .claims
                    .get("sub")
                    .and_then(Value::as_str)
                    .unwrap_or(&u.username)
                    .to_owned();
                (u.username.clone(), sub)
            })
            .collect();
        Oid4vci { issuer, subjects }
    }
}

/// The administrative routes (`POST /credential-offers`, `POST /credential-status`).
pub(crate) fn routes() -> Router<Arc<OAuth>> {
    Router::new()
        .route("/credential-offers", post(create_offer))
        .route("/credential-status", post(set_status))
}

fn err(e: &Error) -> Response {
    error_response(e, false).map(Body::from)
}

/// The bearer token must carry `credential_offers` (RFC 6750 §3.1 `insufficient_scope`).
async fn admin<'a>(state: &'a OAuth, headers: &HeaderMap) -> Result<&'a Oid4vci, Error> {
    let oid = state
        .oid4vci
        .as_ref()
        .ok_or_else(|| Error::InvalidRequest("the credential issuer is off".into()))?;
    crate::oauth::require_scope(state, headers, CREDENTIAL_OFFERS_SCOPE).await?;
    Ok(oid)
}

fn json_body(body: &Bytes) -> Result<Value, Error> {
    if body.len() > MAX_ADMIN_BODY {
        return Err(Error::InvalidRequest("request too large".into()));
    }
    serde_json::from_slice(body).map_err(|_| Error::InvalidRequest("the body is not JSON".into()))
}

/// `{"username", "credential_configuration_ids", "pre_authorized", "tx_code"}` → 201
/// `{"credential_offer", "credential_offer_uri", "tx_code"?}`.
async fn create_offer(
    State(state): State<Arc<OAuth>>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let result = async {
        let oid = admin(&state, &headers).await?;
        let v = json_body(&body)?;
        let username = v
            .get("username")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::InvalidRequest("`username` is required".into()))?;
        let subject = oid
            .subjects
            .get(username)
            .ok_or_else(|| Error::InvalidRequest("unknown username".into()))?;
        let ids: Vec<String> = v
            .get("credential_configuration_ids")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .filter(|a: &Vec<String>| !a.is_empty())
            .ok_or_else(|| {
                Error::InvalidRequest("`credential_configuration_ids` is required".into())
            })?;
        let pre = v
            .get("pre_authorized")
            .and_then(Value::as_bool)
            .unwrap_or(true);
        let tx = v.get("tx_code").and_then(Value::as_bool).unwrap_or(false);
        let grant = if pre {
            OfferGrant::PreAuthorized {
                tx_code_length: tx.then_some(6),
            }
        } else {
            OfferGrant::AuthorizationCode
        };
        let created = oid
            .issuer
            .create_offer(&OfferRequest::new(subject.clone(), ids, grant))
            .await?;
        let mut out = json!({
            "credential_offer": created.offer.to_json(),
            "credential_offer_uri": created.credential_offer_uri,
        });
        if let Some(t) = created.tx_code {
            out["tx_code"] = json!(t);
        }
        Ok::<_, Error>(out)
    }
    .await;
    match result {
        Ok(v) => (
            StatusCode::CREATED,
            [
                ("content-type", "application/json"),
                ("cache-control", "no-store"),
            ],
            v.to_string(),
        )
            .into_response(),
        Err(e) => err(&e),
    }
}

/// `{"status_list": {"idx", "uri"}, "status": "revoked" | "valid"}` → 204.
async fn set_status(State(state): State<Arc<OAuth>>, headers: HeaderMap, body: Bytes) -> Response {
    let result = async {
        let oid = admin(&state, &headers).await?;
        let v = json_body(&body)?;
        let list = v
            .get("status_list")
            .ok_or_else(|| Error::InvalidRequest("`status_list` is required".into()))?;
        let idx = list
            .get("idx")
            .and_then(Value::as_u64)
            .ok_or_else(|| Error::InvalidRequest("`status_list.idx` is required".into()))?;
        let uri = list
            .get("uri")
            .and_then(Value::as_str)
            .ok_or_else(|| Error::InvalidRequest("`status_list.uri` is required".into()))?;
        let revoked = match v.get("status").and_then(Value::as_str) {
            Some("revoked") => true,
            Some("valid") => false,
            _ => return Err(Error::InvalidRequest("`status` is revoked or valid".into())),
        };
        oid.issuer.set_status(uri, idx, revoked).await
    }
    .await;
    match result {
        Ok(()) => StatusCode::NO_CONTENT.into_response(),
        Err(e) => err(&e),
    }
}
