//! Users (tables `users`, `user_attributes`): oauth-core's [`ClaimsSource`],
//! [`PasswordVerifier`] and [`UserLookup`], and the password hashing they use.
//!
//! Passwords are stored as PHC strings. New ones are Argon2id (RFC 9106) with the OWASP
//! Password Storage Cheat Sheet's parameters (19 MiB, 2 passes, 1 lane). Legacy PBKDF2
//! hashes (`$pbkdf2-sha256$i=…,l=…$salt$hash`, `$pbkdf2-sha512$…`, the RustCrypto `pbkdf2`
//! format) are verified, and replaced by an Argon2id hash on the first successful login;
//! so is an Argon2 hash with weaker parameters than the policy.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use async_trait::async_trait;
use idforge_jose::crypto::{ct_eq, pbkdf2, HashAlg};
use idforge_oauth_core::{ClaimsSource, Error, PasswordVerifier, Result, UserLookup};
use serde_json::{Map, Value};
use std::sync::{Arc, OnceLock};

use crate::db::{begin_write, internal, on_db};
use crate::SqlStore;

/// Longest password accepted (Argon2 takes any length; this bounds the work per request).
pub const MAX_PASSWORD_BYTES: usize = 1024;
/// Longest string claim indexed for [`UserLookup`].
const MAX_ATTRIBUTE_BYTES: usize = 1024;

/// Argon2id cost parameters for new hashes.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct PasswordPolicy {
    /// Memory in KiB (OWASP: 19 456).
    pub memory_kib: u32,
    /// Passes (OWASP: 2).
    pub iterations: u32,
    /// Lanes (OWASP: 1).
    pub parallelism: u32,
    /// A hash of a random password under this policy, verified for unknown users so they take
    /// as long as wrong passwords.
    dummy: Arc<OnceLock<String>>,
}

impl Default for PasswordPolicy {
    /// The OWASP Password Storage Cheat Sheet's Argon2id configuration: m=19 MiB, t=2, p=1.
    fn default() -> Self {
        PasswordPolicy::new(19 * 1024, 2, 1)
    }
}

impl PasswordPolicy {
    /// A policy of `memory_kib` KiB, `iterations` passes and `parallelism` lanes (each at
    /// least Argon2's minimum).
    pub fn new(memory_kib: u32, iterations: u32, parallelism: u32) -> Self {
        PasswordPolicy {
            memory_kib: memory_kib.max(Params::MIN_M_COST),
            iterations: iterations.max(Params::MIN_T_COST),
            parallelism: parallelism.max(Params::MIN_P_COST),
            dummy: Arc::default(),
        }
    }

    fn argon2(&self) -> Result<Argon2<'static>> {
        let params = Params::new(self.memory_kib, self.iterations, self.parallelism, None)
            .map_err(internal)?;
        Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
    }

    /// Hashes `password` with Argon2id and a random 16-byte salt; returns the PHC string.
    pub fn hash(&self, password: &str) -> Result<String> {
        let mut salt = [0u8; 16];
        idforge_jose::crypto::random_bytes(&mut salt).map_err(internal)?;
        let salt = SaltString::encode_b64(&salt).map_err(internal)?;
        Ok(self
            .argon2()?
            .hash_password(password.as_bytes(), &salt)
            .map_err(internal)?
            .to_string())
    }

    /// Checks `password` against the PHC string `stored`.
    pub fn verify(&self, stored: &str, password: &str) -> Verified {
        let Ok(parsed) = PasswordHash::new(stored) else {
            return Verified::Wrong;
        };
        match parsed.algorithm.as_str() {
            "argon2id" | "argon2i" | "argon2d" => {
                // The hash carries its own parameters.
                if Argon2::default()
                    .verify_password(password.as_bytes(), &parsed)
                    .is_err()
                {
                    return Verified::Wrong;
                }
                let current = parsed.algorithm.as_str() == "argon2id"
                    && Params::try_from(&parsed).is_ok_and(|p| {
                        p.m_cost() >= self.memory_kib
                            && p.t_cost() >= self.iterations
                            && p.p_cost() >= self.parallelism
                    });
                if current {
                    Verified::Right
                } else {
                    Verified::RightNeedsRehash
                }
            }
            "pbkdf2-sha256" => verify_pbkdf2(HashAlg::Sha256, &parsed, password),
            "pbkdf2-sha512" => verify_pbkdf2(HashAlg::Sha512, &parsed, password),
            _ => Verified::Wrong,
        }
    }

    fn dummy(&self) -> Result<&str> {
        if let Some(d) = self.dummy.get() {
            return Ok(d);
        }
        let mut random = [0u8; 16];
        idforge_jose::crypto::random_bytes(&mut random).map_err(internal)?;
        let hash = self.hash(&idforge_jose::b64::encode(random))?;
        Ok(self.dummy.get_or_init(|| hash))
    }
}

