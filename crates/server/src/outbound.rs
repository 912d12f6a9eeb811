//! The outbound HTTP(S) client of `idforge serve`: the POSTs it makes to relying parties (CIBA
//! ping and push notifications, CIBA Core §10.2, §10.3, JSON with a bearer token; back-channel
//! Logout Tokens, Back-Channel Logout 1.0 §2.5, a form) and the GET of trusted token issuers'
//! `jwks_uri` (RFC 8693 token exchange).
//!
//! hyper-util's pooled client over hyper-openssl's connector (decision 0016): `https://` with
//! the system's trust roots (OpenSSL's default paths, `SSL_CERT_FILE` / `SSL_CERT_DIR`) plus
//! `[outbound] ca_file`, the host name verified, TLS 1.2 at least; `http://` too, because who
//! may register a plain endpoint is the registration rules' decision (CIBA §4: loopback only,
//! `idforge_ciba::notification_endpoint_ok`; Back-Channel Logout 1.0 §2.2 only says it SHOULD
//! be https). Redirects are not followed (a 3xx is a status like any other) and the response
//! body is never read beyond [`MAX_DRAINED_BODY`]: the status is the answer. The caller bounds
//! each attempt with [`Outbound::timeout`] and decides on retries.
//!
//! `openssl` is imported here only for the transport; protocol crypto stays in
//! `idforge_jose::crypto` (decision 0001, as amended by 0016).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use http_body_util::{BodyExt, Full, Limited};
use hyper::body::{Body as _, Bytes, Incoming};
use hyper::header::{HeaderValue, ACCEPT, AUTHORIZATION, CONTENT_TYPE};
use hyper::{Request, Response, Uri};
use hyper_openssl::client::legacy::HttpsConnector;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioTimer};
use openssl::ssl::{SslConnector, SslMethod, SslVersion};
use openssl::x509::X509;
use serde::{Deserialize, Serialize};

use crate::ConfigError;

/// The most of a response body read (in the background, so that a kept-alive connection can
/// be reused); a larger body closes the connection instead. Relying parties answer 200/204
/// with an empty body, or a small error document.
const MAX_DRAINED_BODY: usize = 16 * 1024;
/// How long a response body may take to be drained before the connection is dropped.
const DRAIN_TIMEOUT: Duration = Duration::from_secs(2);
/// Idle pooled connections are closed after this long (relying parties' servers commonly
/// close theirs after 60 s or less; closing first avoids reusing a half-closed one).
const POOL_IDLE: Duration = Duration::from_secs(30);
/// Idle connections kept per relying party.
const POOL_MAX_IDLE_PER_HOST: usize = 4;
/// The largest CA file read: a full system bundle is about 200 KiB.
const MAX_CA_FILE_BYTES: u64 = 4 * 1024 * 1024;

/// `[outbound]`: how `idforge serve` reaches relying parties (CIBA ping/push notification
/// endpoints, back-channel logout URIs).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
#[non_exhaustive]
pub struct OutboundConfig {
    /// A PEM file of CA certificates trusted for `https://` endpoints in addition to the
    /// system's trust roots (a private CA of the relying parties). Read and checked when the
    /// configuration is loaded.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ca_file: Option<PathBuf>,
    /// Seconds one delivery attempt may take: connecting, the TLS handshake, sending, and
    /// the response's status line (default 5, at most 60).
    pub timeout_seconds: u64,
}

impl Default for OutboundConfig {
    fn default() -> Self {
        OutboundConfig {
            ca_file: None,
            timeout_seconds: 5,
        }
    }
}

impl OutboundConfig {
    /// The defaults: system trust roots only, 5 s per attempt.
    pub fn new() -> Self {
        Self::default()
    }

    /// Trusts the CA certificates of the PEM file `path` too.
    pub fn with_ca_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.ca_file = Some(path.into());
        self
    }

    /// Sets the time one delivery attempt may take.
    pub fn with_timeout_seconds(mut self, seconds: u64) -> Self {
        self.timeout_seconds = seconds;
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == OutboundConfig::default()
    }

    /// The timeout is in range and the CA file holds certificates.
    pub(crate) fn validate(&self) -> Result<(), ConfigError> {
        if !(1..=60).contains(&self.timeout_seconds) {
            return Err(ConfigError::Outbound(
                "timeout_seconds: must be between 1 and 60".into(),
            ));
        }
        if let Some(path) = &self.ca_file {
            load_ca_file(path)?;
        }
        Ok(())
    }
}

