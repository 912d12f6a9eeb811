//! The ports the host implements: storage, users, passwords, randomness. Keys and time come from
//! `idforge_jose` ([`KeyStore`](idforge_jose::KeyStore), [`Clock`](idforge_jose::Clock)).

use async_trait::async_trait;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::client::Client;
use crate::error::{Error, Result};
use crate::model::{ClaimsRequest, CodeChallengeMethod, Params, Scopes};

/// The SHA-256 hash of a secret (code, token, `jti`): what stores use as a key, so a leaked store
/// does not leak usable secrets (ARCHITECTURE "Secrets").
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    /// Hashes `secret` with SHA-256.
    pub fn of(secret: &str) -> TokenHash {
        Self::of_bytes(secret.as_bytes())
    }

    /// Hashes bytes with SHA-256.
    pub fn of_bytes(secret: &[u8]) -> TokenHash {
        let digest = idforge_jose::crypto::HashAlg::Sha256.digest(secret);
        let mut out = [0u8; 32];
        if digest.len() == 32 {
            out.copy_from_slice(&digest);
        }
        TokenHash(out)
    }

    /// Hashes a namespaced value (`ns` and `value` separated by a NUL), for marks such as
    /// `jti` replay entries and deny-list entries.
    pub fn namespaced(ns: &str, value: &str) -> TokenHash {
        let mut buf = Vec::with_capacity(ns.len() + 1 + value.len());
        buf.extend_from_slice(ns.as_bytes());
        buf.push(0);
        buf.extend_from_slice(value.as_bytes());
        Self::of_bytes(&buf)
    }
}

impl std::fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "TokenHash({})", idforge_jose::b64::encode(&self.0[..6]))
    }
}

/// The authorization grant: the root of a token family. Codes, access tokens and refresh tokens
/// hang off it by `grant_id`, so revoking the grant revokes all of them (RFC 6749 §4.1.2, §10.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Grant {
    /// Random identifier.
    pub id: String,
    /// The client it was granted to.
    pub client_id: String,
    /// The resource owner (`None` for `client_credentials`).
    pub subject: Option<String>,
    /// Scopes granted.
    pub scopes: Scopes,
    /// When the user authenticated (OIDC Core §2 `auth_time`).
    pub auth_time: Option<i64>,
    /// Authentication context class reference.
    pub acr: Option<String>,
    /// Authentication methods references.
    pub amr: Vec<String>,
    /// Session id (OIDC Front-Channel Logout §3 `sid`).
    pub sid: Option<String>,
    /// `nonce` of the authorization request.
    pub nonce: Option<String>,
    /// The `claims` request parameter.
    pub claims: Option<ClaimsRequest>,
    /// Creation time.
    pub created_at: i64,
    /// When the grant (and so every token of the family) ends.
    pub expires_at: i64,
}

/// What kind of secret a [`TokenRecord`] is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenKind {
    /// Authorization code (single use, RFC 6749 §4.1.2).
    AuthorizationCode,
    /// Access token.
    AccessToken,
    /// Refresh token (rotated on use by default).
    RefreshToken,
}

/// What an authorization code is bound to (RFC 6749 §4.1.3, RFC 7636 §4.4).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CodeBinding {
    /// The redirect URI used in the authorization request.
    pub redirect_uri: String,
    /// Whether the authorization request carried `redirect_uri` (then the token request must).
    pub redirect_uri_sent: bool,
    /// The PKCE challenge and method.
    pub code_challenge: Option<(String, CodeChallengeMethod)>,
}

/// The state of a stored token.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum TokenState {
    /// Usable.
    Active,
    /// A single-use code already redeemed at `at`.
    Consumed {
        /// When.
        at: i64,
    },
    /// A refresh token replaced by a successor at `at`.
    Rotated {
        /// When.
        at: i64,
    },
}

/// A stored code or token, keyed by the hash of its secret.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenRecord {
    /// Hash of the secret.
    pub hash: TokenHash,
    /// Kind.
    pub kind: TokenKind,
    /// The grant (token family) it belongs to.
    pub grant_id: String,
    /// The client it was issued to.
    pub client_id: String,
    /// Scopes of this token (may be narrower than the grant's).
    pub scopes: Scopes,
    /// Issue time.
    pub issued_at: i64,
    /// Expiry.
    pub expires_at: i64,
    /// Code bindings, for authorization codes.
    pub code: Option<CodeBinding>,
    /// State.
    pub state: TokenState,
}

/// Outcome of [`GrantStore::consume`].
// Short-lived return values, moved once: boxing would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConsumeOutcome {
    /// This caller consumed the artifact; it is now spent.
    Consumed(TokenRecord, Grant),
    /// The artifact was already consumed: a replay. The caller revokes the grant.
    Replayed(TokenRecord),
    /// Unknown, expired, or its grant is gone.
    NotFound,
}

