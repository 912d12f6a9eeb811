//! The device authorization grant's model (RFC 8628): user codes, the stored device
//! authorization and its state machine (`Pending → Approved | Denied | Expired → Redeemed`),
//! the outcomes of the atomic store operations, the grant's settings, and the app-native
//! user-code submission (WSO2 IS 7.3 API-based device flow).
//!
//! Every transition is a pure method over the record and `now`, returning the next record or a
//! typed outcome; a [`DeviceCodeStore`](crate::ports::DeviceCodeStore) applies it atomically.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::secret::TokenHash;

/// The `grant_type` of the device authorization grant (RFC 8628 §3.4).
pub const DEVICE_CODE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// RFC 8628 §6.1: the user-code character set, consonants only ("BCDFGHJKLMNPQRSTVWXZ": no
/// vowels, so no words; no easily confused characters).
pub const USER_CODE_ALPHABET: &[u8; 20] = b"BCDFGHJKLMNPQRSTVWXZ";

/// RFC 8628 §6.1: 8 characters from [`USER_CODE_ALPHABET`] (20^8 ≈ 2^34.6 values).
pub const USER_CODE_LEN: usize = 8;

/// RFC 8628 §3.5: "the interval MUST be increased by 5 seconds for this and all subsequent
/// requests" after a `slow_down`.
pub const SLOW_DOWN_INCREMENT: i64 = 5;

/// How long an expired device authorization is kept, so that polls after expiry are answered
/// `expired_token` (RFC 8628 §3.5) rather than `invalid_grant`.
pub const EXPIRED_RETENTION_SECONDS: i64 = 3600;

/// Longest user-code input looked at (spaces and dashes included); longer is not a user code.
pub const MAX_USER_CODE_INPUT: usize = 64;

/// A user code, normalized: 8 characters of [`USER_CODE_ALPHABET`], upper case.
#[derive(Clone, PartialEq, Eq)]
pub struct UserCode(String);

impl std::fmt::Debug for UserCode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A live user code is a credential: keep it out of logs.
        f.write_str("UserCode(..)")
    }
}

impl UserCode {
    /// Parses what a user typed: RFC 8628 §6.1 "case-insensitive" and ignoring the `-`
    /// separator and spaces. Anything else is `None` (not a user code).
    pub fn parse(input: &str) -> Option<UserCode> {
        if input.len() > MAX_USER_CODE_INPUT {
            return None;
        }
        let mut out = String::with_capacity(USER_CODE_LEN);
        for c in input.chars() {
            if c == '-' || c.is_whitespace() {
                continue;
            }
            let u = c.to_ascii_uppercase();
            if !u.is_ascii() || !USER_CODE_ALPHABET.contains(&(u as u8)) {
                return None;
            }
            out.push(u);
        }
        (out.len() == USER_CODE_LEN).then_some(UserCode(out))
    }

    /// A user code from `USER_CODE_LEN` alphabet indices (each `< 20`).
    pub fn from_indices(indices: &[u8; USER_CODE_LEN]) -> UserCode {
        UserCode(
            indices
                .iter()
                .map(|i| char::from(USER_CODE_ALPHABET[usize::from(*i) % USER_CODE_ALPHABET.len()]))
                .collect(),
        )
    }

    /// The code as shown to the user: `XXXX-XXXX` (RFC 8628 §6.1).
    pub fn display(&self) -> String {
        format!("{}-{}", &self.0[..4], &self.0[4..])
    }

    /// The code without separator (what the store's hash is taken of).
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The hash stores key the code by (never the code itself).
    pub fn hash(&self) -> TokenHash {
        TokenHash::namespaced("user_code", &self.0)
    }
}

/// Who approved, as recorded on the device authorization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceApproval {
    /// The resource owner.
    pub subject: String,
    /// When they authenticated.
    pub auth_time: i64,
    /// How (`amr`).
    pub amr: Vec<String>,
}

impl DeviceApproval {
    /// `subject` authenticated at `auth_time` with methods `amr`.
    pub fn new(subject: impl Into<String>, auth_time: i64, amr: Vec<String>) -> Self {
        DeviceApproval {
            subject: subject.into(),
            auth_time,
            amr,
        }
    }
}

