//! Strict JSON object parsing for JOSE headers and JWT claims.
//!
//! RFC 7515 §5.2 step 4 lets a recipient either reject duplicate member names or take the last;
//! different libraries take different ones, which is how header-smuggling bugs happen, so we
//! reject them, at every depth. Nesting depth is bounded before serde sees the input.

use serde::de::{Deserialize, Deserializer, MapAccess, SeqAccess, Visitor};
use serde_json::map::Entry;
use serde_json::{Map, Value};

use crate::{Error, Result};

/// A JSON value whose objects, at every depth, have unique member names.
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
                while let Some((k, Strict(v))) = access.next_entry::<String, Strict>()? {
                    match map.entry(k) {
                        Entry::Vacant(slot) => {
                            slot.insert(v);
                        }
                        Entry::Occupied(dup) => {
                            return Err(serde::de::Error::custom(format!(
                                "duplicate member `{}`",
                                truncate(dup.key())
                            )))
                        }
                    }
                }
                Ok(Strict(Value::Object(map)))
            }
        }
        d.deserialize_any(V)
    }
}

/// At most 64 characters of untrusted text for an error message.
fn truncate(s: &str) -> String {
    match s.char_indices().nth(64) {
        Some((i, _)) => format!("{}...", &s[..i]),
        None => s.to_owned(),
    }
}

/// Parses any JSON value, rejecting duplicate member names at every depth (not only the top
/// level: a nested duplicate is the same smuggling risk) and nesting deeper than `max_depth`.
/// `what` names the part for error messages.
pub fn parse_value(bytes: &[u8], max_depth: usize, what: &str) -> Result<Value> {
    if nesting_depth(bytes) > max_depth {
        return Err(Error::LimitExceeded(format!(
            "{what} nests deeper than {max_depth}"
        )));
    }
    serde_json::from_slice::<Strict>(bytes)
        .map(|s| s.0)
        .map_err(|e| Error::Malformed(format!("{what}: {e}")))
}

/// Maximum nesting depth of `[`/`{` in `bytes`, ignoring brackets inside strings.
pub fn nesting_depth(bytes: &[u8]) -> usize {
    let (mut depth, mut max, mut i) = (0usize, 0usize, 0usize);
    while let Some(&b) = bytes.get(i) {
        i += 1;
        match b {
            b'"' => {
                // Skip the string body; only `\` and `"` matter inside it. Tokens are mostly
                // strings (base64url digests, claim values), so this inner loop is the hot one.
                while let Some(&c) = bytes.get(i) {
                    i += 1;
                    match c {
                        b'"' => break,
                        b'\\' => i += 1,
                        _ => {}
                    }
                }
            }
            b'{' | b'[' => {
                depth += 1;
                max = max.max(depth);
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    max
}

/// Parses `bytes` as a JSON object with unique member names (at every depth) and at most
/// `max_depth` levels of nesting. `what` names the part for error messages.
pub fn parse_object(bytes: &[u8], max_depth: usize, what: &str) -> Result<Map<String, Value>> {
    match parse_value(bytes, max_depth, what)? {
        Value::Object(m) => Ok(m),
        _ => Err(Error::Malformed(format!("{what}: not a JSON object"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn duplicates_and_depth() {
        assert!(parse_object(br#"{"a":1,"a":2}"#, 8, "h").is_err());
        assert!(parse_object(br#"{"a":"{{{{{{"}"#, 2, "h").is_ok());
        assert!(matches!(
            parse_object(br#"{"a":[[[[1]]]]}"#, 3, "h"),
            Err(Error::LimitExceeded(_))
        ));
        assert!(parse_object(b"[1]", 8, "h").is_err());
        // Nested duplicates too (e.g. inside a `jwk` header or a `cnf` claim).
        assert!(parse_object(br#"{"jwk":{"x":"a","x":"b"}}"#, 8, "h").is_err());
        assert!(parse_value(br#"[{"b":1},{"b":2}]"#, 8, "x").is_ok());
    }
}
