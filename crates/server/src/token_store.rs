//! `[token_store]`: how `idforge serve` records the tokens it issues, and how much its memory
//! grant store may hold (issue 19 §4).
//!
//! ```toml
//! [token_store]
//! persistence = "stored"   # or "self_contained", "self_contained_without_revocation"
//! max_grants = 1000000
//! max_tokens = 4000000
//! max_marks = 1000000
//! ```

use idforge_oauth_core::memory::MemoryLimits;
use idforge_oauth_core::TokenPersistence;
use serde::{Deserialize, Serialize};

use crate::config::{ConfigError, ServeConfig};

/// The `[token_store]` table.
///
/// `persistence` chooses what issuing a token writes ([`TokenPersistence`]): `stored` (the
/// default) records every code and token by hash, so each can be introspected and revoked;
/// `self_contained` writes nothing for JWT access and refresh tokens and records only
/// revocations (a deny-list expiring with the tokens); `self_contained_without_revocation`
/// writes nothing at all (a revoked JWT stays valid until it expires). Opaque tokens and
/// authorization codes are always stored.
///
/// `max_grants`, `max_tokens` and `max_marks` bound the memory grant store
/// ([`MemoryLimits`]): when one is reached after expired entries are swept, issuing answers
/// HTTP 503 `temporarily_unavailable` naming the full limit
/// ([`idforge_oauth_core::memory::Full`]) instead of growing without bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct TokenStoreConfig {
    /// What issuing a token writes (default `stored`).
    pub persistence: TokenPersistence,
    /// Maximum live grants (default 1 000 000).
    pub max_grants: usize,
    /// Maximum live authorization codes and tokens (default 4 000 000).
    pub max_tokens: usize,
    /// Maximum live marks: `jti` replay entries and revocations of self-contained tokens
    /// (default 1 000 000).
    pub max_marks: usize,
}

impl Default for TokenStoreConfig {
    fn default() -> Self {
        let limits = MemoryLimits::default();
        TokenStoreConfig {
            persistence: TokenPersistence::default(),
            max_grants: limits.max_grants,
            max_tokens: limits.max_tokens,
            max_marks: limits.max_marks,
        }
    }
}

impl TokenStoreConfig {
    /// The defaults: every token stored, the memory store's default bounds.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `persistence`.
    pub fn with_persistence(mut self, persistence: TokenPersistence) -> Self {
        self.persistence = persistence;
        self
    }

    /// Sets `max_grants`, `max_tokens` and `max_marks`.
    pub fn with_limits(mut self, max_grants: usize, max_tokens: usize, max_marks: usize) -> Self {
        self.max_grants = max_grants;
        self.max_tokens = max_tokens;
        self.max_marks = max_marks;
        self
    }

    /// Whether this is the default (then the table is left out when serialized).
    pub fn is_default(&self) -> bool {
        *self == TokenStoreConfig::default()
    }

    /// The memory grant store's bounds.
    pub fn memory_limits(&self) -> MemoryLimits {
        MemoryLimits {
            max_grants: self.max_grants,
            max_tokens: self.max_tokens,
            max_marks: self.max_marks,
            ..MemoryLimits::default()
        }
    }

    /// Every bound must admit at least one entry.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        for (field, v) in [
            ("max_grants", self.max_grants),
            ("max_tokens", self.max_tokens),
            ("max_marks", self.max_marks),
        ] {
            if v == 0 {
                return Err(ConfigError::TokenStore {
                    field,
                    reason: "must be at least 1",
                });
            }
        }
        Ok(())
    }
}

impl ServeConfig {
    /// Sets the `[token_store]` table.
    pub fn with_token_store(mut self, token_store: TokenStoreConfig) -> Self {
        self.token_store = token_store;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_validates_and_defaults() {
        let c = ServeConfig::from_toml(
            "[token_store]\npersistence = \"self_contained\"\nmax_tokens = 10\n",
        )
        .unwrap();
        assert_eq!(c.token_store.persistence, TokenPersistence::SelfContained);
        assert_eq!(c.token_store.max_tokens, 10);
        assert_eq!(c.token_store.max_grants, MemoryLimits::default().max_grants);
        assert_eq!(c.token_store.memory_limits().max_tokens, 10);
        assert!(ServeConfig::from_toml("").unwrap().token_store.is_default());
        let e = ServeConfig::from_toml("[token_store]\nmax_grants = 0\n").unwrap_err();
        assert_eq!(e.to_string(), "token_store.max_grants: must be at least 1");
        assert!(ServeConfig::from_toml("[token_store]\npersistence = \"sometimes\"\n").is_err());
        assert!(ServeConfig::from_toml("[token_store]\nmax = 1\n").is_err());
    }
}
