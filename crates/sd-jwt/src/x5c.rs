//! The X.509 Issuer Signature Mechanism of SD-JWT VC: the issuer key is the end-entity
//! certificate of the `x5c` header (RFC 7515 §4.1.6), trusted only after its certification path
//! validates against the verifier's trust anchors (RFC 5280 §6).
//!
//! Specification history of the `iss`/certificate relation, which [`IssBinding`] selects:
//!
//! | drafts of draft-ietf-oauth-sd-jwt-vc | rule | [`IssBinding`] |
//! |---|---|---|
//! | -10 to the latest read (-19 §2.5 "Issuer Signature Mechanisms", §2.2.2.3 `iss`) | "the Issuer of the Verifiable Digital Credential is the subject of the end-entity certificate"; `iss` is OPTIONAL and not compared with the certificate | [`CertificateSubject`](IssBinding::CertificateSubject) (default) |
//! | -04 to -09 (§3.5) | `iss` an HTTPS URI that matches a `uniformResourceIdentifier` SAN, or whose domain name matches a `dNSName` SAN | [`HttpsUriOrDnsName`](IssBinding::HttpsUriOrDnsName) |
//! | -01 to -03 (§3.5) | a `dns:` URI `iss` (RFC 4501) matches a `dNSName` SAN; any other `iss` matches a `uniformResourceIdentifier` SAN | [`DnsUriOrUri`](IssBinding::DnsUriOrUri) |
//!
//! With the default rule the chain alone authenticates the issuer: whoever holds a certificate
//! under one of your trust anchors can put any `iss` in a credential. Trust anchors for this
//! mechanism should therefore be issuer-specific CAs (a trust list), and the authenticated
//! issuer is [`X5cIssuer::certificate`], not `iss`. Ecosystems that still name issuers by `iss`
//! choose one of the SAN rules.

use std::sync::Arc;

use idforge_jose::crypto::{
    self, CertInfo, ChainError, ChainFailure, ChainValidation, OkpCurve, PublicKey, PublicKeyKind,
};
use idforge_jose::{Clock, Header, Jwk, Key, KeyParams, KeySet};
use serde_json::{Map, Value};

use crate::verifier::{IssuerContext, IssuerKeyResolver};
use crate::{Error, Result};

/// How `iss` must relate to the `x5c` end-entity certificate (see the [module](self) table).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum IssBinding {
    /// draft-ietf-oauth-sd-jwt-vc-10 and later (-19 §2.5): "When the protected header of the
    /// Issuer-signed JWT contains the `x5c` parameter, the recipient uses the public key from
    /// the end-entity certificate \[...\] and validates the X.509 certificate chain accordingly.
    /// In this case, the Issuer of the Verifiable Digital Credential is the subject of the
    /// end-entity certificate." `iss` is OPTIONAL (-19 §2.2.2.3) and is not compared with the
    /// certificate; a credential without `iss` is accepted.
    #[default]
    CertificateSubject,
    /// draft-ietf-oauth-sd-jwt-vc-04 to -09 §3.5: "If the recipient supports X.509 Certificates
    /// and the `iss` value contains an HTTPS URI, the recipient MUST \[...\] ensure that the `iss`
    /// value matches a `uniformResourceIdentifier` SAN entry of the end-entity certificate or
    /// that the domain name in the `iss` value matches the `dNSName` SAN entry of the end-entity
    /// certificate." `iss` must be an `https` URI; it matches a URI SAN exactly, or its host
    /// (no userinfo, port removed) matches a `dNSName` SAN ASCII-case-insensitively
    /// (RFC 5280 §7.2). Wildcard `dNSName`s are not expanded.
    HttpsUriOrDnsName,
    /// draft-ietf-oauth-sd-jwt-vc-01 to -03 §3.5: "If the `iss` value contains a DNS name encoded
    /// as a URI using the DNS URI scheme \[RFC4501\], the DNS name MUST match a `dNSName` Subject
    /// Alternative Name (SAN) \[RFC5280\] entry of the leaf certificate. In all other cases, the
    /// `iss` value MUST match a `uniformResourceIdentifier` SAN entry of the leaf certificate."
    /// `dns:` names compare ASCII-case-insensitively without a trailing dot; URIs exactly.
    DnsUriOrUri,
}

