//! The device authorization grant (RFC 8628) in `idforge serve`: the device authorization
//! endpoint (`POST {issuer}/device_authorization`), the verification page (`{issuer}/device`,
//! a form with `user_code`, `username`, `password` and `decision` = `approve` / `deny`) and the
//! app-native JSON API (`POST {issuer}/device/api`). The protocol is oauth-core's; this module
//! is HTTP and HTML around it.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::extract::{ConnectInfo, RawQuery, Request, State};
use axum::http::{header, HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::Router;
use idforge_oauth_core::device::{DecisionKind, DeviceSettings, UserCodeSubmission};
use idforge_oauth_core::endpoint::device::{DevicePrompt, DeviceVerdict, VerdictStatus};
use idforge_oauth_core::{
    DeviceAuthorizationEndpoint, DeviceFlow, DeviceVerification, Error, Params, Provider,
};

use crate::config::ServeConfig;
use crate::oauth::OAuth;
use crate::pages::{Audience, DeviceDone, DevicePage};
use crate::ServeError;

/// The JSON API's path under the verification page's.
const API_SUFFIX: &str = "/api";

/// Largest body read by these routes.
const MAX_BODY: usize = 16 * 1024;

/// The flow built from `[device]`, before the provider (its grant handler is registered on the
/// provider builder).
pub(crate) fn flow(
    config: &ServeConfig,
    stores: &crate::storage::Stores,
) -> Result<Arc<DeviceFlow>, ServeError> {
    let settings = DeviceSettings::new()
        .with_expires_in(config.device.expires_in_seconds)
        .with_interval(config.device.interval_seconds);
    let (codes, limiter) = stores.device();
    DeviceFlow::new(settings, codes, limiter)
        .map_err(|e| ServeError::Provider(Error::InvalidRequest(e.to_string())))
}

/// The device endpoints over the built provider.
#[derive(Debug)]
pub(crate) struct Device {
    authorization: DeviceAuthorizationEndpoint,
    verification: DeviceVerification,
    settings: DeviceSettings,
    /// The verification form's action: the issuer's path plus the page's path.
    form_action: String,
}

impl Device {
    pub(crate) fn new(provider: &Provider, flow: Arc<DeviceFlow>, issuer_path: &str) -> Self {
        Device {
            authorization: DeviceAuthorizationEndpoint::new(provider.ctx.clone(), flow.clone()),
            verification: DeviceVerification::new(provider.ctx.clone(), flow.clone()),
            form_action: format!("{issuer_path}{}", flow.settings.verification_path),
            settings: flow.settings.clone(),
        }
    }
}

/// The device routes (paths relative to the issuer, like the authorization endpoint's).
pub(crate) fn routes(state: Arc<OAuth>) -> Router<Arc<OAuth>> {
    let s = &state.device.settings;
    Router::new()
        .route(&s.device_authorization_path, post(device_authorization))
        .route(&s.verification_path, get(page_get).post(page_post))
        .route(&format!("{}{API_SUFFIX}", s.verification_path), post(api))
}

/// The client's address (when the server was started with connect info, as `idforge serve`
/// is), the key of the per-address attempt limit.
fn client_ip(req_extensions: &axum::http::Extensions) -> String {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| a.ip().to_string())
        .unwrap_or_else(|| "unknown".into())
}

fn json(status: u16, body: &serde_json::Value) -> Response {
    (
        StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST),
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body.to_string(),
    )
        .into_response()
}

/// RFC 8628 §3.1: `POST` with a form body, client authentication as at the token endpoint;
/// RFC 8628 §3.2 response, RFC 6749 §5.2 errors.
async fn device_authorization(State(state): State<Arc<OAuth>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match crate::limits::read_body(body, MAX_BODY).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let auth = parts
        .headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok());
    let used_basic = auth.is_some_and(|a| {
        a.trim_start()
            .get(..5)
            .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
    });
    let is_form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            v.split(';').next().is_some_and(|t| {
                t.trim()
                    .eq_ignore_ascii_case("application/x-www-form-urlencoded")
            })
        });
    let result = if is_form {
        state.device.authorization.handle_form(&body, auth).await
    } else {
        Err(Error::InvalidRequest(
            "the body must be application/x-www-form-urlencoded".into(),
        ))
    };
    let resp = match result {
        Ok(r) => return json(200, &r.to_json()),
        Err(e) => idforge_oauth_core::http::error_response(&e, used_basic),
    };
    resp.map(axum::body::Body::from)
}

