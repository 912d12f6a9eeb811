//! SAML Metadata (SAML Metadata §2): IdP metadata parsing with optional signature verification
//! against pinned keys, a sans-IO refresh state machine for metadata URLs, and SP metadata
//! generation.

use crate::xml::Node;
use async_trait::async_trait;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idforge_jose::crypto::PublicKey;
use serde::{Deserialize, Serialize};
use time::format_description::well_known::Rfc3339;
use time::{Duration, OffsetDateTime};

use crate::authn::BINDING_POST;
use crate::dsig::{verify_enveloped, VerifyOptions};
use crate::error::{Error, Result};
use crate::response::{parse_instant, IdentityProvider, TrustedKey};
use crate::xml::{
    self, child_elements, escape_attr, escape_text, is, Limits, NS_DSIG, NS_METADATA,
};

const SAML2_PROTOCOL: &str = "urn:oasis:names:tc:SAML:2.0:protocol";

/// A protocol endpoint (SAML Metadata §2.2.2 `EndpointType`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Endpoint {
    /// `Binding` URI.
    pub binding: String,
    /// `Location`.
    pub location: String,
    /// `ResponseLocation`, when present.
    pub response_location: Option<String>,
}

/// What an IdP's metadata says (SAML Metadata §2.4.3 `IDPSSODescriptor`).
#[derive(Debug, Clone)]
pub struct IdpMetadata {
    /// `entityID`.
    pub entity_id: String,
    /// The earliest `validUntil` of the entity and its enclosing groups.
    pub valid_until: Option<OffsetDateTime>,
    /// The smallest `cacheDuration` of the entity and its enclosing groups.
    pub cache_duration: Option<Duration>,
    /// Signing keys (`use="signing"` or no `use`), several during rollover.
    pub signing_keys: Vec<TrustedKey>,
    /// Signing certificates (DER), in document order.
    pub signing_certificates: Vec<Vec<u8>>,
    /// Encryption certificates (`use="encryption"` or no `use`), DER.
    pub encryption_certificates: Vec<Vec<u8>>,
    /// `SingleSignOnService` endpoints.
    pub sso: Vec<Endpoint>,
    /// `SingleLogoutService` endpoints.
    pub slo: Vec<Endpoint>,
    /// `NameIDFormat`s.
    pub name_id_formats: Vec<String>,
    /// `WantAuthnRequestsSigned`.
    pub want_authn_requests_signed: bool,
    /// Whether the document carried a signature that verified with a pinned key.
    pub signed: bool,
}

impl IdpMetadata {
    /// The trust configuration for response validation.
    pub fn identity_provider(&self) -> IdentityProvider {
        IdentityProvider {
            entity_id: self.entity_id.clone(),
            signing_keys: self.signing_keys.clone(),
        }
    }

    /// The SSO endpoint for `binding`.
    pub fn sso_location(&self, binding: &str) -> Option<&str> {
        self.sso
            .iter()
            .find(|e| e.binding == binding)
            .map(|e| e.location.as_str())
    }
}

/// How metadata is accepted.
#[derive(Debug, Clone, Default)]
pub struct MetadataOptions {
    /// Which entity to take from an `EntitiesDescriptor` (required when it has several IdPs).
    pub entity_id: Option<String>,
    /// Pinned keys: when non-empty the document must carry a signature verifying with one.
    pub pinned_keys: Vec<PublicKey>,
    /// Parser limits (metadata aggregates are big: raise `max_bytes` for them).
    pub limits: Limits,
}

