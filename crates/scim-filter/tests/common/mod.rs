//! Shared fixtures for the differential tests: seeded users and a filter corpus.
#![allow(dead_code, unreachable_pub)]

use idforge_scim_filter::{Instant, ENTERPRISE_USER_SCHEMA};
use serde_json::{json, Value};

/// A tiny deterministic generator (no external RNG needed for fixtures).
pub struct Lcg(u64);

impl Lcg {
    pub fn new(seed: u64) -> Self {
        Lcg(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        self.0 >> 33
    }
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

const GIVEN: &[&str] = &[
    "Barbara", "John", "alice", "Bob", "carol", "Dave", "Eve", "frank", "Grace", "heidi",
];
const FAMILY: &[&str] = &[
    "Jensen", "Smith", "O'Malley", "doe", "Brown", "Nguyen", "Miller", "Garcia", "lee", "Clark",
];
const TITLES: &[&str] = &[
    "Tour Guide",
    "Engineer",
    "Manager",
    "engineer",
    "Intern",
    "Director (Ops)",
    "VP*Sales",
];
const TYPES: &[&str] = &["Employee", "Intern", "Contractor", "employee"];
const LOCALES: &[&str] = &["en-US", "en-GB", "fr-FR", "de-DE"];
const DOMAINS: &[&str] = &[
    "example.com",
    "example.org",
    "Example.COM",
    "foo.com",
    "jensen.org",
];
const SPECIAL_USERNAMES: &[&str] = &[
    "o'malley",
    "100%_sure",
    "bang!user",
    "star*user",
    "paren(user)",
    "back\\slash",
    "under_score",
    "percent%",
    "quote\"user",
];

/// At least 50 users with every attribute the corpus touches, some missing, multi-valued emails
/// (0 to 3), dateTimes with various offsets. No empty strings and no repeated or edge spaces:
/// LDAP cannot store "" and ignores insignificant spaces (RFC 4518 §2.6.1), so such data would
/// test LDAP's string preparation, not the translation.
pub fn users() -> Vec<Value> {
    let mut r = Lcg::new(7644);
    let mut out = Vec::new();
    for i in 0..64usize {
        let given = *r.pick(GIVEN);
        let family = *r.pick(FAMILY);
        let user_name = if i < SPECIAL_USERNAMES.len() {
            SPECIAL_USERNAMES[i].to_owned()
        } else if i % 3 == 0 {
            format!("User{i:02}")
        } else {
            format!("user{i:02}")
        };
        let mut u = json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "id": format!("{}", i + 1),
            "userName": user_name,
            "name": {"givenName": given, "familyName": family},
            "displayName": format!("{given} {family}"),
        });
        let o = u.as_object_mut().expect("object");
        if r.below(4) != 0 {
            o.insert("title".into(), json!(r.pick(TITLES)));
        }
        if r.below(5) != 0 {
            o.insert("userType".into(), json!(r.pick(TYPES)));
        }
        if r.below(3) != 0 {
            o.insert("locale".into(), json!(r.pick(LOCALES)));
        }
        if r.below(6) != 0 {
            o.insert("active".into(), json!(r.below(2) == 0));
        }
        if r.below(4) != 0 {
            o.insert(
                "externalId".into(),
                json!(format!("{}X{}", ["ext", "EXT", "Ext"][i % 3], i % 17)),
            );
        }
        if r.below(3) != 0 {
            o.insert(
                "nickName".into(),
                json!(format!("{}{}", &given[..2], i % 5)),
            );
        }
        let n_emails = r.below(4);
        let mut emails = Vec::new();
        for k in 0..n_emails {
            let ty = *r.pick(&["work", "home", "other", "Work"]);
            let dom = *r.pick(DOMAINS);
            let mut e = json!({"value": format!("{}{}@{dom}", given.to_lowercase(), if k == 0 { String::new() } else { k.to_string() }), "type": ty});
            if k == 0 && r.below(2) == 0 {
                e["primary"] = json!(true);
            }
            emails.push(e);
        }
        if !emails.is_empty() {
            o.insert("emails".into(), Value::Array(emails));
        }
        // Instants between 2010 and 2013, written with a mix of offsets and fractions.
        let secs = 1_262_304_000 + (r.next() % 100_000_000) as i64;
        let secs = if i % 10 == 0 { 1_305_261_754 } else { secs }; // 2011-05-13T04:42:34Z
        let created = secs - (r.next() % 10_000_000) as i64;
        o.insert(
            "meta".into(),
            json!({
                "resourceType": "User",
                "created": write_instant(created, i % 3),
                "lastModified": write_instant(secs, i % 4),
            }),
        );
        if r.below(3) != 0 {
            o.insert(
                ENTERPRISE_USER_SCHEMA.into(),
                json!({"employeeNumber": format!("{}", 700_000 + r.below(5000)), "department": r.pick(&["Tour Operations", "R&D", "Sales"])}),
            );
        }
        out.push(u);
    }
    out
}

