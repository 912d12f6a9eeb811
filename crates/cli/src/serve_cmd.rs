//! `idforge serve`: a demo OpenID Provider on loopback, wiring `idforge-oauth-core` with the
//! memory stores into an axum host: discovery, JWKS, authorize (HTML login form), token,
//! UserInfo, introspection, revocation.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Instant;

use axum::body::{to_bytes, Body};
use axum::extract::{RawQuery, Request, State};
use axum::http::{header, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::Router;
use idforge_jose::crypto::{ct_eq, hmac, EcCurve, HashAlg};
use idforge_jose::{Clock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner, SystemClock};
use idforge_oauth_core::authorize::html_escape;
use idforge_oauth_core::http::interaction_response;
use idforge_oauth_core::memory::{
    MemoryClientStore, MemoryGrantStore, MemoryPushedRequestStore, MemoryUserStore,
};
use idforge_oauth_core::model::Params;
use idforge_oauth_core::{
    AccessTokenFormat, AuthorizationRequest, Client, ClientAuthMethod, Config, Decision,
    Interaction, OsRng, PasswordVerifier, Provider, Session,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

/// Arguments of `idforge serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// TOML configuration (`issuer`, `signing_key`, `[[clients]]`, `[[users]]`); without it a built-in
    /// demo configuration is used and printed.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

/// The configuration file (the contract of issue 6).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ServeConfig {
    /// Issuer identifier; defaults to `http://ADDR`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) issuer: Option<String>,
    /// A private JWK (JSON) to sign with; generated at start if absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) signing_key: Option<String>,
    /// Registered clients.
    #[serde(default)]
    pub(crate) clients: Vec<ClientConfig>,
    /// Users who can log in.
    #[serde(default)]
    pub(crate) users: Vec<UserConfig>,
}

/// One `[[clients]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ClientConfig {
    pub(crate) client_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) client_secret: Option<String>,
    #[serde(default)]
    pub(crate) redirect_uris: Vec<String>,
    #[serde(default = "default_grant_types")]
    pub(crate) grant_types: Vec<String>,
    /// `client_secret_basic` (default with a secret), `client_secret_post`, `none` (default
    /// without a secret).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) token_endpoint_auth_method: Option<String>,
    /// `jwt` (default) or `opaque`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(crate) access_token_format: Option<String>,
    #[serde(default)]
    pub(crate) scope_as_array: bool,
}

fn default_grant_types() -> Vec<String> {
    vec!["authorization_code".into(), "refresh_token".into()]
}

/// One `[[users]]` entry.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct UserConfig {
    pub(crate) username: String,
    pub(crate) password: String,
    #[serde(default)]
    pub(crate) claims: Map<String, Value>,
}

/// The built-in demo configuration.
pub(crate) const DEMO_CONFIG: &str = r#"# idforge serve: built-in demo configuration
[[clients]]
client_id = "demo-client"
client_secret = "demo-secret"
redirect_uris = ["http://127.0.0.1:3000/callback", "http://localhost:3000/callback"]
grant_types = ["authorization_code", "refresh_token", "client_credentials"]
token_endpoint_auth_method = "client_secret_basic"
access_token_format = "jwt"
scope_as_array = false

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
name = "Alice Liddell"
given_name = "Alice"
family_name = "Liddell"
email = "alice@example.com"
email_verified = true
"#;

impl ServeConfig {
    /// Parses TOML.
    pub(crate) fn from_toml(text: &str) -> Result<Self, String> {
        toml::from_str(text).map_err(|e| e.to_string())
    }
}

struct AppState {
    provider: Provider,
    users: Arc<MemoryUserStore>,
    form_key: Vec<u8>,
    clock: SystemClock,
}

