//! Where `idforge serve` keeps its state (`--database`): in memory, or on SQLite / PostgreSQL
//! through `idforge-store-sql`.
//!
//! With a database, the grants and tokens (codes, access and refresh tokens, `jti` marks),
//! pushed requests, device codes and the device page's attempt counts, CIBA requests, OID4VCI
//! templates and issuance state, the clients, the users and the signing keys live in it, so a
//! restart keeps them. The configuration file stays the source of truth for clients, users and
//! credential templates: they are upserted at every start. With `[attributes]`, the file's
//! users are a connected user store instead (not copied into the `users` table) and only
//! their `local` attributes live in the database (`local_user_attributes`, docs/attributes.md). Organizations and the login form's
//! sealing key stay in memory (their ports have no SQL implementation yet).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, Weak};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use idforge_jose::{JwsAlgorithm, Key};
use idforge_oauth_core::users::{AttributePlacement, FederatedUsers, PlacementPolicy};
use idforge_oauth_core::{
    AttemptLimiter, ClaimsSource, Client, ClientStore, ConnectedUserStore, DeviceCodeStore,
    GrantStore, LocalAttributeStore, PasswordVerifier, PushedRequestStore, SessionStore,
    UserLookup,
};
use idforge_store_sql::keys::StoredKey;
use idforge_store_sql::SqlStore;

use crate::seal::Sealer;
use crate::{ConfigError, ServeConfig, ServeError};

/// Where the provider's state lives.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Database {
    /// In memory: a restart forgets everything (`--database memory`).
    Memory,
    /// A SQL database URL: `sqlite://PATH`, `sqlite:///ABS/PATH` (created if missing),
    /// `postgres://…`.
    Url(String),
}

impl Database {
    /// `idforge serve`'s default: `idforge.db` in the current directory.
    pub const DEFAULT: &'static str = "sqlite://idforge.db";
}

impl std::str::FromStr for Database {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        if s == "memory" {
            return Ok(Database::Memory);
        }
        if s.starts_with("sqlite://")
            || s.starts_with("postgres://")
            || s.starts_with("postgresql://")
        {
            return Ok(Database::Url(s.to_owned()));
        }
        Err("expected `memory`, sqlite://PATH or postgres://...".into())
    }
}

/// `[database]`: how `idforge serve` sweeps expired rows from its SQL database and whether it
/// groups writes on PostgreSQL (ignored with `--database memory`).
///
/// ```toml
/// [database]
/// sweep_batch = 100      # rows deleted per statement (default 100, 1 to 100 000)
/// sweep_pause_ms = 20    # pause between two statements (default 20, at most 10 000)
/// group_writes = true    # PostgreSQL: concurrent requests' grant and token rows in one
///                        # statement (default true; decision 0023)
/// ```
///
/// A sweep of many expired rows (a wave of tokens that expired together) runs as short batches
/// with a pause between them, so requests reach the database in between: on SQLite every
/// request that issues a token needs the single write lock a batch holds, on PostgreSQL the
/// batches compete with requests for CPU (`benches/load/growth.sh`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct DatabaseConfig {
    /// Rows deleted per sweep statement.
    pub sweep_batch: u32,
    /// Milliseconds between two sweep statements (0: back to back).
    pub sweep_pause_ms: u64,
    /// PostgreSQL: write the grant and token rows of concurrent requests in one statement
    /// (`StoreOptions::group_writes`).
    pub group_writes: bool,
}

impl Default for DatabaseConfig {
    fn default() -> Self {
        let options = idforge_store_sql::StoreOptions::default();
        DatabaseConfig {
            sweep_batch: options.sweep_batch,
            sweep_pause_ms: u64::try_from(options.sweep_pause.as_millis()).unwrap_or(u64::MAX),
            group_writes: options.group_writes,
        }
    }
}

impl DatabaseConfig {
    /// The largest `sweep_batch`: a bigger statement holds SQLite's write lock for a long time.
    pub const MAX_SWEEP_BATCH: u32 = 100_000;

    /// The defaults (`StoreOptions`' sweep settings).
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `sweep_batch` and `sweep_pause_ms`.
    pub fn with_sweep(mut self, batch: u32, pause_ms: u64) -> Self {
        self.sweep_batch = batch;
        self.sweep_pause_ms = pause_ms;
        self
    }

    /// Sets `group_writes`.
    pub fn with_group_writes(mut self, on: bool) -> Self {
        self.group_writes = on;
        self
    }

    /// Whether this is the default (then the table is left out when serialized).
    pub fn is_default(&self) -> bool {
        *self == DatabaseConfig::default()
    }

