//! `idforge serve --test`: the deterministic test provider of `idforge-testing` as a
//! standalone process, for test suites not written in Rust: seeded keys and random values, a
//! clock that only the control endpoint moves, scripted logins, minting of valid and
//! defective tokens over HTTP (see `docs/testing.md`).

use std::net::SocketAddr;
use std::process::ExitCode;

use idforge_testing::{IssuerSpec, TestProvider};

/// One `--issuer PATH[:ALG]` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct IssuerArg {
    path: String,
    alg: idforge_jose::JwsAlgorithm,
}

/// `PATH` or `PATH:ALG` (`tenant-a:ES256`); `ALG` one of the test issuers' algorithms
/// (default `EdDSA`); an empty `PATH` is the base URL.
pub(crate) fn parse_issuer(text: &str) -> Result<IssuerArg, String> {
    let (path, alg) = match text.rsplit_once(':') {
        Some((p, a)) => {
            let alg = idforge_jose::JwsAlgorithm::from_name(a)
                .ok()
                .filter(|alg| idforge_testing::SUPPORTED_ALGORITHMS.contains(alg))
                .ok_or_else(|| format!("{a}: not EdDSA, ES256, ES384 or RS256"))?;
            (p, alg)
        }
        None => (text, idforge_jose::JwsAlgorithm::EdDSA),
    };
    let path = path.trim_matches('/');
    if !path
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
    {
        return Err(format!("{path}: an issuer path is letters, digits, - _ ."));
    }
    Ok(IssuerArg {
        path: path.to_owned(),
        alg,
    })
}

/// Serves the test provider on `addr` until the process is stopped.
pub(crate) fn run(addr: SocketAddr, seed: u64, issuers: &[IssuerArg]) -> ExitCode {
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
    runtime.block_on(async {
        let mut builder = TestProvider::builder().seed(seed);
        for i in issuers {
            builder = builder.issuer(IssuerSpec::new(i.path.clone()).with_algorithm(i.alg));
        }
        let idp = match builder.serve_at(addr).await {
            Ok(p) => p,
            Err(e) => {
                eprintln!("error: serve: {}", e.to_string().replace('\n', " "));
                return ExitCode::from(1);
            }
        };
        println!("idforge serve --test: listening on {}", idp.base_url());
        println!("seed: {seed}");
        println!(
            "clock: {} (moves only through POST {{issuer}}/_test/clock)",
            idp.now()
        );
        for i in idp.issuers() {
            println!(
                "issuer: {} ({:?}) discovery: {}",
                i.issuer(),
                i.algorithm(),
                i.discovery_url()
            );
            println!(
                "control: {iss}/_test/token {iss}/_test/clock {iss}/_test/login {iss}/_test/rotate",
                iss = i.issuer()
            );
        }
        println!(
            "client: client_id={} client_secret={} (and public client_id={}) redirect_uri={}",
            idforge_testing::TEST_CLIENT_ID,
            idforge_testing::TEST_CLIENT_SECRET,
            idforge_testing::PUBLIC_CLIENT_ID,
            idforge_testing::DEFAULT_REDIRECT_URI
        );
        println!(
            "warning: test keys and tokens are predictable from the seed; never expose this server"
        );
        // The provider serves until it is dropped: never, until the process stops.
        std::future::pending::<()>().await;
        ExitCode::SUCCESS
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn issuer_arguments() {
        assert_eq!(
            parse_issuer("tenant-a:ES256").expect("valid"),
            IssuerArg {
                path: "tenant-a".into(),
                alg: idforge_jose::JwsAlgorithm::ES256
            }
        );
        assert_eq!(parse_issuer("").expect("valid").path, "");
        assert_eq!(
            parse_issuer("/b/").expect("valid").alg,
            idforge_jose::JwsAlgorithm::EdDSA
        );
        assert!(parse_issuer("x:HS256").is_err());
        assert!(parse_issuer("a/b").is_err());
    }
}
