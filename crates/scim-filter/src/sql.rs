//! Translating filters to parameterized SQL `WHERE` expressions for PostgreSQL, SQLite and MySQL.
//!
//! Literals are never interpolated: every value becomes a positional parameter (`$1…` for
//! PostgreSQL, `?` for SQLite and MySQL). Where values live is the host's business, answered by
//! the [`ColumnMap`] port: columns of the filtered table ([`WideTable`]), child tables with one
//! row per value (multi-valued attributes, `EXISTS` sub-queries), or an entity-attribute-value
//! table ([`EavTable`]).
//!
//! The SQL is two-valued by construction, so `not` behaves like [`crate::matches()`]: an absent
//! attribute matches no comparison, and `not (...)` of it is true (`NOT COALESCE(..., FALSE)`
//! turns SQL's unknown into false before negating).
//!
//! Storage conventions the translation relies on:
//! - `dateTime` values are compared with a parameter in UTC, `YYYY-MM-DDTHH:MM:SS.ffffffZ`; store
//!   them in that form in text columns (SQLite, MySQL, EAV) or in a `timestamptz` column
//!   (PostgreSQL), and instants compare correctly.
//! - case-insensitive strings are compared with `LOWER()` on both sides (SQLite's `LOWER` folds
//!   ASCII only); ordering uses code-point order (`COLLATE "C"` on PostgreSQL, `utf8mb4_bin` on
//!   MySQL) to agree with [`crate::matches()`].

use std::fmt::Write as _;

use crate::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::error::{Context, Error};
use crate::schema::{check_compare, AttrType, AttributeDef, Resolved, Schema, Typed};

/// The SQL dialect to generate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Dialect {
    /// PostgreSQL: `$n` placeholders, `"ident"` quoting.
    Postgres,
    /// SQLite: `?` placeholders, `"ident"` quoting.
    Sqlite,
    /// MySQL 8: `?` placeholders, `` `ident` `` quoting, binary collation for exact comparisons.
    MySql,
}

impl Dialect {
    /// Parses `postgres`/`postgresql`, `sqlite`, `mysql`.
    pub fn from_name(s: &str) -> Option<Dialect> {
        match s.to_ascii_lowercase().as_str() {
            "postgres" | "postgresql" | "pg" => Some(Dialect::Postgres),
            "sqlite" | "sqlite3" => Some(Dialect::Sqlite),
            "mysql" => Some(Dialect::MySql),
            _ => None,
        }
    }

    /// Quotes an identifier.
    pub fn quote(self, ident: &str) -> String {
        match self {
            Dialect::MySql => format!("`{}`", ident.replace('`', "``")),
            _ => format!("\"{}\"", ident.replace('"', "\"\"")),
        }
    }
}

/// A bound parameter value.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlParam {
    /// Text.
    Text(String),
    /// An integer (also booleans stored as 0/1).
    Integer(i64),
    /// A floating-point number.
    Real(f64),
    /// A boolean (for native boolean columns).
    Bool(bool),
}

impl SqlParam {
    /// The parameter as JSON.
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            SqlParam::Text(s) => serde_json::Value::String(s.clone()),
            SqlParam::Integer(i) => serde_json::Value::from(*i),
            SqlParam::Real(f) => serde_json::Value::from(*f),
            SqlParam::Bool(b) => serde_json::Value::Bool(*b),
        }
    }
}

/// A `WHERE` expression and its parameters, in placeholder order.
#[derive(Debug, Clone, PartialEq)]
pub struct SqlQuery {
    /// The boolean expression to put after `WHERE`.
    pub sql: String,
    /// The parameters.
    pub params: Vec<SqlParam>,
}

impl SqlQuery {
    /// `{"sql": ..., "params": [...]}`.
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "sql": self.sql,
            "params": self.params.iter().map(SqlParam::to_json).collect::<Vec<_>>(),
        })
    }
}