    /// The store options these settings give, or the field at fault.
    pub fn store_options(&self) -> Result<idforge_store_sql::StoreOptions, ConfigError> {
        if self.sweep_batch == 0 || self.sweep_batch > Self::MAX_SWEEP_BATCH {
            return Err(ConfigError::Database {
                field: "sweep_batch",
                reason: "must be between 1 and 100000",
            });
        }
        idforge_store_sql::StoreOptions::new()
            .with_group_writes(self.group_writes)
            .with_sweep_batch(self.sweep_batch)
            .with_sweep_pause(Duration::from_millis(self.sweep_pause_ms))
            .map_err(|_| ConfigError::Database {
                field: "sweep_pause_ms",
                reason: "must be at most 10000",
            })
    }
}

impl ServeConfig {
    /// Sets the `[database]` table.
    pub fn with_database(mut self, database: DatabaseConfig) -> Self {
        self.database = database;
        self
    }
}

/// Every user-store port the provider and CIBA use.
pub(crate) trait Users: PasswordVerifier + UserLookup + ClaimsSource {}
impl<T: PasswordVerifier + UserLookup + ClaimsSource> Users for T {}

/// The stores a provider is built on.
pub(crate) enum Stores {
    /// Fresh in-memory stores per provider, except the local user attributes (`[attributes]`),
    /// which every provider of one server shares, so a write through the attributes API is
    /// seen at each organization's issuer too.
    Memory(MemoryShared),
    /// One SQL database.
    Sql(Box<SqlBacked>),
}

impl Default for Stores {
    fn default() -> Self {
        Stores::Memory(MemoryShared::default())
    }
}

/// What the in-memory providers of one server share.
#[derive(Default)]
pub(crate) struct MemoryShared {
    /// The local attributes of the file's users, created by the first provider built.
    local_attributes:
        std::sync::OnceLock<Arc<idforge_oauth_core::memory::MemoryLocalAttributeStore>>,
}

/// The users a provider is built on, and with `[attributes]` the composite the attributes API
/// writes through.
pub(crate) struct UserStores {
    pub(crate) users: Arc<dyn Users>,
    pub(crate) federated: Option<Arc<FederatedUsers>>,
}

pub(crate) struct SqlBacked {
    store: SqlStore,
    /// The database URL (synchronous callers get a pool of their own, see [`SideDatabase`]).
    url: String,
    /// The secret the form sealing keys derive from (drawn once, kept in the database).
    seal_root: [u8; 32],
    /// Started the first time a synchronous caller needs the database.
    side: Mutex<Option<SideDatabase>>,
    /// The signing key of each issuer built, loaded or created before the build.
    keys: HashMap<String, (Key, JwsAlgorithm)>,
    /// Clients of the configuration, upserted once the providers are built.
    clients: Mutex<Vec<Client>>,
}

impl Stores {
    /// The stored signing key of `issuer`, if any.
    pub(crate) fn key_for(&self, issuer: &str) -> Option<(Key, JwsAlgorithm)> {
        match self {
            Stores::Memory(_) => None,
            Stores::Sql(s) => s.keys.get(issuer).cloned(),
        }
    }

    /// The SQL store, when there is one.
    pub(crate) fn sql(&self) -> Option<&SqlStore> {
        match self {
            Stores::Memory(_) => None,
            Stores::Sql(s) => Some(&s.store),
        }
    }

    /// The client store of one provider serving `clients` (the configuration's clients of
    /// its issuer): in memory, or the database seen through those ids only, so an
    /// organization's clients never appear at another issuer.
    pub(crate) fn clients(&self, clients: Vec<Client>) -> Arc<dyn ClientStore> {
        match self {
            Stores::Memory(_) => Arc::new(
                idforge_oauth_core::memory::MemoryClientStore::with_clients(clients),
            ),
            Stores::Sql(s) => {
                let ids = clients.iter().map(|c| c.client_id.clone()).collect();
                let configured =
                    idforge_oauth_core::memory::MemoryClientStore::with_clients(clients.clone());
                s.clients
                    .lock()
                    .unwrap_or_else(|e| e.into_inner())
                    .extend(clients);
                Arc::new(ScopedClients {
                    configured,
                    store: s.store.clone(),
                    ids,
                })
            }
        }
    }

    /// The grant store (in memory: bounded by `[token_store]`).
    pub(crate) fn grants(
        &self,
        limits: idforge_oauth_core::memory::MemoryLimits,
    ) -> Arc<dyn GrantStore> {
        match self.sql() {
            None => Arc::new(idforge_oauth_core::memory::MemoryGrantStore::with_limits(
                limits,
            )),
            Some(s) => Arc::new(s.clone()),
        }
    }

