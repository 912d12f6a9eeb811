//! The request shapes of WSO2's v2 User Sharing API (JSON), validated into typed commands, and
//! their execution over the stores on behalf of an [`Administrator`]:
//!
//! - `POST /users/share` — [`ShareRequest`]: `{userCriteria: {userIds}, organizations: [{orgId,
//!   policy, roleAssignment: {mode: SELECTED | NONE, roles}}]}`;
//! - `POST /users/share-with-all` — [`ShareWithAllRequest`]: `{userCriteria, policy,
//!   roleAssignment}`;
//! - `POST /users/unshare` — [`UnshareRequest`]: `{userCriteria, orgIds}`;
//! - `PATCH /users/share` — [`PatchShareRequest`]: `{userCriteria, Operations: [{op, path:
//!   "organizations[orgId eq \"…\"].roles", value}]}`, the path parsed as an RFC 7644 §3.5.2
//!   PATCH path by `idforge-scim-filter`.
//!
//! Unknown members are refused, every list is bounded ([`ApiLimits`]), roles are given as
//! names or as WSO2's `{displayName, audience}` objects.

use serde::{Deserialize, Serialize};
use serde_json::Value;

use idforge_scim_filter::{parse_patch_path_with, CompValue, CompareOp, Filter, Limits};

use crate::error::{OrgError, Result};
use crate::model::{check_label, OrgId};
use crate::ports::{OrganizationStore, SharingStore};
use crate::sharing::{self, OrgShare, RoleOp, SharePolicy};

/// Bounds on a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct ApiLimits {
    /// Largest body in bytes.
    pub max_body: usize,
    /// Most users per request.
    pub max_users: usize,
    /// Most organizations (or PATCH operations) per request.
    pub max_organizations: usize,
    /// Most roles per organization.
    pub max_roles: usize,
}

impl Default for ApiLimits {
    fn default() -> Self {
        ApiLimits {
            max_body: 64 * 1024,
            max_users: 100,
            max_organizations: 1000,
            max_roles: 100,
        }
    }
}

/// `userCriteria`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UserCriteria {
    /// The users (their ids).
    pub user_ids: Vec<String>,
}

/// `roleAssignment.mode`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoleMode {
    /// The listed roles.
    Selected,
    /// No roles.
    None,
}

/// A role by name, or WSO2's `{displayName, audience}` object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RoleRef {
    /// A name.
    Name(String),
    /// An object.
    Object {
        /// The role's name.
        #[serde(rename = "displayName")]
        display_name: String,
        /// The role's audience (kept, not interpreted: roles here are per organization).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        audience: Option<Value>,
    },
}

impl RoleRef {
    /// The role name.
    pub fn name(&self) -> &str {
        match self {
            RoleRef::Name(n) => n,
            RoleRef::Object { display_name, .. } => display_name,
        }
    }
}

/// `roleAssignment`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RoleAssignment {
    /// `SELECTED` or `NONE`.
    pub mode: RoleMode,
    /// The roles (`SELECTED` only).
    #[serde(default)]
    pub roles: Vec<RoleRef>,
}

/// One entry of `organizations`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct OrgShareEntry {
    /// The organization.
    pub org_id: OrgId,
    /// The policy.
    pub policy: SharePolicy,
    /// Roles there (absent: none).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_assignment: Option<RoleAssignment>,
}

/// `POST /users/share`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareRequest {
    /// The users.
    pub user_criteria: UserCriteria,
    /// The organizations and policies.
    pub organizations: Vec<OrgShareEntry>,
}

/// `POST /users/share-with-all`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ShareWithAllRequest {
    /// The users.
    pub user_criteria: UserCriteria,
    /// An `ALL_*`/`IMMEDIATE_*` policy or `NO_SHARING`.
    pub policy: SharePolicy,
    /// Roles in every organization reached.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role_assignment: Option<RoleAssignment>,
}

/// `POST /users/unshare`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct UnshareRequest {
    /// The users.
    pub user_criteria: UserCriteria,
    /// The organizations to unshare from.
    pub org_ids: Vec<OrgId>,
}

/// One PATCH operation as sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatchOperation {
    /// `add`, `remove` or `replace` (case-insensitive, RFC 7644 §3.5.2).
    pub op: String,
    /// `organizations[orgId eq "…"].roles`.
    pub path: String,
    /// The roles (required for `add` and `replace`; for `remove`, absent removes all).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub value: Option<Vec<RoleRef>>,
}

