//! The ports the host implements: storage, users, passwords, hooks. Keys and time come from
//! `idforge_jose` ([`KeyStore`](idforge_jose::KeyStore), [`Clock`](idforge_jose::Clock)),
//! randomness from [`Rng`](crate::secret::Rng).

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::device::{DecideOutcome, DeviceAuthorization, PollOutcome, UserDecision};
use crate::error::Result;
use crate::model::AuthorizationRequest;
use crate::records::{ConsumeOutcome, Grant, PushedRequest, RotateOutcome, TokenKind, TokenRecord};
use crate::secret::TokenHash;
use crate::session::{BackChannelLogout, DeliveryResult, SessionRecord};

/// Storage of grants and the tokens hanging off them.
///
/// Every method is atomic with respect to the others; in particular [`consume`](Self::consume)
/// and [`rotate`](Self::rotate) must be linearizable, so that of N concurrent callers exactly one
/// wins (RFC 6749 §4.1.2: a code is used once; RFC 9700 §4.14.2: refresh token rotation).
#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Stores a new grant.
    async fn create_grant(&self, grant: Grant) -> Result<()>;
    /// The grant, if it exists and has not expired at `now`.
    async fn grant(&self, id: &str, now: i64) -> Result<Option<Grant>>;
    /// Stores a token of an existing grant (fails with `invalid_grant` if the grant is gone).
    async fn insert_token(&self, record: TokenRecord) -> Result<()>;
    /// Stores a new grant and its first token (`token.grant_id` is `grant.id`), as
    /// [`create_grant`](Self::create_grant) then [`insert_token`](Self::insert_token) would,
    /// with the same refusal when the token outlives nothing (`invalid_grant` if the grant is
    /// not live at the token's `issued_at`; the grant is stored all the same).
    ///
    /// Why a method of its own: every token request of a new grant writes these two rows, and
    /// a store that can write them together saves a write per request (idforge-store-sql on
    /// PostgreSQL writes both in one statement). The default makes the two calls.
    async fn create_grant_with_token(&self, grant: Grant, token: TokenRecord) -> Result<()> {
        self.create_grant(grant).await?;
        self.insert_token(token).await
    }
    /// An unexpired token (in any [`TokenState`](crate::records::TokenState)) with its live grant; callers check the state.
    async fn token(&self, hash: &TokenHash, now: i64) -> Result<Option<(TokenRecord, Grant)>>;
    /// Atomically marks a single-use artifact of `kind` consumed (a record of another kind is
    /// `NotFound` and left untouched).
    async fn consume(&self, hash: &TokenHash, kind: TokenKind, now: i64) -> Result<ConsumeOutcome>;
    /// Atomically replaces refresh token `old` by `new` (same grant). A token rotated less than
    /// `grace_seconds` ago may be rotated again (concurrent refresh); later it is reuse.
    async fn rotate(
        &self,
        old: &TokenHash,
        new: TokenRecord,
        now: i64,
        grace_seconds: i64,
    ) -> Result<RotateOutcome>;
    /// Revokes a grant and every token of its family. Idempotent.
    async fn revoke_grant(&self, id: &str) -> Result<()>;
    /// Removes one token; returns it if it existed.
    async fn revoke_token(&self, hash: &TokenHash) -> Result<Option<TokenRecord>>;
    /// Atomically records `key` until `until`; `true` if it was not already recorded (used for
    /// `jti` replay detection, RFC 7523 §3 item 7, and the non-persistent deny-list).
    async fn mark(&self, key: &TokenHash, until: i64, now: i64) -> Result<bool>;
    /// Whether `key` is recorded and unexpired.
    async fn is_marked(&self, key: &TokenHash, now: i64) -> Result<bool>;
    /// The grants of `subject` unexpired at `now`, oldest first: what a password update ends
    /// (WSO2 IS 7.3 "revoke sessions and tokens on password update"), including grants made
    /// outside any login session (password, token exchange). Stores index `subject` for it.
    async fn grants_by_subject(&self, subject: &str, now: i64) -> Result<Vec<Grant>>;
    /// Drops everything expired at `now`; returns how many entries went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// Storage of pushed authorization requests (RFC 9126).
