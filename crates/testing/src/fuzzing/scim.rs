//! SCIM filter and PATCH path parsers (idforge-scim-filter).

use idforge_scim_filter::{ldap, matches, parse_filter, parse_patch_path, sql, Schema};

/// Fuzz the SCIM filter parser (RFC 7644 §3.4.2.2): no input may panic; whatever parses must
/// print canonically, re-parse to the same tree, and go through validation, evaluation and both
/// translations without panicking.
pub fn scim_filter_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(filter) = parse_filter(text) else {
        return;
    };
    let canonical = filter.to_string();
    let again = parse_filter(&canonical).expect("canonical text parses");
    assert_eq!(again, filter, "parse(display(ast)) == ast for {canonical}");
    assert_eq!(again.to_string(), canonical);
    let schema = Schema::user();
    let user = serde_json::json!({
        "userName": "bjensen", "active": true, "name": {"givenName": "Barbara"},
        "emails": [{"type": "work", "value": "b@example.com"}],
        "meta": {"lastModified": "2011-05-13T04:42:34Z"}
    });
    let _ = matches(&filter, &user, &schema);
    for d in [
        sql::Dialect::Postgres,
        sql::Dialect::Sqlite,
        sql::Dialect::MySql,
    ] {
        let _ = sql::to_sql(&filter, &schema, &sql::WideTable::new("users"), d);
    }
    let _ = ldap::to_ldap(&filter, &schema, &ldap::LdapMap::inet_org_person());
}

/// Fuzz the SCIM PATCH path parser (RFC 7644 §3.5.2): no input may panic; whatever parses must
/// print and re-parse to the same path, and validate against the User and Group schemas.
pub fn scim_patch_path(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(path) = parse_patch_path(text) else {
        return;
    };
    let printed = path.to_string();
    let again = parse_patch_path(&printed).expect("printed path parses");
    assert_eq!(again.attr, path.attr);
    assert_eq!(again.filter, path.filter);
    assert_eq!(again.sub_attr, path.sub_attr);
    let _ = Schema::user().validate_patch_path(&path);
    let _ = Schema::group().validate_patch_path(&path);
}
