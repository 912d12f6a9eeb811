//! Translating filters to LDAP search filters (RFC 4515 string representation).
//!
//! | SCIM (RFC 7644 §3.4.2.2) | LDAP (RFC 4515 §3, RFC 4511 §4.5.1.7) |
//! |---|---|
//! | `a eq v` | `(a=v)` |
//! | `a ne v` | `(&(a=*)(!(a=v)))` (single-valued only) |
//! | `a co v`, `sw`, `ew` | `(a=*v*)`, `(a=v*)`, `(a=*v)` |
//! | `a pr` | `(a=*)` |
//! | `a ge v`, `le` | `(a>=v)`, `(a<=v)` |
//! | `a gt v`, `lt` | `(&(a>=v)(!(a=v)))`, `(&(a<=v)(!(a=v)))` (single-valued only) |
//! | `and`, `or`, `not` | `(&…)`, `(|…)`, `(!…)` |
//! | `a eq null`, `ne null` | `(!(a=*))`, `(a=*)` |
//!
//! `ne` carries a presence guard so that an entry without the attribute does not match, exactly as
//! in [`crate::matches()`] and the SQL translation (a comparison needs a value). LDAP evaluates an
//! assertion over a multi-valued attribute as "some value matches", which is the SCIM rule too; but
//! `ne`, `gt` and `lt` are built from a negation, which over several values means "no value
//! equals": those are refused on multi-valued attributes, as are value paths that need two
//! sub-attributes of the same element (LDAP has no per-element correlation).
//!
//! Case sensitivity is the LDAP attribute's matching rule: map case-insensitive SCIM attributes to
//! attributes with `caseIgnore*` rules and `caseExact` ones to `caseExact*` rules.

use crate::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::error::{Context, Error};
use crate::schema::{check_compare, AttrType, Resolved, Schema, Typed};

/// How an LDAP attribute's values are written in assertions (RFC 4517 syntaxes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LdapSyntax {
    /// Directory String (RFC 4517 §3.3.6) and other string syntaxes.
    DirectoryString,
    /// INTEGER (RFC 4517 §3.3.16): decimal.
    Integer,
    /// Boolean (RFC 4517 §3.3.3): `TRUE` / `FALSE`.
    Boolean,
    /// GeneralizedTime (RFC 4517 §3.3.13), UTC: `YYYYMMDDHHMMSS[.f]Z`.
    GeneralizedTime,
}

/// One LDAP attribute a SCIM path maps to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LdapAttr {
    /// The LDAP attribute description.
    pub name: String,
    /// Its value syntax.
    pub syntax: LdapSyntax,
    /// Whether it has an ORDERING matching rule (needed by `gt ge lt le`).
    pub ordering: bool,
    /// Whether it has a SUBSTR matching rule (needed by `co sw ew`).
    pub substrings: bool,
}

impl LdapAttr {
    /// A string attribute with equality, ordering and substring rules.
    pub fn string(name: impl Into<String>) -> Self {
        LdapAttr {
            name: name.into(),
            syntax: LdapSyntax::DirectoryString,
            ordering: true,
            substrings: true,
        }
    }

    /// An attribute of the given syntax (ordering as the syntax usually has, substrings only for
    /// strings).
    pub fn new(name: impl Into<String>, syntax: LdapSyntax) -> Self {
        LdapAttr {
            name: name.into(),
            syntax,
            ordering: syntax != LdapSyntax::Boolean,
            substrings: syntax == LdapSyntax::DirectoryString,
        }
    }

    /// Declares whether an ORDERING rule exists.
    pub fn with_ordering(mut self, yes: bool) -> Self {
        self.ordering = yes;
        self
    }
}

/// The attribute-mapping port: which LDAP attribute holds a resolved SCIM (sub-)attribute.
pub trait AttributeMap {
    /// The LDAP attribute, or `None` if the SCIM attribute is not stored in the directory.
    fn ldap_attribute(&self, attr: &Resolved<'_>) -> Option<LdapAttr>;
}

/// A table-driven [`AttributeMap`] keyed by dotted SCIM paths (`name.familyName`,
/// `emails.value`), case-insensitive.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LdapMap {
    entries: Vec<(String, LdapAttr)>,
}

impl LdapMap {
    /// An empty map.
    pub fn new() -> Self {
        LdapMap::default()
    }