/// What checking a password found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Verified {
    /// Right, and hashed as the policy asks.
    Right,
    /// Right, but hashed with a legacy algorithm or weaker parameters: rehash it now.
    RightNeedsRehash,
    /// Wrong (or an unreadable hash).
    Wrong,
}

/// Legacy PBKDF2 (RFC 8018 §5.2) in the RustCrypto PHC format: `i` iterations, `l` output bytes.
fn verify_pbkdf2(alg: HashAlg, parsed: &PasswordHash<'_>, password: &str) -> Verified {
    let (Some(salt), Some(expected)) = (parsed.salt, parsed.hash) else {
        return Verified::Wrong;
    };
    let Some(iterations) = parsed
        .params
        .get_decimal("i")
        .filter(|i| (1..=10_000_000).contains(i))
    else {
        return Verified::Wrong;
    };
    let mut salt_buf = [0u8; 64];
    let Ok(salt) = salt.decode_b64(&mut salt_buf) else {
        return Verified::Wrong;
    };
    let expected = expected.as_bytes();
    match pbkdf2(
        alg,
        password.as_bytes(),
        salt,
        iterations as usize,
        expected.len(),
    ) {
        Ok(got) if ct_eq(&got, expected) => Verified::RightNeedsRehash,
        _ => Verified::Wrong,
    }
}

/// Runs password hashing off the async workers (tens of milliseconds of CPU).
async fn blocking<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    tokio::task::spawn_blocking(f).await.map_err(internal)
}

impl SqlStore {
    /// Replaces the Argon2id policy for new hashes (and rehashing on login).
    pub fn with_password_policy(mut self, policy: PasswordPolicy) -> Self {
        self.passwords = policy;
        self
    }

    /// Adds or replaces the user `username` with `password` (hashed with Argon2id) and
    /// `claims`; the subject is `claims["sub"]` when present, else the username. Returns it.
    pub async fn upsert_user(
        &self,
        username: &str,
        password: &str,
        claims: Map<String, Value>,
        now: i64,
    ) -> Result<String> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Err(Error::InvalidRequest("password too long".into()));
        }
        let policy = self.passwords.clone();
        let password = password.to_owned();
        let hash = blocking(move || policy.hash(&password)).await??;
        self.upsert_user_with_hash(username, &hash, claims, now)
            .await
    }

    /// [`upsert_user`](Self::upsert_user) with a password hash already made (a PHC string,
    /// say a PBKDF2 hash imported from another system: it is verified and replaced by
    /// Argon2id at the user's next login).
    pub async fn upsert_user_with_hash(
        &self,
        username: &str,
        password_hash: &str,
        claims: Map<String, Value>,
        now: i64,
    ) -> Result<String> {
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .unwrap_or(username)
            .to_owned();
        let body = serde_json::to_string(&claims).map_err(internal)?;
        let attributes: Vec<(&str, &str)> = claims
            .iter()
            .filter_map(|(k, v)| v.as_str().map(|v| (k.as_str(), v)))
            .filter(|(k, v)| k.len() <= MAX_ATTRIBUTE_BYTES && v.len() <= MAX_ATTRIBUTE_BYTES)
            .collect();
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(internal)?;
            sqlx::query(
                "INSERT INTO users (username, subject, password_hash, claims, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (username) DO UPDATE SET \
                 subject = excluded.subject, password_hash = excluded.password_hash, \
                 claims = excluded.claims, updated_at = excluded.updated_at",
            )
            .bind(username)
            .bind(&subject)
            .bind(password_hash)
            .bind(&body)
            .bind(now)
            .execute(&mut *tx)
            .await
            .map_err(internal)?;
            sqlx::query("DELETE FROM user_attributes WHERE username = $1")
                .bind(username)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            for (name, value) in &attributes {
                sqlx::query(
                    "INSERT INTO user_attributes (name, value, username) VALUES ($1, $2, $3)",
                )
                .bind(*name)
                .bind(*value)
                .bind(username)
                .execute(&mut *tx)
                .await
                .map_err(internal)?;
            }
            tx.commit().await.map_err(internal)?;
        });
        Ok(subject)
    }

    /// Removes a user; `true` if it existed.
    pub async fn delete_user(&self, username: &str) -> Result<bool> {
        let n = on_db!(&self.db, pool => sqlx::query("DELETE FROM users WHERE username = $1")
            .bind(username)
            .execute(pool)
            .await
            .map_err(internal)?
            .rows_affected());
        Ok(n > 0)
    }

    /// The stored PHC string of `username` (for audits and tests; never log it).
    pub async fn password_hash(&self, username: &str) -> Result<Option<String>> {
        on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(pool)
        .await
        .map_err(internal))
    }
}

