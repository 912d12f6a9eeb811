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

mod ciba;
mod config;
mod device;
mod oauth;
pub mod oid4vci;
mod orgs;
mod pages;
mod seal;
mod storage;
mod token_exchange;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Instant;

use axum::extract::Request;
use axum::middleware::{self, Next};
use axum::response::Response;
use axum::Router;

pub use config::{
    ClientAuth, ClientConfig, ConfigError, DeviceConfig, NotificationsConfig, ServeConfig,
    TokenFormat, TrustedIssuerConfig, UserConfig, ADMINISTRATIVE_SCOPES, DEMO_CONFIG,
};
pub use orgs::{OrganizationConfig, OrganizationSettingsConfig, RootConfig, ShareConfig};
pub use storage::Database;

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
    /// The organization management API, when organizations are configured.
    orgs: Option<Arc<orgs::ApiState>>,
    /// The providers of self-issuing organizations, by organization id.
    issuers: Vec<(String, Arc<oauth::OAuth>)>,
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
/// organization with `issuer = "self"` gets its own provider at `{issuer}/o/{org_id}` (own
/// key, discovery, JWKS, authorize and token endpoints) serving the clients registered in it,
/// its authorization codes carrying the organization's claims and its token exchange trusting
/// the organization's inherited trusted issuers.
pub fn build(config: &ServeConfig, default_issuer: &str) -> Result<ServerState, ServeError> {
    build_on(config, default_issuer, &storage::Stores::Memory)
}

/// [`build`] on `database`: in memory, or on SQLite / PostgreSQL, where grants, tokens,
/// pushed requests, device codes, clients, users and the signing keys survive a restart and
/// are shared by every process on the same database (see `docs/storage.md`). The
/// configuration's clients and users are upserted; expired rows are swept every minute while
/// the state lives.
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
    let stores = storage::open(url, config, &issuers(config, default_issuer)?).await?;
    let state = build_on(config, default_issuer, &stores)?;
    storage::persist_clients(&stores).await?;
    if let Some(sql) = stores.sql() {
        storage::spawn_sweeper(sql.clone(), Arc::downgrade(&state.oauth));
    }
    Ok(state)
}

/// The issuers [`build_on`] will build: the root's and each self-issuing organization's.
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
    backing: &storage::Stores,
) -> Result<ServerState, ServeError> {
    if !orgs::enabled(config) {
        let oauth = Arc::new(oauth::build_on(config, default_issuer, backing)?);
        // CIBA: expired requests are swept (and push / ping clients told) while the state lives.
        ciba::spawn_sweeper(Arc::downgrade(&oauth));
        return Ok(ServerState {
            oauth,
            orgs: None,
            issuers: Vec::new(),
        });
    }
    config.validate()?;
    let stores = Arc::new(orgs::build(config)?);
    let self_issuing = orgs::self_issuing(config);
    let in_org = |c: &ClientConfig, id: &str| c.organization.as_deref() == Some(id);
    let mut root_config = config.clone();
    root_config
        .clients
        .retain(|c| !self_issuing.iter().any(|id| in_org(c, id)));
    orgs::apply_settings(&mut root_config, &stores);
    let root_id = idforge_orgs::OrgId::root();
    let root = Arc::new(oauth::build_with(
        &root_config,
        default_issuer,
        stores.grant_handlers(&root_id),
        stores.authorization_extensions(&root_id),
        None,
        backing,
    )?);
    let mut issuers = Vec::new();
    for id in self_issuing {
        let org_id =
            idforge_orgs::OrgId::new(id.clone()).map_err(|e| ConfigError::Organization {
                id: id.clone(),
                reason: e.to_string(),
            })?;
        let mut c = config.clone();
        c.issuer = Some(idforge_orgs::issuer::organization_issuer(
            root.issuer(),
            &org_id,
        ));
        // Its own key: tokens of one organization never verify at another.
        c.signing_key = None;
        // Token exchange trusts the organization's inherited trusted issuers.
        c.trusted_issuers = orgs::trusted_issuers(config, &stores, &org_id)?;
        c.clients.retain(|cl| in_org(cl, &id));
        orgs::apply_settings(&mut c, &stores);
        // Only the organization's members (resident or shared, as the stores say at login time)
        // log in at its issuer.
        let (members, member_org) = (stores.clone(), org_id.clone());
        let filter: oauth::LoginFilter =
            Arc::new(move |subject: &str| members.is_member(subject, &member_org));
        let oauth = oauth::build_with(
            &c,
            default_issuer,
            stores.grant_handlers(&org_id),
            stores.authorization_extensions(&org_id),
            Some(filter),
            backing,
        )?;
        let oauth = Arc::new(oauth);
        ciba::spawn_sweeper(Arc::downgrade(&oauth));
        issuers.push((id, oauth));
    }
    ciba::spawn_sweeper(Arc::downgrade(&root));
    Ok(ServerState {
        orgs: Some(Arc::new(orgs::ApiState {
            orgs: stores,
            root: root.clone(),
        })),
        oauth: root,
        issuers,
    })
}

/// The provider's routes with their state applied: discovery, JWKS, authorize (login and
/// consent pages), token, PAR, UserInfo, introspection, revocation.
///
/// The router has a fallback (the provider's non-interactive endpoints, else 404), so
/// `.merge()` it into an app that has no fallback of its own, or `.nest()` it under a prefix
/// that is also the issuer's path (`https://host/idp` nested at `/idp`).
pub fn router(state: &ServerState) -> Router {
    let mut r = oauth::routes(state.oauth.clone());
    if let Some(api) = &state.orgs {
        // Organization discovery at the root's /authorize routes to organizations' issuers.
        r = orgs::discovery_routing(r, api.clone());
        r = r.merge(orgs::api_routes(api.clone()));
    }
    orgs::issuer_routes(r, &state.issuers)
}

/// Binds `addr`, builds the provider (issuer `http://ADDR` unless configured), prints where it
/// listens, the issuer, the discovery URL, the clients and users on stdout, logs each request
/// on stderr, and serves until the process stops.
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
    println!("backchannel authentication: {issuer}/bc-authorize");
    for (id, org) in &state.issuers {
        println!("organization {id}: issuer {}", org.issuer());
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
    let app = router(&state).layer(middleware::from_fn(log_requests));
    // Connect info: the client address keys the device page's attempt limit.
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await?;
    Ok(())
}

/// One stderr line per request: method, path, status, milliseconds.
async fn log_requests(req: Request, next: Next) -> Response {
    let (method, path) = (req.method().clone(), req.uri().path().to_owned());
    let start = Instant::now();
    let resp = next.run(req).await;
    eprintln!(
        "{method} {path} {} {:.1}ms",
        resp.status().as_u16(),
        start.elapsed().as_secs_f64() * 1000.0
    );
    resp
}

/// The README's examples, compiled as doctests.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
