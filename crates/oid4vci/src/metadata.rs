//! Issuer settings and Credential Issuer Metadata (§12.2).

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use crate::error::TemplateError;
use crate::template::{CredentialTemplate, Display};

/// The well-known suffix of Credential Issuer Metadata (§12.2.2).
pub const WELL_KNOWN: &str = "/.well-known/openid-credential-issuer";
/// The well-known suffix of JWT VC Issuer Metadata (SD-JWT VC draft §5).
pub const JWT_VC_ISSUER_WELL_KNOWN: &str = "/.well-known/jwt-vc-issuer";

/// Whether the pre-authorized code grant may be used without client authentication (§6.1,
/// §12.3 `pre-authorized_grant_anonymous_access_supported`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum AnonymousAccess {
    /// Wallets without a `client_id` may redeem pre-authorized codes; their tokens belong to
    /// `client_id`, a public client the host registers for them (it is never a real wallet).
    Allowed {
        /// The registered public client anonymous grants are attributed to.
        client_id: String,
    },
    /// Only identified clients may redeem pre-authorized codes.
    Refused,
}

/// Issuer configuration: endpoint paths (under the provider's issuer, which is the Credential
/// Issuer Identifier), limits and lifetimes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct IssuerSettings {
    /// Credential endpoint path (§8).
    pub credential_path: String,
    /// Nonce endpoint path (§7).
    pub nonce_path: String,
    /// Deferred credential endpoint path (§9).
    pub deferred_credential_path: String,
    /// Notification endpoint path (§11).
    pub notification_path: String,
    /// Prefix of offers by reference: `{issuer}{prefix}/{id}` (§4.1.3).
    pub credential_offer_path: String,
    /// Prefix of status list tokens: `{issuer}{prefix}/{list}`.
    pub status_list_path: String,
    /// `batch_credential_issuance.batch_size` (§12.2.4): most proofs in one request; 1 turns
    /// batch issuance off (the member is then omitted).
    pub batch_size: u32,
    /// Anonymous access to the pre-authorized code grant.
    pub anonymous_access: AnonymousAccess,
    /// Wrong `tx_code` attempts after which the pre-authorized code is dead (§13.6 brute force).
    pub tx_code_max_attempts: u32,
    /// Lifetime of a pre-authorized code and of an offer (seconds; §6.1 "short lived").
    pub offer_ttl: i64,
    /// Lifetime of a `c_nonce` (seconds, §7).
    pub nonce_ttl: i64,
    /// Oldest proof `iat` accepted (seconds before now, Appendix F.1).
    pub proof_max_age: i64,
    /// Clock skew tolerated for a proof `iat` in the future (seconds).
    pub leeway: i64,
    /// How long a `notification_id` and a deferred `transaction_id` stay usable (seconds).
    pub transaction_ttl: i64,
    /// Suggested polling `interval` of deferred issuance (seconds, §9.1).
    pub deferred_interval: u64,
    /// Entries per status list (draft-ietf-oauth-status-list; 1 bit each).
    pub status_list_size: u64,
    /// Lifetime of a status list token (`exp` - `iat`, and `ttl`), seconds.
    pub status_list_ttl: i64,
    /// Issuer `display` (§12.2.4).
    pub display: Vec<Display>,
    /// Trust anchors (DER X.509 certificates) for proofs whose key comes in `x5c`
    /// (Appendix F.1): the chain must validate to one of them. Empty (the default) refuses
    /// `x5c` proofs. Not part of the serialized settings (certificates are configured apart).
    #[serde(skip)]
    pub proof_trust_anchors: Vec<Vec<u8>>,
}

impl Default for IssuerSettings {
    fn default() -> Self {
        IssuerSettings {
            credential_path: "/credential".into(),
            nonce_path: "/nonce".into(),
            deferred_credential_path: "/deferred_credential".into(),
            notification_path: "/notification".into(),
            credential_offer_path: "/credential-offer".into(),
            status_list_path: "/status-lists".into(),
            batch_size: 10,
            anonymous_access: AnonymousAccess::Refused,
            tx_code_max_attempts: 5,
            offer_ttl: 600,
            nonce_ttl: 300,
            proof_max_age: 300,
            leeway: 60,
            transaction_ttl: 7 * 24 * 3600,
            deferred_interval: 5,
            status_list_size: 1 << 17,
            status_list_ttl: 300,
            display: Vec::new(),
            proof_trust_anchors: Vec::new(),
        }
    }
}

