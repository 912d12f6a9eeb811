//! Differential test against a real OpenLDAP `slapd` (started by `.ci/scim-filter.sh`, which
//! exports `IDFORGE_LDAP_URL` and friends and loads `tests/ldap/idforge-scim.schema`): the seeded
//! users are written to the directory, and for every corpus filter the LDAP translation accepts,
//! the entries `ldapsearch` returns are exactly the users `matches` accepts. Filters LDAP cannot
//! express must be refused with `Error::Unsupported`, never translated wrongly.

mod common;

use std::collections::BTreeSet;
use std::io::Write as _;
use std::process::{Command, Stdio};

use idforge_scim_filter::ldap::{to_ldap, LdapAttr, LdapMap, LdapSyntax};
use idforge_scim_filter::{parse_filter, Error, Instant, Schema};
use serde_json::Value;

fn map() -> LdapMap {
    let s = LdapAttr::string;
    LdapMap::new()
        .with("userName", s("scimUserName"))
        .with("name.givenName", s("scimGivenName"))
        .with("name.familyName", s("scimFamilyName"))
        .with("displayName", s("scimDisplayName"))
        .with("nickName", s("scimNickName"))
        .with("title", s("scimTitle"))
        .with("userType", s("scimUserType"))
        .with("locale", s("scimLocale"))
        .with("externalId", s("scimExternalId"))
        .with("active", LdapAttr::new("scimActive", LdapSyntax::Boolean))
        .with(
            "meta.created",
            LdapAttr::new("scimCreated", LdapSyntax::GeneralizedTime),
        )
        .with(
            "meta.lastModified",
            LdapAttr::new("scimLastModified", LdapSyntax::GeneralizedTime),
        )
        .with("emails.value", s("scimEmail"))
        .with("emails.type", s("scimEmailType"))
        .with("employeeNumber", s("scimEmployeeNumber"))
        .with("department", s("scimDepartment"))
        .with("schemas", s("scimSchema").with_ordering(false))
}