/// Reads the certificates of a PEM file; at least one, all parseable.
fn load_ca_file(path: &Path) -> Result<Vec<X509>, ConfigError> {
    let bad = |why: String| ConfigError::Outbound(format!("ca_file {}: {why}", path.display()));
    let size = std::fs::metadata(path)
        .map_err(|e| bad(e.to_string()))?
        .len();
    if size > MAX_CA_FILE_BYTES {
        return Err(bad(format!("larger than {MAX_CA_FILE_BYTES} bytes")));
    }
    let pem = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let certs =
        X509::stack_from_pem(&pem).map_err(|e| bad(format!("not PEM certificates ({e})")))?;
    if certs.is_empty() {
        return Err(bad("no certificate in the file".into()));
    }
    Ok(certs)
}

/// What is posted.
pub(crate) struct Post<'a> {
    /// `Content-Type` of `body`.
    pub(crate) content_type: &'a str,
    /// A bearer token for `Authorization`, if any.
    pub(crate) bearer: Option<&'a str>,
    /// The body.
    pub(crate) body: &'a str,
}

/// Why a POST got no status. The text names the URL's problem or the transport's (connection,
/// TLS handshake, certificate verification, HTTP framing); never a header or the body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum OutboundError {
    /// The endpoint is not an `http://` or `https://` URL the client can use.
    #[error("invalid endpoint URL: {0}")]
    Url(&'static str),
    /// The bearer token cannot be sent as a header value.
    #[error("the bearer token is not a valid header value")]
    Bearer,
    /// The connection, the TLS handshake or the exchange failed.
    #[error("{0}")]
    Transport(String),
}

/// hyper-util's pooled client over the OpenSSL connector.
type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// The pooled HTTP(S) client of one server (cheap to clone: the pool is shared). The client
/// itself is built on first use: loading the system's trust roots takes OpenSSL 3 about 75 ms
/// (measured on the Debian 12 bundle, decision 0016), which a server that never notifies, and
/// every test building one, should not pay.
#[derive(Clone)]
pub(crate) struct Outbound {
    config: Arc<OutboundConfig>,
    client: Arc<tokio::sync::OnceCell<HttpsClient>>,
    timeout: Duration,
}

impl std::fmt::Debug for Outbound {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Outbound")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

/// Builds the client: system trust roots plus `config.ca_file`, TLS 1.2+, host names verified.
fn build_client(config: &OutboundConfig) -> Result<HttpsClient, ConfigError> {
    let tls_err = |e: openssl::error::ErrorStack| ConfigError::Outbound(format!("TLS: {e}"));
    // `SslConnector::builder` loads OpenSSL's default verify paths (the system's trust roots)
    // and turns on peer verification; `HttpsConnector` verifies the host name of each URL
    // (`ConnectConfiguration::into_ssl`).
    let mut tls = SslConnector::builder(SslMethod::tls_client()).map_err(tls_err)?;
    // RFC 9325 §3.1.1: TLS 1.2 or later.
    tls.set_min_proto_version(Some(SslVersion::TLS1_2))
        .map_err(tls_err)?;
    if let Some(path) = &config.ca_file {
        for cert in load_ca_file(path)? {
            tls.cert_store_mut().add_cert(cert).map_err(tls_err)?;
        }
    }
    // No ALPN: HTTP/1.1 only, what every relying party's endpoint speaks.
    let mut http = HttpConnector::new();
    http.enforce_http(false);
    http.set_nodelay(true);
    let mut https = HttpsConnector::with_connector(http, tls).map_err(tls_err)?;
    // `Uri::host` keeps an IPv6 literal's brackets (`[::1]`), which the connector would check
    // as a DNS name (and send as SNI): verify the address itself instead, without SNI
    // (RFC 6066 §3: literal addresses are not sent).
    https.set_callback(|config, uri| {
        if let Some(ip) = ipv6_literal(uri) {
            config.set_use_server_name_indication(false);
            config.set_verify_hostname(false);
            config.param_mut().set_ip(ip)?;
        }
        Ok(())
    });
    Ok(Client::builder(TokioExecutor::new())
        .pool_timer(TokioTimer::new())
        .pool_idle_timeout(POOL_IDLE)
        .pool_max_idle_per_host(POOL_MAX_IDLE_PER_HOST)
        // `Content-Type`, `Authorization` as relying parties' logs (and our tests) spell them;
        // header names are case-insensitive, this is cosmetic.
        .http1_title_case_headers(true)
        .build(https))
}

impl Outbound {
    /// The client of `config`, validated now (the CA file is read and parsed), built at the
    /// first POST.
    pub(crate) fn new(config: &OutboundConfig) -> Result<Outbound, ConfigError> {
        config.validate()?;
        Ok(Outbound {
            config: Arc::new(config.clone()),
            client: Arc::new(tokio::sync::OnceCell::new()),
            timeout: Duration::from_secs(config.timeout_seconds),
        })
    }

