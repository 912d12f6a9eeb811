//! # idforge-server
//!
//! The reference axum host for idforge: a TOML configuration ([`ServeConfig`]) becomes an
//! OpenID Provider ([`build`]) and an [`axum::Router`] ([`router`]) that a Rust service merges
//! into its own app, or that [`serve`] runs on its own (what `idforge serve` does).
//!
//! ```no_run
//! use axum::{routing::get, Router};
//! use idforge_server::{ClientConfig, ServeConfig};
//!
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
//! let issuer = format!("http://{}", listener.local_addr()?);
//! let config = ServeConfig::new().with_client(
//!     ClientConfig::new("backend")
//!         .with_secret("backend-secret")
//!         .with_grant_types(["client_credentials"])
//!         .with_scopes(["profile"]),
//! );
//! let idp = idforge_server::build(&config, &issuer)?;
//! let app = Router::new()
//!     .route("/hello", get(|| async { "hello" }))
//!     .merge(idforge_server::router(&idp));
//! axum::serve(listener, app).await?;
//! # Ok(())
//! # }
//! ```
//!
//! Modules: one per protocol crate that plugs its routes in (OAuth 2.0 / OpenID Connect from
//! `idforge-oauth-core`, CIBA from `idforge-ciba`), and the HTML pages (login, consent, error;
//! every value escaped). The stores are in memory: a restart forgets grants and tokens.
#![forbid(unsafe_code)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

mod access_log;
mod attributes;
mod ciba;
mod config;
mod device;
pub mod limits;
mod login;
mod logout;
mod oauth;
pub mod oid4vci;
mod orgs;
mod outbound;
mod pages;
mod seal;
mod sessions;
mod storage;
mod token_exchange;
mod token_store;
pub mod trace;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::response::Response;
use axum::Router;

pub use config::{
    AttributesConfig, ClientAuth, ClientConfig, ConfigError, DeviceConfig, NotificationsConfig,
    ServeConfig, TokenFormat, TrustedIssuerConfig, UserConfig, ADMINISTRATIVE_SCOPES, DEMO_CONFIG,
};
pub use limits::{serve_with_limits, LimitsConfig};
pub use login::LoginConfig;
pub use orgs::{OrganizationConfig, OrganizationSettingsConfig, RootConfig, ShareConfig};
pub use outbound::OutboundConfig;
pub use pages::{BrandingConfig, FooterLink, PagesConfig};
pub use sessions::SessionsConfig;
pub use storage::{Database, DatabaseConfig};
pub use token_store::TokenStoreConfig;

