//! The credential issuer's endpoints (§4, §7, §8, §9, §11, §12.2) and status list management.

use std::borrow::Cow;
use std::sync::Arc;

use idforge_jose::{jws, Header, Jwk};
use idforge_oauth_core::secret::random_token;
use idforge_oauth_core::{
    resolve_access_token, AccessTokenInfo, Context, Error, Grant, Scopes, TokenHash, TokenRecord,
};
use serde_json::{json, Map, Value};

use crate::authorization::authorize;
use crate::credential::{build, map_claims_owned, CredentialInput};
use crate::encryption::{EncryptionSettings, ResponseEncryption};
use crate::error::{invalid_proof, invalid_request, CredentialErrorCode, TemplateError};
use crate::grant::artifact_kind;
use crate::metadata::{issuer_metadata, AnonymousAccess, IssuerSettings};
use crate::offer::{
    AuthorizationCodeOffer, CredentialOffer, OfferGrants, PreAuthorizedCodeOffer, TxCode,
};
use crate::ports::{
    Deferral, DeferredIssuance, IssuanceRecord, IssuanceStore, Notification, NotificationEvent,
    NotificationHandler, OfferRecord, TemplateStore,
};
use crate::request::{
    check_jwt_proof, CredentialRequest, CredentialTarget, ProofRules, ValidProof,
};
use crate::template::CredentialTemplate;

/// The signed metadata `typ` (§12.2.3).
pub const SIGNED_METADATA_TYP: &str = "openidvci-issuer-metadata+jwt";
/// Client id of the carrier grants of pre-authorized codes (never a real client).
const OFFER_CARRIER: &str = "urn:idforge:oid4vci:offer";
/// Largest notification / deferred request body.
const MAX_SMALL_BODY: usize = 8 * 1024;

/// What the issuer's grant and endpoints share: settings, templates, issuance state.
pub struct IssuerCore {
    /// Settings.
    pub settings: IssuerSettings,
    /// Templates.
    pub templates: Arc<dyn TemplateStore>,
    /// Issuance state.
    pub store: Arc<dyn IssuanceStore>,
}

impl std::fmt::Debug for IssuerCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuerCore")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl IssuerCore {
    /// Validates `settings` and bundles the ports.
    pub fn new(
        settings: IssuerSettings,
        templates: Arc<dyn TemplateStore>,
        store: Arc<dyn IssuanceStore>,
    ) -> Result<Arc<Self>, TemplateError> {
        settings.validate()?;
        Ok(Arc::new(IssuerCore {
            settings,
            templates,
            store,
        }))
    }
}

/// Which grant an offer carries (§4.1.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum OfferGrant {
    /// Pre-authorized code, with a numeric transaction code of `tx_code_length` digits when
    /// `Some`.
    PreAuthorized {
        /// Digits of the transaction code, if one is required (4..=12).
        tx_code_length: Option<u32>,
    },
    /// Authorization code with an `issuer_state`.
    AuthorizationCode,
}

/// An administrator's (or back office's) request for an offer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct OfferRequest {
    /// The user the credentials will be about (the `sub` of the `ClaimsSource`).
    pub subject: String,
    /// The templates offered.
    pub configuration_ids: Vec<String>,
    /// The grant.
    pub grant: OfferGrant,
}

impl OfferRequest {
    /// An offer of `ids` for `subject` with `grant`.
    pub fn new<S: Into<String>>(
        subject: impl Into<String>,
        ids: impl IntoIterator<Item = S>,
        grant: OfferGrant,
    ) -> Self {
        OfferRequest {
            subject: subject.into(),
            configuration_ids: ids.into_iter().map(Into::into).collect(),
            grant,
        }
    }
}

/// A created offer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CreatedOffer {
    /// The offer (by value).
    pub offer: CredentialOffer,
    /// The same offer by reference (§4.1.3), served until it expires.
    pub credential_offer_uri: String,
    /// The transaction code to send to the user out of band (§6.1).
    pub tx_code: Option<String>,
}

/// The credential endpoint's answer (§8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialResponse {
    /// 200: the credentials, one per proof, and the `notification_id`.
    Issued {
        /// Credentials.
        credentials: Vec<String>,
        /// For the notification endpoint (§11).
        notification_id: String,
    },
    /// 202: deferred (§8.3, §9).
    Deferred {
        /// For the deferred credential endpoint.
        transaction_id: String,
        /// Seconds to wait before polling.
        interval: u64,
    },
}

