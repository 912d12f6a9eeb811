//! The ports the host implements: the request store, user lookup from hints, agent (actor)
//! resolution, and notification of users and clients.

use async_trait::async_trait;
use idforge_oauth_core::{Context, Error, TokenHash};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::model::{
    Approval, Channel, CibaRequest, DeliveryMode, PollCheck, StateName, TransitionError, Verdict,
};
use crate::validate::Hint;

/// The outcome of an atomic transition in the store.
// Short-lived return values, moved once.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Transition {
    /// Applied; the record as it now is.
    Applied(CibaRequest),
    /// The state machine refused it; nothing changed.
    Refused(TransitionError),
    /// No such record (never stored, or dropped after its retention).
    NotFound,
}

/// What a poll saw ([`CibaRequestStore::poll`]): small, so a pending poll copies no strings.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct Polled {
    /// The state at the time of the poll ([`CibaRequest::state_at`]).
    pub state: StateName,
    /// The polling interval after this poll.
    pub interval: i64,
    /// Whether the poll respected the interval.
    pub check: PollCheck,
}

impl Polled {
    /// Records a poll on `request` at `now` ([`CibaRequest::poll`]) and describes it; stores
    /// call it under their lock.
    pub fn record(request: &mut CibaRequest, now: i64) -> Polled {
        let check = request.poll(now);
        Polled {
            state: request.state_at(now),
            interval: request.interval,
            check,
        }
    }
}

/// The outcome of [`CibaRequestStore::redeem`].
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Redemption {
    /// This caller redeemed it: the record (now redeemed) and how the user authenticated.
    Redeemed(CibaRequest, Approval),
    /// The state machine refused it (not approved, expired, already redeemed).
    Refused(TransitionError),
    /// No such record.
    NotFound,
}

/// Storage of backchannel authentication requests.
///
/// Every method is atomic with respect to the others: [`poll`](Self::poll)'s check-and-update
/// of the last poll time, [`decide`](Self::decide) and [`redeem`](Self::redeem) are
/// linearizable, so of N concurrent redemptions of one approved request exactly one gets it
/// (CIBA §11, tokens issued once). Transitions are the record's own methods
/// ([`CibaRequest::decide`], [`CibaRequest::redeem`], [`CibaRequest::poll`],
/// [`CibaRequest::expire`]) applied under the store's lock or compare-and-set. Records live
/// until [`CibaRequest::removable`].
#[async_trait]
pub trait CibaRequestStore: Send + Sync {
    /// Stores a new request (`temporarily_unavailable` when full).
    async fn insert(&self, request: CibaRequest) -> Result<(), Error>;
    /// The request whose `auth_req_id` hashes to `id`.
    async fn get(&self, id: &TokenHash, now: i64) -> Result<Option<CibaRequest>, Error>;
    /// The request whose approval handle hashes to `approval`.
    async fn by_approval(
        &self,
        approval: &TokenHash,
        now: i64,
    ) -> Result<Option<CibaRequest>, Error>;
    /// Atomically records a poll by `client_id` ([`CibaRequest::poll`]) and returns what the
    /// token endpoint answers from; `None` when there is no such request or it belongs to
    /// another client (which then changes nothing).
    async fn poll(
        &self,
        id: &TokenHash,
        client_id: &str,
        now: i64,
    ) -> Result<Option<Polled>, Error>;
    /// Atomically applies the user's verdict to the request of approval handle `approval`.
    async fn decide(
        &self,
        approval: &TokenHash,
        verdict: &Verdict,
        now: i64,
    ) -> Result<Transition, Error>;
    /// Atomically moves an approved request to redeemed ([`CibaRequest::redeem`]).
    async fn redeem(&self, id: &TokenHash, now: i64) -> Result<Redemption, Error>;
    /// Expires every pending or approved request whose time ran out (returning them, for
    /// push and ping notifications) and drops records past their retention.
    async fn expire_due(&self, now: i64) -> Result<Vec<CibaRequest>, Error>;
}

/// What a hint resolved to.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum HintResolution {
    /// The user's subject identifier.
    User(String),
    /// No such user (`unknown_user_id`, CIBA §13, without more detail).
    Unknown,
    /// A `login_hint_token` that has expired (`expired_login_hint_token`, CIBA §13).
    Expired,
}

/// Finds users from `login_hint` and `login_hint_token` (an `id_token_hint` is verified by the
/// crate itself), and checks `user_code`s.
#[async_trait]
pub trait UserResolver: Send + Sync {
    /// Resolves a `login_hint` or `login_hint_token` (never called with an `id_token_hint`).
    async fn resolve(&self, hint: &Hint, now: i64) -> Result<HintResolution, Error>;
    /// Whether `code` is the `user_code` of `subject` (CIBA §7.1).
    async fn check_user_code(&self, subject: &str, code: &str) -> Result<bool, Error>;
}

/// An agent identity acting for the user (WSO2 Agent ID): distinct from users and from
/// applications.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Actor {
    /// The agent's identifier, the `act.sub` of the issued tokens.
    pub sub: String,
}

impl Actor {
    /// An agent named `sub`.
    pub fn new(sub: impl Into<String>) -> Actor {
        Actor { sub: sub.into() }
    }
}

/// Resolves an `actor_token` (with its `actor_token_type`) to the agent it proves.
#[async_trait]
pub trait ActorResolver: Send + Sync {
    /// The agent, or `None` if the token proves none.
    async fn resolve(
        &self,
        ctx: &Context,
        token: &str,
        token_type: &str,
    ) -> Result<Option<Actor>, Error>;
}

/// A message to the user about a pending request (`email` or `sms` channel).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct UserNotification {
    /// The channel.
    pub channel: Channel,
    /// The address (the user's `email` or `phone_number` claim).
    pub to: String,
    /// A subject line.
    pub subject: String,
    /// The text: who asks, the binding message, the approval link.
    pub text: String,
    /// The approval link.
    pub approval_url: String,
}

/// A notification to the client's endpoint (CIBA §10.2 ping, §10.3 push, §12 push error).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ClientNotification {
    /// Ping or push.
    pub mode: DeliveryMode,
    /// `backchannel_client_notification_endpoint`.
    pub endpoint: String,
    /// The `client_notification_token`, sent as `Authorization: Bearer`.
    pub bearer: String,
    /// The JSON body.
    pub body: Value,
}

/// The result of delivering a [`ClientNotification`] (CIBA §10.2: the client answers 204 or
/// 200; anything else is a failure the host may retry).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeliveryReport {
    /// The client accepted it.
    Delivered {
        /// Attempts made.
        attempts: u32,
    },
    /// Every attempt failed.
    Failed {
        /// Attempts made.
        attempts: u32,
    },
}

/// Sends messages to users and notifications to clients. Implementations do the I/O (SMTP,
/// SMS gateways, HTTP POSTs with timeouts and bounded retries) and report what happened.
#[async_trait]
pub trait Notifier: Send + Sync {
    /// Sends a message to the user (email or SMS).
    async fn notify_user(&self, notification: &UserNotification) -> Result<(), Error>;
    /// Delivers a ping or push notification to the client.
    async fn notify_client(&self, notification: &ClientNotification) -> DeliveryReport;
}
