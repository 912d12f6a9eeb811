//! The [`Provider`]: every endpoint over one [`Context`], wired by a [`ProviderBuilder`] that
//! validates the configuration when the provider is built.

use std::sync::Arc;

use idforge_jose::{Clock, KeyStore, SystemClock};

use crate::config::{Config, ConfigError};
use crate::context::Context;
use crate::endpoint::authorize::AuthorizationEndpoint;
use crate::endpoint::discovery::{DiscoveryContributor, DiscoveryEndpoint};
use crate::endpoint::end_session::EndSessionEndpoint;
use crate::endpoint::introspect::IntrospectionEndpoint;
use crate::endpoint::par::PushedAuthorizationEndpoint;
use crate::endpoint::revoke::RevocationEndpoint;
use crate::endpoint::sessions::Sessions;
use crate::endpoint::token::TokenEndpoint;
use crate::endpoint::userinfo::UserInfoEndpoint;
use crate::grant::{GrantHandler, GrantRegistry};
use crate::ports::{
    AuthorizationExtension, ClaimsSource, ClientStore, GrantStore, PasswordVerifier,
    PreIssueIdTokenAction, PushedRequestStore, SessionStore,
};
use crate::secret::{OsRng, Rng};

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
    sessions: Option<Arc<dyn SessionStore>>,
    clock: Arc<dyn Clock>,
    rng: Arc<dyn Rng>,
    registry: GrantRegistry,
    contributors: Vec<Arc<dyn DiscoveryContributor>>,
    assertion_audiences: Vec<String>,
    authorization_extensions: Vec<Arc<dyn AuthorizationExtension>>,
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
    /// Sets the session store, enabling login sessions (single sign-on, `sid` in ID tokens)
    /// and the end-session endpoint (RP-Initiated, Front- and Back-Channel Logout 1.0) under
    /// [`Config::sessions`] and [`Config::end_session_path`].
    pub fn sessions(mut self, s: Arc<dyn SessionStore>) -> Self {
        self.sessions = Some(s);
        self
    }
    /// Sets the clock.
    pub fn clock(mut self, c: Arc<dyn Clock>) -> Self {
        self.clock = c;
        self
    }
    /// Sets the random source (every secret, id and JWE key comes from it).
    pub fn rng(mut self, r: Arc<dyn Rng>) -> Self {
        self.rng = r;
        self
    }
    /// Registers an extra grant handler (device code, token exchange, CIBA, ...).
    /// The handler's grant type is enabled in the configuration too, and its
    /// [`GrantHandler::discovery`] members are published.
    pub fn grant_handler(mut self, h: Arc<dyn GrantHandler>) -> Self {
        self.config = self.config.with_grant_type(h.grant_type());
        self.registry.register(h);
        self
    }
    /// Adds discovery members from a crate that serves endpoints of its own.
    pub fn discovery_contributor(mut self, c: Arc<dyn DiscoveryContributor>) -> Self {
        self.contributors.push(c);
        self
    }
    /// Adds an extension of the authorization code flow: parameters of another specification
    /// checked at the authorization endpoint and turned into the grant's token contents.
    pub fn authorization_extension(mut self, e: Arc<dyn AuthorizationExtension>) -> Self {
        self.authorization_extensions.push(e);
        self
    }
    /// Accepts `url` as the `aud` of `private_key_jwt` client assertions: the URL of an endpoint
    /// another crate serves that authenticates clients (CIBA §7.1).
    pub fn client_assertion_audience(mut self, url: impl Into<String>) -> Self {
        self.assertion_audiences.push(url.into());
        self
    }

    /// Builds the provider; fails if the configuration is invalid ([`Config::validate`]), a
    /// required port is missing, or pushed authorization requests are required (RFC 9126 §5)
    /// without a PAR endpoint to make them.
    pub fn build(self) -> Result<Provider, ConfigError> {
        self.config.validate()?;
        // An enabled grant type nobody serves would only fail at the token endpoint
        // (`unsupported_grant_type`): refuse it when the provider is built.
        if let Some(g) = self
            .config
            .grant_types
            .iter()
            .find(|g| self.registry.get(g).is_none())
        {
            return Err(ConfigError::UnknownGrantType(g.clone()));
        }
        if self.config.require_pushed_authorization_requests
            && (self.pushed_requests.is_none()
                || self.config.pushed_authorization_request_path.is_none())
        {
            return Err(ConfigError::Requires(
                "require_pushed_authorization_requests needs a pushed request store and path",
            ));
        }
        let ctx = Arc::new(Context {
            config: self.config,
            clients: self
                .clients
                .ok_or(ConfigError::Requires("the provider needs a client store"))?,
            grants: self
                .grants
                .ok_or(ConfigError::Requires("the provider needs a grant store"))?,
            claims: self
                .claims
                .ok_or(ConfigError::Requires("the provider needs a claims source"))?,
            passwords: self.passwords,
            keys: self
                .keys
                .ok_or(ConfigError::Requires("the provider needs a key store"))?,
            pre_issue_id_token: self.pre_issue_id_token,
            pushed_requests: self.pushed_requests,
            sessions: self.sessions,
            clock: self.clock,
            rng: self.rng,
            extra_assertion_audiences: self.assertion_audiences,
            authorization_extensions: self.authorization_extensions,
        });
        let registry = Arc::new(self.registry);
        let authorization = AuthorizationEndpoint::new(ctx.clone());
        Ok(Provider {
            pushed_authorization: PushedAuthorizationEndpoint::new(
                ctx.clone(),
                authorization.clone(),
            ),
            authorization,
            token: TokenEndpoint::new(ctx.clone(), registry.clone()),
            userinfo: UserInfoEndpoint::new(ctx.clone()),
            introspection: IntrospectionEndpoint::new(ctx.clone()),
            revocation: RevocationEndpoint::new(ctx.clone()),
            discovery: DiscoveryEndpoint::new(ctx.clone(), registry, self.contributors),
            sessions: Sessions::new(ctx.clone()),
            end_session: EndSessionEndpoint::new(ctx.clone()),
            ctx,
        })
    }
}

/// Every endpoint of an OpenID Provider, sharing one [`Context`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Provider {
    /// Shared context (configuration and ports): what grant handlers and other crates use to
    /// mint and resolve tokens.
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
    /// Login sessions (needs [`ProviderBuilder::sessions`]).
    pub sessions: Sessions,
    /// End-session endpoint: RP-Initiated, Front- and Back-Channel Logout 1.0 (needs
    /// [`ProviderBuilder::sessions`]).
    pub end_session: EndSessionEndpoint,
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
            sessions: None,
            clock: Arc::new(SystemClock),
            rng: Arc::new(OsRng::new()),
            registry: GrantRegistry::with_builtin(),
            contributors: Vec::new(),
            assertion_audiences: Vec::new(),
            authorization_extensions: Vec::new(),
        }
    }
}