    /// The client, built once (off the async threads: it reads files); concurrent first
    /// callers wait for the same build, and a cancelled build is retried by the next caller.
    async fn client(&self) -> Result<&HttpsClient, OutboundError> {
        self.client
            .get_or_try_init(|| async {
                let config = self.config.clone();
                tokio::task::spawn_blocking(move || build_client(&config))
                    .await
                    .map_err(|e| OutboundError::Transport(e.to_string()))?
                    .map_err(|e| OutboundError::Transport(e.to_string()))
            })
            .await
    }

    /// The time one delivery attempt may take (`[outbound] timeout_seconds`).
    pub(crate) fn timeout(&self) -> Duration {
        self.timeout
    }

    /// Sends `req` through the pooled client (built on first use).
    async fn send(&self, req: Request<Full<Bytes>>) -> Result<Response<Incoming>, OutboundError> {
        self.client()
            .await?
            .request(req)
            .await
            .map_err(|e| OutboundError::Transport(describe(&e)))
    }

    /// POSTs to an `http://` or `https://` URL; returns the response status. Not bounded in
    /// time here: callers wrap it in [`Outbound::timeout`].
    pub(crate) async fn post(&self, url: &str, what: Post<'_>) -> Result<u16, OutboundError> {
        let uri = target(url)?;
        let mut req = Request::post(uri).header(CONTENT_TYPE, what.content_type);
        if let Some(token) = what.bearer {
            let mut value = HeaderValue::from_str(&format!("Bearer {token}"))
                .map_err(|_| OutboundError::Bearer)?;
            value.set_sensitive(true);
            req = req.header(AUTHORIZATION, value);
        }
        let req = req
            .body(Full::new(Bytes::copy_from_slice(what.body.as_bytes())))
            .map_err(|_| OutboundError::Url("not a request target"))?;
        let response = self.send(req).await?;
        let status = response.status().as_u16();
        let body = response.into_body();
        if !body.is_end_stream() {
            // The status is the answer; the body is read only so the connection can be
            // pooled, bounded in size and time, without holding the caller.
            tokio::spawn(drain(body));
        }
        Ok(status)
    }

