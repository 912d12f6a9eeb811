//! `tracing` spans for every request the provider's [`router`](crate::router) serves: one
//! `request` span (level INFO, target `idforge_server::trace`) with the request id, method,
//! endpoint (the path, never the query), client id, grant type, and on completion the status,
//! the OAuth error code and the latency, plus one `response` event carrying them.
//!
//! Cost: the span is created by tracing's macro, which checks the subscriber's interest (a
//! cached, per-callsite value) before evaluating any field. When no subscriber listens at INFO
//! for this target — no subscriber at all, or `idforge serve`'s default filter `warn` — a
//! request pays that check and one enum branch, nothing else: no id, no header parsing, no body
//! buffering (issue 19 §3, server CPU per request).
//!
//! What is never recorded: the query string (but its `client_id`), header values other than
//! the client id taken out of `Authorization: Basic` (the part after the colon, the secret, is
//! dropped), request and response bodies other than the form's
//! `grant_type` and `client_id` and a JSON error response's `error` code (RFC 6749 §5.2), and
//! the `Location` header (it carries codes and tokens). `crates/cli/tests/log_secrets.rs` runs
//! real flows at `RUST_LOG=trace` and checks that no secret value reaches the log.

use std::convert::Infallible;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Instant;

use axum::body::Body;
use axum::extract::Request;
use axum::http::{header, HeaderMap, Method};
use axum::response::Response;
use axum::Router;
use base64::Engine as _;
use futures_util::future::Either;
use tracing::{field, Instrument, Span};

/// `RUST_LOG` when the variable is unset: warnings and errors only, so the request spans stay
/// disabled (and free) unless asked for with `RUST_LOG=info` or more.
pub const DEFAULT_FILTER: &str = "warn";

/// Largest JSON error body read back for its `error` member; bigger bodies are passed on
/// unread (the error code is then not recorded).
const MAX_ERROR_BODY: u64 = 16 * 1024;

/// Longest `X-Request-Id` taken from the client; longer or non-token values are replaced by
/// the server's own id.
const MAX_REQUEST_ID: usize = 64;

/// Process-wide request counter: the request id when the client sent none.
static NEXT_ID: AtomicU64 = AtomicU64::new(1);

/// Installs a `tracing` subscriber writing human-readable lines to stderr, filtered by
/// `RUST_LOG` (`tracing_subscriber::EnvFilter` syntax: `info`,
/// `idforge_server=debug,sqlx=warn`, ...; [`DEFAULT_FILTER`] when unset or invalid), and routes
/// `log` records (sqlx, hyper) into it. What `idforge serve` calls at start; a host with its
/// own subscriber does not call it. Returns `false` if a global subscriber was already set.
pub fn init_subscriber() -> bool {
    use tracing_subscriber::EnvFilter;
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(DEFAULT_FILTER));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(false)
        .with_writer(std::io::stderr)
        .try_init()
        .is_ok()
}

/// The span of the request being served, handed to [`FormFields`] through the request's
/// extensions (present only when the span is enabled).
#[derive(Clone)]
struct Traced(Span);

/// Wraps `router` (outside the request limits, so that 413 / 414 / 431 / 408 answers are
/// spanned too) in the request span, and its routes (inside the limits, so the body is read
/// under their size bound and timeout) in [`FormFields`].
pub(crate) fn layer(
    router: Router,
    max_body: usize,
    limits: impl FnOnce(Router) -> Router,
) -> Router {
    let inner = router.layer(tower::layer::layer_fn(move |inner| FormFields {
        inner,
        max_body,
    }));
    limits(inner).layer(tower::layer::layer_fn(|inner| RequestSpan { inner }))
}

/// The outer service: opens the `request` span, records the response.
#[derive(Clone)]
struct RequestSpan<S> {
    inner: S,
}

