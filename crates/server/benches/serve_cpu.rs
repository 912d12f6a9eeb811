//! Server CPU per `client_credentials` request over loopback HTTP (issue 19 §3), against one
//! ES256 signature measured in the same run (target: at most 1.5x, HTTP included).
//!
//! The bench re-runs its own executable as the server (`idforge_server::serve` on a
//! multi-threaded tokio runtime, as `idforge serve` does; its stderr access log drained through a
//! pipe like a supervisor's), drives it with a keep-alive HTTP/1.1 load client over a few
//! connections from this process, and reads the server's user + system CPU time from
//! `/proc/<pid>/stat` before and after. The client's own CPU is not counted; the signature and
//! the in-process figures are CPU time too, so other load on the machine does not count. Also
//! printed: the same request in process through the provider alone and through the router (no
//! socket), and the server's RSS growth per live access token (issue 19 §4). Linux only (reads
//! `/proc`); prints why it skipped elsewhere.
//!
//! The floor: a second child runs a bare hyper HTTP/1 server on the same runtime and connection
//! settings that reads each request's body and answers a canned response of the same status,
//! headers and length as idforge's (no routing, no protocol work). Its CPU per request, measured
//! interleaved with idforge's under the same load, is what any server pays here for loopback TCP,
//! wake-ups and HTTP/1 alone; the bench prints it and idforge's CPU above it, both in signatures.
//! A third child is the same bare server making one ES256 signature per request: the least any
//! server issuing a signed token per request pays here, against which issue 19 §3's 1.5× target
//! can be judged.
#![allow(clippy::unwrap_used, missing_docs)]

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use base64::Engine;
use http_body_util::{BodyExt, Full};
use hyper::body::Bytes;
use idforge_jose::{crypto::EcCurve, JwsAlgorithm, Key, KeySpec, LocalSigner};
use idforge_server::ServeConfig;
use tower::ServiceExt;

const CONFIG: &str = r#"
[[clients]]
client_id = "svc"
client_secret = "svc-secret"
grant_types = ["client_credentials"]
token_endpoint_auth_method = "client_secret_basic"
access_token_format = "jwt"
scopes = ["email", "profile"]
"#;
const BODY: &str = "grant_type=client_credentials";
const CONNECTIONS: usize = 4;
const WARMUP: usize = 2_000;
const REQUESTS: usize = 20_000;
const CHILD: &str = "IDFORGE_SERVE_CPU_CHILD";
/// Set (to idforge's response body) for the floor child.
const FLOOR_BODY: &str = "IDFORGE_SERVE_CPU_FLOOR_BODY";
/// idforge's response header fields for the floor child, one `name: value` per line.
const FLOOR_HEADERS: &str = "IDFORGE_SERVE_CPU_FLOOR_HEADERS";
/// Set for the floor child that also makes one ES256 signature per request.
const FLOOR_SIGNS: &str = "IDFORGE_SERVE_CPU_FLOOR_SIGNS";

fn auth() -> String {
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode("svc:svc-secret")
    )
}

/// The server side: `idforge serve` with [`CONFIG`] on an ephemeral port.
fn child() {
    // The subscriber `idforge serve` installs (`RUST_LOG`, default `warn`): the request spans'
    // cost at the default level is part of the measurement.
    idforge_server::trace::init_subscriber();
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(idforge_server::serve(
        "127.0.0.1:0".parse().unwrap(),
        config,
    ))
    .unwrap();
}

