//! Login sessions: the record a [`SessionStore`](crate::ports::SessionStore) keeps, the
//! provider's [`SessionPolicy`] (idle, remember-me and absolute timeouts, WSO2 Identity Server
//! semantics) and the pure expiry rules over a record and `now`.
//!
//! A session is identified by its `sid` (OIDC Front-Channel Logout 1.0 §3, Back-Channel Logout
//! 1.0 §2.1): opaque, at least 128 bits from the injected [`Rng`]. The `sid` is told to relying
//! parties (ID tokens, logout tokens, front-channel URIs), so it is not a bearer secret: a host
//! binds its session cookie to the session some other way (`idforge serve` seals it).
//!
//! Expiry, checked by [`SessionRecord::status`] and swept by the store:
//! - **idle**: a session unused for its idle window ends; every use
//!   ([`touch`](crate::ports::SessionStore::touch)) restarts the window;
//! - **remember me**: the idle window of a session whose user ticked "remember me" is the longer
//!   [`SessionPolicy::remember_me_timeout`] (WSO2 "remember me period");
//! - **absolute**: when set, the session ends [`SessionPolicy::absolute_lifetime`] seconds after
//!   it was created however active it is (WSO2 IS 7.3; off by default).
//!
//! All three are half-open: a session is live while `now < deadline` and over from the deadline
//! second on, like every other lifetime in this crate.

use serde::{Deserialize, Serialize};

use crate::error::Result;
use crate::secret::{random_token, Rng};

/// Bytes of entropy of a `sid` (128 bits; ARCHITECTURE "Secrets" minimum for identifiers).
pub const SID_BYTES: usize = 16;

/// Draws a new session identifier: [`SID_BYTES`] random bytes, base64url (22 characters).
pub fn new_sid(rng: &dyn Rng) -> Result<String> {
    random_token(rng, SID_BYTES)
}

/// What happens to a user's sessions and grants when their password changes (WSO2 IS 7.3
/// "skip session revocation on password update"; the orgs crate sets it per organization).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PasswordUpdatePolicy {
    /// End every session of the user and revoke the grants issued in them (the safe default:
    /// whoever knew the old password is logged out).
    #[default]
    EndSessions,
    /// Keep the sessions and grants.
    Preserve,
}

/// The provider's session lifetimes, in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct SessionPolicy {
    /// Idle timeout: a session unused this long ends (WSO2 default 15 minutes).
    pub idle_timeout: i64,
    /// Idle timeout of a "remember me" session (WSO2 default 14 days).
    pub remember_me_timeout: i64,
    /// Absolute lifetime: a session ends this long after it was created, however active it
    /// is. `None` (the default) disables it.
    pub absolute_lifetime: Option<i64>,
    /// What a password update does to the user's sessions.
    pub password_update: PasswordUpdatePolicy,
}

impl Default for SessionPolicy {
    fn default() -> Self {
        SessionPolicy {
            idle_timeout: 15 * 60,
            remember_me_timeout: 14 * 24 * 3600,
            absolute_lifetime: None,
            password_update: PasswordUpdatePolicy::EndSessions,
        }
    }
}

impl SessionPolicy {
    /// A policy with these idle and remember-me timeouts, no absolute lifetime, and sessions
    /// ended on password update.
    pub fn new(idle_timeout: i64, remember_me_timeout: i64) -> SessionPolicy {
        SessionPolicy {
            idle_timeout,
            remember_me_timeout,
            ..SessionPolicy::default()
        }
    }

    /// Sets the absolute lifetime.
    pub fn with_absolute_lifetime(mut self, seconds: Option<i64>) -> SessionPolicy {
        self.absolute_lifetime = seconds;
        self
    }

    /// Sets the password update policy.
    pub fn with_password_update(mut self, policy: PasswordUpdatePolicy) -> SessionPolicy {
        self.password_update = policy;
        self
    }