    /// Maps a dotted SCIM path to an LDAP attribute.
    pub fn with(mut self, scim_path: &str, attr: LdapAttr) -> Self {
        self.entries.push((scim_path.to_owned(), attr));
        self
    }

    /// The usual `inetOrgPerson` (RFC 2798) mapping for the User schema. `uid`, `mail` and the
    /// name attributes have no ORDERING rule in OpenLDAP, so `gt/ge/lt/le` on them are refused.
    pub fn inet_org_person() -> Self {
        let s = |n: &str| LdapAttr::string(n).with_ordering(false);
        LdapMap::new()
            .with("userName", s("uid"))
            .with("name.familyName", s("sn"))
            .with("name.givenName", s("givenName"))
            .with("name.formatted", s("cn"))
            .with("displayName", s("displayName"))
            .with("title", s("title"))
            .with("userType", s("employeeType"))
            .with("preferredLanguage", s("preferredLanguage"))
            .with(
                "emails.value",
                LdapAttr::string("mail").with_ordering(false),
            )
            .with("phoneNumbers.value", s("telephoneNumber"))
            .with("employeeNumber", s("employeeNumber"))
            .with("department", s("departmentNumber"))
            .with("organization", s("o"))
            .with("externalId", s("employeeNumber"))
            .with(
                "meta.created",
                LdapAttr::new("createTimestamp", LdapSyntax::GeneralizedTime),
            )
            .with(
                "meta.lastModified",
                LdapAttr::new("modifyTimestamp", LdapSyntax::GeneralizedTime),
            )
    }
}

impl AttributeMap for LdapMap {
    fn ldap_attribute(&self, r: &Resolved<'_>) -> Option<LdapAttr> {
        let key = r.dotted_name();
        self.entries
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(&key))
            .map(|(_, a)| a.clone())
    }
}

/// Escapes an assertion value (RFC 4515 §3: `*`, `(`, `)`, `\` and NUL as `\XX`).
pub fn escape_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '*' => out.push_str("\\2a"),
            '(' => out.push_str("\\28"),
            ')' => out.push_str("\\29"),
            '\\' => out.push_str("\\5c"),
            '\0' => out.push_str("\\00"),
            c => out.push(c),
        }
    }
    out
}

/// Translates a filter to an RFC 4515 filter string (after validating it against `schema`).
///
/// ```
/// use idforge_scim_filter::{ldap, parse_filter, Schema};
/// let f = parse_filter(r#"userName sw "J*" and not (title pr)"#)?;
/// let s = ldap::to_ldap(&f, &Schema::user(), &ldap::LdapMap::inet_org_person())?;
/// assert_eq!(s, r"(&(uid=J\2a*)(!(title=*)))");
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn to_ldap(filter: &Filter, schema: &Schema, map: &dyn AttributeMap) -> Result<String, Error> {
    schema.validate(filter)?;
    let g = Gen { schema, map };
    g.filter(filter, None)
}

struct Gen<'a> {
    schema: &'a Schema,
    map: &'a dyn AttributeMap,
}

fn unsupported(path: &AttrPath, detail: String) -> Error {
    Error::Unsupported {
        context: Context::Filter,
        offset: path.span.start,
        target: "LDAP",
        detail,
    }
}

impl<'a> Gen<'a> {
    fn filter(&self, f: &Filter, scope: Option<Resolved<'a>>) -> Result<String, Error> {
        match f {
            Filter::And(items, _) | Filter::Or(items, _) => {
                let mut s = String::from(if matches!(f, Filter::And(..)) {
                    "(&"
                } else {
                    "(|"
                });
                for i in items {
                    s.push_str(&self.filter(i, scope)?);
                }
                s.push(')');
                Ok(s)
            }
            Filter::Not(inner, _) => Ok(format!("(!{})", self.filter(inner, scope)?)),
            Filter::Present { path, .. } => {
                let r = self.schema.target(path, scope, Context::Filter)?;
                self.present(path, &r)
            }
            Filter::Compare {
                path, op, value, ..
            } => {
                let r = self.schema.target(path, scope, Context::Filter)?;
                self.compare(path, &r, *op, value)
            }
            Filter::ValuePath { path, filter, .. } => {
                let parent = self.schema.value_path_scope(path, Context::Filter)?;
                if parent.attr.multi_valued && !is_disjunction_of_atoms(filter) {
                    return Err(unsupported(
                        path,
                        format!("a value path on multi-valued \"{path}\" that correlates conditions within one element (only a single comparison or an \"or\" of comparisons)"),
                    ));
                }
                // ∃e (A(e) ∨ B(e)) ≡ ∃e A(e) ∨ ∃e B(e): each comparison can stand alone.
                self.filter(filter, Some(parent))
            }
        }
    }

