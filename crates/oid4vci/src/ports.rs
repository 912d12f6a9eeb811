//! The ports the host implements: template storage, issuance state, the deferred-issuance
//! decision and the notification sink.

use async_trait::async_trait;
use idforge_oauth_core::{Error, TokenHash};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::template::CredentialTemplate;

/// Result of the ports.
pub type Result<T> = std::result::Result<T, Error>;

/// Storage of credential templates (the management API WSO2 exposes maps onto it).
///
/// [`put`](Self::put) must refuse a template whose [`validate`](CredentialTemplate::validate)
/// fails (`invalid_request`), so a template that cannot be issued is refused when saved.
#[async_trait]
pub trait TemplateStore: Send + Sync {
    /// Every template, in a stable order.
    async fn templates(&self) -> Result<Vec<CredentialTemplate>>;
    /// The template with this `credential_configuration_id`.
    async fn template(&self, id: &str) -> Result<Option<CredentialTemplate>>;
    /// Creates or replaces a template after validating it.
    async fn put(&self, template: CredentialTemplate) -> Result<()>;
    /// Deletes a template; `true` if it existed.
    async fn delete(&self, id: &str) -> Result<bool>;
}

/// A credential offer as the issuer remembers it (§4.1). Secrets are kept as hashes only,
/// except the offer body served by reference, which holds the pre-authorized code until the
/// offer expires (the wallet fetches it, §4.1.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct OfferRecord {
    /// The user the credentials are about.
    pub subject: String,
    /// The offered configurations.
    pub configuration_ids: Vec<String>,
    /// Hash of the pre-authorized code, when the offer has that grant.
    pub pre_authorized_code: Option<TokenHash>,
    /// Hash of the transaction code, when one is required (§6.1 `tx_code`).
    pub tx_code: Option<TokenHash>,
    /// Hash of `issuer_state`, when the offer has the authorization code grant (§5.1.3).
    pub issuer_state: Option<TokenHash>,
    /// Hash of the reference id and the offer JSON, when offered by reference (§4.1.3).
    pub reference: Option<(TokenHash, Value)>,
    /// The oauth-core grant carrying the pre-authorized code artifact.
    pub grant_id: String,
    /// Expiry.
    pub expires_at: i64,
}

impl OfferRecord {
    /// A record of an offer of `configuration_ids` about `subject`, whose artifact lives in
    /// grant `grant_id`, expiring at `expires_at`.
    pub fn new(
        subject: impl Into<String>,
        configuration_ids: Vec<String>,
        grant_id: impl Into<String>,
        expires_at: i64,
    ) -> Self {
        OfferRecord {
            subject: subject.into(),
            configuration_ids,
            pre_authorized_code: None,
            tx_code: None,
            issuer_state: None,
            reference: None,
            grant_id: grant_id.into(),
            expires_at,
        }
    }
}

/// What a `notification_id` (§8.3) or a deferred `transaction_id` (§9) stands for: who got
/// (or will get) which credentials.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IssuanceRecord {
    /// Hash of the `notification_id` or `transaction_id`.
    pub hash: TokenHash,
    /// The client the access token was issued to.
    pub client_id: String,
    /// The oauth-core grant of that access token.
    pub grant_id: String,
    /// The credential subject.
    pub subject: String,
    /// The template.
    pub configuration_id: String,
    /// Holder keys (public JWKs), one credential each; empty for unbound credentials.
    pub holder_keys: Vec<Value>,
    /// Status list entries of the issued credentials, as `(list id, index)`.
    pub status: Vec<(u64, u64)>,
    /// When the credential request was made.
    pub requested_at: i64,
    /// Expiry of the id.
    pub expires_at: i64,
}

