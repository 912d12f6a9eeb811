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

/// Largest RSA modulus generated: beyond 8192 bits generation takes minutes (RFC 7518 §3.3
/// asks for at least 2048).
const MAX_RSA_BITS: u32 = 8192;
/// Largest symmetric key generated (HS512 and A256CBC-HS512 need 512 bits at most).
const MAX_OCT_BITS: u32 = 4096;

fn usage(message: &str) -> ! {
    crate::usage_error(&["jwk", "generate"], message)
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
            let bits = size.unwrap_or(2048);
            if !(2048..=MAX_RSA_BITS).contains(&bits) || !bits.is_multiple_of(8) {
                usage(&format!(
                    "RSA key sizes are 2048 to {MAX_RSA_BITS} bits, in whole bytes"
                ));
            }
            KeySpec::Rsa(bits)
        }
        Kty::Oct => {
            if crv.is_some() {
                usage("--crv does not apply to oct keys");
            }
            let bits = size.unwrap_or(256);
            if !bits.is_multiple_of(8) || !(8..=MAX_OCT_BITS).contains(&bits) {
                usage(&format!(
                    "oct key sizes are 8 to {MAX_OCT_BITS} bits, in whole bytes"
                ));
            }
            KeySpec::Oct(bits as usize / 8)
        }
    }
}

/// Parses a JWK and validates it exactly as `--key` does (points on the curve, consistent
/// RSA values, duplicate members refused).
fn validated(text: &str) -> Result<Jwk, CliError> {
    let jwk = Jwk::from_json(text)?;
    Key::from_jwk(jwk.clone())?;
    Ok(jwk)
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
                // Checked with `alg` set: PBES2 fits an oct key only when its `alg` names it
                // (`--kty oct --alg PBES2-HS256+A128KW` makes a password key for `jwe encrypt`).
                let mut named = jwk.clone();
                named.alg = Some(alg.clone());
                let key = Key::from_jwk(named)?;
                if !alg_fits(&alg, &key) {
                    return Err(CliError::new(
                        "key_mismatch",
                        // Every key type reads with "an": EC, RSA, OKP (as letters), oct.
                        format!("{alg} does not fit an {} key", jwk.kty()),
                    ));
                }
                jwk.alg = Some(alg);
            }
            jwk.kid = kid;
            Ok(line(jwk.to_json()))
        }
        JwkCommand::Public => {
            let jwk = validated(&read_stdin_text()?)?;
            let public = jwk.to_public().ok_or_else(|| {
                CliError::new("invalid_key", "a symmetric (oct) key has no public part")
            })?;
            Ok(line(public.to_json()))
        }
        JwkCommand::Thumbprint => {
            let jwk = validated(&read_stdin_text()?)?;
            Ok(line(jwk.thumbprint()))
        }
    }
}
