//! Token issuer selection: an application registered in a sub-organization gets tokens from
//! its own organization (`issuer = self`, `{issuer}/o/{org_id}`) or from the root issuer, and
//! root-level governance decides which organizations may use the root issuer.

use std::collections::BTreeSet;

use serde::{Deserialize, Serialize};

use crate::error::{OrgError, Result};
use crate::model::{IssuerMode, OrgId, Organization};

/// Root-level governance of the root issuer for sub-organization applications.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(
    rename_all = "SCREAMING_SNAKE_CASE",
    tag = "policy",
    content = "organizations"
)]
pub enum RootIssuerPolicy {
    /// Every organization may (the default).
    #[default]
    AllowAll,
    /// Only the root's immediate children.
    AllowImmediate,
    /// Only the listed organizations.
    AllowSelected(BTreeSet<OrgId>),
    /// None: every sub-organization application must use its own organization as issuer.
    DenyAll,
}

impl RootIssuerPolicy {
    /// Whether applications of `org` may use the root issuer. The root's own always may.
    pub fn allows(&self, org: &Organization) -> bool {
        if org.id.is_root() {
            return true;
        }
        match self {
            RootIssuerPolicy::AllowAll => true,
            RootIssuerPolicy::AllowImmediate => org.parent.as_ref().is_some_and(OrgId::is_root),
            RootIssuerPolicy::AllowSelected(list) => list.contains(&org.id),
            RootIssuerPolicy::DenyAll => false,
        }
    }
}

/// Which issuer mints an application's tokens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenIssuer {
    /// The root organization's issuer.
    Root,
    /// The organization's own issuer.
    Organization(OrgId),
}

impl TokenIssuer {
    /// The issuer identifier given the root's: the root's, or `{root}/o/{org_id}`.
    pub fn url(&self, root_issuer: &str) -> String {
        match self {
            TokenIssuer::Root => root_issuer.to_owned(),
            TokenIssuer::Organization(id) => organization_issuer(root_issuer, id),
        }
    }
}

/// `{root_issuer}/o/{org_id}`: an organization's own issuer identifier.
pub fn organization_issuer(root_issuer: &str, id: &OrgId) -> String {
    format!("{}/o/{}", root_issuer.trim_end_matches('/'), id)
}

/// Selects the issuer for an application of `app_org` (pure): the root's applications use
/// the root issuer; an organization that is its own issuer uses its own; otherwise the root
/// issuer if governance allows, else `RootIssuerDenied`.
pub fn select(app_org: &Organization, policy: &RootIssuerPolicy) -> Result<TokenIssuer> {
    if app_org.id.is_root() {
        return Ok(TokenIssuer::Root);
    }
    match app_org.issuer {
        IssuerMode::SelfIssued => Ok(TokenIssuer::Organization(app_org.id.clone())),
        IssuerMode::Root if policy.allows(app_org) => Ok(TokenIssuer::Root),
        IssuerMode::Root => Err(OrgError::RootIssuerDenied(app_org.id.clone())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tree() -> (Organization, Organization, Organization) {
        let root = Organization::root("Root");
        let a = Organization::child_of(&root, OrgId::new("a").unwrap(), "A", "a");
        let b = Organization::child_of(&a, OrgId::new("b").unwrap(), "B", "b");
        (root, a, b)
    }

    #[test]
    fn each_governance_policy() {
        let (root, a, b) = tree();
        let all = RootIssuerPolicy::AllowAll;
        assert!(all.allows(&a) && all.allows(&b));
        let imm = RootIssuerPolicy::AllowImmediate;
        assert!(imm.allows(&a) && !imm.allows(&b));
        let sel = RootIssuerPolicy::AllowSelected([b.id.clone()].into());
        assert!(!sel.allows(&a) && sel.allows(&b));
        let deny = RootIssuerPolicy::DenyAll;
        assert!(!deny.allows(&a) && !deny.allows(&b));
        for p in [all, imm, sel, deny] {
            assert!(
                p.allows(&root),
                "the root's own applications always use the root issuer"
            );
            assert_eq!(select(&root, &p), Ok(TokenIssuer::Root));
        }
        assert_eq!(
            select(&a, &RootIssuerPolicy::AllowAll),
            Ok(TokenIssuer::Root)
        );
        assert_eq!(
            select(&b, &RootIssuerPolicy::AllowImmediate),
            Err(OrgError::RootIssuerDenied(b.id.clone()))
        );
        assert_eq!(
            select(&a, &RootIssuerPolicy::DenyAll),
            Err(OrgError::RootIssuerDenied(a.id.clone()))
        );
    }

    #[test]
    fn self_issuing_organizations_use_their_own_issuer_under_any_policy() {
        let (_, a, _) = tree();
        let a = a.with_issuer(IssuerMode::SelfIssued);
        for p in [RootIssuerPolicy::AllowAll, RootIssuerPolicy::DenyAll] {
            let t = select(&a, &p).unwrap();
            assert_eq!(t, TokenIssuer::Organization(a.id.clone()));
            assert_eq!(t.url("https://op.example"), "https://op.example/o/a");
        }
        assert_eq!(
            TokenIssuer::Root.url("https://op.example"),
            "https://op.example"
        );
    }

    #[test]
    fn policy_serializes_as_documented() {
        let p: RootIssuerPolicy =
            serde_json::from_str(r#"{"policy":"ALLOW_SELECTED","organizations":["a"]}"#).unwrap();
        assert!(matches!(p, RootIssuerPolicy::AllowSelected(ref s) if s.len() == 1));
        let p: RootIssuerPolicy = serde_json::from_str(r#"{"policy":"DENY_ALL"}"#).unwrap();
        assert_eq!(p, RootIssuerPolicy::DenyAll);
    }
}