/// The lifecycle of a device authorization (RFC 8628 §3.3–§3.5). `Expired` is not stored: it is
/// what any unredeemed state reads as at or after `expires_at` ([`DeviceAuthorization::state_at`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub enum DeviceState {
    /// Waiting for the user.
    Pending,
    /// The user approved; the next poll of the client redeems it.
    Approved(DeviceApproval),
    /// The user denied (RFC 8628 §3.5 `access_denied`).
    Denied,
    /// Past `expires_at` without redemption (RFC 8628 §3.5 `expired_token`).
    Expired,
    /// Tokens were issued at `at`; the device code is spent.
    Redeemed {
        /// When.
        at: i64,
    },
}

/// A stored device authorization request (RFC 8628 §3.1–§3.2), keyed by the hashes of its
/// device code and user code.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct DeviceAuthorization {
    /// SHA-256 of the device code.
    pub device_code: TokenHash,
    /// Hash of the normalized user code ([`UserCode::hash`]).
    pub user_code: TokenHash,
    /// The client that asked; only it may poll (RFC 8628 §3.4: the `client_id` is required).
    pub client_id: String,
    /// The scopes asked for.
    pub scopes: Scopes,
    /// When it was made.
    pub created_at: i64,
    /// When the codes expire (`expires_in` after creation).
    pub expires_at: i64,
    /// The current minimum polling interval, in seconds (grows on `slow_down`).
    pub interval: i64,
    /// When the client last polled.
    pub last_poll: Option<i64>,
    /// The stored state (never [`DeviceState::Expired`]).
    pub state: DeviceState,
}

/// What a poll of the token endpoint finds ([`DeviceAuthorization::poll`]).
// Short-lived return values, moved once: boxing would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum PollOutcome {
    /// RFC 8628 §3.5 `authorization_pending`.
    Pending,
    /// RFC 8628 §3.5 `slow_down`; the interval is now this many seconds.
    SlowDown {
        /// The new interval.
        interval: i64,
    },
    /// Approved and now redeemed by this caller (exactly one poll sees this).
    Redeemed(DeviceAuthorization, DeviceApproval),
    /// RFC 8628 §3.5 `access_denied`.
    Denied,
    /// RFC 8628 §3.5 `expired_token`.
    Expired,
    /// Already redeemed, unknown, or of another client: `invalid_grant`.
    NotFound,
}

impl PollOutcome {
    /// The token-endpoint error of an outcome that issues no token (RFC 8628 §3.5), `None` for
    /// [`PollOutcome::Redeemed`].
    pub fn error(&self) -> Option<Error> {
        Some(match self {
            PollOutcome::Pending => Error::protocol(
                "authorization_pending",
                400,
                "the user has not yet completed the authorization",
            ),
            PollOutcome::SlowDown { .. } => Error::protocol(
                "slow_down",
                400,
                "polling too fast: the interval is increased by 5 seconds",
            ),
            PollOutcome::Denied => Error::AccessDenied("the user denied the request".into()),
            PollOutcome::Expired => {
                Error::protocol("expired_token", 400, "the device_code has expired")
            }
            PollOutcome::NotFound => {
                Error::InvalidGrant("the device_code is invalid or already used".into())
            }
            PollOutcome::Redeemed(..) => return None,
        })
    }
}

/// The user's answer on the verification page or API.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UserDecision {
    /// Approve, as this authenticated user.
    Approve(DeviceApproval),
    /// Deny.
    Deny,
}

/// What a user's decision did ([`DeviceAuthorization::decide`]).
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DecideOutcome {
    /// Now approved.
    Approved(DeviceAuthorization),
    /// Now denied.
    Denied(DeviceAuthorization),
    /// Past its expiry (`expired_token`).
    Expired,
    /// Already decided or redeemed, or unknown (`invalid_grant`).
    NotFound,
}