/// Issuance state: offers, nonces, notification ids, deferred transactions and status lists.
///
/// Atomicity: [`consume_nonce`](Self::consume_nonce), [`take_issuer_state`](Self::take_issuer_state)
/// and [`take_transaction`](Self::take_transaction) must be linearizable (of N concurrent
/// callers exactly one wins, §7.2 nonce replay), and [`allocate_status`](Self::allocate_status)
/// never hands out one index twice.
#[async_trait]
pub trait IssuanceStore: Send + Sync {
    /// Stores an offer (`temporarily_unavailable` when full).
    async fn insert_offer(&self, offer: OfferRecord) -> Result<()>;
    /// The unexpired offer whose pre-authorized code hashes to `code`.
    async fn offer_by_code(&self, code: &TokenHash, now: i64) -> Result<Option<OfferRecord>>;
    /// The unexpired offer JSON stored under reference hash `reference`.
    async fn offer_by_reference(&self, reference: &TokenHash, now: i64) -> Result<Option<Value>>;
    /// The unexpired offer whose `issuer_state` hashes to `state`, without redeeming it (the
    /// authorization endpoint checks it before the user logs in, §5.1.3).
    async fn offer_by_issuer_state(
        &self,
        state: &TokenHash,
        now: i64,
    ) -> Result<Option<OfferRecord>>;
    /// Atomically removes and returns the unexpired offer whose `issuer_state` hashes to `state`.
    async fn take_issuer_state(&self, state: &TokenHash, now: i64) -> Result<Option<OfferRecord>>;
    /// Stores a fresh `c_nonce` hash, issued at `now`, until `expires_at`
    /// (`temporarily_unavailable` when full of live nonces).
    async fn insert_nonce(&self, nonce: TokenHash, now: i64, expires_at: i64) -> Result<()>;
    /// Atomically consumes a live `c_nonce`; `false` if unknown, expired or already used.
    async fn consume_nonce(&self, nonce: &TokenHash, now: i64) -> Result<bool>;
    /// Stores a notification id's record.
    async fn insert_notification(&self, record: IssuanceRecord) -> Result<()>;
    /// The unexpired record of a notification id.
    async fn notification(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>>;
    /// Stores a deferred transaction.
    async fn insert_transaction(&self, record: IssuanceRecord) -> Result<()>;
    /// The unexpired deferred transaction, left in place.
    async fn transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>>;
    /// Atomically removes and returns the unexpired deferred transaction.
    async fn take_transaction(&self, hash: &TokenHash, now: i64) -> Result<Option<IssuanceRecord>>;
    /// Allocates a status entry (initially valid, 0) in a list of `list_size` entries,
    /// opening a new list when the current one is full; returns `(list id, index)`.
    async fn allocate_status(&self, list_size: u64) -> Result<(u64, u64)>;
    /// Sets the status of an allocated entry; `false` if it was never allocated.
    async fn set_status(&self, list: u64, index: u64, value: u8) -> Result<bool>;
    /// The status values of list `list` (index → value, unallocated entries 0); `None` if the
    /// list does not exist.
    async fn status_list(&self, list: u64) -> Result<Option<Vec<u8>>>;
    /// Drops everything expired at `now`; returns how many entries went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// Whether a credential is issued now or later (§9).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Deferral {
    /// Issue now.
    Now,
    /// Not yet: answer 202 with a `transaction_id` (credential endpoint) or `issuance_pending`
    /// (deferred endpoint), suggesting the wallet polls again after `interval` seconds.
    Later {
        /// Seconds.
        interval: u64,
    },
}

/// The host's say on deferred issuance (§9): e.g. an approval, a background check.
#[async_trait]
pub trait DeferredIssuance: Send + Sync {
    /// At the credential endpoint: issue now or defer.
    async fn decide(&self, request: &IssuanceRecord, now: i64) -> Result<Deferral>;
    /// At the deferred endpoint: ready now, or still pending.
    async fn poll(&self, request: &IssuanceRecord, now: i64) -> Result<Deferral>;
}

/// Defers the credentials of some templates by a fixed delay: ready `seconds` after the
/// request (the `idforge serve` demo of [`DeferredIssuance`]).
#[derive(Debug, Clone, Default)]
pub struct FixedDelay {
    delays: Vec<(String, u64)>,
}

impl FixedDelay {
    /// No template deferred.
    pub fn new() -> Self {
        Self::default()
    }

    /// Credentials of `template` are ready `seconds` after they are requested.
    pub fn with_delay(mut self, template: impl Into<String>, seconds: u64) -> Self {
        self.delays.push((template.into(), seconds));
        self
    }

    fn remaining(&self, request: &IssuanceRecord, now: i64) -> Deferral {
        let delay = self
            .delays
            .iter()
            .find(|(t, _)| *t == request.configuration_id)
            .map(|(_, s)| *s)
            .unwrap_or(0);
        let ready = request.requested_at.saturating_add(delay as i64);
        if now >= ready {
            Deferral::Now
        } else {
            Deferral::Later {
                interval: (ready - now) as u64,
            }
        }
    }
}

#[async_trait]
impl DeferredIssuance for FixedDelay {
    async fn decide(&self, request: &IssuanceRecord, now: i64) -> Result<Deferral> {
        Ok(self.remaining(request, now))
    }
    async fn poll(&self, request: &IssuanceRecord, now: i64) -> Result<Deferral> {
        Ok(self.remaining(request, now))
    }
}

/// Notification events (§11.1 `event`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum NotificationEvent {
    /// The credential was successfully stored in the wallet.
    CredentialAccepted,
    /// Anything else went wrong.
    CredentialFailure,
    /// The user deleted or rejected the credential.
    CredentialDeleted,
}

/// A notification from a wallet (§11.1), with what its `notification_id` stands for.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Notification {
    /// The event.
    pub event: NotificationEvent,
    /// `event_description`, if sent.
    pub description: Option<String>,
    /// The issuance it is about.
    pub issuance: IssuanceRecord,
}

/// Where wallet notifications go (§11): audit logs, revocation on `credential_deleted`, ...
#[async_trait]
pub trait NotificationHandler: Send + Sync {
    /// Receives a notification.
    async fn notify(&self, notification: Notification) -> Result<()>;
}
