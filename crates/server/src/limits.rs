//! Serving on a hostile network: connection-level bounds (a connection cap, a header read
//! timeout, header size and count limits, a bounded connection age) in [`serve_with_limits`],
//! and request-level bounds (URI and header sizes, a body size limit, a request timeout that
//! covers reading the body) in [`layer`], which also turns every error that would leave as
//! plain text or an empty body into the RFC 6749 §5.2 JSON error object.
//!
//! The connection cap is a semaphore taken before `accept`: past it, new connections wait in
//! the kernel's backlog instead of using a file descriptor each, and a stalled connection
//! holds its slot no longer than the header read timeout (which also bounds idle keep-alive).

use std::convert::Infallible;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use axum::body::{Body, Bytes};
use axum::extract::{ConnectInfo, DefaultBodyLimit, Request};
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Router;
use serde::{Deserialize, Serialize};

/// Largest request body any route reads by default (token, PAR, form posts are small).
const MAX_BODY: usize = 64 * 1024;

/// `[limits]`: bounds on connections and requests. Every field has a default fit for a public
/// deployment; the values must be positive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct LimitsConfig {
    /// Connections served at once (default 1024); more wait in the listen backlog.
    pub max_connections: usize,
    /// Milliseconds a client has to send a request's headers, counted from the connection's
    /// start or the end of the previous response (default 10 000). Also the keep-alive idle
    /// timeout.
    pub header_read_timeout_ms: u64,
    /// Milliseconds from a request's headers to its response, reading the body included
    /// (default 30 000); past it the answer is 408.
    pub request_timeout_ms: u64,
    /// Seconds a connection may live; then it closes after its current response (default 600).
    pub max_connection_age_seconds: u64,
    /// Longest request target (path and query) in bytes (default 8192); longer: 414.
    pub max_uri_bytes: usize,
    /// Largest total size of the request's header fields in bytes (default 16 384) and most
    /// fields (`max_headers`, default 64); more: 431.
    pub max_header_bytes: usize,
    /// Most header fields in one request (default 64); more: 431.
    pub max_headers: usize,
    /// Largest request body in bytes (default 65 536); larger: 413.
    pub max_body_bytes: usize,
}

impl Default for LimitsConfig {
    fn default() -> Self {
        LimitsConfig {
            max_connections: 1024,
            header_read_timeout_ms: 10_000,
            request_timeout_ms: 30_000,
            max_connection_age_seconds: 600,
            max_uri_bytes: 8192,
            max_header_bytes: 16 * 1024,
            max_headers: 64,
            max_body_bytes: MAX_BODY,
        }
    }
}

impl LimitsConfig {
    /// The defaults.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the connection cap.
    pub fn with_max_connections(mut self, n: usize) -> Self {
        self.max_connections = n;
        self
    }

    /// Sets the header read (and keep-alive idle) timeout.
    pub fn with_header_read_timeout(mut self, d: Duration) -> Self {
        self.header_read_timeout_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self
    }

    /// Sets the request timeout (body read included).
    pub fn with_request_timeout(mut self, d: Duration) -> Self {
        self.request_timeout_ms = u64::try_from(d.as_millis()).unwrap_or(u64::MAX);
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == LimitsConfig::default()
    }

    /// Every value positive; the header limits within what the HTTP/1 parser can hold.
    pub(crate) fn validate(&self) -> Result<(), crate::ConfigError> {
        let fields = [
            ("limits.max_connections", self.max_connections as u64),
            ("limits.header_read_timeout_ms", self.header_read_timeout_ms),
            ("limits.request_timeout_ms", self.request_timeout_ms),
            (
                "limits.max_connection_age_seconds",
                self.max_connection_age_seconds,
            ),
            ("limits.max_uri_bytes", self.max_uri_bytes as u64),
            ("limits.max_header_bytes", self.max_header_bytes as u64),
            ("limits.max_headers", self.max_headers as u64),
            ("limits.max_body_bytes", self.max_body_bytes as u64),
        ];
        for (field, v) in fields {
            if v == 0 {
                return Err(crate::ConfigError::Limit {
                    reason: format!("{field}: must be positive"),
                });
            }
        }
        if self.max_header_bytes > PARSER_MAX_HEADER_BYTES
            || self.max_headers > PARSER_MAX_HEADERS
            || self.max_uri_bytes > PARSER_MAX_HEADER_BYTES
        {
            return Err(crate::ConfigError::Limit {
                reason: format!(
                    "max_uri_bytes and max_header_bytes must be at most {PARSER_MAX_HEADER_BYTES}, max_headers at most {PARSER_MAX_HEADERS}"
                ),
            });
        }
        Ok(())
    }