    /// Checks the timeouts: all positive, and the remember-me one not shorter than the idle one
    /// (it extends the idle window, never shortens it). The error names the bad setting.
    /// [`Config::validate`](crate::Config::validate) runs it.
    pub fn validate(&self) -> std::result::Result<(), &'static str> {
        if self.idle_timeout <= 0 {
            return Err("sessions.idle_timeout");
        }
        if self.remember_me_timeout < self.idle_timeout {
            return Err("sessions.remember_me_timeout (at least the idle timeout)");
        }
        if self.absolute_lifetime.is_some_and(|s| s <= 0) {
            return Err("sessions.absolute_lifetime");
        }
        Ok(())
    }

    /// The idle window of a session with this remember-me choice.
    pub fn idle_window(&self, remember: RememberMe) -> i64 {
        match remember {
            RememberMe::No => self.idle_timeout,
            RememberMe::Yes => self.remember_me_timeout,
        }
    }
}

/// Whether the user asked to be remembered at login (the login form's `remember_me`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RememberMe {
    /// A normal session: the idle timeout applies.
    #[default]
    No,
    /// A remembered session: the remember-me timeout applies.
    Yes,
}

/// Where a session stands at some instant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionStatus {
    /// Live.
    Active,
    /// Unused for its whole idle (or remember-me) window.
    IdleExpired,
    /// Past its absolute lifetime.
    AbsoluteExpired,
}

/// A login session, as a [`SessionStore`](crate::ports::SessionStore) keeps it: plain data,
/// one row in a SQL table (the lists as JSON or child rows).
///
/// The timeouts are resolved from the [`SessionPolicy`] when the session is created
/// ([`SessionRecord::new`]) and stored with it, so a store can sweep without the policy and a
/// session keeps the rules it was created under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionRecord {
    /// Session identifier (≥ 128 bits, base64url), the store's key.
    pub sid: String,
    /// The logged-in user's subject identifier.
    pub subject: String,
    /// When the user authenticated (OIDC Core §2 `auth_time`).
    pub auth_time: i64,
    /// Authentication context class reached.
    pub acr: Option<String>,
    /// Authentication methods used (RFC 8176).
    pub amr: Vec<String>,
    /// Whether the user asked to be remembered.
    pub remember_me: RememberMe,
    /// Creation time.
    pub created_at: i64,
    /// Last use (login or [`touch`](crate::ports::SessionStore::touch)).
    pub last_active: i64,
    /// Idle window in seconds (the idle or the remember-me timeout).
    pub idle_timeout: i64,
    /// When the absolute lifetime ends (`None`: never).
    pub absolute_expires_at: Option<i64>,
    /// The clients that received an authorization code (and so tokens or ID tokens) in this
    /// session, in order, without duplicates: the logout fan-out.
    pub clients: Vec<String>,
    /// The grants issued in this session (revoked at logout, Back-Channel Logout §2.7).
    pub grants: Vec<String>,
}

impl SessionRecord {
    /// A session of `subject`, authenticated and created at `now`, with the lifetimes of
    /// `policy` for this remember-me choice.
    pub fn new(
        sid: impl Into<String>,
        subject: impl Into<String>,
        now: i64,
        remember_me: RememberMe,
        policy: &SessionPolicy,
    ) -> SessionRecord {
        SessionRecord {
            sid: sid.into(),
            subject: subject.into(),
            auth_time: now,
            acr: None,
            amr: Vec::new(),
            remember_me,
            created_at: now,
            last_active: now,
            idle_timeout: policy.idle_window(remember_me),
            absolute_expires_at: policy.absolute_lifetime.map(|s| now.saturating_add(s)),
            clients: Vec::new(),
            grants: Vec::new(),
        }
    }

    /// Sets the authentication time (when it differs from the creation time).
    pub fn with_auth_time(mut self, auth_time: i64) -> SessionRecord {
        self.auth_time = auth_time;
        self
    }

    /// Sets the authentication context class reached.
    pub fn with_acr(mut self, acr: Option<String>) -> SessionRecord {
        self.acr = acr;
        self
    }

    /// Sets the authentication methods used.
    pub fn with_amr(mut self, amr: Vec<String>) -> SessionRecord {
        self.amr = amr;
        self
    }

    /// When the idle window ends if the session is not used again.
    pub fn idle_deadline(&self) -> i64 {
        self.last_active.saturating_add(self.idle_timeout)
    }

