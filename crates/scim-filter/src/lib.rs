//! SCIM 2.0 filters (RFC 7644 §3.4.2.2): parse, validate against a schema, evaluate against JSON
//! resources, and translate to parameterized SQL and to LDAP search filters (RFC 4515).
//!
//! ```
//! use idforge_scim_filter::{matches, parse_filter, sql, Schema};
//!
//! let filter = parse_filter(r#"userName eq "bjensen" and meta.lastModified ge "2011-05-13T04:42:34Z""#)?;
//! let user = serde_json::json!({"userName": "bjensen", "meta": {"lastModified": "2012-01-01T00:00:00Z"}});
//! assert!(matches(&filter, &user, &Schema::user())?);
//!

//! # Ok::<(), idforge_scim_filter::Error>(())
//! ```
//!
//! Layers: [`parse_filter`] gives a [`Filter`] tree with byte [`Span`]s whose `Display` is the
//! canonical text; [`Schema`] holds RFC 7643 attribute definitions; [`matches()`] evaluates;
//! [`sql`] and [`ldap`] translate through host-implemented mapping ports ([`sql::ColumnMap`],
//! [`ldap::AttributeMap`]). Every failure is an [`Error`] with a byte offset and the RFC 7644
//! §3.12 error mapping ([`Error::to_scim_error`]).
#![forbid(unsafe_code)]

mod ast;
mod datetime;
mod error;
mod eval;
pub mod ldap;
mod parser;
mod schema;
pub mod sql;

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;

pub use ast::{AttrPath, CompValue, CompareOp, Filter, Span};
pub use datetime::Instant;
pub use error::{Context, Error, LimitKind, ScimType};
pub use eval::{compile, matches, CompiledFilter};
pub use parser::{
    parse_attr_path, parse_attribute_list, parse_filter, parse_filter_with, parse_patch_path,
    parse_patch_path_with, Limits, PatchPath,
};
pub use schema::{
    AttrType, AttributeDef, Extension, Resolved, Schema, ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA,
    USER_SCHEMA,
};