impl IssuerSettings {
    /// With anonymous access attributed to the public client `client_id`.
    pub fn with_anonymous_access(mut self, client_id: impl Into<String>) -> Self {
        self.anonymous_access = AnonymousAccess::Allowed {
            client_id: client_id.into(),
        };
        self
    }

    /// With trust anchors (DER certificates) for `x5c` proofs (Appendix F.1).
    pub fn with_proof_trust_anchors(mut self, anchors: impl IntoIterator<Item = Vec<u8>>) -> Self {
        self.proof_trust_anchors = anchors.into_iter().collect();
        self
    }

    /// With `batch_size`.
    pub fn with_batch_size(mut self, n: u32) -> Self {
        self.batch_size = n;
        self
    }

    /// With the `tx_code` attempt limit.
    pub fn with_tx_code_max_attempts(mut self, n: u32) -> Self {
        self.tx_code_max_attempts = n;
        self
    }

    /// Checks the settings: paths start with `/` and differ, limits and lifetimes positive,
    /// at most 1000 proofs per request, status lists of 8..=2^24 entries.
    pub fn validate(&self) -> Result<(), TemplateError> {
        let bad = |m: &str| Err(TemplateError::Invalid(format!("issuer settings: {m}")));
        let paths = [
            &self.credential_path,
            &self.nonce_path,
            &self.deferred_credential_path,
            &self.notification_path,
            &self.credential_offer_path,
            &self.status_list_path,
        ];
        for (i, p) in paths.iter().enumerate() {
            if !p.starts_with('/') || p.len() < 2 || p.ends_with('/') {
                return bad("paths start with `/` and do not end with one");
            }
            if paths[..i].contains(p) {
                return bad("endpoint paths must differ");
            }
        }
        if !(1..=1000).contains(&self.batch_size) {
            return bad("batch_size must be 1..=1000");
        }
        if self.tx_code_max_attempts == 0 || self.tx_code_max_attempts > 100 {
            return bad("tx_code_max_attempts must be 1..=100");
        }
        if [
            self.offer_ttl,
            self.nonce_ttl,
            self.proof_max_age,
            self.transaction_ttl,
            self.status_list_ttl,
        ]
        .iter()
        .any(|t| *t <= 0)
            || self.leeway < 0
            || self.deferred_interval == 0
        {
            return bad("lifetimes must be positive");
        }
        if !(8..=(1 << 24)).contains(&self.status_list_size) {
            return bad("status_list_size must be 8..=16777216");
        }
        if let AnonymousAccess::Allowed { client_id } = &self.anonymous_access {
            if client_id.is_empty() {
                return bad("the anonymous client id is empty");
            }
        }
        Ok(())
    }
}

/// The URL of the Credential Issuer Metadata of `issuer`: the well-known suffix is inserted
/// between host and path (§12.2.2), e.g. `https://i.example/tenant` →
/// `https://i.example/.well-known/openid-credential-issuer/tenant`.
pub fn well_known_url(issuer: &str) -> String {
    insert_well_known(issuer, WELL_KNOWN)
}

/// The path part of [`well_known_url`] (what a host routes on).
pub fn well_known_path(issuer: &str) -> String {
    format!("{WELL_KNOWN}{}", issuer_path(issuer))
}

/// The path part of the JWT VC Issuer Metadata URL (SD-JWT VC draft §5.1, same insertion).
pub fn jwt_vc_issuer_path(issuer: &str) -> String {
    format!("{JWT_VC_ISSUER_WELL_KNOWN}{}", issuer_path(issuer))
}

pub(crate) fn insert_well_known(issuer: &str, suffix: &str) -> String {
    let (origin, path) = split_origin(issuer);
    format!("{origin}{suffix}{path}")
}

/// The path of `issuer` (`""` for an origin).
pub fn issuer_path(issuer: &str) -> &str {
    split_origin(issuer).1
}

