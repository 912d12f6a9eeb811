//! The shared context every endpoint holds, and a builder wiring all endpoints at once.

use std::sync::Arc;

use idforge_jose::{Clock, KeyStore, SystemClock};

use crate::authorize::AuthorizationEndpoint;
use crate::config::Config;
use crate::discovery::DiscoveryEndpoint;
use crate::error::{Error, Result};
use crate::introspect::IntrospectionEndpoint;
use crate::ports::{
    ClaimsSource, ClientStore, GrantStore, OsRng, PasswordVerifier, PreIssueIdTokenAction, Rng,
};
use crate::revoke::RevocationEndpoint;
use crate::token::{GrantRegistry, TokenEndpoint};
use crate::userinfo::UserInfoEndpoint;

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
    /// Time.
    pub clock: Arc<dyn Clock>,
    /// Randomness.
    pub rng: Arc<dyn Rng>,
}

impl std::fmt::Debug for Context {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Context")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Provider`]: configuration plus ports. Clock and RNG default to the system's.
pub struct ProviderBuilder {
    config: Config,
    clients: Option<Arc<dyn ClientStore>>,
    grants: Option<Arc<dyn GrantStore>>,
    claims: Option<Arc<dyn ClaimsSource>>,
    passwords: Option<Arc<dyn PasswordVerifier>>,
    keys: Option<Arc<dyn KeyStore>>,
    pre_issue_id_token: Option<Arc<dyn PreIssueIdTokenAction>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    registry: GrantRegistry,
}

impl ProviderBuilder {
    /// Sets the client store.
    pub fn clients(mut self, s: Arc<dyn ClientStore>) -> Self {
        self.clients = Some(s);
        self
    }
    /// Sets the grant store.
    pub fn grants(mut self, s: Arc<dyn GrantStore>) -> Self {
        self.grants = Some(s);
        self
    }
    /// Sets the claims source.
    pub fn claims(mut self, s: Arc<dyn ClaimsSource>) -> Self {
        self.claims = Some(s);
        self
    }
    /// Sets the password verifier (needed by the `password` grant).
    pub fn passwords(mut self, s: Arc<dyn PasswordVerifier>) -> Self {
        self.passwords = Some(s);
        self
    }
    /// Sets the key store.
    pub fn keys(mut self, s: Arc<dyn KeyStore>) -> Self {
        self.keys = Some(s);
        self
    }
    /// Sets the pre-issue ID token hook.
    pub fn pre_issue_id_token(mut self, hook: Arc<dyn PreIssueIdTokenAction>) -> Self {
        self.pre_issue_id_token = Some(hook);
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }
    /// Sets the random source.
    pub fn rng(mut self, r: Arc<dyn Rng>) -> Self {
        self.rng = r;
        self
    }
    /// Registers an extra grant handler (device code, token exchange, CIBA, ...).
    /// The handler's grant type is enabled in the configuration too.
    pub fn grant_handler(mut self, h: Arc<dyn crate::token::GrantHandler>) -> Self {
        self.config = self.config.with_grant_type(h.grant_type());
        self.registry.register(h);
        self
    }

    /// Builds the provider; fails if a required port is missing or the issuer is not a URL
    /// without query or fragment (OIDC Discovery §3, RFC 8414 §2).
    pub fn build(self) -> Result<Provider> {
        let missing = |what: &str| Error::internal(format!("provider needs a {what}"));
        let issuer = &self.config.issuer;
        let rest = issuer
            .strip_prefix("https://")
            .or_else(|| issuer.strip_prefix("http://"))
            .ok_or_else(|| Error::internal("issuer is not an http(s) URL"))?;
        if rest.is_empty() || rest.contains(['?', '#']) || issuer.ends_with('/') {
            return Err(Error::internal(
                "issuer must have a host and no query, fragment or trailing slash",
            ));
        }
        let ctx = Arc::new(Context {
            config: self.config,
            clients: self.clients.ok_or_else(|| missing("client store"))?,
            grants: self.grants.ok_or_else(|| missing("grant store"))?,
            claims: self.claims.ok_or_else(|| missing("claims source"))?,
            passwords: self.passwords,
            keys: self.keys.ok_or_else(|| missing("key store"))?,
            pre_issue_id_token: self.pre_issue_id_token,
            clock: self.clock,
            rng: self.rng,
        });
        let grant_types = self.registry.grant_types().map(str::to_owned).collect();
        Ok(Provider {
            authorization: AuthorizationEndpoint::new(ctx.clone()),
            token: TokenEndpoint::new(ctx.clone(), self.registry),
            userinfo: UserInfoEndpoint::new(ctx.clone()),
            introspection: IntrospectionEndpoint::new(ctx.clone()),
            revocation: RevocationEndpoint::new(ctx.clone()),
            discovery: DiscoveryEndpoint::new(ctx.clone(), grant_types),
            ctx,
        })
    }
}

/// Every endpoint of an OpenID Provider, sharing one [`Context`].
#[derive(Debug)]
pub struct Provider {
    /// Shared context.
    pub ctx: Arc<Context>,
    /// Authorization endpoint.
    pub authorization: AuthorizationEndpoint,
    /// Token endpoint.
    pub token: TokenEndpoint,
    /// UserInfo endpoint.
    pub userinfo: UserInfoEndpoint,
    /// Introspection endpoint.
    pub introspection: IntrospectionEndpoint,
    /// Revocation endpoint.
    pub revocation: RevocationEndpoint,
    /// Discovery and JWKS.
    pub discovery: DiscoveryEndpoint,
}

impl Provider {
    /// Starts building a provider for `config`; the built-in grant handlers are registered.
    pub fn builder(config: Config) -> ProviderBuilder {
        ProviderBuilder {
            config,
            clients: None,
            grants: None,
            claims: None,
            passwords: None,
            keys: None,
            pre_issue_id_token: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng::new()),
            registry: GrantRegistry::with_builtin(),
        }
    }
}
