//! Login sessions in `idforge serve`: the `[sessions]` configuration, the session cookie, and
//! the login form's `remember_me`.
//!
//! The cookie `idforge_session` carries the session's `sid` sealed (HMAC under the provider's
//! per-process key, with a fresh random nonce per login, so its value is unguessable, bound to
//! the session and rotated on every login). The `sid` itself is told to relying parties (ID
//! tokens, logout tokens), which is why the cookie is not the bare `sid`. Attributes:
//! `HttpOnly`, `SameSite=Lax`, `Secure` when the issuer is https, `Path` the issuer's path,
//! and `Max-Age` only for a "remember me" session (otherwise it ends with the browser).

use axum::http::header::{COOKIE, SET_COOKIE};
use axum::http::{HeaderMap, HeaderValue};
use idforge_oauth_core::{
    LoginOutcome, PasswordUpdatePolicy, RememberMe, Session, SessionPolicy, SessionRecord,
};
use serde::{Deserialize, Serialize};

use crate::config::ConfigError;
use crate::oauth::OAuth;
use crate::seal::{Purpose, Sealer};

/// The session cookie's name.
pub(crate) const COOKIE_NAME: &str = "idforge_session";

/// Browsers cap cookie lifetimes at 400 days (RFC 6265bis §5.6.1); the sealed value lasts as
/// long when the session has no absolute lifetime (the store decides whether it is live).
const MAX_COOKIE_SECONDS: i64 = 400 * 86_400;

/// The `[sessions]` table.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct SessionsConfig {
    /// A session unused this long ends (default 15).
    pub idle_timeout_minutes: i64,
    /// The idle timeout of a "remember me" session (default 20160, two weeks).
    pub remember_me_timeout_minutes: i64,
    /// A session ends this long after login however active it is; absent: never.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub absolute_lifetime_minutes: Option<i64>,
    /// Keep a user's sessions and grants when their password changes (WSO2 IS 7.3 "skip
    /// session revocation on password update"); default false: end them.
    pub preserve_on_password_update: bool,
}

impl Default for SessionsConfig {
    fn default() -> Self {
        SessionsConfig {
            idle_timeout_minutes: 15,
            remember_me_timeout_minutes: 14 * 24 * 60,
            absolute_lifetime_minutes: None,
            preserve_on_password_update: false,
        }
    }
}

impl SessionsConfig {
    /// Whether nothing is set (the table is then left out when serialized).
    pub fn is_default(&self) -> bool {
        *self == SessionsConfig::default()
    }

    /// oauth-core's policy (seconds).
    pub fn policy(&self) -> SessionPolicy {
        let minutes = |m: i64| m.saturating_mul(60);
        SessionPolicy::new(
            minutes(self.idle_timeout_minutes),
            minutes(self.remember_me_timeout_minutes),
        )
        .with_absolute_lifetime(self.absolute_lifetime_minutes.map(minutes))
        .with_password_update(if self.preserve_on_password_update {
            PasswordUpdatePolicy::Preserve
        } else {
            PasswordUpdatePolicy::EndSessions
        })
    }

    /// Positive minutes, and a remember-me timeout at least the idle one.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        let positive = [
            ("idle_timeout_minutes", Some(self.idle_timeout_minutes)),
            (
                "remember_me_timeout_minutes",
                Some(self.remember_me_timeout_minutes),
            ),
            ("absolute_lifetime_minutes", self.absolute_lifetime_minutes),
        ];
        for (name, v) in positive {
            if v.is_some_and(|m| m <= 0) {
                return Err(ConfigError::Sessions(format!(
                    "{name} must be a positive number of minutes"
                )));
            }
        }
        self.policy()
            .validate()
            .map_err(|field| ConfigError::Sessions(format!("{field} is not usable")))
    }
}

/// What the session cookie needs next to the provider.
pub(crate) struct SessionHost {
    sealer: Sealer,
    /// `Path` of the cookie: the issuer's path, or `/`.
    path: String,
    /// `Secure` when the issuer is https.
    secure: bool,
}

impl std::fmt::Debug for SessionHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SessionHost")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

/// The cookie's sealed content: the `sid` and a nonce making every login's value new.
#[derive(Serialize, Deserialize)]
struct CookieValue {
    sid: String,
    nonce: String,
}

impl SessionHost {
    /// For an issuer `issuer` whose path is `issuer_path`; `None` if the random source fails.
    #[cfg(test)]
    pub(crate) fn new(issuer: &str, issuer_path: &str) -> Option<SessionHost> {
        Some(SessionHost::with_sealer(
            issuer,
            issuer_path,
            Sealer::random()?,
        ))
    }

    /// [`new`](Self::new) sealing the cookie with `sealer` (under `--database`, a key every
    /// process shares, so a session cookie set by one is read by the others).
    pub(crate) fn with_sealer(issuer: &str, issuer_path: &str, sealer: Sealer) -> SessionHost {
        SessionHost {
            sealer,
            path: if issuer_path.is_empty() {
                "/".to_owned()
            } else {
                issuer_path.to_owned()
            },
            secure: issuer.starts_with("https://"),
        }
    }

    /// The `sid` of the first `idforge_session` cookie in `headers` this host sealed (a
    /// browser may send another issuer's cookie of the same name too).
    pub(crate) fn sid(&self, headers: &HeaderMap, now: i64) -> Option<String> {
        headers
            .get_all(COOKIE)
            .iter()
            .filter_map(|v| v.to_str().ok())
            .flat_map(|v| v.split(';'))
            .filter_map(|pair| pair.trim().split_once('='))
            .filter(|(name, _)| *name == COOKIE_NAME)
            .find_map(|(_, value)| {
                self.sealer
                    .open::<CookieValue>(Purpose::Session, value, now)
                    .map(|c| c.sid)
            })
    }

