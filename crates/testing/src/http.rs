//! The provider over HTTP: every issuer's endpoints (discovery, JWKS, authorize with the
//! scripted login, token, UserInfo, introspection, revocation, device authorization) and the
//! test control endpoint, as one axum [`Router`].
//!
//! Control endpoint, under each issuer (JSON in, JSON out; for test suites in any language):
//! - `POST {issuer}/_test/token`: mints a token. Body: `kind` (`access_token`, default, or
//!   `id_token`), `subject`, `client_id`, `audience` (string or array), `scope`, `claims`
//!   (object), `ttl` (seconds), `nonce`, `defect` (a [`Defect`] name: `expired`,
//!   `not_yet_valid`, `wrong_issuer`, `wrong_audience`, `wrong_typ`, `tampered_signature`,
//!   `unknown_kid`, `alg_none`, `key_confusion`, `rotated_away_key`). Answer: `{"token"}`.
//! - `POST {issuer}/_test/clock`: `{"advance": seconds}` or `{"set": unix_seconds}`; answer
//!   `{"now"}` (the clock is shared by every issuer). `GET` reads it.
//! - `POST {issuer}/_test/login`: who logs in at the authorization endpoint from now on:
//!   `{"subject": "alice", "consent": "grant" | "deny"}` or `{"cancel": true}`; answer 204.
//! - `POST {issuer}/_test/rotate`: `{"grace": seconds}`; rotates the signing key, answers
//!   `{"kid"}`.
//!
//! A test provider's keys and random values are predictable from its seed and the control
//! endpoint mints anything: never expose one beyond a test machine's loopback interface.

use std::time::Duration;

use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{header, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use idforge_oauth_core::http::{interaction_response, json_response};
use serde_json::{json, Value};

use crate::error::TestError;
use crate::flows::{Consent, ScriptedLogin};
use crate::mint::{AccessTokenSpec, IdTokenSpec};
use crate::negative::Defect;
use crate::provider::{TestIssuer, TestProvider};

/// The largest request body the router reads.
const MAX_BODY: usize = 1 << 20;

impl TestProvider {
    /// Every issuer's routes: the issuer at the base URL at `/`, the others nested at
    /// `/{path}`. Drive it in process with `tower::ServiceExt::oneshot`, or serve it
    /// ([`TestProviderBuilder::serve`](crate::TestProviderBuilder::serve) does).
    pub fn router(&self) -> Router {
        let mut root = Router::new();
        for issuer in self.issuers() {
            let r = issuer_router(issuer.clone());
            if issuer.path().is_empty() {
                root = root.merge(r);
            } else {
                root = root.nest_service(&format!("/{}", issuer.path()), r);
            }
        }
        root
    }
}

impl TestIssuer {
    /// Who logs in at the served authorization endpoint (`GET {issuer}/authorize`) from now
    /// on. Without one, the endpoint answers 400 saying so.
    pub fn login_as(&self, login: ScriptedLogin) {
        let mut slot = self.inner.login.lock().unwrap_or_else(|e| e.into_inner());
        *slot = Some(login);
    }
}

fn issuer_router(issuer: TestIssuer) -> Router {
    Router::new().fallback(handle).with_state(issuer)
}

async fn handle(State(issuer): State<TestIssuer>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b.to_vec(),
        Err(_) => return plain(StatusCode::PAYLOAD_TOO_LARGE, "request body too large"),
    };
    let req = axum::http::Request::from_parts(parts, body);
    let path = req.uri().path().to_owned();
    if let Some(control) = path.strip_prefix("/_test/") {
        return control_endpoint(&issuer, control, &req).await;
    }
    let cfg = &issuer.provider().ctx.config;
    if path == cfg.authorization_path {
        return authorize(&issuer, &req).await;
    }
    if path == "/device_authorization" && req.method() == Method::POST {
        let auth = req
            .headers()
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok());
        return match issuer
            .inner
            .device_endpoint
            .handle_form(req.body(), auth)
            .await
        {
            Ok(r) => into_axum(json_response(200, &r.to_json())),
            Err(e) => into_axum(idforge_oauth_core::http::error_response(&e, auth.is_some())),
        };
    }
    match issuer.provider().handle_http(req).await {
        Ok(resp) => into_axum(resp),
        Err(_) => plain(StatusCode::NOT_FOUND, "not found"),
    }
}

/// The authorization endpoint with the scripted login instead of pages.
async fn authorize(issuer: &TestIssuer, req: &axum::http::Request<Vec<u8>>) -> Response {
    let login = issuer
        .inner
        .login
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .clone();
    let Some(login) = login else {
        return plain(
            StatusCode::BAD_REQUEST,
            "no scripted login: call TestIssuer::login_as or POST /_test/login first",
        );
    };
    // OIDC Core §3.1.2.1: GET with a query, or POST with a form.
    let query: Vec<u8> = if req.method() == Method::POST {
        req.body().clone()
    } else {
        req.uri().query().unwrap_or_default().as_bytes().to_vec()
    };
    let first = issuer.provider().authorization.start(&query, None).await;
    let interaction = match issuer.answer(first, &login).await {
        Ok(r) => idforge_oauth_core::Interaction::Redirect(r),
        Err(TestError::OAuth(e)) => idforge_oauth_core::Interaction::ShowError(e),
        Err(e) => return plain(StatusCode::INTERNAL_SERVER_ERROR, &e.to_string()),
    };
    match interaction_response(&interaction) {
        Some(r) => into_axum(r),
        None => plain(StatusCode::INTERNAL_SERVER_ERROR, "no response"),
    }
}

