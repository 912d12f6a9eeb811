//! The model: configuration, client registration members, the request record and its state
//! machine (`Pending -> Approved | Denied | Expired`, `Approved -> Redeemed`), with transition
//! methods returning typed errors. Pure: no store, no clock (time is an argument).

use idforge_jose::JwsAlgorithm;
use idforge_oauth_core::client::ASYMMETRIC_ALGS;
use idforge_oauth_core::{Client, Error, Scopes, TokenHash};
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// The CIBA grant type (CIBA Core §10.1).
pub const GRANT_TYPE: &str = "urn:openid:params:grant-type:ciba";

/// The ID-token claim naming the `auth_req_id` of a push-mode token delivery (CIBA §10.3.1).
pub const AUTH_REQ_ID_CLAIM: &str = "urn:openid:params:jwt:claim:auth_req_id";

/// The RFC 8693 token type of an access token, the `actor_token_type` the built-in agent
/// resolver accepts.
pub const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

/// How long a request record stays past its `expires_in`, so a late poll gets `expired_token`
/// rather than `invalid_grant` (seconds).
pub const RETENTION_SECONDS: i64 = 60;

/// By how much `slow_down` raises the polling interval (CIBA §11: "at least 5 seconds").
pub const SLOW_DOWN_STEP: i64 = 5;

/// Bytes of entropy of `auth_req_id` and of the approval handle (256 bits; CIBA §7.3 asks for
/// at least 128).
pub const HANDLE_BYTES: usize = 32;

/// Longest `client_notification_token` (CIBA §7.1: "MUST NOT exceed 1024 characters").
pub const MAX_NOTIFICATION_TOKEN: usize = 1024;

/// Token delivery modes (CIBA §5, `backchannel_token_delivery_mode`).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum DeliveryMode {
    /// The client polls the token endpoint (CIBA §5.1).
    #[default]
    Poll,
    /// The provider pings the client's notification endpoint, then the client calls the token
    /// endpoint (CIBA §10.2).
    Ping,
    /// The provider posts the tokens to the client's notification endpoint (CIBA §10.3).
    Push,
}

impl DeliveryMode {
    /// Every mode, as discovery lists them.
    pub const ALL: [DeliveryMode; 3] = [DeliveryMode::Poll, DeliveryMode::Ping, DeliveryMode::Push];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            DeliveryMode::Poll => "poll",
            DeliveryMode::Ping => "ping",
            DeliveryMode::Push => "push",
        }
    }

    /// Parses a registered name.
    pub fn from_name(name: &str) -> Option<DeliveryMode> {
        DeliveryMode::ALL.into_iter().find(|m| m.name() == name)
    }

    /// Whether the client gets a notification (ping and push need a
    /// `client_notification_token`, CIBA §7.1).
    pub fn notifies(self) -> bool {
        self != DeliveryMode::Poll
    }
}

/// How the user learns of a request (per client, as WSO2 does).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Channel {
    /// An email to the user's `email` claim with the approval link and binding message.
    Email,
    /// A text message to the user's `phone_number` claim.
    Sms,
    /// No message: the response carries `auth_url` and the client delivers it.
    External,
}

impl Channel {
    /// The name used in client metadata (`ciba_channels`).
    pub fn name(self) -> &'static str {
        match self {
            Channel::Email => "email",
            Channel::Sms => "sms",
            Channel::External => "external",
        }
    }

    /// Parses a name.
    pub fn from_name(name: &str) -> Option<Channel> {
        [Channel::Email, Channel::Sms, Channel::External]
            .into_iter()
            .find(|c| c.name() == name)
    }

    /// The user claim holding the address of this channel (`None` for `external`).
    pub fn address_claim(self) -> Option<&'static str> {
        match self {
            Channel::Email => Some("email"),
            Channel::Sms => Some("phone_number"),
            Channel::External => None,
        }
    }
}

/// Which characters a `binding_message` may contain.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum CharacterSet {
    /// Any Unicode character except control characters (the default).
    #[default]
    Printable,
    /// Printable ASCII only (space to `~`), for devices that show nothing else.
    AsciiPrintable,
}

/// The `binding_message` rules (CIBA §7.1: "relatively short and use a limited set of plain
/// text characters"; else `invalid_binding_message`, §13).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct BindingMessageRules {
    /// Longest message, in characters (default 50).
    pub max_chars: usize,
    /// Allowed characters.
    pub characters: CharacterSet,
}