    /// GETs an `http://` or `https://` URL (token exchange's trusted issuers' `jwks_uri`):
    /// the body of a 2xx response, read up to `max_bytes` (a larger body is an error). Not
    /// bounded in time here: callers wrap it in [`Outbound::timeout`]. Redirects are not
    /// followed: a 3xx is an error like any other non-2xx status.
    pub(crate) async fn get(
        &self,
        url: &str,
        accept: &'static str,
        max_bytes: usize,
    ) -> Result<Bytes, OutboundError> {
        let uri = target(url)?;
        let req = Request::get(uri)
            .header(ACCEPT, accept)
            .body(Full::new(Bytes::new()))
            .map_err(|_| OutboundError::Url("not a request target"))?;
        let response = self.send(req).await?;
        let status = response.status();
        if !status.is_success() {
            return Err(OutboundError::Transport(format!(
                "status {}",
                status.as_u16()
            )));
        }
        Limited::new(response.into_body(), max_bytes)
            .collect()
            .await
            .map(|body| body.to_bytes())
            .map_err(|e| OutboundError::Transport(describe(&*e)))
    }
}

/// The URI of `url` if this client can use it: `http://` or `https://`, a host, no user
/// information. Also what configuration loading checks URLs with, so a URL accepted at load is
/// one a request can use.
pub(crate) fn target(url: &str) -> Result<Uri, OutboundError> {
    let uri: Uri = url.parse().map_err(|_| OutboundError::Url("not a URI"))?;
    match uri.scheme_str() {
        Some("http") | Some("https") => {}
        _ => {
            return Err(OutboundError::Url(
                "only http:// and https:// are supported",
            ))
        }
    }
    let authority = uri
        .authority()
        .filter(|a| !a.host().is_empty())
        .ok_or(OutboundError::Url("no host"))?
        .as_str();
    // Credentials in the URL would be sent nowhere (hyper ignores them) and logged with
    // the URL; refuse rather than surprise.
    if authority.contains('@') {
        return Err(OutboundError::Url("user information is not allowed"));
    }
    Ok(uri)
}

/// The address of a URL whose host is a bracketed IPv6 literal.
fn ipv6_literal(uri: &Uri) -> Option<std::net::IpAddr> {
    uri.host()?
        .strip_prefix('[')?
        .strip_suffix(']')?
        .parse()
        .ok()
}

/// Reads and discards at most [`MAX_DRAINED_BODY`] bytes for at most [`DRAIN_TIMEOUT`];
/// dropping the body earlier closes the connection instead of returning it to the pool.
async fn drain(body: Incoming) {
    let mut limited = Limited::new(body, MAX_DRAINED_BODY);
    let _ = tokio::time::timeout(DRAIN_TIMEOUT, async {
        while let Some(frame) = limited.frame().await {
            if frame.is_err() {
                return;
            }
        }
    })
    .await;
}

/// An error and its causes, each once: hyper-util's own text ("client error (Connect)") says
/// little; the causes say "certificate verify failed: hostname mismatch" or "Connection
/// refused".
fn describe(e: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(e);
    while let Some(err) = next {
        let text = err.to_string();
        if !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        next = err.source();
    }
    parts.join(": ")
}

/// A local HTTPS relying party for tests: a CA, leaf certificates it signs, and a server that
/// records each request and answers a fixed status.
#[cfg(test)]
pub(crate) mod test_tls {
    use std::pin::Pin;
    use std::sync::atomic::{AtomicU32, Ordering};

    use http_body_util::{BodyExt, Full};
    use hyper::body::Bytes;
    use hyper_util::rt::TokioIo;
    use openssl::asn1::Asn1Time;
    use openssl::bn::{BigNum, MsbOption};
    use openssl::ec::{EcGroup, EcKey};
    use openssl::hash::MessageDigest;
    use openssl::nid::Nid;
    use openssl::pkey::{PKey, Private};
    use openssl::ssl::{Ssl, SslAcceptor, SslMethod};
    use openssl::x509::extension::{BasicConstraints, KeyUsage, SubjectAlternativeName};
    use openssl::x509::{X509NameBuilder, X509};
    use tokio::net::TcpListener;
    use tokio::sync::mpsc;

    fn key() -> PKey<Private> {
        let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
        PKey::from_ec_key(EcKey::generate(&group).unwrap()).unwrap()
    }

    fn name(cn: &str) -> openssl::x509::X509Name {
        let mut name = X509NameBuilder::new().unwrap();
        name.append_entry_by_text("CN", cn).unwrap();
        name.build()
    }

