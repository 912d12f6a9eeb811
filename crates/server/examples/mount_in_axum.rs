//! A Rust service mounting the whole OpenID Provider in its own axum app, next to its own
//! routes. Run: `cargo run -p idforge-server --example mount_in_axum [ADDR]` (default
//! 127.0.0.1:0, an ephemeral port), then try the printed URLs.

use axum::routing::get;
use axum::Router;
use idforge_server::{ClientConfig, ServeConfig, ServerState, UserConfig};

/// The provider's configuration: a backend client (client credentials) and a web client.
pub(crate) fn config() -> ServeConfig {
    ServeConfig::new()
        .with_client(
            ClientConfig::new("backend")
                .with_secret("backend-secret")
                .with_grant_types(["client_credentials"])
                .with_scopes(["profile"]),
        )
        .with_client(
            ClientConfig::new("web")
                .with_secret("web-secret")
                .with_redirect_uri("http://127.0.0.1:3000/callback"),
        )
        .with_user(
            UserConfig::new("alice", "alice-password").with_claim("email", "alice@example.com"),
        )
}

/// The service: its own routes, plus every route of the provider (state already applied).
pub(crate) fn app(idp: &ServerState) -> Router {
    Router::new()
        .route("/hello", get(|| async { "hello from the service" }))
        .merge(idforge_server::router(idp))
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "127.0.0.1:0".into());
    let listener = tokio::net::TcpListener::bind(&addr).await?;
    let url = format!("http://{}", listener.local_addr()?);
    let idp = idforge_server::build(&config(), &url)?;
    println!("service: {url}/hello");
    println!(
        "discovery: {}/.well-known/openid-configuration",
        idp.issuer()
    );
    axum::serve(listener, app(&idp)).await?;
    Ok(())
}
