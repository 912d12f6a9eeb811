//! `idforge jwk generate | public | thumbprint`.

use clap::{Subcommand, ValueEnum};
use idforge_jose::crypto::{EcCurve, OkpCurve};
use idforge_jose::{Jwk, JwsAlgorithm, Key, KeySpec};

use crate::io::{line, read_stdin_text};
use crate::CliError;

#[derive(Debug, Subcommand)]
pub(crate) enum JwkCommand {
    /// Generate a private JWK and print it.
    Generate {
        /// Key type.
        #[arg(long, value_enum)]
        kty: Kty,
        /// Curve (EC: P-256, P-384, P-521; OKP: Ed25519, X25519). Defaults: P-256, Ed25519.
        #[arg(long)]
        crv: Option<String>,
        /// Size in bits (RSA: modulus, default 2048; oct: key, default 256).
        #[arg(long)]
        size: Option<u32>,
        /// The `alg` member; must fit the key.
        #[arg(long)]
        alg: Option<String>,
        /// The `kid` member.
        #[arg(long)]
        kid: Option<String>,
    },
    /// Read a JWK on stdin and print its public part.
    Public,
    /// Read a JWK on stdin and print its RFC 7638 SHA-256 thumbprint.
    Thumbprint,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub(crate) enum Kty {
    #[value(name = "EC")]
    Ec,
    #[value(name = "RSA")]
    Rsa,
    #[value(name = "OKP")]
    Okp,
    #[value(name = "oct")]
    Oct,
}

fn usage(message: &str) -> ! {
    use clap::CommandFactory;
    crate::Cli::command()
        .error(clap::error::ErrorKind::InvalidValue, message)
        .exit()
}

fn spec(kty: Kty, crv: Option<&str>, size: Option<u32>) -> KeySpec {
    match kty {
        Kty::Ec => {
            if size.is_some() {
                usage("--size does not apply to EC keys (the curve fixes it)");
            }
            match crv.map(EcCurve::from_name) {
                None => KeySpec::Ec(EcCurve::P256),
                Some(Some(c)) => KeySpec::Ec(c),
                Some(None) => usage("EC curves are P-256, P-384 and P-521"),
            }
        }
        Kty::Okp => {
            if size.is_some() {
                usage("--size does not apply to OKP keys");
            }
            match crv.map(OkpCurve::from_name) {
                None => KeySpec::Okp(OkpCurve::Ed25519),
                Some(Some(c)) => KeySpec::Okp(c),
                Some(None) => usage("OKP curves are Ed25519 and X25519"),
            }
        }
        Kty::Rsa => {
            if crv.is_some() {
                usage("--crv does not apply to RSA keys");
            }
            KeySpec::Rsa(size.unwrap_or(2048))
        }
        Kty::Oct => {
            if crv.is_some() {
                usage("--crv does not apply to oct keys");
            }
            let bits = size.unwrap_or(256);
            if !bits.is_multiple_of(8) {
                usage("oct key sizes are whole bytes");
            }
            KeySpec::Oct(bits as usize / 8)
        }
    }
}

/// Whether `alg` names a JWS or JWE algorithm that fits `key`.
fn alg_fits(alg: &str, key: &Key) -> bool {
    let jws = JwsAlgorithm::from_name(alg).is_ok_and(|a| JwsAlgorithm::fitting(key).contains(&a));
    let jwe = idforge_jwe::KeyManagementAlgorithm::from_name(alg)
        .is_ok_and(|a| idforge_jwe::KeyManagementAlgorithm::fitting(key).contains(&a));
    jws || jwe
}

pub(crate) fn run(cmd: JwkCommand) -> Result<Vec<u8>, CliError> {
    match cmd {
        JwkCommand::Generate {
            kty,
            crv,
            size,
            alg,
            kid,
        } => {
            let mut jwk = Jwk::generate(spec(kty, crv.as_deref(), size))?;
            if let Some(alg) = alg {
                let key = Key::from_jwk(jwk.clone())?;
                if !alg_fits(&alg, &key) {
                    return Err(CliError::new(
                        "key_mismatch",
                        format!("{alg} does not fit a {} key", jwk.kty()),
                    ));
                }
                jwk.alg = Some(alg);
            }
            jwk.kid = kid;
            Ok(line(jwk.to_json()))
        }
        JwkCommand::Public => {
            let jwk = Jwk::from_json(&read_stdin_text()?)?;
            let public = jwk.to_public().ok_or_else(|| {
                CliError::new("invalid_key", "a symmetric (oct) key has no public part")
            })?;
            Ok(line(public.to_json()))
        }
        JwkCommand::Thumbprint => {
            let jwk = Jwk::from_json(&read_stdin_text()?)?;
            Ok(line(jwk.thumbprint()))
        }
    }
}