impl CredentialResponse {
    /// The HTTP status: 200 or 202.
    pub fn status(&self) -> u16 {
        match self {
            CredentialResponse::Issued { .. } => 200,
            CredentialResponse::Deferred { .. } => 202,
        }
    }

    /// The JSON body (§8.3).
    pub fn to_json(&self) -> Value {
        match self {
            CredentialResponse::Issued {
                credentials,
                notification_id,
            } => json!({
                "credentials": credentials.iter().map(|c| json!({"credential": c})).collect::<Vec<_>>(),
                "notification_id": notification_id,
            }),
            CredentialResponse::Deferred {
                transaction_id,
                interval,
            } => json!({"transaction_id": transaction_id, "interval": interval}),
        }
    }
}

/// A credential or deferred credential answer as sent: JSON, or a JWE when the wallet asked
/// for response encryption (§10.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialReply {
    /// `application/json`.
    Json(CredentialResponse),
    /// `application/jwt`: the JSON response encrypted to the wallet's key.
    Encrypted {
        /// 200 or 202.
        status: u16,
        /// The compact JWE.
        jwe: String,
    },
}

impl CredentialReply {
    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            CredentialReply::Json(r) => r.status(),
            CredentialReply::Encrypted { status, .. } => *status,
        }
    }
}

/// Whether a `Content-Type` is `application/jwt` (an encrypted request, §10.1).
pub fn is_jwt_media_type(content_type: Option<&str>) -> bool {
    content_type
        .and_then(|c| c.split(';').next())
        .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/jwt"))
}

/// The credential issuer: offers, nonce, credential, deferred credential and notification
/// endpoints, metadata, and revocation through status lists.
pub struct CredentialIssuer {
    /// oauth-core's context (tokens, keys, claims, clock, randomness).
    pub ctx: Arc<Context>,
    /// Shared parts (also held by the [`PreAuthorizedCodeGrant`](crate::PreAuthorizedCodeGrant)).
    pub core: Arc<IssuerCore>,
    deferred: Option<Arc<dyn DeferredIssuance>>,
    notifications: Option<Arc<dyn NotificationHandler>>,
    encryption: Option<EncryptionSettings>,
}

impl std::fmt::Debug for CredentialIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialIssuer")
            .field("core", &self.core)
            .finish_non_exhaustive()
    }
}