    fn header_read_timeout(&self) -> Duration {
        Duration::from_millis(self.header_read_timeout_ms)
    }

    fn request_timeout(&self) -> Duration {
        Duration::from_millis(self.request_timeout_ms)
    }
}

/// What the HTTP/1 parser itself holds: above the request-level limits, so that a request
/// past those still reaches [`layer`] and gets its JSON 414 / 431; only a head larger than
/// this is refused by the parser (a bare 431, before any request exists). For the count of
/// header fields the parser holds hyper's default of 100 while `max_headers` is below it (see
/// [`HYPER_DEFAULT_MAX_HEADERS`]), else [`PARSER_MAX_HEADERS`].
const PARSER_MAX_HEADER_BYTES: usize = 64 * 1024;
const PARSER_MAX_HEADERS: usize = 128;

/// How many header fields hyper's parser holds when not told otherwise, in an array on the
/// stack. Setting any `max_headers` on hyper's builder makes it allocate and fill two arrays of
/// that many entries (about 6 KiB) on the heap for every request head, which is also large
/// enough to make glibc consolidate its free lists each time (issue 19 §3): the parser is told
/// [`PARSER_MAX_HEADERS`] only when `[limits] max_headers` leaves no room below this default.
const HYPER_DEFAULT_MAX_HEADERS: usize = 100;

/// The RFC 6749 §5.2 error object (`error`, `error_description`) with `status`, never cached.
pub(crate) fn json_error(status: StatusCode, code: &str, description: &str) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "application/json"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        serde_json::json!({"error": code, "error_description": description}).to_string(),
    )
        .into_response()
}

/// Reads a request body of at most `max` bytes: 413 (JSON) past it, 400 `invalid_request`
/// (JSON) when the body is malformed (broken chunked encoding, a connection cut mid-body).
pub(crate) async fn read_body(body: Body, max: usize) -> Result<Bytes, Response> {
    axum::body::to_bytes(body, max).await.map_err(|e| {
        let too_large = e
            .into_inner()
            .downcast_ref::<http_body_util::LengthLimitError>()
            .is_some();
        if too_large {
            json_error(
                StatusCode::PAYLOAD_TOO_LARGE,
                "invalid_request",
                "the request body is too large",
            )
        } else {
            json_error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                "the request body could not be read",
            )
        }
    })
}

/// The request-level bounds, around every route of `router`: 414 past `max_uri_bytes`, 431
/// past `max_header_bytes` / `max_headers`, 408 past `request_timeout_ms` (reading the body
/// included), 413 for bodies past `max_body_bytes` (axum's extractors), and every error
/// response without a body or with a plain-text one (the framework's rejections, 404, 405
/// with its `Allow` header kept) made the RFC 6749 §5.2 JSON object. HTML pages (login,
/// consent, the authorization endpoint's error page) are left as they are.
pub fn layer(router: Router, limits: &LimitsConfig) -> Router {
    let limits = *limits;
    router
        .layer(DefaultBodyLimit::max(limits.max_body_bytes))
        .layer(tower::layer::layer_fn(move |inner| Bounded {
            inner,
            limits,
        }))
}

/// The request-level bounds as a plain tower service rather than `middleware::from_fn`, which
/// per request clones and re-boxes the whole inner service and boxes its own future (issue 19
/// §3): here the service that was polled ready is called directly and one future is boxed.
#[derive(Clone)]
struct Bounded<S> {
    inner: S,
    limits: LimitsConfig,
}