    /// The login-session store (single sign-on, logout).
    pub(crate) fn sessions(&self) -> Arc<dyn SessionStore> {
        match self.sql() {
            None => Arc::new(idforge_oauth_core::memory::MemorySessionStore::new()),
            Some(s) => Arc::new(s.clone()),
        }
    }

    /// The login form's attempt limiter shared by every provider of the server (in memory:
    /// one per server; on a database: shared by every process).
    pub(crate) fn login_limiter(&self) -> Arc<dyn AttemptLimiter> {
        match self.sql() {
            None => Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new()),
            Some(s) => Arc::new(s.clone()),
        }
    }

    /// The pushed-request store (RFC 9126).
    pub(crate) fn pushed_requests(&self) -> Arc<dyn PushedRequestStore> {
        match self.sql() {
            None => Arc::new(idforge_oauth_core::memory::MemoryPushedRequestStore::new()),
            Some(s) => Arc::new(s.clone()),
        }
    }

    /// The device-code store and the attempt limiter (RFC 8628).
    pub(crate) fn device(&self) -> (Arc<dyn DeviceCodeStore>, Arc<dyn AttemptLimiter>) {
        match self.sql() {
            None => (
                Arc::new(idforge_oauth_core::memory::MemoryDeviceCodeStore::new()),
                Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new()),
            ),
            Some(s) => (Arc::new(s.clone()), Arc::new(s.clone())),
        }
    }

    /// The CIBA request store.
    pub(crate) fn ciba_requests(&self) -> Arc<dyn idforge_ciba::CibaRequestStore> {
        match self.sql() {
            None => Arc::new(idforge_ciba::memory::MemoryCibaRequestStore::new()),
            Some(s) => Arc::new(s.clone()),
        }
    }

    /// The users of `config`: in memory (added now), or the database (upserted by
    /// [`open`] before the build). With `[attributes]`, the file's users are a connected user
    /// store and the `local` attributes live in the database (or in memory), merged by
    /// oauth-core's `FederatedUsers`.
    pub(crate) fn users(&self, config: &ServeConfig) -> Result<UserStores, ServeError> {
        if let Some(attributes) = &config.attributes {
            let federated = self.federated_users(config, attributes)?;
            return Ok(UserStores {
                users: federated.clone(),
                federated: Some(federated),
            });
        }
        let users: Arc<dyn Users> = match self.sql() {
            None => {
                let users = idforge_oauth_core::memory::MemoryUserStore::new();
                for u in &config.users {
                    users
                        .add_user(
                            &u.username,
                            &u.password,
                            u.claims.clone(),
                            &idforge_oauth_core::OsRng::new(),
                        )
                        .map_err(ServeError::Provider)?;
                }
                Arc::new(users)
            }
            Some(s) => Arc::new(s.clone()),
        };
        Ok(UserStores {
            users,
            federated: None,
        })
    }
}

/// The name of the connected store the configuration file's users form: it keys their local
/// attributes in the database, so it never changes.
pub(crate) const CONFIG_STORE: &str = "config";

/// The file's `[[users]]` as a read-only connected user store: the file is their source of
/// truth, so a write of a connected attribute is refused (`Written::ReadOnly`).
struct FileUsers(idforge_oauth_core::memory::MemoryUserStore);

#[async_trait]
impl ConnectedUserStore for FileUsers {
    async fn user_attributes(
        &self,
        subject: &str,
    ) -> idforge_oauth_core::Result<Option<serde_json::Map<String, serde_json::Value>>> {
        self.0.user_attributes(subject).await
    }
    async fn verify_password(
        &self,
        username: &str,
        password: &str,
    ) -> idforge_oauth_core::Result<Option<String>> {
        self.0.verify_password(username, password).await
    }
    async fn find_subjects(
        &self,
        attributes: &[(&str, &str)],
    ) -> idforge_oauth_core::Result<Vec<String>> {
        self.0.find_subjects(attributes).await
    }
}

/// The file's values of the locally placed attributes, per subject: imported into the local
/// store when it has none (`LocalAttributeStore::seed_local`).
fn file_seeds(
    config: &ServeConfig,
    placement: &AttributePlacement,
) -> Vec<(String, serde_json::Map<String, serde_json::Value>)> {
    config
        .users
        .iter()
        .filter_map(|u| {
            let subject = u
                .claims
                .get("sub")
                .and_then(serde_json::Value::as_str)
                .unwrap_or(&u.username)
                .to_owned();
            let local: serde_json::Map<_, _> = placement
                .local()
                .filter_map(|name| u.claims.get(name).map(|v| (name.to_owned(), v.clone())))
                .collect();
            (!local.is_empty()).then_some((subject, local))
        })
        .collect()
}

