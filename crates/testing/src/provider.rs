//! [`TestProvider`]: one or more real issuers (oauth-core's `Provider` on the memory stores)
//! sharing a controllable clock, each with a seeded random source and keys derived from the
//! seed.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use idforge_ciba::memory::{MemoryCibaRequestStore, MemoryUserResolver, RecordingNotifier};
use idforge_ciba::{Ciba, CibaClient, CibaConfig};
use idforge_jose::{FixedClock, JwkSet, JwsAlgorithm, KeyRing, LocalSigner};
use idforge_oauth_core::device::DeviceSettings;
use idforge_oauth_core::memory::{
    MemoryAttemptLimiter, MemoryClientStore, MemoryDeviceCodeStore, MemoryGrantStore,
    MemoryUserStore,
};
use idforge_oauth_core::{
    Client, Config, DeviceAuthorizationEndpoint, DeviceFlow, DeviceVerification, Provider,
    TokenExchangeGrant,
};
use serde_json::{json, Map, Value};

use crate::error::TestError;
use crate::flows::ScriptedLogin;
use crate::keys;
use crate::rng::SeededRng;

/// The base URL of in-process providers (a reserved name, RFC 6761 §6.2: never resolvable).
pub const DEFAULT_BASE_URL: &str = "https://idp.test";
/// Where the clock starts unless [`TestProviderBuilder::start_time`] says otherwise:
/// 2026-01-01T00:00:00Z.
pub const DEFAULT_START_TIME: i64 = 1_767_225_600;
/// The confidential client every issuer registers (`client_secret_basic`, every grant).
pub const TEST_CLIENT_ID: &str = "test-client";
/// [`TEST_CLIENT_ID`]'s secret.
pub const TEST_CLIENT_SECRET: &str = "test-secret";
/// The public client every issuer registers (PKCE, authorization code, refresh, device).
pub const PUBLIC_CLIENT_ID: &str = "test-public";
/// The redirect URI of both default clients. A loopback URI: for the public client any port
/// matches (RFC 8252 §7.3), the confidential one's are matched exactly (RFC 9700 §4.1.3; add
/// yours with [`IssuerSpec::with_redirect_uri`]).
pub const DEFAULT_REDIRECT_URI: &str = "http://127.0.0.1/callback";
/// The password of every user added with [`IssuerSpec::with_user`].
pub const TEST_USER_PASSWORD: &str = "password";

const CIBA: &str = idforge_ciba::GRANT_TYPE;
const TOKEN_EXCHANGE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
const DEVICE_CODE: &str = "urn:ietf:params:oauth:grant-type:device_code";

/// One issuer of a [`TestProvider`]: where it lives, how it signs, who it knows.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct IssuerSpec {
    /// Path below the provider's base URL (`""`: the base URL itself).
    pub path: String,
    /// The signing algorithm (default `EdDSA`, whose tokens are byte-identical run to run).
    pub algorithm: JwsAlgorithm,
    /// Extra clients besides [`TEST_CLIENT_ID`] and [`PUBLIC_CLIENT_ID`].
    pub clients: Vec<Client>,
    /// Users: login name and claims (`sub` defaults to the login name).
    pub users: Vec<(String, Map<String, Value>)>,
    /// Extra redirect URIs of the default clients.
    pub redirect_uris: Vec<String>,
}

impl IssuerSpec {
    /// An issuer at `path` below the base URL (`""` for the base URL), signing with `EdDSA`,
    /// knowing user `alice`.
    pub fn new(path: impl Into<String>) -> Self {
        let mut alice = Map::new();
        alice.insert("name".into(), json!("Alice Liddell"));
        alice.insert("email".into(), json!("alice@example.com"));
        alice.insert("email_verified".into(), json!(true));
        IssuerSpec {
            path: path.into().trim_matches('/').to_owned(),
            algorithm: JwsAlgorithm::EdDSA,
            clients: Vec::new(),
            users: vec![("alice".into(), alice)],
            redirect_uris: Vec::new(),
        }
    }

    /// Signs with `alg` ([`SUPPORTED_ALGORITHMS`](crate::SUPPORTED_ALGORITHMS)).
    pub fn with_algorithm(mut self, alg: JwsAlgorithm) -> Self {
        self.algorithm = alg;
        self
    }