/// Outcome of [`GrantStore::rotate`].
// Short-lived return values, moved once: boxing would cost an allocation per call for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RotateOutcome {
    /// The old token is retired and the new one stored.
    Rotated(TokenRecord, Grant),
    /// The old token had already been rotated outside the grace window: reuse. The caller
    /// revokes the family.
    Reused(TokenRecord),
    /// Unknown, expired, or its grant is gone.
    NotFound,
}

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
    /// An unexpired token (in any [`TokenState`]) with its live grant; callers check the state.
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
    /// Drops everything expired at `now`; returns how many entries went.
    async fn sweep(&self, now: i64) -> Result<usize>;
}

/// A pushed authorization request (RFC 9126 §2): the validated authorization request
/// parameters a client sent to the pushed authorization request endpoint, waiting for the
/// authorization request that names its `request_uri`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedRequest {
    /// SHA-256 of the random part of the `request_uri` (never the URI itself, like codes).
    pub hash: TokenHash,
    /// The client that pushed it; the `request_uri` is bound to it (RFC 9126 §4).
    pub client_id: String,
    /// The authorization request parameters, a request object already verified and unpacked.
    pub params: Params,
    /// When it was pushed.
    pub created_at: i64,
    /// When the `request_uri` expires (RFC 9126 §2.2 `expires_in`).
    pub expires_at: i64,
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

/// A source of randomness for secrets (codes, tokens, ids). Injected so tests can be
/// deterministic and HSM-backed hosts can plug in their DRBG.
pub trait Rng: Send + Sync {
    /// Fills `buf` with cryptographically strong random bytes.
    fn fill(&self, buf: &mut [u8]) -> Result<()>;
}

/// The operating system's CSPRNG, through OpenSSL's DRBG (`idforge_jose::crypto::random_bytes`).
///
/// Each call to OpenSSL's `RAND_bytes` costs about a microsecond of fixed overhead, more than
/// a token needs, so bytes are drawn 1 KiB at a time into a buffer and handed out once each
/// (consumed bytes are zeroed). The buffer belongs to one process: after a `fork` the child
/// discards it (process id check), so parent and child never share random bytes.
#[derive(Debug, Default)]
pub struct OsRng {
    pool: std::sync::Mutex<Pool>,
}

#[derive(Debug)]
struct Pool {
    pid: u32,
    pos: usize,
    buf: [u8; 1024],
}

impl Default for Pool {
    fn default() -> Self {
        // Empty: the first request fills it.
        Pool {
            pid: 0,
            pos: 1024,
            buf: [0; 1024],
        }
    }
}

impl OsRng {
    /// A new source.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Rng for OsRng {
    fn fill(&self, out: &mut [u8]) -> Result<()> {
        let fail = |_| Error::internal("random source");
        if out.len() > 256 {
            return idforge_jose::crypto::random_bytes(out).map_err(fail);
        }
        let mut pool = self.pool.lock().unwrap_or_else(|e| e.into_inner());
        let pid = std::process::id();
        if pool.pid != pid || pool.pos + out.len() > pool.buf.len() {
            idforge_jose::crypto::random_bytes(&mut pool.buf).map_err(fail)?;
            pool.pid = pid;
            pool.pos = 0;
        }
        let start = pool.pos;
        out.copy_from_slice(&pool.buf[start..start + out.len()]);
        pool.buf[start..start + out.len()].fill(0);
        pool.pos += out.len();
        Ok(())
    }
}

/// A random secret of `bytes` bytes, base64url encoded.
pub(crate) fn random_token(rng: &dyn Rng, bytes: usize) -> Result<String> {
    let mut buf = vec![0u8; bytes];
    rng.fill(&mut buf)?;
    Ok(idforge_jose::b64::encode(&buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn os_rng_never_repeats_and_handles_any_size() {
        let rng = OsRng::new();
        let mut seen = std::collections::HashSet::new();
        for _ in 0..500 {
            let mut b = [0u8; 16];
            rng.fill(&mut b).unwrap();
            assert!(seen.insert(b), "repeated output");
            assert_ne!(b, [0u8; 16]);
        }
        let mut big = vec![0u8; 4096];
        rng.fill(&mut big).unwrap();
        assert!(big.iter().any(|b| *b != 0));
        let mut empty = [];
        rng.fill(&mut empty).unwrap();
    }

    #[test]
    fn token_hash_is_sha256() {
        // SHA-256("abc"), FIPS 180-2 Appendix B.1.
        assert_eq!(TokenHash::of("abc").0[..4], [0xba, 0x78, 0x16, 0xbf]);
    }
}