impl Default for BindingMessageRules {
    fn default() -> Self {
        BindingMessageRules {
            max_chars: 50,
            characters: CharacterSet::Printable,
        }
    }
}

impl BindingMessageRules {
    /// Whether `message` follows the rules.
    pub fn accepts(&self, message: &str) -> bool {
        let mut n = 0usize;
        for c in message.chars() {
            n += 1;
            let ok = match self.characters {
                CharacterSet::Printable => !c.is_control(),
                CharacterSet::AsciiPrintable => (' '..='~').contains(&c),
            };
            if !ok || n > self.max_chars {
                return false;
            }
        }
        n > 0
    }
}

/// Which clients may name an agent as `actor_token` (on-behalf-of).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum ActorPolicy {
    /// The agent itself sends the request: the actor must be the requesting client (the
    /// default, and what `idforge serve` does).
    #[default]
    RequestingClient,
    /// Any authenticated client may send a request naming any resolvable agent.
    AnyClient,
}

/// Provider-wide CIBA configuration, validated by [`CibaConfig::validate`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CibaConfig {
    /// The issuer identifier (as oauth-core's `Config::issuer`).
    pub issuer: String,
    /// Path of the backchannel authentication endpoint (default `/bc-authorize`).
    pub backchannel_path: String,
    /// Path of the approval page the `auth_url` and messages point to (default `/bc-approve`).
    pub approval_path: String,
    /// `auth_req_id` lifetime when neither the client nor `requested_expiry` sets one (120 s).
    pub default_expiry: i64,
    /// Upper bound of any lifetime (`requested_expiry` is capped to it; 600 s).
    pub max_expiry: i64,
    /// Minimum polling interval (CIBA §7.3 `interval`, default 5 s).
    pub interval: i64,
    /// `binding_message` rules.
    pub binding_message: BindingMessageRules,
    /// Algorithms of signed authentication requests (asymmetric only, CIBA §7.1.1).
    pub signing_algs: Vec<JwsAlgorithm>,
    /// Longest accepted `exp - nbf` of a signed authentication request (default 3600 s).
    pub max_signed_request_lifetime: i64,
    /// Whether `user_code` is supported (`backchannel_user_code_parameter_supported`).
    pub user_code_supported: bool,
    /// RFC 9396 `authorization_details` types accepted (empty: any type).
    pub authorization_details_types: Vec<String>,
    /// Who may present an agent's `actor_token`.
    pub actor_policy: ActorPolicy,
}

impl CibaConfig {
    /// Defaults for the provider `issuer`.
    pub fn new(issuer: impl Into<String>) -> CibaConfig {
        CibaConfig {
            issuer: issuer.into().trim_end_matches('/').to_owned(),
            backchannel_path: "/bc-authorize".into(),
            approval_path: "/bc-approve".into(),
            default_expiry: 120,
            max_expiry: 600,
            interval: 5,
            binding_message: BindingMessageRules::default(),
            signing_algs: ASYMMETRIC_ALGS.to_vec(),
            max_signed_request_lifetime: 3600,
            user_code_supported: true,
            authorization_details_types: Vec::new(),
            actor_policy: ActorPolicy::default(),
        }
    }

    /// Sets the actor policy.
    pub fn with_actor_policy(mut self, policy: ActorPolicy) -> Self {
        self.actor_policy = policy;
        self
    }

    /// Sets the binding message rules.
    pub fn with_binding_message(mut self, rules: BindingMessageRules) -> Self {
        self.binding_message = rules;
        self
    }