impl Stores {
    fn federated_users(
        &self,
        config: &ServeConfig,
        attributes: &crate::config::AttributesConfig,
    ) -> Result<Arc<FederatedUsers>, ServeError> {
        let placement = attributes.placement().map_err(ServeError::Config)?;
        let file = idforge_oauth_core::memory::MemoryUserStore::new();
        for u in &config.users {
            file.add_user(
                &u.username,
                &u.password,
                u.claims.clone(),
                &idforge_oauth_core::OsRng::new(),
            )
            .map_err(ServeError::Provider)?;
        }
        let local: Arc<dyn LocalAttributeStore> = match self {
            // Seeded by `open` before the build.
            Stores::Sql(s) => Arc::new(s.store.clone()),
            Stores::Memory(shared) => {
                let memory = shared
                    .local_attributes
                    .get_or_init(Default::default)
                    .clone();
                // Set only where absent: a second provider's seeding never undoes a write.
                for (subject, values) in file_seeds(config, &placement) {
                    // The memory store never suspends.
                    block_on(memory.seed_local(CONFIG_STORE, &subject, &values))
                        .map_err(ServeError::Provider)?;
                }
                memory
            }
        };
        let users = FederatedUsers::builder(local)
            .connect(CONFIG_STORE, Arc::new(FileUsers(file)))
            .policy(PlacementPolicy::global(placement))
            .build()
            .map_err(|e| ServeError::Config(crate::ConfigError::Attributes(e)))?;
        Ok(Arc::new(users))
    }
}

/// A provider's view of the clients table: only the clients it serves. The configuration's
/// clients (the source of truth, upserted at start) answer from memory first, so a provider
/// built after the start-up upsert (an organization that became an issuer while serving)
/// finds its clients too.
struct ScopedClients {
    configured: idforge_oauth_core::memory::MemoryClientStore,
    store: SqlStore,
    ids: HashSet<String>,
}

#[async_trait]
impl ClientStore for ScopedClients {
    async fn client(&self, client_id: &str) -> idforge_oauth_core::Result<Option<Client>> {
        if !self.ids.contains(client_id) {
            return Ok(None);
        }
        if let Some(c) = self.configured.client(client_id).await? {
            return Ok(Some(c));
        }
        self.store.client(client_id).await
    }
}

fn unix_now() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

fn storage(e: impl std::fmt::Display) -> ServeError {
    ServeError::Storage(e.to_string())
}

/// Opens `url`, migrates it, upserts the configuration's users, and loads (or creates and
/// stores) the signing key of each issuer in `issuers` that the configuration gives no key.
pub(crate) async fn open(
    url: &str,
    config: &ServeConfig,
    issuers: &[String],
) -> Result<Stores, ServeError> {
    let options = config.database.store_options()?;
    let store = SqlStore::connect_with(url, options)
        .await
        .map_err(storage)?;
    let now = unix_now();
    match &config.attributes {
        // The file's users are idforge's own: upserted with their claims.
        None => {
            for u in &config.users {
                store
                    .upsert_user(&u.username, &u.password, u.claims.clone(), now)
                    .await
                    .map_err(storage)?;
            }
        }
        // The file is a connected store: only its values of the local attributes are
        // imported, where the database has none yet (a value written since wins).
        Some(attributes) => {
            let placement = attributes.placement().map_err(ServeError::Config)?;
            for (subject, values) in file_seeds(config, &placement) {
                store
                    .seed_local(CONFIG_STORE, &subject, &values)
                    .await
                    .map_err(storage)?;
            }
        }
    }
    // OID4VCI credential templates of the configuration (validated when saved).
    for t in &config.credential_templates {
        let template = t.to_template().map_err(ServeError::Config)?;
        idforge_oid4vci::ports::TemplateStore::put(&store, template)
            .await
            .map_err(storage)?;
    }
    let mut keys = HashMap::new();
    for issuer in issuers {
        let candidate = crate::oauth::generated_key().map_err(ServeError::Key)?;
        let stored = store
            .ensure_signing_key(StoredKey::new(
                issuer.clone(),
                candidate,
                JwsAlgorithm::ES256,
                now,
            ))
            .await
            .map_err(storage)?;
        keys.insert(issuer.clone(), (stored.key, stored.alg));
    }
    // The sealing secret: the first process to start draws it, every other one loads it.
    let mut candidate = [0u8; 32];
    idforge_jose::crypto::random_bytes(&mut candidate).map_err(|_| ServeError::Random)?;
    let seal_root: [u8; 32] = store
        .ensure_secret(SEAL_SECRET, &candidate, now)
        .await
        .map_err(storage)?
        .try_into()
        .map_err(|_| storage("the stored sealing secret is not 32 bytes"))?;
    Ok(Stores::Sql(Box::new(SqlBacked {
        store,
        url: url.to_owned(),
        seal_root,
        side: Mutex::default(),
        keys,
        clients: Mutex::default(),
    })))
}

