//! The login form's bounds: how long its sealed pending request lives (it is also single
//! use, see `Sealer::open_once`), and how many password attempts a user name and a client
//! address get, counted through oauth-core's [`AttemptLimiter`] port so that a host with
//! several nodes backs it with its shared limiter ([`crate::build_with_login_limiter`]).

use std::net::IpAddr;

use idforge_oauth_core::AttemptLimiter;
use serde::{Deserialize, Serialize};

/// `[login]`: the login form's lifetime and password attempt limits.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LoginConfig {
    /// Minutes a login form (its sealed pending request) stays valid (default 10, at most
    /// 1440); each form is accepted once.
    pub pending_request_minutes: i64,
    /// Password attempts per user name per window (default 10).
    pub max_attempts_per_user: u32,
    /// Password attempts per client address per window (default 100).
    pub max_attempts_per_address: u32,
    /// The attempt window in seconds (default 300).
    pub attempt_window_seconds: i64,
}

impl Default for LoginConfig {
    fn default() -> Self {
        LoginConfig {
            pending_request_minutes: 10,
            max_attempts_per_user: 10,
            max_attempts_per_address: 100,
            attempt_window_seconds: 300,
        }
    }
}

impl LoginConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the login form's lifetime in minutes.
    pub fn with_pending_request_minutes(mut self, minutes: i64) -> Self {
        self.pending_request_minutes = minutes;
        self
    }

    /// Sets the attempt limits: per user name, per client address, and the window.
    pub fn with_attempts(mut self, per_user: u32, per_address: u32, window_seconds: i64) -> Self {
        self.max_attempts_per_user = per_user;
        self.max_attempts_per_address = per_address;
        self.attempt_window_seconds = window_seconds;
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == LoginConfig::default()
    }

    /// The form's lifetime in seconds.
    pub(crate) fn ttl_seconds(&self) -> i64 {
        self.pending_request_minutes.saturating_mul(60)
    }

    pub(crate) fn validate(&self) -> Result<(), crate::ConfigError> {
        let bad = |reason: &str| {
            Err(crate::ConfigError::Limit {
                reason: format!("login.{reason}"),
            })
        };
        if !(1..=1440).contains(&self.pending_request_minutes) {
            return bad("pending_request_minutes: must be between 1 and 1440");
        }
        if self.max_attempts_per_user == 0 || self.max_attempts_per_address == 0 {
            return bad("max_attempts_per_user and max_attempts_per_address: must be positive");
        }
        if self.attempt_window_seconds <= 0 {
            return bad("attempt_window_seconds: must be positive");
        }
        Ok(())
    }
}

/// Counts one password attempt for `username` (at `issuer`) and for the client address;
/// `Ok(false)` when either is over its limit (the attempt must be refused without checking the
/// password). A limiter failure refuses too (fails closed).
pub(crate) async fn allow_attempt(
    limiter: &dyn AttemptLimiter,
    config: &LoginConfig,
    issuer: &str,
    username: &str,
    address: Option<IpAddr>,
    now: i64,
) -> bool {
    let window = config.attempt_window_seconds;
    let user_key = format!("login-user:{issuer}:{username}");
    let user_ok = limiter
        .attempt(&user_key, config.max_attempts_per_user, window, now)
        .await
        .unwrap_or(false);
    let address_ok = match address {
        Some(ip) => limiter
            .attempt(
                &format!("login-ip:{ip}"),
                config.max_attempts_per_address,
                window,
                now,
            )
            .await
            .unwrap_or(false),
        None => true,
    };
    user_ok && address_ok
}

#[cfg(test)]
mod tests {
    use super::*;
    use idforge_oauth_core::memory::MemoryAttemptLimiter;

    #[tokio::test]
    async fn attempts_are_bounded_per_user_and_per_address() {
        let l = MemoryAttemptLimiter::new();
        let c = LoginConfig::new().with_attempts(2, 3, 60);
        let ip: Option<IpAddr> = "192.0.2.1".parse().ok();
        assert!(allow_attempt(&l, &c, "i", "alice", ip, 0).await);
        assert!(allow_attempt(&l, &c, "i", "alice", ip, 0).await);
        assert!(
            !allow_attempt(&l, &c, "i", "alice", ip, 0).await,
            "per user"
        );
        // Another user from the same address: the address's third attempt was spent above.
        assert!(
            !allow_attempt(&l, &c, "i", "bob", ip, 1).await,
            "per address"
        );
        let other: Option<IpAddr> = "192.0.2.2".parse().ok();
        assert!(allow_attempt(&l, &c, "i", "bob", other, 1).await);
        // The window passes.
        assert!(allow_attempt(&l, &c, "i", "alice", other, 61).await);
    }

    #[test]
    fn values_out_of_range_are_refused() {
        assert!(LoginConfig::default().validate().is_ok());
        for c in [
            LoginConfig::new().with_pending_request_minutes(0),
            LoginConfig::new().with_pending_request_minutes(100_000),
            LoginConfig::new().with_attempts(0, 1, 1),
            LoginConfig::new().with_attempts(1, 1, 0),
        ] {
            assert!(c.validate().is_err(), "{c:?}");
        }
    }
}