/// Why a device authorization cannot move to the next state.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TransitionError {
    /// It expired.
    #[error("the device authorization has expired")]
    Expired,
    /// It is no longer pending (decided or redeemed).
    #[error("the device authorization was already decided or redeemed")]
    NotPending,
    /// It is not approved (so it cannot be redeemed).
    #[error("the device authorization is not approved")]
    NotApproved,
}

impl DeviceAuthorization {
    /// A pending authorization made at `now`, living `expires_in` seconds, polled no faster
    /// than every `interval` seconds.
    pub fn new(
        device_code: TokenHash,
        user_code: TokenHash,
        client_id: impl Into<String>,
        scopes: Scopes,
        now: i64,
        expires_in: i64,
        interval: i64,
    ) -> Self {
        DeviceAuthorization {
            device_code,
            user_code,
            client_id: client_id.into(),
            scopes,
            created_at: now,
            expires_at: now.saturating_add(expires_in),
            interval,
            last_poll: None,
            state: DeviceState::Pending,
        }
    }

    /// Until when a store keeps the record: [`EXPIRED_RETENTION_SECONDS`] past its expiry, so a
    /// late poll still reads `expired_token`.
    pub fn retain_until(&self) -> i64 {
        self.expires_at.saturating_add(EXPIRED_RETENTION_SECONDS)
    }

    /// The state at `now`: [`DeviceState::Expired`] once `expires_at` is reached, unless already
    /// redeemed.
    pub fn state_at(&self, now: i64) -> DeviceState {
        match &self.state {
            DeviceState::Redeemed { .. } => self.state.clone(),
            _ if now >= self.expires_at => DeviceState::Expired,
            s => s.clone(),
        }
    }

    /// `Pending → Approved | Denied` (RFC 8628 §3.3: the user approves or denies).
    pub fn decide(&self, decision: UserDecision, now: i64) -> Result<Self, TransitionError> {
        match self.state_at(now) {
            DeviceState::Pending => {
                let mut next = self.clone();
                next.state = match decision {
                    UserDecision::Approve(a) => DeviceState::Approved(a),
                    UserDecision::Deny => DeviceState::Denied,
                };
                Ok(next)
            }
            DeviceState::Expired => Err(TransitionError::Expired),
            _ => Err(TransitionError::NotPending),
        }
    }

    /// `Approved → Redeemed` (single use: a redeemed record never redeems again).
    pub fn redeem(&self, now: i64) -> Result<(Self, DeviceApproval), TransitionError> {
        match self.state_at(now) {
            DeviceState::Approved(a) => {
                let mut next = self.clone();
                next.state = DeviceState::Redeemed { at: now };
                Ok((next, a))
            }
            DeviceState::Expired => Err(TransitionError::Expired),
            _ => Err(TransitionError::NotApproved),
        }
    }

    /// One poll of the token endpoint by `client_id` at `now` (RFC 8628 §3.4, §3.5): the
    /// updated record to store (if any) and what to answer.
    ///
    /// - another client's poll changes nothing and is [`PollOutcome::NotFound`];
    /// - expired: `expired_token`; denied: `access_denied`; already redeemed: `invalid_grant`;
    /// - approved: redeemed by this poll (the store applies it atomically, so exactly one of
    ///   concurrent polls gets the tokens);
    /// - pending: a poll sooner than `interval` after the previous one is `slow_down` and adds
    ///   [`SLOW_DOWN_INCREMENT`] to the interval; either way the poll time is recorded, so of
    ///   two concurrent polls at most one passes as `authorization_pending`.
    pub fn poll(&self, client_id: &str, now: i64) -> (Option<Self>, PollOutcome) {
        if self.client_id != client_id {
            return (None, PollOutcome::NotFound);
        }
        match self.state_at(now) {
            DeviceState::Expired => (None, PollOutcome::Expired),
            DeviceState::Denied => (None, PollOutcome::Denied),
            DeviceState::Redeemed { .. } => (None, PollOutcome::NotFound),
            DeviceState::Approved(_) => match self.redeem(now) {
                Ok((next, approval)) => (Some(next.clone()), PollOutcome::Redeemed(next, approval)),
                Err(_) => (None, PollOutcome::NotFound),
            },
            DeviceState::Pending => {
                let mut next = self.clone();
                let too_fast = self
                    .last_poll
                    .is_some_and(|last| now.saturating_sub(last) < self.interval);
                next.last_poll = Some(now);
                if too_fast {
                    next.interval = self.interval.saturating_add(SLOW_DOWN_INCREMENT);
                    let interval = next.interval;
                    (Some(next), PollOutcome::SlowDown { interval })
                } else {
                    (Some(next), PollOutcome::Pending)
                }
            }
        }
    }
}

