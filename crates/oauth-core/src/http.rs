//! Adapters from `http::Request<Vec<u8>>` to `http::Response<Vec<u8>>` (feature `http`), so an
//! axum, hyper, actix or lambda host needs a few lines of glue.
//!
//! [`Provider::handle_http`] routes every non-interactive endpoint by path (the pushed
//! authorization request endpoint of RFC 9126 included); the authorization
//! endpoint is interactive, so the host calls [`AuthorizationEndpoint::start`] itself and turns
//! redirects and error pages into responses with [`interaction_response`].
//!
//! [`AuthorizationEndpoint::start`]: crate::AuthorizationEndpoint::start

use ::http::{header, Method, Request, Response, StatusCode};
use serde_json::Value;

use crate::endpoint::authorize::{html_escape, Interaction};
use crate::endpoint::userinfo::{parse_bearer, BearerCredentials, UserInfoResponse};
use crate::error::Error;
use crate::model::{ResponseMode, TokenRequest};
use crate::provider::Provider;

fn respond(status: u16, content_type: &str, body: Vec<u8>) -> Response<Vec<u8>> {
    let mut r = Response::new(body);
    *r.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let h = r.headers_mut();
    if let Ok(v) = content_type.parse() {
        h.insert(header::CONTENT_TYPE, v);
    }
    // RFC 6749 §5.1: responses with tokens or credentials must not be cached.
    h.insert(
        header::CACHE_CONTROL,
        header::HeaderValue::from_static("no-store"),
    );
    h.insert(header::PRAGMA, header::HeaderValue::from_static("no-cache"));
    r
}

/// A JSON response.
pub fn json_response(status: u16, body: &Value) -> Response<Vec<u8>> {
    respond(status, "application/json", body.to_string().into_bytes())
}

/// The error response of RFC 6749 §5.2 (JSON, with `WWW-Authenticate` on 401 when the client
/// authenticated with HTTP Basic, or a Bearer challenge for RFC 6750 errors).
pub fn error_response(error: &Error, used_basic: bool) -> Response<Vec<u8>> {
    let mut r = json_response(error.status(), &error.to_json());
    let challenge = match error {
        Error::InvalidClient(_) if used_basic => Some("Basic realm=\"token\"".to_owned()),
        Error::InvalidToken(_) | Error::InsufficientScope(_) => {
            Some(Error::bearer_challenge(Some(error)))
        }
        _ => None,
    };
    if let Some(v) = challenge.and_then(|c| c.parse().ok()) {
        r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
    }
    r
}

/// Turns a redirect or error-page [`Interaction`] into a response: `303 See Other` with
/// `Location` (query mode), an auto-submitting form (form_post), or a 400 HTML error page.
/// `None` for `Login` and `Consent`, which the host renders.
pub fn interaction_response(interaction: &Interaction) -> Option<Response<Vec<u8>>> {
    match interaction {
        Interaction::Redirect(resp) => Some(match resp.response_mode {
            ResponseMode::Query => {
                let mut r = respond(303, "text/plain", Vec::new());
                if let Ok(v) = resp.location().parse() {
                    r.headers_mut().insert(header::LOCATION, v);
                }
                r
            }
            ResponseMode::FormPost => respond(200, "text/html; charset=utf-8", resp.form_post_html().into_bytes()),
        }),
        Interaction::ShowError(e) => Some(respond(
            e.status(),
            "text/html; charset=utf-8",
            format!(
                "<!DOCTYPE html><html><head><title>Authorization error</title></head><body><h1>{}</h1><p>{}</p></body></html>",
                html_escape(e.code()),
                html_escape(e.description())
            )
            .into_bytes(),
        )),
        Interaction::Login { .. } | Interaction::Consent { .. } => None,
    }
}

fn authorization(req: &Request<Vec<u8>>) -> Option<String> {
    req.headers()
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned)
}

fn is_form(req: &Request<Vec<u8>>) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// RFC 9110 §15.5.6: a 405 names the methods the endpoint allows in `Allow`.
fn method_not_allowed(allow: &'static str) -> Response<Vec<u8>> {
    let mut r = json_response(
        405,
        &serde_json::json!({"error": "invalid_request", "error_description": "method not allowed"}),
    );
    r.headers_mut()
        .insert(header::ALLOW, header::HeaderValue::from_static(allow));
    r
}

/// Discovery and JWKS are read with GET (or HEAD).
fn is_read(req: &Request<Vec<u8>>) -> bool {
    req.method() == Method::GET || req.method() == Method::HEAD
}

/// A set of HTTP endpoints: oauth-core's [`Provider`], and those of other crates (CIBA,
/// OID4VCI, ...). A request that is not for one of them comes back unchanged, so a host tries
/// handlers in turn without cloning the body ([`route`]).
#[async_trait::async_trait]
pub trait HttpEndpoints: Send + Sync {
    /// Answers `req` if its path is one of these endpoints; otherwise gives it back.
    async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, Request<Vec<u8>>>;
}

/// Tries `handlers` in order; the request moves from one to the next, never copied. `Err`
/// gives it back when none answered (the host's 404, or its own routes).
pub async fn route(
    handlers: &[&dyn HttpEndpoints],
    mut req: Request<Vec<u8>>,
) -> Result<Response<Vec<u8>>, Request<Vec<u8>>> {
    for h in handlers {
        match h.handle_http(req).await {
            Ok(resp) => return Ok(resp),
            Err(back) => req = back,
        }
    }
    Err(req)
}

#[async_trait::async_trait]
impl HttpEndpoints for Provider {
    async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, Request<Vec<u8>>> {
        Provider::handle_http(self, req).await
    }
}

