//! Evaluating a filter against a JSON resource (RFC 7644 §3.4.2.2 semantics).

use std::cmp::Ordering;

use serde_json::Value;

use crate::ast::{AttrPath, CompareOp, Filter};
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
///
/// To apply one filter to many resources, [`compile`] it once and call
/// [`CompiledFilter::matches`].
pub fn matches(filter: &Filter, resource: &Value, schema: &Schema) -> Result<bool, Error> {
    compile(filter, schema)?.matches(resource)
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

/// A filter validated against a schema once, ready to be evaluated against many resources.
///
/// [`matches()`] validates the filter (resolving every attribute path against the schema and
/// converting every literal to its attribute's type) on each call. `CompiledFilter` does that work
/// once, in [`compile`], and keeps the resolved attributes and typed literals, so
/// [`CompiledFilter::matches`] only reads the resource. Use it when one filter is applied to a
/// result set (a `GET /Users?filter=...` over an in-memory store). Results and errors are exactly
/// those of [`matches()`].
///
/// ```
/// use idforge_scim_filter::{compile, parse_filter, Schema};
/// let schema = Schema::user();
/// let filter = parse_filter(r#"emails[type eq "work" and value co "@example.com"]"#)?;
/// let compiled = compile(&filter, &schema)?;
/// let users = [
///     serde_json::json!({"emails": [{"type": "work", "value": "bjensen@example.com"}]}),
///     serde_json::json!({"emails": [{"type": "home", "value": "babs@example.com"}]}),
/// ];
/// let hits: Vec<bool> = users.iter().map(|u| compiled.matches(u)).collect::<Result<_, _>>()?;
/// assert_eq!(hits, [true, false]);
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
#[derive(Debug, Clone)]
pub struct CompiledFilter<'a> {
    root: Node<'a>,
}

/// One node of a [`CompiledFilter`]: the filter's shape with paths resolved and literals typed.
#[derive(Debug, Clone)]
enum Node<'a> {
    /// `attrPath pr`.
    Present {
        target: Resolved<'a>,
        in_scope: bool,
    },
    /// `attrPath eq null` (`absent == true`) or `attrPath ne null` (RFC 7643 §2.5).
    NullTest {
        target: Resolved<'a>,
        in_scope: bool,
        absent: bool,
    },
    /// `attrPath compareOp compValue` with the literal converted to the attribute's type.
    Compare {
        target: Resolved<'a>,
        in_scope: bool,
        op: CompareOp,
        value: Typed<'a>,
        /// For the error message and offset when a resource value has the wrong type.
        path: &'a AttrPath,
    },
    /// `attrPath "[" valFilter "]"`.
    ValuePath {
        parent: Resolved<'a>,
        filter: Box<Node<'a>>,
    },
    And(Vec<Node<'a>>),
    Or(Vec<Node<'a>>),
    Not(Box<Node<'a>>),
}

/// Validates `filter` against `schema` once (the checks of [`Schema::validate`]) and returns the
/// [`CompiledFilter`] that evaluates it.
pub fn compile<'a>(filter: &'a Filter, schema: &'a Schema) -> Result<CompiledFilter<'a>, Error> {
    Ok(CompiledFilter {
        root: compile_node(filter, schema, None)?,
    })
}

fn compile_node<'a>(
    filter: &'a Filter,
    schema: &'a Schema,
    scope: Option<Resolved<'a>>,
) -> Result<Node<'a>, Error> {
    let ctx = Context::Filter;
    let in_scope = scope.is_some();
    Ok(match filter {
        Filter::Present { path, .. } => Node::Present {
            target: schema.target(path, scope, ctx)?,
            in_scope,
        },
        Filter::Compare {
            path, op, value, ..
        } => {
            let t = schema.target(path, scope, ctx)?;
            let c = check_compare(&t, path, *op, value, ctx)?;
            if c.value == Typed::Null {
                Node::NullTest {
                    target: c.target,
                    in_scope,
                    absent: *op == CompareOp::Eq,
                }
            } else {
                Node::Compare {
                    target: c.target,
                    in_scope,
                    op: *op,
                    value: c.value,
                    path,
                }
            }
        }
        Filter::ValuePath { path, filter, .. } => {
            let parent = schema.value_path_scope(path, ctx)?;
            Node::ValuePath {
                parent,
                filter: Box::new(compile_node(filter, schema, Some(parent))?),
            }
        }
        Filter::And(items, _) => Node::And(
            items
                .iter()
                .map(|f| compile_node(f, schema, scope))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Or(items, _) => Node::Or(
            items
                .iter()
                .map(|f| compile_node(f, schema, scope))
                .collect::<Result<_, _>>()?,
        ),
        Filter::Not(inner, _) => Node::Not(Box::new(compile_node(inner, schema, scope)?)),
    })
}

impl CompiledFilter<'_> {
    /// Whether `resource` matches, with the semantics of [`matches()`]. The only error left at
    /// this stage is a resource value whose type differs from the schema's
    /// ([`Error::TypeMismatch`]).
    pub fn matches(&self, resource: &Value) -> Result<bool, Error> {
        eval(&self.root, resource)
    }
}