/// Policy of an [`X5cIssuerKeyResolver`]; serde-(de)serializable for host configuration.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(default)]
pub struct X5cPolicy {
    /// The most certificates in `x5c` and in the validated path, trust anchor included
    /// (default 10, [`ChainValidation::DEFAULT_MAX_CHAIN_LEN`]).
    pub max_chain_len: usize,
    /// Accept a self-signed end-entity certificate that is itself a trust anchor. Off by
    /// default: OpenID4VC HAIP 1.0 §6.1.1 "The X.509 certificate signing the request MUST NOT
    /// be self-signed."
    pub allow_self_signed: bool,
    /// The `iss` rule (default: the current draft's, [`IssBinding::CertificateSubject`]).
    pub iss_binding: IssBinding,
}

impl Default for X5cPolicy {
    fn default() -> Self {
        X5cPolicy {
            max_chain_len: ChainValidation::DEFAULT_MAX_CHAIN_LEN,
            allow_self_signed: false,
            iss_binding: IssBinding::default(),
        }
    }
}

/// The issuer established from a validated `x5c` chain.
#[derive(Debug, Clone)]
pub struct X5cIssuer {
    /// The end-entity certificate's public key as a JWK (with the JOSE header's `kid`, if any),
    /// the only key the Issuer-signed JWT may verify with.
    pub key: Key,
    /// The end-entity certificate: under draft-ietf-oauth-sd-jwt-vc-19 §2.5 its subject *is*
    /// the Issuer; its `dNSName`/URI SANs are what the older `iss` rules compared.
    pub certificate: CertInfo,
    /// SHA-256 fingerprints of the validated path, end-entity first, trust anchor last.
    pub path_sha256: Vec<Vec<u8>>,
}

/// An [`IssuerKeyResolver`] for the X.509 Issuer Signature Mechanism of SD-JWT VC
/// (draft-ietf-oauth-sd-jwt-vc-19 §2.5; §3.5 before -19): the key is the `x5c` end-entity
/// certificate's, returned only after
///
/// 1. the protected header has `x5c` ([`Error::MissingX5c`]) with at most
///    [`X5cPolicy::max_chain_len`] standard-base64 DER certificates ([`Error::InvalidX5c`]);
/// 2. the end-entity certificate chains to one of the trust anchors at the [`Clock`]'s time,
///    the other `x5c` certificates serving as an unordered pool of intermediates (OpenSSL
///    RFC 5280 path validation, [`crypto::x509_verify_chain`]; [`Error::CertificateChain`]);
/// 3. it is not self-signed, unless [`X5cPolicy::allow_self_signed`]
///    ([`Error::SelfSignedCertificate`]);
/// 4. `iss` relates to it as [`X5cPolicy::iss_binding`] requires
///    ([`Error::IssuerCertificateMismatch`]).
///
/// The verifier's algorithm allow-list ([`VerifierConfig::jws`](crate::VerifierConfig::jws))
/// still decides which `alg` the key may verify. No revocation checking.
///
/// ```
/// use std::sync::Arc;
/// use base64::Engine;
/// use idforge_jose::crypto::{self, CertificateTemplate, EcCurve};
/// use idforge_jose::{FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
/// use idforge_sd_jwt::{Issuance, VcIssuer, VcVerifier, X5cIssuerKeyResolver};
/// use serde_json::json;
///
/// const NOW: i64 = 1_700_000_000;
/// let key = |k: &Key| k.private_key().cloned();
/// let (root_key, ca_key, issuer_key) = (
///     Key::generate(KeySpec::Ec(EcCurve::P256))?,
///     Key::generate(KeySpec::Ec(EcCurve::P256))?,
///     Key::generate(KeySpec::Ec(EcCurve::P256))?,
/// );
/// let public = |k: &Key| k.public_key().cloned().expect("EC");
/// // A trust anchor, an issuing CA, and the issuer's certificate.
/// let root = crypto::x509_issue(&public(&root_key),
///     &CertificateTemplate::new("Root", NOW - 1000, NOW + 1_000_000).ca(None), &key(&root_key)?, None)?;
/// let ca = crypto::x509_issue(&public(&ca_key),
///     &CertificateTemplate::new("Issuing CA", NOW - 1000, NOW + 1_000_000).ca(Some(0)),
///     &key(&root_key)?, Some(&root))?;
/// let leaf = crypto::x509_issue(&public(&issuer_key),
///     &CertificateTemplate::new("PID Issuer", NOW - 1000, NOW + 100_000)
///         .uri("https://issuer.example"),
///     &key(&ca_key)?, Some(&ca))?;
///
/// let b64 = |der: &[u8]| base64::engine::general_purpose::STANDARD.encode(der);
/// let claims = json!({"vct": "urn:eudi:pid:1", "iss": "https://issuer.example", "given_name": "Erika"});
/// let issuance = Issuance::new(claims.as_object().cloned().unwrap_or_default())
///     .disclose(["/given_name"])?
///     .header("x5c", json!([b64(&leaf), b64(&ca)]));
/// let sd_jwt = VcIssuer::default().issue(
///     &issuance, &LocalSigner::new(issuer_key, JwsAlgorithm::ES256)?, &mut rand::thread_rng())?;
///
/// let clock = Arc::new(FixedClock::new(NOW));
/// let resolver = X5cIssuerKeyResolver::new([root], clock.clone())?;
/// let vc = VcVerifier::default().verify(&sd_jwt, &resolver, clock.as_ref())?;
/// assert_eq!(vc.sd_jwt.claims["given_name"], "Erika");
///
/// clock.set(NOW + 200_000); // the issuer certificate has expired
/// let err = VcVerifier::default().verify(&sd_jwt, &resolver, clock.as_ref()).unwrap_err();
/// assert_eq!(err.code(), "certificate_expired");
/// # Ok::<(), idforge_sd_jwt::Error>(())
/// ```
#[derive(Clone)]
pub struct X5cIssuerKeyResolver {
    anchors: Vec<Vec<u8>>,
    clock: Arc<dyn Clock>,
    policy: X5cPolicy,
}