/// `PATCH /users/share`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct PatchShareRequest {
    /// The users.
    pub user_criteria: UserCriteria,
    /// The operations.
    #[serde(rename = "Operations")]
    pub operations: Vec<PatchOperation>,
}

/// A validated PATCH operation: what to do to the roles in which organization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct RolePatch {
    /// The organization (from the path's filter).
    pub org: OrgId,
    /// The change.
    pub op: RoleOp,
    /// The roles listed.
    pub roles: Vec<String>,
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8], limits: &ApiLimits) -> Result<T> {
    if body.len() > limits.max_body {
        return Err(OrgError::invalid("body", "too large"));
    }
    // serde_json refuses nesting deeper than 128 levels itself.
    serde_json::from_slice(body).map_err(|e| OrgError::invalid("body", e.to_string()))
}

fn users(c: &UserCriteria, limits: &ApiLimits) -> Result<Vec<String>> {
    if c.user_ids.is_empty() || c.user_ids.len() > limits.max_users {
        return Err(OrgError::invalid(
            "userCriteria.userIds",
            format!("1 to {} users", limits.max_users),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(c.user_ids.len());
    for u in &c.user_ids {
        check_label("userCriteria.userIds", u)?;
        if !out.contains(u) {
            out.push(u.clone());
        }
    }
    Ok(out)
}

fn role_names(refs: &[RoleRef], limits: &ApiLimits) -> Result<Vec<String>> {
    if refs.len() > limits.max_roles {
        return Err(OrgError::invalid(
            "roles",
            format!("at most {}", limits.max_roles),
        ));
    }
    let mut out: Vec<String> = Vec::with_capacity(refs.len());
    for r in refs {
        check_label("roles", r.name())?;
        if !out.iter().any(|x| x == r.name()) {
            out.push(r.name().to_owned());
        }
    }
    Ok(out)
}

fn assignment(a: Option<&RoleAssignment>, limits: &ApiLimits) -> Result<Vec<String>> {
    match a {
        None => Ok(Vec::new()),
        Some(RoleAssignment {
            mode: RoleMode::None,
            roles,
        }) => {
            if roles.is_empty() {
                Ok(Vec::new())
            } else {
                Err(OrgError::invalid(
                    "roleAssignment",
                    "mode NONE takes no roles",
                ))
            }
        }
        Some(RoleAssignment {
            mode: RoleMode::Selected,
            roles,
        }) => {
            if roles.is_empty() {
                return Err(OrgError::invalid(
                    "roleAssignment",
                    "mode SELECTED needs roles",
                ));
            }
            role_names(roles, limits)
        }
    }
}

impl ShareRequest {
    /// Parses and validates a body: the users and the organization entries.
    pub fn from_json(body: &[u8], limits: &ApiLimits) -> Result<(Vec<String>, Vec<OrgShare>)> {
        let r: ShareRequest = parse_json(body, limits)?;
        r.validate(limits)
    }

    /// Validates: 1..=`max_users` users, 1..=`max_organizations` organizations, each once,
    /// role assignments consistent with their mode.
    pub fn validate(&self, limits: &ApiLimits) -> Result<(Vec<String>, Vec<OrgShare>)> {
        let users = users(&self.user_criteria, limits)?;
        if self.organizations.is_empty() || self.organizations.len() > limits.max_organizations {
            return Err(OrgError::invalid(
                "organizations",
                format!("1 to {} organizations", limits.max_organizations),
            ));
        }
        let mut entries: Vec<OrgShare> = Vec::with_capacity(self.organizations.len());
        for e in &self.organizations {
            if entries.iter().any(|x| x.org == e.org_id) {
                return Err(OrgError::invalid(
                    "organizations",
                    format!("{} repeated", e.org_id),
                ));
            }
            let roles = assignment(e.role_assignment.as_ref(), limits)?;
            entries.push(OrgShare::new(e.org_id.clone(), e.policy, roles));
        }
        Ok((users, entries))
    }
}

impl ShareWithAllRequest {
    /// Parses and validates a body: the users, the policy and the roles.
    pub fn from_json(
        body: &[u8],
        limits: &ApiLimits,
    ) -> Result<(Vec<String>, SharePolicy, Vec<String>)> {
        let r: ShareWithAllRequest = parse_json(body, limits)?;
        let users = users(&r.user_criteria, limits)?;
        if !(r.policy.is_general() || r.policy == SharePolicy::NoSharing) {
            return Err(OrgError::invalid(
                "policy",
                "share-with-all takes ALL_* or IMMEDIATE_* policies or NO_SHARING",
            ));
        }
        let roles = assignment(r.role_assignment.as_ref(), limits)?;
        Ok((users, r.policy, roles))
    }
}

impl UnshareRequest {
    /// Parses and validates a body: the users and the organizations.
    pub fn from_json(body: &[u8], limits: &ApiLimits) -> Result<(Vec<String>, Vec<OrgId>)> {
        let r: UnshareRequest = parse_json(body, limits)?;
        let users = users(&r.user_criteria, limits)?;
        if r.org_ids.is_empty() || r.org_ids.len() > limits.max_organizations {
            return Err(OrgError::invalid(
                "orgIds",
                format!("1 to {} organizations", limits.max_organizations),
            ));
        }
        Ok((users, r.org_ids))
    }
}

/// Parses `organizations[orgId eq "…"].roles` (RFC 7644 §3.5.2 `valuePath subAttr`, names
/// case-insensitive per RFC 7643 §2.1) into the organization id. Any other shape — another
/// attribute, another operator, a compound filter, a missing `.roles` — is `Invalid`.
pub fn parse_roles_path(path: &str) -> Result<OrgId> {
    let bad = |why: &str| {
        OrgError::invalid(
            "path",
            format!("{why}: expected organizations[orgId eq \"…\"].roles"),
        )
    };
    let limits = Limits::default()
        .with_max_len(1024)
        .with_max_depth(2)
        .with_max_comparisons(1);
    let p = parse_patch_path_with(path, &limits).map_err(|e| bad(&e.to_string()))?;
    if p.attr.uri.is_some()
        || p.attr.sub_attr.is_some()
        || !p.attr.name.eq_ignore_ascii_case("organizations")
    {
        return Err(bad("not the organizations attribute"));
    }
    if !p
        .sub_attr
        .as_deref()
        .is_some_and(|s| s.eq_ignore_ascii_case("roles"))
    {
        return Err(bad("not the roles sub-attribute"));
    }
    match p.filter {
        Some(Filter::Compare {
            path: attr,
            op: CompareOp::Eq,
            value: CompValue::String(id),
            ..
        }) if attr.uri.is_none()
            && attr.sub_attr.is_none()
            && attr.name.eq_ignore_ascii_case("orgId") =>
        {
            OrgId::new(id)
        }
        _ => Err(bad("the filter must be orgId eq \"…\"")),
    }
}

impl PatchShareRequest {
    /// Parses and validates a body: the users and the role patches.
    pub fn from_json(body: &[u8], limits: &ApiLimits) -> Result<(Vec<String>, Vec<RolePatch>)> {
        let r: PatchShareRequest = parse_json(body, limits)?;
        r.validate(limits)
    }

    /// Validates each operation: op, path, value.
    pub fn validate(&self, limits: &ApiLimits) -> Result<(Vec<String>, Vec<RolePatch>)> {
        let users = users(&self.user_criteria, limits)?;
        if self.operations.is_empty() || self.operations.len() > limits.max_organizations {
            return Err(OrgError::invalid(
                "Operations",
                format!("1 to {} operations", limits.max_organizations),
            ));
        }
        let mut out = Vec::with_capacity(self.operations.len());
        for o in &self.operations {
            let op = match o.op.to_ascii_lowercase().as_str() {
                "add" => RoleOp::Add,
                "remove" => RoleOp::Remove,
                "replace" => RoleOp::Replace,
                _ => return Err(OrgError::invalid("op", "add, remove or replace")),
            };
            let org = parse_roles_path(&o.path)?;
            let (op, roles) = match (op, &o.value) {
                (RoleOp::Remove, None) => (RoleOp::Replace, Vec::new()),
                (_, Some(v)) => (op, role_names(v, limits)?),
                (_, None) => return Err(OrgError::invalid("value", "add and replace need roles")),
            };
            out.push(RolePatch { org, op, roles });
        }
        Ok((users, out))
    }
}

/// What an administrator may do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Permission {
    /// Share and unshare users, change their shared roles.
    SharedUserManagement,
    /// Create, move, disable and delete organizations.
    OrganizationManagement,
}

/// Who calls the API: an administrator of an organization with permissions. Any
/// administrator holding [`Permission::SharedUserManagement`] may share users resident in
/// their organization's subtree, whoever created the user or the earlier shares.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Administrator {
    /// The administrator's organization.
    pub organization: OrgId,
    /// Permissions held.
    pub permissions: Vec<Permission>,
}

impl Administrator {
    /// An administrator of `organization` holding `permissions`.
    pub fn new(organization: OrgId, permissions: impl IntoIterator<Item = Permission>) -> Self {
        Administrator {
            organization,
            permissions: permissions.into_iter().collect(),
        }
    }

    /// Whether the permission is held.
    pub fn holds(&self, p: Permission) -> bool {
        self.permissions.contains(&p)
    }
}

/// Checks that `admin` may manage the shares of `user`: the permission, and the user's
/// resident organization within the administrator's.
async fn may_manage(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    admin: &Administrator,
    user: &str,
) -> Result<()> {
    if !admin.holds(Permission::SharedUserManagement) {
        return Err(OrgError::Forbidden);
    }
    let resident = sharing
        .resident(user)
        .await?
        .ok_or_else(|| OrgError::UnknownUser(user.to_owned()))?;
    let org = orgs
        .get(&resident.org)
        .await?
        .ok_or_else(|| OrgError::UnknownOrganization(resident.org.to_string()))?;
    if !org.is_within(&admin.organization) {
        return Err(OrgError::Forbidden);
    }
    Ok(())
}

/// Runs a validated share for every user (all users are checked before any is changed).
pub async fn share(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    admin: &Administrator,
    users: &[String],
    entries: &[OrgShare],
) -> Result<()> {
    for u in users {
        may_manage(orgs, sharing, admin, u).await?;
    }
    for u in users {
        sharing::share(orgs, sharing, u, entries).await?;
    }
    Ok(())
}

/// Runs a validated share-with-all for every user.
pub async fn share_with_all(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    admin: &Administrator,
    users: &[String],
    policy: SharePolicy,
    roles: &[String],
) -> Result<()> {
    for u in users {
        may_manage(orgs, sharing, admin, u).await?;
    }
    for u in users {
        sharing::share_with_all(orgs, sharing, u, policy, roles.to_vec()).await?;
    }
    Ok(())
}

/// Runs a validated unshare for every user.
pub async fn unshare(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    admin: &Administrator,
    users: &[String],
    org_ids: &[OrgId],
) -> Result<()> {
    for u in users {
        may_manage(orgs, sharing, admin, u).await?;
    }
    for u in users {
        sharing::unshare(sharing, u, org_ids).await?;
    }
    Ok(())
}

/// Runs validated role patches for every user.
pub async fn patch(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    admin: &Administrator,
    users: &[String],
    patches: &[RolePatch],
) -> Result<()> {
    for u in users {
        may_manage(orgs, sharing, admin, u).await?;
    }
    for u in users {
        for p in patches {
            sharing::update_roles(orgs, sharing, u, &p.org, p.op, &p.roles).await?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const L: ApiLimits = ApiLimits {
        max_body: 64 * 1024,
        max_users: 100,
        max_organizations: 1000,
        max_roles: 100,
    };

    #[test]
    fn share_request_shape() {
        let body = br#"{"userCriteria":{"userIds":["alice","bob","alice"]},
            "organizations":[
              {"orgId":"a","policy":"SELECTED_ORG_WITH_ALL_EXISTING_AND_FUTURE_CHILDREN",
               "roleAssignment":{"mode":"SELECTED","roles":["viewer",{"displayName":"editor","audience":{"display":"app","type":"application"}}]}},
              {"orgId":"b","policy":"SELECTED_ORG_ONLY","roleAssignment":{"mode":"NONE","roles":[]}},
              {"orgId":"c","policy":"NO_SHARING"}]}"#;
        let (users, entries) = ShareRequest::from_json(body, &L).unwrap();
        assert_eq!(users, ["alice", "bob"]);
        assert_eq!(entries[0].roles, ["viewer", "editor"]);
        assert_eq!(
            entries[0].policy,
            SharePolicy::SelectedOrgWithAllExistingAndFutureChildren
        );
        assert!(entries[1].roles.is_empty());
        assert_eq!(entries[2].policy, SharePolicy::NoSharing);
    }

    #[test]
    fn share_request_refusals() {
        for bad in [
            &br#"{"userCriteria":{"userIds":[]},"organizations":[{"orgId":"a","policy":"SELECTED_ORG_ONLY"}]}"#[..],
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a","policy":"EVERYWHERE"}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a/b","policy":"SELECTED_ORG_ONLY"}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a","policy":"SELECTED_ORG_ONLY","extra":1}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a","policy":"SELECTED_ORG_ONLY","roleAssignment":{"mode":"NONE","roles":["x"]}}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a","policy":"SELECTED_ORG_ONLY","roleAssignment":{"mode":"SELECTED","roles":[]}}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"organizations":[{"orgId":"a","policy":"SELECTED_ORG_ONLY"},{"orgId":"a","policy":"NO_SHARING"}]}"#,
            br#"not json"#,
        ] {
            let e = ShareRequest::from_json(bad, &L).unwrap_err();
            assert_eq!(e.status(), 400, "{}", String::from_utf8_lossy(bad));
        }
        let big = vec![b' '; L.max_body + 1];
        assert!(ShareRequest::from_json(&big, &L).is_err());
        let many: Vec<String> = (0..101).map(|i| format!("\"u{i}\"")).collect();
        let body = format!(
            r#"{{"userCriteria":{{"userIds":[{}]}},"organizations":[{{"orgId":"a","policy":"SELECTED_ORG_ONLY"}}]}}"#,
            many.join(",")
        );
        assert!(ShareRequest::from_json(body.as_bytes(), &L).is_err());
    }

    #[test]
    fn share_with_all_and_unshare_shapes() {
        let (u, p, r) = ShareWithAllRequest::from_json(
            br#"{"userCriteria":{"userIds":["u"]},"policy":"ALL_EXISTING_AND_FUTURE_ORGS","roleAssignment":{"mode":"SELECTED","roles":["r"]}}"#,
            &L,
        )
        .unwrap();
        assert_eq!(
            (u.len(), p, r.len()),
            (1, SharePolicy::AllExistingAndFutureOrgs, 1)
        );
        assert!(ShareWithAllRequest::from_json(
            br#"{"userCriteria":{"userIds":["u"]},"policy":"SELECTED_ORG_ONLY"}"#,
            &L
        )
        .is_err());
        let (u, o) = UnshareRequest::from_json(
            br#"{"userCriteria":{"userIds":["u"]},"orgIds":["a","b"]}"#,
            &L,
        )
        .unwrap();
        assert_eq!((u.len(), o.len()), (1, 2));
        assert!(UnshareRequest::from_json(
            br#"{"userCriteria":{"userIds":["u"]},"orgIds":[]}"#,
            &L
        )
        .is_err());
    }

    #[test]
    fn patch_paths_through_scim_filter() {
        assert_eq!(
            parse_roles_path(r#"organizations[orgId eq "acme-eu"].roles"#)
                .unwrap()
                .as_str(),
            "acme-eu"
        );
        // Attribute names and operators are case-insensitive (RFC 7643 §2.1, RFC 7644 §3.4.2.2).
        assert_eq!(
            parse_roles_path(r#"Organizations[ORGID EQ "a"].Roles"#)
                .unwrap()
                .as_str(),
            "a"
        );
        for bad in [
            r#"organizations[orgId eq "a"]"#,
            r#"organizations[orgId ne "a"].roles"#,
            r#"organizations[orgId eq "a" or orgId eq "b"].roles"#,
            r#"organizations[name eq "a"].roles"#,
            r#"groups[orgId eq "a"].roles"#,
            r#"organizations[orgId eq 5].roles"#,
            r#"organizations[orgId eq "a/b"].roles"#,
            r#"organizations.roles"#,
            r#"organizations[orgId eq "a"].roles.x"#,
            "",
        ] {
            assert!(parse_roles_path(bad).is_err(), "{bad}");
        }
        let (users, patches) = PatchShareRequest::from_json(
            br#"{"userCriteria":{"userIds":["u"]},"Operations":[
                {"op":"add","path":"organizations[orgId eq \"a\"].roles","value":["x",{"displayName":"y"}]},
                {"op":"Remove","path":"organizations[orgId eq \"b\"].roles","value":["x"]},
                {"op":"remove","path":"organizations[orgId eq \"c\"].roles"},
                {"op":"REPLACE","path":"organizations[orgId eq \"d\"].roles","value":[]}]}"#,
            &L,
        )
        .unwrap();
        assert_eq!(users, ["u"]);
        assert_eq!(patches[0].op, RoleOp::Add);
        assert_eq!(patches[0].roles, ["x", "y"]);
        assert_eq!(patches[1].op, RoleOp::Remove);
        assert_eq!(
            (patches[2].op, patches[2].roles.len()),
            (RoleOp::Replace, 0)
        );
        assert_eq!(patches[3].op, RoleOp::Replace);
        for bad in [
            &br#"{"userCriteria":{"userIds":["u"]},"Operations":[{"op":"move","path":"organizations[orgId eq \"a\"].roles","value":[]}]}"#[..],
            br#"{"userCriteria":{"userIds":["u"]},"Operations":[{"op":"add","path":"organizations[orgId eq \"a\"].roles"}]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"Operations":[]}"#,
            br#"{"userCriteria":{"userIds":["u"]},"operations":[]}"#,
        ] {
            assert!(PatchShareRequest::from_json(bad, &L).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }
}