    /// Restricts the accepted `authorization_details` types.
    pub fn with_authorization_details_types<S: Into<String>>(
        mut self,
        types: impl IntoIterator<Item = S>,
    ) -> Self {
        self.authorization_details_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// The backchannel authentication endpoint URL (discovery, client-assertion `aud`).
    pub fn backchannel_endpoint(&self) -> String {
        format!("{}{}", self.issuer, self.backchannel_path)
    }

    /// The approval URL for an approval handle (`auth_url`, and the link in messages).
    pub fn approval_url(&self, handle: &str) -> String {
        format!("{}{}?handle={handle}", self.issuer, self.approval_path)
    }

    /// Checks the values: positive lifetimes and interval, `default_expiry <= max_expiry`,
    /// asymmetric signing algorithms only, paths starting with `/`.
    pub fn validate(&self) -> Result<(), String> {
        if self.default_expiry <= 0 || self.max_expiry <= 0 || self.interval <= 0 {
            return Err("expiry and interval must be positive".into());
        }
        if self.default_expiry > self.max_expiry {
            return Err("default_expiry exceeds max_expiry".into());
        }
        if self.max_signed_request_lifetime <= 0 {
            return Err("max_signed_request_lifetime must be positive".into());
        }
        if self.binding_message.max_chars == 0 {
            return Err("binding_message.max_chars must be positive".into());
        }
        if self
            .signing_algs
            .iter()
            .any(|a| !ASYMMETRIC_ALGS.contains(a))
        {
            return Err("signing_algs must be asymmetric".into());
        }
        if !self.backchannel_path.starts_with('/') || !self.approval_path.starts_with('/') {
            return Err("paths must start with /".into());
        }
        Ok(())
    }
}

/// The CIBA registration members of a client (CIBA §4, and the channels, lifetime and agent
/// flag of this crate), read from [`Client::metadata`] and validated.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct CibaClient {
    /// `backchannel_token_delivery_mode` (default `poll`).
    pub delivery_mode: DeliveryMode,
    /// `backchannel_client_notification_endpoint` (required for ping and push).
    pub notification_endpoint: Option<String>,
    /// `backchannel_authentication_request_signing_alg`: requests must be signed with it.
    pub signing_alg: Option<JwsAlgorithm>,
    /// `backchannel_user_code_parameter`: requests must carry `user_code`.
    pub user_code_parameter: bool,
    /// `ciba_channels` (default `["external"]`).
    pub channels: Vec<Channel>,
    /// `ciba_expiry_seconds`: this client's `auth_req_id` lifetime.
    pub expiry: Option<i64>,
    /// `agent`: the client is an agent identity whose tokens may be `actor_token`s.
    pub agent: bool,
}

impl Default for CibaClient {
    fn default() -> Self {
        CibaClient {
            delivery_mode: DeliveryMode::Poll,
            notification_endpoint: None,
            signing_alg: None,
            user_code_parameter: false,
            channels: vec![Channel::External],
            expiry: None,
            agent: false,
        }
    }
}

/// Registration member names.
pub mod metadata {
    /// CIBA §4.
    pub const DELIVERY_MODE: &str = "backchannel_token_delivery_mode";
    /// CIBA §4.
    pub const NOTIFICATION_ENDPOINT: &str = "backchannel_client_notification_endpoint";
    /// CIBA §4.
    pub const SIGNING_ALG: &str = "backchannel_authentication_request_signing_alg";
    /// CIBA §4.
    pub const USER_CODE_PARAMETER: &str = "backchannel_user_code_parameter";
    /// The user notification channels of this crate.
    pub const CHANNELS: &str = "ciba_channels";
    /// The `auth_req_id` lifetime of this crate.
    pub const EXPIRY: &str = "ciba_expiry_seconds";
    /// Marks an agent identity.
    pub const AGENT: &str = "agent";
}

fn invalid_metadata(why: &str) -> Error {
    Error::UnauthorizedClient(format!("the client's CIBA registration is invalid: {why}"))
}

/// CIBA §4: the notification endpoint is HTTPS; plain `http` is accepted only on loopback
/// (`127.0.0.1`, `[::1]`, `localhost`) for development.
pub fn notification_endpoint_ok(url: &str) -> bool {
    if url.contains('#') {
        return false;
    }
    if let Some(rest) = url.strip_prefix("https://") {
        return !rest.is_empty() && !rest.starts_with('/');
    }
    let Some(rest) = url.strip_prefix("http://") else {
        return false;
    };
    let host_port = rest.split(['/', '?']).next().unwrap_or("");
    let host = if host_port.starts_with('[') {
        host_port.split(']').next().map(|h| format!("{h}]"))
    } else {
        host_port.split(':').next().map(str::to_owned)
    };
    matches!(
        host.as_deref(),
        Some("127.0.0.1") | Some("[::1]") | Some("localhost")
    )
}