/// Where the values of one attribute (or sub-attribute) are stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Location {
    /// A column of the filtered table, holding the value in its native type.
    Column {
        /// Column name.
        column: String,
    },
    /// A child table with one row per value (or per element of a multi-valued complex
    /// attribute, one column per sub-attribute), linked by `owner_column = main.key_column`.
    ChildTable {
        /// Child table.
        table: String,
        /// Foreign key to the filtered table.
        owner_column: String,
        /// Column holding this (sub-)attribute.
        value_column: String,
    },
    /// An entity-attribute-value table: one row per value, values stored as text (booleans
    /// `true`/`false`, numbers in decimal, dateTimes as described in the module docs).
    Eav {
        /// EAV table.
        table: String,
        /// Foreign key to the filtered table.
        owner_column: String,
        /// Column holding the attribute name.
        name_column: String,
        /// The attribute name stored there.
        name: String,
        /// Column holding the value text.
        value_column: String,
        /// Column grouping the sub-attributes of one element of a multi-valued complex attribute
        /// (needed for value paths like `emails[type eq "work" and value co "x"]`).
        element_column: Option<String>,
    },
}

/// The mapping port: where each attribute lives (ARCHITECTURE "Ports").
pub trait ColumnMap {
    /// The filtered table.
    fn table(&self) -> &str;
    /// Its primary key column, which child and EAV tables reference.
    fn key_column(&self) -> &str;
    /// The storage of a resolved (sub-)attribute; `None` if it is not stored (an error).
    fn locate(&self, attr: &Resolved<'_>) -> Option<Location>;
    /// Whether native boolean columns hold 0/1 integers (SQLite, MySQL `TINYINT`) rather than a
    /// `BOOLEAN` type.
    fn booleans_as_integers(&self) -> bool {
        true
    }
}

/// The canonical column name of a path: dotted name with `.` replaced by `_`
/// (`name.familyName` → `name_familyName`, `meta.lastModified` → `meta_lastModified`).
pub fn column_name(r: &Resolved<'_>) -> String {
    r.dotted_name().replace('.', "_")
}

/// A wide table: one column per attribute, named by [`column_name`]; multi-valued attributes
/// registered with [`WideTable::with_child_table`] live in child tables instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WideTable {
    table: String,
    key_column: String,
    booleans_as_integers: bool,
    children: Vec<(String, String, String)>,
}

impl WideTable {
    /// A wide table named `table` with key column `id` and booleans as 0/1.
    pub fn new(table: impl Into<String>) -> Self {
        WideTable {
            table: table.into(),
            key_column: "id".to_owned(),
            booleans_as_integers: true,
            children: Vec::new(),
        }
    }

    /// Sets the key column.
    pub fn with_key_column(mut self, col: impl Into<String>) -> Self {
        self.key_column = col.into();
        self
    }

    /// Booleans in native `BOOLEAN` columns instead of 0/1.
    pub fn with_native_booleans(mut self) -> Self {
        self.booleans_as_integers = false;
        self
    }

    /// Stores the multi-valued attribute `attr` in `table` (one row per value/element, columns
    /// named after the sub-attributes, or `value` for simple multi-valued attributes), linked by
    /// `owner_column`.
    pub fn with_child_table(
        mut self,
        attr: &str,
        table: impl Into<String>,
        owner_column: impl Into<String>,
    ) -> Self {
        self.children
            .push((attr.to_owned(), table.into(), owner_column.into()));
        self
    }
}

impl ColumnMap for WideTable {
    fn table(&self) -> &str {
        &self.table
    }
    fn key_column(&self) -> &str {
        &self.key_column
    }
    fn booleans_as_integers(&self) -> bool {
        self.booleans_as_integers
    }
    fn locate(&self, r: &Resolved<'_>) -> Option<Location> {
        if let Some((_, table, owner)) = self
            .children
            .iter()
            .find(|(a, _, _)| a.eq_ignore_ascii_case(&r.attr.name))
        {
            return Some(Location::ChildTable {
                table: table.clone(),
                owner_column: owner.clone(),
                value_column: r.sub.map_or("value", |s| s.name.as_str()).to_owned(),
            });
        }
        Some(Location::Column {
            column: column_name(r),
        })
    }
}