/// Settings of the device authorization grant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
#[non_exhaustive]
pub struct DeviceSettings {
    /// Path of the device authorization endpoint (RFC 8628 §3.1) under the issuer.
    pub device_authorization_path: String,
    /// Path of the verification page (RFC 8628 §3.2 `verification_uri`) under the issuer.
    pub verification_path: String,
    /// Lifetime of device and user codes, in seconds (`expires_in`). A client may set its own
    /// with the registration member `device_code_expiry_seconds`.
    pub expires_in: i64,
    /// Minimum polling interval, in seconds (`interval`, RFC 8628 §3.2 default 5).
    pub interval: i64,
    /// User-code attempts allowed per client IP address within `attempt_window` (RFC 8628
    /// §5.1 brute force).
    pub max_attempts_per_ip: u32,
    /// Credential attempts allowed per device code within `attempt_window`.
    pub max_attempts_per_code: u32,
    /// The window of the attempt limits, in seconds.
    pub attempt_window: i64,
}

impl Default for DeviceSettings {
    fn default() -> Self {
        DeviceSettings {
            device_authorization_path: "/device_authorization".into(),
            verification_path: "/device".into(),
            expires_in: 600,
            interval: 5,
            max_attempts_per_ip: 20,
            max_attempts_per_code: 5,
            attempt_window: 300,
        }
    }
}

/// Why device settings are unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DeviceSettingsError {
    /// A lifetime, interval or limit is not positive.
    #[error("device settings: {0} must be positive")]
    NotPositive(&'static str),
    /// A path does not start with `/`.
    #[error("device settings: {0} must start with `/`")]
    Path(&'static str),
}

impl DeviceSettings {
    /// The defaults: 600 s codes, 5 s interval, `/device_authorization` and `/device`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the code lifetime.
    pub fn with_expires_in(mut self, seconds: i64) -> Self {
        self.expires_in = seconds;
        self
    }

    /// Sets the polling interval.
    pub fn with_interval(mut self, seconds: i64) -> Self {
        self.interval = seconds;
        self
    }

    /// Sets the attempt limits (per IP address, per device code, window in seconds).
    pub fn with_attempt_limits(mut self, per_ip: u32, per_code: u32, window: i64) -> Self {
        self.max_attempts_per_ip = per_ip;
        self.max_attempts_per_code = per_code;
        self.attempt_window = window;
        self
    }

    /// Checks every value.
    pub fn validate(&self) -> Result<(), DeviceSettingsError> {
        for (name, v) in [
            ("expires_in", self.expires_in),
            ("interval", self.interval),
            ("attempt_window", self.attempt_window),
            ("max_attempts_per_ip", i64::from(self.max_attempts_per_ip)),
            (
                "max_attempts_per_code",
                i64::from(self.max_attempts_per_code),
            ),
        ] {
            if v <= 0 {
                return Err(DeviceSettingsError::NotPositive(name));
            }
        }
        for (name, p) in [
            ("device_authorization_path", &self.device_authorization_path),
            ("verification_path", &self.verification_path),
        ] {
            if !p.starts_with('/') {
                return Err(DeviceSettingsError::Path(name));
            }
        }
        Ok(())
    }
}

/// The user's choice on the verification page or API (`decision`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DecisionKind {
    /// `approve`.
    Approve,
    /// `deny`.
    Deny,
}