type BoxFuture = Pin<Box<dyn Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> tower::Service<Request> for RequestSpan<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, mut req: Request) -> Self::Future {
        let span = tracing::info_span!(
            "request",
            request_id = field::Empty,
            method = %req.method(),
            endpoint = req.uri().path(),
            client_id = field::Empty,
            grant_type = field::Empty,
            status = field::Empty,
            error = field::Empty,
            latency_ms = field::Empty,
        );
        if span.is_disabled() {
            return Either::Left(self.inner.call(req));
        }
        let start = Instant::now();
        span.record("request_id", request_id(req.headers()).as_str());
        if let Some(id) = basic_client_id(req.headers()) {
            span.record("client_id", id.as_str());
        } else if let Some(id) = req.uri().query().and_then(|q| form_value(q, "client_id")) {
            span.record("client_id", id.as_str());
        }
        req.extensions_mut().insert(Traced(span.clone()));
        let fut = span.in_scope(|| self.inner.call(req));
        Either::Right(Box::pin(
            async move {
                let Ok(resp) = fut.await;
                let resp = record_response(resp, start).await;
                Ok(resp)
            }
            .instrument(span),
        ))
    }
}

/// Records the status, the error code and the latency on the current span and emits the
/// `response` event.
async fn record_response(resp: Response, start: Instant) -> Response {
    let span = Span::current();
    let status = resp.status();
    span.record("status", status.as_u16());
    let (resp, error) = if status.is_client_error() || status.is_server_error() {
        error_code(resp).await
    } else {
        (resp, None)
    };
    if let Some(e) = &error {
        span.record("error", e.as_str());
    }
    let latency_ms = start.elapsed().as_secs_f64() * 1000.0;
    span.record("latency_ms", latency_ms);
    if status.is_server_error() {
        tracing::warn!(status = status.as_u16(), error, latency_ms, "response");
    } else {
        tracing::info!(status = status.as_u16(), error, latency_ms, "response");
    }
    resp
}

/// The OAuth error code of an error response: `WWW-Authenticate`'s `error` attribute (RFC 6750
/// §3) or a JSON body's `error` member (RFC 6749 §5.2). Error codes are the server's own
/// registered values, never request input.
async fn error_code(resp: Response) -> (Response, Option<String>) {
    if let Some(e) = resp
        .headers()
        .get(header::WWW_AUTHENTICATE)
        .and_then(|v| v.to_str().ok())
        .and_then(www_authenticate_error)
    {
        return (resp, Some(e));
    }
    let json = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/json"));
    let small = axum::body::HttpBody::size_hint(resp.body())
        .upper()
        .is_some_and(|n| n <= MAX_ERROR_BODY);
    if !json || !small {
        return (resp, None);
    }
    let (parts, body) = resp.into_parts();
    match axum::body::to_bytes(body, MAX_ERROR_BODY as usize).await {
        Ok(bytes) => {
            let code = serde_json::from_slice::<serde_json::Value>(&bytes)
                .ok()
                .and_then(|v| v.get("error")?.as_str().map(error_token))
                .flatten();
            (Response::from_parts(parts, Body::from(bytes)), code)
        }
        // The body failed while being read: the client would have seen the same failure.
        Err(_) => (Response::from_parts(parts, Body::empty()), None),
    }
}

/// `error="..."` of a `WWW-Authenticate` challenge.
fn www_authenticate_error(challenge: &str) -> Option<String> {
    let rest = &challenge[challenge.find("error=\"")? + "error=\"".len()..];
    error_token(&rest[..rest.find('"')?])
}

/// An error code as RFC 6749 §5.2 allows it (`%x20-21 / %x23-5B / %x5D-7E`, here narrowed to
/// the registered codes' alphabet), else nothing.
fn error_token(code: &str) -> Option<String> {
    let ok = !code.is_empty()
        && code.len() <= 64
        && code
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-' || b == b'.');
    ok.then(|| code.to_owned())
}

/// The client's `X-Request-Id` when it is a short token (`A-Z a-z 0-9 - _ .`), else the next
/// number of the process's counter.
fn request_id(headers: &HeaderMap) -> String {
    let theirs = headers
        .get("x-request-id")
        .and_then(|v| v.to_str().ok())
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_REQUEST_ID
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_' || b == b'.')
        });
    match theirs {
        Some(id) => id.to_owned(),
        None => NEXT_ID.fetch_add(1, Ordering::Relaxed).to_string(),
    }
}