    /// When the session ends if nothing happens: the earlier of the idle deadline and the
    /// absolute one. Stores index and sweep by it.
    pub fn expires_at(&self) -> i64 {
        match self.absolute_expires_at {
            Some(abs) => abs.min(self.idle_deadline()),
            None => self.idle_deadline(),
        }
    }

    /// Idle expiry: unused since `last_active` for the whole idle (or remember-me) window.
    pub fn idle_expired(&self, now: i64) -> bool {
        now >= self.idle_deadline()
    }

    /// Absolute expiry: at or past `absolute_expires_at`, whatever the activity.
    pub fn absolute_expired(&self, now: i64) -> bool {
        self.absolute_expires_at.is_some_and(|abs| now >= abs)
    }

    /// Where the session stands at `now` (absolute expiry reported first).
    pub fn status(&self, now: i64) -> SessionStatus {
        if self.absolute_expired(now) {
            SessionStatus::AbsoluteExpired
        } else if self.idle_expired(now) {
            SessionStatus::IdleExpired
        } else {
            SessionStatus::Active
        }
    }

    /// Whether the session is live at `now`.
    pub fn is_live(&self, now: i64) -> bool {
        self.status(now) == SessionStatus::Active
    }

    /// Use at `now` ([`SessionStore::touch`](crate::ports::SessionStore::touch)): restarts
    /// the idle window, never moving it back (a late, concurrent write cannot shorten it).
    pub fn touch(&mut self, now: i64) {
        self.last_active = self.last_active.max(now);
    }

    /// A new authentication of the session's user at `now` (OIDC Core §3.1.2.1 `prompt=login`,
    /// `max_age`; [`SessionStore::reauthenticate`](crate::ports::SessionStore::reauthenticate)).
    pub fn reauthenticate(&mut self, auth_time: i64, acr: Option<&str>, amr: &[String], now: i64) {
        self.auth_time = auth_time;
        self.acr = acr.map(str::to_owned);
        self.amr = amr.to_vec();
        self.touch(now);
    }

    /// `client_id` got tokens of `grant_id` in this session at `now`: each appended once, in
    /// order (the logout fan-out and the grants revoked at logout;
    /// [`SessionStore::record_grant`](crate::ports::SessionStore::record_grant)).
    pub fn record_grant(&mut self, client_id: &str, grant_id: &str, now: i64) {
        if !self.has_client(client_id) {
            self.clients.push(client_id.to_owned());
        }
        if !self.grants.iter().any(|g| g == grant_id) {
            self.grants.push(grant_id.to_owned());
        }
        self.touch(now);
    }

    /// Whether `client_id` got tokens in this session.
    pub fn has_client(&self, client_id: &str) -> bool {
        self.clients.iter().any(|c| c == client_id)
    }
}

/// The Back-Channel Logout 1.0 §2.4 event member name: `events` holds exactly this one, with
/// an empty object.
pub const BACKCHANNEL_LOGOUT_EVENT: &str = "http://schemas.openid.net/event/backchannel-logout";

/// The JWT `typ` of a Logout Token (Back-Channel Logout 1.0 §2.4).
pub const LOGOUT_TOKEN_TYP: &str = "logout+jwt";

/// A front-channel logout to render as an `<iframe src>` in the logout page (Front-Channel
/// Logout 1.0 §4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FrontChannelLogout {
    /// The relying party.
    pub client_id: String,
    /// Its `frontchannel_logout_uri`, with `iss` and `sid` added when it registered
    /// `frontchannel_logout_session_required`.
    pub uri: String,
}

/// A Logout Token to POST to a relying party (Back-Channel Logout 1.0 §2.5), as
/// `application/x-www-form-urlencoded` `logout_token=<JWT>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct BackChannelLogout {
    /// The relying party (the token's `aud`).
    pub client_id: String,
    /// Its `backchannel_logout_uri`.
    pub uri: String,
    /// The signed Logout Token.
    pub logout_token: String,
}

/// What delivering one [`BackChannelLogout`] came to (Back-Channel Logout 1.0 §2.8).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum DeliveryResult {
    /// The RP answered 200 (or 204): it logged the user out.
    Delivered,
    /// The RP answered with an error status (400: it refused the token); retrying the same
    /// token will not help.
    Rejected {
        /// The HTTP status.
        status: u16,
    },
    /// No answer (connection refused, timeout, 5xx): the host may retry while the token is
    /// unexpired.
    Failed {
        /// A short reason for the host's log (no token material).
        reason: String,
    },
}

