//! The shared context every endpoint and grant holds: configuration and ports.

use std::sync::Arc;

use idforge_jose::{Clock, KeyStore};

use crate::config::Config;
use crate::ports::{
    AuthorizationExtension, ClaimsSource, ClientStore, GrantStore, PasswordVerifier,
    PreIssueIdTokenAction, PushedRequestStore, SessionStore,
};
use crate::secret::Rng;

/// Configuration and ports, shared by every endpoint (`Arc<Context>`).
pub struct Context {
    /// Configuration.
    pub config: Config,
    /// Client registrations.
    pub clients: Arc<dyn ClientStore>,
    /// Grants and tokens.
    pub grants: Arc<dyn GrantStore>,
    /// User claims.
    pub claims: Arc<dyn ClaimsSource>,
    /// Resource-owner password checks (`password` grant); `None` disables that grant.
    pub passwords: Option<Arc<dyn PasswordVerifier>>,
    /// Signing keys.
    pub keys: Arc<dyn KeyStore>,
    /// Hook run before each ID token is signed.
    pub pre_issue_id_token: Option<Arc<dyn PreIssueIdTokenAction>>,
    /// Pushed authorization requests (RFC 9126); `None` disables the PAR endpoint.
    pub pushed_requests: Option<Arc<dyn PushedRequestStore>>,
    /// Login sessions; `None` disables single sign-on bookkeeping and the end-session
    /// endpoint.
    pub sessions: Option<Arc<dyn SessionStore>>,
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub rng: Arc<dyn Rng>,
    /// URLs of endpoints that other crates serve and that accept `private_key_jwt` client
    /// assertions (e.g. CIBA's backchannel authentication endpoint, CIBA §7.1).
    pub extra_assertion_audiences: Vec<String>,
    /// Extensions of the authorization code flow (RFC 9396 `authorization_details`, ...).
    pub authorization_extensions: Vec<Arc<dyn AuthorizationExtension>>,
}

impl Context {
    /// The accepted `aud` values of a `private_key_jwt` client assertion (RFC 7523 §3 item 3):
    /// the issuer and the URL of every endpoint the assertion may be sent to (token, PAR,
    /// introspection, revocation, and those of other crates).
    pub fn client_assertion_audiences(&self) -> Vec<String> {
        let cfg = &self.config;
        let mut out = vec![cfg.issuer.clone(), cfg.token_endpoint()];
        let optional = [
            &cfg.pushed_authorization_request_path,
            &cfg.introspection_path,
            &cfg.revocation_path,
        ];
        out.extend(optional.into_iter().flatten().map(|p| cfg.url(p)));
        out.extend(self.extra_assertion_audiences.iter().cloned());
        out
    }

    /// Now, from the clock port.
    pub fn now(&self) -> i64 {
        self.clock.now()
    }
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}
