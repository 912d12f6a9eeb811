//! The filter syntax tree (RFC 7644 §3.4.2.2) and its canonical text form.
//!
//! Every node carries the byte [`Span`] of the input it was parsed from. Equality of nodes is
//! structural: spans say where a node came from, not what it means, so they are ignored by `==`.
//! This is what makes `parse(display(ast)) == ast` hold even though canonical text differs from
//! the original in spacing and keyword case.

use std::fmt;

/// A half-open byte range `start..end` into the parsed input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct Span {
    /// First byte of the node.
    pub start: usize,
    /// One past the last byte of the node.
    pub end: usize,
}

impl Span {
    /// A span from `start` to `end`.
    pub fn new(start: usize, end: usize) -> Self {
        Span { start, end }
    }
}

/// An attribute path: `[URI ":"] ATTRNAME ["." subAttr]` (RFC 7644 §3.4.2.2 ABNF, §3.10).
#[derive(Debug, Clone, Eq)]
pub struct AttrPath {
    /// The schema URN prefix, e.g. `urn:ietf:params:scim:schemas:core:2.0:User` (RFC 7644 §3.10).
    pub uri: Option<String>,
    /// The attribute name as written (names are case-insensitive, RFC 7643 §2.1).
    pub name: String,
    /// The sub-attribute name, e.g. `familyName` in `name.familyName`.
    pub sub_attr: Option<String>,
    /// Where the path was in the input.
    pub span: Span,
}

impl AttrPath {
    /// A path to a top-level attribute without a URN prefix.
    pub fn new(name: impl Into<String>) -> Self {
        AttrPath {
            uri: None,
            name: name.into(),
            sub_attr: None,
            span: Span::default(),
        }
    }

    /// The same path with a sub-attribute.
    pub fn with_sub_attr(mut self, sub: impl Into<String>) -> Self {
        self.sub_attr = Some(sub.into());
        self
    }

    /// The same path with a schema URN prefix.
    pub fn with_uri(mut self, uri: impl Into<String>) -> Self {
        self.uri = Some(uri.into());
        self
    }
}

/// Attribute names compare case-insensitively (RFC 7643 §2.1); URNs too (RFC 8141 §3.1 for the
/// `urn:` NID, and SCIM servers treat schema URIs case-insensitively). Spans are ignored.
impl PartialEq for AttrPath {
    fn eq(&self, other: &Self) -> bool {
        fn eq_opt(a: &Option<String>, b: &Option<String>) -> bool {
            match (a, b) {
                (Some(a), Some(b)) => a.eq_ignore_ascii_case(b),
                (None, None) => true,
                _ => false,
            }
        }
        self.name.eq_ignore_ascii_case(&other.name)
            && eq_opt(&self.uri, &other.uri)
            && eq_opt(&self.sub_attr, &other.sub_attr)
    }
}

impl fmt::Display for AttrPath {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(uri) = &self.uri {
            write!(f, "{uri}:")?;
        }
        f.write_str(&self.name)?;
        if let Some(sub) = &self.sub_attr {
            write!(f, ".{sub}")?;
        }
        Ok(())
    }
}

/// A comparison operator (RFC 7644 §3.4.2.2, Table 3). Keywords are case-insensitive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CompareOp {
    /// `eq`: equal.
    Eq,
    /// `ne`: not equal.
    Ne,
    /// `co`: contains.
    Co,
    /// `sw`: starts with.
    Sw,
    /// `ew`: ends with.
    Ew,
    /// `gt`: greater than.
    Gt,
    /// `ge`: greater than or equal to.
    Ge,
    /// `lt`: less than.
    Lt,
    /// `le`: less than or equal to.
    Le,
}

impl CompareOp {
    /// All operators, in RFC order.
    pub const ALL: [CompareOp; 9] = [
        CompareOp::Eq,
        CompareOp::Ne,
        CompareOp::Co,
        CompareOp::Sw,
        CompareOp::Ew,
        CompareOp::Gt,
        CompareOp::Ge,
        CompareOp::Lt,
        CompareOp::Le,
    ];