    /// Registers `client` (any oauth-core registration).
    pub fn with_client(mut self, client: Client) -> Self {
        self.clients.push(client);
        self
    }

    /// Adds a user with these claims (a JSON object; `sub` defaults to `username`), password
    /// [`TEST_USER_PASSWORD`].
    pub fn with_user(mut self, username: impl Into<String>, claims: Value) -> Self {
        let claims = match claims {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        self.users.push((username.into(), claims));
        self
    }

    /// Adds a redirect URI to the default clients.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }
}

/// Builds a [`TestProvider`]: seed, clock start, base URL, issuers.
#[derive(Debug, Clone)]
pub struct TestProviderBuilder {
    seed: u64,
    start_time: i64,
    base_url: String,
    issuers: Vec<IssuerSpec>,
}

impl TestProviderBuilder {
    /// The seed of every key and random value (default 0).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = seed;
        self
    }

    /// Where the clock starts, in Unix seconds (default [`DEFAULT_START_TIME`]).
    pub fn start_time(mut self, unix_seconds: i64) -> Self {
        self.start_time = unix_seconds;
        self
    }

    /// Starts the clock at the system's time, for verifiers that read the wall clock (most
    /// JWT libraries): tokens then differ run to run in their time claims (and what follows
    /// from them), so prefer a fixed start and a verifier whose clock can be set.
    pub fn start_at_system_time(self) -> Self {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map(|d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX))
            .unwrap_or(DEFAULT_START_TIME);
        self.start_time(now)
    }

    /// The base URL of in-process issuers (default [`DEFAULT_BASE_URL`]); [`Self::serve`]
    /// uses `http://127.0.0.1:PORT` instead.
    pub fn base_url(mut self, url: impl Into<String>) -> Self {
        self.base_url = url.into().trim_end_matches('/').to_owned();
        self
    }

    /// Adds an issuer. Without any, the provider has one at the base URL
    /// (`IssuerSpec::new("")`).
    pub fn issuer(mut self, spec: IssuerSpec) -> Self {
        self.issuers.push(spec);
        self
    }

    /// Builds the provider in process: no socket; call it through [`TestIssuer`]'s methods,
    /// oauth-core's endpoints ([`TestIssuer::provider`]) or [`TestProvider::router`] with
    /// tower's `oneshot`.
    pub fn build(self) -> Result<TestProvider, TestError> {
        let base = self.base_url.clone();
        self.build_at(base, None)
    }

    /// Builds the provider and serves it on a random loopback port (for code that fetches
    /// discovery and JWKS over HTTP). The server stops when the last clone of the provider
    /// is dropped. Needs a tokio runtime.
    pub async fn serve(self) -> Result<TestProvider, TestError> {
        self.serve_at(SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// [`Self::serve`] on `addr` (port 0: a free one); the base URL is `http://` and the
    /// bound address. What `idforge serve --test` runs.
    pub async fn serve_at(self, addr: SocketAddr) -> Result<TestProvider, TestError> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let provider = self.build_at(format!("http://{addr}"), Some(addr))?;
        let app = provider.router();
        let task = tokio::spawn(async move {
            // Serving ends only when the task is aborted (the provider dropped).
            let _ = axum::serve(listener, app).await;
        });
        // The router holds issuers, not the provider: no cycle keeps the task alive.
        if let Ok(mut slot) = provider.inner.server.lock() {
            *slot = Some(task);
        }
        Ok(provider)
    }

    fn build_at(self, base: String, addr: Option<SocketAddr>) -> Result<TestProvider, TestError> {
        let clock = Arc::new(FixedClock::new(self.start_time));
        let specs = if self.issuers.is_empty() {
            vec![IssuerSpec::new("")]
        } else {
            self.issuers
        };
        let mut issuers: Vec<TestIssuer> = Vec::new();
        for spec in specs {
            if issuers.iter().any(|i| i.path() == spec.path) {
                return Err(TestError::DuplicateIssuer(spec.path));
            }
            issuers.push(TestIssuer::build(self.seed, &base, spec, clock.clone())?);
        }
        Ok(TestProvider {
            inner: Arc::new(Shared {
                seed: self.seed,
                clock,
                base_url: base,
                addr,
                issuers,
                server: Mutex::new(None),
            }),
        })
    }
}

