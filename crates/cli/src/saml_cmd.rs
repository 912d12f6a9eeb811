//! `idforge saml verify-response | authn-request | sp-metadata` (issue 5 CLI contract).

use std::path::{Path, PathBuf};

use clap::{Subcommand, ValueEnum};
use idforge_jose::crypto;
use idforge_saml_sp::authn::{
    AuthnRequest, Comparison, NameIdPolicy, RequestedAuthnContext, BINDING_REDIRECT,
};
use idforge_saml_sp::binding::SpSigner;
use idforge_saml_sp::dsig::SignatureAlgorithm;
use idforge_saml_sp::metadata::{parse_idp_metadata, MetadataOptions, SpMetadata};
use idforge_saml_sp::response::{
    decode_post_value, validate_response, IdentityProvider, RequestCheck, SpConfig, TrustedKey,
};
use idforge_saml_sp::xml::{self, NS_ASSERTION};
use serde_json::{json, Map, Value};
use time::format_description::well_known::Rfc3339;
use time::OffsetDateTime;

use crate::io::{line, read_stdin};
use crate::CliError;

/// An absolute `http` or `https` URL with a host, nothing else: the endpoints a browser is sent
/// to (SAML Bindings §3.4, §3.5: HTTP Redirect and POST), so never `javascript:` or `data:`.
fn http_url(text: &str) -> Result<String, String> {
    let lower = text.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"))
        .ok_or_else(|| format!("{text}: not an http(s) URL"))?;
    let host = rest.split(['/', '?', '#']).next().unwrap_or("");
    if host.is_empty() || host.contains('@') {
        return Err(format!(
            "{text}: an http(s) URL needs a host (and no user information)"
        ));
    }
    if text.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err(format!("{text}: spaces or control characters"));
    }
    Ok(text.to_owned())
}

