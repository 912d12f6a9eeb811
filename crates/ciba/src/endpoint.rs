//! The endpoints: the backchannel authentication endpoint (CIBA §7), the approval (view and
//! verdict), the `urn:openid:params:grant-type:ciba` grant at the token endpoint (CIBA §10.1,
//! §11), ping and push deliveries (§10.2, §10.3, §12), expiry, and discovery (§4).
//!
//! Thin async wrappers: the rules are in [`validate`](crate::validate), the state machine in
//! [`model`](crate::model), the payloads in [`notify`](crate::notify).

use std::sync::Arc;

use async_trait::async_trait;
use idforge_oauth_core::client_auth::authenticate_client;
use idforge_oauth_core::grant::{wants_refresh, GrantHandler};
use idforge_oauth_core::issue::{
    half_hash, issue_access_token, issue_id_token, issue_refresh_token, issue_token_response,
    persists, IssueOptions,
};
use idforge_oauth_core::secret::random_token;
use idforge_oauth_core::{
    Client, Config, Context, DiscoveryContributor, Error, Grant, ProviderBuilder, TokenContents,
    TokenHash, TokenRequest, TokenResponse,
};
use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::model::{
    ActorPolicy, Channel, CibaClient, CibaConfig, CibaRequest, DeliveryMode, PollCheck, StateName,
    Verdict, ACCESS_TOKEN_TYPE, AUTH_REQ_ID_CLAIM, GRANT_TYPE, HANDLE_BYTES,
};
use crate::notify::{ping_body, push_error_body, push_tokens_body, user_message};
use crate::ports::{
    Actor, ActorResolver, CibaRequestStore, ClientNotification, DeliveryReport, HintResolution,
    Notifier, Redemption, Transition, UserResolver,
};
use crate::validate::{
    access_denied, backchannel_params, check_signed_presence, codes, error, expires_in,
    signed_request_params, Hint,
};

/// Why a [`Ciba`] could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum BuildError {
    /// The configuration is invalid.
    #[error("CIBA configuration: {0}")]
    Config(String),
    /// A required port was not given.
    #[error("CIBA: no {0} given")]
    Missing(&'static str),
}

/// The successful response of the backchannel authentication endpoint (CIBA §7.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackchannelResponse {
    /// The `auth_req_id` (256 bits, single use).
    pub auth_req_id: String,
    /// Seconds until it expires.
    pub expires_in: i64,
    /// Minimum seconds between polls (poll and ping modes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub interval: Option<i64>,
    /// The approval page for the `external` channel: the client delivers it to the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub auth_url: Option<String>,
}

impl BackchannelResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

/// What the approving user is shown, as the HTML consent page or the app-native JSON form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ApprovalView {
    /// The requesting client.
    pub client_id: String,
    /// The user who must approve (the one the hint resolved to).
    pub subject: String,
    /// The binding message to compare with the consumption device.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub binding_message: Option<String>,
    /// Scopes requested.
    pub scopes: Vec<String>,
    /// RFC 9396 `authorization_details`: the task the token is for.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub authorization_details: Option<Value>,
    /// RFC 8707 resources the token is for.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub resources: Vec<String>,
    /// The agent acting for the user.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub actor: Option<String>,
    /// `acr_values` requested.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub acr_values: Vec<String>,
    /// Seconds left to answer.
    pub expires_in: i64,
    /// The request's state.
    pub state: StateName,
}

/// What a verdict did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DecisionOutcome {
    /// The request's new state (`approved`, `denied`, or `redeemed` after a push of tokens).
    pub state: StateName,
    /// The ping or push delivery, for ping and push clients.
    pub delivery: Option<DeliveryReport>,
}

/// The CIBA service: configuration and ports. Cheap to clone (one `Arc`).
#[derive(Clone)]
pub struct Ciba {
    inner: Arc<Inner>,
}

struct Inner {
    config: CibaConfig,
    store: Arc<dyn CibaRequestStore>,
    users: Arc<dyn UserResolver>,
    notifier: Arc<dyn Notifier>,
    actors: Option<Arc<dyn ActorResolver>>,
}

