//! Schemas (RFC 7643 §2, §7) and filter validation against them.

use crate::ast::{AttrPath, CompValue, CompareOp, Filter};
use crate::datetime::Instant;
use crate::error::{Context, Error};

/// URN of the core User schema (RFC 7643 §4.1).
pub const USER_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:User";
/// URN of the core Group schema (RFC 7643 §4.2).
pub const GROUP_SCHEMA: &str = "urn:ietf:params:scim:schemas:core:2.0:Group";
/// URN of the Enterprise User extension (RFC 7643 §4.3).
pub const ENTERPRISE_USER_SCHEMA: &str =
    "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

/// An attribute's data type (RFC 7643 §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AttrType {
    /// §2.3.1 String.
    String,
    /// §2.3.2 Boolean.
    Boolean,
    /// §2.3.3 Decimal.
    Decimal,
    /// §2.3.4 Integer.
    Integer,
    /// §2.3.5 DateTime.
    DateTime,
    /// §2.3.6 Binary (base64).
    Binary,
    /// §2.3.7 Reference (a URI).
    Reference,
    /// §2.3.8 Complex.
    Complex,
}

impl AttrType {
    /// The RFC 7643 §7 `type` keyword.
    pub fn as_str(self) -> &'static str {
        match self {
            AttrType::String => "string",
            AttrType::Boolean => "boolean",
            AttrType::Decimal => "decimal",
            AttrType::Integer => "integer",
            AttrType::DateTime => "dateTime",
            AttrType::Binary => "binary",
            AttrType::Reference => "reference",
            AttrType::Complex => "complex",
        }
    }

    /// Parses an RFC 7643 §7 `type` keyword.
    pub fn from_keyword(s: &str) -> Option<AttrType> {
        [
            AttrType::String,
            AttrType::Boolean,
            AttrType::Decimal,
            AttrType::Integer,
            AttrType::DateTime,
            AttrType::Binary,
            AttrType::Reference,
            AttrType::Complex,
        ]
        .into_iter()
        .find(|t| t.as_str().eq_ignore_ascii_case(s))
    }

    /// String-like types, whose JSON form is a string compared as text.
    pub fn is_textual(self) -> bool {
        matches!(
            self,
            AttrType::String | AttrType::Reference | AttrType::Binary
        )
    }
}

/// One attribute definition (RFC 7643 §7 "attributes").
#[derive(Debug, Clone, PartialEq)]
pub struct AttributeDef {
    /// The attribute name (case-insensitive, RFC 7643 §2.1).
    pub name: String,
    /// Its type.
    pub ty: AttrType,
    /// `multiValued` (RFC 7643 §2.4).
    pub multi_valued: bool,
    /// `caseExact` (RFC 7643 §7): whether string comparisons are case-sensitive.
    pub case_exact: bool,
    /// Sub-attributes of a complex attribute (RFC 7643 §2.3.8).
    pub sub_attributes: Vec<AttributeDef>,
}

impl AttributeDef {
    /// A single-valued, case-insensitive attribute of the given type.
    pub fn new(name: impl Into<String>, ty: AttrType) -> Self {
        AttributeDef {
            name: name.into(),
            ty,
            multi_valued: false,
            case_exact: matches!(ty, AttrType::Binary | AttrType::Reference),
            sub_attributes: Vec::new(),
        }
    }

    /// A complex attribute with the given sub-attributes.
    pub fn complex(name: impl Into<String>, subs: Vec<AttributeDef>) -> Self {
        AttributeDef {
            sub_attributes: subs,
            ..AttributeDef::new(name, AttrType::Complex)
        }
    }

    /// Marks the attribute multi-valued.
    pub fn multi(mut self) -> Self {
        self.multi_valued = true;
        self
    }

    /// Sets `caseExact`.
    pub fn case_exact(mut self, yes: bool) -> Self {
        self.case_exact = yes;
        self
    }

    /// The sub-attribute named `name` (case-insensitive).
    pub fn sub(&self, name: &str) -> Option<&AttributeDef> {
        self.sub_attributes
            .iter()
            .find(|a| a.name.eq_ignore_ascii_case(name))
    }