    fn builder(cn: &str, key: &PKey<Private>) -> openssl::x509::X509Builder {
        let name = name(cn);
        let mut b = X509::builder().unwrap();
        b.set_version(2).unwrap();
        let mut serial = BigNum::new().unwrap();
        serial.rand(64, MsbOption::MAYBE_ZERO, false).unwrap();
        b.set_serial_number(&serial.to_asn1_integer().unwrap())
            .unwrap();
        b.set_subject_name(&name).unwrap();
        b.set_pubkey(key).unwrap();
        b.set_not_before(&Asn1Time::days_from_now(0).unwrap())
            .unwrap();
        b.set_not_after(&Asn1Time::days_from_now(2).unwrap())
            .unwrap();
        b
    }

    /// A certificate authority.
    pub(crate) struct Ca {
        cert: X509,
        key: PKey<Private>,
    }

    impl Ca {
        /// A fresh self-signed CA.
        pub(crate) fn new(cn: &str) -> Ca {
            let key = key();
            let mut b = builder(cn, &key);
            b.set_issuer_name(&name(cn)).unwrap();
            b.append_extension(BasicConstraints::new().critical().ca().build().unwrap())
                .unwrap();
            b.append_extension(
                KeyUsage::new()
                    .critical()
                    .key_cert_sign()
                    .crl_sign()
                    .build()
                    .unwrap(),
            )
            .unwrap();
            b.sign(&key, MessageDigest::sha256()).unwrap();
            Ca {
                cert: b.build(),
                key,
            }
        }

        /// Writes the CA certificate to a fresh PEM file; its path.
        pub(crate) fn pem_file(&self) -> std::path::PathBuf {
            static N: AtomicU32 = AtomicU32::new(0);
            let path = std::env::temp_dir().join(format!(
                "idforge-outbound-ca-{}-{}.pem",
                std::process::id(),
                N.fetch_add(1, Ordering::Relaxed)
            ));
            std::fs::write(&path, self.cert.to_pem().unwrap()).unwrap();
            path
        }

        /// A server certificate for `dns` names and `ips`, signed by this CA.
        pub(crate) fn leaf(&self, dns: &[&str], ips: &[&str]) -> (X509, PKey<Private>) {
            let key = key();
            let mut b = builder("relying party", &key);
            b.set_issuer_name(self.cert.subject_name()).unwrap();
            let mut san = SubjectAlternativeName::new();
            for d in dns {
                san.dns(d);
            }
            for ip in ips {
                san.ip(ip);
            }
            let san = san
                .build(&b.x509v3_context(Some(&self.cert), None))
                .unwrap();
            b.append_extension(san).unwrap();
            b.sign(&self.key, MessageDigest::sha256()).unwrap();
            (b.build(), key)
        }
    }

    /// An HTTPS server on 127.0.0.1 presenting `cert`: each request (request line, headers
    /// as `Name: value` lines, body) is sent on the channel and answered `status`.
    pub(crate) async fn serve(
        cert: X509,
        key: PKey<Private>,
        status: u16,
    ) -> (u16, mpsc::UnboundedReceiver<String>) {
        serve_on("127.0.0.1:0", cert, key, status).await
    }

    /// [`serve`] on `addr`.
    pub(crate) async fn serve_on(
        addr: &str,
        cert: X509,
        key: PKey<Private>,
        status: u16,
    ) -> (u16, mpsc::UnboundedReceiver<String>) {
        serve_body_on(addr, cert, key, status, "").await
    }