impl CibaClient {
    /// Reads and validates the members of `client`.
    pub fn from_client(client: &Client) -> Result<CibaClient, Error> {
        let mut c = CibaClient::default();
        let m = |n: &str| client.metadata(n);
        if let Some(v) = m(metadata::DELIVERY_MODE) {
            c.delivery_mode = v
                .as_str()
                .and_then(DeliveryMode::from_name)
                .ok_or_else(|| invalid_metadata("unknown delivery mode"))?;
        }
        if let Some(v) = m(metadata::NOTIFICATION_ENDPOINT) {
            let url = v
                .as_str()
                .filter(|u| notification_endpoint_ok(u))
                .ok_or_else(|| invalid_metadata("the notification endpoint must be https"))?;
            c.notification_endpoint = Some(url.to_owned());
        }
        if c.delivery_mode.notifies() && c.notification_endpoint.is_none() {
            return Err(invalid_metadata(
                "ping and push need a notification endpoint",
            ));
        }
        if let Some(v) = m(metadata::SIGNING_ALG) {
            let alg = v
                .as_str()
                .and_then(|n| JwsAlgorithm::from_name(n).ok())
                .filter(|a| ASYMMETRIC_ALGS.contains(a))
                .ok_or_else(|| invalid_metadata("the signing algorithm must be asymmetric"))?;
            c.signing_alg = Some(alg);
        }
        if let Some(v) = m(metadata::USER_CODE_PARAMETER) {
            c.user_code_parameter = v
                .as_bool()
                .ok_or_else(|| invalid_metadata("user code parameter is not a boolean"))?;
        }
        if let Some(v) = m(metadata::CHANNELS) {
            let list = v
                .as_array()
                .ok_or_else(|| invalid_metadata("channels is not an array"))?;
            let mut channels = Vec::new();
            for name in list {
                let ch = name
                    .as_str()
                    .and_then(Channel::from_name)
                    .ok_or_else(|| invalid_metadata("unknown channel"))?;
                if !channels.contains(&ch) {
                    channels.push(ch);
                }
            }
            if channels.is_empty() {
                return Err(invalid_metadata("no channel"));
            }
            c.channels = channels;
        }
        if let Some(v) = m(metadata::EXPIRY) {
            c.expiry = Some(
                v.as_i64()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| invalid_metadata("expiry must be a positive integer"))?,
            );
        }
        if let Some(v) = m(metadata::AGENT) {
            c.agent = v
                .as_bool()
                .ok_or_else(|| invalid_metadata("agent is not a boolean"))?;
        }
        Ok(c)
    }

    /// Writes the members into `client` (the inverse of [`CibaClient::from_client`]).
    pub fn apply(&self, mut client: Client) -> Client {
        client = client.with_metadata(metadata::DELIVERY_MODE, json!(self.delivery_mode.name()));
        if let Some(u) = &self.notification_endpoint {
            client = client.with_metadata(metadata::NOTIFICATION_ENDPOINT, json!(u));
        }
        if let Some(a) = self.signing_alg {
            client = client.with_metadata(metadata::SIGNING_ALG, json!(a.name()));
        }
        if self.user_code_parameter {
            client = client.with_metadata(metadata::USER_CODE_PARAMETER, json!(true));
        }
        let channels: Vec<&str> = self.channels.iter().map(|c| c.name()).collect();
        client = client.with_metadata(metadata::CHANNELS, json!(channels));
        if let Some(e) = self.expiry {
            client = client.with_metadata(metadata::EXPIRY, json!(e));
        }
        if self.agent {
            client = client.with_metadata(metadata::AGENT, json!(true));
        }
        client
    }

    /// Sets the delivery mode and notification endpoint.
    pub fn with_delivery(mut self, mode: DeliveryMode, endpoint: Option<String>) -> Self {
        self.delivery_mode = mode;
        self.notification_endpoint = endpoint;
        self
    }

    /// Sets the user notification channels.
    pub fn with_channels(mut self, channels: impl IntoIterator<Item = Channel>) -> Self {
        self.channels = channels.into_iter().collect();
        self
    }

    /// Marks the client as an agent identity.
    pub fn with_agent(mut self) -> Self {
        self.agent = true;
        self
    }

    /// Requires `user_code`.
    pub fn with_user_code(mut self) -> Self {
        self.user_code_parameter = true;
        self
    }

    /// Requires signed requests with `alg`.
    pub fn with_signing_alg(mut self, alg: JwsAlgorithm) -> Self {
        self.signing_alg = Some(alg);
        self
    }

    /// Sets the `auth_req_id` lifetime.
    pub fn with_expiry(mut self, seconds: i64) -> Self {
        self.expiry = Some(seconds);
        self
    }
}

