//! JSON Pointers (RFC 6901) naming claims: `/address/street_address`, `/nationalities/1`.

use serde_json::Value;

use crate::{Error, Result};

/// A parsed JSON Pointer: the reference tokens, unescaped (`~1` → `/`, `~0` → `~`).
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ClaimPath(Vec<String>);

impl ClaimPath {
    /// The empty pointer (the whole document).
    pub fn root() -> Self {
        ClaimPath(Vec::new())
    }

    /// The path through these member names or array indices, unescaped (no RFC 6901 `~0`,
    /// `~1` processing: a token is taken as it is, so names holding `/` or `~` need no care).
    pub fn from_tokens<T: Into<String>>(tokens: impl IntoIterator<Item = T>) -> Self {
        ClaimPath(tokens.into_iter().map(Into::into).collect())
    }

    /// Parses RFC 6901 text. The empty string is the root; anything else starts with `/`.
    pub fn parse(text: &str) -> Result<Self> {
        if text.is_empty() {
            return Ok(ClaimPath::root());
        }
        let Some(rest) = text.strip_prefix('/') else {
            return Err(Error::InvalidPath(text.to_owned()));
        };
        let mut tokens = Vec::new();
        for raw in rest.split('/') {
            let mut token = String::with_capacity(raw.len());
            let mut chars = raw.chars();
            while let Some(c) = chars.next() {
                if c == '~' {
                    match chars.next() {
                        Some('0') => token.push('~'),
                        Some('1') => token.push('/'),
                        // RFC 6901 §3: `~` must be followed by `0` or `1`.
                        _ => return Err(Error::InvalidPath(text.to_owned())),
                    }
                } else {
                    token.push(c);
                }
            }
            tokens.push(token);
        }
        Ok(ClaimPath(tokens))
    }

    /// The reference tokens.
    pub fn tokens(&self) -> &[String] {
        &self.0
    }

    /// Whether this is the root pointer.
    pub fn is_root(&self) -> bool {
        self.0.is_empty()
    }

    /// This path extended by one token.
    pub fn child(&self, token: impl Into<String>) -> Self {
        let mut v = self.0.clone();
        v.push(token.into());
        ClaimPath(v)
    }

    /// Whether `self` is a proper prefix of (an ancestor of) `other`.
    pub fn is_ancestor_of(&self, other: &ClaimPath) -> bool {
        self.0.len() < other.0.len() && other.0[..self.0.len()] == self.0[..]
    }

    /// Whether `self` equals `other` or is an ancestor of it.
    pub fn contains(&self, other: &ClaimPath) -> bool {
        self == other || self.is_ancestor_of(other)
    }

    /// Resolves this pointer in `value` (RFC 6901 §4; array indices are decimal without
    /// leading zeros).
    pub fn resolve<'a>(&self, mut value: &'a Value) -> Option<&'a Value> {
        for token in &self.0 {
            value = match value {
                Value::Object(m) => m.get(token)?,
                Value::Array(a) => a.get(array_index(token)?)?,
                _ => return None,
            };
        }
        Some(value)
    }
}

/// RFC 6901 §4: an array index is `0` or digits without a leading zero.
pub(crate) fn array_index(token: &str) -> Option<usize> {
    if token.is_empty()
        || !token.bytes().all(|b| b.is_ascii_digit())
        || (token.len() > 1 && token.starts_with('0'))
    {
        return None;
    }
    token.parse().ok()
}

impl std::fmt::Display for ClaimPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for t in &self.0 {
            write!(f, "/{}", t.replace('~', "~0").replace('/', "~1"))?;
        }
        Ok(())
    }
}

impl std::str::FromStr for ClaimPath {
    type Err = Error;
    fn from_str(s: &str) -> Result<Self> {
        ClaimPath::parse(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parse_escape_and_resolve() {
        let p = ClaimPath::parse("/a~1b/m~0n/1").unwrap();
        assert_eq!(p.tokens(), ["a/b", "m~n", "1"]);
        assert_eq!(p.to_string(), "/a~1b/m~0n/1");
        let doc = json!({"a/b": {"m~n": [0, 42]}});
        assert_eq!(p.resolve(&doc), Some(&json!(42)));
        assert!(ClaimPath::parse("a").is_err());
        assert!(ClaimPath::parse("/~2").is_err());
        assert_eq!(
            ClaimPath::parse("/x/01")
                .unwrap()
                .resolve(&json!({"x":[1,2]})),
            None
        );
        assert!(ClaimPath::parse("/a")
            .unwrap()
            .is_ancestor_of(&ClaimPath::parse("/a/b").unwrap()));
        assert!(!ClaimPath::parse("/a")
            .unwrap()
            .is_ancestor_of(&ClaimPath::parse("/a").unwrap()));
    }
}
