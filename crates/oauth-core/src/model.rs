//! Typed requests and responses, with validating constructors from query strings and forms.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::{Error, Result};

/// Limits on untrusted input, with safe defaults; exceeding one is `invalid_request`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Limits {
    /// Maximum size of a query string or form body, in bytes.
    pub max_input_bytes: usize,
    /// Maximum number of parameters.
    pub max_params: usize,
    /// Maximum length of any one parameter value.
    pub max_value_bytes: usize,
    /// Maximum number of scope values.
    pub max_scopes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_input_bytes: 16 * 1024,
            max_params: 64,
            max_value_bytes: 8 * 1024,
            max_scopes: 64,
        }
    }
}

/// Parameters that may repeat: RFC 8693 §2.1 `audience` and `resource`, RFC 8707 §2
/// `resource`. Every other parameter "MUST NOT be included more than once" (RFC 6749 §3.1,
/// §3.2).
pub const REPEATABLE_PARAMS: [&str; 2] = ["audience", "resource"];

/// Parameters of a request, each name at most once except [`REPEATABLE_PARAMS`].
///
/// RFC 6749 §3.1/§3.2: "Request and response parameters MUST NOT be included more than once";
/// parameters sent without a value are treated as omitted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Params(BTreeMap<String, Vec<String>>);

impl Params {
    /// Parses `application/x-www-form-urlencoded` bytes (a query string or a form body).
    pub fn parse(input: &[u8], limits: &Limits) -> Result<Params> {
        if input.len() > limits.max_input_bytes {
            return Err(Error::InvalidRequest("request too large".into()));
        }
        let mut params = Params::default();
        for (count, (name, value)) in form_urlencoded::parse(input).enumerate() {
            if count >= limits.max_params {
                return Err(Error::InvalidRequest("too many parameters".into()));
            }
            if value.len() > limits.max_value_bytes {
                return Err(Error::InvalidRequest(format!(
                    "parameter `{}` is too long",
                    truncate(&name)
                )));
            }
            params.push(name.into_owned(), value.into_owned())?;
        }
        Ok(params)
    }

    /// Builds parameters from pairs (a repeated name is an error, as in [`Params::parse`]).
    pub fn from_pairs<K: Into<String>, V: Into<String>>(
        pairs: impl IntoIterator<Item = (K, V)>,
    ) -> Result<Params> {
        let mut params = Params::default();
        for (k, v) in pairs {
            params.push(k.into(), v.into())?;
        }
        Ok(params)
    }

    /// Adds one parameter: an empty value is omitted (RFC 6749 §3.1), a repeated name is
    /// `invalid_request` unless it is one of [`REPEATABLE_PARAMS`].
    fn push(&mut self, name: String, value: String) -> Result<()> {
        if value.is_empty() {
            return Ok(());
        }
        match self.0.get_mut(&name) {
            Some(values) if REPEATABLE_PARAMS.contains(&name.as_str()) => values.push(value),
            Some(_) => {
                return Err(Error::InvalidRequest(format!(
                    "parameter `{}` is repeated",
                    truncate(&name)
                )))
            }
            None => {
                self.0.insert(name, vec![value]);
            }
        }
        Ok(())
    }

    /// The value of `name`, if present (the first one of a repeatable parameter).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.get(name).and_then(|v| v.first()).map(String::as_str)
    }

    /// Every value of `name`, in request order (more than one only for
    /// [`REPEATABLE_PARAMS`]).
    pub fn get_all(&self, name: &str) -> &[String] {
        self.0.get(name).map(Vec::as_slice).unwrap_or_default()
    }

    /// The value of `name`, or `invalid_request` naming it.
    pub fn require(&self, name: &str) -> Result<&str> {
        self.get(name)
            .ok_or_else(|| Error::InvalidRequest(format!("missing parameter `{name}`")))
    }

    /// Every parameter, a repeated one once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0
            .iter()
            .flat_map(|(k, vs)| vs.iter().map(move |v| (k.as_str(), v.as_str())))
    }

    /// Removes and returns a parameter (the first value of a repeatable one).
    pub fn take(&mut self, name: &str) -> Option<String> {
        self.0.remove(name).and_then(|v| v.into_iter().next())
    }
}