impl std::fmt::Debug for Ciba {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Ciba")
            .field("config", &self.inner.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Ciba`].
pub struct CibaBuilder {
    config: CibaConfig,
    store: Option<Arc<dyn CibaRequestStore>>,
    users: Option<Arc<dyn UserResolver>>,
    notifier: Option<Arc<dyn Notifier>>,
    actors: Option<Arc<dyn ActorResolver>>,
}

impl std::fmt::Debug for CibaBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CibaBuilder")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

impl CibaBuilder {
    /// The request store.
    pub fn store(mut self, s: Arc<dyn CibaRequestStore>) -> Self {
        self.store = Some(s);
        self
    }

    /// The user lookup.
    pub fn users(mut self, u: Arc<dyn UserResolver>) -> Self {
        self.users = Some(u);
        self
    }

    /// The notifier.
    pub fn notifier(mut self, n: Arc<dyn Notifier>) -> Self {
        self.notifier = Some(n);
        self
    }

    /// The agent resolver; without one, `actor_token` is refused.
    pub fn actors(mut self, a: Arc<dyn ActorResolver>) -> Self {
        self.actors = Some(a);
        self
    }

    /// Validates the configuration and builds.
    pub fn build(self) -> Result<Ciba, BuildError> {
        self.config.validate().map_err(BuildError::Config)?;
        Ok(Ciba {
            inner: Arc::new(Inner {
                config: self.config,
                store: self.store.ok_or(BuildError::Missing("request store"))?,
                users: self.users.ok_or(BuildError::Missing("user resolver"))?,
                notifier: self.notifier.ok_or(BuildError::Missing("notifier"))?,
                actors: self.actors,
            }),
        })
    }
}

fn expired_token() -> Error {
    error(codes::EXPIRED_TOKEN, "the auth_req_id has expired")
}

fn spent() -> Error {
    Error::InvalidGrant("the auth_req_id is invalid, spent or belongs to another client".into())
}

impl Ciba {
    /// A builder with `config`.
    pub fn builder(config: CibaConfig) -> CibaBuilder {
        CibaBuilder {
            config,
            store: None,
            users: None,
            notifier: None,
            actors: None,
        }
    }

    /// The configuration.
    pub fn config(&self) -> &CibaConfig {
        &self.inner.config
    }

    /// The request store.
    pub fn store(&self) -> &Arc<dyn CibaRequestStore> {
        &self.inner.store
    }

    /// Plugs CIBA into an oauth-core provider: the grant handler, the discovery members, and
    /// the backchannel endpoint as an accepted `aud` of `private_key_jwt` assertions (CIBA
    /// §7.1). The provider's `Config` must also enable [`GRANT_TYPE`].
    pub fn register(&self, builder: ProviderBuilder) -> ProviderBuilder {
        builder
            .grant_handler(Arc::new(CibaGrant { ciba: self.clone() }))
            .discovery_contributor(Arc::new(self.clone()))
            .client_assertion_audience(self.inner.config.backchannel_endpoint())
    }

    /// The backchannel authentication endpoint (CIBA §7): authenticates the confidential
    /// client as the token endpoint does, validates the request, resolves the user, stores a
    /// pending request, notifies the user, and answers `auth_req_id`, `expires_in`, `interval`
    /// and (external channel) `auth_url`.
    pub async fn backchannel(
        &self,
        ctx: &Context,
        req: &TokenRequest,
    ) -> Result<BackchannelResponse, Error> {
        let cfg = &self.inner.config;
        // §7.1: confidential clients only, authenticated as at the token endpoint.
        let client = authenticate_client(ctx, req).await?;
        if client.is_public() {
            return Err(Error::InvalidClient(
                "CIBA is for confidential clients".into(),
            ));
        }
        if !client.allows_grant(GRANT_TYPE) || !ctx.config.grant_enabled(GRANT_TYPE) {
            return Err(Error::UnauthorizedClient(
                "the client is not registered for CIBA".into(),
            ));
        }
        let cc = CibaClient::from_client(&client)?;
        let params = if check_signed_presence(&req.params, &cc)? {
            let jwt = req.params.require("request")?;
            signed_request_params(ctx, &client, &cc, cfg, jwt).await?
        } else {
            req.params.clone()
        };
        let p = backchannel_params(&params, &cc, cfg, &ctx.config.limits)?;
        for s in p.scopes.values() {
            if !ctx.config.scopes_supported.iter().any(|x| x == s) || !client.allows_scope(s) {
                return Err(Error::InvalidScope(format!("scope `{s}` is not allowed")));
            }
        }
        let now = ctx.now();
        let subject = self.resolve_user(ctx, &client, &p.hint, now).await?;
        // §7.1 user_code: checked when the client registered it and the provider supports it.
        if cc.user_code_parameter && cfg.user_code_supported {
            let code = p.user_code.as_deref().unwrap_or_default();
            if !self.inner.users.check_user_code(&subject, code).await? {
                return Err(error(codes::INVALID_USER_CODE, "the user_code is wrong"));
            }
        }
        let actor = match &p.actor_token {
            None => None,
            Some((token, ty)) => Some(self.resolve_actor(ctx, &client, token, ty).await?),
        };
        let expires_in = expires_in(cfg, &cc, p.requested_expiry);
        let auth_req_id = random_token(ctx.rng.as_ref(), HANDLE_BYTES)?;
        let handle = random_token(ctx.rng.as_ref(), HANDLE_BYTES)?;
        let mut record = CibaRequest::new(
            TokenHash::of(&auth_req_id),
            TokenHash::of(&handle),
            client.client_id.clone(),
            subject.clone(),
            p.scopes,
            now,
            expires_in,
        );
        record.acr_values = p.acr_values;
        record.binding_message = p.binding_message;
        record.authorization_details = p.authorization_details;
        record.resources = p.resources;
        record.actor = actor.map(|a| a.sub);
        record.delivery = cc.delivery_mode;
        record.interval = cfg.interval;
        if cc.delivery_mode.notifies() {
            record.notification_token = p.client_notification_token;
            record.notification_endpoint = cc.notification_endpoint.clone();
            // The ping and push bodies carry the auth_req_id itself, so notifying clients'
            // records keep it (useless without the client's credentials at the token
            // endpoint); poll clients' records keep only its hash.
            record.notify_auth_req_id = Some(auth_req_id.clone());
        }
        let approval_url = cfg.approval_url(&handle);
        // The messages need the user's addresses; the request is stored first, so the link
        // works as soon as it arrives.
        let mut messages = Vec::new();
        let mut external = false;
        let claims = if cc.channels.iter().any(|c| *c != Channel::External) {
            ctx.claims.claims(&subject).await?.unwrap_or_default()
        } else {
            Map::new()
        };
        for ch in &cc.channels {
            match ch.address_claim() {
                None => external = true,
                Some(claim) => {
                    if let Some(to) = claims.get(claim).and_then(Value::as_str) {
                        messages.push(user_message(
                            *ch,
                            to,
                            &client.client_id,
                            record.actor.as_deref(),
                            record.binding_message.as_deref(),
                            &approval_url,
                        ));
                    }
                }
            }
        }
        if !external && messages.is_empty() {
            // §13 access_denied (403): the user cannot be reached on any of the client's
            // channels.
            return Err(access_denied("the user cannot be notified"));
        }
        self.inner.store.insert(record).await?;
        for m in &messages {
            self.inner.notifier.notify_user(m).await?;
        }
        Ok(BackchannelResponse {
            auth_req_id,
            expires_in,
            interval: (cc.delivery_mode != DeliveryMode::Push).then_some(cfg.interval),
            auth_url: external.then_some(approval_url),
        })
    }

    /// Resolves the hint to a subject (CIBA §7.1); unknown users are `unknown_user_id` with no
    /// further detail (§13).
    async fn resolve_user(
        &self,
        ctx: &Context,
        client: &Client,
        hint: &Hint,
        now: i64,
    ) -> Result<String, Error> {
        let unknown = || error(codes::UNKNOWN_USER_ID, "the hint does not identify a user");
        let subject = match hint {
            Hint::IdTokenHint(jwt) => id_token_hint_subject(ctx, client, jwt).await?,
            other => match self.inner.users.resolve(other, now).await? {
                HintResolution::User(s) => s,
                HintResolution::Unknown => return Err(unknown()),
                HintResolution::Expired => {
                    return Err(error(
                        codes::EXPIRED_LOGIN_HINT_TOKEN,
                        "the login_hint_token has expired",
                    ))
                }
            },
        };
        // The user must still exist.
        if ctx.claims.claims(&subject).await?.is_none() {
            return Err(unknown());
        }
        Ok(subject)
    }

    /// Resolves the `actor_token` to an agent and applies the actor policy.
    async fn resolve_actor(
        &self,
        ctx: &Context,
        client: &Client,
        token: &str,
        ty: &str,
    ) -> Result<Actor, Error> {
        let resolver = self
            .inner
            .actors
            .as_ref()
            .ok_or_else(|| Error::InvalidRequest("actor tokens are not accepted".into()))?;
        let actor = resolver
            .resolve(ctx, token, ty)
            .await?
            .ok_or_else(|| Error::InvalidRequest("the actor_token proves no agent".into()))?;
        if self.inner.config.actor_policy == ActorPolicy::RequestingClient
            && actor.sub != client.client_id
        {
            return Err(Error::InvalidRequest(
                "the actor must be the requesting agent".into(),
            ));
        }
        Ok(actor)
    }

    /// What the approving user sees for approval handle `handle` (from `auth_url` or a
    /// message). Unknown, expired and decided requests are `invalid_request`.
    pub async fn approval_view(&self, handle: &str, now: i64) -> Result<ApprovalView, Error> {
        let r = self
            .inner
            .store
            .by_approval(&TokenHash::of(handle), now)
            .await?
            .ok_or_else(unknown_approval)?;
        let state = r.state_at(now);
        if state != StateName::Pending {
            return Err(Error::InvalidRequest(format!("the request is {state}")));
        }
        Ok(ApprovalView {
            expires_in: r.expires_in(now),
            client_id: r.client_id,
            subject: r.subject,
            binding_message: r.binding_message,
            scopes: r.scopes.values().to_vec(),
            authorization_details: r.authorization_details,
            resources: r.resources,
            actor: r.actor,
            acr_values: r.acr_values,
            state,
        })
    }

    /// The verdict of the user `approver` (authenticated by the host) on the request of
    /// `handle`. Only the user the hint resolved to may answer (`access_denied` otherwise,
    /// and nothing changes). For ping clients the ping is sent; for push clients an approval
    /// issues and pushes the tokens, a denial pushes `access_denied` (CIBA §10.2, §10.3, §12).
    pub async fn decide(
        &self,
        ctx: &Context,
        handle: &str,
        approver: &str,
        verdict: Verdict,
    ) -> Result<DecisionOutcome, Error> {
        let now = ctx.now();
        let hash = TokenHash::of(handle);
        let current = self
            .inner
            .store
            .by_approval(&hash, now)
            .await?
            .ok_or_else(unknown_approval)?;
        if !idforge_jose::crypto::ct_eq(current.subject.as_bytes(), approver.as_bytes()) {
            return Err(Error::AccessDenied(
                "only the user the request names may answer it".into(),
            ));
        }
        let record = match self.inner.store.decide(&hash, &verdict, now).await? {
            Transition::Applied(r) => r,
            Transition::Refused(e) => return Err(Error::InvalidRequest(e.to_string())),
            Transition::NotFound => return Err(unknown_approval()),
        };
        let state = record.state_at(now);
        match record.delivery {
            DeliveryMode::Poll => Ok(DecisionOutcome {
                state,
                delivery: None,
            }),
            DeliveryMode::Ping => {
                let report = self.ping(&record).await;
                Ok(DecisionOutcome {
                    state,
                    delivery: report,
                })
            }
            DeliveryMode::Push => {
                let Some(id) = record.notify_auth_req_id.clone() else {
                    return Err(Error::Internal(
                        "push request without its auth_req_id".into(),
                    ));
                };
                let body = if state == StateName::Approved {
                    let client = self.client_of(ctx, &record).await?;
                    let (redeemed, approval) =
                        match self.inner.store.redeem(&record.id, now).await? {
                            Redemption::Redeemed(r, a) => (r, a),
                            Redemption::Refused(_) | Redemption::NotFound => return Err(spent()),
                        };
                    let tokens = issue(ctx, &client, &redeemed, &approval, Some(&id)).await?;
                    push_tokens_body(&id, &tokens)
                } else {
                    push_error_body(
                        &id,
                        &Error::protocol("access_denied", 400, "the user denied the request"),
                    )
                };
                let report = self.deliver(&record, DeliveryMode::Push, body).await;
                let state = if state == StateName::Approved {
                    StateName::Redeemed
                } else {
                    state
                };
                Ok(DecisionOutcome {
                    state,
                    delivery: report,
                })
            }
        }
    }

    async fn client_of(&self, ctx: &Context, r: &CibaRequest) -> Result<Client, Error> {
        ctx.clients
            .client(&r.client_id)
            .await?
            .ok_or_else(|| Error::InvalidGrant("the client no longer exists".into()))
    }

    async fn ping(&self, r: &CibaRequest) -> Option<DeliveryReport> {
        let id = r.notify_auth_req_id.as_deref()?;
        self.deliver(r, DeliveryMode::Ping, ping_body(id)).await
    }

    async fn deliver(
        &self,
        r: &CibaRequest,
        mode: DeliveryMode,
        body: Value,
    ) -> Option<DeliveryReport> {
        let bearer = r.notification_token.clone()?;
        let endpoint = r.notification_endpoint.clone()?;
        let n = ClientNotification {
            mode,
            endpoint,
            bearer,
            body,
        };
        Some(self.inner.notifier.notify_client(&n).await)
    }

    /// Expires every request whose time ran out and notifies ping clients (a ping, after which
    /// the poll says `expired_token`) and push clients (the `expired_token` error, CIBA §12).
    /// Hosts call it periodically; it also drops records past their retention.
    pub async fn expire_due(&self, ctx: &Context) -> Result<Vec<DeliveryReport>, Error> {
        let expired = self.inner.store.expire_due(ctx.now()).await?;
        let mut reports = Vec::new();
        for r in expired {
            let report = match (r.delivery, r.notify_auth_req_id.as_deref()) {
                (DeliveryMode::Ping, Some(_)) => self.ping(&r).await,
                (DeliveryMode::Push, Some(id)) => {
                    let body = push_error_body(id, &expired_token());
                    self.deliver(&r, DeliveryMode::Push, body).await
                }
                _ => None,
            };
            reports.extend(report);
        }
        Ok(reports)
    }

    /// A token request of the CIBA grant (CIBA §10.1, §11): poll and ping clients.
    pub async fn poll(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        // Only the delivery mode matters here (the full registration is checked when the
        // request is made); reading one member keeps the pending poll cheap.
        let mode = client
            .metadata(crate::model::metadata::DELIVERY_MODE)
            .and_then(Value::as_str)
            .and_then(DeliveryMode::from_name)
            .unwrap_or_default();
        if mode == DeliveryMode::Push {
            // §10.3: push clients receive the tokens at their notification endpoint.
            return Err(Error::UnauthorizedClient(
                "push-mode clients do not poll".into(),
            ));
        }
        let id = req.params.require("auth_req_id")?;
        let hash = TokenHash::of(id);
        let now = ctx.now();
        let Some(polled) = self.inner.store.poll(&hash, &client.client_id, now).await? else {
            return Err(spent());
        };
        match polled.state {
            StateName::Pending => Err(match polled.check {
                PollCheck::TooFast => error(
                    codes::SLOW_DOWN,
                    "polling too fast; the interval grew by 5 seconds",
                )
                .with_member("interval", json!(polled.interval)),
                PollCheck::InTime => error(
                    codes::AUTHORIZATION_PENDING,
                    "the user has not yet answered",
                ),
            }),
            // §11: access_denied at the token endpoint is 400.
            StateName::Denied => Err(Error::protocol(
                "access_denied",
                400,
                "the user denied the request",
            )),
            StateName::Expired => Err(expired_token()),
            StateName::Redeemed => Err(spent()),
            StateName::Approved => match self.inner.store.redeem(&hash, now).await? {
                Redemption::Redeemed(r, approval) => issue(ctx, client, &r, &approval, None).await,
                Redemption::Refused(e) if e.from == StateName::Expired => Err(expired_token()),
                Redemption::Refused(_) | Redemption::NotFound => Err(spent()),
            },
        }
    }

    /// The discovery members (CIBA §4).
    pub fn discovery_members(&self, metadata: &mut Map<String, Value>) {
        let cfg = &self.inner.config;
        let algs: Vec<&str> = cfg.signing_algs.iter().map(|a| a.name()).collect();
        let modes: Vec<&str> = DeliveryMode::ALL.iter().map(|m| m.name()).collect();
        let members = [
            (
                "backchannel_authentication_endpoint",
                json!(cfg.backchannel_endpoint()),
            ),
            ("backchannel_token_delivery_modes_supported", json!(modes)),
            (
                "backchannel_authentication_request_signing_alg_values_supported",
                json!(algs),
            ),
            (
                "backchannel_user_code_parameter_supported",
                json!(cfg.user_code_supported),
            ),
        ];
        for (k, v) in members {
            metadata.entry(k).or_insert(v);
        }
        if !cfg.authorization_details_types.is_empty() {
            metadata
                .entry("authorization_details_types_supported")
                .or_insert(json!(cfg.authorization_details_types));
        }
    }
}

fn unknown_approval() -> Error {
    Error::InvalidRequest("unknown or expired approval".into())
}

/// CIBA §7.1 `id_token_hint`: an ID token this provider issued to this client, verified by
/// signature, issuer and audience; it may be expired.
async fn id_token_hint_subject(ctx: &Context, client: &Client, jwt: &str) -> Result<String, Error> {
    let unknown = || error(codes::UNKNOWN_USER_ID, "the hint does not identify a user");
    let token = idforge_oauth_core::validate::own_jwt(ctx, jwt)
        .await
        .map_err(|_| Error::InvalidRequest("the id_token_hint is invalid".into()))?;
    // Not another kind of token of this provider (an access token is typed `at+jwt`).
    if token
        .header
        .typ()
        .is_some_and(|t| !t.eq_ignore_ascii_case("JWT"))
        || token.claims.get("iss").and_then(Value::as_str) != Some(ctx.config.issuer.as_str())
        || idforge_oauth_core::validate::audience_names(&token.claims, &[&client.client_id])
            != Some(true)
    {
        return Err(Error::InvalidRequest("the id_token_hint is invalid".into()));
    }
    token
        .claims
        .get("sub")
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(unknown)
}

/// Issues the tokens of a redeemed request: the user as `sub`, the approved scopes, the
/// resources as audience, `act` for the agent and the `authorization_details` (RFC 8693 §4.1,
/// RFC 9396 §9, RFC 8707). For push (CIBA §10.3.1) the ID token carries
/// `urn:openid:params:jwt:claim:auth_req_id`, `at_hash` and `rt_hash`.
async fn issue(
    ctx: &Context,
    client: &Client,
    r: &CibaRequest,
    approval: &crate::model::Approval,
    push_auth_req_id: Option<&str>,
) -> Result<TokenResponse, Error> {
    let now = ctx.now();
    let mut contents = TokenContents::new();
    for res in &r.resources {
        contents = contents.with_audience(res.clone());
    }
    if let Some(agent) = &r.actor {
        contents.add_access_token_claim("act", json!({ "sub": agent }))?;
    }
    if let Some(d) = &r.authorization_details {
        contents.add_access_token_claim("authorization_details", d.clone())?;
    }
    let mut grant = Grant::new(
        random_token(ctx.rng.as_ref(), 16)?,
        client.client_id.clone(),
        r.scopes.clone(),
        now,
        now.saturating_add(ctx.config.refresh_token_ttl),
    )
    .with_subject(r.subject.clone())
    .with_authentication(
        approval.auth_time,
        approval.acr.clone(),
        approval.amr.clone(),
    )
    .with_contents(contents);
    // Authorization extensions shape decoupled grants (an organization's claims).
    idforge_oauth_core::grant::shape_decoupled_grant(ctx, client, GRANT_TYPE, &mut grant).await?;
    let persist = persists(ctx, client);
    let refresh = wants_refresh(&ctx.config, client);
    let Some(id) = push_auth_req_id else {
        // The grant is stored with its first token (one write where the store groups them).
        let options = IssueOptions::new()
            .refresh_token(refresh)
            .id_token(true)
            .new_grant(persist);
        return issue_token_response(ctx, client, &grant, &grant.scopes, options).await;
    };
    if persist {
        ctx.grants.create_grant(grant.clone()).await?;
    }
    let at = issue_access_token(ctx, client, &grant, &grant.scopes).await?;
    let refresh_token = if refresh {
        let (token, record) = issue_refresh_token(ctx, client, &grant, &grant.scopes).await?;
        if let Some(record) = record {
            ctx.grants.insert_token(record).await?;
        }
        Some(token)
    } else {
        None
    };
    let alg = ctx
        .keys
        .signer(client.id_token_signed_response_alg)
        .await?
        .algorithm();
    let mut id_grant = grant.clone();
    id_grant
        .contents
        .add_id_token_claim(AUTH_REQ_ID_CLAIM, json!(id))?;
    if let Some(rt) = &refresh_token {
        id_grant
            .contents
            .add_id_token_claim("rt_hash", json!(half_hash(alg, rt)))?;
    }
    let id_token = issue_id_token(ctx, client, &id_grant, Some(&at.token), None).await?;
    Ok(TokenResponse {
        access_token: at.token,
        token_type: at.token_type.name().into(),
        expires_in: at.expires_in,
        refresh_token,
        scope: Some(grant.scopes.to_param()),
        id_token: Some(id_token),
        extra: Map::new(),
    })
}

impl DiscoveryContributor for Ciba {
    fn contribute(&self, _config: &Config, metadata: &mut Map<String, Value>) {
        self.discovery_members(metadata);
    }
}

/// The `urn:openid:params:grant-type:ciba` grant handler ([`Ciba::register`] installs it).
#[derive(Debug, Clone)]
pub struct CibaGrant {
    ciba: Ciba,
}

#[async_trait]
impl GrantHandler for CibaGrant {
    fn grant_type(&self) -> &str {
        GRANT_TYPE
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        self.ciba.poll(ctx, client, req).await
    }
}

/// Agents are clients registered with `agent = true`; their `client_credentials` access
/// tokens (RFC 8693 `urn:ietf:params:oauth:token-type:access_token`) are accepted as
/// `actor_token`, proving the agent whose `client_id` they were issued to.
#[derive(Debug, Clone, Copy, Default)]
pub struct AgentClientActors;

#[async_trait]
impl ActorResolver for AgentClientActors {
    async fn resolve(
        &self,
        ctx: &Context,
        token: &str,
        token_type: &str,
    ) -> Result<Option<Actor>, Error> {
        if token_type != ACCESS_TOKEN_TYPE {
            return Ok(None);
        }
        let Ok(info) = idforge_oauth_core::resolve_access_token(ctx, token).await else {
            return Ok(None);
        };
        // A client's own token (no user): the agent acting in its own name.
        if info.subject.is_some() {
            return Ok(None);
        }
        let Some(client) = ctx.clients.client(&info.client_id).await? else {
            return Ok(None);
        };
        let agent = CibaClient::from_client(&client).is_ok_and(|c| c.agent);
        Ok(agent.then(|| Actor::new(client.client_id)))
    }
}
