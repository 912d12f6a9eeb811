//! Organization sharing API parsers (idforge-orgs).

use idforge_orgs::api::{
    parse_roles_path, ApiLimits, PatchShareRequest, ShareRequest, ShareWithAllRequest,
    UnshareRequest,
};

/// Fuzz the organization sharing API's request parsing (WSO2 v2 User Sharing shapes) and its
/// PATCH path (`organizations[orgId eq "…"].roles`, through scim-filter): no input may panic;
/// what validates stays within the limits, and a parsed path's organization prints into a path
/// that parses back to it.
pub fn orgs_sharing_api(data: &[u8]) {
    let Some((&which, body)) = data.split_first() else {
        return;
    };
    let limits = ApiLimits::default();
    match which % 5 {
        0 => {
            if let Ok((users, entries)) = ShareRequest::from_json(body, &limits) {
                assert!(!users.is_empty() && users.len() <= limits.max_users);
                assert!(!entries.is_empty() && entries.len() <= limits.max_organizations);
                for (i, e) in entries.iter().enumerate() {
                    assert!(e.roles.len() <= limits.max_roles);
                    assert!(
                        entries[..i].iter().all(|x| x.org != e.org),
                        "organizations are unique"
                    );
                }
            }
        }
        1 => {
            let _ = ShareWithAllRequest::from_json(body, &limits);
        }
        2 => {
            if let Ok((users, orgs)) = UnshareRequest::from_json(body, &limits) {
                assert!(!users.is_empty() && !orgs.is_empty());
            }
        }
        3 => {
            if let Ok((_, patches)) = PatchShareRequest::from_json(body, &limits) {
                for p in patches {
                    let path = format!("organizations[orgId eq \"{}\"].roles", p.org);
                    assert_eq!(parse_roles_path(&path).expect("printed path parses"), p.org);
                }
            }
        }
        _ => {
            let Ok(text) = std::str::from_utf8(body) else {
                return;
            };
            if let Ok(org) = parse_roles_path(text) {
                let path = format!("organizations[orgId eq \"{org}\"].roles");
                assert_eq!(parse_roles_path(&path).expect("printed path parses"), org);
            }
        }
    }
}