    /// The canonical (lower-case) keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            CompareOp::Eq => "eq",
            CompareOp::Ne => "ne",
            CompareOp::Co => "co",
            CompareOp::Sw => "sw",
            CompareOp::Ew => "ew",
            CompareOp::Gt => "gt",
            CompareOp::Ge => "ge",
            CompareOp::Lt => "lt",
            CompareOp::Le => "le",
        }
    }

    /// Parses a keyword, ignoring ASCII case (RFC 7644 §3.4.2.2: operators are case-insensitive).
    pub fn from_keyword(word: &str) -> Option<CompareOp> {
        CompareOp::ALL
            .into_iter()
            .find(|op| op.as_str().eq_ignore_ascii_case(word))
    }

    /// `gt`, `ge`, `lt`, `le`: the ordering operators.
    pub fn is_ordering(self) -> bool {
        matches!(
            self,
            CompareOp::Gt | CompareOp::Ge | CompareOp::Lt | CompareOp::Le
        )
    }

    /// `co`, `sw`, `ew`: the substring operators.
    pub fn is_substring(self) -> bool {
        matches!(self, CompareOp::Co | CompareOp::Sw | CompareOp::Ew)
    }
}

impl fmt::Display for CompareOp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A comparison value: `false / null / true / number / string` (RFC 7644 §3.4.2.2, JSON literals
/// of RFC 7159).
#[derive(Debug, Clone, PartialEq)]
pub enum CompValue {
    /// `null`.
    Null,
    /// `true` or `false`.
    Bool(bool),
    /// A JSON number.
    Number(serde_json::Number),
    /// A JSON string, unescaped.
    String(String),
}

impl fmt::Display for CompValue {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompValue::Null => f.write_str("null"),
            CompValue::Bool(b) => write!(f, "{b}"),
            CompValue::Number(n) => write!(f, "{n}"),
            CompValue::String(s) => {
                // serde_json's string escaping is exactly JSON's (RFC 7159 §7), which the parser reads.
                let quoted = serde_json::Value::String(s.clone()).to_string();
                f.write_str(&quoted)
            }
        }
    }
}

/// A filter expression (RFC 7644 §3.4.2.2, `FILTER` in Figure 1).
///
/// `and`/`or` are n-ary and flattened: `a and (b and c)` and `(a and b) and c` are the same tree,
/// `And([a, b, c])`, because both operators are associative.
#[derive(Debug, Clone)]
pub enum Filter {
    /// `attrPath pr`.
    Present {
        /// The attribute.
        path: AttrPath,
        /// Source span.
        span: Span,
    },
    /// `attrPath compareOp compValue`.
    Compare {
        /// The attribute.
        path: AttrPath,
        /// The operator.
        op: CompareOp,
        /// The literal.
        value: CompValue,
        /// Source span.
        span: Span,
    },
    /// `attrPath "[" valFilter "]"`: a filter over the elements of a complex attribute.
    ValuePath {
        /// The complex attribute (no sub-attribute).
        path: AttrPath,
        /// The filter applied to each element; its paths name sub-attributes.
        filter: Box<Filter>,
        /// Source span.
        span: Span,
    },
    /// `FILTER and FILTER ...` (at least two operands).
    And(Vec<Filter>, Span),
    /// `FILTER or FILTER ...` (at least two operands).
    Or(Vec<Filter>, Span),
    /// `not ( FILTER )`.
    Not(Box<Filter>, Span),
}

impl PartialEq for Filter {
    fn eq(&self, other: &Self) -> bool {
        use Filter::*;
        match (self, other) {
            (Present { path: a, .. }, Present { path: b, .. }) => a == b,
            (
                Compare {
                    path: pa,
                    op: oa,
                    value: va,
                    ..
                },
                Compare {
                    path: pb,
                    op: ob,
                    value: vb,
                    ..
                },
            ) => pa == pb && oa == ob && va == vb,
            (
                ValuePath {
                    path: pa,
                    filter: fa,
                    ..
                },
                ValuePath {
                    path: pb,
                    filter: fb,
                    ..
                },
            ) => pa == pb && fa == fb,
            (And(a, _), And(b, _)) | (Or(a, _), Or(b, _)) => a == b,
            (Not(a, _), Not(b, _)) => a == b,
            _ => false,
        }
    }
}