fn eval(node: &Node<'_>, value: &Value) -> Result<bool, Error> {
    match node {
        Node::Present { target, in_scope } => {
            any_value(value, target, *in_scope, &mut |v| Ok(non_empty(v)))
        }
        Node::NullTest {
            target,
            in_scope,
            absent,
        } => {
            let present = any_value(value, target, *in_scope, &mut |v| Ok(non_empty(v)))?;
            Ok(present != *absent)
        }
        Node::Compare {
            target,
            in_scope,
            op,
            value: lit,
            path,
        } => {
            let leaf = target.leaf();
            any_value(value, target, *in_scope, &mut |v| {
                compare_value(v, *op, lit, leaf.ty, leaf.case_exact).ok_or_else(|| {
                    Error::TypeMismatch {
                        context: Context::Filter,
                        offset: path.span.start,
                        detail: format!(
                            "resource value {} of \"{path}\" is not a valid {}",
                            short(v),
                            leaf.ty.as_str()
                        ),
                    }
                })
            })
        }
        Node::ValuePath { parent, filter } => {
            let container = match parent.extension {
                Some(ext) => get_ci(value, ext),
                None => Some(value),
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
                if e.is_object() && eval(filter, e)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::And(items) => {
            for f in items {
                if !eval(f, value)? {
                    return Ok(false);
                }
            }
            Ok(true)
        }
        Node::Or(items) => {
            for f in items {
                if eval(f, value)? {
                    return Ok(true);
                }
            }
            Ok(false)
        }
        Node::Not(inner) => Ok(!eval(inner, value)?),
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
    fn compiled_filter_validates_once_and_evaluates_many() {
        let schema = Schema::user();
        let f = parse_filter(
            r#"userName eq "bjensen" or (emails[type eq "work" and value co "@example.com"] and not (title pr)) or nickName eq null"#,
        )
        .expect("valid");
        let compiled = compile(&f, &schema).expect("valid against the User schema");
        let users = [
            json!({"userName": "BJensen", "nickName": "b"}),
            json!({"userName": "x", "nickName": "n", "emails": [{"type": "work", "value": "x@example.com"}]}),
            json!({"userName": "x", "nickName": "n", "title": "boss", "emails": [{"type": "work", "value": "x@example.com"}]}),
            json!({"userName": "x"}),
            json!({"userName": "x", "nickName": "n"}),
        ];
        for (u, want) in users.iter().zip([true, true, false, true, false]) {
            assert_eq!(compiled.matches(u), Ok(want), "{u}");
            assert_eq!(matches(&f, u, &schema), Ok(want), "{u}");
        }
        // Resource values of the wrong type are still reported when evaluating.
        assert!(matches!(
            compiled.matches(&json!({"userName": 7})),
            Err(Error::TypeMismatch { offset: 0, .. })
        ));
        // Schema errors surface once, from `compile`, with the same error as `matches`.
        let bad = parse_filter(r#"userName eq "x" or active gt true"#).expect("parses");
        let e = compile(&bad, &schema).expect_err("active gt true is refused");
        assert!(matches!(e, Error::OperatorNotAllowed { offset: 19, .. }));
        assert_eq!(matches(&bad, &json!({}), &schema), Err(e));
    }

    #[test]
    fn unicode_case_folding() {
        let u = json!({"displayName": "ÄRGER"});
        assert_eq!(m(r#"displayName eq "ärger""#, &u), Ok(true));
        assert_eq!(m(r#"displayName co "rg""#, &u), Ok(true));
    }
}