fn b64(data: &[u8]) -> String {
    const T: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in data.chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(T[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// LDIF for the seeded users; every value base64-encoded (RFC 2849) so special characters pass
/// through untouched. Multi-valued values are de-duplicated case-insensitively, as a
/// `caseIgnoreMatch` attribute cannot hold two equal values.
fn ldif(users: &[Value], ou: &str) -> String {
    let mut out = format!("dn: {ou}\nobjectClass: organizationalUnit\nou: scim\n\n");
    let single: &[(&str, &str)] = &[
        ("userName", "scimUserName"),
        ("name.givenName", "scimGivenName"),
        ("name.familyName", "scimFamilyName"),
        ("displayName", "scimDisplayName"),
        ("nickName", "scimNickName"),
        ("title", "scimTitle"),
        ("userType", "scimUserType"),
        ("locale", "scimLocale"),
        ("externalId", "scimExternalId"),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber",
            "scimEmployeeNumber",
        ),
        (
            "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department",
            "scimDepartment",
        ),
    ];
    for u in users {
        let id = u["id"].as_str().expect("id");
        out += &format!("dn: uid=u{id},{ou}\nobjectClass: scimUser\nuid: u{id}\n");
        for (path, attr) in single {
            if let Some(Value::String(s)) = common::get(u, path) {
                out += &format!("{attr}:: {}\n", b64(s.as_bytes()));
            }
        }
        if let Some(Value::Bool(b)) = u.get("active") {
            out += &format!("scimActive: {}\n", if *b { "TRUE" } else { "FALSE" });
        }
        for (path, attr) in [
            ("meta.created", "scimCreated"),
            ("meta.lastModified", "scimLastModified"),
        ] {
            if let Some(Value::String(s)) = common::get(u, path) {
                let t = Instant::parse(s).expect("seed time");
                out += &format!("{attr}: {}\n", t.format_generalized_time());
            }
        }
        let mut multi = |attr: &str, values: Vec<&str>| {
            let mut seen = BTreeSet::new();
            for v in values {
                if seen.insert(v.to_lowercase()) {
                    out += &format!("{attr}:: {}\n", b64(v.as_bytes()));
                }
            }
        };
        let emails: Vec<&Value> = u
            .get("emails")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .collect();
        multi(
            "scimEmail",
            emails
                .iter()
                .filter_map(|e| e.get("value")?.as_str())
                .collect(),
        );
        multi(
            "scimEmailType",
            emails
                .iter()
                .filter_map(|e| e.get("type")?.as_str())
                .collect(),
        );
        let schemas: Vec<&str> = u
            .get("schemas")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        multi("scimSchema", schemas);
        out.push('\n');
    }
    out
}

struct Ldap {
    url: String,
    base: String,
    bind_dn: String,
    bind_pw: String,
}

impl Ldap {
    fn from_env() -> Option<Ldap> {
        let get = |k: &str| std::env::var(k).ok().filter(|v| !v.is_empty());
        match (
            get("IDFORGE_LDAP_URL"),
            get("IDFORGE_LDAP_BASE"),
            get("IDFORGE_LDAP_BIND_DN"),
            get("IDFORGE_LDAP_BIND_PW"),
        ) {
            (Some(url), Some(base), Some(bind_dn), Some(bind_pw)) => Some(Ldap {
                url,
                base,
                bind_dn,
                bind_pw,
            }),
            _ => {
                common::skip_or_fail("IDFORGE_LDAP_URL/BASE/BIND_DN/BIND_PW are not set (source .ci/scim-filter.sh to start slapd)");
                None
            }
        }
    }

    fn tool(&self, name: &str, extra: &[&str], stdin: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new(name);
        cmd.args([
            "-x",
            "-H",
            &self.url,
            "-D",
            &self.bind_dn,
            "-w",
            &self.bind_pw,
        ])
        .args(extra)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("{name}: {e}"));
        if let Some(input) = stdin {
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(input.as_bytes())
                .expect("write");
        }
        child.wait_with_output().expect("wait")
    }
}

#[test]
fn slapd_agrees_with_matches() {
    let Some(ldap) = Ldap::from_env() else { return };
    let users = common::users();
    let ou = format!("ou=scim,{}", ldap.base);
    // Fresh data: drop the subtree (absent on a first run), then add everything.
    let _ = ldap.tool("ldapdelete", &["-r", &ou], None);
    let out = ldap.tool("ldapadd", &[], Some(&ldif(&users, &ou)));
    assert!(
        out.status.success(),
        "ldapadd: {}",
        String::from_utf8_lossy(&out.stderr)
    );

    let schema = Schema::user();
    let map = map();
    let mut agreed = 0;
    let mut refused = 0;
    for text in common::corpus(&users) {
        let filter = parse_filter(&text).expect("corpus parses");
        let ldap_filter = match to_ldap(&filter, &schema, &map) {
            Ok(f) => f,
            Err(Error::Unsupported { .. }) => {
                refused += 1;
                continue;
            }
            Err(e) => panic!("{text}: unexpected error {e}"),
        };
        let want: BTreeSet<String> = common::expected_ids(&filter, &users)
            .into_iter()
            .map(|id| format!("u{id}"))
            .collect();
        let out = ldap.tool(
            "ldapsearch",
            &[
                "-LLL",
                "-o",
                "ldif-wrap=no",
                "-b",
                &ou,
                "-s",
                "one",
                &ldap_filter,
                "uid",
            ],
            None,
        );
        assert!(
            out.status.success(),
            "{text}: {ldap_filter}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        let got: BTreeSet<String> = String::from_utf8_lossy(&out.stdout)
            .lines()
            .filter_map(|l| l.strip_prefix("uid: "))
            .map(str::to_owned)
            .collect();
        assert_eq!(got, want, "filter {text}\nLDAP {ldap_filter}");
        agreed += 1;
    }
    println!(
        "slapd: {agreed} filters agree over {} users, {refused} refused as inexpressible",
        users.len()
    );
    assert!(
        agreed >= 150,
        "only {agreed} filters were expressible in LDAP"
    );
}

#[test]
fn ldap_translation_shapes_and_escaping() {
    let schema = Schema::user();
    let map = map();
    let t = |f: &str| to_ldap(&parse_filter(f).expect(f), &schema, &map);
    assert_eq!(
        t(r#"userName eq "a*b(c)\\d""#).as_deref(),
        Ok(r"(scimUserName=a\2ab\28c\29\5cd)")
    );
    assert_eq!(
        t("userName eq \"nul\\u0000\"").as_deref(),
        Ok(r"(scimUserName=nul\00)")
    );
    assert_eq!(t(r#"userName co "x""#).as_deref(), Ok("(scimUserName=*x*)"));
    assert_eq!(t(r#"userName sw "x""#).as_deref(), Ok("(scimUserName=x*)"));
    assert_eq!(t(r#"userName ew "x""#).as_deref(), Ok("(scimUserName=*x)"));
    assert_eq!(t("userName pr").as_deref(), Ok("(scimUserName=*)"));
    assert_eq!(
        t(r#"userName ne "x""#).as_deref(),
        Ok("(&(scimUserName=*)(!(scimUserName=x)))")
    );
    assert_eq!(
        t(r#"userName gt "x""#).as_deref(),
        Ok("(&(scimUserName>=x)(!(scimUserName=x)))")
    );
    assert_eq!(
        t(r#"userName lt "x""#).as_deref(),
        Ok("(&(scimUserName<=x)(!(scimUserName=x)))")
    );
    assert_eq!(t(r#"userName ge "x""#).as_deref(), Ok("(scimUserName>=x)"));
    assert_eq!(t(r#"userName le "x""#).as_deref(), Ok("(scimUserName<=x)"));
    assert_eq!(t("active eq true").as_deref(), Ok("(scimActive=TRUE)"));
    assert_eq!(
        t(r#"meta.lastModified ge "2011-05-13T06:42:34+02:00""#).as_deref(),
        Ok("(scimLastModified>=20110513044234Z)")
    );
    assert_eq!(t("title eq null").as_deref(), Ok("(!(scimTitle=*))"));
    assert_eq!(
        t(r#"title pr and (userType eq "a" or not (locale pr))"#).as_deref(),
        Ok("(&(scimTitle=*)(|(scimUserType=a)(!(scimLocale=*))))")
    );
    assert_eq!(
        t(r#"emails co "example.com""#).as_deref(),
        Ok("(scimEmail=*example.com*)")
    );
    for refused in [
        r#"emails.value ne "x""#,
        r#"emails.value gt "x""#,
        r#"emails[type eq "work" and value co "x"]"#,
        r#"emails[not (type eq "work")]"#,
        "emails.primary eq true",
        r#"schemas gt "x""#,
    ] {
        assert!(
            matches!(t(refused), Err(Error::Unsupported { .. })),
            "{refused}: {:?}",
            t(refused)
        );
    }
    // The default inetOrgPerson mapping refuses orderings on attributes without ORDERING rules.
    let iop = LdapMap::inet_org_person();
    let f = parse_filter(r#"userName gt "a""#).expect("valid");
    assert!(matches!(
        to_ldap(&f, &schema, &iop),
        Err(Error::Unsupported { .. })
    ));
    let f = parse_filter(r#"meta.lastModified gt "2011-05-13T04:42:34Z""#).expect("valid");
    assert_eq!(
        to_ldap(&f, &schema, &iop).as_deref(),
        Ok("(&(modifyTimestamp>=20110513044234Z)(!(modifyTimestamp=20110513044234Z)))")
    );
}