/// The verification page: `?user_code=` (from `verification_uri_complete`) pre-fills the code
/// and shows the client and scopes.
async fn page_get(
    State(state): State<Arc<OAuth>>,
    RawQuery(query): RawQuery,
    req: Request,
) -> Response {
    let ip = client_ip(req.extensions());
    let headers = req.headers().clone();
    let params = Params::parse(
        query.unwrap_or_default().as_bytes(),
        &state.provider.ctx.config.limits,
    )
    .unwrap_or_default();
    let Some(code) = params.get("user_code") else {
        return page(&state, &headers, &Page::default());
    };
    match state.device.verification.lookup(code, &ip).await {
        Ok(prompt) => page(
            &state,
            &headers,
            &Page {
                user_code: &prompt.user_code,
                prompt: Some(&prompt),
                ..Page::default()
            },
        ),
        Err(e) => page(
            &state,
            &headers,
            &Page {
                user_code: code,
                error: Some(&e),
                ..Page::default()
            },
        ),
    }
}

/// The page's form: the same submission as the JSON API.
async fn page_post(State(state): State<Arc<OAuth>>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let headers = req.headers().clone();
    let body = match crate::limits::read_body(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let params = match Params::parse(&body, &state.provider.ctx.config.limits) {
        Ok(p) => p,
        Err(e) => {
            return page(
                &state,
                &headers,
                &Page {
                    error: Some(&e),
                    ..Page::default()
                },
            )
        }
    };
    let user_code = params.get("user_code").unwrap_or("");
    let Some(decision) = params.get("decision").and_then(DecisionKind::parse) else {
        let e = Error::InvalidRequest("choose approve or deny".into());
        return page(
            &state,
            &headers,
            &Page {
                user_code,
                error: Some(&e),
                ..Page::default()
            },
        );
    };
    let submission = UserCodeSubmission::new(
        user_code,
        params.get("username").unwrap_or(""),
        params.get("password").unwrap_or(""),
        decision,
    );
    match state.device.verification.submit(&submission, &ip).await {
        Ok(verdict) => done(&state, &headers, &verdict),
        Err(e) => {
            // Show the client again when the code is still good (wrong password).
            let prompt = if e.code() == "access_denied" {
                state.device.verification.lookup(user_code, &ip).await.ok()
            } else {
                None
            };
            page(
                &state,
                &headers,
                &Page {
                    user_code,
                    prompt: prompt.as_ref(),
                    error: Some(&e),
                },
            )
        }
    }
}

/// `POST {issuer}/device/api`: JSON in, JSON out (WSO2 IS 7.3 app-native device flow).
async fn api(State(state): State<Arc<OAuth>>, req: Request) -> Response {
    let ip = client_ip(req.extensions());
    let body = match crate::limits::read_body(req.into_body(), MAX_BODY).await {
        Ok(b) => b,
        Err(resp) => return resp,
    };
    let (status, v) = state.device.verification.handle_json(&body, &ip).await;
    json(status, &v)
}

#[derive(Default)]
struct Page<'a> {
    user_code: &'a str,
    prompt: Option<&'a DevicePrompt>,
    error: Option<&'a Error>,
}

/// The verification form; the client and its scopes when the code is known (RFC 8628 §5.4).
fn page(state: &OAuth, headers: &HeaderMap, p: &Page<'_>) -> Response {
    let prompt = p.prompt.map(|pr| {
        (
            pr.client_id.as_str(),
            pr.client_name.as_str(),
            pr.scopes.values(),
        )
    });
    let mut who = Audience::from_headers(headers);
    if let Some(pr) = p.prompt {
        who = who.client(&pr.client_id);
        who.client_name = Some(&pr.client_name);
    }
    state.pages.device(
        &who,
        &DevicePage {
            action: &state.device.form_action,
            user_code: p.user_code,
            prompt,
            error: p.error.map(|e| (e.status(), e.code(), e.description())),
        },
    )
}

fn done(state: &OAuth, headers: &HeaderMap, v: &DeviceVerdict) -> Response {
    let who = Audience::from_headers(headers).client(&v.client_id);
    state.pages.device_done(
        &who,
        &DeviceDone {
            approved: matches!(v.status, VerdictStatus::Approved),
            client_id: &v.client_id,
        },
    )
}
