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
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
    /// Where the state lives: `sqlite://PATH` (relative to the current directory),
    /// `sqlite:///ABSOLUTE/PATH` (the file is created), `postgres://...`, or `memory` (a
    /// restart forgets everything). Grants, tokens, clients, users and signing keys survive a
    /// restart on a database.
    #[arg(long, default_value = Database::DEFAULT)]
    database: Database,
}

/// Runs the server until the process is stopped.
pub(crate) fn run(args: Args) -> ExitCode {
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