/// The floor child: a bare hyper HTTP/1 server (same builder settings as `serve_with_limits`:
/// timer, header read timeout, keep-alive, `TCP_NODELAY`; the same multi-threaded runtime) that
/// collects each request body and answers `body` with idforge's token-response header fields
/// (`headers`, as [`sample`] took them; hyper adds `content-length` and `date` as for idforge).
///
/// With `signs`, each request also makes one ES256 signature over an access-token-sized input
/// ([`signing_input`]) before answering: the least any server issuing a signed token pays.
fn floor_child(body: String, headers: &str, signs: bool) {
    use hyper::server::conn::http1;
    use hyper_util::rt::{TokioIo, TokioTimer};
    let body = Bytes::from(body);
    let mut fields = hyper::HeaderMap::new();
    for line in headers.lines() {
        let (name, value) = line.split_once(": ").unwrap();
        if name != "content-length" && name != "date" {
            fields.append(
                hyper::header::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                value.parse().unwrap(),
            );
        }
    }
    let fields = std::sync::Arc::new(fields);
    let signer = signs.then(|| std::sync::Arc::new(es256_signer()));
    let input = std::sync::Arc::new(signing_input());
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async move {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        println!(
            "idforge serve: listening on http://{}",
            listener.local_addr().unwrap()
        );
        let mut builder = http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_secs(10))
            .keep_alive(true);
        let builder = std::sync::Arc::new(builder);
        loop {
            let (stream, _) = listener.accept().await.unwrap();
            stream.set_nodelay(true).unwrap();
            let builder = builder.clone();
            let body = body.clone();
            let fields = fields.clone();
            let signer = signer.clone();
            let input = input.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(
                    move |req: hyper::Request<hyper::body::Incoming>| {
                        let body = body.clone();
                        let fields = fields.clone();
                        let signer = signer.clone();
                        let input = input.clone();
                        async move {
                            req.into_body().collect().await?;
                            if let Some(signer) = signer {
                                std::hint::black_box(signer.sign_sync(&input).unwrap());
                            }
                            let mut resp = hyper::Response::new(Full::new(body));
                            *resp.headers_mut() = (*fields).clone();
                            Ok::<_, hyper::Error>(resp)
                        }
                    },
                );
                let _ = builder
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
        }
    });
}

/// User + system CPU of `pid`, from `/proc/<pid>/stat` (fields 14 and 15, in clock ticks).
fn cpu_of(pid: u32, tick: f64) -> Option<Duration> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after its ')' are plain.
    let rest = &stat[stat.rfind(')')? + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks: f64 = f.get(11)?.parse::<f64>().ok()? + f.get(12)?.parse::<f64>().ok()?;
    Some(Duration::from_secs_f64(ticks / tick))
}

/// Resident memory of `pid` in bytes (`VmRSS` of `/proc/<pid>/status`).
fn rss_of(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib * 1024)
}

fn clock_ticks() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8_lossy(&o.stdout).trim().parse().ok())
        .unwrap_or(100.0)
}

/// The measured request: `client_credentials` at `/token` with Basic `auth`.
fn token_request(auth: &str) -> hyper::Request<Full<Bytes>> {
    hyper::Request::post("/token")
        .header("host", "127.0.0.1")
        .header("authorization", auth)
        .header("content-type", "application/x-www-form-urlencoded")
        .body(Full::new(Bytes::from_static(BODY.as_bytes())))
        .unwrap()
}

/// One token request: idforge's response header fields (`name: value` lines) and body, which
/// the floor child replays.
async fn sample(addr: std::net::SocketAddr) -> (String, String) {
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let io = hyper_util::rt::TokioIo::new(stream);
    let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
    tokio::spawn(conn);
    let resp = send.send_request(token_request(&auth())).await.unwrap();
    assert_eq!(resp.status(), 200);
    let headers = resp
        .headers()
        .iter()
        .map(|(n, v)| format!("{n}: {}\n", v.to_str().unwrap()))
        .collect();
    let body = resp.into_body().collect().await.unwrap().to_bytes();
    (headers, String::from_utf8(body.to_vec()).unwrap())
}