impl DecisionKind {
    /// Parses `approve` / `deny`.
    pub fn parse(s: &str) -> Option<DecisionKind> {
        match s {
            "approve" => Some(DecisionKind::Approve),
            "deny" => Some(DecisionKind::Deny),
            _ => None,
        }
    }
}

/// Largest app-native submission body accepted.
pub const MAX_SUBMISSION_BYTES: usize = 4096;

/// A user-code submission: the HTML form's or the app-native JSON API's
/// `{"user_code", "username", "password", "decision"}`.
#[derive(Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UserCodeSubmission {
    /// What the user typed as the code (normalized later, [`UserCode::parse`]).
    pub user_code: String,
    /// The user's login name.
    pub username: String,
    /// The user's password.
    pub password: String,
    /// Approve or deny.
    pub decision: DecisionKind,
}

impl std::fmt::Debug for UserCodeSubmission {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("UserCodeSubmission")
            .field("username", &self.username)
            .field("decision", &self.decision)
            .finish_non_exhaustive()
    }
}

impl UserCodeSubmission {
    /// A submission from its parts.
    pub fn new(
        user_code: impl Into<String>,
        username: impl Into<String>,
        password: impl Into<String>,
        decision: DecisionKind,
    ) -> Self {
        UserCodeSubmission {
            user_code: user_code.into(),
            username: username.into(),
            password: password.into(),
            decision,
        }
    }