/// How the approving user authenticated (OIDC Core §2 `auth_time`, `acr`, `amr`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Approval {
    /// When the user authenticated.
    pub auth_time: i64,
    /// Authentication context class reached.
    pub acr: Option<String>,
    /// Authentication methods.
    pub amr: Vec<String>,
}

impl Approval {
    /// An approval by a user who authenticated at `auth_time` with `amr`.
    pub fn new(auth_time: i64, amr: Vec<String>) -> Approval {
        Approval {
            auth_time,
            acr: None,
            amr,
        }
    }

    /// Sets the `acr` reached.
    pub fn with_acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }
}

/// The state of a request (CIBA §5: the user approves, denies, or lets it expire).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum RequestState {
    /// Waiting for the user.
    Pending,
    /// Approved, tokens not yet issued.
    Approved(Approval),
    /// Denied by the user.
    Denied,
    /// Expired before the tokens were issued.
    Expired,
    /// Tokens issued (single use).
    Redeemed,
}

/// The name of a state, for errors and views.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StateName {
    /// [`RequestState::Pending`].
    Pending,
    /// [`RequestState::Approved`].
    Approved,
    /// [`RequestState::Denied`].
    Denied,
    /// [`RequestState::Expired`].
    Expired,
    /// [`RequestState::Redeemed`].
    Redeemed,
}

impl std::fmt::Display for StateName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StateName::Pending => "pending",
            StateName::Approved => "approved",
            StateName::Denied => "denied",
            StateName::Expired => "expired",
            StateName::Redeemed => "redeemed",
        })
    }
}

impl RequestState {
    /// Its name.
    pub fn name(&self) -> StateName {
        match self {
            RequestState::Pending => StateName::Pending,
            RequestState::Approved(_) => StateName::Approved,
            RequestState::Denied => StateName::Denied,
            RequestState::Expired => StateName::Expired,
            RequestState::Redeemed => StateName::Redeemed,
        }
    }
}

/// An illegal transition of the state machine.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("a {from} request cannot become {to}")]
pub struct TransitionError {
    /// The state the request was in (`expired` when its time ran out).
    pub from: StateName,
    /// The state asked for.
    pub to: StateName,
}

/// The user's answer on the approval page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Verdict {
    /// Approve, having authenticated as described.
    Approve(Approval),
    /// Deny.
    Deny,
}

/// Whether a poll respected the interval (CIBA §7.3, §11 `slow_down`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PollCheck {
    /// The first poll, or one at least `interval` seconds after the previous one.
    InTime,
    /// Too soon: the interval grew by [`SLOW_DOWN_STEP`].
    TooFast,
}

/// A backchannel authentication request as stored: keyed by the SHA-256 of `auth_req_id`
/// (never the value itself), reachable for approval by the hash of a distinct approval handle.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct CibaRequest {
    /// Hash of the `auth_req_id`.
    pub id: TokenHash,
    /// Hash of the approval handle (in `auth_url` and messages, never given to the client
    /// otherwise; knowing it does not approve: the user must authenticate).
    pub approval: TokenHash,
    /// The requesting client.
    pub client_id: String,
    /// The user the hint resolved to; only this user may approve.
    pub subject: String,
    /// Scopes requested (`openid` included).
    pub scopes: Scopes,
    /// `acr_values` requested, in order.
    pub acr_values: Vec<String>,
    /// `binding_message` shown on both devices.
    pub binding_message: Option<String>,
    /// RFC 9396 `authorization_details`.
    pub authorization_details: Option<Value>,
    /// RFC 8707 `resource` values (the access token's audience).
    pub resources: Vec<String>,
    /// The acting agent (`act.sub`), for on-behalf-of requests.
    pub actor: Option<String>,
    /// The client's delivery mode when the request was made.
    pub delivery: DeliveryMode,
    /// `client_notification_token` (ping and push; sent back as a bearer token, so kept).
    pub notification_token: Option<String>,
    /// The client's notification endpoint when the request was made (ping and push).
    pub notification_endpoint: Option<String>,
    /// The `auth_req_id` itself, kept only for ping and push clients: their notification
    /// bodies carry it (CIBA §10.2, §10.3.1). Poll clients' records keep only its hash.
    pub notify_auth_req_id: Option<String>,
    /// Creation time.
    pub created_at: i64,
    /// `created_at + expires_in`.
    pub expires_at: i64,
    /// The current minimum polling interval.
    pub interval: i64,
    /// When the client last polled.
    pub last_poll: Option<i64>,
    /// The state.
    pub state: RequestState,
}

