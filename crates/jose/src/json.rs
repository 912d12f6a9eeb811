//! Strict JSON object parsing for JOSE headers and JWT claims.
//!
//! RFC 7515 §5.2 step 4 lets a recipient either reject duplicate member names or take the last;
//! different libraries take different ones, which is how header-smuggling bugs happen, so we
//! reject them. Nesting depth is bounded before serde sees the input.

use serde::de::{Deserialize, Deserializer, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::{Error, Result};

struct UniqueObject(Map<String, Value>);

impl<'de> Deserialize<'de> for UniqueObject {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = UniqueObject;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut access: A,
            ) -> std::result::Result<UniqueObject, A::Error> {
                let mut map = Map::new();
                while let Some((k, v)) = access.next_entry::<String, Value>()? {
                    if map.contains_key(&k) {
                        return Err(serde::de::Error::custom(format!("duplicate member `{k}`")));
                    }
                    map.insert(k, v);
                }
                Ok(UniqueObject(map))
            }
        }
        d.deserialize_map(V)
    }
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

/// Parses `bytes` as a JSON object with unique top-level member names and at most `max_depth`
/// levels of nesting. `what` names the part for error messages.
pub fn parse_object(bytes: &[u8], max_depth: usize, what: &str) -> Result<Map<String, Value>> {
    if nesting_depth(bytes) > max_depth {
        return Err(Error::LimitExceeded(format!(
            "{what} nests deeper than {max_depth}"
        )));
    }
    serde_json::from_slice::<UniqueObject>(bytes)
        .map(|o| o.0)
        .map_err(|e| Error::Malformed(format!("{what}: {e}")))
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
    }
}