fn truncate(s: &str) -> String {
    s.chars().take(40).collect()
}

/// A set of scope values (RFC 6749 §3.3: space-delimited, case-sensitive, order irrelevant).
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Scopes(Vec<String>);

impl Scopes {
    /// Parses a `scope` parameter. RFC 6749 §3.3: `scope-token = 1*( %x21 / %x23-5B / %x5D-7E )`.
    pub fn parse(s: &str, limits: &Limits) -> Result<Scopes> {
        let mut out: Vec<String> = Vec::new();
        for token in s.split(' ').filter(|t| !t.is_empty()) {
            if !token
                .bytes()
                .all(|b| b == 0x21 || (0x23..=0x5b).contains(&b) || (0x5d..=0x7e).contains(&b))
            {
                return Err(Error::InvalidScope("malformed scope value".into()));
            }
            if !out.iter().any(|t| t == token) {
                if out.len() >= limits.max_scopes {
                    return Err(Error::InvalidScope("too many scope values".into()));
                }
                out.push(token.to_owned());
            }
        }
        Ok(Scopes(out))
    }

    /// Scopes from values (deduplicated, order kept).
    pub fn from_values<S: Into<String>>(values: impl IntoIterator<Item = S>) -> Scopes {
        let mut out: Vec<String> = Vec::new();
        for v in values {
            let v = v.into();
            if !out.contains(&v) {
                out.push(v);
            }
        }
        Scopes(out)
    }

    /// Whether `scope` is in the set.
    pub fn contains(&self, scope: &str) -> bool {
        self.0.iter().any(|s| s == scope)
    }

    /// Whether every value of `self` is in `other`.
    pub fn is_subset_of(&self, other: &Scopes) -> bool {
        self.0.iter().all(|s| other.contains(s))
    }

    /// Whether the set is empty.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The values.
    pub fn values(&self) -> &[String] {
        &self.0
    }

    /// The space-delimited form.
    pub fn to_param(&self) -> String {
        self.0.join(" ")
    }
}

/// PKCE code challenge methods (RFC 7636 §4.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum CodeChallengeMethod {
    /// `S256`: `BASE64URL(SHA256(ASCII(code_verifier)))`.
    S256,
    /// `plain`: the challenge is the verifier (refused unless the configuration allows it).
    #[serde(rename = "plain")]
    Plain,
}

impl CodeChallengeMethod {
    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            CodeChallengeMethod::S256 => "S256",
            CodeChallengeMethod::Plain => "plain",
        }
    }
}

/// RFC 7636 §4.1: `code-verifier = 43*128unreserved`; §4.2 the S256 challenge has the same shape.
pub fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'))
}

/// Checks a `code_verifier` against the stored challenge (RFC 7636 §4.6), in constant time.
pub fn verify_pkce(verifier: &str, challenge: &str, method: CodeChallengeMethod) -> bool {
    if !is_pkce_value(verifier) {
        return false;
    }
    let computed = match method {
        CodeChallengeMethod::S256 => idforge_jose::b64::encode(
            idforge_jose::crypto::HashAlg::Sha256.digest(verifier.as_bytes()),
        ),
        CodeChallengeMethod::Plain => verifier.to_owned(),
    };
    idforge_jose::crypto::ct_eq(computed.as_bytes(), challenge.as_bytes())
}

/// How the authorization response is returned (OAuth 2.0 Multiple Response Type Encoding
/// Practices §2.1, OAuth 2.0 Form Post Response Mode §2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ResponseMode {
    /// Parameters in the redirect URI's query component (the default for `code`).
    Query,
    /// An auto-submitting HTML form POSTed to the redirect URI.
    FormPost,
}

