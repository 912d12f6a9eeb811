//! `idforge jws sign | verify`.

use std::path::PathBuf;

use clap::Subcommand;
use idforge_jose::jws::sign_compact;
use idforge_jose::{Header, JwsAlgorithm, JwsPolicy, LocalSigner};

use crate::io::{read_keys, read_stdin, read_stdin_text};
use crate::CliError;

#[derive(Debug, Subcommand)]
pub(crate) enum JwsCommand {
    /// Sign stdin as the payload; print a compact JWS.
    Sign {
        /// A JWK or JWK Set file holding the private key.
        #[arg(long)]
        key: PathBuf,
        /// The algorithm (e.g. ES256, RS256, PS256, EdDSA, HS256).
        #[arg(long)]
        alg: String,
    },
    /// Verify a compact JWS read on stdin; print its payload.
    Verify {
        /// A JWK or JWK Set file with the verification key(s).
        #[arg(long)]
        key: PathBuf,
        /// Allowed algorithm (repeatable). Default: every algorithm that fits the key(s).
        #[arg(long)]
        alg: Vec<String>,
    },
}

pub(crate) fn run(cmd: JwsCommand) -> Result<Vec<u8>, CliError> {
    match cmd {
        JwsCommand::Sign { key, alg } => {
            let alg = JwsAlgorithm::from_name(&alg)?;
            let keys = read_keys(&key)?;
            let key = keys
                .keys()
                .iter()
                .find(|k| k.is_private() && alg.check_key(k).is_ok() && k.jwk().permits("sign"))
                .ok_or_else(|| {
                    CliError::new(
                        "key_not_found",
                        format!("no private key in the file fits {alg}"),
                    )
                })?;
            let signer = LocalSigner::new(key.clone(), alg)?;
            let payload = read_stdin()?;
            let mut token = sign_compact(Header::new(), &payload, &signer)?;
            // Never print what `jws verify` refuses: the same size limit.
            let max = idforge_jose::jws::Limits::default().max_input_bytes;
            if token.len() > max {
                return Err(CliError::new(
                    "limit_exceeded",
                    format!(
                        "the JWS would be {} bytes; jws verify accepts at most {max}",
                        token.len()
                    ),
                ));
            }
            token.push('\n');
            Ok(token.into_bytes())
        }
        JwsCommand::Verify { key, alg } => {
            let keys = read_keys(&key)?;
            let allowed: Vec<JwsAlgorithm> = if alg.is_empty() {
                let mut all: Vec<JwsAlgorithm> =
                    keys.keys().iter().flat_map(JwsAlgorithm::fitting).collect();
                all.sort();
                all.dedup();
                all
            } else {
                alg.iter()
                    .map(|a| JwsAlgorithm::from_name(a))
                    .collect::<Result<_, _>>()?
            };
            if allowed.is_empty() {
                return Err(CliError::new(
                    "key_not_found",
                    "no signature algorithm fits the key(s)",
                ));
            }
            let token = read_stdin_text()?;
            let verified = JwsPolicy::new(allowed).verify_compact(&token, &keys)?;
            Ok(verified.payload)
        }
    }
}