/// The client id of `Authorization: Basic` (RFC 6749 §2.3.1: `urlencode(id):urlencode(secret)`
/// in base64). The part after the colon is the secret: it is cut off before anything is
/// decoded from it, and a value without a colon yields nothing (it could be all secret).
fn basic_client_id(headers: &HeaderMap) -> Option<String> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let (scheme, token) = value.split_once(' ')?;
    if !scheme.eq_ignore_ascii_case("basic") {
        return None;
    }
    let decoded = base64::engine::general_purpose::STANDARD
        .decode(token.trim())
        .ok()?;
    let colon = decoded.iter().position(|b| *b == b':')?;
    let id: String = form_urlencoded::parse(&[b"i=", &decoded[..colon]].concat())
        .next()?
        .1
        .into_owned();
    printable(id)
}

/// The first value of `name` in a form or query string.
fn form_value(form: &str, name: &str) -> Option<String> {
    form_urlencoded::parse(form.as_bytes())
        .find(|(k, _)| k == name)
        .and_then(|(_, v)| printable(v.into_owned()))
}

/// Client ids and grant types are logged only when short and printable (no control
/// characters to forge log lines with).
fn printable(v: String) -> Option<String> {
    (!v.is_empty() && v.len() <= 256 && !v.chars().any(char::is_control)).then_some(v)
}

/// The inner service: for a spanned `POST` with a form body, reads the body (bounded by
/// `[limits] max_body_bytes`, under the request timeout) and records its `grant_type` and
/// `client_id` on the request span; the handler gets the same bytes.
#[derive(Clone)]
struct FormFields<S> {
    inner: S,
    max_body: usize,
}

impl<S> tower::Service<Request> for FormFields<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<S::Future, BoxFuture>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let span = match req.extensions().get::<Traced>() {
            Some(Traced(span)) if is_form_post(&req) => span.clone(),
            _ => return Either::Left(self.inner.call(req)),
        };
        // The service polled ready is the one that must be called: take it, leave a clone.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        let max = self.max_body;
        Either::Right(Box::pin(async move {
            let (parts, body) = req.into_parts();
            let bytes = match crate::limits::read_body(body, max).await {
                Ok(b) => b,
                Err(resp) => return Ok(resp),
            };
            if let Ok(form) = std::str::from_utf8(&bytes) {
                if let Some(g) = form_value(form, "grant_type") {
                    span.record("grant_type", g.as_str());
                }
                if let Some(id) = form_value(form, "client_id") {
                    span.record("client_id", id.as_str());
                }
            }
            inner
                .call(Request::from_parts(parts, Body::from(bytes)))
                .await
        }))
    }
}

fn is_form_post(req: &Request) -> bool {
    req.method() == Method::POST
        && req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("application/x-www-form-urlencoded"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn headers(name: header::HeaderName, value: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(name, HeaderValue::from_str(value).unwrap());
        h
    }

    #[test]
    fn basic_yields_the_client_id_only() {
        let b64 = base64::engine::general_purpose::STANDARD;
        let h = headers(
            header::AUTHORIZATION,
            &format!("Basic {}", b64.encode("my%3Aclient:s3cret")),
        );
        assert_eq!(basic_client_id(&h).as_deref(), Some("my:client"));
        // No colon: the whole value may be the secret.
        let h = headers(
            header::AUTHORIZATION,
            &format!("Basic {}", b64.encode("s3cret")),
        );
        assert_eq!(basic_client_id(&h), None);
        let h = headers(header::AUTHORIZATION, "Bearer abc");
        assert_eq!(basic_client_id(&h), None);
    }

    #[test]
    fn request_ids_are_tokens_or_counted() {
        let h = headers(header::HeaderName::from_static("x-request-id"), "abc-123");
        assert_eq!(request_id(&h), "abc-123");
        let h = headers(header::HeaderName::from_static("x-request-id"), "a b");
        assert!(request_id(&h).parse::<u64>().is_ok());
        assert!(request_id(&HeaderMap::new()).parse::<u64>().is_ok());
    }

    #[test]
    fn error_codes_are_taken_from_challenges_and_checked() {
        assert_eq!(
            www_authenticate_error(r#"Bearer realm="x", error="invalid_token""#).as_deref(),
            Some("invalid_token")
        );
        assert_eq!(www_authenticate_error("Bearer realm=\"x\""), None);
        assert_eq!(error_token("bad code\n"), None);
    }

    #[test]
    fn control_characters_are_not_logged() {
        assert_eq!(form_value("client_id=a%0Ab", "client_id"), None);
        assert_eq!(
            form_value("grant_type=client_credentials", "grant_type").as_deref(),
            Some("client_credentials")
        );
    }
}