fn write_instant(secs: i64, style: usize) -> String {
    let t = Instant {
        seconds: secs,
        nanos: 0,
    };
    match style {
        0 => t.format_utc(0),
        1 => t.format_utc(3),
        2 => {
            // Same instant written at +02:00.
            let local = Instant {
                seconds: secs + 7200,
                nanos: 0,
            }
            .format_utc(0);
            format!("{}+02:00", &local[..19])
        }
        _ => {
            let local = Instant {
                seconds: secs - 5 * 3600,
                nanos: 0,
            }
            .format_utc(0);
            format!("{}-05:00", &local[..19])
        }
    }
}

fn q(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

/// The filter corpus: every operator on every attribute kind, boundary values taken from the
/// data, special characters for LIKE/LDAP escaping, and random `and`/`or`/`not` combinations and
/// value paths.
pub fn corpus(users: &[Value]) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let ops = ["eq", "ne", "co", "sw", "ew", "gt", "ge", "lt", "le"];
    let strings: Vec<(&str, Vec<String>)> = vec![
        (
            "userName",
            vec![
                "user10".into(),
                "USER12".into(),
                "user".into(),
                "o'malley".into(),
                "%".into(),
                "_".into(),
                "!".into(),
                "*".into(),
                "(".into(),
                "\\".into(),
                "\"".into(),
                "s".into(),
            ],
        ),
        (
            "name.familyName",
            vec![
                "jensen".into(),
                "O'".into(),
                "ll".into(),
                "Smith".into(),
                "m".into(),
            ],
        ),
        (
            "name.givenName",
            vec!["barbara".into(), "A".into(), "e".into()],
        ),
        (
            "displayName",
            vec!["Barbara Jensen".into(), "a J".into(), "bob".into()],
        ),
        (
            "title",
            vec![
                "engineer".into(),
                "(Ops)".into(),
                "*".into(),
                "Tour".into(),
                "man".into(),
            ],
        ),
        (
            "userType",
            vec!["employee".into(), "Intern".into(), "con".into()],
        ),
        (
            "externalId",
            vec![
                "ext".into(),
                "EXT".into(),
                "extX3".into(),
                "ExtX1".into(),
                "X1".into(),
            ],
        ),
        ("locale", vec!["en".into(), "en-us".into(), "FR-FR".into()]),
        (
            "urn:ietf:params:scim:schemas:core:2.0:User:userName",
            vec!["user2".into(), "User".into()],
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            vec!["701".into(), "702500".into(), "9".into()],
        ),
        (
            "emails.value",
            vec![
                "example.com".into(),
                "alice@".into(),
                "EXAMPLE.org".into(),
                ".com".into(),
                "bob@foo.com".into(),
            ],
        ),
        ("emails", vec!["example.com".into(), "jensen.org".into()]),
        ("emails.type", vec!["work".into(), "HOME".into()]),
    ];
    for (attr, values) in &strings {
        for (i, v) in values.iter().enumerate() {
            // Every operator for the first two values, a rotating pair for the rest.
            let chosen: Vec<&str> = if i < 2 {
                ops.to_vec()
            } else {
                vec![ops[i % 9], ops[(i + 4) % 9]]
            };
            for op in chosen {
                out.push(format!("{attr} {op} {}", q(v)));
            }
        }
        out.push(format!("{attr} pr"));
    }
    // Values taken from the data, to hit exact boundaries.
    for u in users.iter().step_by(7) {
        let name = u["userName"].as_str().unwrap_or("x");
        out.push(format!("userName eq {}", q(&name.to_uppercase())));
        out.push(format!("userName ge {}", q(name)));
        out.push(format!("userName lt {}", q(name)));
        let lm = u["meta"]["lastModified"]
            .as_str()
            .unwrap_or("2011-01-01T00:00:00Z");
        for op in ["eq", "gt", "ge", "lt", "le", "ne"] {
            out.push(format!("meta.lastModified {op} {}", q(lm)));
        }
    }
    for t in [
        "2011-05-13T04:42:34Z",
        "2011-05-13T06:42:34+02:00",
        "2012-01-01T00:00:00.5Z",
        "2010-06-30T23:59:59-05:00",
    ] {
        for op in ["gt", "ge", "lt", "le", "eq"] {
            out.push(format!("meta.created {op} {}", q(t)));
        }
    }
    out.extend(
        [
            "active eq true",
            "active eq false",
            "active ne true",
            "active pr",
            "active eq null",
            "title eq null",
            "title ne null",
            "not (title pr)",
            "not (active eq true)",
            "meta.lastModified pr",
            "name pr",
            "emails pr",
            "emails.primary eq true",
            r#"emails[type eq "work"]"#,
            r#"emails[type eq "work" and value co "@example.com"]"#,
            r#"emails[type eq "work" or value co "@example.org"]"#,
            r#"emails[value co "example" and not (type eq "home")]"#,
            r#"emails[primary eq true and type eq "work"]"#,
            r#"emails[value ew ".com"]"#,
            r#"emails[value sw "a" or value sw "b"]"#,
            r#"name[givenName eq "barbara" and familyName pr]"#,
            r#"userType eq "Employee" and (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
            r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
            r#"title pr and userType eq "Employee""#,
            r#"title pr or userType eq "Intern""#,
            r#"userName eq "bjensen" and (emails[type eq "work" and value co "@example.com"] or meta.lastModified ge "2011-05-13T04:42:34Z")"#,
            r#"schemas eq "urn:ietf:params:scim:schemas:core:2.0:User""#,
            r#"department eq "R&D""#,
            r#"not (not (userName sw "user"))"#,
        ]
        .map(String::from),
    );
    // Random combinations of the atoms above.
    let atoms: Vec<String> = out.clone();
    let mut r = Lcg::new(3442);
    for _ in 0..60 {
        let a = r.pick(&atoms).clone();
        let b = r.pick(&atoms).clone();
        let c = r.pick(&atoms).clone();
        let f = match r.below(5) {
            0 => format!("{a} and {b}"),
            1 => format!("{a} or {b} and {c}"),
            2 => format!("not ({a} or {b})"),
            3 => format!("({a} or {b}) and not ({c})"),
            _ => format!("{a} and ({b} or not ({c}))"),
        };
        out.push(f);
    }
    out
}

