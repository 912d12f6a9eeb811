//! Evaluating a filter against a JSON resource (RFC 7644 §3.4.2.2 semantics).

use std::cmp::Ordering;

use serde_json::Value;

use crate::ast::{CompareOp, Filter};
use crate::datetime::Instant;
use crate::error::{Context, Error};
use crate::schema::{check_compare, AttrType, Resolved, Schema, Typed};

/// Whether `resource` (a SCIM resource as JSON) matches `filter` under `schema`.
///
/// The filter is first validated against the schema (unknown attributes, operators the type does
/// not allow, literals of the wrong type are errors). Then, per RFC 7644 §3.4.2.2:
/// - a multi-valued attribute matches if any of its values matches;
/// - `pr` is false for a missing attribute, `null`, `""`, `[]` and `{}` (no non-empty value);
/// - strings compare case-insensitively unless the attribute is `caseExact` (RFC 7643 §2.3.1);
/// - `dateTime` attributes compare as instants (chronologically);
/// - a comparison is made against the attribute's values, so an absent attribute matches no
///   comparison (`title ne "x"` is false when there is no title, `not (title eq "x")` is true);
/// - `eq null` is true when the attribute has no value, `ne null` when it has one (RFC 7643 §2.5);
/// - a resource value of another type than the schema declares is an error, not `false`.
///
/// ```
/// use idforge_scim_filter::{matches, parse_filter, Schema};
/// let user = serde_json::json!({"userName": "bjensen", "emails": [{"type": "work", "value": "bjensen@example.com"}]});
/// let f = parse_filter(r#"userName eq "BJensen" and emails[type eq "work" and value co "@example.com"]"#)?;
/// assert!(matches(&f, &user, &Schema::user())?);
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn matches(filter: &Filter, resource: &Value, schema: &Schema) -> Result<bool, Error> {
    schema.validate(filter)?;
    eval(filter, resource, schema, None)
}

pub(crate) fn get_ci<'v>(obj: &'v Value, name: &str) -> Option<&'v Value> {
    let map = obj.as_object()?;
    if let Some(v) = map.get(name) {
        return Some(v);
    }
    map.iter()
        .find(|(k, _)| k.eq_ignore_ascii_case(name))
        .map(|(_, v)| v)
}