/// A real identity provider made deterministic and scriptable for tests: one or more
/// [`TestIssuer`]s sharing one clock. Cloning is cheap (one `Arc`).
///
/// ```
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() -> Result<(), idforge_testing::TestError> {
/// use idforge_testing::{AccessTokenSpec, TestProvider};
///
/// let idp = TestProvider::new(42)?;
/// let token = idp.issuer().issue_access_token(&AccessTokenSpec::new("alice")).await?;
/// assert_eq!(token, TestProvider::new(42)?.issuer()
///     .issue_access_token(&AccessTokenSpec::new("alice")).await?);
/// # Ok(()) }
/// ```
#[derive(Clone)]
pub struct TestProvider {
    pub(crate) inner: Arc<Shared>,
}

pub(crate) struct Shared {
    seed: u64,
    clock: Arc<FixedClock>,
    base_url: String,
    addr: Option<SocketAddr>,
    pub(crate) issuers: Vec<TestIssuer>,
    server: Mutex<Option<tokio::task::JoinHandle<()>>>,
}

impl Drop for Shared {
    fn drop(&mut self) {
        if let Ok(mut slot) = self.server.lock() {
            if let Some(task) = slot.take() {
                task.abort();
            }
        }
    }
}

impl std::fmt::Debug for TestProvider {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestProvider")
            .field("seed", &self.inner.seed)
            .field("base_url", &self.inner.base_url)
            .field("now", &self.now())
            .field("issuers", &self.inner.issuers)
            .finish()
    }
}

impl TestProvider {
    /// Starts a builder: seed 0, clock at [`DEFAULT_START_TIME`], base URL
    /// [`DEFAULT_BASE_URL`].
    pub fn builder() -> TestProviderBuilder {
        TestProviderBuilder {
            seed: 0,
            start_time: DEFAULT_START_TIME,
            base_url: DEFAULT_BASE_URL.into(),
            issuers: Vec::new(),
        }
    }

    /// One in-process issuer at [`DEFAULT_BASE_URL`] with `seed`.
    pub fn new(seed: u64) -> Result<TestProvider, TestError> {
        Self::builder().seed(seed).build()
    }

    /// The first issuer (the only one unless several were added).
    pub fn issuer(&self) -> &TestIssuer {
        // The builder always makes at least one issuer.
        &self.inner.issuers[0]
    }

    /// The issuer at `path` below the base URL.
    pub fn issuer_at(&self, path: &str) -> Result<&TestIssuer, TestError> {
        let path = path.trim_matches('/');
        self.inner
            .issuers
            .iter()
            .find(|i| i.path() == path)
            .ok_or_else(|| TestError::UnknownIssuer(path.to_owned()))
    }

    /// Every issuer, in the order they were added.
    pub fn issuers(&self) -> &[TestIssuer] {
        &self.inner.issuers
    }

    /// The seed.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The base URL (`http://127.0.0.1:PORT` when served).
    pub fn base_url(&self) -> &str {
        &self.inner.base_url
    }

    /// The loopback address when served ([`TestProviderBuilder::serve`]).
    pub fn local_addr(&self) -> Option<SocketAddr> {
        self.inner.addr
    }

    /// Now, in Unix seconds, as every issuer sees it.
    pub fn now(&self) -> i64 {
        use idforge_jose::Clock;
        self.inner.clock.now()
    }

    /// Moves the clock forward (whole seconds; tokens, codes and sessions expire by it).
    pub fn advance(&self, by: Duration) {
        let secs = i64::try_from(by.as_secs()).unwrap_or(i64::MAX);
        self.inner.clock.advance(secs);
    }

    /// Sets the clock to `unix_seconds` (it may go backwards: a test of clock skew).
    pub fn set_time(&self, unix_seconds: i64) {
        self.inner.clock.set(unix_seconds);
    }
}

/// Which signing keys an issuer has had: the current generation and the ones rotated away
/// (newest last).
struct Generations {
    current: u32,
    retired: Vec<Arc<LocalSigner>>,
}