#[async_trait]
impl ClaimsSource for SqlStore {
    async fn claims(&self, subject: &str) -> Result<Option<Map<String, Value>>> {
        let body: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(
            "SELECT claims FROM users WHERE subject = $1",
        )
        .bind(subject)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        body.map(|b| serde_json::from_str(&b).map_err(internal))
            .transpose()
    }
}

#[async_trait]
impl PasswordVerifier for SqlStore {
    async fn verify(&self, username: &str, password: &str) -> Result<Option<String>> {
        if password.len() > MAX_PASSWORD_BYTES {
            return Ok(None);
        }
        let row: Option<(String, String)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT subject, password_hash FROM users WHERE username = $1",
        )
        .bind(username)
        .fetch_optional(pool)
        .await
        .map_err(internal)?);
        let policy = self.passwords.clone();
        let pw = password.to_owned();
        let Some((subject, stored)) = row else {
            // Unknown users cost one Argon2 verification, like a wrong password.
            blocking(move || -> Result<()> {
                let dummy = policy.dummy()?.to_owned();
                let _ = policy.verify(&dummy, &pw);
                Ok(())
            })
            .await??;
            return Ok(None);
        };
        let check = stored.clone();
        let verified = blocking(move || policy.verify(&check, &pw)).await?;
        match verified {
            Verified::Wrong => Ok(None),
            Verified::Right => Ok(Some(subject)),
            Verified::RightNeedsRehash => {
                let policy = self.passwords.clone();
                let pw = password.to_owned();
                let fresh = blocking(move || policy.hash(&pw)).await??;
                // Only if nobody changed the password meanwhile (compare-and-set).
                on_db!(&self.db, pool => sqlx::query(
                    "UPDATE users SET password_hash = $1 WHERE username = $2 AND password_hash = $3",
                )
                .bind(&fresh)
                .bind(username)
                .bind(&stored)
                .execute(pool)
                .await
                .map(|_| ())
                .map_err(internal))?;
                Ok(Some(subject))
            }
        }
    }
}

/// Lookup by attribute: `username` is the login name, any other name a string claim of the
/// user (compared exactly).
#[async_trait]
impl UserLookup for SqlStore {
    async fn find_users(&self, attributes: &[(&str, &str)]) -> Result<Vec<String>> {
        let mut usernames: Option<Vec<String>> = None;
        for (name, value) in attributes {
            let found: Vec<String> = if *name == "username" {
                on_db!(&self.db, pool => sqlx::query_scalar(
                    "SELECT username FROM users WHERE username = $1",
                )
                .bind(*value)
                .fetch_all(pool)
                .await
                .map_err(internal)?)
            } else {
                on_db!(&self.db, pool => sqlx::query_scalar(
                    "SELECT username FROM user_attributes WHERE name = $1 AND value = $2",
                )
                .bind(*name)
                .bind(*value)
                .fetch_all(pool)
                .await
                .map_err(internal)?)
            };
            usernames = Some(match usernames {
                None => found,
                Some(prev) => prev.into_iter().filter(|u| found.contains(u)).collect(),
            });
        }
        let subjects: Vec<String> = match usernames {
            // No attribute: every user matches (as the port reads).
            None => {
                on_db!(&self.db, pool => sqlx::query_scalar("SELECT subject FROM users ORDER BY username")
                .fetch_all(pool)
                .await
                .map_err(internal)?)
            }
            Some(names) => {
                let mut out = Vec::with_capacity(names.len());
                for u in names {
                    let s: Option<String> = on_db!(&self.db, pool => sqlx::query_scalar(
                        "SELECT subject FROM users WHERE username = $1",
                    )
                    .bind(&u)
                    .fetch_optional(pool)
                    .await
                    .map_err(internal)?);
                    out.extend(s);
                }
                out
            }
        };
        Ok(subjects)
    }
}
