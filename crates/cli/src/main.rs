//! `idforge`: JOSE keys, signatures and encryption from the shell.
//!
//! Exit codes are part of the contract: 0 success, 1 a rejected input or failed operation (one
//! line `error: <code>: <reason>` on stderr, nothing on stdout), 2 a usage error.
#![forbid(unsafe_code)]

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod io;
mod jwe_cmd;
mod jwk_cmd;
mod jws_cmd;
mod saml_cmd;
mod scim_filter;
mod sd_jwt_cmd;
mod serve_cmd;
mod serve_test;

/// idforge: an embeddable identity provider's toolbox.
#[derive(Debug, Parser)]
#[command(name = "idforge", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// JSON Web Keys: generate, public part, RFC 7638 thumbprint.
    #[command(subcommand)]
    Jwk(jwk_cmd::JwkCommand),
    /// JSON Web Signatures (compact serialization).
    #[command(subcommand)]
    Jws(jws_cmd::JwsCommand),
    /// JSON Web Encryption (compact serialization).
    #[command(subcommand)]
    Jwe(jwe_cmd::JweCommand),
    /// SCIM 2.0 filters (RFC 7644): parse, translate to SQL or LDAP, evaluate.
    #[command(subcommand)]
    ScimFilter(scim_filter::ScimFilterCommand),
    /// SD-JWT (RFC 9901) and SD-JWT VC: issue, present (with key binding), verify, decode.
    #[command(subcommand)]
    SdJwt(sd_jwt_cmd::SdJwtCommand),
    /// SAML 2.0 SP: validate a Response, build an AuthnRequest, print SP metadata.
    #[command(subcommand)]
    Saml(saml_cmd::SamlCommand),
    /// A demo OpenID Provider (authorize, token, UserInfo, introspection, revocation, discovery).
    Serve(serve_cmd::Args),
}

/// A failed command: a stable code and a human reason, printed as one line.
#[derive(Debug)]
pub(crate) struct CliError {
    code: &'static str,
    message: String,
}

impl CliError {
    pub(crate) fn new(code: &'static str, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
}

impl From<idforge_jose::Error> for CliError {
    fn from(e: idforge_jose::Error) -> Self {
        CliError::new(e.code(), e.to_string())
    }
}

impl From<idforge_jwe::Error> for CliError {
    fn from(e: idforge_jwe::Error) -> Self {
        CliError::new(e.code(), e.to_string())
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Jwk(cmd) => jwk_cmd::run(cmd),
        Command::Jws(cmd) => jws_cmd::run(cmd),
        Command::Jwe(cmd) => jwe_cmd::run(cmd),
        Command::ScimFilter(cmd) => return scim_filter::run(cmd),
        Command::SdJwt(cmd) => sd_jwt_cmd::run(cmd),
        Command::Saml(cmd) => saml_cmd::run(cmd),
        Command::Serve(args) => return serve_cmd::run(args),
    };
    match result.and_then(|out| io::write_stdout(&out)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("{}", error_line(&e));
            ExitCode::from(1)
        }
    }
}

/// `error: CODE: REASON` on one line, the code named once: a reason that starts with the code
/// in words (`invalid key: ...` after `invalid_key`) loses that prefix.
fn error_line(e: &CliError) -> String {
    let message = e.message.replace('\n', " ");
    let spoken = format!("{}: ", e.code.replace('_', " "));
    let coded = format!("{}: ", e.code);
    let reason = message
        .strip_prefix(&spoken)
        .or_else(|| message.strip_prefix(&coded))
        .unwrap_or(&message);
    format!("error: {}: {reason}", e.code)
}

/// A usage error found after parsing: the message and the usage of the subcommand at `path`
/// (`["jwk", "generate"]`), exit code 2, as clap's own usage errors.
pub(crate) fn usage_error(path: &[&str], message: &str) -> ! {
    use clap::CommandFactory;
    let mut root = Cli::command();
    root.build();
    let mut cmd = root;
    for name in path {
        match cmd.find_subcommand(name) {
            Some(sub) => cmd = sub.clone(),
            None => break,
        }
    }
    cmd.error(clap::error::ErrorKind::InvalidValue, message)
        .exit()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_lines_name_the_code_once() {
        let e = CliError::new("invalid_key", "invalid key: off the curve");
        assert_eq!(error_line(&e), "error: invalid_key: off the curve");
        let e = CliError::new("limit_exceeded", "limit exceeded: too big\nreally");
        assert_eq!(error_line(&e), "error: limit_exceeded: too big really");
        let e = CliError::new("io_error", "reading x: gone");
        assert_eq!(error_line(&e), "error: io_error: reading x: gone");
    }
}