/// Upserts the clients the build registered (the configuration file is their source of truth).
pub(crate) async fn persist_clients(stores: &Stores) -> Result<(), ServeError> {
    let Stores::Sql(s) = stores else {
        return Ok(());
    };
    let clients = std::mem::take(&mut *s.clients.lock().unwrap_or_else(|e| e.into_inner()));
    let now = unix_now();
    for c in &clients {
        s.store.upsert_client(c, now).await.map_err(storage)?;
    }
    Ok(())
}

/// Sweeps the database's expired rows every minute while `alive` lives.
pub(crate) fn spawn_sweeper<T: Send + Sync + 'static>(store: SqlStore, alive: Weak<T>) {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(60));
        // A paced sweep of a big expiry wave can outlast the minute: start the next one a
        // minute after, not at once to catch up.
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            if alive.upgrade().is_none() {
                return;
            }
            if let Err(e) = store.sweep_all(unix_now()).await {
                eprintln!("idforge serve: sweeping the database failed: {e}");
            }
        }
    });
}

/// The name of the sealing secret in `host_secrets`.
const SEAL_SECRET: &str = "idforge-serve form sealing";

/// A job for the side runtime.
type OrgJob = Box<dyn FnOnce(SqlStore) -> BoxFuture<'static, ()> + Send>;
type BoxFuture<'a, T> = std::pin::Pin<Box<dyn std::future::Future<Output = T> + Send + 'a>>;

/// The database for callers that cannot `.await`.
///
/// The server asks the organization stores (`OrganizationStore`, `SharingStore`, `RoleStore`)
/// from synchronous hooks (oauth-core's login and client filters, building an organization's
/// issuer), and records opened form values from the synchronous [`Sealer::open_once`]. So those
/// calls run on a runtime of their own, one thread with its own pool: every call is sent there
/// as a job and its answer comes back over a channel, which an async caller awaits and a
/// synchronous one waits for ([`block_on`]) without needing, or blocking, the server's runtime.
#[derive(Clone)]
pub(crate) struct SideDatabase {
    jobs: tokio::sync::mpsc::UnboundedSender<OrgJob>,
}

impl std::fmt::Debug for SideDatabase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SideDatabase").finish_non_exhaustive()
    }
}

fn gone() -> idforge_orgs::OrgError {
    idforge_orgs::OrgError::Store("the organization database thread stopped".into())
}

impl SideDatabase {
    /// Starts the thread and opens `url` there.
    fn start(url: &str) -> Result<SideDatabase, ServeError> {
        let (jobs, mut rx) = tokio::sync::mpsc::unbounded_channel::<OrgJob>();
        let (ready_tx, ready_rx) = std::sync::mpsc::channel::<Result<(), ServeError>>();
        let url = url.to_owned();
        std::thread::Builder::new()
            .name("idforge-orgs-db".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                {
                    Ok(rt) => rt,
                    Err(e) => {
                        let _ = ready_tx.send(Err(storage(e)));
                        return;
                    }
                };
                rt.block_on(async move {
                    // A small pool: only the synchronous callers use it.
                    let options = idforge_store_sql::StoreOptions::new().with_max_connections(4);
                    let store = match SqlStore::connect_with(&url, options).await {
                        Ok(s) => s,
                        Err(e) => {
                            let _ = ready_tx.send(Err(storage(e)));
                            return;
                        }
                    };
                    let _ = ready_tx.send(Ok(()));
                    // Until every handle is dropped (the server stopped).
                    while let Some(job) = rx.recv().await {
                        tokio::spawn(job(store.clone()));
                    }
                    store.close().await;
                });
            })
            .map_err(storage)?;
        ready_rx
            .recv()
            .map_err(|_| storage("the organization database thread stopped"))??;
        Ok(SideDatabase { jobs })
    }

    /// Runs `f` on the side runtime and returns its answer (`None` if the thread stopped).
    async fn run<R: Send + 'static>(
        &self,
        f: impl FnOnce(SqlStore) -> BoxFuture<'static, R> + Send + 'static,
    ) -> Option<R> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        let job: OrgJob = Box::new(move |store| {
            Box::pin(async move {
                let _ = tx.send(f(store).await);
            })
        });
        self.jobs.send(job).ok()?;
        rx.await.ok()
    }

    /// [`run`](Self::run) for the organization ports.
    async fn call<R: Send + 'static>(
        &self,
        f: impl FnOnce(SqlStore) -> BoxFuture<'static, idforge_orgs::Result<R>> + Send + 'static,
    ) -> idforge_orgs::Result<R> {
        self.run(f).await.ok_or_else(gone)?
    }
}