fn split_origin(url: &str) -> (&str, &str) {
    let after_scheme = url.find("://").map(|i| i + 3).unwrap_or(0);
    match url[after_scheme..].find('/') {
        Some(i) => url.split_at(after_scheme + i),
        None => (url, ""),
    }
}

/// Builds Credential Issuer Metadata (§12.2.4) for `issuer` with `templates`.
///
/// `authorization_servers` is omitted: the Credential Issuer is its own authorization server
/// (§12.2.4). `nonce_endpoint` is always published, so proofs always carry a `c_nonce` (§7).
pub fn issuer_metadata(
    issuer: &str,
    settings: &IssuerSettings,
    templates: &[CredentialTemplate],
    deferred: bool,
) -> Value {
    let mut m = Map::new();
    m.insert("credential_issuer".into(), json!(issuer));
    m.insert(
        "credential_endpoint".into(),
        json!(format!("{issuer}{}", settings.credential_path)),
    );
    m.insert(
        "nonce_endpoint".into(),
        json!(format!("{issuer}{}", settings.nonce_path)),
    );
    if deferred {
        m.insert(
            "deferred_credential_endpoint".into(),
            json!(format!("{issuer}{}", settings.deferred_credential_path)),
        );
    }
    m.insert(
        "notification_endpoint".into(),
        json!(format!("{issuer}{}", settings.notification_path)),
    );
    if settings.batch_size > 1 {
        m.insert(
            "batch_credential_issuance".into(),
            json!({"batch_size": settings.batch_size}),
        );
    }
    if !settings.display.is_empty() {
        m.insert("display".into(), json!(settings.display));
    }
    let mut configs = Map::new();
    for t in templates {
        configs.insert(t.id.clone(), t.configuration_metadata());
    }
    m.insert(
        "credential_configurations_supported".into(),
        Value::Object(configs),
    );
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn well_known_is_inserted_between_host_and_path() {
        assert_eq!(
            well_known_url("https://issuer.example.com"),
            "https://issuer.example.com/.well-known/openid-credential-issuer"
        );
        // §12.2.2 example.
        assert_eq!(
            well_known_url("https://credential-issuer.example.com/tenant"),
            "https://credential-issuer.example.com/.well-known/openid-credential-issuer/tenant"
        );
        assert_eq!(
            well_known_path("http://127.0.0.1:8080/a/b"),
            "/.well-known/openid-credential-issuer/a/b"
        );
        assert_eq!(
            jwt_vc_issuer_path("https://i.example"),
            "/.well-known/jwt-vc-issuer"
        );
    }

    #[test]
    fn settings_are_checked() {
        IssuerSettings::default().validate().unwrap();
        assert!(IssuerSettings::default()
            .with_batch_size(0)
            .validate()
            .is_err());
        assert!(IssuerSettings::default()
            .with_tx_code_max_attempts(0)
            .validate()
            .is_err());
        let mut s = IssuerSettings::default();
        s.nonce_path = s.credential_path.clone();
        assert!(s.validate().is_err());
        let s = IssuerSettings {
            nonce_ttl: 0,
            ..IssuerSettings::default()
        };
        assert!(s.validate().is_err());
        assert!(IssuerSettings::default()
            .with_anonymous_access("")
            .validate()
            .is_err());
    }

    #[test]
    fn metadata_members() {
        let s = IssuerSettings::default();
        let m = issuer_metadata("https://i.example", &s, &[], true);
        assert_eq!(m["credential_endpoint"], "https://i.example/credential");
        assert_eq!(m["nonce_endpoint"], "https://i.example/nonce");
        assert_eq!(
            m["deferred_credential_endpoint"],
            "https://i.example/deferred_credential"
        );
        assert_eq!(m["notification_endpoint"], "https://i.example/notification");
        assert_eq!(m["batch_credential_issuance"]["batch_size"], 10);
        let m = issuer_metadata("https://i.example", &s.with_batch_size(1), &[], false);
        assert!(m.get("batch_credential_issuance").is_none());
        assert!(m.get("deferred_credential_endpoint").is_none());
    }
}