impl std::fmt::Debug for X5cIssuerKeyResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("X5cIssuerKeyResolver")
            .field("anchors", &self.anchors.len())
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

impl X5cIssuerKeyResolver {
    /// A resolver trusting `anchors` (DER certificates; each is a trust anchor, self-signed or
    /// not, RFC 5280 §6.1.1 (d)), validating at `clock`'s time, with the default
    /// [`X5cPolicy`]. Fails on an empty list or a certificate that does not parse.
    pub fn new(anchors: impl IntoIterator<Item = Vec<u8>>, clock: Arc<dyn Clock>) -> Result<Self> {
        let anchors: Vec<Vec<u8>> = anchors.into_iter().collect();
        if anchors.is_empty() {
            return Err(ChainError::NoTrustAnchors.into());
        }
        for (index, der) in anchors.iter().enumerate() {
            crypto::x509_public_key(der).map_err(|_| ChainError::MalformedAnchor { index })?;
        }
        Ok(X5cIssuerKeyResolver {
            anchors,
            clock,
            policy: X5cPolicy::default(),
        })
    }

    /// [`new`](X5cIssuerKeyResolver::new) with every `CERTIFICATE` block of a PEM file.
    pub fn from_pem(pem: &[u8], clock: Arc<dyn Clock>) -> Result<Self> {
        Self::new(crypto::x509_pem_to_der(pem)?, clock)
    }

    /// Replaces the policy.
    pub fn with_policy(mut self, policy: X5cPolicy) -> Self {
        self.policy = policy;
        self
    }

    /// Sets [`X5cPolicy::max_chain_len`].
    pub fn max_chain_len(mut self, max: usize) -> Self {
        self.policy.max_chain_len = max;
        self
    }

    /// Sets [`X5cPolicy::allow_self_signed`].
    pub fn allow_self_signed(mut self, allow: bool) -> Self {
        self.policy.allow_self_signed = allow;
        self
    }

    /// Sets [`X5cPolicy::iss_binding`].
    pub fn iss_binding(mut self, binding: IssBinding) -> Self {
        self.policy.iss_binding = binding;
        self
    }

    /// The policy in effect.
    pub fn policy(&self) -> &X5cPolicy {
        &self.policy
    }