    /// Reads an RFC 7643 §7 attribute definition from its JSON representation.
    pub fn from_scim_json(v: &serde_json::Value) -> Option<AttributeDef> {
        let name = v.get("name")?.as_str()?.to_owned();
        let ty = AttrType::from_keyword(v.get("type")?.as_str()?)?;
        let flag = |k: &str| {
            v.get(k)
                .and_then(serde_json::Value::as_bool)
                .unwrap_or(false)
        };
        let subs = match v.get("subAttributes").and_then(serde_json::Value::as_array) {
            Some(list) => list
                .iter()
                .map(AttributeDef::from_scim_json)
                .collect::<Option<Vec<_>>>()?,
            None => Vec::new(),
        };
        Some(AttributeDef {
            name,
            ty,
            multi_valued: flag("multiValued"),
            case_exact: flag("caseExact"),
            sub_attributes: subs,
        })
    }
}

/// A schema extension of a resource type (RFC 7643 §3.3): its attributes live in the resource
/// under a member named by the extension's URN.
#[derive(Debug, Clone, PartialEq)]
pub struct Extension {
    /// The extension schema URN.
    pub id: String,
    /// Its attributes.
    pub attributes: Vec<AttributeDef>,
}

/// The attributes of one resource type: its core schema, the common attributes (RFC 7643 §3.1)
/// and its schema extensions.
#[derive(Debug, Clone, PartialEq)]
pub struct Schema {
    /// The core schema URN.
    pub id: String,
    /// Core and common attributes.
    pub attributes: Vec<AttributeDef>,
    /// Schema extensions.
    pub extensions: Vec<Extension>,
}

fn s(name: &str) -> AttributeDef {
    AttributeDef::new(name, AttrType::String)
}

fn multi_complex(name: &str, value: AttributeDef) -> AttributeDef {
    AttributeDef::complex(
        name,
        vec![
            value,
            s("display"),
            s("type"),
            AttributeDef::new("primary", AttrType::Boolean),
        ],
    )
    .multi()
}

/// Common attributes of every resource (RFC 7643 §3.1) plus `schemas` (§3).
fn common() -> Vec<AttributeDef> {
    vec![
        s("id").case_exact(true),
        s("externalId").case_exact(true),
        AttributeDef::new("schemas", AttrType::Reference).multi(),
        AttributeDef::complex(
            "meta",
            vec![
                s("resourceType"),
                AttributeDef::new("created", AttrType::DateTime),
                AttributeDef::new("lastModified", AttrType::DateTime),
                AttributeDef::new("location", AttrType::Reference),
                s("version").case_exact(true),
            ],
        ),
    ]
}

impl Schema {
    /// An empty schema with the common attributes (RFC 7643 §3.1) and the given core URN.
    pub fn new(id: impl Into<String>) -> Self {
        Schema {
            id: id.into(),
            attributes: common(),
            extensions: Vec::new(),
        }
    }

    /// Adds a core attribute.
    pub fn with_attribute(mut self, attr: AttributeDef) -> Self {
        self.attributes.push(attr);
        self
    }

    /// Adds a schema extension.
    pub fn with_extension(mut self, id: impl Into<String>, attributes: Vec<AttributeDef>) -> Self {
        self.extensions.push(Extension {
            id: id.into(),
            attributes,
        });
        self
    }