#[derive(Debug, Subcommand)]
pub(crate) enum SamlCommand {
    /// Validate a SAML Response read on stdin (raw XML or the base64 `SAMLResponse` form value);
    /// print the assertion as JSON.
    VerifyResponse {
        /// PEM file with the IdP signing certificate(s).
        #[arg(
            long,
            conflicts_with = "idp_metadata",
            required_unless_present = "idp_metadata"
        )]
        idp_cert: Option<PathBuf>,
        /// IdP metadata XML file (its signing certificates and entityID are trusted).
        #[arg(long)]
        idp_metadata: Option<PathBuf>,
        /// Expected IdP entityID (Issuer). With --idp-cert it defaults to the Issuer the
        /// response names: the pinned certificate is then the only trust anchor.
        #[arg(long)]
        idp_entity_id: Option<String>,
        /// This SP's entityID (the Audience).
        #[arg(long)]
        sp_entity_id: String,
        /// This SP's Assertion Consumer Service URL (Destination and Recipient).
        #[arg(long, value_parser = http_url)]
        acs_url: String,
        /// The AuthnRequest ID the response must answer.
        #[arg(long)]
        request_id: Option<String>,
        /// Validation time (RFC 3339); default: now.
        #[arg(long, value_parser = rfc3339)]
        now: Option<OffsetDateTime>,
        /// Accept IdP-initiated responses (no InResponseTo).
        #[arg(long)]
        allow_unsolicited: bool,
        /// Require the Assertion itself to be signed.
        #[arg(long)]
        want_assertions_signed: bool,
        /// Allowed clock skew in seconds.
        #[arg(long, default_value_t = 120)]
        clock_skew: i64,
    },
    /// Build an AuthnRequest: prints the Redirect URL, or the POST auto-submit form.
    AuthnRequest {
        /// This SP's entityID (the Issuer).
        #[arg(long)]
        sp_entity_id: String,
        /// The ACS URL the IdP must answer to.
        #[arg(long, value_parser = http_url)]
        acs_url: String,
        /// The IdP SSO endpoint.
        #[arg(long, required_unless_present = "idp_metadata", value_parser = http_url)]
        idp_sso_url: Option<String>,
        /// IdP metadata XML file (the SSO endpoint for the chosen binding is used).
        #[arg(long)]
        idp_metadata: Option<PathBuf>,
        /// Binding.
        #[arg(long, value_enum, default_value_t = Binding::Redirect)]
        binding: Binding,
        /// RelayState (at most 80 bytes).
        #[arg(long)]
        relay_state: Option<String>,
        /// PEM private key to sign with (query signature for Redirect, XML signature for POST).
        #[arg(long)]
        sign_key: Option<PathBuf>,
        /// PEM certificate to put in the XML signature's KeyInfo (POST).
        #[arg(long)]
        sign_cert: Option<PathBuf>,
        /// Signature algorithm URI; default RSA-SHA256 for RSA keys, ECDSA-SHA256 for EC keys.
        #[arg(long)]
        sig_alg: Option<String>,
        /// ForceAuthn="true".
        #[arg(long)]
        force_authn: bool,
        /// IsPassive="true".
        #[arg(long)]
        is_passive: bool,
        /// NameIDPolicy Format.
        #[arg(long)]
        name_id_format: Option<String>,
        /// RequestedAuthnContext class reference (repeatable), Comparison="exact".
        #[arg(long)]
        authn_context: Vec<String>,
        /// IssueInstant (RFC 3339); default: now.
        #[arg(long, value_parser = rfc3339)]
        now: Option<OffsetDateTime>,
        /// Print JSON {"id", "url"|"html"} instead of the bare URL or form.
        #[arg(long)]
        json: bool,
    },
    /// A throw-away test IdP for trying `verify-response` end to end: writes its metadata
    /// (`idp-metadata.xml`), certificate (`idp.pem`) and a signed Response for the SP
    /// (`response.xml`, and `response.b64` as the `SAMLResponse` form value) into --out, and
    /// prints the command that verifies it. Never a real IdP: a fresh key each run.
    TestIdp {
        /// Directory to write the files to (created if missing).
        #[arg(long)]
        out: PathBuf,
        /// The SP's entityID (the Response's Audience).
        #[arg(long)]
        sp_entity_id: String,
        /// The SP's ACS URL (Destination and Recipient).
        #[arg(long, value_parser = http_url)]
        acs_url: String,
        /// The test IdP's entityID.
        #[arg(long, default_value = "https://idp.example.org/idp", value_parser = http_url)]
        idp_entity_id: String,
        /// The AuthnRequest ID the Response answers (InResponseTo); without it the Response
        /// is unsolicited (verify with --allow-unsolicited).
        #[arg(long)]
        request_id: Option<String>,
        /// The NameID of the signed-in user.
        #[arg(long, default_value = "alice@example.org")]
        name_id: String,
    },
    /// Print SP metadata (an EntityDescriptor with an SPSSODescriptor).
    SpMetadata {
        /// This SP's entityID.
        #[arg(long)]
        sp_entity_id: String,
        /// ACS URL (repeatable; the first is the default).
        #[arg(long, required = true, value_parser = http_url)]
        acs_url: Vec<String>,
        /// Single Logout URL (HTTP-Redirect binding).
        #[arg(long, value_parser = http_url)]
        slo_url: Option<String>,
        /// PEM signing certificate.
        #[arg(long)]
        signing_cert: Option<PathBuf>,
        /// PEM encryption certificate.
        #[arg(long)]
        encryption_cert: Option<PathBuf>,
        /// AuthnRequestsSigned="true".
        #[arg(long)]
        authn_requests_signed: bool,
        /// WantAssertionsSigned="true".
        #[arg(long)]
        want_assertions_signed: bool,
        /// NameIDFormat (repeatable).
        #[arg(long)]
        name_id_format: Vec<String>,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Binding {
    /// HTTP-Redirect (DEFLATE + query string).
    Redirect,
    /// HTTP-POST (auto-submit form).
    Post,
}

impl From<idforge_saml_sp::Error> for CliError {
    fn from(e: idforge_saml_sp::Error) -> Self {
        CliError::new(e.code(), e.to_string())
    }
}

fn read_file(path: &Path) -> Result<Vec<u8>, CliError> {
    std::fs::read(path)
        .map_err(|e| CliError::new("io_error", format!("reading {}: {e}", path.display())))
}

/// `--now`: an RFC 3339 time, checked by the parser (a bad one is a usage error, exit 2).
fn rfc3339(s: &str) -> Result<OffsetDateTime, String> {
    OffsetDateTime::parse(s, &Rfc3339).map_err(|_| format!("{s:?} is not RFC 3339"))
}

fn parse_now(now: Option<OffsetDateTime>) -> Result<OffsetDateTime, CliError> {
    Ok(now.unwrap_or_else(OffsetDateTime::now_utc))
}

fn first_cert(path: &Path) -> Result<Vec<u8>, CliError> {
    crypto::x509_pem_to_der(&read_file(path)?)
        .map_err(|e| CliError::new("key", e.to_string()))?
        .into_iter()
        .next()
        .ok_or_else(|| CliError::new("key", "no certificate"))
}

/// The Issuer the response names (assertion first), for --idp-cert without --idp-entity-id.
fn named_issuer(xml_bytes: &[u8], sp: &SpConfig) -> Result<String, CliError> {
    let text = xml::as_utf8(xml_bytes, &sp.limits)?;
    let doc = xml::parse(text, &sp.limits)?;
    doc.descendants()
        .find(|n| xml::is(*n, NS_ASSERTION, "Assertion"))
        .and_then(|a| xml::child_elements(a).find(|c| xml::is(*c, NS_ASSERTION, "Issuer")))
        .map(|i| xml::simple_text(i).map(|s| s.trim().to_owned()))
        .transpose()?
        .ok_or_else(|| CliError::new("malformed_message", "no assertion Issuer"))
}

pub(crate) fn run(cmd: SamlCommand) -> Result<Vec<u8>, CliError> {
    match cmd {
        SamlCommand::VerifyResponse {
            idp_cert,
            idp_metadata,
            idp_entity_id,
            sp_entity_id,
            acs_url,
            request_id,
            now,
            allow_unsolicited,
            want_assertions_signed,
            clock_skew,
        } => {
            let now = parse_now(now)?;
            let mut sp = SpConfig::new(sp_entity_id, acs_url);
            sp.allow_unsolicited = allow_unsolicited;
            sp.want_assertions_signed = want_assertions_signed;
            sp.clock_skew_seconds = clock_skew;
            let input = read_stdin()?;
            let xml_bytes = decode_post_value(&input, &sp.limits)?;
            let idp = match (idp_cert, idp_metadata) {
                (_, Some(md)) => {
                    let md = parse_idp_metadata(
                        &read_file(&md)?,
                        &MetadataOptions {
                            entity_id: idp_entity_id.clone(),
                            ..MetadataOptions::default()
                        },
                        now,
                    )?;
                    md.identity_provider()
                }
                (Some(cert), None) => IdentityProvider {
                    entity_id: match idp_entity_id {
                        Some(e) => e,
                        None => named_issuer(&xml_bytes, &sp)?,
                    },
                    signing_keys: TrustedKey::from_certificate_pem(&read_file(&cert)?)?,
                },
                (None, None) => {
                    return Err(CliError::new(
                        "invalid_argument",
                        "--idp-cert or --idp-metadata",
                    ))
                }
            };
            let check = match request_id {
                Some(id) => RequestCheck::Exact(id),
                None => RequestCheck::NoneOutstanding,
            };
            let v = validate_response(&xml_bytes, &sp, &idp, &check, now)?;
            let a = v.assertion;
            let mut attributes = Map::new();
            for at in &a.attributes {
                let entry = attributes
                    .entry(at.name.clone())
                    .or_insert_with(|| Value::Array(Vec::new()));
                if let Value::Array(list) = entry {
                    list.extend(at.values.iter().cloned().map(Value::String));
                }
            }
            let fmt = |t: OffsetDateTime| t.format(&Rfc3339).unwrap_or_default();
            let out = json!({
                "name_id": a.name_id.as_ref().map(|n| n.value.clone()),
                "name_id_format": a.name_id.as_ref().and_then(|n| n.format.clone()),
                "session_index": a.session_index,
                "attributes": attributes,
                "issuer": a.issuer,
                "assertion_id": a.id,
                "in_response_to": a.in_response_to,
                "authn_context_class_ref": a.authn_context_class_ref,
                "authn_instant": a.authn_instant.map(fmt),
                "session_not_on_or_after": a.session_not_on_or_after.map(fmt),
                "not_on_or_after": fmt(a.not_on_or_after),
                "signed": { "response": a.signed.response, "assertion": a.signed.assertion },
            });
            Ok(line(serde_json::to_string_pretty(&out).unwrap_or_default()))
        }
        SamlCommand::AuthnRequest {
            sp_entity_id,
            acs_url,
            idp_sso_url,
            idp_metadata,
            binding,
            relay_state,
            sign_key,
            sign_cert,
            sig_alg,
            force_authn,
            is_passive,
            name_id_format,
            authn_context,
            now,
            json: as_json,
        } => {
            let now = parse_now(now)?;
            let destination = match (idp_sso_url, idp_metadata) {
                (Some(u), _) => u,
                (None, Some(md)) => {
                    let md =
                        parse_idp_metadata(&read_file(&md)?, &MetadataOptions::default(), now)?;
                    let b = match binding {
                        Binding::Redirect => BINDING_REDIRECT,
                        Binding::Post => idforge_saml_sp::authn::BINDING_POST,
                    };
                    let location = md.sso_location(b).ok_or_else(|| {
                        CliError::new("metadata", "the IdP has no SSO endpoint for that binding")
                    })?;
                    http_url(location).map_err(|e| {
                        CliError::new("metadata", format!("the IdP's SSO endpoint: {e}"))
                    })?
                }
                (None, None) => {
                    return Err(CliError::new(
                        "invalid_argument",
                        "--idp-sso-url or --idp-metadata",
                    ))
                }
            };
            let sp = SpConfig::new(sp_entity_id, acs_url);
            let mut req = AuthnRequest::new(&sp, &destination, now)?;
            req.force_authn = force_authn;
            req.is_passive = is_passive;
            req.name_id_policy = name_id_format.map(|f| NameIdPolicy {
                format: Some(f),
                allow_create: Some(true),
                sp_name_qualifier: None,
            });
            if !authn_context.is_empty() {
                req.requested_authn_context = Some(RequestedAuthnContext {
                    comparison: Comparison::Exact,
                    class_refs: authn_context,
                });
            }
            let signer = match sign_key {
                Some(path) => {
                    let key = crypto::private_key_from_pem(&read_file(&path)?)
                        .map_err(|e| CliError::new("key", e.to_string()))?;
                    let public = key
                        .public_key()
                        .map_err(|e| CliError::new("key", e.to_string()))?;
                    let algorithm = match sig_alg {
                        Some(uri) => SignatureAlgorithm::from_uri(&uri).ok_or_else(|| {
                            CliError::new("unsupported", format!("signature algorithm {uri}"))
                        })?,
                        None => match crypto::public_key_kind(&public) {
                            crypto::PublicKeyKind::Ec(_) => SignatureAlgorithm::EcdsaSha256,
                            crypto::PublicKeyKind::Ed25519 => SignatureAlgorithm::Ed25519,
                            _ => SignatureAlgorithm::RsaSha256,
                        },
                    };
                    let certificate = sign_cert.as_deref().map(first_cert).transpose()?;
                    Some(SpSigner {
                        key,
                        certificate,
                        algorithm,
                    })
                }
                None => None,
            };
            let (field, value) = match binding {
                Binding::Redirect => (
                    "url",
                    req.redirect_url(relay_state.as_deref(), signer.as_ref())?,
                ),
                Binding::Post => (
                    "html",
                    req.post_form(relay_state.as_deref(), signer.as_ref())?,
                ),
            };
            if as_json {
                let mut m = Map::new();
                m.insert("id".into(), Value::String(req.id.clone()));
                m.insert(field.into(), Value::String(value));
                Ok(line(Value::Object(m).to_string()))
            } else if binding == Binding::Redirect {
                Ok(line(value))
            } else {
                Ok(value.into_bytes())
            }
        }
        SamlCommand::TestIdp {
            out,
            sp_entity_id,
            acs_url,
            idp_entity_id,
            request_id,
            name_id,
        } => test_idp(
            &out,
            &sp_entity_id,
            &acs_url,
            &idp_entity_id,
            request_id.as_deref(),
            &name_id,
        ),
        SamlCommand::SpMetadata {
            sp_entity_id,
            acs_url,
            slo_url,
            signing_cert,
            encryption_cert,
            authn_requests_signed,
            want_assertions_signed,
            name_id_format,
        } => {
            let md = SpMetadata {
                entity_id: sp_entity_id,
                acs_urls: acs_url,
                slo: slo_url
                    .map(|u| idforge_saml_sp::metadata::Endpoint {
                        binding: BINDING_REDIRECT.into(),
                        location: u,
                        response_location: None,
                    })
                    .into_iter()
                    .collect(),
                signing_certificate: signing_cert.as_deref().map(first_cert).transpose()?,
                encryption_certificate: encryption_cert.as_deref().map(first_cert).transpose()?,
                authn_requests_signed,
                want_assertions_signed,
                name_id_formats: name_id_format,
                valid_until: None,
            };
            Ok(line(md.to_xml()))
        }
    }
}

/// `saml test-idp`: the files and the command that verifies them.
fn test_idp(
    out: &Path,
    sp_entity_id: &str,
    acs_url: &str,
    idp_entity_id: &str,
    request_id: Option<&str>,
    name_id: &str,
) -> Result<Vec<u8>, CliError> {
    use base64::Engine as _;
    use idforge_saml_sp::testkit::{ResponseSpec, TestIdp};
    let idp = TestIdp::generate_rsa(idp_entity_id)?;
    let sso = format!("{}/sso", idp_entity_id.trim_end_matches('/'));
    let mut spec = ResponseSpec::new(
        &SpConfig::new(sp_entity_id, acs_url),
        request_id,
        OffsetDateTime::now_utc(),
    );
    spec.name_id = name_id.to_owned();
    let response = idp.signed_response(&spec, true, true)?;
    let write = |name: &str, text: &str| {
        std::fs::create_dir_all(out)
            .and_then(|()| std::fs::write(out.join(name), text))
            .map_err(|e| {
                CliError::new(
                    "io_error",
                    format!("writing {}: {e}", out.join(name).display()),
                )
            })
    };
    write("idp-metadata.xml", &idp.metadata_xml(&sso, &[], None, None))?;
    write("idp.pem", &idp.certificate_pem())?;
    write("response.xml", &response)?;
    write(
        "response.b64",
        &base64::engine::general_purpose::STANDARD.encode(response.as_bytes()),
    )?;
    let solicited = match request_id {
        Some(id) => format!("--request-id {id}"),
        None => "--allow-unsolicited".to_owned(),
    };
    Ok(line(format!(
        "wrote {dir}/idp-metadata.xml, idp.pem, response.xml, response.b64 (valid for 5 minutes)\n\
         idforge saml verify-response --idp-metadata {dir}/idp-metadata.xml --sp-entity-id {sp_entity_id} --acs-url {acs_url} {solicited} < {dir}/response.b64",
        dir = out.display()
    )))
}