///
/// [`consume`](Self::consume) must be atomic: of N concurrent callers with the same hash, at
/// most one gets the request, so a `request_uri` is used once (RFC 9126 §4: "SHOULD make the
/// request_uri one-time use"; this crate makes it so).
#[async_trait]
pub trait PushedRequestStore: Send + Sync {
    /// Stores a pushed request (`temporarily_unavailable` when full).
    async fn insert(&self, request: PushedRequest) -> Result<()>;
    /// Atomically removes the request stored under `hash` and returns it if it had not expired
    /// at `now`.
    async fn consume(&self, hash: &TokenHash, now: i64) -> Result<Option<PushedRequest>>;
    /// Drops everything expired at `now`; returns how many entries went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// Registered clients.
#[async_trait]
pub trait ClientStore: Send + Sync {
    /// The client with this id.
    async fn client(&self, client_id: &str) -> Result<Option<Client>>;
}

/// Where user claims come from (OIDC Core §5.1 standard claims and any others).
#[async_trait]
pub trait ClaimsSource: Send + Sync {
    /// Every claim of `subject` the provider may release (without `sub`); oauth-core selects
    /// the ones the scopes and the `claims` parameter ask for. `None` if the user is unknown.
    async fn claims(&self, subject: &str) -> Result<Option<Map<String, Value>>>;
}

/// Checks resource-owner passwords (RFC 6749 §4.3 `password` grant, and hosts' login forms).
#[async_trait]
pub trait PasswordVerifier: Send + Sync {
    /// The subject identifier if `password` is right for `username`, else `None`. Must take
    /// the same time for unknown users as for wrong passwords.
    async fn verify(&self, username: &str, password: &str) -> Result<Option<String>>;
}

/// Extends the authorization code flow with parameters of other specifications (RFC 9396
/// `authorization_details`, RFC 8707 `resource`, OID4VCI `issuer_state`, an organization):
/// checked when the authorization request arrives, turned into the grant's
/// [`TokenContents`](crate::records::TokenContents) when the code is issued. Registered with
/// [`ProviderBuilder::authorization_extension`](crate::ProviderBuilder::authorization_extension).
///
/// The authorization endpoint keeps the [`parameters`](Self::parameters) it names in
/// [`AuthorizationRequest::extension_params`] (pushed requests and request objects included),
/// so they survive the host's login and consent pages.
#[async_trait]
pub trait AuthorizationExtension: Send + Sync {
    /// The request parameters this extension reads.
    fn parameters(&self) -> Vec<&'static str>;

    /// Checks them for `client` before the user is asked anything; an error is returned to the
    /// client at its redirect URI (RFC 6749 §4.1.2.1), e.g. RFC 9396 §5
    /// `invalid_authorization_details`.
    async fn check(&self, client: &Client, request: &AuthorizationRequest) -> Result<()>;

    /// Shapes the grant of the code being issued (its subject is the logged-in user): adds
    /// audience values and token claims to `grant.contents`.
    async fn shape_grant(
        &self,
        client: &Client,
        request: &AuthorizationRequest,
        grant: &mut Grant,
    ) -> Result<()>;