    /// The RFC 7643 §4.1 User schema with the §4.3 Enterprise User extension (attribute
    /// characteristics from §8.7.1 and §8.7.2).
    pub fn user() -> Self {
        let name = AttributeDef::complex(
            "name",
            [
                "formatted",
                "familyName",
                "givenName",
                "middleName",
                "honorificPrefix",
                "honorificSuffix",
            ]
            .into_iter()
            .map(s)
            .collect(),
        );
        let address = AttributeDef::complex(
            "addresses",
            vec![
                s("formatted"),
                s("streetAddress"),
                s("locality"),
                s("region"),
                s("postalCode"),
                s("country"),
                s("type"),
                AttributeDef::new("primary", AttrType::Boolean),
            ],
        )
        .multi();
        let groups = AttributeDef::complex(
            "groups",
            vec![
                s("value"),
                AttributeDef::new("$ref", AttrType::Reference),
                s("display"),
                s("type"),
            ],
        )
        .multi();
        let mut schema = Schema::new(USER_SCHEMA);
        schema.attributes.extend([
            s("userName"),
            name,
            s("displayName"),
            s("nickName"),
            AttributeDef::new("profileUrl", AttrType::Reference),
            s("title"),
            s("userType"),
            s("preferredLanguage"),
            s("locale"),
            s("timezone"),
            AttributeDef::new("active", AttrType::Boolean),
            s("password"),
            multi_complex("emails", s("value")),
            multi_complex("phoneNumbers", s("value")),
            multi_complex("ims", s("value")),
            multi_complex("photos", AttributeDef::new("value", AttrType::Reference)),
            address,
            groups,
            multi_complex("entitlements", s("value")),
            multi_complex("roles", s("value")),
            multi_complex(
                "x509Certificates",
                AttributeDef::new("value", AttrType::Binary),
            ),
        ]);
        schema.with_extension(
            ENTERPRISE_USER_SCHEMA,
            vec![
                s("employeeNumber"),
                s("costCenter"),
                s("organization"),
                s("division"),
                s("department"),
                AttributeDef::complex(
                    "manager",
                    vec![
                        s("value"),
                        AttributeDef::new("$ref", AttrType::Reference),
                        s("displayName"),
                    ],
                ),
            ],
        )
    }

    /// The RFC 7643 §4.2 Group schema.
    pub fn group() -> Self {
        Schema::new(GROUP_SCHEMA)
            .with_attribute(s("displayName"))
            .with_attribute(
                AttributeDef::complex(
                    "members",
                    vec![
                        s("value"),
                        AttributeDef::new("$ref", AttrType::Reference),
                        s("type"),
                        s("display"),
                    ],
                )
                .multi(),
            )
    }

    /// Builds a schema from RFC 7643 §7 schema representations: the core schema first, then its
    /// extensions. Returns `None` if a definition is malformed.
    pub fn from_scim_json(
        core: &serde_json::Value,
        extensions: &[serde_json::Value],
    ) -> Option<Schema> {
        let attrs = |v: &serde_json::Value| -> Option<Vec<AttributeDef>> {
            v.get("attributes")?
                .as_array()?
                .iter()
                .map(AttributeDef::from_scim_json)
                .collect()
        };
        let mut schema = Schema::new(core.get("id")?.as_str()?);
        schema.attributes.extend(attrs(core)?);
        for e in extensions {
            schema.extensions.push(Extension {
                id: e.get("id")?.as_str()?.to_owned(),
                attributes: attrs(e)?,
            });
        }
        Some(schema)
    }