impl Provider {
    /// Routes a request to the token, pushed authorization request (RFC 9126, answering 201),
    /// UserInfo, introspection, revocation, discovery or JWKS endpoint by path; gives the
    /// request back when the path is none of them (including the interactive authorization
    /// endpoint), so the host can try another crate's endpoints with it.
    pub async fn handle_http(
        &self,
        req: Request<Vec<u8>>,
    ) -> Result<Response<Vec<u8>>, Request<Vec<u8>>> {
        let cfg = &self.ctx.config;
        let path = req.uri().path();
        let is = |p: &Option<String>| p.as_deref() == Some(path);
        let form = if path == cfg.token_path {
            Some(Form::Token)
        } else if is(&cfg.pushed_authorization_request_path) && self.pushed_authorization.enabled()
        {
            Some(Form::PushedAuthorization)
        } else if is(&cfg.introspection_path) {
            Some(Form::Introspect)
        } else if is(&cfg.revocation_path) {
            Some(Form::Revoke)
        } else {
            None
        };
        if let Some(form) = form {
            return Ok(self.http_form(req, form).await);
        }
        if is(&cfg.userinfo_path) {
            return Ok(self.http_userinfo(req).await);
        }
        if path == "/.well-known/openid-configuration"
            || path == "/.well-known/oauth-authorization-server"
        {
            if !is_read(&req) {
                return Ok(method_not_allowed("GET, HEAD"));
            }
            return Ok(match self.discovery.metadata().await {
                Ok(v) => json_response(200, &v),
                Err(e) => error_response(&e, false),
            });
        }
        if path == cfg.jwks_path {
            if !is_read(&req) {
                return Ok(method_not_allowed("GET, HEAD"));
            }
            return Ok(match self.discovery.jwks().await {
                Ok(v) => respond(200, "application/jwk-set+json", v.to_string().into_bytes()),
                Err(e) => error_response(&e, false),
            });
        }
        Err(req)
    }

    async fn http_form(&self, req: Request<Vec<u8>>, which: Form) -> Response<Vec<u8>> {
        // RFC 6749 §3.2: the token endpoint takes POST with a form body.
        if req.method() != Method::POST {
            return method_not_allowed("POST");
        }
        let auth = authorization(&req);
        let used_basic = auth.as_deref().is_some_and(|a| {
            a.trim_start()
                .get(..5)
                .is_some_and(|s| s.eq_ignore_ascii_case("basic"))
        });
        if !is_form(&req) {
            return error_response(
                &Error::InvalidRequest("the body must be application/x-www-form-urlencoded".into()),
                used_basic,
            );
        }
        let tr = match TokenRequest::from_form(req.body(), auth, &self.ctx.config.limits) {
            Ok(t) => t,
            Err(e) => return error_response(&e, used_basic),
        };
        let result = match which {
            Form::Token => self.token.handle(&tr).await.map(|r| r.to_json()),
            Form::Introspect => self.introspection.handle(&tr).await,
            // RFC 7009 §2.2: an empty 200 response.
            Form::Revoke => self.revocation.handle(&tr).await.map(|()| Value::Null),
            // RFC 9126 §2.2: 201 Created.
            Form::PushedAuthorization => {
                return match self.pushed_authorization.handle(&tr).await {
                    Ok(r) => json_response(201, &r.to_json()),
                    Err(e) => error_response(&e, used_basic),
                };
            }
        };
        match result {
            Ok(Value::Null) => respond(200, "application/json", Vec::new()),
            Ok(v) => json_response(200, &v),
            Err(e) => error_response(&e, used_basic),
        }
    }

    async fn http_userinfo(&self, req: Request<Vec<u8>>) -> Response<Vec<u8>> {
        // OIDC Core §5.3.1: GET or POST; the token as a Bearer header (RFC 6750 §2.1) or in a
        // form body (§2.2).
        let header = authorization(&req);
        let bearer = header.as_deref().map(parse_bearer);
        if bearer == Some(BearerCredentials::Malformed) {
            // RFC 6750 §3.1: a malformed request is `invalid_request`, 400, with the challenge.
            let e = Error::InvalidRequest("the bearer credentials are malformed".into());
            let mut r = error_response(&e, false);
            if let Ok(v) = Error::bearer_challenge(Some(&e)).parse() {
                r.headers_mut().insert(header::WWW_AUTHENTICATE, v);
            }
            return r;
        }
        let token = match (req.method(), bearer) {
            (&Method::GET | &Method::POST, Some(BearerCredentials::Token(t))) => Some(t.to_owned()),
            (&Method::POST, None | Some(BearerCredentials::Absent)) if is_form(&req) => {
                crate::model::Params::parse(req.body(), &self.ctx.config.limits)
                    .ok()
                    .and_then(|p| p.get("access_token").map(str::to_owned))
            }
            (&Method::GET | &Method::POST, _) => None,
            _ => return method_not_allowed("GET, POST"),
        };
        let Some(token) = token else {
            // RFC 6750 §3.1: no credentials, no error code.
            let mut r = respond(401, "application/json", Vec::new());
            r.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                header::HeaderValue::from_static("Bearer"),
            );
            return r;
        };
        match self.userinfo.handle(&token).await {
            Ok(UserInfoResponse::Json(v)) => json_response(200, &v),
            Ok(UserInfoResponse::Jwt(jwt)) => respond(200, "application/jwt", jwt.into_bytes()),
            Err(e) => error_response(&e, false),
        }
    }
}

#[derive(Clone, Copy)]
enum Form {
    Token,
    PushedAuthorization,
    Introspect,
    Revoke,
}