/// Parses an `xs:duration` (`PnYnMnDTnHnMnS`, years as 365 days and months as 30 days: only
/// used for cache durations).
pub fn parse_duration(s: &str) -> Result<Duration> {
    let bad = || Error::Metadata(format!("bad duration {s:?}"));
    let (neg, rest) = match s.trim().strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, s.trim()),
    };
    let rest = rest.strip_prefix('P').ok_or_else(bad)?;
    let (date, time_part) = rest.split_once('T').unwrap_or((rest, ""));
    let mut total = 0f64;
    let mut num = String::new();
    let mut any = false;
    for (part, is_time) in [(date, false), (time_part, true)] {
        for c in part.chars() {
            if c.is_ascii_digit() || c == '.' {
                num.push(c);
                continue;
            }
            let n: f64 = num.parse().map_err(|_| bad())?;
            num.clear();
            any = true;
            total += n * match (c, is_time) {
                ('Y', false) => 365.0 * 86_400.0,
                ('M', false) => 30.0 * 86_400.0,
                ('D', false) => 86_400.0,
                ('H', true) => 3_600.0,
                ('M', true) => 60.0,
                ('S', true) => 1.0,
                _ => return Err(bad()),
            };
        }
    }
    if !num.is_empty() || !any || !total.is_finite() || total > 1e12 {
        return Err(bad());
    }
    let d = Duration::seconds_f64(total);
    Ok(if neg { -d } else { d })
}

fn certs(kd: Node<'_, '_>) -> Result<Vec<Vec<u8>>> {
    let mut out = Vec::new();
    for ki in child_elements(kd).filter(|n| is(*n, NS_DSIG, "KeyInfo")) {
        for x in child_elements(ki).filter(|n| is(*n, NS_DSIG, "X509Data")) {
            for c in child_elements(x).filter(|n| is(*n, NS_DSIG, "X509Certificate")) {
                let t: String = xml::simple_text(c)?
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace())
                    .collect();
                out.push(
                    STANDARD
                        .decode(t)
                        .map_err(|_| Error::Metadata("bad X509Certificate".into()))?,
                );
            }
        }
    }
    Ok(out)
}

fn endpoints(role: Node<'_, '_>, local: &str) -> Result<Vec<Endpoint>> {
    child_elements(role)
        .filter(|n| is(*n, NS_METADATA, local))
        .map(|n| {
            Ok(Endpoint {
                binding: xml::required_attr(n, "Binding")?.to_owned(),
                location: xml::required_attr(n, "Location")?.to_owned(),
                response_location: n.attribute("ResponseLocation").map(str::to_owned),
            })
        })
        .collect()
}

