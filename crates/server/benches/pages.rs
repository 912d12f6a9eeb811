//! The hosted pages' cost (issue 21): the login page through the router in process (validate
//! the request, seal it, render the template, hash the inline stylesheet for the
//! Content-Security-Policy) against the raw primitives measured in the same run: the same page
//! built by hand with `format!` and oauth-core's escaper (what the server did before
//! templates), and one SHA-256 of the stylesheet. Also: loading a configuration (which parses
//! every template and renders each page once per language). Wall-clock medians of a few rounds.
#![allow(clippy::unwrap_used, missing_docs)]

use std::time::{Duration, Instant};

use http_body_util::BodyExt;
use idforge_oauth_core::endpoint::authorize::html_escape;
use idforge_server::ServeConfig;
use tower::ServiceExt;

const CONFIG: &str = r#"
[[clients]]
client_id = "web"
client_secret = "web-secret"
redirect_uris = ["https://app.example/cb"]

[[users]]
username = "alice"
password = "alice-password"
"#;
const URI: &str = "/authorize?response_type=code&client_id=web&redirect_uri=https%3A%2F%2Fapp.example%2Fcb&scope=openid%20email&state=s";

fn median_per_call(rounds: usize, n: usize, mut f: impl FnMut()) -> Duration {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..n {
                f();
            }
            start.elapsed() / n as u32
        })
        .collect();
    times.sort();
    times[rounds / 2]
}

/// The pre-template login page, by hand.
fn by_hand(client: &str, scope: &str, sealed: &str) -> String {
    format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in - idforge</title></head><body>\
         <h1>Sign in</h1><p>to continue to <b>{}</b> (scopes: {})</p>\
         <form method=\"post\" action=\"/authorize\">\
         <input type=\"hidden\" name=\"request\" value=\"{}\"/>\
         <label>Username <input name=\"username\" autocomplete=\"username\" value=\"\"/></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"/></label>\
         <button type=\"submit\">Sign in</button></form></body></html>",
        html_escape(client),
        html_escape(scope),
        html_escape(sealed)
    )
}

fn main() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let idp = idforge_server::build(&config, "http://127.0.0.1:40000").unwrap();
    let app = idforge_server::router(&idp);
    let get = || {
        let req = axum::http::Request::get(URI)
            .body(axum::body::Body::empty())
            .unwrap();
        let resp = rt.block_on(app.clone().oneshot(req)).unwrap();
        assert_eq!(resp.status(), 200);
        std::hint::black_box(rt.block_on(resp.into_body().collect()).unwrap());
    };
    for _ in 0..200 {
        get();
    }
    let page = median_per_call(7, 2_000, get);
    let sealed = "x".repeat(520);
    let hand = median_per_call(7, 20_000, || {
        std::hint::black_box(by_hand("web", "openid email", &sealed));
    });
    let css = include_str!("../templates/style.css");
    let sha = median_per_call(7, 20_000, || {
        std::hint::black_box(idforge_jose::crypto::HashAlg::Sha256.digest(css.as_bytes()));
    });
    let load = median_per_call(3, 5, || {
        std::hint::black_box(ServeConfig::from_toml(CONFIG).unwrap());
    });
    println!(
        "login page through the router: {:>9.1} µs",
        page.as_secs_f64() * 1e6
    );
    println!(
        "  the page by hand (format!):   {:>9.1} µs  ratio {:.1}x",
        hand.as_secs_f64() * 1e6,
        page.as_secs_f64() / hand.as_secs_f64()
    );
    println!(
        "  SHA-256 of the stylesheet:    {:>9.1} µs  ratio {:.1}x",
        sha.as_secs_f64() * 1e6,
        page.as_secs_f64() / sha.as_secs_f64()
    );
    println!(
        "configuration load (templates checked): {:>7.2} ms",
        load.as_secs_f64() * 1e3
    );
}
