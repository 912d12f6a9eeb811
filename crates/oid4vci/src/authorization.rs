//! `authorization_details` of type `openid_credential` (§5.1.1) and what an access token
//! authorizes at the credential endpoint (§8.2).

use idforge_oauth_core::{Error, Scopes};
use serde_json::{json, Map, Value};

use crate::error::CredentialErrorCode;
use crate::request::CredentialTarget;

/// The authorization details type of OID4VCI (§5.1.1).
pub const OPENID_CREDENTIAL: &str = "openid_credential";
/// Most entries in one `authorization_details`.
pub const MAX_DETAILS: usize = 64;

fn invalid_details(m: &str) -> Error {
    Error::protocol("invalid_authorization_details", 400, m)
}

/// Parses `authorization_details` (RFC 9396 §2) for a token or authorization request and
/// returns the requested `credential_configuration_id`s (§5.1.1). Every entry must be of type
/// `openid_credential` with a `credential_configuration_id` among `allowed`; `locations`, if
/// present, must contain `issuer` (§5.1.1); `claims` is accepted and ignored (the template
/// decides). Anything else is `invalid_authorization_details` (RFC 9396 §5).
pub fn parse_authorization_details(
    text: &str,
    allowed: &[String],
    issuer: &str,
) -> Result<Vec<String>, Error> {
    let v: Value = serde_json::from_str(text).map_err(|_| invalid_details("not JSON"))?;
    let Value::Array(items) = v else {
        return Err(invalid_details("`authorization_details` must be an array"));
    };
    if items.is_empty() || items.len() > MAX_DETAILS {
        return Err(invalid_details("1 to 64 entries"));
    }
    let mut out: Vec<String> = Vec::new();
    for item in &items {
        let Value::Object(o) = item else {
            return Err(invalid_details("entries must be objects"));
        };
        if o.get("type").and_then(Value::as_str) != Some(OPENID_CREDENTIAL) {
            return Err(invalid_details("unsupported authorization details type"));
        }
        if o.contains_key("format") {
            return Err(invalid_details(
                "`format` entries are not supported; name a `credential_configuration_id`",
            ));
        }
        let id = o
            .get("credential_configuration_id")
            .and_then(Value::as_str)
            .ok_or_else(|| invalid_details("`credential_configuration_id` is required"))?;
        if !allowed.iter().any(|a| a == id) {
            return Err(invalid_details("credential configuration not offered"));
        }
        if let Some(locs) = o.get("locations") {
            let ok = locs
                .as_array()
                .is_some_and(|l| l.iter().any(|x| x.as_str() == Some(issuer)));
            if !ok {
                return Err(invalid_details(
                    "`locations` must name this credential issuer",
                ));
            }
        }
        if !out.iter().any(|x| x == id) {
            out.push(id.to_owned());
        }
    }
    Ok(out)
}

/// The `credential_identifier` of configuration `id` (one dataset per configuration).
pub fn credential_identifier(configuration_id: &str) -> String {
    format!("{configuration_id}#1")
}

/// The `authorization_details` an access token carries: for each configuration, its
/// `credential_identifiers` when they were returned to the wallet (§6.2), else none (the wallet
/// then uses `credential_configuration_id`, §8.2).
pub fn token_details(ids: &[String], with_identifiers: bool) -> Value {
    Value::Array(
        ids.iter()
            .map(|id| {
                let mut m = Map::new();
                m.insert("type".into(), json!(OPENID_CREDENTIAL));
                m.insert("credential_configuration_id".into(), json!(id));
                if with_identifiers {
                    m.insert(
                        "credential_identifiers".into(),
                        json!([credential_identifier(id)]),
                    );
                }
                Value::Object(m)
            })
            .collect(),
    )
}