/// Handles an absent peer: prints why the test is skipped, or fails under
/// `IDFORGE_INTEROP=require` (CI), where nothing may be skipped.
pub fn skip_or_fail(reason: &str) {
    if std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require") {
        panic!("IDFORGE_INTEROP=require but {reason}");
    }
    println!("SKIPPED: {reason}");
    eprintln!("SKIPPED: {reason}");
}

/// Reads a dotted path (`name.givenName`, or `urn:...:employeeNumber` for the extension).
pub fn get<'v>(u: &'v Value, path: &str) -> Option<&'v Value> {
    if let Some(rest) = path.strip_prefix(&format!("{ENTERPRISE_USER_SCHEMA}:")) {
        return u.get(ENTERPRISE_USER_SCHEMA)?.get(rest);
    }
    let mut cur = u;
    for part in path.split('.') {
        cur = cur.get(part)?;
    }
    Some(cur)
}

/// `'text'` with quotes doubled: valid in SQLite and PostgreSQL (standard_conforming_strings).
pub fn sql_lit(s: &str) -> String {
    format!("'{}'", s.replace('\'', "''"))
}

pub fn norm_time(s: &str) -> String {
    Instant::parse(s).expect("seed dateTime").format_utc(6)
}

/// Single-valued attribute columns of the wide `users` table: (SCIM path, column, kind).
pub const WIDE_COLUMNS: &[(&str, &str, &str)] = &[
    ("userName", "userName", "text"),
    ("name.formatted", "name_formatted", "text"),
    ("name.givenName", "name_givenName", "text"),
    ("name.familyName", "name_familyName", "text"),
    ("name.middleName", "name_middleName", "text"),
    ("name.honorificPrefix", "name_honorificPrefix", "text"),
    ("name.honorificSuffix", "name_honorificSuffix", "text"),
    ("displayName", "displayName", "text"),
    ("nickName", "nickName", "text"),
    ("title", "title", "text"),
    ("userType", "userType", "text"),
    ("locale", "locale", "text"),
    ("externalId", "externalId", "text"),
    ("active", "active", "bool"),
    ("meta.resourceType", "meta_resourceType", "text"),
    ("meta.created", "meta_created", "time"),
    ("meta.lastModified", "meta_lastModified", "time"),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
        "employeeNumber",
        "text",
    ),
    (
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
        "department",
        "text",
    ),
];

fn literal(v: Option<&Value>, kind: &str) -> String {
    match v {
        None | Some(Value::Null) => "NULL".into(),
        Some(Value::Bool(b)) => {
            if kind == "eavtext" {
                sql_lit(&b.to_string())
            } else {
                (*b as i32).to_string()
            }
        }
        Some(Value::String(s)) if kind == "time" => sql_lit(&norm_time(s)),
        Some(Value::String(s)) => sql_lit(s),
        Some(other) => sql_lit(&other.to_string()),
    }
}

