//! Property tests: random ASTs round-trip through `Display` (`parse(display(ast)) == ast`), and
//! random input never panics any entry point.

use idforge_scim_filter::{
    ldap, matches, parse_attribute_list, parse_filter, parse_patch_path, sql, AttrPath, CompValue,
    CompareOp, Filter, Schema,
};
use proptest::prelude::*;

fn attr_name() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-zA-Z][a-zA-Z0-9_-]{0,8}",
        Just("$ref".to_owned()),
        // Keywords are legal attribute names in attribute position.
        Just("and".to_owned()),
        Just("not".to_owned()),
        Just("pr".to_owned()),
    ]
}

fn attr_path(in_value_path: bool) -> BoxedStrategy<AttrPath> {
    if in_value_path {
        return attr_name().prop_map(AttrPath::new).boxed();
    }
    (
        prop::option::of(prop_oneof![
            Just("urn:ietf:params:scim:schemas:core:2.0:User".to_owned()),
            Just("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User".to_owned()),
            "urn:[a-z]{1,5}:[a-zA-Z0-9.]{1,6}",
        ]),
        attr_name(),
        prop::option::of(attr_name()),
    )
        .prop_map(|(uri, name, sub)| {
            let mut p = AttrPath::new(name);
            p.uri = uri;
            p.sub_attr = sub;
            p
        })
        .boxed()
}

fn comp_value() -> impl Strategy<Value = CompValue> {
    prop_oneof![
        Just(CompValue::Null),
        any::<bool>().prop_map(CompValue::Bool),
        any::<i64>().prop_map(|i| CompValue::Number(i.into())),
        (-1.0e12f64..1.0e12)
            .prop_map(|f| CompValue::Number(serde_json::Number::from_f64(f).expect("finite"))),
        any::<String>().prop_map(CompValue::String),
    ]
}

fn op() -> impl Strategy<Value = CompareOp> {
    prop::sample::select(CompareOp::ALL.to_vec())
}

fn atom(in_value_path: bool) -> BoxedStrategy<Filter> {
    prop_oneof![
        attr_path(in_value_path).prop_map(Filter::present),
        (attr_path(in_value_path), op(), comp_value())
            .prop_map(|(p, o, v)| Filter::compare(p, o, v)),
    ]
    .boxed()
}

/// Trees as the parser builds them: `and`/`or` flattened (an `and` never directly holds an
/// `and`), value paths only at top level on paths without sub-attribute.
fn tree(in_value_path: bool) -> BoxedStrategy<Filter> {
    let leaf = if in_value_path {
        atom(true)
    } else {
        prop_oneof![
            3 => atom(false),
            1 => (attr_path(true), tree(true)).prop_map(|(p, f)| Filter::value_path(p, f)),
        ]
        .boxed()
    };
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| v.into_iter().reduce(Filter::and).expect("non-empty")),
            prop::collection::vec(inner.clone(), 2..4)
                .prop_map(|v| v.into_iter().reduce(Filter::or).expect("non-empty")),
            inner.prop_map(Filter::negate),
        ]
    })
    .boxed()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn display_round_trips(ast in tree(false)) {
        let text = ast.to_string();
        let parsed = parse_filter(&text).map_err(|e| TestCaseError::fail(format!("{text}: {e}")))?;
        prop_assert_eq!(&parsed, &ast, "{}", text);
        // Canonical text is a fixed point.
        prop_assert_eq!(parsed.to_string(), text);
    }

    #[test]
    fn random_strings_never_panic(s in any::<String>()) {
        let _ = parse_filter(&s);
        let _ = parse_patch_path(&s);
        let _ = parse_attribute_list(&s);
    }

    #[test]
    fn filter_like_strings_never_panic(s in r#"[a-zA-Z .:\[\]()"\\0-9$_-]{0,60}"#) {
        if let Ok(f) = parse_filter(&s) {
            // Whatever parses can be printed, re-parsed, validated and translated without panics.
            let again = parse_filter(&f.to_string());
            prop_assert!(again.is_ok(), "{} -> {}", s, f);
            let schema = Schema::user();
            let _ = matches(&f, &serde_json::json!({"userName": "x", "emails": [{"value": "y"}]}), &schema);
            let _ = sql::to_sql(&f, &schema, &sql::WideTable::new("users"), sql::Dialect::Postgres);
            let _ = ldap::to_ldap(&f, &schema, &ldap::LdapMap::inet_org_person());
        }
        let _ = parse_patch_path(&s);
    }

    #[test]
    fn mutated_valid_filters_never_panic(pos in 0usize..120, byte in any::<u8>()) {
        let base = r#"userName eq "bjensen" and (emails[type eq "work" and value co "@example.com"] or meta.lastModified ge "2011-05-13T04:42:34Z")"#;
        let mut bytes = base.as_bytes().to_vec();
        let pos = pos % bytes.len();
        bytes[pos] = byte;
        if let Ok(s) = String::from_utf8(bytes) {
            if let Ok(f) = parse_filter(&s) {
                let _ = matches(&f, &serde_json::json!({}), &Schema::user());
            }
        }
    }
}