    /// Runs every check of the [type-level list](X5cIssuerKeyResolver) on a (protected) JOSE
    /// header and the Issuer-signed JWT's payload, and returns the established issuer. After
    /// [`VcVerifier::verify`](crate::VcVerifier::verify), call it with
    /// `verified.sd_jwt.header` and `verified.sd_jwt.claims` to learn the certificate the
    /// credential was verified under.
    pub fn resolve(&self, header: &Header, claims: &Map<String, Value>) -> Result<X5cIssuer> {
        let max = self.policy.max_chain_len;
        // RFC 7515 §4.1.6: standard base64 DER, end-entity first. Count before decoding.
        match header.get("x5c") {
            None => return Err(Error::MissingX5c),
            Some(Value::Array(items)) if items.len() > max => {
                return Err(ChainError::TooLong { max }.into())
            }
            Some(_) => {}
        }
        let chain = crate::vc::x5c_der(header)?.ok_or(Error::MissingX5c)?;
        let (leaf, intermediates) = chain.split_first().ok_or(Error::MissingX5c)?;
        let params = ChainValidation {
            time: self.clock.now(),
            max_chain_len: max,
        };
        let verified = match crypto::x509_verify_chain(leaf, intermediates, &self.anchors, &params)
        {
            Ok(v) if v.leaf_self_signed && !self.policy.allow_self_signed => {
                return Err(Error::SelfSignedCertificate)
            }
            Ok(v) => v,
            Err(ChainError::Invalid {
                failure: ChainFailure::SelfSigned,
                ..
            }) if !self.policy.allow_self_signed => return Err(Error::SelfSignedCertificate),
            Err(ChainError::Malformed { index }) => {
                return Err(Error::InvalidX5c(format!(
                    "entry {index} is not a DER X.509 certificate"
                )))
            }
            Err(e) => return Err(e.into()),
        };
        let iss = match claims.get("iss") {
            None => None,
            Some(Value::String(s)) => Some(s.as_str()),
            Some(_) => {
                return Err(Error::Jose(
                    idforge_jose::ClaimsError::Invalid("iss".into()).into(),
                ))
            }
        };
        check_iss(self.policy.iss_binding, iss, &verified.leaf)?;
        let kid = header.get("kid").and_then(Value::as_str);
        Ok(X5cIssuer {
            key: key_from_public(&verified.key, kid)?,
            certificate: verified.leaf,
            path_sha256: verified.path_sha256,
        })
    }
}

impl IssuerKeyResolver for X5cIssuerKeyResolver {
    fn issuer_keys(&self, ctx: &IssuerContext<'_>) -> Result<KeySet> {
        let issuer = self.resolve(ctx.header, ctx.claims)?;
        Ok(KeySet::new(vec![issuer.key]))
    }
}

/// The certificate key as a public JWK (RFC 7518 §6.2.1, §6.3.1; RFC 8037 §2).
fn key_from_public(key: &PublicKey, kid: Option<&str>) -> Result<Key> {
    let params = match crypto::public_key_kind(key) {
        PublicKeyKind::Ec(crv) => {
            let (x, y) = crypto::ec_coordinates(key, crv)?;
            KeyParams::Ec { crv, x, y, d: None }
        }
        PublicKeyKind::Rsa(_) => {
            let (n, e) = crypto::rsa_public_components(key)?;
            KeyParams::Rsa {
                n,
                e,
                private: None,
            }
        }
        PublicKeyKind::Ed25519 => KeyParams::Okp {
            crv: OkpCurve::Ed25519,
            x: crypto::okp_public_bytes(key)?,
            d: None,
        },
        PublicKeyKind::Other => {
            return Err(ChainError::UnsupportedKey(
                "not an RSA, P-256/384/521 or Ed25519 key".into(),
            )
            .into())
        }
    };
    let mut jwk = Jwk::from_params(params);
    if let Some(kid) = kid {
        jwk = jwk.with_kid(kid);
    }
    Ok(Key::from_jwk(jwk)?)
}

fn mismatch(msg: &str, iss: &str) -> Error {
    Error::IssuerCertificateMismatch(format!("{msg} (`{}`)", crate::hash::truncate(iss)))
}

fn check_iss(binding: IssBinding, iss: Option<&str>, cert: &CertInfo) -> Result<()> {
    let dns_match = |name: &str| {
        let name = name.strip_suffix('.').unwrap_or(name);
        !name.is_empty()
            && cert
                .dns_names
                .iter()
                .any(|d| d.strip_suffix('.').unwrap_or(d).eq_ignore_ascii_case(name))
    };
    let uri_match = |iss: &str| cert.uris.iter().any(|u| u == iss);
    match binding {
        IssBinding::CertificateSubject => Ok(()),
        IssBinding::HttpsUriOrDnsName => {
            let iss = iss.ok_or_else(|| {
                Error::IssuerCertificateMismatch("no `iss` to match the certificate".into())
            })?;
            let host = https_host(iss).ok_or_else(|| mismatch("`iss` is not an https URI", iss))?;
            if uri_match(iss) || dns_match(host) {
                Ok(())
            } else {
                Err(mismatch(
                    "`iss` matches no uniformResourceIdentifier SAN and its host no dNSName SAN",
                    iss,
                ))
            }
        }
        IssBinding::DnsUriOrUri => {
            let iss = iss.ok_or_else(|| {
                Error::IssuerCertificateMismatch("no `iss` to match the certificate".into())
            })?;
            match rfc4501_dns_name(iss) {
                Some(name) if dns_match(name) => Ok(()),
                Some(_) => Err(mismatch("the `dns:` name matches no dNSName SAN", iss)),
                None if uri_match(iss) => Ok(()),
                None => Err(mismatch(
                    "`iss` matches no uniformResourceIdentifier SAN",
                    iss,
                )),
            }
        }
    }
}