/// One issuer: an oauth-core [`Provider`] with its own keys, clients, users and discovery.
/// Cloning is cheap (one `Arc`).
#[derive(Clone)]
pub struct TestIssuer {
    pub(crate) inner: Arc<IssuerInner>,
}

pub(crate) struct IssuerInner {
    pub(crate) path: String,
    pub(crate) algorithm: JwsAlgorithm,
    pub(crate) seed: u64,
    pub(crate) provider: Provider,
    pub(crate) ring: Arc<KeyRing>,
    keys: Mutex<Generations>,
    pub(crate) clock: Arc<FixedClock>,
    pub(crate) rng: Arc<SeededRng>,
    pub(crate) device_endpoint: DeviceAuthorizationEndpoint,
    pub(crate) device_verification: DeviceVerification,
    pub(crate) ciba: Ciba,
    /// Who "logs in" at the served authorization endpoint (see [`TestIssuer::login_as`]).
    pub(crate) login: Mutex<Option<ScriptedLogin>>,
}

impl std::fmt::Debug for TestIssuer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestIssuer")
            .field("issuer", &self.issuer())
            .field("algorithm", &self.inner.algorithm)
            .finish()
    }
}

impl TestIssuer {
    fn build(
        seed: u64,
        base: &str,
        spec: IssuerSpec,
        clock: Arc<FixedClock>,
    ) -> Result<TestIssuer, TestError> {
        let issuer = if spec.path.is_empty() {
            base.to_owned()
        } else {
            format!("{base}/{}", spec.path)
        };
        // Streams and keys follow the issuer's path, not its URL: the same seed gives the
        // same keys and values in process and on whatever port it is served.
        let label = format!("/{}", spec.path);
        let rng = Arc::new(SeededRng::new(seed, &label));
        // Generation 0 is published, then rotated away at once: the key of the
        // "rotated-away" negative fixture really was this issuer's.
        let first = keys::signer(seed, &label, spec.algorithm, 0)?;
        let ring = Arc::new(KeyRing::new(first));
        let retired = ring.current(None)?;
        let now = idforge_jose::Clock::now(clock.as_ref());
        ring.rotate(keys::signer(seed, &label, spec.algorithm, 1)?, now);
        ring.sweep(now);

        let mut redirect_uris = vec![DEFAULT_REDIRECT_URI.to_owned()];
        redirect_uris.extend(spec.redirect_uris.iter().cloned());
        let all_grants = [
            "authorization_code",
            "refresh_token",
            "client_credentials",
            DEVICE_CODE,
            TOKEN_EXCHANGE,
            CIBA,
        ];
        // CIBA in poll mode (the default registration), users answering through `auth_url`.
        let mut confidential = CibaClient::default().apply(
            Client::confidential(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
                .with_grant_types(all_grants)
                .with_metadata("allow_impersonation", json!(true))
                .with_id_token_signed_response_alg(spec.algorithm),
        );
        let mut public = Client::public(PUBLIC_CLIENT_ID)
            .with_grant_types(["authorization_code", "refresh_token", DEVICE_CODE])
            .with_id_token_signed_response_alg(spec.algorithm);
        for uri in &redirect_uris {
            confidential = confidential.with_redirect_uri(uri.clone());
            public = public.with_redirect_uri(uri.clone());
        }
        let clients = Arc::new(MemoryClientStore::with_clients(
            [confidential, public].into_iter().chain(spec.clients),
        ));
        // One PBKDF2 iteration: the tests' users need no protection, their suites need speed.
        let users = Arc::new(MemoryUserStore::new().with_iterations(1));
        let hints = Arc::new(MemoryUserResolver::new());
        for (name, claims) in spec.users {
            let sub = claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or(&name)
                .to_owned();
            hints.add_login_hint(name.clone(), sub.clone());
            hints.add_login_hint(sub.clone(), sub);
            users.add_user(&name, TEST_USER_PASSWORD, claims, rng.as_ref())?;
        }
        let ciba = Ciba::builder(CibaConfig::new(issuer.clone()))
            .store(Arc::new(MemoryCibaRequestStore::new()))
            .users(hints)
            .notifier(Arc::new(RecordingNotifier::new()))
            .build()
            .map_err(|e| TestError::Unexpected(e.to_string()))?;
        let device = DeviceFlow::new(
            DeviceSettings::new(),
            Arc::new(MemoryDeviceCodeStore::new()),
            Arc::new(MemoryAttemptLimiter::new()),
        )
        .map_err(|e| TestError::Unexpected(e.to_string()))?;
        let config = Config::new(issuer).with_grant_type("client_credentials");
        let builder = Provider::builder(config)
            .clients(clients)
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users.clone())
            .passwords(users)
            .keys(ring.clone())
            .clock(clock.clone())
            .rng(rng.clone())
            .grant_handler(device.grant())
            .grant_handler(Arc::new(TokenExchangeGrant::new()));
        let provider = ciba.register(builder).build()?;
        Ok(TestIssuer {
            inner: Arc::new(IssuerInner {
                path: spec.path,
                algorithm: spec.algorithm,
                seed,
                device_endpoint: DeviceAuthorizationEndpoint::new(
                    provider.ctx.clone(),
                    device.clone(),
                ),
                device_verification: DeviceVerification::new(provider.ctx.clone(), device),
                provider,
                ring,
                keys: Mutex::new(Generations {
                    current: 1,
                    retired: vec![retired],
                }),
                clock,
                rng,
                ciba,
                login: Mutex::new(None),
            }),
        })
    }