impl ResponseMode {
    /// Every mode, as discovery lists them (`response_modes_supported`).
    pub const ALL: [ResponseMode; 2] = [ResponseMode::Query, ResponseMode::FormPost];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            ResponseMode::Query => "query",
            ResponseMode::FormPost => "form_post",
        }
    }

    /// The mode named `name`, if supported.
    pub fn from_name(name: &str) -> Option<ResponseMode> {
        Self::ALL.into_iter().find(|m| m.name() == name)
    }
}

/// A `prompt` value (OIDC Core §3.1.2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Prompt {
    /// No UI may be shown.
    None,
    /// Re-authenticate the user.
    Login,
    /// Ask for consent again.
    Consent,
    /// Let the user choose an account.
    SelectAccount,
}

impl Prompt {
    /// Every value, as discovery lists them (`prompt_values_supported`).
    pub const ALL: [Prompt; 4] = [
        Prompt::None,
        Prompt::Login,
        Prompt::Consent,
        Prompt::SelectAccount,
    ];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            Prompt::None => "none",
            Prompt::Login => "login",
            Prompt::Consent => "consent",
            Prompt::SelectAccount => "select_account",
        }
    }

    /// The value named `name`, if supported.
    pub fn from_name(name: &str) -> Option<Prompt> {
        Self::ALL.into_iter().find(|p| p.name() == name)
    }
}

/// A validated authorization request (RFC 6749 §4.1.1, OIDC Core §3.1.2.1). The host keeps it
/// (it is serializable) while the user logs in or consents, then resumes the flow with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationRequest {
    /// The client.
    pub client_id: String,
    /// The redirect URI the response goes to (exactly one registered, or the one sent).
    pub redirect_uri: String,
    /// Whether `redirect_uri` was sent in the request (then the token request must repeat it,
    /// RFC 6749 §4.1.3).
    pub redirect_uri_sent: bool,
    /// The granted scopes requested.
    pub scopes: Scopes,
    /// `state`, echoed back.
    pub state: Option<String>,
    /// `nonce`, put in the ID token.
    pub nonce: Option<String>,
    /// Response mode.
    pub response_mode: ResponseMode,
    /// PKCE challenge and method.
    pub code_challenge: Option<(String, CodeChallengeMethod)>,
    /// `prompt` values.
    pub prompt: Vec<Prompt>,
    /// `max_age` in seconds.
    pub max_age: Option<i64>,
    /// `login_hint`.
    pub login_hint: Option<String>,
    /// `acr_values`, in order of preference.
    pub acr_values: Vec<String>,
    /// `ui_locales`, in order of preference.
    pub ui_locales: Vec<String>,
    /// The `claims` parameter (OIDC Core §5.5), as parsed JSON.
    pub claims: Option<ClaimsRequest>,
    /// `display` (OIDC Core §3.1.2.1): how the host should show its pages.
    #[serde(default)]
    pub display: Option<Display>,
    /// The `sub` of a valid `id_token_hint` (OIDC Core §3.1.2.1): the user the client expects
    /// to be logged in. Checked against the session before anything is issued.
    #[serde(default)]
    pub id_token_hint_subject: Option<String>,
    /// Parameters of other specifications that a registered
    /// [`AuthorizationExtension`](crate::ports::AuthorizationExtension) reads (RFC 9396
    /// `authorization_details`, RFC 8707 `resource`, OID4VCI `issuer_state`, ...), kept with
    /// the request through login and consent.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub extension_params: BTreeMap<String, Vec<String>>,
}

/// The `display` values of OIDC Core §3.1.2.1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Display {
    /// A full user-agent page (the default).
    Page,
    /// A popup window.
    Popup,
    /// A touch interface.
    Touch,
    /// A feature phone.
    Wap,
}

impl Display {
    /// Every value, as discovery lists them (`display_values_supported`).
    pub const ALL: [Display; 4] = [Display::Page, Display::Popup, Display::Touch, Display::Wap];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            Display::Page => "page",
            Display::Popup => "popup",
            Display::Touch => "touch",
            Display::Wap => "wap",
        }
    }

    /// Parses a `display` value; unknown values are `invalid_request`.
    pub fn parse(v: &str) -> Result<Display> {
        Self::ALL
            .into_iter()
            .find(|d| d.name() == v)
            .ok_or_else(|| Error::InvalidRequest("unsupported display value".into()))
    }
}

