//! `idforge sd-jwt issue | present | verify | decode` (SD-JWT, RFC 9901; SD-JWT VC).

use std::path::{Path, PathBuf};

use clap::Subcommand;
use idforge_jose::jws::media_type_eq;
use idforge_jose::{b64, JwsAlgorithm, Key, KeySet, LocalSigner, SystemClock};
use idforge_sd_jwt::{
    vc, ClaimPath, Credential, Disclosure, Issuance, Issuer, IssuerConfig, KeyBindingInput, Limits,
    SdJwt, SdJwtVerifier, VcIssuer, VcPolicy, VcVerifier, VerifierConfig,
};
use serde_json::{Map, Value};

use crate::io::{line, read_keys, read_stdin_text};
use crate::CliError;

impl From<idforge_sd_jwt::Error> for CliError {
    fn from(e: idforge_sd_jwt::Error) -> Self {
        CliError::new(e.code(), e.to_string())
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum SdJwtCommand {
    /// Issue an SD-JWT (an SD-JWT VC with --vct) from a JSON claims file; print it.
    Issue {
        /// The issuer's private JWK (or JWK Set).
        #[arg(long)]
        key: PathBuf,
        /// A file holding the claims as a JSON object.
        #[arg(long)]
        claims: PathBuf,
        /// A selectively disclosable claim as a JSON Pointer, e.g. `/address/street` or
        /// `/nationalities/1` (repeatable; an object and members inside it = recursive).
        #[arg(long = "sd", value_name = "PATH")]
        sd: Vec<String>,
        /// The holder's JWK (public or private): its public part goes into `cnf.jwk`.
        #[arg(long)]
        holder_key: Option<PathBuf>,
        /// Issue an SD-JWT VC (`typ: dc+sd-jwt`) of this type (`vct`).
        #[arg(long)]
        vct: Option<String>,
        /// Decoy digests added to every `_sd` array (at most 100).
        #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u16).range(0..=100))]
        decoys: u16,
    },
    /// Read an issued SD-JWT on stdin; print a presentation disclosing the given paths.
    Present {
        /// A claim to disclose as a JSON Pointer (repeatable); its ancestors follow.
        #[arg(long = "disclose", value_name = "PATH")]
        disclose: Vec<String>,
        /// The holder's private JWK: appends a Key Binding JWT.
        #[arg(long, requires_all = ["aud", "nonce"])]
        holder_key: Option<PathBuf>,
        /// `aud` of the Key Binding JWT.
        #[arg(long, requires = "holder_key")]
        aud: Option<String>,
        /// `nonce` of the Key Binding JWT.
        #[arg(long, requires = "holder_key")]
        nonce: Option<String>,
    },
    /// Verify an SD-JWT or presentation read on stdin; print the processed claims as JSON.
    Verify {
        /// The issuer's public JWK (or JWK Set).
        #[arg(long)]
        issuer_key: PathBuf,
        /// Require key binding with this `aud`.
        #[arg(long, requires = "nonce")]
        aud: Option<String>,
        /// Require key binding with this `nonce`.
        #[arg(long, requires = "aud")]
        nonce: Option<String>,
    },
    /// Show the header, payload and every Disclosure of an SD-JWT read on stdin, unverified.
    Decode,
}

pub(crate) fn run(cmd: SdJwtCommand) -> Result<Vec<u8>, CliError> {
    match cmd {
        SdJwtCommand::Issue {
            key,
            claims,
            sd,
            holder_key,
            vct,
            decoys,
        } => issue(
            &key,
            &claims,
            &sd,
            holder_key.as_deref(),
            vct,
            usize::from(decoys),
        ),
        SdJwtCommand::Present {
            disclose,
            holder_key,
            aud,
            nonce,
        } => present(&disclose, holder_key.as_deref(), aud, nonce),
        SdJwtCommand::Verify {
            issuer_key,
            aud,
            nonce,
        } => verify(&issuer_key, aud, nonce),
        SdJwtCommand::Decode => decode(),
    }
}

/// The private key in `path` and the algorithm to use with it: its `alg` member, else the
/// first algorithm that fits (ES256 for P-256, EdDSA for Ed25519, RS256 for RSA).
fn signer(path: &Path) -> Result<LocalSigner, CliError> {
    let keys = read_keys(path)?;
    for key in keys.keys() {
        if !key.is_private() || key.secret().is_some() || !key.jwk().permits("sign") {
            continue;
        }
        let alg = match key.jwk().alg.as_deref() {
            Some(a) => JwsAlgorithm::from_name(a)?,
            None => match JwsAlgorithm::fitting(key)
                .into_iter()
                .find(|a| !a.is_symmetric())
            {
                Some(a) => a,
                None => continue,
            },
        };
        return Ok(LocalSigner::new(key.clone(), alg)?);
    }
    Err(CliError::new(
        "key_not_found",
        format!("{} holds no private signing key", path.display()),
    ))
}

fn issue(
    key: &Path,
    claims_path: &Path,
    sd: &[String],
    holder: Option<&Path>,
    vct: Option<String>,
    decoys: usize,
) -> Result<Vec<u8>, CliError> {
    let signer = signer(key)?;
    let text = std::fs::read(claims_path).map_err(|e| {
        CliError::new(
            "io_error",
            format!("reading {}: {e}", claims_path.display()),
        )
    })?;
    let mut claims: Map<String, Value> = match serde_json::from_slice(&text) {
        Ok(Value::Object(m)) => m,
        _ => {
            return Err(CliError::new(
                "malformed",
                format!("{} is not a JSON object", claims_path.display()),
            ))
        }
    };
    if let Some(vct) = &vct {
        claims.insert("vct".into(), vct.clone().into());
    }
    let mut issuance = Issuance::new(claims).disclose(sd)?;
    if let Some(h) = holder {
        let keys = read_keys(h)?;
        let jwk = keys
            .keys()
            .iter()
            .find_map(Key::public_jwk)
            .ok_or_else(|| CliError::new("key_not_found", "no asymmetric holder key"))?;
        issuance = issuance.holder_key(jwk);
    }
    let config = IssuerConfig::default().decoys(decoys);
    let mut rng = rand::thread_rng();
    let out = if vct.is_some() {
        VcIssuer::new(config).issue(&issuance, &signer, &mut rng)?
    } else {
        Issuer::new(config).issue(&issuance, &signer, &mut rng)?
    };
    Ok(line(out))
}

fn present(
    disclose: &[String],
    holder: Option<&Path>,
    aud: Option<String>,
    nonce: Option<String>,
) -> Result<Vec<u8>, CliError> {
    let input = read_stdin_text()?;
    let cred = Credential::parse(&input, &Limits::default())?;
    let paths = disclose
        .iter()
        .map(|p| ClaimPath::parse(p))
        .collect::<Result<Vec<_>, _>>()?;
    let out = match (holder, aud, nonce) {
        (Some(h), Some(aud), Some(nonce)) => {
            let signer = signer(h)?;
            cred.present_with_key_binding(
                &paths,
                &KeyBindingInput::new(aud, nonce),
                &signer,
                &SystemClock,
            )?
        }
        _ => cred.present(&paths)?,
    };
    Ok(line(out))
}

fn verify(
    issuer_key: &Path,
    aud: Option<String>,
    nonce: Option<String>,
) -> Result<Vec<u8>, CliError> {
    let keys: KeySet = read_keys(issuer_key)?;
    let input = read_stdin_text()?;
    let mut config = VerifierConfig::default();
    if let (Some(aud), Some(nonce)) = (aud, nonce) {
        config = config.require_key_binding(aud, nonce);
    }
    let sd = SdJwt::parse(&input, &config.limits)?;
    if !config.key_binding.required && sd.kb_jwt().is_some() {
        // Decided: verification without --aud/--nonce still checks the KB-JWT's signature
        // against `cnf`, but cannot tell whom or which request it was made for; say so.
        eprintln!(
            "note: the Key Binding JWT was checked without an audience or nonce; pass --aud and --nonce to bind it to this verifier and request"
        );
    }
    let typ = idforge_jose::jws::peek_header(sd.issuer_jwt())
        .ok()
        .and_then(|h| h.typ().map(str::to_owned));
    let is_vc = typ
        .as_deref()
        .is_some_and(|t| media_type_eq(t, vc::TYP) || media_type_eq(t, vc::LEGACY_TYP));
    let claims = if is_vc {
        let policy = VcPolicy {
            accept_vc_sd_jwt: true,
            ..VcPolicy::default()
        };
        VcVerifier::new(config, policy)
            .verify(&input, &keys, &SystemClock)?
            .sd_jwt
            .claims
    } else {
        SdJwtVerifier::new(config)
            .verify(&input, &keys, &SystemClock)?
            .claims
    };
    pretty(&Value::Object(claims))
}

fn decode() -> Result<Vec<u8>, CliError> {
    let input = read_stdin_text()?;
    let sd = SdJwt::parse(&input, &Limits::default())?;
    let mut out = Map::new();
    let (header, payload) = decode_jwt(sd.issuer_jwt())?;
    out.insert("header".into(), header);
    out.insert("payload".into(), payload);
    let alg = out["payload"]
        .get("_sd_alg")
        .and_then(Value::as_str)
        .map(idforge_sd_jwt::SdAlg::from_name)
        .transpose()?
        .unwrap_or_default();
    let mut disclosures = Vec::new();
    for d in sd.disclosures() {
        let parsed = Disclosure::parse(d, Limits::default().max_depth)?;
        let mut m = Map::new();
        m.insert("disclosure".into(), d.clone().into());
        m.insert("digest".into(), parsed.digest(alg).into());
        m.insert("salt".into(), parsed.salt().into());
        if let Some(n) = parsed.name() {
            m.insert("name".into(), n.into());
        }
        m.insert("value".into(), parsed.value().clone());
        disclosures.push(Value::Object(m));
    }
    out.insert("disclosures".into(), Value::Array(disclosures));
    if let Some(kb) = sd.kb_jwt() {
        let (h, p) = decode_jwt(kb)?;
        let mut m = Map::new();
        m.insert("header".into(), h);
        m.insert("payload".into(), p);
        out.insert("key_binding_jwt".into(), Value::Object(m));
    }
    pretty(&Value::Object(out))
}

fn decode_jwt(jwt: &str) -> Result<(Value, Value), CliError> {
    let mut parts = jwt.split('.');
    let mut part = |what: &'static str| -> Result<Value, CliError> {
        let bytes = b64::decode(parts.next().unwrap_or_default(), what)?;
        serde_json::from_slice(&bytes)
            .map_err(|e| CliError::new("malformed", format!("{what} is not JSON: {e}")))
    };
    let header = part("header")?;
    let payload = part("payload")?;
    Ok((header, payload))
}

fn pretty(v: &Value) -> Result<Vec<u8>, CliError> {
    serde_json::to_string_pretty(v)
        .map(line)
        .map_err(|e| CliError::new("malformed", e.to_string()))
}