    /// The issuer identifier (`iss`).
    pub fn issuer(&self) -> &str {
        &self.inner.provider.ctx.config.issuer
    }

    /// Its path below the provider's base URL (`""` for the base URL).
    pub fn path(&self) -> &str {
        &self.inner.path
    }

    /// Its signing algorithm.
    pub fn algorithm(&self) -> JwsAlgorithm {
        self.inner.algorithm
    }

    /// The oauth-core provider behind it: every endpoint, typed, in process.
    pub fn provider(&self) -> &Provider {
        &self.inner.provider
    }

    /// Now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.inner.provider.ctx.now()
    }

    /// The published JWK Set (what `jwks_uri` serves).
    pub fn jwks(&self) -> JwkSet {
        self.inner.ring.jwks()
    }

    /// The `kid` of the current signing key.
    pub fn current_kid(&self) -> Result<String, TestError> {
        let signer = self.inner.ring.current(None)?;
        Ok(signer.key().kid().unwrap_or_default().to_owned())
    }

    /// The OpenID Provider Metadata (what `/.well-known/openid-configuration` serves).
    pub async fn discovery(&self) -> Result<Value, TestError> {
        Ok(self.inner.provider.discovery.metadata().await?)
    }

    /// The discovery document's URL.
    pub fn discovery_url(&self) -> String {
        format!("{}/.well-known/openid-configuration", self.issuer())
    }

    /// Rotates the signing key to the next generation (derived from the seed too). The old
    /// key keeps verifying and stays in the JWKS for `grace`; with a zero grace it is gone at
    /// once. Returns the new `kid`.
    pub fn rotate_key(&self, grace: Duration) -> Result<String, TestError> {
        let mut keys = self.inner.keys.lock().unwrap_or_else(|e| e.into_inner());
        let next = keys.current + 1;
        let label = format!("/{}", self.path());
        let signer = keys::signer(self.inner.seed, &label, self.inner.algorithm, next)?;
        let old = self.inner.ring.current(None)?;
        let now = self.now();
        let grace = i64::try_from(grace.as_secs()).unwrap_or(i64::MAX);
        self.inner.ring.rotate(signer, now.saturating_add(grace));
        self.inner.ring.sweep(now);
        keys.current = next;
        keys.retired.push(old);
        drop(keys);
        self.current_kid()
    }

    /// Drops rotated keys whose grace period is over (by the provider's clock).
    pub fn sweep_keys(&self) {
        self.inner.ring.sweep(self.now());
    }

    /// The most recently rotated-away signer.
    pub(crate) fn retired_signer(&self) -> Option<Arc<LocalSigner>> {
        let keys = self.inner.keys.lock().unwrap_or_else(|e| e.into_inner());
        keys.retired.last().cloned()
    }
}