type BoxResponse =
    std::pin::Pin<Box<dyn std::future::Future<Output = Result<Response, Infallible>> + Send>>;

impl<S> tower::Service<Request> for Bounded<S>
where
    S: tower::Service<Request, Response = Response, Error = Infallible> + Send + 'static,
    S::Future: Send + 'static,
{
    type Response = Response;
    type Error = Infallible;
    type Future =
        futures_util::future::Either<std::future::Ready<Result<Response, Infallible>>, BoxResponse>;

    fn poll_ready(
        &mut self,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        use futures_util::future::Either;
        if let Some(refused) = out_of_bounds(&self.limits, &req) {
            return Either::Left(std::future::ready(Ok(refused)));
        }
        let fut = tokio::time::timeout(self.limits.request_timeout(), self.inner.call(req));
        Either::Right(Box::pin(async move {
            let resp = match fut.await {
                Ok(Ok(resp)) => resp,
                Ok(Err(never)) => match never {},
                Err(_) => {
                    let mut r = json_error(
                        StatusCode::REQUEST_TIMEOUT,
                        "invalid_request",
                        "the request was not received in time",
                    );
                    r.headers_mut()
                        .insert(header::CONNECTION, HeaderValue::from_static("close"));
                    return Ok(r);
                }
            };
            Ok(framing_and_caching(as_json_error(resp)))
        }))
    }
}

/// 414 past `max_uri_bytes`, 431 past `max_header_bytes` / `max_headers`.
fn out_of_bounds(limits: &LimitsConfig, req: &Request) -> Option<Response> {
    let uri_len = req.uri().path_and_query().map_or(0, |pq| pq.as_str().len());
    if uri_len > limits.max_uri_bytes {
        return Some(json_error(
            StatusCode::URI_TOO_LONG,
            "invalid_request",
            "the request URI is too long",
        ));
    }
    let headers = req.headers();
    let header_bytes: usize = headers
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if headers.len() > limits.max_headers || header_bytes > limits.max_header_bytes {
        return Some(json_error(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            "invalid_request",
            "the request header fields are too large",
        ));
    }
    None
}

/// HTML pages (login, consent, device, error, form_post) are never framed (clickjacking:
/// CSP Level 2 `frame-ancestors 'none'`, and RFC 7034 `X-Frame-Options: DENY` for older
/// browsers) nor cached (they carry sealed form values).
fn framing_and_caching(mut resp: Response) -> Response {
    let html = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|t| t.trim_start().to_ascii_lowercase().starts_with("text/html"));
    if html {
        let h = resp.headers_mut();
        if !h.contains_key(header::CONTENT_SECURITY_POLICY) {
            h.insert(
                header::CONTENT_SECURITY_POLICY,
                HeaderValue::from_static("frame-ancestors 'none'"),
            );
        }
        h.insert(header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY"));
        h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    }
    resp
}

/// An error response that is not already JSON, HTML or a token type of its own (an empty body,
/// or the framework's plain text) becomes the JSON error object; its headers (`Allow`,
/// `WWW-Authenticate`) stay.
fn as_json_error(resp: Response) -> Response {
    let status = resp.status();
    if !(status.is_client_error() || status.is_server_error()) {
        return resp;
    }
    let plain = match resp.headers().get(header::CONTENT_TYPE) {
        None => true,
        Some(v) => v
            .to_str()
            .map(|t| {
                t.trim_start()
                    .to_ascii_lowercase()
                    .starts_with("text/plain")
            })
            .unwrap_or(true),
    };
    if !plain {
        return resp;
    }
    let (code, description) = match status {
        StatusCode::NOT_FOUND => ("invalid_request", "no such endpoint"),
        StatusCode::METHOD_NOT_ALLOWED => ("invalid_request", "method not allowed"),
        StatusCode::PAYLOAD_TOO_LARGE => ("invalid_request", "the request body is too large"),
        StatusCode::UNSUPPORTED_MEDIA_TYPE => (
            "invalid_request",
            "the request content type is not supported",
        ),
        StatusCode::UNAUTHORIZED => ("invalid_client", "authentication failed"),
        StatusCode::SERVICE_UNAVAILABLE => (
            "temporarily_unavailable",
            "the server cannot handle the request now",
        ),
        s if s.is_server_error() => ("server_error", "the server could not handle the request"),
        _ => ("invalid_request", "the request is malformed"),
    };
    let (mut parts, _) = resp.into_parts();
    let mut fresh = json_error(status, code, description);
    let h = fresh.headers_mut();
    for name in [header::ALLOW, header::WWW_AUTHENTICATE, header::CONNECTION] {
        if let Some(v) = parts.headers.remove(&name) {
            h.insert(name, v);
        }
    }
    fresh
}

