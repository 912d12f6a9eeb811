//! JWT (RFC 7519) signing and claims validation driven by a [`Clock`].

use serde_json::{Map, Value};

use crate::clock::Clock;
use crate::error::ClaimsError;
use crate::json::parse_object;
use crate::jws::{media_type_eq, sign_compact, Header, JwsPolicy};
use crate::signer::{LocalSigner, Verifier};
use crate::{Error, Result};

/// Well-known `typ` values (RFC 8725 §3.11: explicit typing keeps one kind of JWT from being
/// accepted as another).
pub mod typ {
    /// RFC 9068 JWT access tokens.
    pub const ACCESS_TOKEN: &str = "at+jwt";
    /// SD-JWT VC (draft-ietf-oauth-sd-jwt-vc).
    pub const SD_JWT_VC: &str = "dc+sd-jwt";
    /// OpenID4VCI key proofs (OID4VCI §8.2.1.1).
    pub const OPENID4VCI_PROOF: &str = "openid4vci-proof+jwt";
    /// Key-binding JWTs of SD-JWT (RFC 9901 §4.3).
    pub const KB_JWT: &str = "kb+jwt";
    /// Plain JWTs.
    pub const JWT: &str = "JWT";
}

/// A verified JWT: its header and claims.
#[derive(Debug, Clone, PartialEq)]
pub struct Jwt {
    /// JOSE header.
    pub header: Header,
    /// Claims set.
    pub claims: Map<String, Value>,
}

/// The claim checks to apply after the signature verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClaimsValidation {
    /// Required `iss` value (RFC 7519 §4.1.1), compared exactly.
    pub issuer: Option<String>,
    /// Required audience: `aud` must equal it or be an array containing it (RFC 7519 §4.1.3).
    pub audience: Option<String>,
    /// Required `typ` header (compared per RFC 7515 §4.1.9).
    pub typ: Option<String>,
    /// Clock skew tolerated on `exp`, `nbf` and `iat`, in seconds.
    pub leeway: i64,
    /// Whether `exp` must be present.
    pub require_exp: bool,
    /// Whether `iat` must be present.
    pub require_iat: bool,
    /// If set, `iat` must be no older than this many seconds.
    pub max_age: Option<i64>,
    /// Other claims that must be present.
    pub required: Vec<String>,
}

impl Default for ClaimsValidation {
    fn default() -> Self {
        ClaimsValidation {
            issuer: None,
            audience: None,
            typ: None,
            leeway: 60,
            require_exp: true,
            require_iat: false,
            max_age: None,
            required: Vec::new(),
        }
    }
}

/// Reads a NumericDate claim (RFC 7519 §2: seconds, possibly non-integer).
fn numeric_date(
    claims: &Map<String, Value>,
    name: &'static str,
) -> Result<Option<i64>, ClaimsError> {
    match claims.get(name) {
        None => Ok(None),
        Some(Value::Number(n)) => match n.as_i64() {
            Some(i) => Ok(Some(i)),
            None => n
                .as_f64()
                .filter(|f| f.is_finite() && f.abs() < 1e15)
                .map(|f| Some(f.floor() as i64))
                .ok_or_else(|| ClaimsError::Invalid(name.into())),
        },
        Some(_) => Err(ClaimsError::Invalid(name.into())),
    }
}

