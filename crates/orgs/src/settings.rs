//! Organization settings with inheritance: a setting absent in an organization is taken from
//! the nearest ancestor that sets it (first found up the tree), else the default; list
//! settings (trusted token issuers, outbound provisioning connectors) are merged along the
//! path, the nearest entry winning on the same key.

use idforge_oauth_core::session::PasswordUpdatePolicy;
use serde::{Deserialize, Serialize};

use crate::model::{Application, Organization};

/// A trusted token issuer for RFC 8693 token exchange: whose `subject_token`s the
/// organization accepts. Data here: the token-exchange grant is oauth-core's, and a host
/// builds it per organization from the merged list (`idforge serve` keeps the entries in its
/// own configuration shape and merges them with [`merge_nearest`], the same rule).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct TrustedTokenIssuer {
    /// The issuer identifier (`iss` of accepted subject tokens); the merge key.
    pub issuer: String,
    /// Where its keys are published.
    pub jwks_uri: String,
    /// Associate the token's subject with a local account implicitly (by the lookup
    /// attributes) instead of requiring an explicit link.
    #[serde(default)]
    pub implicit_association: bool,
    /// Claims used to find the local account (`email`, `username`, ...).
    #[serde(default)]
    pub lookup_attributes: Vec<String>,
}

impl TrustedTokenIssuer {
    /// A trusted issuer with explicit association only.
    pub fn new(issuer: impl Into<String>, jwks_uri: impl Into<String>) -> Self {
        TrustedTokenIssuer {
            issuer: issuer.into(),
            jwks_uri: jwks_uri.into(),
            implicit_association: false,
            lookup_attributes: Vec::new(),
        }
    }

    /// Enables implicit association by `attributes`.
    pub fn with_implicit_association<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Self {
        self.implicit_association = true;
        self.lookup_attributes = attributes.into_iter().map(Into::into).collect();
        self
    }
}

/// Settings set on one organization; `None` and empty lists inherit.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct OrgSettings {
    /// TOTP progressive enrollment during login (default on).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub totp_enrollment: Option<bool>,
    /// Keep the user's other sessions when their password is updated (default off: they end).
    /// Data only until the sessions work lands.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub preserve_sessions_on_password_update: Option<bool>,
    /// `scope` of JWT access tokens as a JSON array (default off: a string).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scope_as_array: Option<bool>,
    /// Organization discovery by the email domain of `login_hint` (default off).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email_domains_discovery: Option<bool>,
    /// Trusted token issuers (merged down the tree).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub trusted_token_issuers: Vec<TrustedTokenIssuer>,
    /// Outbound provisioning connectors at organization level (merged down the tree).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub outbound_connectors: Vec<String>,
}

/// The settings in force in one organization after inheritance.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct EffectiveSettings {
    /// TOTP progressive enrollment.
    pub totp_enrollment: bool,
    /// Session preservation on password update.
    pub preserve_sessions_on_password_update: bool,
    /// `scope` as an array in JWT access tokens.
    pub scope_as_array: bool,
    /// Email-domain organization discovery.
    pub email_domains_discovery: bool,
    /// Trusted token issuers, nearest organization first.
    pub trusted_token_issuers: Vec<TrustedTokenIssuer>,
    /// Organization-level outbound provisioning connectors, nearest first.
    pub outbound_connectors: Vec<String>,
}

impl Default for EffectiveSettings {
    fn default() -> Self {
        EffectiveSettings {
            totp_enrollment: true,
            preserve_sessions_on_password_update: false,
            scope_as_array: false,
            email_domains_discovery: false,
            trusted_token_issuers: Vec::new(),
            outbound_connectors: Vec::new(),
        }
    }
}

impl EffectiveSettings {
    /// What a password update of a user resident here does to their sessions and grants
    /// (WSO2 IS 7.3 "skip session revocation on password update", set per organization): hand
    /// it to oauth-core's `Sessions::password_updated_with`.
    pub fn password_update_policy(&self) -> PasswordUpdatePolicy {
        if self.preserve_sessions_on_password_update {
            PasswordUpdatePolicy::Preserve
        } else {
            PasswordUpdatePolicy::EndSessions
        }
    }
}

