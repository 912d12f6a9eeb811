//! Which user claims a request releases (OIDC Core §5.4 scope claims, §5.5 the `claims`
//! parameter).

use serde_json::{Map, Value};

use crate::model::Scopes;

/// The claims each scope value releases (OIDC Core §5.4).
pub fn scope_claim_names(scope: &str) -> &'static [&'static str] {
    match scope {
        "profile" => &[
            "name",
            "family_name",
            "given_name",
            "middle_name",
            "nickname",
            "preferred_username",
            "profile",
            "picture",
            "website",
            "gender",
            "birthdate",
            "zoneinfo",
            "locale",
            "updated_at",
        ],
        "email" => &["email", "email_verified"],
        "address" => &["address"],
        "phone" => &["phone_number", "phone_number_verified"],
        _ => &[],
    }
}

/// Selects the user's claims released by `scopes` plus the explicitly requested `names`
/// (OIDC Core §5.4, §5.5). Claims the user does not have are simply absent (§5.3.2).
pub(crate) fn select_claims(
    all: &Map<String, Value>,
    scopes: &Scopes,
    names: &[String],
) -> Map<String, Value> {
    let mut out = Map::new();
    for scope in scopes.values() {
        for name in scope_claim_names(scope) {
            if let Some(v) = all.get(*name) {
                out.insert((*name).to_owned(), v.clone());
            }
        }
    }
    for name in names {
        if let Some(v) = all.get(name) {
            out.insert(name.clone(), v.clone());
        }
    }
    out.remove("sub");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn scope_claims_selection() {
        let all: Map<String, Value> = serde_json::from_value(json!({
            "sub": "alice", "name": "Alice", "email": "a@example.com", "phone_number": "+1",
            "custom": 1
        }))
        .unwrap();
        let got = select_claims(
            &all,
            &Scopes::from_values(["openid", "email"]),
            &["custom".into()],
        );
        assert_eq!(got.len(), 2, "{got:?}");
        assert!(got.contains_key("email") && got.contains_key("custom"));
        assert!(!got.contains_key("name") && !got.contains_key("sub"));
    }
}
