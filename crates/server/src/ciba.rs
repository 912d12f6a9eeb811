//! The `idforge-ciba` module: CIBA (Client-Initiated Backchannel Authentication) for
//! `idforge serve`.
//!
//! - `{issuer}/bc-authorize`: the backchannel authentication endpoint (the crate's
//!   `HttpEndpoints`, routed next to the provider's).
//! - `{issuer}/bc-approve?handle=...` (the `auth_url` and the link in messages): a login form
//!   (`username`, `password`) for the hinted user, then the approval page with buttons named
//!   `decision` (`approve` / `deny`). The same approval in JSON for a mobile app: `GET` with
//!   `Accept: application/json`, `POST` a JSON object `{"handle", "username", "password",
//!   "decision"}`.
//! - Users: `login_hint` is a username or an email address matching a user's `email` claim;
//!   `user_code` is the user's password.
//! - Notifications: email and SMS appended to `[notifications] outbox` (one JSON object a
//!   line); ping and push as HTTP/1.1 POSTs through `crate::outbound` (https verified against
//!   the system roots plus `[outbound] ca_file`) with a timeout and bounded retries; expired
//!   requests are swept every few seconds.
//!
//! Every use of `idforge-ciba` lives here.

use std::collections::HashMap;
use std::io::Write as _;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, Weak};
use std::time::Duration;