async fn control_endpoint(
    issuer: &TestIssuer,
    what: &str,
    req: &axum::http::Request<Vec<u8>>,
) -> Response {
    let body: Value = if req.body().is_empty() {
        json!({})
    } else {
        match serde_json::from_slice(req.body()) {
            Ok(v @ Value::Object(_)) => v,
            _ => return bad("the body must be a JSON object"),
        }
    };
    let result = match (what, req.method()) {
        ("token", &Method::POST) => mint(issuer, &body).await.map(|t| json!({ "token": t })),
        ("clock", &Method::GET) => Ok(json!({ "now": issuer.now() })),
        ("clock", &Method::POST) => clock(issuer, &body),
        ("login", &Method::POST) => match login(&body) {
            Ok(l) => {
                issuer.login_as(l);
                return StatusCode::NO_CONTENT.into_response();
            }
            Err(e) => Err(e),
        },
        ("rotate", &Method::POST) => {
            let grace = body.get("grace").and_then(Value::as_u64).unwrap_or(0);
            issuer
                .rotate_key(Duration::from_secs(grace))
                .map(|kid| json!({ "kid": kid }))
                .map_err(|e| e.to_string())
        }
        ("token" | "clock" | "login" | "rotate", _) => {
            return plain(StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
        }
        _ => return plain(StatusCode::NOT_FOUND, "no such control endpoint"),
    };
    match result {
        Ok(v) => into_axum(json_response(200, &v)),
        Err(msg) => bad(&msg),
    }
}

fn strings(v: Option<&Value>) -> Vec<String> {
    match v {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(a)) => a
            .iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect(),
        _ => Vec::new(),
    }
}

async fn mint(issuer: &TestIssuer, body: &Value) -> Result<String, String> {
    let s = |name: &str| body.get(name).and_then(Value::as_str);
    let defect = match s("defect") {
        None => None,
        Some(name) => Some(Defect::from_name(name).ok_or(format!("unknown defect {name}"))?),
    };
    let claims = match body.get("claims") {
        None => serde_json::Map::new(),
        Some(Value::Object(m)) => m.clone(),
        Some(_) => return Err("claims must be an object".into()),
    };
    let result = match s("kind").unwrap_or("access_token") {
        "access_token" => {
            let mut spec = match s("subject") {
                Some(sub) => AccessTokenSpec::new(sub),
                None => AccessTokenSpec::for_client(crate::TEST_CLIENT_ID),
            };
            if let Some(c) = s("client_id") {
                spec = spec.client(c);
            }
            for aud in strings(body.get("audience")) {
                spec = spec.audience(aud);
            }
            if let Some(scope) = s("scope") {
                spec = spec.scope(scope);
            }
            if let Some(ttl) = body.get("ttl").and_then(Value::as_u64) {
                spec = spec.ttl(Duration::from_secs(ttl));
            }
            spec.claims = claims;
            match defect {
                None => issuer.issue_access_token(&spec).await,
                Some(d) => issuer.invalid_access_token(&spec, d).await,
            }
        }
        "id_token" => {
            let mut spec = IdTokenSpec::new(s("subject").ok_or("id_token needs a subject")?);
            if let Some(aud) = strings(body.get("audience")).into_iter().next() {
                spec = spec.audience(aud);
            } else if let Some(c) = s("client_id") {
                spec = spec.audience(c);
            }
            if let Some(n) = s("nonce") {
                spec = spec.nonce(n);
            }
            spec.claims = claims;
            match defect {
                None => issuer.issue_id_token(&spec).await,
                Some(d) => issuer.invalid_id_token(&spec, d).await,
            }
        }
        other => return Err(format!("unknown kind {other}")),
    };
    result.map_err(|e| e.to_string())
}

fn clock(issuer: &TestIssuer, body: &Value) -> Result<Value, String> {
    let clock = &issuer.inner.clock;
    if let Some(secs) = body.get("advance").and_then(Value::as_i64) {
        if secs < 0 {
            return Err("advance must not be negative (use set)".into());
        }
        clock.advance(secs);
    } else if let Some(t) = body.get("set").and_then(Value::as_i64) {
        clock.set(t);
    } else {
        return Err("send advance or set".into());
    }
    Ok(json!({ "now": issuer.now() }))
}

fn login(body: &Value) -> Result<ScriptedLogin, String> {
    if body.get("cancel").and_then(Value::as_bool) == Some(true) {
        return Ok(ScriptedLogin::Cancel);
    }
    let subject = body
        .get("subject")
        .and_then(Value::as_str)
        .ok_or("send subject or cancel")?;
    let consent = match body.get("consent").and_then(Value::as_str) {
        None | Some("grant") => Consent::Grant,
        Some("deny") => Consent::Deny,
        Some(other) => return Err(format!("consent must be grant or deny, not {other}")),
    };
    Ok(ScriptedLogin::user(subject).with_consent(consent))
}

fn into_axum(resp: axum::http::Response<Vec<u8>>) -> Response {
    resp.map(Body::from)
}

fn plain(status: StatusCode, text: &str) -> Response {
    (status, text.to_owned()).into_response()
}

fn bad(msg: &str) -> Response {
    into_axum(json_response(
        400,
        &json!({ "error": "invalid_request", "error_description": msg }),
    ))
}