/// Parses IdP metadata (an `EntityDescriptor`, or an `EntitiesDescriptor` holding it) at `now`.
/// Refuses expired documents (SAML Metadata §2.3.2 `validUntil`), descriptors without the SAML
/// 2.0 protocol in `protocolSupportEnumeration`, and, with pinned keys, unsigned or wrongly
/// signed documents.
pub fn parse_idp_metadata(
    input: &[u8],
    opts: &MetadataOptions,
    now: OffsetDateTime,
) -> Result<IdpMetadata> {
    let text = xml::as_utf8(input, &opts.limits)?;
    let doc = xml::parse(text, &opts.limits)?;
    let root = doc.root_element();
    let vopts = VerifyOptions::default();
    let signed = if is(root, NS_METADATA, "EntityDescriptor")
        || is(root, NS_METADATA, "EntitiesDescriptor")
    {
        if opts.pinned_keys.is_empty() {
            false
        } else {
            if !verify_enveloped(&doc, root, &opts.pinned_keys, &vopts)? {
                return Err(Error::SignatureMissing("metadata must be signed".into()));
            }
            true
        }
    } else {
        return Err(Error::Metadata(
            "root is not EntityDescriptor/EntitiesDescriptor".into(),
        ));
    };
    let entities: Vec<Node<'_, '_>> = doc
        .descendants()
        .filter(|n| is(*n, NS_METADATA, "EntityDescriptor"))
        .filter(|n| child_elements(*n).any(|c| is(c, NS_METADATA, "IDPSSODescriptor")))
        .collect();
    let entity = match (&opts.entity_id, entities.as_slice()) {
        (Some(want), _) => {
            let mut m = entities
                .iter()
                .filter(|e| e.attribute("entityID") == Some(want.as_str()));
            let e = m
                .next()
                .ok_or_else(|| Error::Metadata(format!("no IdP {want:?}")))?;
            if m.next().is_some() {
                return Err(Error::Metadata(format!("IdP {want:?} listed twice")));
            }
            *e
        }
        (None, [one]) => *one,
        (None, []) => return Err(Error::Metadata("no IDPSSODescriptor".into())),
        (None, _) => return Err(Error::Metadata("several IdPs: choose an entityID".into())),
    };
    let entity_id = xml::required_attr(entity, "entityID")?.to_owned();
    let mut valid_until = None;
    let mut cache_duration: Option<Duration> = None;
    for n in entity.ancestors().filter(|n| n.is_element()) {
        if let Some(v) = n.attribute("validUntil") {
            let v = parse_instant(v)?;
            valid_until = Some(valid_until.map_or(v, |c: OffsetDateTime| c.min(v)));
        }
        if let Some(c) = n.attribute("cacheDuration") {
            let c = parse_duration(c)?;
            cache_duration = Some(cache_duration.map_or(c, |d| d.min(c)));
        }
    }
    if valid_until.is_some_and(|v| v <= now) {
        return Err(Error::Metadata("metadata expired (validUntil)".into()));
    }
    let mut roles = child_elements(entity).filter(|n| is(*n, NS_METADATA, "IDPSSODescriptor"));
    let role = roles
        .find(|r| {
            r.attribute("protocolSupportEnumeration")
                .is_some_and(|p| p.split_ascii_whitespace().any(|x| x == SAML2_PROTOCOL))
        })
        .ok_or_else(|| Error::Metadata("no SAML 2.0 IDPSSODescriptor".into()))?;
    if let Some(v) = role.attribute("validUntil") {
        if parse_instant(v)? <= now {
            return Err(Error::Metadata(
                "IDPSSODescriptor expired (validUntil)".into(),
            ));
        }
    }
    let mut signing_certificates = Vec::new();
    let mut encryption_certificates = Vec::new();
    for kd in child_elements(role).filter(|n| is(*n, NS_METADATA, "KeyDescriptor")) {
        let found = certs(kd)?;
        match kd.attribute("use") {
            Some("signing") => signing_certificates.extend(found),
            Some("encryption") => encryption_certificates.extend(found),
            None => {
                signing_certificates.extend(found.iter().cloned());
                encryption_certificates.extend(found);
            }
            Some(other) => return Err(Error::Metadata(format!("KeyDescriptor use {other:?}"))),
        }
    }
    let signing_keys = signing_certificates
        .iter()
        .map(|d| TrustedKey::from_certificate_der(d))
        .collect::<Result<Vec<_>>>()?;
    if signing_keys.is_empty() {
        return Err(Error::Metadata("no signing certificate".into()));
    }
    let name_id_formats = child_elements(role)
        .filter(|n| is(*n, NS_METADATA, "NameIDFormat"))
        .map(|n| xml::simple_text(n).map(|s| s.trim().to_owned()))
        .collect::<Result<Vec<_>>>()?;
    Ok(IdpMetadata {
        entity_id,
        valid_until,
        cache_duration,
        signing_keys,
        signing_certificates,
        encryption_certificates,
        sso: endpoints(role, "SingleSignOnService")?,
        slo: endpoints(role, "SingleLogoutService")?,
        name_id_formats,
        want_authn_requests_signed: role.attribute("WantAuthnRequestsSigned") == Some("true"),
        signed,
    })
}

/// The host's HTTP client for metadata URLs.
#[async_trait]
pub trait MetadataFetcher: Send + Sync {
    /// GETs `url` and returns the body (the host applies its own timeouts and size caps).
    async fn fetch(&self, url: &str) -> Result<Vec<u8>>;
}

/// Bounds for the refresh schedule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RefreshPolicy {
    /// Never refresh more often than this (seconds). Default 300.
    pub min_interval_seconds: i64,
    /// Never wait longer than this (seconds). Default 86 400.
    pub max_interval_seconds: i64,
    /// Interval when the document has no cacheDuration (seconds). Default 3 600.
    pub default_interval_seconds: i64,
    /// First retry delay after a failure (seconds), doubled per consecutive failure. Default 60.
    pub backoff_initial_seconds: i64,
}