/// Builds the provider from a configuration; `issuer` is used when the file has none.
pub(crate) fn build(
    config: &ServeConfig,
    issuer: &str,
) -> Result<(Provider, Arc<MemoryUserStore>), String> {
    let key = match &config.signing_key {
        Some(jwk) => Key::from_json(jwk).map_err(|e| format!("signing_key: {e}"))?,
        None => {
            let key = Key::generate(KeySpec::Ec(EcCurve::P256)).map_err(|e| e.to_string())?;
            let kid = key.jwk().thumbprint();
            Key::from_jwk(key.jwk().clone().with_kid(kid)).map_err(|e| e.to_string())?
        }
    };
    let alg = JwsAlgorithm::fitting(&key)
        .into_iter()
        .find(|a| !a.is_symmetric())
        .ok_or("signing_key: not an asymmetric signing key")?;
    let signer = LocalSigner::new(key, alg).map_err(|e| format!("signing_key: {e}"))?;
    let mut oc = Config::new(config.issuer.clone().unwrap_or_else(|| issuer.to_owned()));
    let clients = MemoryClientStore::new();
    for c in &config.clients {
        let method = match c.token_endpoint_auth_method.as_deref() {
            None if c.client_secret.is_some() => ClientAuthMethod::ClientSecretBasic,
            None | Some("none") => ClientAuthMethod::None,
            Some("client_secret_basic") => ClientAuthMethod::ClientSecretBasic,
            Some("client_secret_post") => ClientAuthMethod::ClientSecretPost,
            Some(other) => {
                return Err(format!(
                    "client {}: unsupported token_endpoint_auth_method {other}",
                    c.client_id
                ))
            }
        };
        if method != ClientAuthMethod::None && c.client_secret.is_none() {
            return Err(format!(
                "client {}: {} needs a client_secret",
                c.client_id,
                method.name()
            ));
        }
        let format = match c.access_token_format.as_deref() {
            None | Some("jwt") => AccessTokenFormat::Jwt,
            Some("opaque") => AccessTokenFormat::Opaque,
            Some(other) => {
                return Err(format!(
                    "client {}: access_token_format must be jwt or opaque, not {other}",
                    c.client_id
                ))
            }
        };
        for g in &c.grant_types {
            oc = oc.with_grant_type(g);
        }
        let mut client = match &c.client_secret {
            Some(s) => Client::confidential(c.client_id.clone(), s),
            None => Client::public(c.client_id.clone()),
        }
        .with_auth_method(method)
        .with_grant_types(c.grant_types.clone())
        // Consent is implicit for the clients of the configuration.
        .with_consent_implied();
        client.redirect_uris = c.redirect_uris.clone();
        client.access_token_format = Some(format);
        client.scope_as_array = Some(c.scope_as_array);
        clients.insert(client);
    }
    let users = Arc::new(MemoryUserStore::new());
    for u in &config.users {
        users
            .add_user(&u.username, &u.password, u.claims.clone(), &OsRng::new())
            .map_err(|e| e.to_string())?;
    }
    let provider = Provider::builder(oc)
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        // Pushed authorization requests (RFC 9126), served by `handle_http` at /par.
        .pushed_requests(Arc::new(MemoryPushedRequestStore::new()))
        .claims(users.clone())
        .passwords(users.clone())
        .keys(Arc::new(KeyRing::new(signer)))
        .build()
        .map_err(|e| e.to_string())?;
    Ok((provider, users))
}

/// Runs the server until the process is stopped.
pub(crate) fn run(args: Args) -> ExitCode {
    let (config, builtin) = match &args.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| ServeConfig::from_toml(&t))
        {
            Ok(c) => (c, false),
            Err(e) => {
                eprintln!(
                    "error: config: {}: {}",
                    path.display(),
                    e.replace('\n', " ")
                );
                return ExitCode::from(1);
            }
        },
        None => match ServeConfig::from_toml(DEMO_CONFIG) {
            Ok(c) => (c, true),
            Err(e) => {
                eprintln!("error: config: built-in: {e}");
                return ExitCode::from(1);
            }
        },
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: runtime: {e}");
            return ExitCode::from(1);
        }
    };
    match runtime.block_on(serve(args.addr, config, builtin)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: serve: {e}");
            ExitCode::from(1)
        }
    }
}

