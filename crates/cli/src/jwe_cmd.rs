//! `idforge jwe encrypt | decrypt`.

use std::path::PathBuf;

use clap::Subcommand;
use idforge_jose::Header;
use idforge_jwe::{encrypt_compact, ContentEncryption, JwePolicy, KeyManagementAlgorithm};

use crate::io::{read_keys, read_stdin, read_stdin_text};
use crate::CliError;

#[derive(Debug, Subcommand)]
pub(crate) enum JweCommand {
    /// Encrypt stdin; print a compact JWE.
    Encrypt {
        /// A JWK or JWK Set file with the recipient's key.
        #[arg(long)]
        key: PathBuf,
        /// Key management algorithm (e.g. RSA-OAEP-256, ECDH-ES+A256KW, A256KW, dir).
        #[arg(long)]
        alg: String,
        /// Content encryption (A128CBC-HS256, A192CBC-HS384, A256CBC-HS512, A128GCM, A192GCM, A256GCM).
        #[arg(long)]
        enc: String,
        /// The `cty` header (e.g. JWT for a nested token).
        #[arg(long)]
        cty: Option<String>,
    },
    /// Decrypt a compact JWE read on stdin; print the plaintext.
    Decrypt {
        /// A JWK or JWK Set file with the private key(s).
        #[arg(long)]
        key: PathBuf,
        /// Allowed key management algorithm (repeatable). Default: every one that fits the key(s).
        #[arg(long)]
        alg: Vec<String>,
        /// Allowed content encryption (repeatable). Default: all six.
        #[arg(long)]
        enc: Vec<String>,
    },
}

pub(crate) fn run(cmd: JweCommand) -> Result<Vec<u8>, CliError> {
    match cmd {
        JweCommand::Encrypt { key, alg, enc, cty } => {
            let alg = KeyManagementAlgorithm::from_name(&alg)?;
            let enc = ContentEncryption::from_name(&enc)?;
            let keys = read_keys(&key)?;
            let recipient = keys
                .keys()
                .iter()
                .find(|k| KeyManagementAlgorithm::fitting(k).contains(&alg))
                .ok_or_else(|| {
                    CliError::new(
                        "key_not_found",
                        format!("no key in the file fits {}", alg.name()),
                    )
                })?;
            let mut header = Header::new();
            if let Some(kid) = recipient.kid() {
                header.set("kid", kid);
            }
            if let Some(cty) = cty {
                header.set("cty", cty);
            }
            let plaintext = read_stdin()?;
            // Never print what `jwe decrypt` refuses: the same size limit, checked before the
            // work (the compact form is base64url of the ciphertext plus a bounded rest).
            let max = idforge_jwe::Limits::default().max_input_bytes;
            if plaintext.len().div_ceil(3).saturating_mul(4) > max {
                return Err(CliError::new(
                    "limit_exceeded",
                    format!("the plaintext is too large: jwe decrypt accepts JWEs of at most {max} bytes"),
                ));
            }
            let mut token = encrypt_compact(&plaintext, recipient, alg, enc, header)?;
            if token.len() > max {
                return Err(CliError::new(
                    "limit_exceeded",
                    format!(
                        "the JWE would be {} bytes; jwe decrypt accepts at most {max}",
                        token.len()
                    ),
                ));
            }
            token.push('\n');
            Ok(token.into_bytes())
        }
        JweCommand::Decrypt { key, alg, enc } => {
            let keys = read_keys(&key)?;
            let algs: Vec<KeyManagementAlgorithm> = if alg.is_empty() {
                let mut all: Vec<KeyManagementAlgorithm> = keys
                    .keys()
                    .iter()
                    .flat_map(KeyManagementAlgorithm::fitting)
                    .collect();
                all.sort_by_key(|a| a.name());
                all.dedup();
                all
            } else {
                alg.iter()
                    .map(|a| KeyManagementAlgorithm::from_name(a))
                    .collect::<Result<_, _>>()?
            };
            let encs: Vec<ContentEncryption> = if enc.is_empty() {
                ContentEncryption::ALL.to_vec()
            } else {
                enc.iter()
                    .map(|e| ContentEncryption::from_name(e))
                    .collect::<Result<_, _>>()?
            };
            if algs.is_empty() {
                return Err(CliError::new(
                    "key_not_found",
                    "no key management algorithm fits the key(s)",
                ));
            }
            let token = read_stdin_text()?;
            let decrypted = JwePolicy::new(algs, encs).decrypt_compact(&token, &keys)?;
            Ok(decrypted.plaintext)
        }
    }
}