    fn attr(&self, path: &AttrPath, r: &Resolved<'_>) -> Result<LdapAttr, Error> {
        self.map.ldap_attribute(r).ok_or_else(|| {
            unsupported(
                path,
                format!("attribute \"{path}\", which has no LDAP mapping"),
            )
        })
    }

    fn present(&self, path: &AttrPath, r: &Resolved<'a>) -> Result<String, Error> {
        let leaf = r.leaf();
        if leaf.ty == AttrType::Complex {
            let mut parts = Vec::new();
            for s in &leaf.sub_attributes {
                let sr = Resolved { sub: Some(s), ..*r };
                if let Some(a) = self.map.ldap_attribute(&sr) {
                    parts.push(format!("({}=*)", a.name));
                }
            }
            return match parts.len() {
                0 => Err(unsupported(
                    path,
                    format!("\"{path} pr\": no sub-attribute is mapped"),
                )),
                1 => Ok(parts.remove(0)),
                _ => Ok(format!("(|{})", parts.concat())),
            };
        }
        let a = self.attr(path, r)?;
        Ok(format!("({}=*)", a.name))
    }

    fn compare(
        &self,
        path: &AttrPath,
        r: &Resolved<'a>,
        op: CompareOp,
        value: &CompValue,
    ) -> Result<String, Error> {
        let c = check_compare(r, path, op, value, Context::Filter)?;
        if c.value == Typed::Null {
            let p = self.present(path, &c.target)?;
            return Ok(if op == CompareOp::Eq {
                format!("(!{p})")
            } else {
                p
            });
        }
        let a = self.attr(path, &c.target)?;
        let multi = c.target.is_multi_valued();
        let v = match (&c.value, a.syntax) {
            (Typed::Text(s), LdapSyntax::DirectoryString) => escape_value(s),
            (Typed::Bool(b), LdapSyntax::Boolean) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
            (Typed::Number(n), LdapSyntax::Integer) if n.fract() == 0.0 => format!("{n:.0}"),
            (Typed::Time(t), LdapSyntax::GeneralizedTime) => t.format_generalized_time(),
            (Typed::Time(t), LdapSyntax::DirectoryString) => escape_value(&t.format_utc(0)),
            _ => {
                return Err(unsupported(
                    path,
                    format!(
                        "this value for \"{path}\" in the syntax of LDAP attribute {}",
                        a.name
                    ),
                ));
            }
        };
        let n = &a.name;
        if op.is_ordering() && !a.ordering {
            return Err(unsupported(
                path,
                format!(
                    "\"{}\" on LDAP attribute {n}, which has no ORDERING matching rule",
                    op.as_str()
                ),
            ));
        }
        if op.is_substring() && !a.substrings {
            return Err(unsupported(
                path,
                format!(
                    "\"{}\" on LDAP attribute {n}, which has no SUBSTR matching rule",
                    op.as_str()
                ),
            ));
        }
        if multi && matches!(op, CompareOp::Ne | CompareOp::Gt | CompareOp::Lt) {
            return Err(unsupported(path, format!("\"{}\" on multi-valued \"{path}\" (LDAP negation means no value matches, SCIM means some value differs)", op.as_str())));
        }
        Ok(match op {
            CompareOp::Eq => format!("({n}={v})"),
            CompareOp::Ne => format!("(&({n}=*)(!({n}={v})))"),
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew if v.is_empty() => format!("({n}=*)"),
            CompareOp::Co => format!("({n}=*{v}*)"),
            CompareOp::Sw => format!("({n}={v}*)"),
            CompareOp::Ew => format!("({n}=*{v})"),
            CompareOp::Ge => format!("({n}>={v})"),
            CompareOp::Le => format!("({n}<={v})"),
            CompareOp::Gt => format!("(&({n}>={v})(!({n}={v})))"),
            CompareOp::Lt => format!("(&({n}<={v})(!({n}={v})))"),
        })
    }
}

fn is_disjunction_of_atoms(f: &Filter) -> bool {
    match f {
        Filter::Present { .. } | Filter::Compare { .. } => true,
        Filter::Or(items, _) => items.iter().all(is_disjunction_of_atoms),
        _ => false,
    }
}