    /// Shapes the grant of a decoupled flow, approved by the user away from the authorization
    /// endpoint (RFC 8628 device authorization, OpenID CIBA), before it is stored and its
    /// tokens are issued; `grant_type` names the flow. There is no authorization request, so
    /// only what the extension knows itself applies (an organization's own issuer scoping
    /// every grant to it). An error fails the token request (or the CIBA push) with that
    /// error. Default: the grant is left unchanged.
    async fn shape_decoupled_grant(
        &self,
        client: &Client,
        grant_type: &str,
        grant: &mut Grant,
    ) -> Result<()> {
        let _ = (client, grant_type, grant);
        Ok(())
    }
}

/// A hook run before every ID token is signed (the WSO2 "pre-issue ID token" action): it may
/// add, update or remove claims and change the token's lifetime.
///
/// The protocol claims `iss sub aud exp iat auth_time acr amr nonce azp at_hash c_hash sid` are
/// re-applied after the hook returns (OIDC Core §2, §3.1.3.7: relying parties validate them), so
/// a hook cannot forge them; `lifetime` may be shortened or lengthened (at least 1 second).
/// An error aborts the token request with that error.
#[async_trait]
pub trait PreIssueIdTokenAction: Send + Sync {
    /// Edits `claims` (the ID token about to be signed) and `lifetime` (seconds).
    async fn before_issue(
        &self,
        client: &Client,
        grant: &Grant,
        claims: &mut Map<String, Value>,
        lifetime: &mut i64,
    ) -> Result<()>;
}

/// Storage of device authorization requests (RFC 8628).
///
/// [`poll`](Self::poll) and [`decide`](Self::decide) are atomic read-modify-writes: the store
/// applies [`DeviceAuthorization::poll`] / [`DeviceAuthorization::decide`] to the current record
/// and writes the result in one step (a transaction, a compare-and-set), so of concurrent polls
/// at most one passes the interval check (RFC 8628 §3.5 `slow_down`) and exactly one redeems
/// an approved code. Records stay readable until [`DeviceAuthorization::retain_until`], so a
/// poll after expiry is answered `expired_token`.
#[async_trait]
pub trait DeviceCodeStore: Send + Sync {
    /// Stores a new authorization. `Ok(false)` if its device code or user code is already in
    /// use (the caller draws new codes); `temporarily_unavailable` when full.
    async fn insert(&self, authorization: DeviceAuthorization) -> Result<bool>;
    /// The authorization with this user-code hash, if still retained at `now`.
    async fn by_user_code(
        &self,
        user_code: &TokenHash,
        now: i64,
    ) -> Result<Option<DeviceAuthorization>>;
    /// Atomically applies one poll by `client_id` at `now` to the authorization with this
    /// device-code hash ([`DeviceAuthorization::poll`]); unknown: [`PollOutcome::NotFound`].
    async fn poll(&self, device_code: &TokenHash, client_id: &str, now: i64)
        -> Result<PollOutcome>;
    /// Atomically applies the user's decision to the authorization with this user-code hash
    /// ([`DeviceAuthorization::decide`]); unknown: [`DecideOutcome::NotFound`].
    async fn decide(
        &self,
        user_code: &TokenHash,
        decision: UserDecision,
        now: i64,
    ) -> Result<DecideOutcome>;
    /// Drops everything retained past [`DeviceAuthorization::retain_until`] at `now`; returns
    /// how many went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// Bounds attempts (RFC 8628 §5.1: user codes are guessable, so entry must be rate limited).
/// The host backs it with its own limiter (shared across nodes); keys are opaque strings such
/// as `ip:203.0.113.7` or `device:<hash>`.
#[async_trait]
pub trait AttemptLimiter: Send + Sync {
    /// Counts one attempt under `key` at `now`, at most `max` per `window` seconds; `false`
    /// when this attempt is over the limit (and must be refused). Atomic per key.
    async fn attempt(&self, key: &str, max: u32, window: i64, now: i64) -> Result<bool>;
}

/// Fetches a trusted issuer's JWK Set from its `jwks_uri` (RFC 8693 token exchange with trusted
/// token issuers). The host does the HTTP (with its timeouts, size limits and TLS); the grant
/// caches the result and fetches again when a token names an unknown `kid`.
#[async_trait]
pub trait JwksFetcher: Send + Sync {
    /// The JWK Set at `jwks_uri`; a failure is an [`Error::Internal`](crate::Error::Internal)
    /// (the exchange then fails as if the token did not verify).
    async fn fetch(&self, jwks_uri: &str) -> Result<idforge_jose::JwkSet>;
}

/// Finds local users by attribute values (implicit account association of token exchange).
#[async_trait]
pub trait UserLookup: Send + Sync {
    /// The subjects of every local user whose attributes equal all of `attributes` (name,
    /// value). The caller treats anything but exactly one as no association.
    async fn find_users(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>>;
}

/// Storage of login sessions ([`SessionRecord`], keyed by `sid`).
///
/// Plain records in and out; every method is one atomic statement (in SQL: one `INSERT`,
/// `SELECT`, `UPDATE ... RETURNING` or `DELETE ... RETURNING`), with the liveness test of
/// [`SessionRecord::is_live`] written into its `WHERE` clause:
/// `now < last_active + idle_timeout AND (absolute_expires_at IS NULL OR now < absolute_expires_at)`.
/// [`remove`](Self::remove) and [`remove_by_subject`](Self::remove_by_subject) must be
/// linearizable: of concurrent callers ending one session exactly one gets it back (so a logout
/// fans out once), and a session created before a removal by subject began is gone after it.
#[async_trait]
pub trait SessionStore: Send + Sync {
    /// Stores a new session. `Ok(false)` if its `sid` is already in use (the caller draws a
    /// new one); `temporarily_unavailable` when full.
    async fn create(&self, session: SessionRecord) -> Result<bool>;
    /// The session with this `sid` if it is live at `now`; reading does not count as use.
    async fn get(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>>;
    /// Atomically, if the session is live at `now`: sets `last_active = now` (restarting its
    /// idle window) and returns the updated record; otherwise `None` and nothing changes.
    async fn touch(&self, sid: &str, now: i64) -> Result<Option<SessionRecord>>;
    /// Atomically, if the session is live at `now`: records a new authentication of its user
    /// (OIDC Core §3.1.2.1 `prompt=login`, `max_age`): sets `auth_time`, `acr`, `amr` and
    /// `last_active = now`; returns the updated record, otherwise `None` and nothing changes.
    async fn reauthenticate(
        &self,
        sid: &str,
        auth_time: i64,
        acr: Option<&str>,
        amr: &[String],
        now: i64,
    ) -> Result<Option<SessionRecord>>;
    /// Atomically, if the session is live at `now`: appends `client_id` to `clients` and
    /// `grant_id` to `grants` (each only if absent) and sets `last_active = now`; returns the
    /// updated record, otherwise `None` and nothing changes.
    async fn record_grant(
        &self,
        sid: &str,
        client_id: &str,
        grant_id: &str,
        now: i64,
    ) -> Result<Option<SessionRecord>>;
    /// Atomically deletes the session (live or expired) and returns it; `None` if there was
    /// none (another logout got it first).
    async fn remove(&self, sid: &str) -> Result<Option<SessionRecord>>;
    /// Atomically deletes every session of `subject` (live or expired) and returns them.
    async fn remove_by_subject(&self, subject: &str) -> Result<Vec<SessionRecord>>;
    /// The sessions of `subject` live at `now`, oldest first.
    async fn by_subject(&self, subject: &str, now: i64) -> Result<Vec<SessionRecord>>;
    /// Drops every session expired at `now`; returns how many went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// Delivers Logout Tokens to relying parties (Back-Channel Logout 1.0 §2.5): an HTTP POST of
/// `logout_token=<JWT>` (`application/x-www-form-urlencoded`) to the RP's
/// `backchannel_logout_uri`, with the host's timeout. The result tells the host whether to
/// retry ([`DeliveryResult::is_retryable`]); retries are the host's policy (bounded, and never
/// past the token's `exp`).
#[async_trait]
pub trait LogoutNotifier: Send + Sync {
    /// Sends one Logout Token once.
    async fn deliver(&self, message: &BackChannelLogout) -> DeliveryResult;
}

/// A user store idforge is connected to and does not own (WSO2 IS 7.3 secondary user stores,
/// Keycloak user federation): the host's LDAP directory, SCIM service or its own tables. The
/// user, the password and every attribute not placed locally
/// ([`AttributePlacement`](crate::users::AttributePlacement)) live there;
/// [`FederatedUsers`](crate::users::FederatedUsers) merges it with the
/// [`LocalAttributeStore`]. This is the minimal set that merge needs: read a user, check a
/// password, find users, write attributes.
#[async_trait]
pub trait ConnectedUserStore: Send + Sync {
    /// The attributes of `subject` (without `sub`), or `None` if the store has no such user.
    async fn user_attributes(&self, subject: &str) -> Result<Option<Map<String, Value>>>;
    /// The subject if `password` is right for `username`, else `None`. Must take the same time
    /// for unknown users as for wrong passwords.
    async fn verify_password(&self, username: &str, password: &str) -> Result<Option<String>>;
    /// The subjects of every user whose attributes equal all of `attributes` (name, value;
    /// `username` is the login name), as [`UserLookup::find_users`].
    async fn find_subjects(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>>;
    /// Applies `changes` (attribute → value, `null` removes) to `subject` at once, or nothing:
    /// [`Written::ReadOnly`](crate::users::Written::ReadOnly) for a store that takes no
    /// writes (the default).
    async fn write_attributes(
        &self,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<crate::users::Written> {
        let _ = (subject, changes);
        Ok(crate::users::Written::ReadOnly)
    }
}

/// idforge's own storage of the attributes placed locally for users of connected stores,
/// keyed by (connected store name, subject, attribute name). Values are JSON values.
///
/// [`write_local`](Self::write_local) is atomic per call (all changes or none) and per attribute
/// (concurrent writes of different attributes of one user both stay).
#[async_trait]
pub trait LocalAttributeStore: Send + Sync {
    /// The local attributes of `subject` of connected store `store` (empty if none).
    async fn local_attributes(&self, store: &str, subject: &str) -> Result<Map<String, Value>>;
    /// Applies `changes` (attribute → value; `null` removes it) at once. A removal is
    /// remembered: [`seed_local`](Self::seed_local) does not set the attribute again (a value
    /// written later, then imported from its source, would otherwise come back after a
    /// removal), while reads and lookups never see it.
    async fn write_local(
        &self,
        store: &str,
        subject: &str,
        changes: &Map<String, Value>,
    ) -> Result<()>;
    /// Sets each of `values` that `subject` has no local value of yet and never had removed
    /// (atomically per attribute: a concurrent [`write_local`](Self::write_local) is never
    /// overwritten); returns how many were set. Imports initial values from a connected store.
    async fn seed_local(
        &self,
        store: &str,
        subject: &str,
        values: &Map<String, Value>,
    ) -> Result<usize>;
    /// The subjects of `store` whose local string attributes equal all of `attributes`
    /// (compared exactly; an empty list matches nobody).
    async fn find_local(&self, store: &str, attributes: &[(&str, &str)]) -> Result<Vec<String>>;
    /// Forgets every local attribute of `subject` of `store`, removals included (the user left
    /// the connected store); `true` if there were any values.
    async fn forget_local(&self, store: &str, subject: &str) -> Result<bool>;
}