/// DDL and INSERTs for the wide layout: `users` plus child tables `user_emails` and
/// `user_schemas` for the multi-valued attributes.
pub fn wide_statements(users: &[Value], postgres: bool) -> Vec<String> {
    let ty = |kind: &str| match (kind, postgres) {
        ("bool", _) => "INTEGER",
        ("time", true) => "TIMESTAMPTZ",
        _ => "TEXT",
    };
    let cols: Vec<String> = WIDE_COLUMNS
        .iter()
        .map(|(_, c, k)| format!("\"{c}\" {}", ty(k)))
        .collect();
    let mut out = vec![
        format!("CREATE TABLE users (id INTEGER PRIMARY KEY, {})", cols.join(", ")),
        "CREATE TABLE user_emails (user_id INTEGER NOT NULL, value TEXT, display TEXT, type TEXT, \"primary\" INTEGER)".into(),
        "CREATE TABLE user_schemas (user_id INTEGER NOT NULL, value TEXT)".into(),
    ];
    for u in users {
        let id = u["id"].as_str().expect("id");
        let vals: Vec<String> = WIDE_COLUMNS
            .iter()
            .map(|(p, _, k)| literal(get(u, p), k))
            .collect();
        let names: Vec<String> = WIDE_COLUMNS
            .iter()
            .map(|(_, c, _)| format!("\"{c}\""))
            .collect();
        out.push(format!(
            "INSERT INTO users (id, {}) VALUES ({id}, {})",
            names.join(", "),
            vals.join(", ")
        ));
        for e in u
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(format!(
                "INSERT INTO user_emails (user_id, value, display, type, \"primary\") VALUES ({id}, {}, {}, {}, {})",
                literal(e.get("value"), "text"),
                literal(e.get("display"), "text"),
                literal(e.get("type"), "text"),
                literal(e.get("primary"), "bool"),
            ));
        }
        for s in u
            .get("schemas")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            out.push(format!(
                "INSERT INTO user_schemas (user_id, value) VALUES ({id}, {})",
                literal(Some(s), "text")
            ));
        }
    }
    out
}

pub fn wide_map() -> idforge_scim_filter::sql::WideTable {
    idforge_scim_filter::sql::WideTable::new("users")
        .with_child_table("emails", "user_emails", "user_id")
        .with_child_table("schemas", "user_schemas", "user_id")
}

/// DDL and INSERTs for the EAV layout: `users(id)` and `user_attrs(user_id, name, value, elem)`.
pub fn eav_statements(users: &[Value]) -> Vec<String> {
    let mut out = vec![
        "CREATE TABLE users (id INTEGER PRIMARY KEY)".to_owned(),
        "CREATE TABLE user_attrs (user_id INTEGER NOT NULL, name VARCHAR(200) NOT NULL, value TEXT, elem INTEGER)".to_owned(),
        "CREATE INDEX user_attrs_by_owner ON user_attrs (user_id, name)".to_owned(),
    ];
    for u in users {
        let id = u["id"].as_str().expect("id");
        out.push(format!("INSERT INTO users (id) VALUES ({id})"));
        let mut row = |name: &str, v: Option<&Value>, kind: &str, elem: Option<usize>| {
            if v.is_some_and(|v| !v.is_null()) {
                out.push(format!(
                    "INSERT INTO user_attrs (user_id, name, value, elem) VALUES ({id}, {}, {}, {})",
                    sql_lit(name),
                    literal(v, kind),
                    elem.map_or("NULL".to_owned(), |e| e.to_string())
                ));
            }
        };
        for (p, _, k) in WIDE_COLUMNS {
            let kind = if *k == "bool" { "eavtext" } else { k };
            row(p, get(u, p), kind, None);
        }
        for (i, e) in u
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            row("emails.value", e.get("value"), "text", Some(i));
            row("emails.type", e.get("type"), "text", Some(i));
            row("emails.primary", e.get("primary"), "eavtext", Some(i));
        }
        for (i, s) in u
            .get("schemas")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .enumerate()
        {
            row("schemas", Some(s), "text", Some(i));
        }
    }
    out
}

pub fn eav_map() -> idforge_scim_filter::sql::EavTable {
    idforge_scim_filter::sql::EavTable {
        main_table: "users".into(),
        key_column: "id".into(),
        table: "user_attrs".into(),
        owner_column: "user_id".into(),
        name_column: "name".into(),
        value_column: "value".into(),
        element_column: Some("elem".into()),
    }
}

/// The ids of the users `matches` accepts.
pub fn expected_ids(filter: &idforge_scim_filter::Filter, users: &[Value]) -> Vec<i64> {
    let schema = idforge_scim_filter::Schema::user();
    users
        .iter()
        .filter(|u| {
            idforge_scim_filter::matches(filter, u, &schema).expect("corpus filters evaluate")
        })
        .map(|u| {
            u["id"]
                .as_str()
                .and_then(|s| s.parse().ok())
                .expect("numeric id")
        })
        .collect()
}