/// Serves `app` on `listener` with the connection-level bounds of `limits` (and the client's
/// address as [`ConnectInfo<SocketAddr>`], which the attempt limits key on): at most
/// `max_connections` at once, headers within `header_read_timeout_ms` (else the connection
/// closes), at most `max_headers` fields in a head the parser holds, connections closed
/// gracefully after `max_connection_age_seconds`. Apply [`layer`] to `app` for the request
/// bounds (what `idforge serve` does). Runs until accepting fails for good.
pub async fn serve_with_limits(
    listener: tokio::net::TcpListener,
    app: Router,
    limits: &LimitsConfig,
) -> std::io::Result<()> {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};

    let limits = *limits;
    let permits = Arc::new(tokio::sync::Semaphore::new(limits.max_connections.max(1)));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_read_timeout())
        .max_buf_size(PARSER_MAX_HEADER_BYTES + 8 * 1024)
        .keep_alive(true);
    // A request with one field more than `max_headers` must still reach `layer` (its JSON
    // 431): hyper's default holds that many unless the configured limit is near it.
    if limits.max_headers >= HYPER_DEFAULT_MAX_HEADERS {
        builder.max_headers(PARSER_MAX_HEADERS);
    }
    let builder = Arc::new(builder);
    loop {
        let Ok(permit) = permits.clone().acquire_owned().await else {
            return Ok(());
        };
        let (stream, addr) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(e) if transient(&e) => {
                // Out of descriptors or a connection reset before accept: back off briefly
                // instead of spinning.
                drop(permit);
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
            Err(e) => return Err(e),
        };
        let _ = stream.set_nodelay(true);
        let app = app.clone();
        let builder = builder.clone();
        tokio::spawn(async move {
            let service = hyper::service::service_fn(move |mut req: hyper::Request<_>| {
                req.extensions_mut().insert(ConnectInfo(addr));
                let app = app.clone();
                async move {
                    use tower::ServiceExt;
                    app.oneshot(req.map(Body::new)).await
                }
            });
            let conn = builder.serve_connection(TokioIo::new(stream), service);
            tokio::pin!(conn);
            let age = Duration::from_secs(limits.max_connection_age_seconds);
            tokio::select! {
                _ = conn.as_mut() => {}
                () = tokio::time::sleep(age) => {
                    conn.as_mut().graceful_shutdown();
                    // The response in flight gets the request timeout to finish.
                    let _ = tokio::time::timeout(limits.request_timeout(), conn).await;
                }
            }
            drop(permit);
        });
    }
}

/// Accept errors that concern one connection or a momentary shortage, not the listener.
fn transient(e: &std::io::Error) -> bool {
    use std::io::ErrorKind::*;
    matches!(
        e.kind(),
        ConnectionAborted | ConnectionReset | ConnectionRefused | Interrupted | WouldBlock
    ) || matches!(e.raw_os_error(), Some(23 | 24 | 105 | 12))
}