impl CibaRequest {
    /// A pending request of `client_id` for `subject`, created `now` and lasting `expires_in`.
    pub fn new(
        id: TokenHash,
        approval: TokenHash,
        client_id: impl Into<String>,
        subject: impl Into<String>,
        scopes: Scopes,
        now: i64,
        expires_in: i64,
    ) -> CibaRequest {
        CibaRequest {
            id,
            approval,
            client_id: client_id.into(),
            subject: subject.into(),
            scopes,
            acr_values: Vec::new(),
            binding_message: None,
            authorization_details: None,
            resources: Vec::new(),
            actor: None,
            delivery: DeliveryMode::Poll,
            notification_token: None,
            notification_endpoint: None,
            notify_auth_req_id: None,
            created_at: now,
            expires_at: now.saturating_add(expires_in),
            interval: 5,
            last_poll: None,
            state: RequestState::Pending,
        }
    }

    /// The state at `now`: a pending or approved request past `expires_at` is expired.
    pub fn state_at(&self, now: i64) -> StateName {
        match self.state {
            RequestState::Pending | RequestState::Approved(_) if now >= self.expires_at => {
                StateName::Expired
            }
            ref s => s.name(),
        }
    }

    fn refuse(&self, now: i64, to: StateName) -> TransitionError {
        TransitionError {
            from: self.state_at(now),
            to,
        }
    }

    /// `Pending -> Approved` (before expiry).
    pub fn approve(&mut self, approval: Approval, now: i64) -> Result<(), TransitionError> {
        if self.state_at(now) != StateName::Pending {
            return Err(self.refuse(now, StateName::Approved));
        }
        self.state = RequestState::Approved(approval);
        Ok(())
    }

    /// `Pending -> Denied` (before expiry).
    pub fn deny(&mut self, now: i64) -> Result<(), TransitionError> {
        if self.state_at(now) != StateName::Pending {
            return Err(self.refuse(now, StateName::Denied));
        }
        self.state = RequestState::Denied;
        Ok(())
    }

    /// Applies the user's verdict.
    pub fn decide(&mut self, verdict: &Verdict, now: i64) -> Result<(), TransitionError> {
        match verdict {
            Verdict::Approve(a) => self.approve(a.clone(), now),
            Verdict::Deny => self.deny(now),
        }
    }

    /// `Pending | Approved -> Expired`, once `expires_at` is reached.
    pub fn expire(&mut self, now: i64) -> Result<(), TransitionError> {
        match self.state {
            RequestState::Pending | RequestState::Approved(_) if now >= self.expires_at => {
                self.state = RequestState::Expired;
                Ok(())
            }
            _ => Err(self.refuse(now, StateName::Expired)),
        }
    }

    /// `Approved -> Redeemed` (before expiry); returns how the user authenticated.
    pub fn redeem(&mut self, now: i64) -> Result<Approval, TransitionError> {
        if self.state_at(now) != StateName::Approved {
            return Err(self.refuse(now, StateName::Redeemed));
        }
        match std::mem::replace(&mut self.state, RequestState::Redeemed) {
            RequestState::Approved(a) => Ok(a),
            other => {
                // Unreachable: state_at said approved. Put it back and refuse.
                self.state = other;
                Err(self.refuse(now, StateName::Redeemed))
            }
        }
    }

    /// Records a poll at `now` (CIBA §7.3, §11): while pending, a poll sooner than `interval`
    /// after the previous one raises the interval by [`SLOW_DOWN_STEP`] (`slow_down`). In any
    /// other state the interval no longer matters and nothing changes.
    pub fn poll(&mut self, now: i64) -> PollCheck {
        if self.state_at(now) != StateName::Pending {
            return PollCheck::InTime;
        }
        let check = match self.last_poll {
            Some(last) if now.saturating_sub(last) < self.interval => {
                self.interval = self.interval.saturating_add(SLOW_DOWN_STEP);
                PollCheck::TooFast
            }
            _ => PollCheck::InTime,
        };
        self.last_poll = Some(now);
        check
    }

    /// Whether a store may drop the record: [`RETENTION_SECONDS`] past its expiry.
    pub fn removable(&self, now: i64) -> bool {
        now >= self.expires_at.saturating_add(RETENTION_SECONDS)
    }