async fn serve(addr: SocketAddr, config: ServeConfig, builtin: bool) -> Result<(), String> {
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .map_err(|e| format!("cannot listen on {addr}: {e}"))?;
    let bound = listener.local_addr().map_err(|e| e.to_string())?;
    let (provider, users) = build(&config, &format!("http://{bound}"))?;
    let mut form_key = vec![0u8; 32];
    idforge_jose::crypto::random_bytes(&mut form_key).map_err(|_| "random source")?;
    let issuer = provider.ctx.config.issuer.clone();
    if builtin {
        println!("{DEMO_CONFIG}");
    }
    println!("idforge serve: listening on http://{bound}");
    println!("issuer: {issuer}");
    println!("discovery: {issuer}/.well-known/openid-configuration");
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
    let state = Arc::new(AppState {
        provider,
        users,
        form_key,
        clock: SystemClock,
    });
    let app = Router::new()
        .route(
            &state.provider.ctx.config.authorization_path.clone(),
            get(authorize_get).post(authorize_post),
        )
        .fallback(endpoints)
        .layer(middleware::from_fn(log_requests))
        .with_state(state);
    axum::serve(listener, app).await.map_err(|e| e.to_string())
}

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

fn into_axum(resp: axum::http::Response<Vec<u8>>) -> Response {
    resp.map(Body::from)
}

async fn endpoints(State(state): State<Arc<AppState>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let Ok(bytes) = to_bytes(body, 64 * 1024).await else {
        return (StatusCode::PAYLOAD_TOO_LARGE, "request too large").into_response();
    };
    let req = axum::http::Request::from_parts(parts, bytes.to_vec());
    match state.provider.handle_http(req).await {
        Some(resp) => into_axum(resp),
        None => (StatusCode::NOT_FOUND, "not found").into_response(),
    }
}

async fn authorize_get(State(state): State<Arc<AppState>>, RawQuery(query): RawQuery) -> Response {
    let i = state
        .provider
        .authorization
        .start(query.unwrap_or_default().as_bytes(), None)
        .await;
    interact(&state, i, None)
}

/// Renders an interaction: the login page, or the library's redirect / error page.
fn interact(state: &AppState, i: Interaction, error: Option<&str>) -> Response {
    match i {
        Interaction::Login { request, client_id } => login_page(state, &request, &client_id, error),
        other => match interaction_response(&other) {
            Some(resp) => into_axum(resp),
            None => (StatusCode::INTERNAL_SERVER_ERROR, "unexpected interaction").into_response(),
        },
    }
}

/// The pending request travels in the login form, MACed so it cannot be altered.
fn seal(state: &AppState, request: &AuthorizationRequest) -> String {
    let json = serde_json::to_vec(request).unwrap_or_default();
    let mac = hmac(HashAlg::Sha256, &state.form_key, &json).unwrap_or_default();
    format!(
        "{}.{}",
        idforge_jose::b64::encode(&json),
        idforge_jose::b64::encode(mac)
    )
}

fn unseal(state: &AppState, sealed: &str) -> Option<AuthorizationRequest> {
    let (json, mac) = sealed.split_once('.')?;
    let json = idforge_jose::b64::decode(json, "request").ok()?;
    let mac = idforge_jose::b64::decode(mac, "mac").ok()?;
    let want = hmac(HashAlg::Sha256, &state.form_key, &json).ok()?;
    if !ct_eq(&want, &mac) {
        return None;
    }
    serde_json::from_slice(&json).ok()
}

