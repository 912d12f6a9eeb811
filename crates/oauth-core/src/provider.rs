//! The shared context every endpoint holds, and a builder wiring all endpoints at once.

use std::sync::Arc;

use idforge_jose::{Clock, KeyStore, SystemClock};

use crate::authorize::AuthorizationEndpoint;
use crate::config::Config;
use crate::discovery::DiscoveryEndpoint;
use crate::error::{Error, Result};
use crate::introspect::IntrospectionEndpoint;
use crate::par::PushedAuthorizationEndpoint;
use crate::ports::{
    ClaimsSource, ClientStore, GrantStore, OsRng, PasswordVerifier, PreIssueIdTokenAction,
    PushedRequestStore, Rng,
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
    /// Pushed authorization requests (RFC 9126); `None` disables the PAR endpoint.
    pub pushed_requests: Option<Arc<dyn PushedRequestStore>>,
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
    pushed_requests: Option<Arc<dyn PushedRequestStore>>,
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
    /// Sets the pushed authorization request store, enabling the PAR endpoint (RFC 9126) at
    /// [`Config::pushed_authorization_request_path`].
    pub fn pushed_requests(mut self, s: Arc<dyn PushedRequestStore>) -> Self {
        self.pushed_requests = Some(s);
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

    /// Builds the provider; fails if a required port is missing, the issuer is not a URL
    /// without query or fragment (OIDC Discovery §3, RFC 8414 §2), or pushed authorization
    /// requests are required (RFC 9126 §5) without a PAR endpoint to make them.
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
        if self.config.require_pushed_authorization_requests
            && (self.pushed_requests.is_none()
                || self.config.pushed_authorization_request_path.is_none())
        {
            return Err(Error::internal(
                "require_pushed_authorization_requests needs a pushed request store and path",
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
            pushed_requests: self.pushed_requests,
            clock: self.clock,
            rng: self.rng,
        });
        let grant_types = self.registry.grant_types().map(str::to_owned).collect();
        let authorization = AuthorizationEndpoint::new(ctx.clone());
        Ok(Provider {
            pushed_authorization: PushedAuthorizationEndpoint::new(
                ctx.clone(),
                authorization.clone(),
            ),
            authorization,
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
    /// Pushed authorization request endpoint (RFC 9126).
    pub pushed_authorization: PushedAuthorizationEndpoint,
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
            pushed_requests: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng::new()),
            registry: GrantRegistry::with_builtin(),
        }
    }
}