/// Why the server could not be built or run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServeError {
    /// The configuration is invalid.
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address.
        addr: SocketAddr,
        /// The operating system's reason.
        source: std::io::Error,
    },
    /// An I/O error while serving.
    #[error("{0}")]
    Io(#[from] std::io::Error),
    /// The signing key could not be generated or loaded into a signer.
    #[error("signing key: {0}")]
    Key(#[source] idforge_jose::Error),
    /// The provider refused its configuration (for instance the issuer).
    #[error("{0}")]
    Provider(#[source] idforge_oauth_core::Error),
    /// The provider or a client registration refused its configuration (for instance the
    /// issuer).
    #[error("{0}")]
    ProviderConfig(#[source] idforge_oauth_core::ConfigError),
    /// The random source failed.
    #[error("random source unavailable")]
    Random,
    /// The database (`--database`) could not be opened, migrated or written.
    #[error("database: {0}")]
    Storage(String),
}

/// A built provider and the state its routes share. Cloning is cheap (one `Arc`).
#[derive(Debug, Clone)]
pub struct ServerState {
    oauth: Arc<oauth::OAuth>,
    /// The organization management API and the organizations' own issuers, when
    /// organizations are configured.
    orgs: Option<Arc<orgs::ApiState>>,
    /// `[limits]`: applied by [`router`] (request bounds) and [`serve`] (connections).
    limits: LimitsConfig,
}

impl ServerState {
    /// The issuer identifier.
    pub fn issuer(&self) -> &str {
        self.oauth.issuer()
    }

    /// The OpenID Provider, for calling its endpoints directly (say, the token endpoint from a
    /// test or an admin task).
    pub fn provider(&self) -> &idforge_oauth_core::Provider {
        &self.oauth.provider
    }
}

/// Validates `config` and builds the provider with in-memory stores. `default_issuer` is the
/// issuer when the configuration names none (`idforge serve` passes `http://ADDR`).
///
/// With organizations configured, the root provider also serves the `organization_switch`
/// grant, supports the `org_admin` scope and the management API under `/api/`; each
/// organization with `issuer = "self"` (configured, or made so through the API while serving)
/// gets its own provider at `{issuer}/o/{org_id}` (own key, discovery, JWKS, authorize, token,
/// device and CIBA endpoints) serving the clients registered in it, its authorization-code,
/// device-code and CIBA tokens carrying the organization's claims and its token exchange
/// trusting the organization's inherited trusted issuers.
pub fn build(config: &ServeConfig, default_issuer: &str) -> Result<ServerState, ServeError> {
    build_with_login_limiter(
        config,
        default_issuer,
        Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new()),
    )
}

/// [`build`] with the host's own limiter counting login form password attempts (per user name
/// and per client address, `[login]`): a deployment of several nodes passes its shared one.
/// [`build`] uses an in-memory limiter.
pub fn build_with_login_limiter(
    config: &ServeConfig,
    default_issuer: &str,
    login_limiter: Arc<dyn idforge_oauth_core::AttemptLimiter>,
) -> Result<ServerState, ServeError> {
    build_on(
        config,
        default_issuer,
        Arc::new(storage::Stores::default()),
        login_limiter,
    )
}

/// [`build`] on `database`: in memory, or on SQLite / PostgreSQL, where grants, tokens,
/// pushed requests, device codes, sessions, clients, users and the signing keys survive a
/// restart and are shared by every process on the same database (see `docs/storage.md`); the
/// login form's attempt limits are counted in it too. The configuration's clients and users
/// are upserted; expired rows are swept every minute while the state lives.
pub async fn build_with_database(
    config: &ServeConfig,
    default_issuer: &str,
    database: &Database,
) -> Result<ServerState, ServeError> {
    let url = match database {
        Database::Memory => return build(config, default_issuer),
        Database::Url(url) => url,
    };
    config.validate()?;
    let stores = Arc::new(storage::open(url, config, &issuers(config, default_issuer)?).await?);
    let state = build_on(
        config,
        default_issuer,
        stores.clone(),
        stores.login_limiter(),
    )?;
    storage::persist_clients(&stores).await?;
    if let Some(sql) = stores.sql() {
        storage::spawn_sweeper(sql.clone(), Arc::downgrade(&state.oauth));
    }
    Ok(state)
}

/// The issuers whose signing keys are kept in the database: the root's and each
/// organization's configured with `issuer = "self"` (one made an issuer while serving gets a
/// key of its own that a restart does not keep).
fn issuers(config: &ServeConfig, default_issuer: &str) -> Result<Vec<String>, ServeError> {
    let root =
        idforge_oauth_core::Config::new(config.issuer.as_deref().unwrap_or(default_issuer)).issuer;
    let mut out = vec![root.clone()];
    if orgs::enabled(config) {
        for id in orgs::self_issuing(config) {
            let org_id =
                idforge_orgs::OrgId::new(id.clone()).map_err(|e| ConfigError::Organization {
                    id: id.clone(),
                    reason: e.to_string(),
                })?;
            let issuer = idforge_orgs::issuer::organization_issuer(&root, &org_id);
            out.push(idforge_oauth_core::Config::new(issuer).issuer);
        }
    }
    Ok(out)
}

fn build_on(
    config: &ServeConfig,
    default_issuer: &str,
    stores: Arc<storage::Stores>,
    login_limiter: Arc<dyn idforge_oauth_core::AttemptLimiter>,
) -> Result<ServerState, ServeError> {
    if !orgs::enabled(config) {
        let oauth = Arc::new(oauth::build_with(
            config,
            default_issuer,
            oauth::Additions {
                login_limiter: Some(login_limiter),
                stores,
                ..oauth::Additions::default()
            },
        )?);
        // CIBA: expired requests are swept (and push / ping clients told) while the state lives.
        ciba::spawn_sweeper(Arc::downgrade(&oauth));
        return Ok(ServerState {
            oauth,
            orgs: None,
            limits: config.limits,
        });
    }
    let (root, api) = orgs::providers(config, default_issuer, login_limiter, stores)?;
    ciba::spawn_sweeper(Arc::downgrade(&root));
    Ok(ServerState {
        oauth: root,
        orgs: Some(api),
        limits: config.limits,
    })
}

/// The provider's routes with their state applied: discovery, JWKS, authorize (login and
/// consent pages), token, PAR, UserInfo, introspection, revocation; with `[attributes]`, the
/// user attributes API (`GET`/`PATCH /api/users/{username}/attributes`, scope `user_admin`).
///
/// Every route is under the request bounds of `[limits]` ([`limits::layer`]): URI and header
/// sizes, body size, a request timeout; every error without a body of its own is the RFC 6749
/// §5.2 JSON object, and HTML pages are never framed or cached. Every request runs in a
/// `tracing` span ([`trace`]: request id, endpoint, client id, grant type, status, error code,
/// latency), free when no subscriber listens at INFO.
///
/// The router has a fallback (the provider's non-interactive endpoints, else 404), so
/// `.merge()` it into an app that has no fallback of its own, or `.nest()` it under a prefix
/// that is also the issuer's path (`https://host/idp` nested at `/idp`).
pub fn router(state: &ServerState) -> Router {
    let mut r = oauth::routes(state.oauth.clone());
    if state.oauth.attributes.is_some() {
        // `[attributes]`: the user attributes API, at the root issuer only.
        r = r.merge(attributes::routes(state.oauth.clone()));
    }
    if let Some(api) = &state.orgs {
        // Organization discovery at the root's /authorize routes to organizations' issuers.
        r = orgs::discovery_routing(r, api.clone());
        r = r
            .merge(orgs::api_routes(api.clone()))
            .merge(orgs::issuer_routes(api.clone()));
    }
    // Request spans (`trace`) around the limits, the form fields they record inside them.
    let limits = state.limits;
    trace::layer(r, limits.max_body_bytes, |r| limits::layer(r, &limits))
}

/// Binds `addr`, builds the provider (issuer `http://ADDR` unless configured), prints where it
/// listens, the issuer, the discovery and JWKS URLs, the limits, the clients and users on
/// stdout, logs each request on stderr (one line each, buffered and written at least every
/// 100 ms), and serves until the process stops.
pub async fn serve(addr: SocketAddr, config: ServeConfig) -> Result<(), ServeError> {
    run(addr, config, false, &Database::Memory).await
}

/// [`serve`] with the built-in demo configuration, printed first.
pub async fn serve_demo(addr: SocketAddr) -> Result<(), ServeError> {
    let config = ServeConfig::from_toml(DEMO_CONFIG)?;
    run(addr, config, true, &Database::Memory).await
}

/// [`serve`] keeping the state in `database` ([`build_with_database`]); `config` `None` is
/// the built-in demo configuration, printed first. What `idforge serve --database` runs.
pub async fn serve_with_database(
    addr: SocketAddr,
    config: Option<ServeConfig>,
    database: &Database,
) -> Result<(), ServeError> {
    match config {
        Some(c) => run(addr, c, false, database).await,
        None => run(addr, ServeConfig::from_toml(DEMO_CONFIG)?, true, database).await,
    }
}

async fn run(
    addr: SocketAddr,
    config: ServeConfig,
    print_config: bool,
    database: &Database,
) -> Result<(), ServeError> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|source| ServeError::Listen { addr, source })?;
    let bound = listener.local_addr()?;
    let state = build_with_database(&config, &format!("http://{bound}"), database).await?;
    let issuer = state.issuer();
    if print_config {
        println!("{DEMO_CONFIG}");
    }
    println!("idforge serve: listening on http://{bound}");
    println!("issuer: {issuer}");
    println!("discovery: {issuer}/.well-known/openid-configuration");
    println!("jwks: {issuer}{}", state.provider().ctx.config.jwks_path);
    let l = &config.limits;
    println!(
        "limits: {} connections, headers within {} ms, requests within {} ms, bodies up to {} bytes",
        l.max_connections, l.header_read_timeout_ms, l.request_timeout_ms, l.max_body_bytes
    );
    println!("backchannel authentication: {issuer}/bc-authorize");
    for (id, org_issuer) in state.orgs.iter().flat_map(|o| o.issuers.built()) {
        println!("organization {id}: issuer {org_issuer}");
    }
    for c in &config.clients {
        println!(
            "client: client_id={} client_secret={} redirect_uris={}",
            c.client_id,
            c.client_secret.as_deref().unwrap_or("(none)"),
            c.redirect_uris.join(",")
        );
    }
    for u in &config.users {
        println!("user: {} / {}", u.username, u.password);
    }
    // The access log is buffered and written in batches (issue 19 §3), not once per request.
    let log = Arc::new(access_log::AccessLog::default());
    log.clone()
        .flush_every(std::time::Duration::from_millis(100));
    let app = router(&state).layer(tower::layer::layer_fn(move |inner| LogRequests {
        inner,
        log: log.clone(),
    }));
    // Connection bounds; the client address (connect info) keys the attempt limits.
    serve_with_limits(listener, app, &config.limits).await?;
    Ok(())
}

/// One stderr line per request: method, path, status, milliseconds (buffered, see
/// `access_log`). A plain tower service rather than `middleware::from_fn`, which per request
/// clones and re-boxes the inner service and boxes a second future (issue 19 §3).
#[derive(Clone)]
struct LogRequests<S> {
    inner: S,
    log: Arc<access_log::AccessLog>,
}

type BoxResponse = std::pin::Pin<
    Box<dyn std::future::Future<Output = Result<Response, std::convert::Infallible>> + Send>,
>;

impl<S> tower::Service<Request> for LogRequests<S>
where
    S: tower::Service<Request, Response = Response, Error = std::convert::Infallible>
        + Send
        + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = std::convert::Infallible;
    type Future = BoxResponse;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        // Both clones are reference-count increments, not copies of the path.
        let (method, uri) = (req.method().clone(), req.uri().clone());
        let start = Instant::now();
        let fut = self.inner.call(req);
        let log = self.log.clone();
        Box::pin(async move {
            let Ok(resp) = fut.await;
            log.record(
                method.as_str(),
                uri.path(),
                resp.status().as_u16(),
                start.elapsed(),
            );
            Ok(resp)
        })
    }
}

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