    /// Resolves a top-level attribute path (RFC 7644 §3.10). Without a URN, core attributes are
    /// searched first, then extensions (accepted when the name is unique among extensions).
    pub fn resolve(&self, path: &AttrPath) -> Option<Resolved<'_>> {
        let find = |list: &'_ [AttributeDef]| -> Option<usize> {
            list.iter()
                .position(|a| a.name.eq_ignore_ascii_case(&path.name))
        };
        let (ext, attr) = match &path.uri {
            Some(uri) if uri.eq_ignore_ascii_case(&self.id) => {
                (None, &self.attributes[find(&self.attributes)?])
            }
            Some(uri) => {
                let e = self
                    .extensions
                    .iter()
                    .find(|e| e.id.eq_ignore_ascii_case(uri))?;
                (Some(e.id.as_str()), &e.attributes[find(&e.attributes)?])
            }
            None => match find(&self.attributes) {
                Some(i) => (None, &self.attributes[i]),
                None => {
                    let mut hits = self
                        .extensions
                        .iter()
                        .filter_map(|e| find(&e.attributes).map(|i| (e, i)));
                    let (e, i) = hits.next()?;
                    if hits.next().is_some() {
                        return None;
                    }
                    (Some(e.id.as_str()), &e.attributes[i])
                }
            },
        };
        let sub = match &path.sub_attr {
            Some(name) => Some(attr.sub(name)?),
            None => None,
        };
        Some(Resolved {
            extension: ext,
            attr,
            sub,
        })
    }

    /// Checks a filter against the schema: unknown attributes, operators the type does not allow
    /// (RFC 7644 §3.4.2.2), value paths on non-complex attributes, literal types.
    pub fn validate(&self, filter: &Filter) -> Result<(), Error> {
        self.validate_in(filter, None, Context::Filter)
    }

    fn validate_in(
        &self,
        filter: &Filter,
        scope: Option<Resolved<'_>>,
        ctx: Context,
    ) -> Result<(), Error> {
        match filter {
            Filter::Present { path, .. } => self.target(path, scope, ctx).map(|_| ()),
            Filter::Compare {
                path, op, value, ..
            } => {
                let t = self.target(path, scope, ctx)?;
                check_compare(&t, path, *op, value, ctx).map(|_| ())
            }
            Filter::ValuePath { path, filter, .. } => {
                let r = self.value_path_scope(path, ctx)?;
                self.validate_in(filter, Some(r), ctx)
            }
            Filter::And(items, _) | Filter::Or(items, _) => items
                .iter()
                .try_for_each(|f| self.validate_in(f, scope, ctx)),
            Filter::Not(inner, _) => self.validate_in(inner, scope, ctx),
        }
    }

    /// Validates a PATCH path (RFC 7644 §3.5.2); errors map to `invalidPath`.
    pub fn validate_patch_path(&self, p: &crate::PatchPath) -> Result<(), Error> {
        let ctx = Context::PatchPath;
        match &p.filter {
            None => self.target(&p.attr, None, ctx).map(|_| ()),
            Some(f) => {
                let r = self.value_path_scope(&p.attr, ctx)?;
                self.validate_in(f, Some(r), ctx)?;
                if let Some(sub) = &p.sub_attr {
                    if r.attr.sub(sub).is_none() {
                        return Err(Error::UnknownAttribute {
                            context: ctx,
                            offset: p.span.start,
                            path: format!("{}.{sub}", p.attr),
                        });
                    }
                }
                Ok(())
            }
        }
    }

    /// Resolves a path used as `path[...]`: it must be a complex attribute, without sub-attribute.
    pub(crate) fn value_path_scope(
        &self,
        path: &AttrPath,
        ctx: Context,
    ) -> Result<Resolved<'_>, Error> {
        let r = self.resolve(path).ok_or_else(|| unknown(path, ctx))?;
        if r.attr.ty != AttrType::Complex || r.sub.is_some() {
            return Err(Error::NotComplex {
                context: ctx,
                offset: path.span.start,
                path: path.to_string(),
            });
        }
        Ok(r)
    }

    /// Resolves a path at top level or, inside a value path, as a sub-attribute of `scope`.
    pub(crate) fn target<'s>(
        &'s self,
        path: &AttrPath,
        scope: Option<Resolved<'s>>,
        ctx: Context,
    ) -> Result<Resolved<'s>, Error> {
        let r = match scope {
            None => {
                if path.sub_attr.is_some() {
                    let parent = AttrPath {
                        sub_attr: None,
                        ..path.clone()
                    };
                    if let Some(p) = self.resolve(&parent) {
                        if p.attr.ty != AttrType::Complex {
                            return Err(Error::NotComplex {
                                context: ctx,
                                offset: path.span.start,
                                path: parent.to_string(),
                            });
                        }
                    }
                }
                self.resolve(path)
            }
            Some(parent) => parent.attr.sub(&path.name).map(|sub| Resolved {
                extension: parent.extension,
                attr: parent.attr,
                sub: Some(sub),
            }),
        };
        r.ok_or_else(|| unknown(path, ctx))
    }
}