/// Whether the server was given the client's address (for the attempt limits).
pub(crate) fn client_addr(extensions: &axum::http::Extensions) -> Option<SocketAddr> {
    extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|ConnectInfo(a)| *a)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;

    async fn call(app: &Router, req: axum::http::Request<Body>) -> (StatusCode, Response) {
        let r = app.clone().oneshot(req).await.unwrap();
        (r.status(), r)
    }

    async fn json(r: Response) -> serde_json::Value {
        assert_eq!(
            r.headers().get(header::CONTENT_TYPE).unwrap(),
            "application/json"
        );
        let b = axum::body::to_bytes(r.into_body(), usize::MAX)
            .await
            .unwrap();
        serde_json::from_slice(&b).unwrap()
    }

    fn app(limits: &LimitsConfig) -> Router {
        layer(
            Router::new()
                .route("/get", get(|| async { "ok" }))
                .route("/echo", axum::routing::post(|b: Bytes| async move { b }))
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(5)).await;
                        "late"
                    }),
                ),
            limits,
        )
    }

    #[tokio::test]
    async fn framework_errors_are_json_with_their_headers() {
        let app = app(&LimitsConfig::default());
        let (s, r) = call(
            &app,
            axum::http::Request::post("/get")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::METHOD_NOT_ALLOWED);
        assert!(r.headers().get(header::ALLOW).is_some());
        assert_eq!(json(r).await["error"], "invalid_request");

        let (s, r) = call(
            &app,
            axum::http::Request::get("/nope")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::NOT_FOUND);
        assert_eq!(json(r).await["error"], "invalid_request");

        let big = vec![b'a'; MAX_BODY + 1];
        let (s, r) = call(
            &app,
            axum::http::Request::post("/echo")
                .body(Body::from(big))
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::PAYLOAD_TOO_LARGE);
        assert_eq!(json(r).await["error"], "invalid_request");
    }

    #[tokio::test]
    async fn uri_and_header_bounds_answer_414_and_431_as_json() {
        let limits = LimitsConfig::default();
        let app = app(&limits);
        let long = format!("/get?x={}", "a".repeat(limits.max_uri_bytes));
        let (s, r) = call(
            &app,
            axum::http::Request::get(long).body(Body::empty()).unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::URI_TOO_LONG);
        assert_eq!(json(r).await["error"], "invalid_request");

        let mut req = axum::http::Request::get("/get");
        for i in 0..=limits.max_headers {
            req = req.header(format!("x-h{i}"), "v");
        }
        let (s, r) = call(&app, req.body(Body::empty()).unwrap()).await;
        assert_eq!(s, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
        assert_eq!(json(r).await["error"], "invalid_request");

        let req = axum::http::Request::get("/get")
            .header("x-big", "b".repeat(limits.max_header_bytes))
            .body(Body::empty())
            .unwrap();
        let (s, _) = call(&app, req).await;
        assert_eq!(s, StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }

    #[tokio::test]
    async fn slow_requests_time_out_with_408() {
        let app = app(&LimitsConfig::default().with_request_timeout(Duration::from_millis(50)));
        let (s, r) = call(
            &app,
            axum::http::Request::get("/slow")
                .body(Body::empty())
                .unwrap(),
        )
        .await;
        assert_eq!(s, StatusCode::REQUEST_TIMEOUT);
        assert_eq!(json(r).await["error"], "invalid_request");
    }

    #[tokio::test]
    async fn read_body_tells_too_large_from_malformed() {
        let r = read_body(Body::from(vec![0u8; 10]), 5).await.unwrap_err();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
        let r = read_body(Body::new(Failing(false)), 1000)
            .await
            .unwrap_err();
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        assert_eq!(json(r).await["error"], "invalid_request");
    }

    /// A body that fails after one chunk, as a malformed chunked encoding does.
    struct Failing(bool);

    impl http_body::Body for Failing {
        type Data = Bytes;
        type Error = std::io::Error;
        fn poll_frame(
            mut self: std::pin::Pin<&mut Self>,
            _: &mut std::task::Context<'_>,
        ) -> std::task::Poll<Option<Result<http_body::Frame<Bytes>, std::io::Error>>> {
            if self.0 {
                return std::task::Poll::Ready(Some(Err(std::io::Error::other("bad chunk"))));
            }
            self.0 = true;
            std::task::Poll::Ready(Some(Ok(http_body::Frame::data(Bytes::from_static(b"abc")))))
        }
    }
}