use async_trait::async_trait;
use axum::body::Bytes;
use axum::extract::{RawQuery, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use idforge_ciba::http::CibaHttp;
use idforge_ciba::{
    AgentClientActors, Approval, ApprovalView, Channel, Ciba, CibaClient, CibaConfig,
    ClientNotification, DeliveryReport, Hint, HintResolution, Notifier, UserNotification,
    UserResolver, Verdict,
};
use idforge_oauth_core::{Client, Context, Error, Params};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::config::{ClientConfig, ConfigError, NotificationsConfig, ServeConfig};
use crate::pages::{self, Audience, LoginNotice};
use crate::seal::{Purpose, Sealer};
#[cfg(test)]
use idforge_ciba::DeliveryMode;

/// Attempts per ping or push (each bounded by `[outbound] timeout_seconds`).
const DELIVERY_ATTEMPTS: u32 = 3;
/// How often expired requests are swept (and push/ping clients told).
const SWEEP_EVERY: Duration = Duration::from_secs(5);

/// Checks a client's CIBA settings when the configuration is loaded.
pub(crate) fn validate_client(
    c: &ClientConfig,
    notifications: Option<&NotificationsConfig>,
) -> Result<(), ConfigError> {
    let bad = |reason: &str| ConfigError::Ciba {
        client_id: c.client_id.clone(),
        reason: reason.to_owned(),
    };
    let client = apply(c, Client::confidential(c.client_id.clone(), "x"));
    CibaClient::from_client(&client).map_err(|e| bad(e.description()))?;
    let channels = c.ciba_channels.as_deref().unwrap_or(&[]);
    let messages = channels.iter().any(|ch| *ch != Channel::External);
    if messages && notifications.and_then(|n| n.outbox.as_ref()).is_none() {
        return Err(bad(
            "the email and sms channels need [notifications] outbox",
        ));
    }
    let uses_ciba = c.grant_types.iter().any(|g| g == idforge_ciba::GRANT_TYPE);
    if uses_ciba && c.client_secret.is_none() {
        return Err(bad("CIBA is for confidential clients (client_secret)"));
    }
    Ok(())
}

/// Writes a client's CIBA settings into its registration.
pub(crate) fn apply(c: &ClientConfig, client: Client) -> Client {
    let mut cc = CibaClient::default().with_delivery(
        c.backchannel_token_delivery_mode.unwrap_or_default(),
        c.backchannel_client_notification_endpoint.clone(),
    );
    if let Some(ch) = &c.ciba_channels {
        cc = cc.with_channels(ch.iter().copied());
    }
    if c.backchannel_user_code_parameter {
        cc = cc.with_user_code();
    }
    if let Some(e) = c.ciba_expiry_seconds {
        cc = cc.with_expiry(e);
    }
    if c.agent {
        cc = cc.with_agent();
    }
    cc.apply(client)
}

/// Users of the configuration by login hint: username or `email` claim.
struct ServeUsers {
    /// hint -> (subject, username)
    by_hint: HashMap<String, (String, String)>,
    users: Arc<dyn crate::storage::Users>,
}

#[async_trait]
impl UserResolver for ServeUsers {
    async fn resolve(&self, hint: &Hint, _now: i64) -> Result<HintResolution, Error> {
        Ok(match hint {
            Hint::LoginHint(h) => match self.by_hint.get(h) {
                Some((subject, _)) => HintResolution::User(subject.clone()),
                None => HintResolution::Unknown,
            },
            // `idforge serve` defines no login_hint_token format.
            _ => HintResolution::Unknown,
        })
    }

    async fn check_user_code(&self, subject: &str, code: &str) -> Result<bool, Error> {
        let Some(username) = self.username_of(subject) else {
            return Ok(false);
        };
        Ok(self.users.verify(&username, code).await?.as_deref() == Some(subject))
    }
}

impl ServeUsers {
    fn username_of(&self, subject: &str) -> Option<String> {
        self.by_hint
            .values()
            .find(|(s, _)| s == subject)
            .map(|(_, u)| u.clone())
    }
}

/// Appends messages to the outbox and POSTs pings and pushes.
struct ServeNotifier {
    outbox: Option<Mutex<PathBuf>>,
    outbound: crate::outbound::Outbound,
}

#[async_trait]
impl Notifier for ServeNotifier {
    async fn notify_user(&self, n: &UserNotification) -> Result<(), Error> {
        let Some(path) = &self.outbox else {
            return Err(Error::Internal("no outbox configured".into()));
        };
        let line = json!({
            "channel": n.channel.name(), "to": n.to, "subject": n.subject, "text": n.text,
        });
        let path = path.lock().unwrap_or_else(|e| e.into_inner());
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&*path)
            .map_err(|e| Error::Internal(format!("outbox: {e}")))?;
        writeln!(f, "{line}").map_err(|e| Error::Internal(format!("outbox: {e}")))
    }

    async fn notify_client(&self, n: &ClientNotification) -> DeliveryReport {
        let body = n.body.to_string();
        for attempt in 1..=DELIVERY_ATTEMPTS {
            let sent = tokio::time::timeout(
                self.outbound.timeout(),
                post_json(&self.outbound, &n.endpoint, &n.bearer, &body),
            )
            .await;
            match sent {
                Ok(Ok(status)) if (200..300).contains(&status) => {
                    return DeliveryReport::Delivered { attempts: attempt }
                }
                Ok(Ok(status)) => eprintln!(
                    "ciba: {} to {} answered {status} (attempt {attempt})",
                    n.mode.name(),
                    n.endpoint
                ),
                Ok(Err(e)) => eprintln!(
                    "ciba: {} to {} failed: {e} (attempt {attempt})",
                    n.mode.name(),
                    n.endpoint
                ),
                Err(_) => eprintln!(
                    "ciba: {} to {} timed out (attempt {attempt})",
                    n.mode.name(),
                    n.endpoint
                ),
            }
            if attempt < DELIVERY_ATTEMPTS {
                tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
            }
        }
        DeliveryReport::Failed {
            attempts: DELIVERY_ATTEMPTS,
        }
    }
}

/// POSTs a JSON body with a bearer token (CIBA §10.2, §10.3) to an `http(s)://` URL; the
/// status.
async fn post_json(
    outbound: &crate::outbound::Outbound,
    url: &str,
    bearer: &str,
    body: &str,
) -> Result<u16, crate::outbound::OutboundError> {
    outbound
        .post(
            url,
            crate::outbound::Post {
                content_type: "application/json",
                bearer: Some(bearer),
                body,
            },
        )
        .await
}

/// CIBA next to the provider: the service, its HTTP endpoint, and what the pages need.
pub(crate) struct CibaHost {
    pub(crate) ciba: Ciba,
    http: Option<CibaHttp>,
    users: Arc<dyn crate::storage::Users>,
    usernames: HashMap<String, String>,
    sealer: Sealer,
    /// The approval page's path as the browser sees it (the issuer's path prefixed).
    action: String,
}