impl Filter {
    /// The source span of this node.
    pub fn span(&self) -> Span {
        match self {
            Filter::Present { span, .. }
            | Filter::Compare { span, .. }
            | Filter::ValuePath { span, .. }
            | Filter::And(_, span)
            | Filter::Or(_, span)
            | Filter::Not(_, span) => *span,
        }
    }

    /// `path pr`.
    pub fn present(path: AttrPath) -> Filter {
        Filter::Present {
            path,
            span: Span::default(),
        }
    }

    /// `path op value`.
    pub fn compare(path: AttrPath, op: CompareOp, value: CompValue) -> Filter {
        Filter::Compare {
            path,
            op,
            value,
            span: Span::default(),
        }
    }

    /// `path[filter]`.
    pub fn value_path(path: AttrPath, filter: Filter) -> Filter {
        Filter::ValuePath {
            path,
            filter: Box::new(filter),
            span: Span::default(),
        }
    }

    /// `self and other`, flattening nested `and`s.
    ///
    /// When `self` is already an `and`, `other` is appended to its operand list in place, so a
    /// left-to-right chain of n operands is built in O(n) (amortized O(1) per operator).
    pub fn and(self, other: Filter) -> Filter {
        let span = join(self.span(), other.span());
        Filter::And(flatten(self, other, Junction::And), span)
    }

    /// `self or other`, flattening nested `or`s (in place when `self` is an `or`, like
    /// [`Filter::and`]).
    pub fn or(self, other: Filter) -> Filter {
        let span = join(self.span(), other.span());
        Filter::Or(flatten(self, other, Junction::Or), span)
    }

    /// `not (self)`.
    pub fn negate(self) -> Filter {
        let span = self.span();
        Filter::Not(Box::new(self), span)
    }

    /// The number of attribute comparisons (`pr` and `compareOp` expressions), the quantity bounded
    /// by [`crate::Limits::max_comparisons`].
    pub fn comparisons(&self) -> usize {
        match self {
            Filter::Present { .. } | Filter::Compare { .. } => 1,
            Filter::ValuePath { filter, .. } | Filter::Not(filter, _) => filter.comparisons(),
            Filter::And(items, _) | Filter::Or(items, _) => {
                items.iter().map(Filter::comparisons).sum()
            }
        }
    }

    /// Nesting depth of the tree (a single comparison has depth 1).
    pub fn depth(&self) -> usize {
        match self {
            Filter::Present { .. } | Filter::Compare { .. } => 1,
            Filter::ValuePath { filter, .. } | Filter::Not(filter, _) => 1 + filter.depth(),
            Filter::And(items, _) | Filter::Or(items, _) => {
                1 + items.iter().map(Filter::depth).max().unwrap_or(0)
            }
        }
    }

    /// The AST as JSON (the shape the CLI's `parse` command prints). Each node has an `"op"`
    /// member and a `"span"` of `[start, end]` byte offsets.
    pub fn to_json(&self) -> serde_json::Value {
        use serde_json::json;
        let span = |s: Span| json!([s.start, s.end]);
        match self {
            Filter::Present { path, span: s } => {
                json!({"op": "pr", "path": path_json(path), "span": span(*s)})
            }
            Filter::Compare {
                path,
                op,
                value,
                span: s,
            } => json!({
                "op": op.as_str(),
                "path": path_json(path),
                "value": value_json(value),
                "span": span(*s),
            }),
            Filter::ValuePath {
                path,
                filter,
                span: s,
            } => json!({
                "op": "valuePath",
                "path": path_json(path),
                "filter": filter.to_json(),
                "span": span(*s),
            }),
            Filter::And(items, s) => json!({
                "op": "and",
                "filters": items.iter().map(Filter::to_json).collect::<Vec<_>>(),
                "span": span(*s),
            }),
            Filter::Or(items, s) => json!({
                "op": "or",
                "filters": items.iter().map(Filter::to_json).collect::<Vec<_>>(),
                "span": span(*s),
            }),
            Filter::Not(inner, s) => {
                json!({"op": "not", "filter": inner.to_json(), "span": span(*s)})
            }
        }
    }
}