impl AuthorizationRequest {
    /// The first value of an extension parameter.
    pub fn extension_param(&self, name: &str) -> Option<&str> {
        self.extension_params
            .get(name)
            .and_then(|v| v.first())
            .map(String::as_str)
    }

    /// Whether this is an OpenID Connect request (`openid` scope, OIDC Core §3.1.2.1).
    pub fn is_openid(&self) -> bool {
        self.scopes.contains("openid")
    }
}

/// The `claims` request parameter (OIDC Core §5.5): which claims go to the ID token and to
/// UserInfo. Each member maps a claim name to `null` or `{essential, value, values}`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClaimsRequest {
    /// Claims requested in the ID token.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub id_token: Vec<String>,
    /// Claims requested from UserInfo.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub userinfo: Vec<String>,
    /// `acr` values required as an Essential Claim of the ID token (OIDC Core §5.5.1.1):
    /// the session must have reached one of them, or the authentication counts as failed.
    /// Empty when `acr` is not requested that way.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub essential_acr: Vec<String>,
}

impl ClaimsRequest {
    /// Parses the JSON of the `claims` parameter (OIDC Core §5.5); anything but an object with
    /// object members is `invalid_request`.
    pub fn parse(text: &str) -> Result<ClaimsRequest> {
        let bad = || Error::InvalidRequest("the `claims` parameter is not valid JSON".into());
        let value: Value = serde_json::from_str(text).map_err(|_| bad())?;
        let obj = value.as_object().ok_or_else(bad)?;
        let names = |member: &str| -> Result<Vec<String>> {
            match obj.get(member) {
                None | Some(Value::Null) => Ok(Vec::new()),
                Some(Value::Object(m)) => {
                    for v in m.values() {
                        if !(v.is_null() || v.is_object()) {
                            return Err(bad());
                        }
                    }
                    Ok(m.keys().take(100).cloned().collect())
                }
                Some(_) => Err(bad()),
            }
        };
        // OIDC Core §5.5.1: `essential` is a boolean, `value` a single value and `values` an
        // array; for `acr` requested as essential with values, §5.5.1.1 makes them binding.
        let mut essential_acr = Vec::new();
        for member in ["id_token", "userinfo"] {
            let Some(Value::Object(m)) = obj.get(member) else {
                continue;
            };
            for (name, req) in m {
                let Value::Object(req) = req else { continue };
                let essential = match req.get("essential") {
                    None => false,
                    Some(Value::Bool(b)) => *b,
                    Some(_) => return Err(bad()),
                };
                let mut values: Vec<String> = Vec::new();
                match req.get("value") {
                    None => {}
                    Some(Value::String(v)) => values.push(v.clone()),
                    Some(_) if name == "acr" => return Err(bad()),
                    Some(_) => {}
                }
                match req.get("values") {
                    None => {}
                    Some(Value::Array(a)) => {
                        for v in a.iter().take(16) {
                            match v {
                                Value::String(v) => values.push(v.clone()),
                                _ if name == "acr" => return Err(bad()),
                                _ => {}
                            }
                        }
                    }
                    Some(_) => return Err(bad()),
                }
                if member == "id_token" && name == "acr" && essential {
                    essential_acr = values;
                }
            }
        }
        Ok(ClaimsRequest {
            id_token: names("id_token")?,
            userinfo: names("userinfo")?,
            essential_acr,
        })
    }
}

/// A request to the token endpoint: form parameters plus the `Authorization` header, if any.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TokenRequest {
    /// The form body's parameters.
    pub params: Params,
    /// The `Authorization` header value (for `client_secret_basic`).
    pub authorization: Option<String>,
}