impl std::fmt::Debug for CibaHost {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CibaHost").finish_non_exhaustive()
    }
}

impl CibaHost {
    /// Builds the service for `issuer`; the HTTP endpoint is attached once the provider exists
    /// ([`CibaHost::attach`]). `sealer` seals the approval page's forms: on a database it is
    /// shared by every process, so a page served by one is posted to any other, once only.
    pub(crate) fn new(
        config: &ServeConfig,
        issuer: &str,
        users: Arc<dyn crate::storage::Users>,
        requests: Arc<dyn idforge_ciba::CibaRequestStore>,
        outbound: crate::outbound::Outbound,
        sealer: Sealer,
    ) -> Result<CibaHost, crate::ServeError> {
        let mut by_hint = HashMap::new();
        let mut usernames = HashMap::new();
        for u in &config.users {
            let subject = u
                .claims
                .get("sub")
                .and_then(Value::as_str)
                .unwrap_or(&u.username)
                .to_owned();
            if let Some(email) = u.claims.get("email").and_then(Value::as_str) {
                by_hint.insert(email.to_owned(), (subject.clone(), u.username.clone()));
            }
            by_hint.insert(u.username.clone(), (subject.clone(), u.username.clone()));
            usernames.insert(subject, u.username.clone());
        }
        let outbox = config
            .notifications
            .as_ref()
            .and_then(|n| n.outbox.clone())
            .map(Mutex::new);
        let cfg = CibaConfig::new(issuer);
        let issuer_path = cfg
            .issuer
            .split_once("://")
            .and_then(|(_, rest)| rest.find('/').map(|i| rest[i..].to_owned()))
            .unwrap_or_default();
        let action = format!("{issuer_path}{}", cfg.approval_path);
        let ciba = Ciba::builder(cfg)
            .store(requests)
            .users(Arc::new(ServeUsers {
                by_hint,
                users: users.clone(),
            }))
            .notifier(Arc::new(ServeNotifier { outbox, outbound }))
            .actors(Arc::new(AgentClientActors))
            .build()
            .map_err(|e| crate::ServeError::Provider(Error::Internal(e.to_string())))?;
        Ok(CibaHost {
            ciba,
            http: None,
            users,
            usernames,
            sealer,
            action,
        })
    }

    /// Attaches the provider's context.
    pub(crate) fn attach(&mut self, ctx: Arc<Context>) {
        self.http = Some(CibaHttp::new(self.ciba.clone(), ctx));
    }

    /// The backchannel endpoint, for `http::route`.
    pub(crate) fn http(&self) -> Option<&CibaHttp> {
        self.http.as_ref()
    }
}

/// Sweeps expired requests every few seconds while the state lives (push and ping clients
/// are told); needs a Tokio runtime, and stops when the state is dropped.
pub(crate) fn spawn_sweeper(state: Weak<crate::oauth::OAuth>) {
    if tokio::runtime::Handle::try_current().is_err() {
        return;
    }
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(SWEEP_EVERY).await;
            let Some(s) = state.upgrade() else { return };
            if let Err(e) = s.ciba.ciba.expire_due(&s.provider.ctx).await {
                eprintln!("ciba: sweeping expired requests failed: {e}");
            }
        }
    });
}

type AppState = Arc<crate::oauth::OAuth>;

/// The approval page's routes (GET shows it, POST answers the login and approval forms).
pub(crate) fn routes(state: AppState) -> Router {
    let path = state.ciba.ciba.config().approval_path.clone();
    Router::new()
        .route(&path, get(approve_get).post(approve_post))
        .with_state(state)
}

fn now(state: &AppState) -> i64 {
    state.provider.ctx.clock.now()
}

fn wants_json(headers: &HeaderMap, name: header::HeaderName) -> bool {
    headers
        .get(name)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.contains("application/json"))
}

fn json_response(status: u16, body: &Value) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

fn error_page(state: &AppState, headers: &HeaderMap, e: &Error) -> Response {
    state.pages.error(
        &Audience::from_headers(headers),
        e.status(),
        e.code(),
        e.description(),
    )
}