/// The merge rule of list settings (pure): the lists of `chain` (the organization's first,
/// then its parent's, up to the root's) concatenated, keeping only the nearest entry for each
/// `key`. Hosts use it for list settings they keep in their own shape (`idforge serve`'s
/// per-organization `trusted_issuers`).
pub fn merge_nearest<'a, T: Clone + 'a, K: PartialEq>(
    chain: impl IntoIterator<Item = &'a [T]>,
    key: impl Fn(&T) -> K,
) -> Vec<T> {
    let mut out: Vec<T> = Vec::new();
    for list in chain {
        for t in list {
            let k = key(t);
            if !out.iter().any(|x| key(x) == k) {
                out.push(t.clone());
            }
        }
    }
    out
}

/// Resolves settings along `chain`: the organization first, then its parent, up to the root.
pub fn resolve<'a>(chain: impl IntoIterator<Item = &'a OrgSettings>) -> EffectiveSettings {
    let mut totp = None;
    let mut preserve = None;
    let mut array = None;
    let mut discovery = None;
    let mut out = EffectiveSettings::default();
    let mut issuers: Vec<&[TrustedTokenIssuer]> = Vec::new();
    for s in chain {
        issuers.push(&s.trusted_token_issuers);
        totp = totp.or(s.totp_enrollment);
        preserve = preserve.or(s.preserve_sessions_on_password_update);
        array = array.or(s.scope_as_array);
        discovery = discovery.or(s.email_domains_discovery);
        for c in &s.outbound_connectors {
            if !out.outbound_connectors.contains(c) {
                out.outbound_connectors.push(c.clone());
            }
        }
    }
    out.trusted_token_issuers = merge_nearest(issuers, |t| t.issuer.clone());
    let d = EffectiveSettings::default();
    out.totp_enrollment = totp.unwrap_or(d.totp_enrollment);
    out.preserve_sessions_on_password_update =
        preserve.unwrap_or(d.preserve_sessions_on_password_update);
    out.scope_as_array = array.unwrap_or(d.scope_as_array);
    out.email_domains_discovery = discovery.unwrap_or(d.email_domains_discovery);
    out
}

/// The settings of `org` given its ancestors' records (any order; they are matched by id
/// along `org.ancestors`, nearest first). A missing ancestor record is skipped.
pub fn effective(org: &Organization, ancestors: &[Organization]) -> EffectiveSettings {
    let chain = std::iter::once(&org.settings).chain(
        org.ancestors
            .iter()
            .rev()
            .filter_map(|id| ancestors.iter().find(|a| &a.id == id).map(|a| &a.settings)),
    );
    resolve(chain)
}

