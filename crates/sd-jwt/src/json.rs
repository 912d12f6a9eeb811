//! Strict JSON: duplicate member names are rejected at every depth and nesting is bounded
//! before serde sees the input (RFC 8259 §4 leaves duplicates to the parser; two parsers
//! picking different members is how smuggling bugs start).

use serde_json::{Map, Value};

use crate::{Error, Result};

/// Parses any JSON value, rejecting duplicate names at every depth and nesting deeper than
/// `max_depth` (the shared strict parser of `idforge_jose::json`). `what` names the part for
/// errors.
pub(crate) fn parse_value(bytes: &[u8], max_depth: usize, what: &str) -> Result<Value> {
    idforge_jose::json::parse_value(bytes, max_depth, what).map_err(|e| match e {
        idforge_jose::Error::LimitExceeded(m) => Error::LimitExceeded(m),
        idforge_jose::Error::Malformed(m) => Error::Malformed(m),
        other => Error::Malformed(other.to_string()),
    })
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