/// Forwards each method of `$trait` to the store's runtime.
macro_rules! forward {
    ($self:ident, $trait:ident :: $method:ident ( $($arg:ident),* )) => {
        $self.call(move |s| Box::pin(async move {
            idforge_orgs::$trait::$method(&s, $($arg),*).await
        })).await
    };
}

#[async_trait]
impl idforge_orgs::OrganizationStore for SideDatabase {
    async fn insert(&self, org: idforge_orgs::Organization) -> idforge_orgs::Result<()> {
        forward!(self, OrganizationStore::insert(org))
    }
    async fn get(
        &self,
        id: &idforge_orgs::OrgId,
    ) -> idforge_orgs::Result<Option<idforge_orgs::Organization>> {
        let id = id.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::get(&s, &id).await })
        })
        .await
    }
    async fn get_many(
        &self,
        ids: &[idforge_orgs::OrgId],
    ) -> idforge_orgs::Result<Vec<idforge_orgs::Organization>> {
        let ids = ids.to_vec();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::get_many(&s, &ids).await })
        })
        .await
    }
    async fn by_handle(
        &self,
        handle: &str,
    ) -> idforge_orgs::Result<Option<idforge_orgs::Organization>> {
        let handle = handle.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::by_handle(&s, &handle).await })
        })
        .await
    }
    async fn by_name(&self, name: &str) -> idforge_orgs::Result<Vec<idforge_orgs::Organization>> {
        let name = name.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::by_name(&s, &name).await })
        })
        .await
    }
    async fn by_email_domain(
        &self,
        domain: &str,
    ) -> idforge_orgs::Result<Option<idforge_orgs::Organization>> {
        let domain = domain.to_owned();
        self.call(move |s| {
            Box::pin(
                async move { idforge_orgs::OrganizationStore::by_email_domain(&s, &domain).await },
            )
        })
        .await
    }
    async fn children(
        &self,
        id: &idforge_orgs::OrgId,
    ) -> idforge_orgs::Result<Vec<idforge_orgs::Organization>> {
        let id = id.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::children(&s, &id).await })
        })
        .await
    }
    async fn descendants(
        &self,
        id: &idforge_orgs::OrgId,
    ) -> idforge_orgs::Result<Vec<idforge_orgs::Organization>> {
        let id = id.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::descendants(&s, &id).await })
        })
        .await
    }
    async fn update(&self, org: idforge_orgs::Organization) -> idforge_orgs::Result<()> {
        forward!(self, OrganizationStore::update(org))
    }
    async fn set_status(
        &self,
        id: &idforge_orgs::OrgId,
        status: idforge_orgs::OrgStatus,
    ) -> idforge_orgs::Result<()> {
        let id = id.clone();
        self.call(move |s| {
            Box::pin(
                async move { idforge_orgs::OrganizationStore::set_status(&s, &id, status).await },
            )
        })
        .await
    }
    async fn move_subtree(
        &self,
        id: &idforge_orgs::OrgId,
        new_parent: &idforge_orgs::OrgId,
    ) -> idforge_orgs::Result<idforge_orgs::Organization> {
        let (id, new_parent) = (id.clone(), new_parent.clone());
        self.call(move |s| {
            Box::pin(async move {
                idforge_orgs::OrganizationStore::move_subtree(&s, &id, &new_parent).await
            })
        })
        .await
    }
    async fn delete(
        &self,
        id: &idforge_orgs::OrgId,
        cascade: bool,
    ) -> idforge_orgs::Result<Vec<idforge_orgs::OrgId>> {
        let id = id.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::OrganizationStore::delete(&s, &id, cascade).await })
        })
        .await
    }
}