impl DeliveryResult {
    /// Whether a retry may succeed.
    pub fn is_retryable(&self) -> bool {
        matches!(self, DeliveryResult::Failed { .. })
    }
}

/// A session that was ended and what the host must carry out for it: render
/// [`frontchannel`](Self::frontchannel) as iframes (when a browser is present) and deliver
/// [`backchannel`](Self::backchannel) through its
/// [`LogoutNotifier`](crate::ports::LogoutNotifier).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SessionEnded {
    /// The session as it was when it ended.
    pub session: SessionRecord,
    /// Front-channel logout iframes, one per RP of the session that registered a URI.
    pub frontchannel: Vec<FrontChannelLogout>,
    /// Logout Tokens, one per RP of the session that registered a back-channel URI.
    pub backchannel: Vec<BackChannelLogout>,
    /// Grants of the session that were revoked.
    pub revoked_grants: Vec<String>,
    /// Grants of the session kept because they carry `offline_access` (Back-Channel Logout
    /// 1.0 §2.7).
    pub kept_grants: Vec<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: i64 = 1_800_000_000;

    fn policy() -> SessionPolicy {
        SessionPolicy::new(900, 14 * 86_400)
    }

    #[test]
    fn idle_timeout_at_the_boundary_second() {
        let s = SessionRecord::new("sid", "alice", T, RememberMe::No, &policy());
        assert_eq!(s.status(T + 899), SessionStatus::Active);
        assert_eq!(s.status(T + 900), SessionStatus::IdleExpired);
        // Use restarts the window.
        let mut s = s;
        s.last_active = T + 800;
        assert_eq!(s.status(T + 1699), SessionStatus::Active);
        assert_eq!(s.status(T + 1700), SessionStatus::IdleExpired);
    }

    #[test]
    fn remember_me_timeout_at_the_boundary_second() {
        let s = SessionRecord::new("sid", "alice", T, RememberMe::Yes, &policy());
        assert_eq!(s.idle_timeout, 14 * 86_400);
        assert_eq!(s.status(T + 900), SessionStatus::Active);
        assert_eq!(s.status(T + 14 * 86_400 - 1), SessionStatus::Active);
        assert_eq!(s.status(T + 14 * 86_400), SessionStatus::IdleExpired);
    }

    #[test]
    fn absolute_lifetime_ends_an_active_session_at_the_boundary_second() {
        let p = policy().with_absolute_lifetime(Some(3600));
        let mut s = SessionRecord::new("sid", "alice", T, RememberMe::Yes, &p);
        s.last_active = T + 3599;
        assert_eq!(s.status(T + 3599), SessionStatus::Active);
        assert_eq!(s.status(T + 3600), SessionStatus::AbsoluteExpired);
        assert_eq!(s.expires_at(), T + 3600);
        // Off by default: only the idle window counts.
        let s = SessionRecord::new("sid", "alice", T, RememberMe::Yes, &policy());
        assert!(!s.absolute_expired(i64::MAX));
        assert_eq!(s.expires_at(), T + 14 * 86_400);
    }

    #[test]
    fn policy_validation() {
        assert!(SessionPolicy::default().validate().is_ok());
        assert!(SessionPolicy::new(0, 10).validate().is_err());
        assert!(SessionPolicy::new(600, 60).validate().is_err());
        assert!(policy().with_absolute_lifetime(Some(0)).validate().is_err());
    }

    #[test]
    fn sid_has_128_bits_from_the_rng() {
        struct Fixed;
        impl Rng for Fixed {
            fn fill(&self, buf: &mut [u8]) -> Result<()> {
                assert_eq!(buf.len(), SID_BYTES);
                buf.fill(0xab);
                Ok(())
            }
        }
        let sid = new_sid(&Fixed).unwrap();
        assert_eq!(
            idforge_jose::b64::decode(&sid, "sid").unwrap(),
            vec![0xab; 16]
        );
    }
}