async fn approve_get(
    State(state): State<AppState>,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let limits = &state.provider.ctx.config.limits;
    let handle = Params::parse(query.unwrap_or_default().as_bytes(), limits)
        .ok()
        .and_then(|p| p.get("handle").map(str::to_owned))
        .unwrap_or_default();
    let json = wants_json(&headers, header::ACCEPT);
    let view = match state.ciba.ciba.approval_view(&handle, now(&state)).await {
        Ok(v) => v,
        Err(e) if json => return json_response(e.status(), &e.to_json()),
        Err(e) => return error_page(&state, &headers, &e),
    };
    if json {
        return json_response(200, &serde_json::to_value(&view).unwrap_or_default());
    }
    login_page(&state, &headers, &handle, &view, None)
}

fn login_page(
    state: &AppState,
    headers: &HeaderMap,
    handle: &str,
    view: &ApprovalView,
    error: Option<LoginNotice>,
) -> Response {
    let host = &state.ciba;
    let Some(sealed) = host.sealer.seal(Purpose::Login, &handle, now(state)) else {
        return server_error(state, headers);
    };
    let username = host
        .usernames
        .get(&view.subject)
        .map(String::as_str)
        .unwrap_or("");
    state.pages.login(
        &Audience::from_headers(headers).client(&view.client_id),
        &pages::Login {
            action: &host.action,
            scopes: &view.scopes,
            sealed: &sealed,
            login_hint: username,
            error,
            // A CIBA request is refused on the approval page, not by leaving the login.
            cancel: false,
        },
    )
}

/// A failure of the host itself (its cause is never shown).
fn server_error(state: &AppState, headers: &HeaderMap) -> Response {
    state
        .pages
        .error(&Audience::from_headers(headers), 500, "server_error", "")
}

/// The approval page: the client, the acting agent, the binding message, the scopes and the
/// task (`authorization_details`, resources); buttons `decision` = `approve` / `deny`.
fn approval_page(
    state: &AppState,
    headers: &HeaderMap,
    sealed: &str,
    view: &ApprovalView,
) -> Response {
    state.pages.ciba_approval(
        &Audience::from_headers(headers).client(&view.client_id),
        &state.ciba.action,
        sealed,
        &view.subject,
        view.actor.as_deref(),
        view.binding_message.as_deref(),
        &view.scopes,
        view.authorization_details.as_ref(),
        &view.resources,
    )
}

/// The app-native approval: one JSON request with the user's credentials and decision.
#[derive(Deserialize)]
struct JsonApproval {
    handle: String,
    username: String,
    password: String,
    decision: String,
}

async fn approve_post(State(state): State<AppState>, headers: HeaderMap, body: Bytes) -> Response {
    if wants_json(&headers, header::CONTENT_TYPE) {
        return approve_json(&state, &body).await;
    }
    let params = match Params::parse(&body, &state.provider.ctx.config.limits) {
        Ok(p) => p,
        Err(e) => return error_page(&state, &headers, &e),
    };
    let t = now(&state);
    if let Some(sealed) = params.get("consent") {
        let Some((handle, subject, auth_time)) =
            state
                .ciba
                .sealer
                .open::<(String, String, i64)>(Purpose::Consent, sealed, t)
        else {
            return altered(&state, &headers);
        };
        let verdict = verdict(params.get("decision"), auth_time);
        return match state
            .ciba
            .ciba
            .decide(&state.provider.ctx, &handle, &subject, verdict)
            .await
        {
            Ok(out) => state
                .pages
                .ciba_done(&Audience::from_headers(&headers), &out.state.to_string()),
            Err(e) => error_page(&state, &headers, &e),
        };
    }
    let Some(handle) = params
        .get("request")
        .and_then(|s| state.ciba.sealer.open::<String>(Purpose::Login, s, t))
    else {
        return altered(&state, &headers);
    };
    let view = match state.ciba.ciba.approval_view(&handle, t).await {
        Ok(v) => v,
        Err(e) => return error_page(&state, &headers, &e),
    };
    let (username, password) = (
        params.get("username").unwrap_or(""),
        params.get("password").unwrap_or(""),
    );
    match login(&state, username, password, &view).await {
        Ok(()) => {}
        Err(notice) => return login_page(&state, &headers, &handle, &view, Some(notice)),
    }
    let Some(sealed) = state
        .ciba
        .sealer
        .seal(Purpose::Consent, &(&handle, &view.subject, t), t)
    else {
        return server_error(&state, &headers);
    };
    approval_page(&state, &headers, &sealed, &view)
}