#[async_trait]
impl idforge_orgs::SharingStore for SideDatabase {
    async fn set_resident(
        &self,
        user: &str,
        resident: idforge_orgs::Resident,
    ) -> idforge_orgs::Result<()> {
        let user = user.to_owned();
        self.call(move |s| {
            Box::pin(
                async move { idforge_orgs::SharingStore::set_resident(&s, &user, resident).await },
            )
        })
        .await
    }
    async fn resident(&self, user: &str) -> idforge_orgs::Result<Option<idforge_orgs::Resident>> {
        let user = user.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::resident(&s, &user).await })
        })
        .await
    }
    async fn residents_in(
        &self,
        org: &idforge_orgs::OrgId,
        limit: usize,
    ) -> idforge_orgs::Result<Vec<String>> {
        let org = org.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::residents_in(&s, &org, limit).await })
        })
        .await
    }
    async fn remove_user(&self, user: &str) -> idforge_orgs::Result<()> {
        let user = user.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::remove_user(&s, &user).await })
        })
        .await
    }
    async fn shares(&self, user: &str) -> idforge_orgs::Result<idforge_orgs::UserShares> {
        let user = user.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::shares(&s, &user).await })
        })
        .await
    }
    async fn apply(
        &self,
        user: &str,
        change: idforge_orgs::model::ShareChange,
    ) -> idforge_orgs::Result<idforge_orgs::UserShares> {
        let user = user.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::apply(&s, &user, change).await })
        })
        .await
    }
    async fn forget_organizations(
        &self,
        orgs: &[idforge_orgs::OrgId],
    ) -> idforge_orgs::Result<Vec<String>> {
        let orgs = orgs.to_vec();
        self.call(move |s| {
            Box::pin(
                async move { idforge_orgs::SharingStore::forget_organizations(&s, &orgs).await },
            )
        })
        .await
    }
    async fn put_application(&self, app: idforge_orgs::Application) -> idforge_orgs::Result<()> {
        forward!(self, SharingStore::put_application(app))
    }
    async fn application(
        &self,
        client_id: &str,
    ) -> idforge_orgs::Result<Option<idforge_orgs::Application>> {
        let client_id = client_id.to_owned();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::SharingStore::application(&s, &client_id).await })
        })
        .await
    }
}

#[async_trait]
impl idforge_orgs::RoleStore for SideDatabase {
    async fn define_role(
        &self,
        org: &idforge_orgs::OrgId,
        role: idforge_orgs::Role,
    ) -> idforge_orgs::Result<()> {
        let org = org.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::define_role(&s, &org, role).await })
        })
        .await
    }
    async fn roles(
        &self,
        org: &idforge_orgs::OrgId,
        names: &[String],
    ) -> idforge_orgs::Result<Vec<idforge_orgs::Role>> {
        let (org, names) = (org.clone(), names.to_vec());
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::roles(&s, &org, &names).await })
        })
        .await
    }
    async fn all_roles(
        &self,
        org: &idforge_orgs::OrgId,
    ) -> idforge_orgs::Result<Vec<idforge_orgs::Role>> {
        let org = org.clone();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::all_roles(&s, &org).await })
        })
        .await
    }
    async fn assign(
        &self,
        org: &idforge_orgs::OrgId,
        user: &str,
        roles: Vec<String>,
    ) -> idforge_orgs::Result<()> {
        let (org, user) = (org.clone(), user.to_owned());
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::assign(&s, &org, &user, roles).await })
        })
        .await
    }
    async fn assigned(
        &self,
        org: &idforge_orgs::OrgId,
        user: &str,
    ) -> idforge_orgs::Result<Vec<String>> {
        let (org, user) = (org.clone(), user.to_owned());
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::assigned(&s, &org, &user).await })
        })
        .await
    }
    async fn forget_organizations(&self, orgs: &[idforge_orgs::OrgId]) -> idforge_orgs::Result<()> {
        let orgs = orgs.to_vec();
        self.call(move |s| {
            Box::pin(async move { idforge_orgs::RoleStore::forget_organizations(&s, &orgs).await })
        })
        .await
    }
}

/// Runs `f` to completion on this thread, parking it while `f` waits: for futures whose
/// progress is made elsewhere (the memory stores, which never suspend, and [`SideDatabase`],
/// whose thread answers), never for futures needing this thread's runtime.
pub(crate) fn block_on<F: std::future::Future>(f: F) -> F::Output {
    /// Wakes the parked thread.
    struct Unpark(std::thread::Thread);
    impl std::task::Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
    }
    // Outside tokio's cooperative budget: an exhausted budget would answer `Pending` forever.
    let mut f = std::pin::pin!(tokio::task::unconstrained(f));
    let waker = std::task::Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = std::task::Context::from_waker(&waker);
    loop {
        match std::future::Future::poll(f.as_mut(), &mut cx) {
            std::task::Poll::Ready(v) => return v,
            // Spurious wake-ups only poll again.
            std::task::Poll::Pending => std::thread::park(),
        }
    }
}