/// The host of an `https` URI (RFC 3986 §3.2.2), without port; `None` for other schemes,
/// userinfo (`https://a@b`), IP literals or an empty host.
fn https_host(uri: &str) -> Option<&str> {
    let scheme = uri.get(..8)?;
    if !scheme.eq_ignore_ascii_case("https://") {
        return None;
    }
    let rest = &uri[8..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if authority.contains('@') || authority.starts_with('[') {
        return None;
    }
    let host = match authority.rsplit_once(':') {
        Some((host, port)) if port.bytes().all(|b| b.is_ascii_digit()) => host,
        Some(_) => return None,
        None => authority,
    };
    (!host.is_empty()).then_some(host)
}

/// The DNS name of an RFC 4501 `dns:` URI: `dns:[//authority/]dnsname[?query]`.
fn rfc4501_dns_name(iss: &str) -> Option<&str> {
    let scheme = iss.get(..4)?;
    if !scheme.eq_ignore_ascii_case("dns:") {
        return None;
    }
    let mut rest = &iss[4..];
    if let Some(after) = rest.strip_prefix("//") {
        rest = &after[after.find('/')? + 1..];
    }
    Some(&rest[..rest.find('?').unwrap_or(rest.len())])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cert(dns: &[&str], uris: &[&str]) -> CertInfo {
        CertInfo {
            not_before: 0,
            not_after: 0,
            sha256_fingerprint: Vec::new(),
            subject: "CN=x".into(),
            dns_names: dns.iter().map(|s| s.to_string()).collect(),
            uris: uris.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn https_host_parsing() {
        assert_eq!(https_host("https://issuer.example"), Some("issuer.example"));
        assert_eq!(
            https_host("HTTPS://Issuer.example:8443/a?b#c"),
            Some("Issuer.example")
        );
        assert_eq!(https_host("https://evil.example@issuer.example/"), None);
        assert_eq!(https_host("https://[::1]/"), None);
        assert_eq!(https_host("https:///path"), None);
        assert_eq!(https_host("http://issuer.example"), None);
        assert_eq!(https_host("https://issuer.example:x/"), None);
    }

    #[test]
    fn rfc4501_parsing() {
        assert_eq!(
            rfc4501_dns_name("dns:issuer.example"),
            Some("issuer.example")
        );
        assert_eq!(
            rfc4501_dns_name("dns://192.0.2.1/issuer.example?type=A"),
            Some("issuer.example")
        );
        assert_eq!(rfc4501_dns_name("https://issuer.example"), None);
        assert_eq!(rfc4501_dns_name("dns://resolver.example"), None);
    }

    #[test]
    fn binding_rules() {
        let c = cert(&["issuer.example"], &["https://issuer.example/vc"]);
        let ok = |b, iss| check_iss(b, iss, &c).is_ok();
        // Current draft: no comparison at all.
        assert!(ok(IssBinding::CertificateSubject, None));
        assert!(ok(
            IssBinding::CertificateSubject,
            Some("https://other.example")
        ));
        // -04 to -09.
        let b = IssBinding::HttpsUriOrDnsName;
        assert!(ok(b, Some("https://issuer.example/vc")));
        assert!(ok(b, Some("https://ISSUER.example/tenant/1")));
        assert!(!ok(b, Some("https://other.example")));
        assert!(!ok(b, Some("dns:issuer.example")));
        assert!(!ok(b, Some("https://issuer.example.evil.example")));
        assert!(!ok(b, None));
        // -01 to -03.
        let b = IssBinding::DnsUriOrUri;
        assert!(ok(b, Some("dns:issuer.example")));
        assert!(ok(b, Some("dns:Issuer.Example.")));
        assert!(ok(b, Some("https://issuer.example/vc")));
        assert!(
            !ok(b, Some("https://issuer.example")),
            "URI SANs compare exactly"
        );
        assert!(!ok(b, Some("dns:other.example")));
        assert!(!ok(b, None));
        assert_eq!(
            check_iss(b, Some("dns:other.example"), &c)
                .unwrap_err()
                .code(),
            "issuer_certificate_mismatch"
        );
    }
}