impl ClaimsValidation {
    /// Expects `iss`.
    pub fn issuer(mut self, iss: impl Into<String>) -> Self {
        self.issuer = Some(iss.into());
        self
    }
    /// Expects `aud` to contain `aud`.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience = Some(aud.into());
        self
    }
    /// Expects the `typ` header.
    pub fn typ(mut self, typ: impl Into<String>) -> Self {
        self.typ = Some(typ.into());
        self
    }
    /// Sets the leeway in seconds.
    pub fn leeway(mut self, seconds: i64) -> Self {
        self.leeway = seconds;
        self
    }

    /// Applies every check to `header` and `claims` at the clock's current time.
    pub fn validate(
        &self,
        header: &Header,
        claims: &Map<String, Value>,
        clock: &dyn Clock,
    ) -> Result<(), ClaimsError> {
        let now = clock.now();
        if let Some(want) = &self.typ {
            if !header.typ().is_some_and(|t| media_type_eq(t, want)) {
                return Err(ClaimsError::Type);
            }
        }
        match numeric_date(claims, "exp")? {
            // RFC 7519 §4.1.4: the token MUST NOT be accepted on or after `exp`.
            Some(exp) if now >= exp.saturating_add(self.leeway) => {
                return Err(ClaimsError::Expired)
            }
            None if self.require_exp => return Err(ClaimsError::Missing("exp".into())),
            _ => {}
        }
        // RFC 7519 §4.1.5: MUST NOT be accepted before `nbf`.
        if let Some(nbf) = numeric_date(claims, "nbf")? {
            if now < nbf.saturating_sub(self.leeway) {
                return Err(ClaimsError::NotYetValid);
            }
        }
        match numeric_date(claims, "iat")? {
            Some(iat) => {
                if iat > now.saturating_add(self.leeway) {
                    return Err(ClaimsError::IssuedAt);
                }
                if let Some(max_age) = self.max_age {
                    if now.saturating_sub(iat) > max_age.saturating_add(self.leeway) {
                        return Err(ClaimsError::IssuedAt);
                    }
                }
            }
            None if self.require_iat || self.max_age.is_some() => {
                return Err(ClaimsError::Missing("iat".into()))
            }
            None => {}
        }
        if let Some(want) = &self.issuer {
            match claims.get("iss") {
                Some(Value::String(iss)) if iss == want => {}
                Some(Value::String(_)) => return Err(ClaimsError::Issuer),
                Some(_) => return Err(ClaimsError::Invalid("iss".into())),
                None => return Err(ClaimsError::Missing("iss".into())),
            }
        }
        if let Some(want) = &self.audience {
            let ok = match claims.get("aud") {
                Some(Value::String(aud)) => aud == want,
                Some(Value::Array(auds)) => {
                    if !auds.iter().all(Value::is_string) {
                        return Err(ClaimsError::Invalid("aud".into()));
                    }
                    auds.iter().any(|a| a == want.as_str())
                }
                Some(_) => return Err(ClaimsError::Invalid("aud".into())),
                None => return Err(ClaimsError::Missing("aud".into())),
            };
            if !ok {
                return Err(ClaimsError::Audience);
            }
        }
        if let Some(name) = self
            .required
            .iter()
            .find(|n| !claims.contains_key(n.as_str()))
        {
            return Err(ClaimsError::Missing(name.clone()));
        }
        Ok(())
    }
}

/// Signs a claims set as a compact JWT. `typ` defaults to `JWT` when the header has none.
pub fn sign_jwt(
    header: Header,
    claims: &Map<String, Value>,
    signer: &LocalSigner,
) -> Result<String> {
    let header = if header.typ().is_none() {
        header.with_typ(typ::JWT)
    } else {
        header
    };
    let payload = serde_json::to_vec(claims).map_err(|_| Error::Backend)?;
    sign_compact(header, &payload, signer)
}

/// Verifies a compact JWT: signature under `policy`, then `validation` at the clock's time.
pub fn verify_jwt(
    token: &str,
    policy: &JwsPolicy,
    verifier: &dyn Verifier,
    validation: &ClaimsValidation,
    clock: &dyn Clock,
) -> Result<Jwt> {
    let verified = policy.verify_compact(token, verifier)?;
    let claims = parse_object(
        &verified.payload,
        policy.limits.max_json_depth.max(32),
        "JWT claims",
    )?;
    validation.validate(&verified.header, &claims, clock)?;
    Ok(Jwt {
        header: verified.header,
        claims,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clock::FixedClock;
    use serde_json::json;

    fn claims(v: Value) -> Map<String, Value> {
        v.as_object().cloned().unwrap()
    }

    #[test]
    fn time_rules_with_leeway() {
        let clock = FixedClock::new(1_000);
        let h = Header::new();
        let v = ClaimsValidation::default().leeway(10);
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": 1011})), &clock),
            Ok(())
        );
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": 990})), &clock),
            Err(ClaimsError::Expired)
        );
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": 2000, "nbf": 1011})), &clock),
            Err(ClaimsError::NotYetValid)
        );
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": 2000, "iat": 1011})), &clock),
            Err(ClaimsError::IssuedAt)
        );
        assert_eq!(
            v.validate(&h, &claims(json!({})), &clock),
            Err(ClaimsError::Missing("exp".into()))
        );
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": "2000"})), &clock),
            Err(ClaimsError::Invalid("exp".into()))
        );
        assert_eq!(
            v.validate(&h, &claims(json!({"exp": 1500.5})), &clock),
            Ok(())
        );
    }

    #[test]
    fn audience_issuer_and_typ() {
        let clock = FixedClock::new(0);
        let v = ClaimsValidation::default()
            .issuer("https://op")
            .audience("rp")
            .typ("at+jwt");
        let h = Header::new().with_typ("application/AT+JWT");
        let ok = claims(json!({"exp": 10, "iss": "https://op", "aud": ["x", "rp"]}));
        assert_eq!(v.validate(&h, &ok, &clock), Ok(()));
        let bad_aud = claims(json!({"exp": 10, "iss": "https://op", "aud": "x"}));
        assert_eq!(v.validate(&h, &bad_aud, &clock), Err(ClaimsError::Audience));
        let bad_iss = claims(json!({"exp": 10, "iss": "https://evil", "aud": "rp"}));
        assert_eq!(v.validate(&h, &bad_iss, &clock), Err(ClaimsError::Issuer));
        assert_eq!(
            v.validate(&Header::new().with_typ("JWT"), &ok, &clock),
            Err(ClaimsError::Type)
        );
    }
}