fn bearer(authorization: Option<&str>) -> Result<&str, Error> {
    authorization
        .and_then(|h| {
            let (scheme, token) = h.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
        .filter(|t| !t.is_empty())
        .ok_or_else(|| Error::InvalidToken("a bearer access token is required".into()))
}

impl CredentialIssuer {
    /// The issuer over oauth-core's `ctx` (the Credential Issuer Identifier is its issuer).
    pub fn new(ctx: Arc<Context>, core: Arc<IssuerCore>) -> Self {
        CredentialIssuer {
            ctx,
            core,
            deferred: None,
            notifications: None,
            encryption: None,
        }
    }

    /// With credential request and response encryption (§10), published in the metadata.
    pub fn with_encryption(mut self, settings: EncryptionSettings) -> Self {
        self.encryption = Some(settings);
        self
    }

    /// With a deferred-issuance decision port (§9); also publishes the deferred endpoint.
    pub fn with_deferred(mut self, d: Arc<dyn DeferredIssuance>) -> Self {
        self.deferred = Some(d);
        self
    }

    /// With a notification sink (§11).
    pub fn with_notifications(mut self, n: Arc<dyn NotificationHandler>) -> Self {
        self.notifications = Some(n);
        self
    }

    fn issuer(&self) -> &str {
        &self.ctx.config.issuer
    }

    fn settings(&self) -> &IssuerSettings {
        &self.core.settings
    }

    /// Saves a template after validating it (refused when it cannot be issued).
    pub async fn save_template(&self, template: CredentialTemplate) -> Result<(), Error> {
        template
            .validate()
            .map_err(|e| Error::InvalidRequest(e.to_string()))?;
        self.core.templates.put(template).await
    }

    /// Credential Issuer Metadata (§12.2.4).
    pub async fn metadata(&self) -> Result<Value, Error> {
        let templates = self.core.templates.templates().await?;
        let mut m = issuer_metadata(
            self.issuer(),
            self.settings(),
            &templates,
            self.deferred.is_some(),
        );
        if let (Some(e), Value::Object(obj)) = (&self.encryption, &mut m) {
            obj.extend(e.metadata());
        }
        Ok(m)
    }

    /// Signed metadata (§12.2.3): a JWT with `typ` `openidvci-issuer-metadata+jwt`, the
    /// metadata as claims plus `sub` (the issuer), `iss` and `iat`, signed with the provider's
    /// key. Served for `Accept: application/jwt`.
    pub async fn signed_metadata(&self) -> Result<String, Error> {
        let mut claims = match self.metadata().await? {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        claims.insert("sub".into(), json!(self.issuer()));
        claims.insert("iss".into(), json!(self.issuer()));
        claims.insert("iat".into(), json!(self.ctx.now()));
        let signer = self.ctx.keys.signer(None).await?;
        jws::sign_compact_with(
            Header::new().with_typ(SIGNED_METADATA_TYP),
            Value::Object(claims).to_string().as_bytes(),
            signer.as_ref(),
        )
        .await
        .map_err(|_| Error::ServerError("metadata signing failed".into()))
    }

    /// JWT VC Issuer Metadata (SD-JWT VC draft §5): `issuer` and the provider's `jwks`, whose
    /// keys sign the credentials.
    pub async fn jwt_vc_issuer_metadata(&self) -> Result<Value, Error> {
        let jwks = self.ctx.keys.public_jwks().await?;
        Ok(
            json!({"issuer": self.issuer(), "jwks": serde_json::to_value(&jwks).unwrap_or(Value::Null)}),
        )
    }

    /// Creates a credential offer (§4.1). Every configuration must exist; the pre-authorized
    /// code is 256-bit, single use, lives `offer_ttl` seconds and is stored by hash as a
    /// `TokenKind::Artifact` of a carrier grant about `subject`; the transaction code is
    /// numeric, uniformly drawn, stored by hash; `issuer_state` is 256-bit and single use.
    pub async fn create_offer(&self, req: &OfferRequest) -> Result<CreatedOffer, Error> {
        let ctx = &self.ctx;
        let now = ctx.now();
        let ttl = self.settings().offer_ttl;
        if req.subject.is_empty() {
            return Err(Error::InvalidRequest("empty subject".into()));
        }
        if req.configuration_ids.is_empty() {
            return Err(Error::InvalidRequest(
                "no credential configuration offered".into(),
            ));
        }
        let mut scopes = Vec::new();
        for id in &req.configuration_ids {
            let t = self.core.templates.template(id).await?.ok_or_else(|| {
                Error::InvalidRequest(format!("unknown credential configuration `{id}`"))
            })?;
            scopes.extend(t.scope);
        }
        let grant_id = format!("oid4vci-offer-{}", random_token(ctx.rng.as_ref(), 16)?);
        let mut record = OfferRecord::new(
            req.subject.clone(),
            req.configuration_ids.clone(),
            grant_id.clone(),
            now + ttl,
        );
        let mut offer = CredentialOffer::new(self.issuer(), req.configuration_ids.clone());
        let mut tx_code_out = None;
        match req.grant {
            OfferGrant::PreAuthorized { tx_code_length } => {
                let code = random_token(ctx.rng.as_ref(), 32)?;
                let scopes = Scopes::from_values(scopes);
                let carrier = Grant::new(
                    grant_id.clone(),
                    OFFER_CARRIER,
                    scopes.clone(),
                    now,
                    now + ttl,
                )
                .with_subject(req.subject.clone());
                ctx.grants.create_grant(carrier.clone()).await?;
                ctx.grants
                    .insert_token(TokenRecord::new(
                        TokenHash::of(&code),
                        artifact_kind(),
                        &carrier,
                        scopes,
                        now,
                        now + ttl,
                    ))
                    .await?;
                record.pre_authorized_code = Some(TokenHash::of(&code));
                let tx_code = match tx_code_length {
                    Some(n) if !(4..=12).contains(&n) => {
                        return Err(Error::InvalidRequest(
                            "tx_code length must be 4..=12".into(),
                        ))
                    }
                    Some(n) => {
                        let tx = numeric_code(ctx, n)?;
                        record.tx_code = Some(TokenHash::of(&tx));
                        tx_code_out = Some(tx);
                        Some(
                            TxCode::numeric(n)
                                .with_description("Enter the transaction code you received"),
                        )
                    }
                    None => None,
                };
                offer.grants = OfferGrants {
                    authorization_code: None,
                    pre_authorized_code: Some(PreAuthorizedCodeOffer {
                        pre_authorized_code: code,
                        tx_code,
                        authorization_server: None,
                    }),
                };
            }
            OfferGrant::AuthorizationCode => {
                let state = random_token(ctx.rng.as_ref(), 32)?;
                record.issuer_state = Some(TokenHash::of(&state));
                offer.grants = OfferGrants {
                    authorization_code: Some(AuthorizationCodeOffer {
                        issuer_state: Some(state),
                        authorization_server: None,
                    }),
                    pre_authorized_code: None,
                };
            }
        }
        let reference = random_token(ctx.rng.as_ref(), 32)?;
        record.reference = Some((TokenHash::of(&reference), offer.to_json()));
        self.core.store.insert_offer(record).await?;
        Ok(CreatedOffer {
            credential_offer_uri: format!(
                "{}{}/{reference}",
                self.issuer(),
                self.settings().credential_offer_path
            ),
            offer,
            tx_code: tx_code_out,
        })
    }

    /// The offer behind a `credential_offer_uri` (§4.1.3), by its last path segment.
    pub async fn offer_by_reference(&self, reference: &str) -> Result<Value, Error> {
        self.core
            .store
            .offer_by_reference(&TokenHash::of(reference), self.ctx.now())
            .await?
            .ok_or_else(|| Error::InvalidRequest("unknown or expired credential offer".into()))
    }

    /// Redeems an `issuer_state` (§5.1.3) sent in an authorization request: once, before it
    /// expires. The host checks that the logged-in user is the returned record's `subject`.
    /// Hosts that register [`CredentialAuthorization`](crate::CredentialAuthorization) with
    /// their provider leave this to it (it redeems the state when the code is issued).
    pub async fn take_issuer_state(&self, state: &str) -> Result<OfferRecord, Error> {
        self.core
            .store
            .take_issuer_state(&TokenHash::of(state), self.ctx.now())
            .await?
            .ok_or_else(|| Error::InvalidRequest("unknown, used or expired `issuer_state`".into()))
    }

    /// The nonce endpoint (§7.2): a fresh 256-bit `c_nonce`, live `nonce_ttl` seconds, usable
    /// once. The host answers with `Cache-Control: no-store`.
    pub async fn nonce(&self) -> Result<Value, Error> {
        let nonce = random_token(self.ctx.rng.as_ref(), 32)?;
        self.core
            .store
            .insert_nonce(
                TokenHash::of(&nonce),
                self.ctx.now(),
                self.ctx.now() + self.settings().nonce_ttl,
            )
            .await?;
        Ok(json!({"c_nonce": nonce}))
    }

    async fn token(&self, authorization: Option<&str>) -> Result<AccessTokenInfo, Error> {
        resolve_access_token(&self.ctx, bearer(authorization)?).await
    }

    fn is_anonymous(&self, info: &AccessTokenInfo) -> bool {
        matches!(&self.settings().anonymous_access,
            AnonymousAccess::Allowed { client_id } if *client_id == info.client_id)
    }

    /// The credential endpoint (§8): `authorization` is the request's `Authorization` header,
    /// `body` its JSON body.
    ///
    /// Order of checks: access token (`invalid_token`, 401), request syntax
    /// (`invalid_credential_request`), encryption (`invalid_encryption_parameters`: this issuer
    /// does not encrypt responses), target authorization ([`authorize`]), proofs (required for
    /// bound templates, at most `batch_size`, each checked by [`check_jwt_proof`]; a proof for
    /// an unbound template is refused), then each distinct `c_nonce` consumed once
    /// (`invalid_nonce`), claims (`credential_request_denied` without a subject or a mandatory
    /// claim), the deferral decision, and issuance: one credential per proof, each with its own
    /// status list entry.
    ///
    /// This method serves unencrypted exchanges: a request asking for response encryption, or
    /// any request when encryption is required, is `invalid_encryption_parameters`; use
    /// [`credential_reply`](Self::credential_reply) for both.
    pub async fn credential(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<CredentialResponse, Error> {
        let (resp, enc) = self.credential_inner(authorization, body, false).await?;
        match enc {
            None => Ok(resp),
            Some(_) => Err(CredentialErrorCode::InvalidEncryptionParameters
                .error("use credential_reply for encrypted responses")),
        }
    }

    /// The credential endpoint with encryption (§10): `content_type` `application/jwt` means an
    /// encrypted request (decrypted with the issuer's keys); `credential_response_encryption`
    /// in the request gives an encrypted reply. With `encryption_required`, both are required.
    pub async fn credential_reply(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<CredentialReply, Error> {
        let plain;
        let body = if is_jwt_media_type(content_type) {
            let e = self.encryption.as_ref().ok_or_else(|| {
                CredentialErrorCode::InvalidEncryptionParameters
                    .error("request encryption is not supported")
            })?;
            plain = e.decrypt_request(body)?;
            plain.as_slice()
        } else {
            body
        };
        let encrypted = is_jwt_media_type(content_type);
        let (resp, enc) = self
            .credential_inner(authorization, body, encrypted)
            .await?;
        self.seal(resp, enc)
    }

    fn seal(
        &self,
        resp: CredentialResponse,
        enc: Option<ResponseEncryption>,
    ) -> Result<CredentialReply, Error> {
        Ok(match enc {
            None => CredentialReply::Json(resp),
            Some(e) => CredentialReply::Encrypted {
                status: resp.status(),
                jwe: e.encrypt(&resp.to_json(), self.ctx.rng.as_ref())?,
            },
        })
    }

    /// The response encryption asked for by `requested`, checked against the settings; with
    /// `encryption_required`, an unencrypted request or response is refused (§10).
    fn response_encryption(
        &self,
        requested: Option<&Value>,
        request_encrypted: bool,
    ) -> Result<Option<ResponseEncryption>, Error> {
        let refuse =
            |m: &str| Err(CredentialErrorCode::InvalidEncryptionParameters.error(m.to_owned()));
        match (&self.encryption, requested) {
            (None, None) => Ok(None),
            (None, Some(_)) => refuse("credential response encryption is not supported"),
            (Some(s), None) if s.required => refuse("response encryption is required"),
            (Some(_), None) => Ok(None),
            (Some(s), Some(_)) if s.required && !request_encrypted => {
                refuse("request encryption is required")
            }
            (Some(s), Some(v)) => ResponseEncryption::parse(v, s).map(Some),
        }
    }

    async fn credential_inner(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        request_encrypted: bool,
    ) -> Result<(CredentialResponse, Option<ResponseEncryption>), Error> {
        let info = self.token(authorization).await?;
        let req = CredentialRequest::from_json(body)?;
        let enc = self.response_encryption(req.response_encryption.as_ref(), request_encrypted)?;
        // Only a `credential_configuration_id` needs its template's scope to be authorized.
        let candidate = match &req.target {
            CredentialTarget::Configuration(c) => self.core.templates.template(c).await?,
            _ => None,
        };
        let config_id = authorize(
            &req.target,
            info.extra_claims().get("authorization_details"),
            &info.scopes,
            |id| {
                candidate
                    .as_ref()
                    .filter(|t| t.id == id)
                    .map(|t| t.scope.clone())
            },
        )?;
        let template = match candidate {
            Some(t) if t.id == config_id => t,
            _ => self
                .core
                .templates
                .template(&config_id)
                .await?
                .ok_or_else(|| {
                    CredentialErrorCode::UnknownCredentialConfiguration
                        .error("unknown credential configuration")
                })?,
        };
        let keys = self.check_proofs(&info, &template, &req.proofs).await?;
        let subject = info.subject.clone().ok_or_else(|| {
            CredentialErrorCode::CredentialRequestDenied.error("the access token has no subject")
        })?;
        let now = self.ctx.now();
        let mut record = IssuanceRecord {
            hash: TokenHash([0; 32]),
            client_id: info.client_id.clone(),
            grant_id: info.grant.id.clone(),
            subject,
            configuration_id: template.id.clone(),
            holder_keys: keys.iter().map(Jwk::to_value).collect(),
            status: Vec::new(),
            requested_at: now,
            expires_at: now + self.settings().transaction_ttl,
        };
        // Claims are checked before any deferral, so a wallet is refused now, not later.
        let user = self.user_claims(&record.subject, &template).await?;
        if let Some(d) = &self.deferred {
            if let Deferral::Later { interval } = d.decide(&record, now).await? {
                let tx = random_token(self.ctx.rng.as_ref(), 32)?;
                record.hash = TokenHash::of(&tx);
                self.core.store.insert_transaction(record).await?;
                return Ok((
                    CredentialResponse::Deferred {
                        transaction_id: tx,
                        interval: interval.max(1),
                    },
                    enc,
                ));
            }
        }
        Ok((self.issue(&template, record, user, &keys).await?, enc))
    }

    async fn user_claims(
        &self,
        subject: &str,
        template: &CredentialTemplate,
    ) -> Result<Map<String, Value>, Error> {
        let user = self.ctx.claims.claims(subject).await?.ok_or_else(|| {
            CredentialErrorCode::CredentialRequestDenied.error("unknown credential subject")
        })?;
        // The source's copy is ours: its claims move into the credential.
        map_claims_owned(template, user)
    }

    async fn check_proofs(
        &self,
        info: &AccessTokenInfo,
        template: &CredentialTemplate,
        proofs: &[String],
    ) -> Result<Vec<Jwk>, Error> {
        if !template.requires_proof() {
            if !proofs.is_empty() {
                return Err(invalid_proof("this credential is not bound to a key"));
            }
            return Ok(Vec::new());
        }
        if proofs.is_empty() {
            return Err(invalid_proof("`proofs` is required"));
        }
        if proofs.len() > self.settings().batch_size as usize {
            return Err(invalid_request(format!(
                "at most {} proofs (batch_size)",
                self.settings().batch_size
            )));
        }
        let client_id = (!self.is_anonymous(info)).then_some(info.client_id.as_str());
        let rules = ProofRules::new(
            self.issuer(),
            client_id,
            &template.proof_signing_algorithms,
            self.ctx.now(),
        )
        .with_window(self.settings().proof_max_age, self.settings().leeway)
        .with_binding_methods(&template.binding_methods)
        .with_trust_anchors(&self.settings().proof_trust_anchors);
        let checked: Vec<ValidProof> = proofs
            .iter()
            .map(|p| check_jwt_proof(p, &rules))
            .collect::<Result<_, _>>()?;
        // One key per credential (§8.2): the same key twice would be one holder twice.
        for (i, p) in checked.iter().enumerate() {
            if checked[..i]
                .iter()
                .any(|q| q.jwk.thumbprint() == p.jwk.thumbprint())
            {
                return Err(invalid_proof("each proof must use its own key"));
            }
        }
        let mut nonces: Vec<&str> = checked.iter().map(|p| p.nonce.as_str()).collect();
        nonces.sort_unstable();
        nonces.dedup();
        for n in nonces {
            if !self
                .core
                .store
                .consume_nonce(&TokenHash::of(n), self.ctx.now())
                .await?
            {
                return Err(CredentialErrorCode::InvalidNonce
                    .error("the `c_nonce` is unknown, expired or already used"));
            }
        }
        Ok(checked.into_iter().map(|p| p.jwk).collect())
    }

    async fn issue(
        &self,
        template: &CredentialTemplate,
        mut record: IssuanceRecord,
        mut user: Map<String, Value>,
        keys: &[Jwk],
    ) -> Result<CredentialResponse, Error> {
        let now = self.ctx.now();
        let alg = template.signing_algorithms.first().copied();
        let signer = self.ctx.keys.signer(alg).await?;
        let count = keys.len().max(1);
        let mut credentials = Vec::with_capacity(count);
        let no_claims = Map::new();
        for i in 0..count {
            let (list, idx) = self
                .core
                .store
                .allocate_status(self.settings().status_list_size)
                .await?;
            record.status.push((list, idx));
            // The last credential takes the claims themselves, the others a copy (`build`
            // reads the claims from its own argument, never from `input`).
            let claims = if i + 1 == count {
                Cow::Owned(std::mem::take(&mut user))
            } else {
                Cow::Borrowed(&user)
            };
            let input = CredentialInput {
                issuer: self.issuer(),
                claims: &no_claims,
                holder_key: keys.get(i),
                status: Some((idx, self.status_list_uri(list))),
                now,
            };
            credentials.push(
                build(
                    template,
                    &input,
                    claims,
                    signer.as_ref(),
                    self.ctx.rng.as_ref(),
                )
                .await?,
            );
        }
        let notification_id = random_token(self.ctx.rng.as_ref(), 32)?;
        record.hash = TokenHash::of(&notification_id);
        record.expires_at = now + self.settings().transaction_ttl;
        self.core.store.insert_notification(record).await?;
        Ok(CredentialResponse::Issued {
            credentials,
            notification_id,
        })
    }

    /// The deferred credential endpoint (§9): `{"transaction_id"}` with the access token of
    /// the original request. Unknown, used, expired, or another grant's id:
    /// `invalid_transaction_id`; not ready: `issuance_pending` with `interval`.
    pub async fn deferred_credential(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<CredentialResponse, Error> {
        let (resp, enc) = self.deferred_inner(authorization, body, false).await?;
        match enc {
            None => Ok(resp),
            Some(_) => Err(CredentialErrorCode::InvalidEncryptionParameters
                .error("use deferred_credential_reply for encrypted responses")),
        }
    }

    /// The deferred credential endpoint with encryption (§9.1, §10), like
    /// [`credential_reply`](Self::credential_reply).
    pub async fn deferred_credential_reply(
        &self,
        authorization: Option<&str>,
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<CredentialReply, Error> {
        let plain;
        let encrypted = is_jwt_media_type(content_type);
        let body = if encrypted {
            let e = self.encryption.as_ref().ok_or_else(|| {
                CredentialErrorCode::InvalidEncryptionParameters
                    .error("request encryption is not supported")
            })?;
            plain = e.decrypt_request(body)?;
            plain.as_slice()
        } else {
            body
        };
        let (resp, enc) = self.deferred_inner(authorization, body, encrypted).await?;
        self.seal(resp, enc)
    }

    async fn deferred_inner(
        &self,
        authorization: Option<&str>,
        body: &[u8],
        request_encrypted: bool,
    ) -> Result<(CredentialResponse, Option<ResponseEncryption>), Error> {
        let info = self.token(authorization).await?;
        let Some(deferred) = &self.deferred else {
            return Err(Error::InvalidRequest(
                "deferred issuance is not enabled".into(),
            ));
        };
        if body.len() > MAX_SMALL_BODY {
            return Err(invalid_request("request too large"));
        }
        let v: Value =
            serde_json::from_slice(body).map_err(|_| invalid_request("the body is not JSON"))?;
        let enc =
            self.response_encryption(v.get("credential_response_encryption"), request_encrypted)?;
        let tx = v
            .get("transaction_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_request("`transaction_id` is required"))?;
        let hash = TokenHash::of(tx);
        let now = self.ctx.now();
        let invalid = || CredentialErrorCode::InvalidTransactionId.error("unknown transaction id");
        let record = self
            .core
            .store
            .transaction(&hash, now)
            .await?
            .filter(|r| r.client_id == info.client_id && r.grant_id == info.grant.id)
            .ok_or_else(invalid)?;
        if let Deferral::Later { interval } = deferred.poll(&record, now).await? {
            return Err(CredentialErrorCode::IssuancePending
                .error("the credential is not ready yet")
                .with_member("interval", json!(interval.max(1))));
        }
        let record = self
            .core
            .store
            .take_transaction(&hash, now)
            .await?
            .ok_or_else(invalid)?;
        let template = self
            .core
            .templates
            .template(&record.configuration_id)
            .await?
            .ok_or_else(|| {
                CredentialErrorCode::CredentialRequestDenied.error("the template was removed")
            })?;
        let keys: Vec<Jwk> = record
            .holder_keys
            .iter()
            .map(|k| Jwk::from_value(k.clone()))
            .collect::<Result<_, _>>()
            .map_err(|_| Error::ServerError("stored holder key".into()))?;
        let user = self.user_claims(&record.subject, &template).await?;
        Ok((self.issue(&template, record, user, &keys).await?, enc))
    }

    /// The notification endpoint (§11): `{"notification_id", "event", "event_description"?}`.
    /// Unknown id or another client's: `invalid_notification_id`; a bad `event` or description
    /// (§11.1: printable ASCII without `"` and `\`): `invalid_notification_request`. Success
    /// is 204.
    pub async fn notification(
        &self,
        authorization: Option<&str>,
        body: &[u8],
    ) -> Result<(), Error> {
        let info = self.token(authorization).await?;
        let bad = |m: &str| CredentialErrorCode::InvalidNotificationRequest.error(m.to_owned());
        if body.len() > MAX_SMALL_BODY {
            return Err(bad("request too large"));
        }
        let v: Value = serde_json::from_slice(body).map_err(|_| bad("the body is not JSON"))?;
        let id = v
            .get("notification_id")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("`notification_id` is required"))?;
        let event: NotificationEvent = v
            .get("event")
            .cloned()
            .and_then(|e| serde_json::from_value(e).ok())
            .ok_or_else(|| bad("unknown `event`"))?;
        let description = match v.get("event_description") {
            None => None,
            Some(Value::String(s))
                if s.bytes().all(|b| {
                    b == 0x20
                        || b == 0x21
                        || (0x23..=0x5b).contains(&b)
                        || (0x5d..=0x7e).contains(&b)
                }) =>
            {
                Some(s.clone())
            }
            Some(_) => return Err(bad("malformed `event_description`")),
        };
        let record = self
            .core
            .store
            .notification(&TokenHash::of(id), self.ctx.now())
            .await?
            .filter(|r| r.client_id == info.client_id)
            .ok_or_else(|| {
                CredentialErrorCode::InvalidNotificationId.error("unknown notification id")
            })?;
        if let Some(n) = &self.notifications {
            n.notify(Notification {
                event,
                description,
                issuance: record,
            })
            .await?;
        }
        Ok(())
    }

    /// The URI of status list `list`: `{issuer}{status_list_path}/{list}`.
    pub fn status_list_uri(&self, list: u64) -> String {
        format!(
            "{}{}/{list}",
            self.issuer(),
            self.settings().status_list_path
        )
    }

    fn list_of_uri(&self, uri: &str) -> Option<u64> {
        let prefix = format!("{}{}/", self.issuer(), self.settings().status_list_path);
        let n = uri.strip_prefix(&prefix)?;
        if n.is_empty() || !n.bytes().all(|b| b.is_ascii_digit()) || n.len() > 19 {
            return None;
        }
        n.parse().ok()
    }

    /// Sets the status of a credential by its `status.status_list` (`idx`, `uri`): `revoked`
    /// is value 1 (INVALID), `valid` 0 (draft-ietf-oauth-status-list §7.1). The next status
    /// list token reflects it. An entry this issuer never allocated is `invalid_request`.
    pub async fn set_status(&self, uri: &str, idx: u64, revoked: bool) -> Result<(), Error> {
        let list = self
            .list_of_uri(uri)
            .ok_or_else(|| Error::InvalidRequest("not a status list of this issuer".into()))?;
        if !self
            .core
            .store
            .set_status(list, idx, u8::from(revoked))
            .await?
        {
            return Err(Error::InvalidRequest("unknown status list entry".into()));
        }
        Ok(())
    }

    /// The status list token of list `list` (`typ` `statuslist+jwt`, `sub` its URI), signed
    /// now with the provider's default key; `None` for an unknown list.
    pub async fn status_list_token(&self, list: u64) -> Result<Option<String>, Error> {
        let Some(values) = self.core.store.status_list(list).await? else {
            return Ok(None);
        };
        let signer = self.ctx.keys.signer(None).await?;
        crate::status_list::sign_status_list_token(
            &self.status_list_uri(list),
            &values,
            self.ctx.now(),
            self.settings().status_list_ttl,
            signer.as_ref(),
        )
        .await
        .map(Some)
    }
}

/// A uniformly random numeric code of `digits` digits (rejection sampling, no modulo bias).
fn numeric_code(ctx: &Context, digits: u32) -> Result<String, Error> {
    let mut out = String::with_capacity(digits as usize);
    while out.len() < digits as usize {
        let mut b = [0u8; 16];
        ctx.rng.fill(&mut b)?;
        for x in b {
            if x < 250 && out.len() < digits as usize {
                out.push(char::from(b'0' + x % 10));
            }
        }
    }
    Ok(out)
}