    /// [`serve_on`], answering `answer` as the body.
    pub(crate) async fn serve_body_on(
        addr: &str,
        cert: X509,
        key: PKey<Private>,
        status: u16,
        answer: &'static str,
    ) -> (u16, mpsc::UnboundedReceiver<String>) {
        let mut acceptor = SslAcceptor::mozilla_intermediate_v5(SslMethod::tls_server()).unwrap();
        acceptor.set_certificate(&cert).unwrap();
        acceptor.set_private_key(&key).unwrap();
        let acceptor = acceptor.build();
        let listener = TcpListener::bind(addr).await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let (tx, rx) = mpsc::unbounded_channel();
        let status = hyper::StatusCode::from_u16(status).unwrap();
        tokio::spawn(async move {
            loop {
                let Ok((tcp, _)) = listener.accept().await else {
                    return;
                };
                let ssl = Ssl::new(acceptor.context()).unwrap();
                let tx = tx.clone();
                tokio::spawn(async move {
                    let mut tls = hyper_openssl::SslStream::new(ssl, TokioIo::new(tcp)).unwrap();
                    // A client refusing the certificate ends the handshake: nothing to serve.
                    if Pin::new(&mut tls).accept().await.is_err() {
                        return;
                    }
                    let service = hyper::service::service_fn(
                        move |req: hyper::Request<hyper::body::Incoming>| {
                            let tx = tx.clone();
                            async move {
                                let mut text = format!("{} {}\r\n", req.method(), req.uri());
                                for (name, value) in req.headers() {
                                    text.push_str(&format!(
                                        "{}: {}\r\n",
                                        name,
                                        value.to_str().unwrap_or("")
                                    ));
                                }
                                let body = req.into_body().collect().await?.to_bytes();
                                text.push_str("\r\n");
                                text.push_str(&String::from_utf8_lossy(&body));
                                let _ = tx.send(text);
                                let mut response = hyper::Response::new(Full::new(
                                    Bytes::from_static(answer.as_bytes()),
                                ));
                                *response.status_mut() = status;
                                Ok::<_, hyper::Error>(response)
                            }
                        },
                    );
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(tls, service)
                        .await;
                });
            }
        });
        (port, rx)
    }
}

#[cfg(test)]
mod tests {
    use super::test_tls::{serve, Ca};
    use super::*;

    fn post_with<'a>(bearer: Option<&'a str>, body: &'a str) -> Post<'a> {
        Post {
            content_type: "application/json",
            bearer,
            body,
        }
    }