fn unknown(path: &AttrPath, ctx: Context) -> Error {
    Error::UnknownAttribute {
        context: ctx,
        offset: path.span.start,
        path: path.to_string(),
    }
}

/// A path resolved against a [`Schema`].
#[derive(Debug, Clone, Copy)]
pub struct Resolved<'s> {
    /// The extension URN the attribute belongs to, `None` for core and common attributes.
    pub extension: Option<&'s str>,
    /// The top-level attribute.
    pub attr: &'s AttributeDef,
    /// The sub-attribute, if the path names one.
    pub sub: Option<&'s AttributeDef>,
}

impl<'s> Resolved<'s> {
    /// The attribute whose values are compared: the sub-attribute if any, else the attribute.
    pub fn leaf(&self) -> &'s AttributeDef {
        self.sub.unwrap_or(self.attr)
    }

    /// Whether the path can hold several values (the attribute or its sub-attribute is
    /// multi-valued).
    pub fn is_multi_valued(&self) -> bool {
        self.attr.multi_valued || self.sub.is_some_and(|s| s.multi_valued)
    }

    /// The canonical dotted name with schema spelling, e.g. `name.familyName` or, for an
    /// extension attribute, `employeeNumber` (see [`Resolved::extension`]).
    pub fn dotted_name(&self) -> String {
        match self.sub {
            Some(sub) => format!("{}.{}", self.attr.name, sub.name),
            None => self.attr.name.clone(),
        }
    }

    /// For a comparison on a complex attribute without sub-attribute (`emails co "example.com"`,
    /// RFC 7644 §3.4.2.2 examples), the comparison applies to its `value` sub-attribute
    /// (RFC 7643 §2.4: "value" is the attribute's significant value).
    pub fn with_implicit_value(self) -> Option<Resolved<'s>> {
        if self.sub.is_none() && self.attr.ty == AttrType::Complex {
            let v = self.attr.sub("value")?;
            return Some(Resolved {
                sub: Some(v),
                ..self
            });
        }
        Some(self)
    }
}

/// A comparison literal converted to the attribute's type.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Typed<'v> {
    /// `eq null` / `ne null`: absence test (RFC 7643 §2.5: null and unassigned are equivalent).
    Null,
    Bool(bool),
    Number(f64),
    /// Text, with the attribute's `caseExact`.
    Text(&'v str),
    Time(Instant),
}

/// The compared target and the literal converted to its type, after all RFC checks.
#[derive(Debug, Clone)]
pub(crate) struct CheckedCompare<'s, 'v> {
    pub(crate) target: Resolved<'s>,
    pub(crate) value: Typed<'v>,
}