/// Calls `f` on each value of the path (flattening arrays, skipping nulls) until it returns true.
fn any_value(
    node: &Value,
    target: &Resolved<'_>,
    in_scope: bool,
    f: &mut dyn FnMut(&Value) -> Result<bool, Error>,
) -> Result<bool, Error> {
    let attr_val = if in_scope {
        // Inside a value path `node` is one element of the complex attribute.
        Some(node)
    } else {
        let container = match target.extension {
            Some(ext) => get_ci(node, ext),
            None => Some(node),
        };
        container.and_then(|c| get_ci(c, &target.attr.name))
    };
    let Some(attr_val) = attr_val else {
        return Ok(false);
    };
    let mut leaf = |v: &Value| -> Result<bool, Error> {
        match target.sub {
            None => each(v, f),
            Some(sub) => match get_ci(v, &sub.name) {
                Some(sv) => each(sv, f),
                None => Ok(false),
            },
        }
    };
    if in_scope {
        return leaf(attr_val);
    }
    match attr_val {
        Value::Array(items) => {
            for item in items {
                if leaf(item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        v => leaf(v),
    }
}

fn each(v: &Value, f: &mut dyn FnMut(&Value) -> Result<bool, Error>) -> Result<bool, Error> {
    match v {
        Value::Null => Ok(false),
        Value::Array(items) => {
            for item in items {
                if !item.is_null() && f(item)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        v => f(v),
    }
}

/// RFC 7644 §3.4.2.2 `pr`: "If the attribute has a non-empty value, or if it contains a non-empty
/// node for complex attributes, there is a match."
fn non_empty(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::String(s) => !s.is_empty(),
        Value::Array(items) => items.iter().any(non_empty),
        Value::Object(map) => map.values().any(non_empty),
        Value::Bool(_) | Value::Number(_) => true,
    }
}

pub(crate) fn eval(
    filter: &Filter,
    node: &Value,
    schema: &Schema,
    scope: Option<Resolved<'_>>,
) -> Result<bool, Error> {
    let ctx = Context::Filter;
    match filter {
        Filter::Present { path, .. } => {
            let t = schema.target(path, scope, ctx)?;
            any_value(node, &t, scope.is_some(), &mut |v| Ok(non_empty(v)))
        }
        Filter::Compare {
            path, op, value, ..
        } => {
            let t = schema.target(path, scope, ctx)?;
            let c = check_compare(&t, path, *op, value, ctx)?;
            if c.value == Typed::Null {
                let present =
                    any_value(node, &c.target, scope.is_some(), &mut |v| Ok(non_empty(v)))?;
                return Ok(if *op == CompareOp::Eq {
                    !present
                } else {
                    present
                });
            }
            let leaf = c.target.leaf();
            let offset = path.span.start;
            any_value(node, &c.target, scope.is_some(), &mut |v| {
                compare_value(v, *op, &c.value, leaf.ty, leaf.case_exact).ok_or_else(|| {
                    Error::TypeMismatch {
                        context: ctx,
                        offset,
                        detail: format!(
                            "resource value {} of \"{path}\" is not a valid {}",
                            short(v),
                            leaf.ty.as_str()
                        ),
                    }
                })
            })
        }
        Filter::ValuePath { path, filter, .. } => {
            let parent = schema.value_path_scope(path, ctx)?;
            let container = match parent.extension {
                Some(ext) => get_ci(node, ext),
                None => Some(node),
            };
            let Some(v) = container.and_then(|c| get_ci(c, &parent.attr.name)) else {
                return Ok(false);
            };
            let elems: &[Value] = match v {
                Value::Array(items) => items,
                Value::Null => &[],
                other => std::slice::from_ref(other),
            };
            for e in elems {
                if e.is_object() && eval(filter, e, schema, Some(parent))? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Filter::And(items, _) => {
            for f in items {
                if !eval(f, node, schema, scope)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Filter::Or(items, _) => {
            for f in items {
                if eval(f, node, schema, scope)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Filter::Not(inner, _) => Ok(!eval(inner, node, schema, scope)?),
    }
}

fn short(v: &Value) -> String {
    let mut s = v.to_string();
    if s.len() > 40 {
        let mut end = 40;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}

/// Compares one resource value; `None` when the value does not have the declared type.
fn compare_value(
    v: &Value,
    op: CompareOp,
    lit: &Typed,
    ty: AttrType,
    case_exact: bool,
) -> Option<bool> {
    let ord = match (lit, v) {
        (Typed::Text(l), Value::String(s)) if ty.is_textual() => {
            return Some(text_op(s, l, op, case_exact));
        }
        (Typed::Bool(l), Value::Bool(b)) => b.cmp(l),
        (Typed::Number(l), Value::Number(n)) => n.as_f64()?.partial_cmp(l)?,
        (Typed::Time(l), Value::String(s)) => Instant::parse(s)?.cmp(l),
        _ => return None,
    };
    Some(apply_ordering(op, ord))
}

fn apply_ordering(op: CompareOp, ord: Ordering) -> bool {
    match op {
        CompareOp::Eq => ord == Ordering::Equal,
        CompareOp::Ne => ord != Ordering::Equal,
        CompareOp::Gt => ord == Ordering::Greater,
        CompareOp::Ge => ord != Ordering::Less,
        CompareOp::Lt => ord == Ordering::Less,
        CompareOp::Le => ord != Ordering::Greater,
        // Substring operators are refused on non-text types by `check_compare`.
        CompareOp::Co | CompareOp::Sw | CompareOp::Ew => false,
    }
}

/// Text comparison honouring `caseExact` (RFC 7643 §2.3.1, RFC 7644 §3.4.2.2). Ordering is
/// lexicographic by Unicode code point (RFC 7644 §3.4.2.2: "For string attribute types, this is
/// a lexicographical comparison").
fn text_op(value: &str, lit: &str, op: CompareOp, case_exact: bool) -> bool {
    if !(case_exact || value.is_ascii() && lit.is_ascii()) {
        return text_op(&value.to_lowercase(), &lit.to_lowercase(), op, true);
    }
    let fold = !case_exact;
    let (a, b) = (value.as_bytes(), lit.as_bytes());
    let eq = |x: &[u8], y: &[u8]| {
        if fold {
            x.eq_ignore_ascii_case(y)
        } else {
            x == y
        }
    };
    match op {
        CompareOp::Eq => eq(a, b),
        CompareOp::Ne => !eq(a, b),
        CompareOp::Sw => a.len() >= b.len() && eq(&a[..b.len()], b),
        CompareOp::Ew => a.len() >= b.len() && eq(&a[a.len() - b.len()..], b),
        CompareOp::Co => b.is_empty() || a.windows(b.len()).any(|w| eq(w, b)),
        _ => {
            let ord = if fold {
                a.iter()
                    .map(u8::to_ascii_lowercase)
                    .cmp(b.iter().map(u8::to_ascii_lowercase))
            } else {
                a.cmp(b)
            };
            apply_ordering(op, ord)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_filter;
    use serde_json::json;

    fn m(f: &str, v: &Value) -> Result<bool, Error> {
        matches(&parse_filter(f)?, v, &Schema::user())
    }

    #[test]
    fn multi_valued_any_and_case() {
        let u = json!({"userName": "BJensen", "emails": [{"value": "a@x.org", "type": "home"}, {"value": "b@example.com", "type": "work"}]});
        assert_eq!(m(r#"emails co "example.com""#, &u), Ok(true));
        assert_eq!(m(r#"emails.type eq "WORK""#, &u), Ok(true));
        assert_eq!(
            m(r#"emails[type eq "home" and value co "example.com"]"#, &u),
            Ok(false)
        );
        assert_eq!(m(r#"username eq "bjensen""#, &u), Ok(true));
    }

    #[test]
    fn case_exact_id() {
        let u = json!({"id": "AbC"});
        assert_eq!(m(r#"id eq "abc""#, &u), Ok(false));
        assert_eq!(m(r#"id eq "AbC""#, &u), Ok(true));
    }

    #[test]
    fn presence_rules() {
        let u =
            json!({"title": "", "emails": [], "name": {}, "nickName": null, "displayName": "x"});
        for f in [
            "title pr",
            "emails pr",
            "name pr",
            "nickName pr",
            "locale pr",
        ] {
            assert_eq!(m(f, &u), Ok(false), "{f}");
        }
        assert_eq!(m("displayName pr", &u), Ok(true));
        assert_eq!(m("title eq null", &u), Ok(true));
        assert_eq!(m("displayName ne null", &u), Ok(true));
    }

    #[test]
    fn absent_attribute_matches_no_comparison() {
        let u = json!({"userName": "x"});
        assert_eq!(m(r#"title ne "boss""#, &u), Ok(false));
        assert_eq!(m(r#"not (title eq "boss")"#, &u), Ok(true));
    }

    #[test]
    fn datetime_is_chronological() {
        let u = json!({"meta": {"lastModified": "2011-05-13T06:42:34+02:00"}});
        assert_eq!(
            m(r#"meta.lastModified eq "2011-05-13T04:42:34Z""#, &u),
            Ok(true)
        );
        assert_eq!(
            m(r#"meta.lastModified gt "2011-05-13T04:42:33.9Z""#, &u),
            Ok(true)
        );
    }

    #[test]
    fn type_errors_are_errors() {
        let u = json!({"active": "yes", "userName": 5});
        assert!(matches!(
            m("active eq true", &u),
            Err(Error::TypeMismatch { .. })
        ));
        assert!(matches!(
            m(r#"userName eq "5""#, &u),
            Err(Error::TypeMismatch { .. })
        ));
        assert!(matches!(
            m("active gt true", &u),
            Err(Error::OperatorNotAllowed { .. })
        ));
        assert!(matches!(
            m(r#"userName eq 5"#, &u),
            Err(Error::TypeMismatch { .. })
        ));
        assert!(matches!(
            m(r#"userName[value eq "x"]"#, &u),
            Err(Error::NotComplex { .. })
        ));
        assert!(matches!(
            m(r#"nope eq "x""#, &u),
            Err(Error::UnknownAttribute { .. })
        ));
    }

    #[test]
    fn enterprise_extension() {
        let u = json!({"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": {"employeeNumber": "701984", "manager": {"value": "26118915"}}});
        assert_eq!(
            m(
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq "701984""#,
                &u
            ),
            Ok(true)
        );
        assert_eq!(m(r#"employeeNumber sw "70""#, &u), Ok(true));
        assert_eq!(
            m(
                r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "26118915""#,
                &u
            ),
            Ok(true)
        );
    }

    #[test]
    fn unicode_case_folding() {
        let u = json!({"displayName": "ÄRGER"});
        assert_eq!(m(r#"displayName eq "ärger""#, &u), Ok(true));
        assert_eq!(m(r#"displayName co "rg""#, &u), Ok(true));
    }
}