/// An entity-attribute-value layout: every attribute is rows of `table(owner, name, value
/// [, element])`; names are dotted paths (`name.familyName`, `emails.value`), prefixed with the
/// extension URN and `:` for extension attributes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EavTable {
    /// The filtered (entity) table.
    pub main_table: String,
    /// Its key column.
    pub key_column: String,
    /// The EAV table.
    pub table: String,
    /// Foreign key column in the EAV table.
    pub owner_column: String,
    /// Attribute name column.
    pub name_column: String,
    /// Value column (text).
    pub value_column: String,
    /// Element index column for multi-valued complex attributes.
    pub element_column: Option<String>,
}

impl ColumnMap for EavTable {
    // The port's `table` is the filtered (entity) table, not the EAV table.
    #[allow(clippy::misnamed_getters)]
    fn table(&self) -> &str {
        &self.main_table
    }
    fn key_column(&self) -> &str {
        &self.key_column
    }
    fn locate(&self, r: &Resolved<'_>) -> Option<Location> {
        let name = match r.extension {
            Some(ext) => format!("{ext}:{}", r.dotted_name()),
            None => r.dotted_name(),
        };
        Some(Location::Eav {
            table: self.table.clone(),
            owner_column: self.owner_column.clone(),
            name_column: self.name_column.clone(),
            name,
            value_column: self.value_column.clone(),
            element_column: self.element_column.clone(),
        })
    }
}

/// Translates a filter to SQL (after validating it against `schema`).
///
/// ```
/// use idforge_scim_filter::{parse_filter, sql, Schema};
/// let f = parse_filter(r#"name.familyName co "O'Malley""#)?;
/// let q = sql::to_sql(&f, &Schema::user(), &sql::WideTable::new("users"), sql::Dialect::Sqlite)?;
/// assert_eq!(q.sql, r#"LOWER("users"."name_familyName") LIKE LOWER(?) ESCAPE '!'"#);
/// assert_eq!(q.params, vec![sql::SqlParam::Text("%O'Malley%".into())]);
/// # Ok::<(), idforge_scim_filter::Error>(())
/// ```
pub fn to_sql(
    filter: &Filter,
    schema: &Schema,
    map: &dyn ColumnMap,
    dialect: Dialect,
) -> Result<SqlQuery, Error> {
    schema.validate(filter)?;
    let mut g = Gen {
        dialect,
        map,
        schema,
        params: Vec::new(),
        aliases: 0,
    };
    let sql = g.filter(filter, &Scope::Top)?;
    Ok(SqlQuery {
        sql,
        params: g.params,
    })
}

/// Escapes `%`, `_` and the escape character `!` for a `LIKE ... ESCAPE '!'` pattern. `!` is used
/// instead of `\` because MySQL treats `\` in string literals as an escape of its own.
pub fn escape_like(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    for c in s.chars() {
        if matches!(c, '%' | '_' | '!') {
            out.push('!');
        }
        out.push(c);
    }
    out
}

enum Scope<'s> {
    Top,
    /// Inside `attr[...]` of a single-valued complex attribute: sub-attributes resolve normally.
    Single(Resolved<'s>),
    /// Inside `attr[...]` of a multi-valued attribute, iterating elements as `alias`.
    Element {
        parent: Resolved<'s>,
        alias: String,
        source: Location,
    },
}

struct Gen<'a> {
    dialect: Dialect,
    map: &'a dyn ColumnMap,
    schema: &'a Schema,
    params: Vec<SqlParam>,
    aliases: usize,
}

fn unsupported(path: &AttrPath, detail: String) -> Error {
    Error::Unsupported {
        context: Context::Filter,
        offset: path.span.start,
        target: "SQL",
        detail,
    }
}

impl<'a> Gen<'a> {
    fn param(&mut self, p: SqlParam) -> String {
        self.params.push(p);
        match self.dialect {
            Dialect::Postgres => format!("${}", self.params.len()),
            _ => "?".to_owned(),
        }
    }

    fn alias(&mut self) -> String {
        self.aliases += 1;
        format!("a{}", self.aliases)
    }

    fn q(&self, ident: &str) -> String {
        self.dialect.quote(ident)
    }

    fn main_col(&self, col: &str) -> String {
        format!("{}.{}", self.q(self.map.table()), self.q(col))
    }