/// Which outbound provisioning connectors a change to a user of `settings`' organization
/// made through `app` goes to: the organization's (inherited, merged) connectors, then the
/// application's own, each once. The SCIM client that sends them is out of this crate.
pub fn provisioning_targets(
    settings: &EffectiveSettings,
    app: Option<&Application>,
) -> Vec<String> {
    let mut out = settings.outbound_connectors.clone();
    for c in app.map(|a| a.outbound_connectors.as_slice()).unwrap_or(&[]) {
        if !out.contains(c) {
            out.push(c.clone());
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::OrgId;

    fn tree() -> Vec<Organization> {
        // root -> a -> b -> c (depth 3), settings set at various levels.
        let mut root = Organization::root("Root");
        root.settings.totp_enrollment = Some(false);
        root.settings.outbound_connectors = vec!["scim-root".into()];
        root.settings.trusted_token_issuers = vec![TrustedTokenIssuer::new(
            "https://idp.example",
            "https://idp.example/jwks",
        )];
        let mut a = Organization::child_of(&root, OrgId::new("a").unwrap(), "A", "a");
        a.settings.scope_as_array = Some(true);
        a.settings.outbound_connectors = vec!["scim-a".into(), "scim-root".into()];
        let mut b = Organization::child_of(&a, OrgId::new("b").unwrap(), "B", "b");
        b.settings.totp_enrollment = Some(true);
        b.settings.email_domains_discovery = Some(true);
        b.settings.trusted_token_issuers =
            vec![
                TrustedTokenIssuer::new("https://idp.example", "https://idp.example/b-jwks")
                    .with_implicit_association(["email"]),
            ];
        let mut c = Organization::child_of(&b, OrgId::new("c").unwrap(), "C", "c");
        c.settings.scope_as_array = Some(false);
        c.settings.preserve_sessions_on_password_update = Some(true);
        vec![root, a, b, c]
    }

    #[test]
    fn defaults_without_any_setting() {
        let root = Organization::root("Root");
        let s = effective(&root, &[]);
        assert_eq!(s, EffectiveSettings::default());
        assert!(
            s.totp_enrollment,
            "TOTP progressive enrollment defaults to on"
        );
    }

    #[test]
    fn inheritance_at_each_level() {
        let t = tree();
        let at = |i: usize| effective(&t[i], &t);
        // Root: its own values.
        let r = at(0);
        assert!(!r.totp_enrollment && !r.scope_as_array && !r.email_domains_discovery);
        assert_eq!(r.outbound_connectors, ["scim-root"]);
        // a: inherits TOTP off, sets scope_as_array; lists merged, own first, once each.
        let a = at(1);
        assert!(!a.totp_enrollment && a.scope_as_array);
        assert_eq!(a.outbound_connectors, ["scim-a", "scim-root"]);
        assert_eq!(
            a.trusted_token_issuers[0].jwks_uri,
            "https://idp.example/jwks"
        );
        // b: overrides TOTP, inherits scope_as_array from a; its trusted issuer wins on the
        // same issuer identifier.
        let b = at(2);
        assert!(b.totp_enrollment && b.scope_as_array && b.email_domains_discovery);
        assert_eq!(b.trusted_token_issuers.len(), 1);
        assert!(b.trusted_token_issuers[0].implicit_association);
        assert_eq!(b.trusted_token_issuers[0].lookup_attributes, ["email"]);
        // c: first found up the tree for each key.
        let c = at(3);
        assert!(c.totp_enrollment && !c.scope_as_array && c.email_domains_discovery);
        assert!(c.preserve_sessions_on_password_update);
        assert!(!b.preserve_sessions_on_password_update);
        assert_eq!(c.password_update_policy(), PasswordUpdatePolicy::Preserve);
        assert_eq!(
            b.password_update_policy(),
            PasswordUpdatePolicy::EndSessions
        );
        assert_eq!(c.outbound_connectors, ["scim-a", "scim-root"]);
    }

    #[test]
    fn lists_merge_nearest_first_once_per_key() {
        let own = [("iss-a", 1), ("iss-b", 1)];
        let parent = [("iss-b", 2), ("iss-c", 2)];
        let root = [("iss-a", 3), ("iss-d", 3)];
        let merged = merge_nearest([&own[..], &parent[..], &root[..]], |t| t.0);
        assert_eq!(
            merged,
            [("iss-a", 1), ("iss-b", 1), ("iss-c", 2), ("iss-d", 3)]
        );
        assert!(merge_nearest::<(&str, i32), &str>([], |t| t.0).is_empty());
    }

    #[test]
    fn provisioning_goes_to_org_and_app_connectors() {
        let t = tree();
        let s = effective(&t[3], &t);
        let app =
            Application::new("app", t[3].id.clone()).with_outbound_connectors(["crm", "scim-a"]);
        assert_eq!(
            provisioning_targets(&s, Some(&app)),
            ["scim-a", "scim-root", "crm"]
        );
        assert_eq!(provisioning_targets(&s, None), ["scim-a", "scim-root"]);
    }
}