impl TokenRequest {
    /// Parses a form body (RFC 6749 §4.1.3: `application/x-www-form-urlencoded`).
    pub fn from_form(
        body: &[u8],
        authorization: Option<String>,
        limits: &Limits,
    ) -> Result<TokenRequest> {
        Ok(TokenRequest {
            params: Params::parse(body, limits)?,
            authorization,
        })
    }

    /// The `grant_type`.
    pub fn grant_type(&self) -> Result<&str> {
        self.params.require("grant_type")
    }
}

/// A successful token response (RFC 6749 §5.1, OIDC Core §3.1.3.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TokenResponse {
    /// The access token.
    pub access_token: String,
    /// Always `Bearer` (RFC 6750).
    pub token_type: String,
    /// Lifetime of the access token in seconds.
    pub expires_in: i64,
    /// Refresh token, if issued.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// Granted scope (RFC 6749 §5.1; always sent here, so clients never guess).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// ID token for OpenID requests.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    /// Extra members added by grant handlers from other crates (e.g. `issued_token_type`).
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

impl TokenResponse {
    /// The JSON body.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).unwrap_or(Value::Null)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_empty_parameters() {
        let l = Limits::default();
        assert!(matches!(
            Params::parse(b"a=1&a=2", &l),
            Err(Error::InvalidRequest(_))
        ));
        let p = Params::parse(b"a=&b=x%20y", &l).unwrap();
        assert_eq!(p.get("a"), None);
        assert_eq!(p.get("b"), Some("x y"));
        let big = vec![b'a'; l.max_input_bytes + 1];
        assert!(Params::parse(&big, &l).is_err());
    }

    #[test]
    fn audience_and_resource_may_repeat() {
        // RFC 8693 §2.1 and RFC 8707 §2 allow several `audience` / `resource` values.
        let l = Limits::default();
        let p = Params::parse(
            b"audience=a&resource=https%3A%2F%2Frs1&audience=b&resource=https%3A%2F%2Frs2",
            &l,
        )
        .unwrap();
        assert_eq!(p.get_all("audience"), ["a", "b"]);
        assert_eq!(p.get_all("resource"), ["https://rs1", "https://rs2"]);
        assert_eq!(p.get("audience"), Some("a"));
        assert_eq!(p.iter().count(), 4);
        assert!(p.get_all("scope").is_empty());
        // Round trip through pairs keeps every value.
        let again = Params::from_pairs(p.iter()).unwrap();
        assert_eq!(again, p);
        // The count limit counts every value.
        let tight = Limits {
            max_params: 3,
            ..Limits::default()
        };
        assert!(Params::parse(b"audience=a&audience=b&audience=c&audience=d", &tight).is_err());
        assert!(Params::parse(b"scope=a&scope=b", &l).is_err());
    }

    #[test]
    fn scopes_are_validated() {
        let l = Limits::default();
        let s = Scopes::parse("openid  profile openid", &l).unwrap();
        assert_eq!(s.values(), ["openid", "profile"]);
        assert!(Scopes::parse("a\"b", &l).is_err());
        assert!(Scopes::parse("a\\b", &l).is_err());
    }

    #[test]
    fn pkce_rfc7636_appendix_b() {
        // RFC 7636 Appendix B.
        let verifier = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(verify_pkce(verifier, challenge, CodeChallengeMethod::S256));
        assert!(!verify_pkce(verifier, verifier, CodeChallengeMethod::S256));
        assert!(verify_pkce(verifier, verifier, CodeChallengeMethod::Plain));
        assert!(!verify_pkce("short", "short", CodeChallengeMethod::Plain));
    }

    #[test]
    fn claims_parameter() {
        let c = ClaimsRequest::parse(
            r#"{"id_token":{"email":{"essential":true},"acr":null},"userinfo":{"name":null}}"#,
        )
        .unwrap();
        assert_eq!(c.id_token, ["acr", "email"]);
        assert_eq!(c.userinfo, ["name"]);
        assert!(ClaimsRequest::parse("[]").is_err());
        assert!(ClaimsRequest::parse(r#"{"id_token":{"x":1}}"#).is_err());
    }
}