/// The approver must authenticate as the very user the hint resolved to.
async fn login(
    state: &AppState,
    username: &str,
    password: &str,
    view: &ApprovalView,
) -> Result<(), LoginNotice> {
    match state.ciba.users.verify(username, password).await {
        Ok(Some(subject)) if subject == view.subject => Ok(()),
        Ok(Some(_)) => Err(LoginNotice::WrongUser),
        _ => Err(LoginNotice::WrongCredentials),
    }
}

/// The JSON API's description of a refused sign-in.
fn notice_text(notice: LoginNotice) -> &'static str {
    match notice {
        LoginNotice::WrongUser => "sign in as the user this request is for",
        LoginNotice::TooManyAttempts => "too many sign-in attempts; try again later",
        LoginNotice::WrongCredentials => "wrong username or password",
    }
}

/// Anything but an explicit approval is a denial.
fn verdict(decision: Option<&str>, auth_time: i64) -> Verdict {
    if decision == Some("approve") {
        Verdict::Approve(Approval::new(auth_time, vec!["pwd".into()]))
    } else {
        Verdict::Deny
    }
}

fn altered(state: &AppState, headers: &HeaderMap) -> Response {
    error_page(
        state,
        headers,
        &Error::InvalidRequest("the form was altered or expired".into()),
    )
}