fn login_page(
    state: &AppState,
    request: &AuthorizationRequest,
    client_id: &str,
    error: Option<&str>,
) -> Response {
    let error_html = error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", html_escape(e)))
        .unwrap_or_default();
    let html = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in - idforge</title></head><body>\
         <h1>Sign in</h1><p>to continue to <b>{client}</b> (scopes: {scopes})</p>{error_html}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\"/>\
         <label>Username <input name=\"username\" autocomplete=\"username\" value=\"{hint}\"/></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"/></label>\
         <button type=\"submit\">Sign in</button></form></body></html>",
        client = html_escape(client_id),
        scopes = html_escape(&request.scopes.to_param()),
        action = html_escape(&state.provider.ctx.config.authorization_path),
        sealed = html_escape(&seal(state, request)),
        hint = html_escape(request.login_hint.as_deref().unwrap_or("")),
    );
    let status = if error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        html,
    )
        .into_response()
}

async fn authorize_post(State(state): State<Arc<AppState>>, body: axum::body::Bytes) -> Response {
    let params = match Params::parse(&body, &state.provider.ctx.config.limits) {
        Ok(p) => p,
        Err(e) => return interact(&state, Interaction::ShowError(e), None),
    };
    // Without our sealed request this is an authorization request sent by POST (OIDC Core
    // §3.1.2.1).
    let Some(sealed) = params.get("request") else {
        let i = state
            .provider
            .authorization
            .start_params(&params, None)
            .await;
        return interact(&state, i, None);
    };
    let Some(request) = unseal(&state, sealed) else {
        return interact(
            &state,
            Interaction::ShowError(idforge_oauth_core::Error::InvalidRequest(
                "the login form was altered or expired".into(),
            )),
            None,
        );
    };
    let (username, password) = (
        params.get("username").unwrap_or(""),
        params.get("password").unwrap_or(""),
    );
    let subject = match state.users.verify(username, password).await {
        Ok(Some(s)) => s,
        Ok(None) => {
            let client_id = request.client_id.clone();
            return login_page(
                &state,
                &request,
                &client_id,
                Some("wrong username or password"),
            );
        }
        Err(e) => return interact(&state, Interaction::ShowError(e), None),
    };
    let mut session = Session::new(subject, state.clock.now());
    session.amr = vec!["pwd".into()];
    let auth = &state.provider.authorization;
    let mut i = auth.resume(request, Decision::LoggedIn(session)).await;
    // Consent is implicit for configured clients; answer it if a client still asks.
    if let Interaction::Consent { request, session } = i {
        i = auth
            .resume(
                *request,
                Decision::Consented {
                    session,
                    granted: true,
                },
            )
            .await;
    }
    interact(&state, i, None)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_config_parses_and_builds() {
        let c = ServeConfig::from_toml(DEMO_CONFIG).expect("demo config");
        assert_eq!(c.clients[0].client_id, "demo-client");
        assert_eq!(c.users[0].claims["email"], "alice@example.com");
        let (p, _) = build(&c, "http://127.0.0.1:8080").expect("provider");
        assert_eq!(p.ctx.config.issuer, "http://127.0.0.1:8080");
        assert!(p.ctx.config.grant_enabled("client_credentials"));
    }

    #[test]
    fn config_errors_are_reported() {
        assert!(
            ServeConfig::from_toml("bogus = 1").is_err(),
            "unknown keys refused"
        );
        let c = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"x\"\ntoken_endpoint_auth_method = \"client_secret_basic\"",
        )
        .expect("toml");
        assert!(
            build(&c, "http://127.0.0.1:1").is_err(),
            "basic without secret"
        );
        let c = ServeConfig::from_toml(
            "[[clients]]\nclient_id = \"x\"\naccess_token_format = \"paper\"",
        )
        .expect("toml");
        assert!(build(&c, "http://127.0.0.1:1").is_err());
        let c = ServeConfig::from_toml("signing_key = \"{}\"").expect("toml");
        assert!(build(&c, "http://127.0.0.1:1").is_err());
    }
}