/// Checks one `attrPath compareOp compValue` against the attribute's type.
pub(crate) fn check_compare<'s, 'v>(
    target: &Resolved<'s>,
    path: &AttrPath,
    op: CompareOp,
    value: &'v CompValue,
    ctx: Context,
) -> Result<CheckedCompare<'s, 'v>, Error> {
    let offset = path.span.start;
    let target = target
        .with_implicit_value()
        .ok_or_else(|| Error::TypeMismatch {
            context: ctx,
            offset,
            detail: format!(
                "complex attribute \"{path}\" has no \"value\" sub-attribute to compare"
            ),
        })?;
    let leaf = target.leaf();
    let not_allowed = || Error::OperatorNotAllowed {
        context: ctx,
        offset,
        op: op.as_str(),
        attr_type: leaf.ty.as_str(),
        path: path.to_string(),
    };
    // RFC 7644 §3.4.2.2: "Boolean and Binary attributes SHALL cause a failed response (HTTP status
    // code 400) with "scimType" of "invalidFilter"" for gt/ge/lt/le.
    if op.is_ordering() && matches!(leaf.ty, AttrType::Boolean | AttrType::Binary) {
        return Err(not_allowed());
    }
    // co/sw/ew are substring tests on text (RFC 7644 §3.4.2.2 Table 3: "the entire operator value
    // must be a substring of the attribute value"); on booleans, numbers, instants and base64 they
    // have no typed meaning, so they are refused rather than applied to a serialization.
    if op.is_substring() && !matches!(leaf.ty, AttrType::String | AttrType::Reference) {
        return Err(not_allowed());
    }
    let mismatch = |what: &str| Error::TypeMismatch {
        context: ctx,
        offset,
        detail: format!(
            "cannot compare {} attribute \"{path}\" with {what}",
            leaf.ty.as_str()
        ),
    };
    let typed = match value {
        // RFC 7643 §2.5: unassigned and null are equivalent; only equality makes sense.
        CompValue::Null if matches!(op, CompareOp::Eq | CompareOp::Ne) => Typed::Null,
        CompValue::Null => return Err(mismatch("null (only eq and ne accept null)")),
        CompValue::Bool(b) if leaf.ty == AttrType::Boolean => Typed::Bool(*b),
        CompValue::Number(n) if matches!(leaf.ty, AttrType::Integer | AttrType::Decimal) => {
            let f = n
                .as_f64()
                .ok_or_else(|| mismatch("an out-of-range number"))?;
            Typed::Number(f)
        }
        CompValue::String(t) if leaf.ty == AttrType::DateTime => Typed::Time(
            Instant::parse(t).ok_or_else(|| mismatch("a string that is not an xsd:dateTime"))?,
        ),
        CompValue::String(t) if leaf.ty.is_textual() => Typed::Text(t),
        CompValue::Bool(_) => return Err(mismatch("a boolean")),
        CompValue::Number(_) => return Err(mismatch("a number")),
        CompValue::String(_) => return Err(mismatch("a string")),
    };
    if leaf.ty == AttrType::Complex {
        return Err(mismatch("a literal"));
    }
    Ok(CheckedCompare {
        target,
        value: typed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse_filter;
    use serde_json::json;

    #[test]
    fn reads_rfc7643_schema_representations() {
        // The shape of RFC 7643 §8.7.1, trimmed.
        let core = json!({
            "id": "urn:example:schemas:Device",
            "attributes": [
                {"name": "serial", "type": "string", "multiValued": false, "caseExact": true},
                {"name": "ports", "type": "integer", "multiValued": true},
                {"name": "owner", "type": "complex", "subAttributes": [
                    {"name": "value", "type": "string"},
                    {"name": "since", "type": "dateTime"}
                ]}
            ]
        });
        let ext = json!({"id": "urn:example:schemas:Rack", "attributes": [{"name": "slot", "type": "integer"}]});
        let schema = Schema::from_scim_json(&core, &[ext]).expect("valid definitions");
        let check = |f: &str| schema.validate(&parse_filter(f).expect(f));
        assert!(
            check(r#"serial eq "A" and ports gt 2 and owner.since lt "2020-01-01T00:00:00Z""#)
                .is_ok()
        );
        assert!(check("urn:example:schemas:Rack:slot ge 3 and slot le 9").is_ok());
        assert!(matches!(
            check(r#"owner.since co "2020""#),
            Err(Error::OperatorNotAllowed { .. })
        ));
        let serial = schema
            .resolve(&AttrPath::new("SERIAL"))
            .expect("case-insensitive");
        assert!(serial.leaf().case_exact);
        assert!(Schema::from_scim_json(
            &json!({"id": "x", "attributes": [{"name": "a", "type": "nope"}]}),
            &[]
        )
        .is_none());
    }

    #[test]
    fn unqualified_extension_names_must_be_unique() {
        let schema = Schema::new("urn:core")
            .with_extension(
                "urn:e1",
                vec![AttributeDef::new("level", AttrType::Integer)],
            )
            .with_extension(
                "urn:e2",
                vec![AttributeDef::new("level", AttrType::Integer)],
            );
        assert!(schema.resolve(&AttrPath::new("level")).is_none());
        let qualified = schema
            .resolve(&AttrPath::new("level").with_uri("urn:E2"))
            .expect("qualified");
        assert_eq!(qualified.extension, Some("urn:e2"));
    }
}
