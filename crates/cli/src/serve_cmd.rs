//! `idforge serve`: a demo OpenID Provider on loopback; the host is `idforge-server`.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use idforge_server::{Database, ServeConfig};

/// Arguments of `idforge serve`.
#[derive(Debug, clap::Args)]
pub(crate) struct Args {
    /// TOML configuration (`issuer`, `signing_key`, `[[clients]]`, `[[users]]`); without it a built-in
    /// demo configuration is used and printed.
    #[arg(long)]
    config: Option<PathBuf>,
    /// Address to listen on: `IP:PORT` or `HOST:PORT` (`localhost:8080`; the first address
    /// the name resolves to).
    #[arg(long, default_value = "127.0.0.1:8080", value_parser = parse_addr)]
    addr: SocketAddr,
    /// Where the state lives: `sqlite://PATH` (relative to the current directory),
    /// `sqlite:///ABSOLUTE/PATH` (the file is created), `postgres://...`, or `memory` (a
    /// restart forgets everything). Grants, tokens, clients, users and signing keys survive a
    /// restart on a database.
    #[arg(long, default_value = Database::DEFAULT)]
    database: Database,
    /// Serve the deterministic test provider of `idforge-testing` instead (for test suites in
    /// any language): seeded keys, a clock moved only by the control endpoint
    /// (`{issuer}/_test/clock`), scripted logins, token minting (`{issuer}/_test/token`).
    #[arg(long, conflicts_with_all = ["config", "database"])]
    test: bool,
    /// `--test`: the seed of every key, code and token.
    #[arg(long, default_value_t = 0, requires = "test")]
    seed: u64,
    /// `--test`: an issuer `PATH[:ALG]` below the base URL (repeatable; `""` is the base URL,
    /// ALG `EdDSA` (default), `ES256`, `ES384` or `RS256`). Default: one at the base URL.
    #[arg(long = "issuer", requires = "test", value_parser = crate::serve_test::parse_issuer)]
    issuers: Vec<crate::serve_test::IssuerArg>,
}

/// `IP:PORT`, else `HOST:PORT` resolved (the first address, IPv4 preferred so that `localhost`
/// is the `127.0.0.1` the printed URLs and the demo redirect URIs use).
fn parse_addr(text: &str) -> Result<SocketAddr, String> {
    if let Ok(a) = text.parse() {
        return Ok(a);
    }
    use std::net::ToSocketAddrs;
    let all: Vec<SocketAddr> = text
        .to_socket_addrs()
        .map_err(|e| format!("{text}: not HOST:PORT or IP:PORT ({e})"))?
        .collect();
    all.iter()
        .find(|a| a.is_ipv4())
        .or_else(|| all.first())
        .copied()
        .ok_or_else(|| format!("{text}: resolves to no address"))
}

/// Runs the server until the process is stopped.
pub(crate) fn run(args: Args) -> ExitCode {
    if args.test {
        return crate::serve_test::run(args.addr, args.seed, &args.issuers);
    }
    let config = match &args.config {
        Some(path) => match std::fs::read_to_string(path)
            .map_err(|e| e.to_string())
            .and_then(|t| ServeConfig::from_toml(&t).map_err(|e| e.to_string()))
        {
            Ok(c) => Some(c),
            Err(e) => {
                eprintln!(
                    "error: config: {}: {}",
                    path.display(),
                    e.replace('\n', " ")
                );
                return ExitCode::from(1);
            }
        },
        None => None,
    };
    // `RUST_LOG` (default `warn`): request spans on stderr beside the access log lines.
    idforge_server::trace::init_subscriber();
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
    match &args.config {
        Some(path) => println!("config: {}", path.display()),
        None => println!("config: built-in demo (printed below)"),
    }
    let served = runtime.block_on(idforge_server::serve_with_database(
        args.addr,
        config,
        &args.database,
    ));
    match served {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: serve: {}", e.to_string().replace('\n', " "));
            ExitCode::from(1)
        }
    }
}