    /// Seconds left before expiry (at least 0).
    pub fn expires_in(&self, now: i64) -> i64 {
        self.expires_at.saturating_sub(now).max(0)
    }

    /// An estimate of the heap and inline bytes the record takes in memory.
    pub fn approximate_size(&self) -> usize {
        let strings = self.client_id.capacity()
            + self.subject.capacity()
            + self
                .scopes
                .values()
                .iter()
                .map(|s| s.capacity() + 24)
                .sum::<usize>()
            + self
                .acr_values
                .iter()
                .map(|s| s.capacity() + 24)
                .sum::<usize>()
            + self.binding_message.as_ref().map_or(0, String::capacity)
            + self
                .resources
                .iter()
                .map(|s| s.capacity() + 24)
                .sum::<usize>()
            + self.actor.as_ref().map_or(0, String::capacity)
            + self.notification_token.as_ref().map_or(0, String::capacity)
            + self
                .notification_endpoint
                .as_ref()
                .map_or(0, String::capacity)
            + self.notify_auth_req_id.as_ref().map_or(0, String::capacity)
            + self
                .authorization_details
                .as_ref()
                .map_or(0, |v| v.to_string().len() * 2);
        std::mem::size_of::<CibaRequest>() + strings
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: i64 = 1_000;

    fn req() -> CibaRequest {
        CibaRequest::new(
            TokenHash::of("id"),
            TokenHash::of("handle"),
            "client",
            "alice",
            Scopes::from_values(["openid"]),
            NOW,
            120,
        )
    }

    fn approval() -> Approval {
        Approval::new(NOW, vec!["pwd".into()])
    }

    #[test]
    fn pending_to_approved_to_redeemed_once() {
        let mut r = req();
        assert_eq!(r.state_at(NOW), StateName::Pending);
        r.approve(approval(), NOW + 1).unwrap();
        assert_eq!(r.state_at(NOW + 1), StateName::Approved);
        assert_eq!(r.redeem(NOW + 2).unwrap(), approval());
        assert_eq!(r.state, RequestState::Redeemed);
        let e = r.redeem(NOW + 3).unwrap_err();
        assert_eq!(
            e,
            TransitionError {
                from: StateName::Redeemed,
                to: StateName::Redeemed
            }
        );
        // Redeemed is final.
        assert!(r.deny(NOW + 3).is_err());
        assert!(r.approve(approval(), NOW + 3).is_err());
        assert!(r.expire(NOW + 500).is_err());
    }

    #[test]
    fn denied_is_final_and_cannot_be_redeemed() {
        let mut r = req();
        r.deny(NOW).unwrap();
        assert_eq!(r.state_at(NOW), StateName::Denied);
        assert_eq!(r.redeem(NOW).unwrap_err().from, StateName::Denied);
        assert_eq!(
            r.approve(approval(), NOW).unwrap_err(),
            TransitionError {
                from: StateName::Denied,
                to: StateName::Approved
            }
        );
        assert!(r.expire(NOW + 500).is_err());
    }

    #[test]
    fn approval_and_denial_only_while_pending() {
        let mut r = req();
        r.approve(approval(), NOW).unwrap();
        assert_eq!(r.deny(NOW).unwrap_err().from, StateName::Approved);
        assert_eq!(
            r.approve(approval(), NOW).unwrap_err().from,
            StateName::Approved
        );
    }

    #[test]
    fn time_runs_out() {
        let mut r = req();
        // Not before expires_at.
        assert!(r.expire(NOW + 119).is_err());
        assert_eq!(r.state_at(NOW + 120), StateName::Expired);
        let e = r.approve(approval(), NOW + 120).unwrap_err();
        assert_eq!(e.from, StateName::Expired);
        assert!(r.deny(NOW + 120).is_err());
        r.expire(NOW + 120).unwrap();
        assert_eq!(r.state, RequestState::Expired);
        // An approved request not redeemed in time expires too.
        let mut r = req();
        r.approve(approval(), NOW).unwrap();
        assert_eq!(r.redeem(NOW + 120).unwrap_err().from, StateName::Expired);
        r.expire(NOW + 121).unwrap();
        assert_eq!(r.state_at(NOW + 121), StateName::Expired);
    }

    #[test]
    fn retention_past_expiry() {
        let r = req();
        assert!(!r.removable(NOW + 120));
        assert!(!r.removable(NOW + 120 + RETENTION_SECONDS - 1));
        assert!(r.removable(NOW + 120 + RETENTION_SECONDS));
        assert_eq!(r.expires_in(NOW + 20), 100);
        assert_eq!(r.expires_in(NOW + 500), 0);
    }

    #[test]
    fn polling_too_fast_slows_down_by_five_seconds() {
        let mut r = req();
        assert_eq!(r.poll(NOW), PollCheck::InTime);
        assert_eq!(r.poll(NOW + 4), PollCheck::TooFast);
        assert_eq!(r.interval, 10);
        // Measured from the last poll, with the new interval.
        assert_eq!(r.poll(NOW + 13), PollCheck::TooFast);
        assert_eq!(r.interval, 15);
        assert_eq!(r.poll(NOW + 28), PollCheck::InTime);
        assert_eq!(r.interval, 15);
        // Once decided, the interval no longer applies.
        r.approve(approval(), NOW + 29).unwrap();
        assert_eq!(r.poll(NOW + 29), PollCheck::InTime);
        assert_eq!(r.last_poll, Some(NOW + 28));
    }

    #[test]
    fn binding_message_rules() {
        let rules = BindingMessageRules::default();
        assert!(rules.accepts("W4SCT"));
        assert!(rules.accepts("Meeting with Bob, Tue 10:00 — ok?"));
        assert!(rules.accepts(&"x".repeat(50)));
        assert!(!rules.accepts(&"x".repeat(51)));
        assert!(!rules.accepts("line\nbreak"));
        assert!(!rules.accepts(""));
        let ascii = BindingMessageRules {
            max_chars: 10,
            characters: CharacterSet::AsciiPrintable,
        };
        assert!(ascii.accepts("A-1 ~ok"));
        assert!(!ascii.accepts("é"));
        assert!(!ascii.accepts("12345678901"));
    }

    #[test]
    fn client_metadata_round_trip_and_rules() {
        let c = CibaClient::default()
            .with_delivery(DeliveryMode::Push, Some("https://rp.example/cb".to_owned()))
            .with_channels([Channel::Email, Channel::Sms])
            .with_agent()
            .with_user_code()
            .with_signing_alg(JwsAlgorithm::ES256)
            .with_expiry(300);
        let client = c.apply(Client::confidential("x", "s"));
        assert_eq!(CibaClient::from_client(&client).unwrap(), c);
        let plain = CibaClient::from_client(&Client::confidential("y", "s")).unwrap();
        assert_eq!(plain.delivery_mode, DeliveryMode::Poll);
        assert_eq!(plain.channels, [Channel::External]);
        // CIBA §4: ping and push need an endpoint, https (loopback http for development).
        let bad = [
            ("backchannel_token_delivery_mode", json!("ping")),
            ("backchannel_token_delivery_mode", json!("fax")),
            (
                "backchannel_client_notification_endpoint",
                json!("http://rp.example/cb"),
            ),
            (
                "backchannel_authentication_request_signing_alg",
                json!("HS256"),
            ),
            ("ciba_channels", json!(["pigeon"])),
            ("ciba_channels", json!([])),
            ("ciba_expiry_seconds", json!(0)),
            ("agent", json!("yes")),
        ];
        for (name, value) in bad {
            let client = Client::confidential("z", "s").with_metadata(name, value.clone());
            let e = CibaClient::from_client(&client).unwrap_err();
            assert_eq!(e.code(), "unauthorized_client", "{name}={value}");
        }
        assert!(notification_endpoint_ok("http://127.0.0.1:9/cb"));
        assert!(notification_endpoint_ok("http://localhost/cb"));
        assert!(notification_endpoint_ok("http://[::1]:8080/cb"));
        assert!(!notification_endpoint_ok(
            "http://127.0.0.1.evil.example/cb"
        ));
        assert!(!notification_endpoint_ok("https://rp.example/cb#f"));
        assert!(!notification_endpoint_ok("ftp://rp.example"));
    }

    #[test]
    fn config_validation() {
        let c = CibaConfig::new("https://op.example/");
        c.validate().unwrap();
        assert_eq!(c.backchannel_endpoint(), "https://op.example/bc-authorize");
        assert_eq!(
            c.approval_url("h"),
            "https://op.example/bc-approve?handle=h"
        );
        let mut bad = c.clone();
        bad.default_expiry = 1000;
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.signing_algs = vec![JwsAlgorithm::HS256];
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.interval = 0;
        assert!(bad.validate().is_err());
    }
}