impl Default for RefreshPolicy {
    fn default() -> Self {
        RefreshPolicy {
            min_interval_seconds: 300,
            max_interval_seconds: 86_400,
            default_interval_seconds: 3_600,
            backoff_initial_seconds: 60,
        }
    }
}

/// What one refresh attempt did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// A new document was accepted and replaced the trusted set.
    Updated {
        /// When to refresh next.
        next_refresh_at: OffsetDateTime,
    },
    /// The attempt failed; the last good document (if any) stays in force.
    Failed {
        /// Why.
        error: Error,
        /// When to retry.
        next_refresh_at: OffsetDateTime,
        /// Consecutive failures so far.
        consecutive_failures: u32,
    },
}

/// Certificate refresh from a metadata URL as a state machine: the host fetches (through a
/// [`MetadataFetcher`] or by itself) and feeds the result in; the machine decides whether the
/// trusted set changes and when to try next.
#[derive(Debug, Clone)]
pub struct MetadataRefresher {
    /// The metadata URL.
    pub url: String,
    policy: RefreshPolicy,
    options: MetadataOptions,
    current: Option<IdpMetadata>,
    next_refresh_at: OffsetDateTime,
    failures: u32,
}

impl MetadataRefresher {
    /// A refresher that is due immediately, with an optional initial (e.g. cached) document.
    pub fn new(
        url: &str,
        policy: RefreshPolicy,
        options: MetadataOptions,
        initial: Option<IdpMetadata>,
        now: OffsetDateTime,
    ) -> Self {
        MetadataRefresher {
            url: url.to_owned(),
            policy,
            options,
            current: initial,
            next_refresh_at: now,
            failures: 0,
        }
    }

    /// The last good metadata.
    pub fn current(&self) -> Option<&IdpMetadata> {
        self.current.as_ref()
    }

    /// The trust configuration from the last good metadata.
    pub fn identity_provider(&self) -> Option<IdentityProvider> {
        self.current.as_ref().map(IdpMetadata::identity_provider)
    }

    /// When the next attempt is due.
    pub fn next_refresh_at(&self) -> OffsetDateTime {
        self.next_refresh_at
    }

    /// True when a refresh is due at `now`.
    pub fn due(&self, now: OffsetDateTime) -> bool {
        now >= self.next_refresh_at
    }

    fn clamp(&self, d: Duration) -> Duration {
        let min = Duration::seconds(self.policy.min_interval_seconds.max(0));
        let max = Duration::seconds(
            self.policy
                .max_interval_seconds
                .max(self.policy.min_interval_seconds.max(0)),
        );
        d.clamp(min, max)
    }

    /// Feeds a fetched body in.
    pub fn on_fetched(&mut self, body: &[u8], now: OffsetDateTime) -> RefreshOutcome {
        match parse_idp_metadata(body, &self.options, now) {
            Ok(md) => {
                let mut interval = md
                    .cache_duration
                    .unwrap_or_else(|| Duration::seconds(self.policy.default_interval_seconds));
                if let Some(v) = md.valid_until {
                    // Refresh before the document expires (halfway through what is left).
                    interval = interval.min((v - now) / 2);
                }
                self.next_refresh_at = now + self.clamp(interval);
                self.failures = 0;
                self.current = Some(md);
                RefreshOutcome::Updated {
                    next_refresh_at: self.next_refresh_at,
                }
            }
            Err(e) => self.on_fetch_error(e, now),
        }
    }