/// Sends `n` token requests over `CONNECTIONS` keep-alive connections.
async fn load(addr: std::net::SocketAddr, n: usize) {
    let auth = auth();
    let mut tasks = Vec::new();
    for c in 0..CONNECTIONS {
        let auth = auth.clone();
        let share = n / CONNECTIONS + usize::from(c < n % CONNECTIONS);
        tasks.push(tokio::spawn(async move {
            let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
            stream.set_nodelay(true).unwrap();
            let io = hyper_util::rt::TokioIo::new(stream);
            let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.unwrap();
            tokio::spawn(conn);
            for _ in 0..share {
                let resp = send.send_request(token_request(&auth)).await.unwrap();
                assert_eq!(resp.status(), 200);
                let body = resp.into_body().collect().await.unwrap().to_bytes();
                std::hint::black_box(body);
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
}

/// CPU time (user + system) of this process per call of `f`, over `n` calls: robust to other
/// processes competing for the cores, unlike wall-clock time.
fn cpu_per_call(tick: f64, n: usize, mut f: impl FnMut()) -> Duration {
    let before = cpu_of(std::process::id(), tick).unwrap();
    for _ in 0..n {
        f();
    }
    (cpu_of(std::process::id(), tick).unwrap() - before) / n as u32
}

fn es256_signer() -> LocalSigner {
    LocalSigner::new(
        Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap(),
        JwsAlgorithm::ES256,
    )
    .unwrap()
}

/// An access-token-sized JWS signing input.
fn signing_input() -> Vec<u8> {
    let h = idforge_jose::b64::encode(br#"{"alg":"ES256","typ":"at+jwt","kid":"k1"}"#);
    let p = idforge_jose::b64::encode(
        br#"{"iss":"http://127.0.0.1:40000","exp":1800003600,"aud":"http://127.0.0.1:40000","sub":"svc","client_id":"svc","iat":1800000000,"jti":"0123456789abcdef0123456789","scope":"email profile"}"#,
    );
    format!("{h}.{p}").into_bytes()
}

/// CPU per ES256 signature over an access-token-sized signing input.
fn es256_signature(tick: f64) -> Duration {
    let signer = es256_signer();
    let input = signing_input();
    cpu_per_call(tick, 30_000, || {
        std::hint::black_box(signer.sign_sync(&input).unwrap());
    })
}

/// CPU per request in process: through the provider alone (`handle_form`), then through the
/// router (no socket, no HTTP parsing).
fn in_process(rt: &tokio::runtime::Runtime, tick: f64) -> (Duration, Duration) {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let idp = idforge_server::build(&config, "http://127.0.0.1:40000").unwrap();
    let app = idforge_server::router(&idp);
    let auth = auth();
    let provider = cpu_per_call(tick, 20_000, || {
        let r = rt.block_on(
            idp.provider()
                .token
                .handle_form(BODY.as_bytes(), Some(&auth)),
        );
        std::hint::black_box(r.unwrap());
    });
    let router = cpu_per_call(tick, 20_000, || {
        let req = axum::http::Request::post("/token")
            .header("authorization", &auth)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(axum::body::Body::from(BODY))
            .unwrap();
        let resp = rt.block_on(app.clone().oneshot(req)).unwrap();
        assert_eq!(resp.status(), 200);
        std::hint::black_box(rt.block_on(resp.into_body().collect()).unwrap());
    });
    (provider, router)
}

/// A server child process: `idforge serve` or the floor, on an ephemeral port.
struct Child {
    process: std::process::Child,
    pid: u32,
    addr: std::net::SocketAddr,
    /// Counts the access log's lines on stderr until the child exits.
    drain: std::thread::JoinHandle<usize>,
}

impl Child {
    fn spawn(env: &[(&str, &str)]) -> Child {
        let mut process = Command::new(std::env::current_exe().unwrap())
            .envs(env.iter().copied())
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let pid = process.id();
        let mut stdout = BufReader::new(process.stdout.take().unwrap());
        let addr = loop {
            let mut line = String::new();
            assert!(
                stdout.read_line(&mut line).unwrap() > 0,
                "the server exited"
            );
            if let Some(a) = line
                .trim()
                .strip_prefix("idforge serve: listening on http://")
            {
                break a.parse::<std::net::SocketAddr>().unwrap();
            }
        };
        // Drain stdout and the access log on stderr as a supervisor would.
        let mut stderr = process.stderr.take().unwrap();
        let drain = std::thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = stderr.read_to_end(&mut buf);
            buf.iter().filter(|b| **b == b'\n').count()
        });
        std::thread::spawn(move || std::io::copy(&mut stdout, &mut std::io::sink()));
        Child {
            process,
            pid,
            addr,
            drain,
        }
    }

    /// Server CPU per request over `REQUESTS` requests (and prints the run).
    fn measure(&self, rt: &tokio::runtime::Runtime, tick: f64, name: &str) -> Duration {
        let before = cpu_of(self.pid, tick).unwrap();
        let start = Instant::now();
        rt.block_on(load(self.addr, REQUESTS));
        let wall = start.elapsed();
        let cpu = cpu_of(self.pid, tick).unwrap() - before;
        let per = cpu / REQUESTS as u32;
        println!(
            "{name}: {REQUESTS} client_credentials requests over {CONNECTIONS} keep-alive connections in {wall:.2?}: server CPU {cpu:.2?}, {per:.2?} per request",
        );
        per
    }

    /// Stops the child; the number of lines it wrote on stderr.
    fn stop(mut self) -> usize {
        self.process.kill().unwrap();
        let _ = self.process.wait();
        self.drain.join().unwrap_or(0)
    }
}

fn main() {
    if let Some(body) = std::env::var_os(FLOOR_BODY) {
        let headers = std::env::var(FLOOR_HEADERS).unwrap_or_default();
        let signs = std::env::var_os(FLOOR_SIGNS).is_some();
        floor_child(body.into_string().unwrap(), &headers, signs);
        return;
    }
    if std::env::var_os(CHILD).is_some() {
        child();
        return;
    }
    if std::fs::metadata("/proc/self/stat").is_err() {
        println!("serve_cpu skipped: /proc is not available here");
        return;
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let server = Child::spawn(&[(CHILD, "1")]);
    let (headers, body) = rt.block_on(sample(server.addr));
    let floor = Child::spawn(&[(FLOOR_BODY, &body), (FLOOR_HEADERS, &headers)]);
    let signing_floor = Child::spawn(&[
        (FLOOR_BODY, &body),
        (FLOOR_HEADERS, &headers),
        (FLOOR_SIGNS, "1"),
    ]);
    let tick = clock_ticks();
    let sig = es256_signature(tick);
    let (provider, router) = in_process(&rt, tick);
    rt.block_on(load(server.addr, WARMUP));
    rt.block_on(load(floor.addr, WARMUP));
    rt.block_on(load(signing_floor.addr, WARMUP));
    let rss_before = rss_of(server.pid).unwrap_or(0);
    // Interleaved, so both see the same machine load.
    let mut per_request = Vec::new();
    let mut per_floor = Vec::new();
    let mut per_signing_floor = Vec::new();
    for _ in 0..3 {
        per_floor.push(floor.measure(&rt, tick, "floor (bare hyper)"));
        per_signing_floor.push(signing_floor.measure(&rt, tick, "floor + one ES256 signature"));
        per_request.push(server.measure(&rt, tick, "serve"));
    }
    // Every access token lives an hour in the memory grant store (persistence `stored`).
    let rss_growth = rss_of(server.pid).unwrap_or(0).saturating_sub(rss_before);
    println!(
        "serve RSS growth: {} KiB for {} live access tokens, {} bytes per token",
        rss_growth / 1024,
        3 * REQUESTS,
        rss_growth / (3 * REQUESTS) as u64
    );
    let lines = server.stop();
    floor.stop();
    signing_floor.stop();
    per_request.sort_unstable();
    per_floor.sort_unstable();
    per_signing_floor.sort_unstable();
    let (per, floor, signing_floor) = (per_request[1], per_floor[1], per_signing_floor[1]);
    let x = |d: Duration| d.as_secs_f64() / sig.as_secs_f64();
    println!(
        "ratio serve CPU per client_credentials request / one ES256 signature: {per:.2?} / {sig:.2?} = {:.2}x (target <= 1.5x); in process through the router {router:.2?} ({:.2}x), through the provider alone (handle_form) {provider:.2?} ({:.2}x); access log lines {lines}",
        x(per),
        x(router),
        x(provider),
    );
    println!(
        "floor: a bare hyper server answering the same response costs {floor:.2?} per request ({:.2}x one signature); idforge above the floor {:.2?} ({:.2}x)",
        x(floor),
        per.saturating_sub(floor),
        x(per.saturating_sub(floor)),
    );
    println!(
        "floor + one ES256 signature per request: {signing_floor:.2?} ({:.2}x one signature): the least a server issuing one signed token per request pays here; idforge is {:.2}x that",
        x(signing_floor),
        per.as_secs_f64() / signing_floor.as_secs_f64(),
    );
}
