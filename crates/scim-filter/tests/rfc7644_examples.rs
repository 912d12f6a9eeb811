//! Every filter example of RFC 7644 §3.4.2.2 (Figure 2 and the text around it), §3.4.3 and every
//! PATCH path example of §3.5.2, parsed, printed canonically, re-parsed, and evaluated against the
//! RFC 7643 §8.2 "full user" (Barbara Jensen).

use idforge_scim_filter::{
    matches, parse_attribute_list, parse_filter, parse_patch_path, AttrPath, CompValue, CompareOp,
    Context, Error, Filter, Schema, ScimType,
};
use serde_json::json;

/// RFC 7643 §8.2, trimmed to the members the examples look at (values as in the RFC), plus the
/// Enterprise extension of §8.3.
fn bjensen() -> serde_json::Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User",
                    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User"],
        "id": "2819c223-7f76-453a-919d-413861904646",
        "externalId": "701984",
        "userName": "bjensen@example.com",
        "name": {"formatted": "Ms. Barbara J Jensen, III", "familyName": "Jensen", "givenName": "Barbara",
                 "middleName": "Jane", "honorificPrefix": "Ms.", "honorificSuffix": "III"},
        "displayName": "Babs Jensen",
        "nickName": "Babs",
        "profileUrl": "https://login.example.com/bjensen",
        "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                   {"value": "babs@jensen.org", "type": "home"}],
        "addresses": [{"type": "work", "streetAddress": "100 Universal City Plaza", "locality": "Hollywood",
                       "region": "CA", "postalCode": "91608", "country": "USA", "primary": true}],
        "phoneNumbers": [{"value": "555-555-5555", "type": "work"}, {"value": "555-555-4444", "type": "mobile"}],
        "ims": [{"value": "someaimhandle", "type": "aim"}],
        "userType": "Employee",
        "title": "Tour Guide",
        "preferredLanguage": "en-US",
        "locale": "en-US",
        "timezone": "America/Los_Angeles",
        "active": true,
        "meta": {"resourceType": "User", "created": "2010-01-23T04:56:22Z",
                 "lastModified": "2011-05-13T04:42:34Z",
                 "version": "W/\"a330bc54f0671c9\"",
                 "location": "https://example.com/v2/Users/2819c223-7f76-453a-919d-413861904646"},
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {
            "employeeNumber": "701984", "costCenter": "4130", "organization": "Universal Studios",
            "division": "Theme Park", "department": "Tour Operations",
            "manager": {"value": "26118915-6090-4610-87e4-49d8ca9f808d", "displayName": "John Smith"}
        }
    })
}

/// (source, filter text, canonical text, does bjensen match?)
const FILTER_EXAMPLES: &[(&str, &str, &str, bool)] = &[
    (
        "RFC 7644 §3.4.2.2 (case-insensitive names)",
        r#"userName Eq "john""#,
        r#"userName eq "john""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 (case-insensitive names)",
        r#"Username eq "john""#,
        r#"Username eq "john""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userName eq "bjensen""#,
        r#"userName eq "bjensen""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"name.familyName co "O'Malley""#,
        r#"name.familyName co "O'Malley""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userName sw "J""#,
        r#"userName sw "J""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        r#"urn:ietf:params:scim:schemas:core:2.0:User:userName sw "J""#,
        false,
    ),
    ("RFC 7644 §3.4.2.2 Figure 2", "title pr", "title pr", true),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified gt "2011-05-13T04:42:34Z""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified ge "2011-05-13T04:42:34Z""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified lt "2011-05-13T04:42:34Z""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        r#"meta.lastModified le "2011-05-13T04:42:34Z""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"title pr and userType eq "Employee""#,
        r#"title pr and userType eq "Employee""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"title pr or userType eq "Intern""#,
        r#"title pr or userType eq "Intern""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        r#"schemas eq "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userType eq "Employee" and (emails.type eq "work")"#,
        r#"userType eq "Employee" and emails.type eq "work""#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
        true,
    ),
    (
        "RFC 7644 §3.4.2.2 Figure 2",
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        r#"emails[type eq "work" and value co "@example.com"] or ims[type eq "xmpp" and value co "@foo.com"]"#,
        true,
    ),
    (
        "RFC 7644 §3.4.3 (POST /.search)",
        r#"displayName sw "smith""#,
        r#"displayName sw "smith""#,
        false,
    ),
    (
        "RFC 7644 §3.4.2.2 (issue 4 typical filter)",
        r#"userName eq "bjensen" and (emails[type eq "work" and value co "@example.com"] or meta.lastModified ge "2011-05-13T04:42:34Z")"#,
        r#"userName eq "bjensen" and (emails[type eq "work" and value co "@example.com"] or meta.lastModified ge "2011-05-13T04:42:34Z")"#,
        false,
    ),
];