    /// Parses the app-native JSON body: an object with the four string members (others are
    /// ignored). Too large, not JSON, a member missing or not a string, or a `decision` other
    /// than `approve`/`deny`: `invalid_request`.
    pub fn from_json(body: &[u8]) -> Result<Self> {
        let bad = |d: &str| Error::InvalidRequest(d.to_owned());
        if body.len() > MAX_SUBMISSION_BYTES {
            return Err(bad("the request body is too large"));
        }
        let v: Value =
            serde_json::from_slice(body).map_err(|_| bad("the request body is not JSON"))?;
        let obj = v.as_object().ok_or_else(|| bad("expected a JSON object"))?;
        let field = |name: &str| -> Result<String> {
            match obj.get(name) {
                Some(Value::String(s)) if !s.is_empty() => Ok(s.clone()),
                _ => Err(Error::InvalidRequest(format!("`{name}` is required"))),
            }
        };
        let decision = DecisionKind::parse(&field("decision")?)
            .ok_or_else(|| bad("`decision` must be `approve` or `deny`"))?;
        Ok(UserCodeSubmission {
            user_code: field("user_code")?,
            username: field("username")?,
            password: field("password")?,
            decision,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn auth(now: i64) -> DeviceAuthorization {
        DeviceAuthorization::new(
            TokenHash::of("dc"),
            UserCode::parse("BCDF-GHJK").unwrap().hash(),
            "tv",
            Scopes::from_values(["openid"]),
            now,
            600,
            5,
        )
    }

    #[test]
    fn user_codes_are_matched_case_insensitively_ignoring_dashes_and_spaces() {
        // RFC 8628 §6.1.
        let a = UserCode::parse("WDJB-MJHT").unwrap();
        for typed in ["wdjb-mjht", "WDJBMJHT", " wdjb mjht ", "Wd-Jb-Mj-Ht"] {
            assert_eq!(UserCode::parse(typed).unwrap(), a, "{typed}");
        }
        assert_eq!(a.display(), "WDJB-MJHT");
        for bad in [
            "WDJB-MJH",
            "WDJB-MJHTX",
            "AEIO-UAEI",
            "WDJB_MJHT",
            "WDJB-MJH1",
            "",
        ] {
            assert!(UserCode::parse(bad).is_none(), "{bad}");
        }
        assert!(UserCode::parse(&"-".repeat(100)).is_none());
        assert_eq!(format!("{a:?}"), "UserCode(..)");
    }

    #[test]
    fn from_indices_stays_in_the_alphabet() {
        let c = UserCode::from_indices(&[0, 1, 2, 3, 16, 17, 18, 19]);
        assert_eq!(c.display(), "BCDF-VWXZ");
    }

    #[test]
    fn pending_polls_slow_down_when_too_fast() {
        let a = auth(100);
        let (a, o) = a.poll("tv", 105);
        assert_eq!(o, PollOutcome::Pending);
        let a = a.unwrap();
        // Sooner than 5 s after the last poll: slow_down, interval 10 (RFC 8628 §3.5).
        let (a, o) = a.poll("tv", 107);
        assert_eq!(o, PollOutcome::SlowDown { interval: 10 });
        let a = a.unwrap();
        let (a, o) = a.poll("tv", 114);
        assert_eq!(o, PollOutcome::SlowDown { interval: 15 });
        let (_, o) = a.unwrap().poll("tv", 130);
        assert_eq!(o, PollOutcome::Pending);
        assert!(o.error().unwrap().code() == "authorization_pending");
    }

    #[test]
    fn transitions() {
        let a = auth(100);
        let approval = DeviceApproval::new("alice", 120, vec!["pwd".into()]);
        let approved = a
            .decide(UserDecision::Approve(approval.clone()), 120)
            .unwrap();
        assert_eq!(
            approved.decide(UserDecision::Deny, 121),
            Err(TransitionError::NotPending)
        );
        // Another client's poll neither redeems nor changes anything.
        assert_eq!(approved.poll("other", 125), (None, PollOutcome::NotFound));
        let (next, o) = approved.poll("tv", 125);
        let redeemed = next.unwrap();
        assert_eq!(o, PollOutcome::Redeemed(redeemed.clone(), approval));
        assert_eq!(redeemed.poll("tv", 130), (None, PollOutcome::NotFound));
        assert_eq!(redeemed.state_at(10_000), DeviceState::Redeemed { at: 125 });
        assert_eq!(redeemed.redeem(130), Err(TransitionError::NotApproved));

        let denied = a.decide(UserDecision::Deny, 120).unwrap();
        assert_eq!(denied.poll("tv", 125).1, PollOutcome::Denied);
        assert_eq!(
            denied.poll("tv", 125).1.error().unwrap().code(),
            "access_denied"
        );

        // Expired: answerable after expiry, not invalid_grant.
        assert_eq!(a.poll("tv", 700).1, PollOutcome::Expired);
        assert_eq!(a.state_at(700), DeviceState::Expired);
        assert_eq!(
            a.decide(UserDecision::Deny, 700),
            Err(TransitionError::Expired)
        );
        assert_eq!(approved.poll("tv", 700).1, PollOutcome::Expired);
        assert_eq!(
            PollOutcome::Expired.error().unwrap().code(),
            "expired_token"
        );
        assert_eq!(a.retain_until(), 700 + EXPIRED_RETENTION_SECONDS);
    }

    #[test]
    fn submissions_parse_strictly() {
        let s = UserCodeSubmission::from_json(
            br#"{"user_code":"WDJB-MJHT","username":"alice","password":"pw","decision":"approve"}"#,
        )
        .unwrap();
        assert_eq!(s.decision, DecisionKind::Approve);
        assert!(!format!("{s:?}").contains("pw\""));
        for bad in [
            &br#"{"user_code":"x","username":"a","password":"p","decision":"maybe"}"#[..],
            br#"{"user_code":"x","username":"a","decision":"deny"}"#,
            br#"{"user_code":1,"username":"a","password":"p","decision":"deny"}"#,
            br#"[]"#,
            b"not json",
        ] {
            let e = UserCodeSubmission::from_json(bad).unwrap_err();
            assert_eq!(e.code(), "invalid_request");
        }
        let big = vec![b' '; MAX_SUBMISSION_BYTES + 1];
        assert!(UserCodeSubmission::from_json(&big).is_err());
    }

    #[test]
    fn settings_validate() {
        assert!(DeviceSettings::new().validate().is_ok());
        assert_eq!(
            DeviceSettings::new().with_interval(0).validate(),
            Err(DeviceSettingsError::NotPositive("interval"))
        );
        let mut s = DeviceSettings::new();
        s.verification_path = "device".into();
        assert_eq!(
            s.validate(),
            Err(DeviceSettingsError::Path("verification_path"))
        );
    }
}