    /// The `Set-Cookie` value binding the browser to `session` (a new value at every login).
    pub(crate) fn cookie(&self, session: &SessionRecord, now: i64) -> Option<HeaderValue> {
        let mut nonce = [0u8; 16];
        idforge_jose::crypto::random_bytes(&mut nonce).ok()?;
        let ttl = session
            .absolute_expires_at
            .map_or(MAX_COOKIE_SECONDS, |at| at.saturating_sub(now))
            .clamp(1, MAX_COOKIE_SECONDS);
        let value = CookieValue {
            sid: session.sid.clone(),
            nonce: idforge_jose::b64::encode(nonce),
        };
        let sealed = self.sealer.seal_for(Purpose::Session, &value, now, ttl)?;
        let max_age = match session.remember_me {
            RememberMe::Yes => format!("; Max-Age={}", session.idle_timeout.min(ttl)),
            RememberMe::No => String::new(),
        };
        self.header(&sealed, &max_age)
    }

    /// The `Set-Cookie` value that deletes the cookie (at logout).
    pub(crate) fn clear(&self) -> Option<HeaderValue> {
        self.header("", "; Max-Age=0")
    }

    fn header(&self, value: &str, max_age: &str) -> Option<HeaderValue> {
        let secure = if self.secure { "; Secure" } else { "" };
        HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={value}; Path={}; HttpOnly; SameSite=Lax{secure}{max_age}",
            self.path
        ))
        .ok()
    }
}

/// The browser's live session as the authorization endpoint takes it (its use restarts the
/// idle window), or `None`. Consent is implied for the configured clients, so no consent
/// record is kept.
pub(crate) async fn current(state: &OAuth, headers: &HeaderMap) -> Option<Session> {
    let now = state.provider.ctx.clock.now();
    let sid = state.sessions.sid(headers, now)?;
    match state.provider.sessions.current(&sid).await {
        Ok(Some(record)) => Some(Session::from_record(&record, Vec::new())),
        _ => None,
    }
}

/// Records a successful login form: `remember_me` ticked or not, the browser's previous
/// session reauthenticated (same user) or replaced (another user, whose relying parties are
/// told by back-channel). Returns the session for the authorization endpoint and the cookie.
pub(crate) async fn login(
    state: &OAuth,
    headers: &HeaderMap,
    subject: String,
    remember_me: bool,
) -> Result<(Session, Option<HeaderValue>), idforge_oauth_core::Error> {
    let now = state.provider.ctx.clock.now();
    let previous = state.sessions.sid(headers, now);
    let remember = if remember_me {
        RememberMe::Yes
    } else {
        RememberMe::No
    };
    let login =
        idforge_oauth_core::Login::new(subject, now, vec!["pwd".into()]).with_remember_me(remember);
    let LoginOutcome {
        session, replaced, ..
    } = state
        .provider
        .sessions
        .login(login, previous.as_deref())
        .await?;
    if let Some(ended) = replaced {
        crate::logout::deliver_in_background(&state.outbound, ended.backchannel);
    }
    let cookie = state.sessions.cookie(&session, now);
    Ok((Session::from_record(&session, Vec::new()), cookie))
}

/// Adds `Set-Cookie: cookie` to `response`.
pub(crate) fn with_cookie(
    mut response: axum::response::Response,
    cookie: Option<HeaderValue>,
) -> axum::response::Response {
    if let Some(c) = cookie {
        response.headers_mut().append(SET_COOKIE, c);
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_defaults_and_validation() {
        let c = SessionsConfig::default();
        assert_eq!(c.policy(), SessionPolicy::new(900, 14 * 86_400));
        let mut bad = c.clone();
        bad.idle_timeout_minutes = 0;
        assert!(bad.validate().is_err());
        let mut bad = c.clone();
        bad.remember_me_timeout_minutes = 5;
        assert!(bad.validate().is_err());
        let mut bad = c;
        bad.absolute_lifetime_minutes = Some(-1);
        assert!(bad.validate().is_err());
    }

    #[test]
    fn cookie_attributes_rotation_and_binding() {
        let host = SessionHost::new("https://op.example/tenant", "/tenant").unwrap();
        let policy = SessionPolicy::default();
        let s = SessionRecord::new("sid-1", "alice", 1000, RememberMe::No, &policy);
        let a = host.cookie(&s, 1000).unwrap();
        let b = host.cookie(&s, 1000).unwrap();
        assert_ne!(a, b, "a new value at every login");
        let a = a.to_str().unwrap();
        assert!(a.starts_with("idforge_session="));
        assert!(
            a.ends_with("; Path=/tenant; HttpOnly; SameSite=Lax; Secure"),
            "{a}"
        );
        let value = a.split(';').next().unwrap();
        let mut headers = HeaderMap::new();
        headers.insert(
            COOKIE,
            HeaderValue::from_str(&format!("other=1; {value}")).unwrap(),
        );
        assert_eq!(host.sid(&headers, 1001).as_deref(), Some("sid-1"));
        // Another host's cookie (another key) is not ours.
        let other = SessionHost::new("http://x", "").unwrap();
        assert_eq!(other.sid(&headers, 1001), None);
        // Remember me: a persistent cookie; http issuers: no Secure.
        let s = SessionRecord::new("sid-2", "alice", 1000, RememberMe::Yes, &policy);
        let c = other.cookie(&s, 1000).unwrap();
        let c = c.to_str().unwrap();
        assert!(
            c.ends_with("; Path=/; HttpOnly; SameSite=Lax; Max-Age=1209600"),
            "{c}"
        );
        assert!(other
            .clear()
            .unwrap()
            .to_str()
            .unwrap()
            .contains("Max-Age=0"));
    }
}