    fn filter(&mut self, f: &Filter, scope: &Scope<'a>) -> Result<String, Error> {
        match f {
            Filter::And(items, _) | Filter::Or(items, _) => {
                let sep = if matches!(f, Filter::And(..)) {
                    " AND "
                } else {
                    " OR "
                };
                let mut out = String::new();
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(sep);
                    }
                    let s = self.filter(item, scope)?;
                    if matches!(item, Filter::And(..) | Filter::Or(..)) {
                        let _ = write!(out, "({s})");
                    } else {
                        out.push_str(&s);
                    }
                }
                Ok(out)
            }
            Filter::Not(inner, _) => {
                let s = self.filter(inner, scope)?;
                Ok(format!("NOT COALESCE(({s}), FALSE)"))
            }
            Filter::Present { path, .. } => {
                let r = self.resolve(path, scope)?;
                self.present(path, &r, scope)
            }
            Filter::Compare {
                path, op, value, ..
            } => {
                let r = self.resolve(path, scope)?;
                self.compare(path, &r, *op, value, scope)
            }
            Filter::ValuePath { path, filter, .. } => {
                let parent = self.schema.value_path_scope(path, Context::Filter)?;
                if !parent.attr.multi_valued {
                    return self.filter(filter, &Scope::Single(parent));
                }
                let source = self.element_source(path, &parent, filter)?;
                if let Location::Column { .. } = source {
                    // A wide table keeps one element per row in columns: no correlation needed.
                    return self.filter(filter, &Scope::Single(parent));
                }
                let alias = self.alias();
                let (head, src) = self.exists_head(&source, &alias);
                let inner_scope = Scope::Element {
                    parent,
                    alias,
                    source: src,
                };
                let mut head = head;
                if let Scope::Element {
                    source: Location::Eav { name_column, .. },
                    alias,
                    ..
                } = &inner_scope
                {
                    // Only rows of this attribute's elements are candidates.
                    let mut names = Vec::new();
                    for s in &parent.attr.sub_attributes {
                        let sr = Resolved {
                            sub: Some(s),
                            ..parent
                        };
                        if let Some(Location::Eav { name, .. }) = self.map.locate(&sr) {
                            names.push(name);
                        }
                    }
                    let ps: Vec<String> = names
                        .into_iter()
                        .map(|n| self.param(SqlParam::Text(n)))
                        .collect();
                    let _ = write!(
                        head,
                        " AND {alias}.{} IN ({})",
                        self.q(name_column),
                        ps.join(", ")
                    );
                }
                let inner = self.filter(filter, &inner_scope)?;
                Ok(format!("{head} AND ({inner}))"))
            }
        }
    }

    fn resolve(&self, path: &AttrPath, scope: &Scope<'a>) -> Result<Resolved<'a>, Error> {
        let parent = match scope {
            Scope::Top => None,
            Scope::Single(p) | Scope::Element { parent: p, .. } => Some(*p),
        };
        self.schema.target(path, parent, Context::Filter)
    }

    fn locate(&self, path: &AttrPath, r: &Resolved<'_>) -> Result<Location, Error> {
        self.map.locate(r).ok_or_else(|| {
            unsupported(
                path,
                format!("attribute \"{path}\", which has no column mapping"),
            )
        })
    }

    /// All sub-attributes a value filter uses must be stored the same way (same child table, or
    /// an EAV table with an element column) so that they can be correlated per element.
    fn element_source(
        &self,
        path: &AttrPath,
        parent: &Resolved<'a>,
        f: &Filter,
    ) -> Result<Location, Error> {
        let mut subs: Vec<&AttributeDef> = Vec::new();
        collect_subs(f, parent, &mut subs);
        if subs.is_empty() {
            subs.extend(parent.attr.sub_attributes.iter());
        }
        let mut found: Option<Location> = None;
        for s in subs {
            let r = Resolved {
                sub: Some(s),
                ..*parent
            };
            let loc = self.locate(path, &r)?;
            let key = match &loc {
                Location::Column { .. } => Location::Column {
                    column: String::new(),
                },
                Location::ChildTable {
                    table,
                    owner_column,
                    ..
                } => Location::ChildTable {
                    table: table.clone(),
                    owner_column: owner_column.clone(),
                    value_column: String::new(),
                },
                Location::Eav {
                    element_column: Some(_),
                    ..
                } => {
                    let mut k = loc.clone();
                    if let Location::Eav { name, .. } = &mut k {
                        name.clear();
                    }
                    k
                }
                _ => {
                    return Err(unsupported(path, format!("the value path on multi-valued \"{path}\" unless its sub-attributes are all columns, all in one child table, or in an EAV table with an element column")));
                }
            };
            match &found {
                None => found = Some(key),
                Some(k) if *k == key => {}
                Some(_) => {
                    return Err(unsupported(path, format!("the value path on \"{path}\": its sub-attributes are stored in different tables")));
                }
            }
        }
        found.ok_or_else(|| unsupported(path, format!("the value path on \"{path}\"")))
    }

    /// `EXISTS (SELECT 1 FROM t AS alias WHERE alias.owner = main.key` (unclosed), for iterating
    /// the elements of a multi-valued attribute.
    fn exists_head(&mut self, source: &Location, alias: &str) -> (String, Location) {
        let key = self.main_col(self.map.key_column());
        match source {
            Location::ChildTable {
                table,
                owner_column,
                ..
            } => (
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {alias}.{} = {key}",
                    self.q(table),
                    self.q(owner_column)
                ),
                source.clone(),
            ),
            Location::Eav {
                table,
                owner_column,
                ..
            } => (
                format!(
                    "EXISTS (SELECT 1 FROM {} AS {alias} WHERE {alias}.{} = {key}",
                    self.q(table),
                    self.q(owner_column)
                ),
                source.clone(),
            ),
            Location::Column { .. } => (String::new(), source.clone()),
        }
    }

    /// Wraps a condition on the value expression `x` for the location of `r`.
    /// Returns `(value_expr_builder_result)` by calling `cond` with the value expression.
    fn with_value(
        &mut self,
        path: &AttrPath,
        r: &Resolved<'a>,
        scope: &Scope<'a>,
        cond: &mut dyn FnMut(&mut Self, &str, bool) -> String,
    ) -> Result<String, Error> {
        let loc = self.locate(path, r)?;
        if let Scope::Element { alias, source, .. } = scope {
            return match (&loc, source) {
                (
                    Location::ChildTable {
                        table,
                        value_column,
                        ..
                    },
                    Location::ChildTable { table: t2, .. },
                ) if table == t2 => {
                    let x = format!("{alias}.{}", self.q(value_column));
                    Ok(cond(self, &x, false))
                }
                (
                    Location::Eav {
                        table,
                        owner_column,
                        name_column,
                        name,
                        value_column,
                        element_column: Some(elem),
                    },
                    Location::Eav { .. },
                ) => {
                    let a = self.alias();
                    let name_p = self.param(SqlParam::Text(name.clone()));
                    let x = format!("{a}.{}", self.q(value_column));
                    let c = cond(self, &x, true);
                    Ok(format!(
                        "EXISTS (SELECT 1 FROM {} AS {a} WHERE {a}.{oc} = {alias}.{oc} AND {a}.{ec} = {alias}.{ec} AND {a}.{} = {name_p} AND {c})",
                        self.q(table),
                        self.q(name_column),
                        oc = self.q(owner_column),
                        ec = self.q(elem),
                    ))
                }
                _ => Err(unsupported(
                    path,
                    format!("sub-attribute \"{path}\" stored apart from its element"),
                )),
            };
        }
        match loc {
            Location::Column { column } => {
                let x = self.main_col(&column);
                Ok(cond(self, &x, false))
            }
            Location::ChildTable {
                table,
                owner_column,
                value_column,
            } => {
                let a = self.alias();
                let key = self.main_col(self.map.key_column());
                let x = format!("{a}.{}", self.q(&value_column));
                let c = cond(self, &x, false);
                Ok(format!(
                    "EXISTS (SELECT 1 FROM {} AS {a} WHERE {a}.{} = {key} AND {c})",
                    self.q(&table),
                    self.q(&owner_column)
                ))
            }
            Location::Eav {
                table,
                owner_column,
                name_column,
                name,
                value_column,
                ..
            } => {
                let a = self.alias();
                let key = self.main_col(self.map.key_column());
                let name_p = self.param(SqlParam::Text(name));
                let x = format!("{a}.{}", self.q(&value_column));
                let c = cond(self, &x, true);
                Ok(format!(
                    "EXISTS (SELECT 1 FROM {} AS {a} WHERE {a}.{} = {key} AND {a}.{} = {name_p} AND {c})",
                    self.q(&table),
                    self.q(&owner_column),
                    self.q(&name_column)
                ))
            }
        }
    }

    /// RFC 7644 §3.4.2.2 `pr`: a non-null value, and for text a non-empty one.
    fn present(
        &mut self,
        path: &AttrPath,
        r: &Resolved<'a>,
        scope: &Scope<'a>,
    ) -> Result<String, Error> {
        let leaf = r.leaf();
        if leaf.ty == AttrType::Complex {
            // A complex attribute is present if any of its sub-attributes is.
            let mut parts = Vec::new();
            for s in &leaf.sub_attributes {
                let sr = Resolved { sub: Some(s), ..*r };
                if self.map.locate(&sr).is_some() {
                    parts.push(self.present(path, &sr, scope)?);
                }
            }
            if parts.is_empty() {
                return Err(unsupported(
                    path,
                    format!("\"{path} pr\": no sub-attribute is mapped"),
                ));
            }
            return Ok(if parts.len() == 1 {
                parts.remove(0)
            } else {
                format!("({})", parts.join(" OR "))
            });
        }
        let textual = leaf.ty.is_textual();
        self.with_value(path, r, scope, &mut |_, x, text_enc| {
            if textual || text_enc {
                format!("({x} IS NOT NULL AND {x} <> '')")
            } else {
                format!("{x} IS NOT NULL")
            }
        })
    }

    fn compare(
        &mut self,
        path: &AttrPath,
        r: &Resolved<'a>,
        op: CompareOp,
        value: &CompValue,
        scope: &Scope<'a>,
    ) -> Result<String, Error> {
        let c = check_compare(r, path, op, value, Context::Filter)?;
        let target = c.target;
        if c.value == Typed::Null {
            // RFC 7643 §2.5: `eq null` ⇔ no value.
            let p = self.present(path, &target, scope)?;
            return Ok(if op == CompareOp::Eq {
                format!("NOT COALESCE(({p}), FALSE)")
            } else {
                p
            });
        }
        let leaf = target.leaf();
        let case_exact = leaf.case_exact;
        let dialect = self.dialect;
        let bool_int = self.map.booleans_as_integers();
        let lit = c.value;
        self.with_value(path, &target, scope, &mut |g, x, text_enc| {
            g.condition(x, op, &lit, case_exact, text_enc, dialect, bool_int)
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn condition(
        &mut self,
        x: &str,
        op: CompareOp,
        lit: &Typed,
        case_exact: bool,
        text_enc: bool,
        dialect: Dialect,
        bool_int: bool,
    ) -> String {
        let sym = match op {
            CompareOp::Eq => "=",
            CompareOp::Ne => "<>",
            CompareOp::Gt => ">",
            CompareOp::Ge => ">=",
            CompareOp::Lt => "<",
            CompareOp::Le => "<=",
            CompareOp::Co | CompareOp::Sw | CompareOp::Ew => "LIKE",
        };
        match lit {
            Typed::Text(s) => self.text_condition(x, op, sym, s, case_exact),
            Typed::Bool(b) => {
                let p = if text_enc {
                    self.param(SqlParam::Text(b.to_string()))
                } else if bool_int {
                    self.param(SqlParam::Integer(i64::from(*b)))
                } else {
                    self.param(SqlParam::Bool(*b))
                };
                format!("{x} {sym} {p}")
            }
            Typed::Number(n) => {
                let param = if n.fract() == 0.0 && n.abs() < 9.0e15 {
                    // Exactly representable integers bind as integers (compares right with
                    // INTEGER columns on every engine).
                    #[allow(clippy::cast_possible_truncation)]
                    SqlParam::Integer(*n as i64)
                } else {
                    SqlParam::Real(*n)
                };
                let p = self.param(param);
                if text_enc {
                    let ty = match dialect {
                        Dialect::Postgres => "DOUBLE PRECISION",
                        Dialect::Sqlite => "REAL",
                        Dialect::MySql => "DOUBLE",
                    };
                    format!("CAST({x} AS {ty}) {sym} {p}")
                } else {
                    format!("{x} {sym} {p}")
                }
            }
            Typed::Time(t) => {
                let p = self.param(SqlParam::Text(t.format_utc(6)));
                let coll = match (dialect, text_enc) {
                    (Dialect::Postgres, true) => " COLLATE \"C\"",
                    (Dialect::MySql, _) => " COLLATE utf8mb4_bin",
                    _ => "",
                };
                format!("{x}{coll} {sym} {p}")
            }
            Typed::Null => String::from("FALSE"),
        }
    }

    fn text_condition(
        &mut self,
        x: &str,
        op: CompareOp,
        sym: &str,
        s: &str,
        case_exact: bool,
    ) -> String {
        let (pattern, is_like) = match op {
            CompareOp::Co => (format!("%{}%", escape_like(s)), true),
            CompareOp::Sw => (format!("{}%", escape_like(s)), true),
            CompareOp::Ew => (format!("%{}", escape_like(s)), true),
            _ => (s.to_owned(), false),
        };
        let dialect = self.dialect;
        if !case_exact {
            let p = self.param(SqlParam::Text(pattern));
            let coll = match (dialect, op.is_ordering()) {
                (Dialect::Postgres, true) => " COLLATE \"C\"",
                (Dialect::MySql, _) => " COLLATE utf8mb4_bin",
                _ => "",
            };
            let esc = if is_like { " ESCAPE '!'" } else { "" };
            return format!("LOWER({x}){coll} {sym} LOWER({p}){esc}");
        }
        match (dialect, is_like) {
            // SQLite's LIKE ignores ASCII case; exact substring tests use instr/substr instead.
            (Dialect::Sqlite, true) => match op {
                CompareOp::Co => {
                    let p = self.param(SqlParam::Text(s.to_owned()));
                    format!("instr({x}, {p}) > 0")
                }
                CompareOp::Sw => {
                    let p1 = self.param(SqlParam::Text(s.to_owned()));
                    let p2 = self.param(SqlParam::Text(s.to_owned()));
                    format!("substr({x}, 1, length({p1})) = {p2}")
                }
                _ => {
                    let p1 = self.param(SqlParam::Text(s.to_owned()));
                    let p2 = self.param(SqlParam::Text(s.to_owned()));
                    let p3 = self.param(SqlParam::Text(s.to_owned()));
                    format!("(length({x}) >= length({p1}) AND substr({x}, length({x}) - length({p2}) + 1) = {p3})")
                }
            },
            _ => {
                let p = self.param(SqlParam::Text(pattern));
                let coll = match (dialect, op.is_ordering()) {
                    (Dialect::Postgres, true) => " COLLATE \"C\"",
                    (Dialect::MySql, _) => " COLLATE utf8mb4_bin",
                    _ => "",
                };
                let esc = if is_like { " ESCAPE '!'" } else { "" };
                format!("{x}{coll} {sym} {p}{esc}")
            }
        }
    }
}

/// The sub-attributes a value filter refers to.
fn collect_subs<'s>(f: &Filter, parent: &Resolved<'s>, out: &mut Vec<&'s AttributeDef>) {
    match f {
        Filter::Present { path, .. } | Filter::Compare { path, .. } => {
            if let Some(s) = parent.attr.sub(&path.name) {
                if !out.iter().any(|o| std::ptr::eq(*o, s)) {
                    out.push(s);
                }
            }
        }
        Filter::ValuePath { filter, .. } | Filter::Not(filter, _) => {
            collect_subs(filter, parent, out)
        }
        Filter::And(items, _) | Filter::Or(items, _) => {
            for i in items {
                collect_subs(i, parent, out);
            }
        }
    }
}