fn path_json(p: &AttrPath) -> serde_json::Value {
    serde_json::json!({
        "uri": p.uri,
        "attr": p.name,
        "subAttr": p.sub_attr,
        "text": p.to_string(),
        "span": [p.span.start, p.span.end],
    })
}

fn value_json(v: &CompValue) -> serde_json::Value {
    match v {
        CompValue::Null => serde_json::Value::Null,
        CompValue::Bool(b) => serde_json::Value::Bool(*b),
        CompValue::Number(n) => serde_json::Value::Number(n.clone()),
        CompValue::String(s) => serde_json::Value::String(s.clone()),
    }
}

/// Which n-ary operator [`flatten`] builds.
#[derive(Clone, Copy)]
enum Junction {
    And,
    Or,
}

/// The operand list of `left OP right` with nested `OP`s flattened. `left`'s own list is reused
/// (pushed onto), so building a chain never moves the earlier operands again.
fn flatten(left: Filter, right: Filter, op: Junction) -> Vec<Filter> {
    let mut items = match (op, left) {
        (Junction::And, Filter::And(items, _)) | (Junction::Or, Filter::Or(items, _)) => items,
        (_, f) => {
            let mut v = Vec::with_capacity(2);
            v.push(f);
            v
        }
    };
    match (op, right) {
        (Junction::And, Filter::And(more, _)) | (Junction::Or, Filter::Or(more, _)) => {
            items.extend(more)
        }
        (_, f) => items.push(f),
    }
    items
}

pub(crate) fn join(a: Span, b: Span) -> Span {
    Span::new(a.start.min(b.start), a.end.max(b.end))
}

/// Canonical text: single spaces, lower-case keywords, JSON-escaped strings, parentheses only
/// where precedence (RFC 7644 §3.4.2.2: `not` > `and` > `or`) requires them.
impl fmt::Display for Filter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Filter::Present { path, .. } => write!(f, "{path} pr"),
            Filter::Compare {
                path, op, value, ..
            } => write!(f, "{path} {op} {value}"),
            Filter::ValuePath { path, filter, .. } => write!(f, "{path}[{filter}]"),
            Filter::And(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" and ")?;
                    }
                    // An `or` (or a nested `and` built by hand) under `and` needs grouping.
                    if matches!(item, Filter::Or(..) | Filter::And(..)) {
                        write!(f, "({item})")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                Ok(())
            }
            Filter::Or(items, _) => {
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" or ")?;
                    }
                    if matches!(item, Filter::Or(..)) {
                        write!(f, "({item})")?;
                    } else {
                        write!(f, "{item}")?;
                    }
                }
                Ok(())
            }
            Filter::Not(inner, _) => write!(f, "not ({inner})"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(i: usize) -> Filter {
        Filter::present(AttrPath::new(format!("a{i}")))
    }

    #[test]
    fn chains_flatten_in_place() {
        // A left-to-right chain keeps one operand list that grows in place: its buffer is only
        // reallocated when it fills (amortized O(1) per operator, issue 19 §2).
        let mut f = term(0).or(term(1));
        let mut reallocations = 0;
        for i in 2..1024 {
            let before = match &f {
                Filter::Or(items, _) => (items.as_ptr(), items.capacity()),
                _ => unreachable!("an or chain"),
            };
            f = f.or(term(i));
            let Filter::Or(items, _) = &f else {
                unreachable!("an or chain")
            };
            if (items.as_ptr(), items.capacity()) != before {
                reallocations += 1;
            }
        }
        let Filter::Or(items, _) = &f else {
            unreachable!("an or chain")
        };
        assert_eq!(items.len(), 1024);
        assert!(reallocations <= 10, "{reallocations} reallocations");
        // Nested operands of the same operator are flattened on both sides, others kept.
        let g = term(0)
            .and(term(1))
            .and(term(2).and(term(3)))
            .and(term(4).or(term(5)));
        let Filter::And(items, _) = &g else {
            unreachable!("an and chain")
        };
        assert_eq!(items.len(), 5);
        assert!(matches!(items[4], Filter::Or(..)));
        assert_eq!(
            g.to_string(),
            "a0 pr and a1 pr and a2 pr and a3 pr and (a4 pr or a5 pr)"
        );
    }
}