async fn approve_json(state: &AppState, body: &[u8]) -> Response {
    let Ok(req) = serde_json::from_slice::<JsonApproval>(body) else {
        let e = Error::InvalidRequest("expected {handle, username, password, decision}".into());
        return json_response(400, &e.to_json());
    };
    let t = now(state);
    let view = match state.ciba.ciba.approval_view(&req.handle, t).await {
        Ok(v) => v,
        Err(e) => return json_response(e.status(), &e.to_json()),
    };
    if let Err(notice) = login(state, &req.username, &req.password, &view).await {
        let e = Error::AccessDenied(notice_text(notice).into());
        return json_response(403, &e.to_json());
    }
    let verdict = verdict(Some(req.decision.as_str()), t);
    match state
        .ciba
        .ciba
        .decide(&state.provider.ctx, &req.handle, &view.subject, verdict)
        .await
    {
        Ok(out) => json_response(200, &serde_json::to_value(out).unwrap_or_default()),
        Err(e) => json_response(e.status(), &e.to_json()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outbound::{Outbound, OutboundConfig};
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    use tokio::net::TcpListener;

    #[tokio::test]
    async fn post_json_speaks_http_1_1_with_a_bearer_token() {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = Vec::new();
            let mut chunk = [0u8; 4096];
            // Headers and body may arrive in separate segments.
            while !buf.ends_with(br#"{"auth_req_id":"x"}"#) {
                let n = s.read(&mut chunk).await.unwrap();
                assert!(n > 0, "connection closed early");
                buf.extend_from_slice(&chunk[..n]);
            }
            s.write_all(b"HTTP/1.1 204 No Content\r\n\r\n")
                .await
                .unwrap();
            String::from_utf8_lossy(&buf).into_owned()
        });
        let outbound = Outbound::new(&OutboundConfig::default()).unwrap();
        let status = post_json(
            &outbound,
            &format!("http://{addr}/cb"),
            "tok",
            r#"{"auth_req_id":"x"}"#,
        )
        .await
        .unwrap();
        assert_eq!(status, 204);
        let req = server.await.unwrap();
        assert!(req.starts_with("POST /cb HTTP/1.1\r\n"), "{req}");
        assert!(req.contains("Authorization: Bearer tok\r\n"));
        assert!(req.ends_with(r#"{"auth_req_id":"x"}"#));
        assert!(post_json(&outbound, "ftp://rp.example/cb", "t", "{}")
            .await
            .is_err());
    }

    fn ping(endpoint: String) -> ClientNotification {
        serde_json::from_value(json!({
            "mode": "ping", "endpoint": endpoint, "bearer": "t",
            "body": {"auth_req_id": "x"}
        }))
        .unwrap()
    }

    /// CIBA §10.2 over TLS: the ping reaches an https endpoint whose CA is `[outbound]
    /// ca_file`; an endpoint the client cannot verify (unknown CA, another host name) is a
    /// failed delivery after the bounded attempts, not a panic.
    #[tokio::test]
    async fn pings_reach_https_endpoints_whose_certificate_verifies() {
        use crate::outbound::test_tls::{serve, Ca};
        let ca = Ca::new("relying parties");
        let ca_file = ca.pem_file();
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1"]);
        let (port, mut seen) = serve(cert, key, 204).await;
        let trusting = ServeNotifier {
            outbox: None,
            outbound: Outbound::new(&OutboundConfig::new().with_ca_file(&ca_file)).unwrap(),
        };
        assert_eq!(
            trusting
                .notify_client(&ping(format!("https://localhost:{port}/cb")))
                .await,
            DeliveryReport::Delivered { attempts: 1 }
        );
        let req = seen.recv().await.unwrap();
        assert!(req.starts_with("POST /cb\r\n"), "{req}");
        assert!(req.contains("authorization: Bearer t\r\n"), "{req}");
        assert!(req.ends_with(r#"{"auth_req_id":"x"}"#), "{req}");

        let untrusting = ServeNotifier {
            outbox: None,
            outbound: Outbound::new(&OutboundConfig::default()).unwrap(),
        };
        assert_eq!(
            untrusting
                .notify_client(&ping(format!("https://localhost:{port}/cb")))
                .await,
            DeliveryReport::Failed {
                attempts: DELIVERY_ATTEMPTS
            }
        );
        let (cert, key) = ca.leaf(&["rp.example"], &[]);
        let (other, _) = serve(cert, key, 204).await;
        assert_eq!(
            trusting
                .notify_client(&ping(format!("https://localhost:{other}/cb")))
                .await,
            DeliveryReport::Failed {
                attempts: DELIVERY_ATTEMPTS
            }
        );
        // Neither refused endpoint got a request.
        assert!(seen.try_recv().is_err());
        let _ = std::fs::remove_file(ca_file);
    }

    #[tokio::test]
    async fn failed_deliveries_are_retried_a_bounded_number_of_times() {
        // A port nobody listens on.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        drop(listener);
        let n = ServeNotifier {
            outbox: None,
            outbound: Outbound::new(&OutboundConfig::default()).unwrap(),
        };
        let note: ClientNotification = serde_json::from_value(json!({
            "mode": "ping", "endpoint": format!("http://{addr}/cb"), "bearer": "t",
            "body": {"auth_req_id": "x"}
        }))
        .unwrap();
        assert_eq!(
            n.notify_client(&note).await,
            DeliveryReport::Failed {
                attempts: DELIVERY_ATTEMPTS
            }
        );
    }

    #[test]
    fn client_settings_are_validated() {
        let mut c = ClientConfig::new("agent").with_secret("s");
        c.grant_types = vec![idforge_ciba::GRANT_TYPE.into()];
        assert!(validate_client(&c, None).is_ok());
        c.backchannel_token_delivery_mode = Some(DeliveryMode::Ping);
        assert!(validate_client(&c, None).is_err());
        c.backchannel_client_notification_endpoint = Some("http://127.0.0.1:9/cb".into());
        assert!(validate_client(&c, None).is_ok());
        c.ciba_channels = Some(vec![Channel::Email]);
        assert!(validate_client(&c, None).is_err());
        let outbox = NotificationsConfig {
            outbox: Some("/tmp/outbox".into()),
        };
        assert!(validate_client(&c, Some(&outbox)).is_ok());
        let mut public = ClientConfig::new("p");
        public.grant_types = vec![idforge_ciba::GRANT_TYPE.into()];
        assert!(validate_client(&public, None).is_err());
    }
}