    /// Records a failed attempt (fetch or parse): exponential backoff within the bounds.
    pub fn on_fetch_error(&mut self, error: Error, now: OffsetDateTime) -> RefreshOutcome {
        self.failures = self.failures.saturating_add(1);
        let factor = 1i64 << self.failures.saturating_sub(1).min(20);
        let delay = Duration::seconds(
            self.policy
                .backoff_initial_seconds
                .max(1)
                .saturating_mul(factor),
        );
        let max = Duration::seconds(self.policy.max_interval_seconds.max(1));
        self.next_refresh_at = now + delay.min(max);
        RefreshOutcome::Failed {
            error,
            next_refresh_at: self.next_refresh_at,
            consecutive_failures: self.failures,
        }
    }

    /// Fetches through `fetcher` and feeds the result in.
    pub async fn refresh(
        &mut self,
        fetcher: &dyn MetadataFetcher,
        now: OffsetDateTime,
    ) -> RefreshOutcome {
        match fetcher.fetch(&self.url).await {
            Ok(body) => self.on_fetched(&body, now),
            Err(e) => self.on_fetch_error(e, now),
        }
    }
}

/// SP metadata (SAML Metadata §2.4.4 `SPSSODescriptor`).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct SpMetadata {
    /// entityID.
    pub entity_id: String,
    /// AssertionConsumerService endpoints (HTTP-POST), indexed in order.
    pub acs_urls: Vec<String>,
    /// SingleLogoutService endpoints.
    pub slo: Vec<Endpoint>,
    /// Signing certificate (DER).
    pub signing_certificate: Option<Vec<u8>>,
    /// Encryption certificate (DER).
    pub encryption_certificate: Option<Vec<u8>>,
    /// `AuthnRequestsSigned`.
    pub authn_requests_signed: bool,
    /// `WantAssertionsSigned`.
    pub want_assertions_signed: bool,
    /// NameIDFormats.
    pub name_id_formats: Vec<String>,
    /// validUntil.
    #[serde(with = "time::serde::rfc3339::option")]
    pub valid_until: Option<OffsetDateTime>,
}

impl SpMetadata {
    /// The `EntityDescriptor` XML.
    pub fn to_xml(&self) -> String {
        let mut x = format!(
            "<md:EntityDescriptor xmlns:md=\"{NS_METADATA}\" xmlns:ds=\"{NS_DSIG}\" entityID=\"{}\"",
            escape_attr(&self.entity_id)
        );
        if let Some(v) = self.valid_until {
            x.push_str(&format!(
                " validUntil=\"{}\"",
                v.format(&Rfc3339).unwrap_or_default()
            ));
        }
        x.push_str(&format!(
            "><md:SPSSODescriptor AuthnRequestsSigned=\"{}\" WantAssertionsSigned=\"{}\" protocolSupportEnumeration=\"{SAML2_PROTOCOL}\">",
            self.authn_requests_signed, self.want_assertions_signed
        ));
        for (cert, usage) in [
            (&self.signing_certificate, "signing"),
            (&self.encryption_certificate, "encryption"),
        ] {
            if let Some(c) = cert {
                x.push_str(&format!(
                    "<md:KeyDescriptor use=\"{usage}\"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>{}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>",
                    STANDARD.encode(c)
                ));
            }
        }
        for e in &self.slo {
            x.push_str(&format!(
                "<md:SingleLogoutService Binding=\"{}\" Location=\"{}\"",
                escape_attr(&e.binding),
                escape_attr(&e.location)
            ));
            if let Some(r) = &e.response_location {
                x.push_str(&format!(" ResponseLocation=\"{}\"", escape_attr(r)));
            }
            x.push_str("/>");
        }
        for f in &self.name_id_formats {
            x.push_str(&format!(
                "<md:NameIDFormat>{}</md:NameIDFormat>",
                escape_text(f)
            ));
        }
        for (i, acs) in self.acs_urls.iter().enumerate() {
            x.push_str(&format!(
                "<md:AssertionConsumerService Binding=\"{BINDING_POST}\" Location=\"{}\" index=\"{i}\"{}/>",
                escape_attr(acs),
                if i == 0 { " isDefault=\"true\"" } else { "" }
            ));
        }
        x.push_str("</md:SPSSODescriptor></md:EntityDescriptor>");
        x
    }
}