/// Records opened form values in the database's `jti` marks (`GrantStore::mark`), so a form is
/// accepted once across every process sharing the sealing key.
struct SealLedger(SideDatabase);

impl crate::seal::SpentLedger for SealLedger {
    fn spend(&self, id: &str, exp: i64, now: i64) -> bool {
        let key = idforge_oauth_core::TokenHash::of(&format!("idforge-serve sealed form {id}"));
        let marked = block_on(
            self.0
                .run(move |s| Box::pin(async move { GrantStore::mark(&s, &key, exp, now).await })),
        );
        // Recorded by this call; a store failure fails closed.
        matches!(marked, Some(Ok(true)))
    }
}

impl SqlBacked {
    /// The side database, started at the first call.
    fn side(&self) -> Result<SideDatabase, ServeError> {
        let mut side = self.side.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(db) = side.as_ref() {
            return Ok(db.clone());
        }
        let db = SideDatabase::start(&self.url)?;
        *side = Some(db.clone());
        Ok(db)
    }
}

impl Stores {
    /// The organization stores on the database (`root` stored unless a root is), or `None` in
    /// memory.
    pub(crate) fn org_database(
        &self,
        root: &idforge_orgs::Organization,
    ) -> Result<Option<SideDatabase>, ServeError> {
        let Stores::Sql(s) = self else {
            return Ok(None);
        };
        let db = s.side()?;
        let root = root.clone();
        block_on(
            db.call(move |s| Box::pin(async move { s.ensure_root_organization(&root).await })),
        )
        .map_err(storage)?;
        Ok(Some(db))
    }

    /// The sealer of the forms (or cookie) `role` names, whose values live `ttl` seconds: in
    /// memory a fresh random key; on a database a key derived from the stored sealing secret
    /// (HMAC-SHA-256 over `role`, so each role and issuer has its own key), shared by every
    /// process, with opened values recorded in the database.
    pub(crate) fn sealer(&self, role: &str, ttl: i64) -> Result<Sealer, ServeError> {
        let Stores::Sql(s) = self else {
            return Sealer::with_ttl(ttl).ok_or(ServeError::Random);
        };
        let mut input = b"idforge-serve sealer\0".to_vec();
        input.extend_from_slice(role.as_bytes());
        let key: [u8; 32] =
            idforge_jose::crypto::hmac(idforge_jose::crypto::HashAlg::Sha256, &s.seal_root, &input)
                .ok()
                .and_then(|k| k.try_into().ok())
                .ok_or(ServeError::Random)?;
        Ok(Sealer::shared(key, ttl, Arc::new(SealLedger(s.side()?))))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn database_table_parses_validates_and_defaults() {
        let c =
            ServeConfig::from_toml("[database]\nsweep_batch = 200\nsweep_pause_ms = 50\n").unwrap();
        assert_eq!(c.database, DatabaseConfig::new().with_sweep(200, 50));
        let options = c.database.store_options().unwrap();
        assert_eq!(options.sweep_batch, 200);
        assert_eq!(options.sweep_pause, Duration::from_millis(50));
        // Absent: the store's defaults, and the table is left out when serialized.
        let d = ServeConfig::from_toml("").unwrap();
        assert!(d.database.is_default());
        assert_eq!(
            d.database.store_options().unwrap(),
            idforge_store_sql::StoreOptions::default()
        );
        assert!(!toml::to_string(&d).unwrap().contains("[database]"));
    }

    #[test]
    fn database_values_out_of_range_are_refused() {
        for (text, field) in [
            ("sweep_batch = 0", "sweep_batch"),
            ("sweep_batch = 100001", "sweep_batch"),
            ("sweep_pause_ms = 10001", "sweep_pause_ms"),
        ] {
            let e = ServeConfig::from_toml(&format!("[database]\n{text}\n")).unwrap_err();
            assert!(
                matches!(e, ConfigError::Database { field: f, .. } if f == field),
                "{text}: {e}"
            );
        }
        assert!(ServeConfig::from_toml("[database]\nsweep_pause_ms = 0\n").is_ok());
        assert!(matches!(
            ServeConfig::from_toml("[database]\nsweep = 1\n"),
            Err(ConfigError::Parse(_))
        ));
    }
}