#[test]
fn rfc7644_filter_examples_parse_print_reparse_and_evaluate() {
    let schema = Schema::user();
    let user = bjensen();
    for (source, text, canonical, expected) in FILTER_EXAMPLES {
        let f = parse_filter(text).unwrap_or_else(|e| panic!("{source}: {text}: {e}"));
        assert_eq!(f.to_string(), *canonical, "{source}: {text}");
        let again = parse_filter(&f.to_string()).unwrap_or_else(|e| panic!("{source}: {e}"));
        assert_eq!(again, f, "{source}: round trip of {text}");
        schema
            .validate(&f)
            .unwrap_or_else(|e| panic!("{source}: {text}: {e}"));
        assert_eq!(
            matches(&f, &user, &schema),
            Ok(*expected),
            "{source}: {text}"
        );
    }
}

#[test]
fn figure2_tree_shapes() {
    // RFC 7644 §3.4.2.2: "not" > "and" > "or".
    let f = parse_filter(r#"a pr or b pr and not (c pr)"#).expect("valid");
    let p = |n: &str| Filter::present(AttrPath::new(n));
    assert_eq!(f, p("a").or(p("b").and(p("c").negate())));

    let f = parse_filter(r#"urn:ietf:params:scim:schemas:core:2.0:User:name.familyName eq "x""#)
        .expect("valid");
    let Filter::Compare {
        path,
        op,
        value,
        span,
    } = f
    else {
        panic!("expected a comparison")
    };
    assert_eq!(
        path.uri.as_deref(),
        Some("urn:ietf:params:scim:schemas:core:2.0:User")
    );
    assert_eq!(path.name, "name");
    assert_eq!(path.sub_attr.as_deref(), Some("familyName"));
    assert_eq!(op, CompareOp::Eq);
    assert_eq!(value, CompValue::String("x".into()));
    assert_eq!((span.start, span.end), (0, 65));
}

#[test]
fn spans_point_into_the_input() {
    let text = r#"userType eq "Employee" and emails[type eq "work"]"#;
    let f = parse_filter(text).expect("valid");
    let Filter::And(items, span) = &f else {
        panic!("and")
    };
    assert_eq!((span.start, span.end), (0, text.len()));
    let s = items[1].span();
    assert_eq!(&text[s.start..s.end], r#"emails[type eq "work"]"#);
    let Filter::ValuePath { filter, .. } = &items[1] else {
        panic!("value path")
    };
    let s = filter.span();
    assert_eq!(&text[s.start..s.end], r#"type eq "work""#);
}

/// (source, path). RFC 7644 §3.5.2 uses `members[...].displayName`, but the Group schema's
/// `members` has no `displayName` sub-attribute (RFC 7643 §4.2, §8.7.1): it parses, and schema
/// validation rightly refuses it (checked below).
const PATCH_PATHS: &[(&str, &str)] = &[
    ("RFC 7644 §3.5.2 (path examples)", "members"),
    ("RFC 7644 §3.5.2 (path examples)", "name.familyName"),
    (
        "RFC 7644 §3.5.2 (path examples)",
        r#"addresses[type eq "work"]"#,
    ),
    (
        "RFC 7644 §3.5.2 (path examples)",
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"]"#,
    ),
    (
        "RFC 7644 §3.5.2 (path examples)",
        r#"members[value eq "2819c223-7f76-453a-919d-413861904646"].displayName"#,
    ),
    (
        "RFC 7644 §3.5.2.2 (remove)",
        r#"members[value eq "2819c223...919d-413861904646"]"#,
    ),
    (
        "RFC 7644 §3.5.2.2 (remove)",
        r#"emails[type eq "work" and value ew "example.com"]"#,
    ),
    (
        "RFC 7644 §3.5.2.3 (replace)",
        r#"addresses[type eq "work"]"#,
    ),
    (
        "RFC 7644 §3.5.2.3 (replace)",
        r#"addresses[type eq "work"].streetAddress"#,
    ),
    ("RFC 7644 §3.5.2.1 (add)", "members"),
    (
        "RFC 7644 §3.10 (URN path)",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
    ),
    (
        "RFC 7644 §3.10 (URN path)",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.displayName",
    ),
];

#[test]
fn rfc7644_patch_path_examples() {
    let user = Schema::user();
    let group = Schema::group();
    for (source, text) in PATCH_PATHS {
        let p = parse_patch_path(text).unwrap_or_else(|e| panic!("{source}: {text}: {e}"));
        assert_eq!(p.to_string(), *text, "{source}");
        let ok_user = user.validate_patch_path(&p);
        let ok_group = group.validate_patch_path(&p);
        let valid = ok_user.is_ok() || ok_group.is_ok();
        assert_eq!(
            valid,
            !text.ends_with("].displayName"),
            "{source}: {text}: {ok_user:?} {ok_group:?}"
        );
    }
    let p = parse_patch_path(r#"addresses[type eq "work"].streetAddress"#).expect("valid");
    assert_eq!(p.attr.name, "addresses");
    assert_eq!(p.sub_attr.as_deref(), Some("streetAddress"));
    assert!(matches!(p.filter, Some(Filter::Compare { .. })));
}

#[test]
fn patch_path_errors_are_invalid_path() {
    for (text, offset) in [
        ("", 0),
        ("members[", 8),
        (r#"members[value eq "x"]."#, 22),
        (r#"members[value eq "x"] pr"#, 22),
        (r#"name.familyName[value eq "x"]"#, 15),
        ("members.value.x", 13),
    ] {
        let e = parse_patch_path(text).expect_err(text);
        assert_eq!(e.scim_type(), ScimType::InvalidPath, "{text}");
        assert_eq!(e.context(), Context::PatchPath);
        assert_eq!(e.offset(), offset, "{text}: {e}");
    }
    let e = Schema::user()
        .validate_patch_path(&parse_patch_path("nickName[value eq \"x\"]").expect("syntax ok"))
        .expect_err("not complex");
    assert_eq!(e.scim_type(), ScimType::InvalidPath);
}

#[test]
fn invalid_filters_report_offset_expected_and_scim_mapping() {
    for (text, offset, expected_fragment) in [
        ("", 0, "attribute path"),
        ("userName", 8, "comparison operator"),
        ("userName eq", 11, "value"),
        ("userName eq \"x", 14, "closing"),
        ("userName xx \"x\"", 9, "comparison operator"),
        ("userName eq \"x\" and", 19, "attribute path"),
        ("(userName pr", 12, "')'"),
        ("userName eq \"x\")", 15, "end of input"),
        ("emails[type eq \"w\"", 18, "']'"),
        ("emails[type eq \"w\"].value eq \"x\"", 19, "end of input"),
        ("emails[type[value pr]]", 11, "value paths do not nest"),
        ("not title pr", 4, "comparison operator"),
        ("userName eq 01", 12, "value"),
        ("userName eq \"\\q\"", 14, "escape"),
        ("1abc pr", 0, "attribute path"),
        ("user$name pr", 4, "attribute name character"),
        ("userName eq tru", 12, "value"),
    ] {
        let e = parse_filter(text).expect_err(text);
        assert_eq!(e.offset(), offset, "{text}: {e}");
        let Error::Syntax { expected, .. } = &e else {
            panic!("{text}: {e:?}")
        };
        assert!(expected.contains(expected_fragment), "{text}: {expected}");
        let body = e.to_scim_error();
        assert_eq!(body["status"], "400");
        assert_eq!(body["scimType"], "invalidFilter");
        assert!(body["detail"]
            .as_str()
            .is_some_and(|d| d.contains(&format!("byte {offset}"))));
    }
}

#[test]
fn attribute_lists_and_sort_by() {
    let l = parse_attribute_list("userName,name.familyName , urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value")
        .expect("valid");
    assert_eq!(l.len(), 3);
    assert_eq!(l[1].sub_attr.as_deref(), Some("familyName"));
    assert_eq!(l[2].sub_attr.as_deref(), Some("value"));
    let e = parse_attribute_list("userName,,title").expect_err("empty item");
    assert_eq!(e.offset(), 9);
    assert_eq!(e.scim_type(), ScimType::InvalidValue);
    let p = idforge_scim_filter::parse_attr_path("meta.lastModified").expect("valid");
    assert_eq!(p.to_string(), "meta.lastModified");
}

#[test]
fn validation_errors() {
    let schema = Schema::user();
    let check = |f: &str| schema.validate(&parse_filter(f).expect(f));
    assert!(matches!(
        check("active gt true"),
        Err(Error::OperatorNotAllowed { op: "gt", .. })
    ));
    assert!(matches!(
        check(r#"x509Certificates.value lt "AA==""#),
        Err(Error::OperatorNotAllowed { .. })
    ));
    assert!(matches!(
        check(r#"title[value eq "x"]"#),
        Err(Error::NotComplex { .. })
    ));
    assert!(matches!(
        check(r#"title.value eq "x""#),
        Err(Error::NotComplex { .. })
    ));
    assert!(matches!(
        check(r#"shoeSize eq 3"#),
        Err(Error::UnknownAttribute { offset: 0, .. })
    ));
    assert!(matches!(
        check(r#"emails[shoe eq "x"]"#),
        Err(Error::UnknownAttribute { offset: 7, .. })
    ));
    assert!(matches!(
        check(r#"meta.created gt "yesterday""#),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        check(r#"active eq "true""#),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(matches!(
        check(r#"userName gt null"#),
        Err(Error::TypeMismatch { .. })
    ));
    assert!(check(r#"userName eq null"#).is_ok());
    assert!(check(r#"emails[primary eq true]"#).is_ok());
}

#[test]
fn limits_are_typed_errors() {
    use idforge_scim_filter::{parse_filter_with, LimitKind, Limits};
    let long = format!("userName eq \"{}\"", "a".repeat(9000));
    assert!(matches!(
        parse_filter(&long),
        Err(Error::Limit {
            limit: LimitKind::Length,
            ..
        })
    ));
    let deep = format!("{}title pr{}", "(".repeat(40), ")".repeat(40));
    assert!(matches!(
        parse_filter(&deep),
        Err(Error::Limit {
            limit: LimitKind::Depth,
            offset: 32,
            ..
        })
    ));
    let nots = format!("{}title pr{}", "not (".repeat(33), ")".repeat(33));
    assert!(matches!(
        parse_filter(&nots),
        Err(Error::Limit {
            limit: LimitKind::Depth,
            ..
        })
    ));
    let many = ["title pr"; 11].join(" or ");
    let limits = Limits::default().with_max_comparisons(10);
    assert!(matches!(
        parse_filter_with(&many, &limits),
        Err(Error::Limit {
            limit: LimitKind::Comparisons,
            ..
        })
    ));
    assert!(parse_filter_with(&["title pr"; 10].join(" or "), &limits).is_ok());
    // Deep but within limits is fine; an absurd configured depth is clamped.
    let limits = Limits::default()
        .with_max_depth(1_000_000)
        .with_max_len(1 << 20);
    let deep = format!("{}title pr{}", "(".repeat(300), ")".repeat(300));
    assert!(matches!(
        parse_filter_with(&deep, &limits),
        Err(Error::Limit { max: 128, .. })
    ));
}