    #[tokio::test]
    async fn posts_over_https_to_a_configured_ca_and_refuses_what_does_not_verify() {
        let ca = Ca::new("test relying parties");
        let ca_file = ca.pem_file();
        let trusting = Outbound::new(&OutboundConfig::new().with_ca_file(&ca_file)).unwrap();
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1"]);
        let (port, mut seen) = serve(cert, key, 204).await;

        // Trusted chain, matching IP and host name: delivered, bearer and body intact.
        for host in ["127.0.0.1", "localhost"] {
            let url = format!("https://{host}:{port}/cb?x=1");
            let status = trusting
                .post(&url, post_with(Some("tok"), r#"{"auth_req_id":"x"}"#))
                .await
                .unwrap();
            assert_eq!(status, 204);
            let req = seen.recv().await.unwrap();
            assert!(req.starts_with("POST /cb?x=1\r\n"), "{req}");
            assert!(req.contains("authorization: Bearer tok\r\n"), "{req}");
            assert!(req.contains("content-type: application/json\r\n"), "{req}");
            assert!(req.ends_with("\r\n\r\n{\"auth_req_id\":\"x\"}"), "{req}");
        }

        // The same server without the CA configured: the system roots do not know it.
        let system_only = Outbound::new(&OutboundConfig::new()).unwrap();
        let e = system_only
            .post(
                &format!("https://127.0.0.1:{port}/cb"),
                post_with(Some("tok"), "{}"),
            )
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("certificate verify failed"), "{e}");
        assert!(!e.contains("tok"), "{e}");

        // A certificate of the trusted CA for another name: by host name and by IP address.
        let (cert, key) = ca.leaf(&["rp.example"], &["192.0.2.1"]);
        let (port, mut other) = serve(cert, key, 204).await;
        for (host, why) in [
            ("localhost", "hostname mismatch"),
            ("127.0.0.1", "IP address mismatch"),
        ] {
            let e = trusting
                .post(&format!("https://{host}:{port}/cb"), post_with(None, "{}"))
                .await
                .unwrap_err()
                .to_string();
            assert!(e.contains("certificate verify failed"), "{e}");
            assert!(e.contains(why), "{e}");
        }
        assert!(other.try_recv().is_err());
        let _ = std::fs::remove_file(ca_file);
    }

    /// An IPv6 literal is verified as an address (the certificate's IP SAN), not as a name.
    #[tokio::test]
    async fn verifies_ipv6_literals_as_addresses() {
        use super::test_tls::serve_on;
        let ca = Ca::new("test relying parties");
        let ca_file = ca.pem_file();
        let trusting = Outbound::new(&OutboundConfig::new().with_ca_file(&ca_file)).unwrap();
        let (cert, key) = ca.leaf(&[], &["::1"]);
        let (port, mut seen) = serve_on("[::1]:0", cert, key, 200).await;
        let url = format!("https://[::1]:{port}/bc");
        assert_eq!(
            trusting.post(&url, post_with(None, "x")).await.unwrap(),
            200
        );
        assert!(seen.recv().await.unwrap().starts_with("POST /bc\r\n"));
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1"]);
        let (port, _) = serve_on("[::1]:0", cert, key, 200).await;
        let e = trusting
            .post(&format!("https://[::1]:{port}/bc"), post_with(None, "x"))
            .await
            .unwrap_err()
            .to_string();
        assert!(e.contains("IP address mismatch"), "{e}");
        let _ = std::fs::remove_file(ca_file);
    }

    #[tokio::test]
    async fn refuses_urls_it_cannot_use() {
        let o = Outbound::new(&OutboundConfig::new()).unwrap();
        for url in [
            "ftp://rp.example/cb",
            "/cb",
            "not a url",
            "http://user:pw@127.0.0.1:9/cb",
        ] {
            let e = o.post(url, post_with(None, "")).await.unwrap_err();
            assert!(matches!(e, OutboundError::Url(_)), "{url}: {e}");
        }
        let e = o
            .post("http://127.0.0.1:9/cb", post_with(Some("a\nb"), ""))
            .await
            .unwrap_err();
        assert!(matches!(e, OutboundError::Bearer), "{e}");
    }

    #[test]
    fn the_toml_table_reaches_the_server() {
        let ca = Ca::new("relying parties").pem_file();
        let text = format!(
            "[outbound]\nca_file = {:?}\ntimeout_seconds = 7\n",
            ca.display().to_string()
        );
        let config = crate::ServeConfig::from_toml(&text).unwrap();
        assert_eq!(
            config.outbound,
            OutboundConfig::new()
                .with_ca_file(&ca)
                .with_timeout_seconds(7)
        );
        let oauth = crate::oauth::build(
            &config,
            "http://127.0.0.1:1",
            std::sync::Arc::new(idforge_oauth_core::memory::MemoryAttemptLimiter::new()),
        )
        .unwrap();
        assert_eq!(oauth.outbound.timeout(), Duration::from_secs(7));
        let _ = std::fs::remove_file(ca);
        assert!(matches!(
            crate::ServeConfig::from_toml("[outbound]\nca_file = \"/nonexistent/ca.pem\"\n"),
            Err(ConfigError::Outbound(_))
        ));
        assert!(matches!(
            crate::ServeConfig::from_toml("[outbound]\nverify_certificates = false\n"),
            Err(ConfigError::Parse(_))
        ));
    }

    #[test]
    fn the_configuration_is_checked_when_loaded() {
        assert!(OutboundConfig::default().validate().is_ok());
        for bad in [0, 61] {
            let e = OutboundConfig::new()
                .with_timeout_seconds(bad)
                .validate()
                .unwrap_err();
            assert!(e.to_string().contains("timeout_seconds"), "{e}");
        }
        let missing = std::env::temp_dir().join("idforge-outbound-no-such-ca.pem");
        let e = OutboundConfig::new()
            .with_ca_file(&missing)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("ca_file"), "{e}");
        let not_pem = std::env::temp_dir().join(format!(
            "idforge-outbound-not-pem-{}.pem",
            std::process::id()
        ));
        std::fs::write(&not_pem, "hello").unwrap();
        let e = OutboundConfig::new()
            .with_ca_file(&not_pem)
            .validate()
            .unwrap_err();
        assert!(e.to_string().contains("ca_file"), "{e}");
        let _ = std::fs::remove_file(not_pem);
        let ca = Ca::new("ok").pem_file();
        assert!(OutboundConfig::new().with_ca_file(&ca).validate().is_ok());
        let _ = std::fs::remove_file(ca);
    }
}
