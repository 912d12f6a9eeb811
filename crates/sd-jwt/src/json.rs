//! Strict JSON: duplicate member names are rejected at every depth and nesting is bounded
//! before serde sees the input (RFC 8259 §4 leaves duplicates to the parser; two parsers
//! picking different members is how smuggling bugs start).

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

use crate::{Error, Result};

struct Strict(Value);

impl<'de> Deserialize<'de> for Strict {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Strict;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, v: bool) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::Bool(v)))
            }
            fn visit_i64<E>(self, v: i64) -> std::result::Result<Strict, E> {
                Ok(Strict(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> std::result::Result<Strict, E> {
                Ok(Strict(v.into()))
            }
            fn visit_f64<E>(self, v: f64) -> std::result::Result<Strict, E> {
                Ok(Strict(
                    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number),
                ))
            }
            fn visit_str<E>(self, v: &str) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::String(v.to_owned())))
            }
            fn visit_string<E>(self, v: String) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::String(v)))
            }
            fn visit_unit<E>(self) -> std::result::Result<Strict, E> {
                Ok(Strict(Value::Null))
            }
            fn visit_seq<A: SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Strict, A::Error> {
                let mut items = Vec::new();
                while let Some(Strict(v)) = seq.next_element::<Strict>()? {
                    items.push(v);
                }
                Ok(Strict(Value::Array(items)))
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<Strict, A::Error> {
                let mut map = Map::new();
                while let Some(k) = access.next_key::<String>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!(
                            "duplicate member `{}`",
                            crate::hash::truncate(&k)
                        )));
                    }
                    let Strict(v) = access.next_value::<Strict>()?;
                    map.insert(k, v);
                }
                Ok(Strict(Value::Object(map)))
            }
        }
        d.deserialize_any(V)
    }
}

/// Parses any JSON value, rejecting duplicate names at every depth and nesting deeper than
/// `max_depth`. `what` names the part for errors.
pub(crate) fn parse_value(bytes: &[u8], max_depth: usize, what: &str) -> Result<Value> {
    if idforge_jose::json::nesting_depth(bytes) > max_depth {
        return Err(Error::LimitExceeded(format!(
            "{what} nests deeper than {max_depth}"
        )));
    }
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// Parses a JSON object strictly (see [`parse_value`]).
pub(crate) fn parse_object(
    bytes: &[u8],
    max_depth: usize,
    what: &str,
) -> Result<Map<String, Value>> {
    match parse_value(bytes, max_depth, what)? {
        Value::Object(m) => Ok(m),
        _ => Err(Error::Malformed(format!("{what} is not a JSON object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nested_duplicates_are_rejected() {
        assert!(parse_value(br#"{"a":{"b":1,"b":2}}"#, 8, "x").is_err());
        assert!(parse_value(br#"[{"b":1},{"b":2}]"#, 8, "x").is_ok());
        assert!(matches!(
            parse_value(b"[[[[1]]]]", 3, "x"),
            Err(Error::LimitExceeded(_))
        ));
        assert!(parse_object(b"[1]", 3, "x").is_err());
    }
}
