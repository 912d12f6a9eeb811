//! The `crit` header parameter, shared by JWS (RFC 7515 §4.1.11) and JWE (RFC 7516 §4.1.13).

use serde_json::{Map, Value};

use crate::{Error, Result};

/// Header parameters registered by RFC 7515, RFC 7516 and RFC 7518. RFC 7515 §4.1.11 forbids
/// listing them in `crit`, so a token that does is malformed.
pub const REGISTERED: &[&str] = &[
    "alg", "jku", "jwk", "kid", "x5u", "x5c", "x5t", "x5t#S256", "typ", "cty", "crit", "enc",
    "zip", "epk", "apu", "apv", "iv", "tag", "p2s", "p2c",
];

/// Checks `crit` (RFC 7515 §4.1.11): it must be integrity protected (no `unprotected` header
/// may carry it), a non-empty array of distinct strings naming parameters that are present in
/// `header` and are neither in [`REGISTERED`] nor in `also_registered`. Only a well-formed list
/// is then checked against `understood`, so a malformed list is always reported as such
/// ([`Error::InvalidHeader`]) and a well-formed one naming an unknown extension as
/// [`Error::UnsupportedCritical`], whatever the caller understands.
pub fn check(
    protected: &Map<String, Value>,
    unprotected: &[&Map<String, Value>],
    header: &Map<String, Value>,
    also_registered: &[&str],
    understood: impl Fn(&str) -> bool,
) -> Result<()> {
    if unprotected.iter().any(|u| u.contains_key("crit")) {
        return Err(Error::InvalidHeader(
            "`crit` must be integrity protected".into(),
        ));
    }
    let Some(crit) = protected.get("crit") else {
        return Ok(());
    };
    let Value::Array(names) = crit else {
        return Err(Error::InvalidHeader("`crit` must be an array".into()));
    };
    if names.is_empty() {
        return Err(Error::InvalidHeader("`crit` must not be empty".into()));
    }
    let mut seen: Vec<&str> = Vec::with_capacity(names.len());
    for name in names {
        let Value::String(name) = name else {
            return Err(Error::InvalidHeader(
                "`crit` entries must be strings".into(),
            ));
        };
        if seen.contains(&name.as_str()) {
            return Err(Error::InvalidHeader(format!(
                "`{name}` is listed twice in `crit`"
            )));
        }
        seen.push(name);
        if REGISTERED.contains(&name.as_str()) || also_registered.contains(&name.as_str()) {
            return Err(Error::InvalidHeader(format!(
                "registered header `{name}` must not be in `crit`"
            )));
        }
        if !header.contains_key(name) {
            return Err(Error::InvalidHeader(format!(
                "critical header `{name}` is absent"
            )));
        }
    }
    match seen.into_iter().find(|name| !understood(name)) {
        Some(name) => Err(Error::UnsupportedCritical(name.to_owned())),
        None => Ok(()),
    }
}