/// Which configuration a credential request may get with a token carrying `details` (its
/// `authorization_details` claim) and `scopes` (§8.2):
/// - `credential_identifier` must be one the token's details list (`unknown_credential_identifier`);
/// - `credential_configuration_id` must not be used when the details carry identifiers
///   (`invalid_credential_request`), and must be authorized by a details entry or by the
///   template's scope (`scope_of`, `unknown_credential_configuration` otherwise).
pub fn authorize(
    target: &CredentialTarget,
    details: Option<&Value>,
    scopes: &Scopes,
    scope_of: impl Fn(&str) -> Option<Option<String>>,
) -> Result<String, Error> {
    let entries: Vec<&Map<String, Value>> = details
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_object).collect())
        .unwrap_or_default();
    let config_of = |e: &Map<String, Value>| {
        e.get("credential_configuration_id")
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    match target {
        CredentialTarget::Identifier(id) => entries
            .iter()
            .find(|e| {
                e.get("credential_identifiers")
                    .and_then(Value::as_array)
                    .is_some_and(|ids| ids.iter().any(|x| x.as_str() == Some(id)))
            })
            .and_then(|e| config_of(e))
            .ok_or_else(|| {
                CredentialErrorCode::UnknownCredentialIdentifier
                    .error("unknown credential identifier")
            }),
        CredentialTarget::Configuration(cid) => {
            let Some(scope) = scope_of(cid) else {
                return Err(CredentialErrorCode::UnknownCredentialConfiguration
                    .error("unknown credential configuration"));
            };
            if let Some(e) = entries
                .iter()
                .find(|e| config_of(e).as_deref() == Some(cid))
            {
                if e.contains_key("credential_identifiers") {
                    return Err(CredentialErrorCode::InvalidCredentialRequest
                        .error("use a `credential_identifier` from the token response"));
                }
                return Ok(cid.clone());
            }
            match scope {
                Some(s) if scopes.contains(&s) => Ok(cid.clone()),
                _ => Err(CredentialErrorCode::UnknownCredentialConfiguration
                    .error("the access token does not authorize this credential configuration")),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn details_are_validated() {
        let allowed = vec!["pid".to_owned(), "mdl".to_owned()];
        let ok = r#"[{"type":"openid_credential","credential_configuration_id":"pid"},
                     {"type":"openid_credential","credential_configuration_id":"pid",
                      "locations":["https://i.example"]}]"#;
        assert_eq!(
            parse_authorization_details(ok, &allowed, "https://i.example").unwrap(),
            vec!["pid"]
        );
        for bad in [
            "{}",
            "[]",
            "not json",
            r#"[{"type":"payment","credential_configuration_id":"pid"}]"#,
            r#"[{"type":"openid_credential"}]"#,
            r#"[{"type":"openid_credential","credential_configuration_id":"other"}]"#,
            r#"[{"type":"openid_credential","format":"dc+sd-jwt","credential_configuration_id":"pid"}]"#,
            r#"[{"type":"openid_credential","credential_configuration_id":"pid","locations":["https://x"]}]"#,
        ] {
            let e = parse_authorization_details(bad, &allowed, "https://i.example").unwrap_err();
            assert_eq!(e.code(), "invalid_authorization_details", "{bad}");
        }
    }

    #[test]
    fn targets_are_authorized_by_details_or_scope() {
        let scope_of = |id: &str| match id {
            "pid" => Some(Some("pid".to_owned())),
            "mdl" => Some(None),
            _ => None,
        };
        let with_ids = token_details(&["pid".into()], true);
        let without = token_details(&["mdl".into()], false);
        let none = Scopes::default();
        let id = CredentialTarget::Identifier(credential_identifier("pid"));
        assert_eq!(
            authorize(&id, Some(&with_ids), &none, scope_of).unwrap(),
            "pid"
        );
        let e = authorize(
            &CredentialTarget::Identifier("x".into()),
            Some(&with_ids),
            &none,
            scope_of,
        );
        assert_eq!(e.unwrap_err().code(), "unknown_credential_identifier");
        let cfg = CredentialTarget::Configuration("pid".into());
        assert_eq!(
            authorize(&cfg, Some(&with_ids), &none, scope_of)
                .unwrap_err()
                .code(),
            "invalid_credential_request"
        );
        let mdl = CredentialTarget::Configuration("mdl".into());
        assert_eq!(
            authorize(&mdl, Some(&without), &none, scope_of).unwrap(),
            "mdl"
        );
        assert_eq!(
            authorize(&mdl, None, &none, scope_of).unwrap_err().code(),
            "unknown_credential_configuration"
        );
        assert_eq!(
            authorize(&cfg, None, &Scopes::from_values(["pid"]), scope_of).unwrap(),
            "pid"
        );
        assert_eq!(
            authorize(
                &CredentialTarget::Configuration("zz".into()),
                None,
                &none,
                scope_of
            )
            .unwrap_err()
            .code(),
            "unknown_credential_configuration"
        );
    }
}
