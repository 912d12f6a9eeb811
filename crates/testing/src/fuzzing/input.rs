//! Structured fuzz inputs: `arbitrary::Arbitrary` types for the requests and tokens idforge
//! parses, each rendering to the *wire form* the parser takes (a form body, a query string, a
//! compact JWS, an SD-JWT, a SCIM filter). A fuzzer mutating these reaches past the syntax
//! checks far more often than one mutating raw bytes, and what it builds still goes through
//! the real parsers.
//!
//! Why wire-form generators here instead of `#[derive(Arbitrary)]` on the protocol crates'
//! types (`TokenRequest`, `Params`, `AuthorizationRequest`, `Jwk`...): those types are the
//! *output* of the parsers and carry their invariants (limits, validated values, private
//! constructors); an arbitrary instance would skip exactly the parsing code a fuzzer is for,
//! and could hold states the parsers never produce (false findings in users' code). Keeping the
//! generators in this crate also leaves the protocol crates without an `arbitrary` dependency.
//!
//! ```
//! use arbitrary::{Arbitrary, Unstructured};
//! use idforge_testing::fuzzing::input::TokenRequestInput;
//!
//! let bytes = [7u8; 64];
//! let input = TokenRequestInput::arbitrary(&mut Unstructured::new(&bytes))?;
//! let (authorization, body) = input.encode();
//! assert!(!body.contains('\n'));
//! idforge_testing::fuzzing::oauth_token_form(&input.to_fuzz_input());
//! # let _ = authorization;
//! # Ok::<(), arbitrary::Error>(())
//! ```

use arbitrary::Arbitrary;
use base64::Engine as _;
use serde_json::{Map, Value};

fn form(pairs: &[(String, String)]) -> String {
    let mut s = url::form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        s.append_pair(k, v);
    }
    s.finish()
}

fn b64url(bytes: &[u8]) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

/// A client the entry points' providers register, or any other `client_id`.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ClientId {
    /// `web` (confidential, secret `web-secret`).
    Web,
    /// `spa` (public).
    Spa,
    /// `rp` (confidential, secret `rp-secret`: token exchange, end session).
    Rp,
    /// Any text.
    Other(String),
}

impl ClientId {
    /// The `client_id` value.
    pub fn as_str(&self) -> &str {
        match self {
            ClientId::Web => "web",
            ClientId::Spa => "spa",
            ClientId::Rp => "rp",
            ClientId::Other(s) => s,
        }
    }

    fn secret(&self) -> String {
        format!("{}-secret", self.as_str())
    }
}

/// How the client authenticates at the token endpoint (RFC 6749 §2.3.1).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ClientAuth {
    /// No authentication, no `client_id`.
    None,
    /// `client_id` only (a public client).
    PublicId(ClientId),
    /// HTTP Basic with the registered secret, or `secret` when given.
    Basic(ClientId, Option<String>),
    /// `client_id` and `client_secret` in the body.
    Post(ClientId, Option<String>),
    /// An arbitrary `Authorization` header value.
    Header(String),
}

/// A redirect URI: the registered one, a loopback one, or any text.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum RedirectUri {
    /// `https://rp.example/cb` (registered for `web` and `rp`).
    Registered,
    /// `http://127.0.0.1:<port>/cb` (loopback, RFC 8252 §7.3).
    Loopback(u16),
    /// Any text.
    Other(String),
}

impl RedirectUri {
    /// The URI text.
    pub fn render(&self) -> String {
        match self {
            RedirectUri::Registered => "https://rp.example/cb".into(),
            RedirectUri::Loopback(p) => format!("http://127.0.0.1:{p}/cb"),
            RedirectUri::Other(s) => s.clone(),
        }
    }
}

/// A token type URI (RFC 8693 §3).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum TokenType {
    /// `urn:ietf:params:oauth:token-type:access_token`.
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:id_token`.
    IdToken,
    /// `urn:ietf:params:oauth:token-type:jwt`.
    Jwt,
    /// `urn:ietf:params:oauth:token-type:refresh_token`.
    RefreshToken,
    /// Any text.
    Other(String),
}

impl TokenType {
    /// The URI.
    pub fn render(&self) -> String {
        let t = |s: &str| format!("urn:ietf:params:oauth:token-type:{s}");
        match self {
            TokenType::AccessToken => t("access_token"),
            TokenType::IdToken => t("id_token"),
            TokenType::Jwt => t("jwt"),
            TokenType::RefreshToken => t("refresh_token"),
            TokenType::Other(s) => s.clone(),
        }
    }
}

/// The grant of a token request and its parameters.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub enum GrantInput {
    /// `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5).
    AuthorizationCode {
        /// `code`.
        code: String,
        /// `redirect_uri`.
        redirect_uri: Option<RedirectUri>,
        /// `code_verifier`.
        code_verifier: Option<String>,
    },
    /// `refresh_token` (RFC 6749 §6).
    RefreshToken {
        /// `refresh_token`.
        refresh_token: String,
    },
    /// `client_credentials` (RFC 6749 §4.4).
    ClientCredentials,
    /// `password` (RFC 6749 §4.3).
    Password {
        /// `username`.
        username: String,
        /// `password`.
        password: String,
    },
    /// `urn:ietf:params:oauth:grant-type:device_code` (RFC 8628 §3.4).
    DeviceCode {
        /// `device_code`.
        device_code: String,
    },
    /// `urn:ietf:params:oauth:grant-type:token-exchange` (RFC 8693 §2.1).
    TokenExchange {
        /// `subject_token` (a JWT when structured).
        subject_token: TokenText,
        /// `subject_token_type`.
        subject_token_type: TokenType,
        /// `actor_token` and `actor_token_type`.
        actor: Option<(TokenText, TokenType)>,
        /// `audience`.
        audience: Option<String>,
        /// `requested_token_type`.
        requested_token_type: Option<TokenType>,
    },
    /// `urn:openid:params:grant-type:ciba` (CIBA §10.1).
    Ciba {
        /// `auth_req_id`.
        auth_req_id: String,
    },
    /// Any `grant_type`.
    Other(String),
}

/// A token parameter: a structured JWT or any text.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub enum TokenText {
    /// A compact JWS built from [`JwtInput`].
    Jwt(Box<JwtInput>),
    /// Any text.
    Text(String),
}

impl TokenText {
    /// The token text.
    pub fn render(&self) -> String {
        match self {
            TokenText::Jwt(j) => j.to_compact(),
            TokenText::Text(s) => s.clone(),
        }
    }
}

/// A token request (RFC 6749 §3.2): client authentication, grant, scope, extra parameters.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub struct TokenRequestInput {
    /// Client authentication.
    pub auth: ClientAuth,
    /// The grant.
    pub grant: GrantInput,
    /// `scope` tokens.
    pub scope: Option<Vec<Scope>>,
    /// Further parameters (repeated names included: the parser must refuse them).
    pub extra: Vec<(String, String)>,
}

impl TokenRequestInput {
    /// The `Authorization` header (if any) and the `application/x-www-form-urlencoded` body.
    pub fn encode(&self) -> (Option<String>, String) {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut p = |k: &str, v: String| pairs.push((k.to_owned(), v));
        let header = match &self.auth {
            ClientAuth::None => None,
            ClientAuth::PublicId(id) => {
                p("client_id", id.as_str().to_owned());
                None
            }
            ClientAuth::Basic(id, secret) => {
                // RFC 6749 §2.3.1: both parts form-encoded before Basic.
                let enc = |s: &str| -> String {
                    url::form_urlencoded::byte_serialize(s.as_bytes()).collect()
                };
                let secret = secret.clone().unwrap_or_else(|| id.secret());
                let creds = format!("{}:{}", enc(id.as_str()), enc(&secret));
                Some(format!(
                    "Basic {}",
                    base64::engine::general_purpose::STANDARD.encode(creds)
                ))
            }
            ClientAuth::Post(id, secret) => {
                p("client_id", id.as_str().to_owned());
                p(
                    "client_secret",
                    secret.clone().unwrap_or_else(|| id.secret()),
                );
                None
            }
            ClientAuth::Header(h) => Some(h.replace(['\r', '\n'], " ")),
        };
        match &self.grant {
            GrantInput::AuthorizationCode {
                code,
                redirect_uri,
                code_verifier,
            } => {
                p("grant_type", "authorization_code".into());
                p("code", code.clone());
                if let Some(r) = redirect_uri {
                    p("redirect_uri", r.render());
                }
                if let Some(v) = code_verifier {
                    p("code_verifier", v.clone());
                }
            }
            GrantInput::RefreshToken { refresh_token } => {
                p("grant_type", "refresh_token".into());
                p("refresh_token", refresh_token.clone());
            }
            GrantInput::ClientCredentials => p("grant_type", "client_credentials".into()),
            GrantInput::Password { username, password } => {
                p("grant_type", "password".into());
                p("username", username.clone());
                p("password", password.clone());
            }
            GrantInput::DeviceCode { device_code } => {
                p(
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:device_code".into(),
                );
                p("device_code", device_code.clone());
            }
            GrantInput::TokenExchange {
                subject_token,
                subject_token_type,
                actor,
                audience,
                requested_token_type,
            } => {
                p(
                    "grant_type",
                    "urn:ietf:params:oauth:grant-type:token-exchange".into(),
                );
                p("subject_token", subject_token.render());
                p("subject_token_type", subject_token_type.render());
                if let Some((t, ty)) = actor {
                    p("actor_token", t.render());
                    p("actor_token_type", ty.render());
                }
                if let Some(a) = audience {
                    p("audience", a.clone());
                }
                if let Some(t) = requested_token_type {
                    p("requested_token_type", t.render());
                }
            }
            GrantInput::Ciba { auth_req_id } => {
                p("grant_type", "urn:openid:params:grant-type:ciba".into());
                p("auth_req_id", auth_req_id.clone());
            }
            GrantInput::Other(g) => p("grant_type", g.clone()),
        }
        if let Some(scope) = &self.scope {
            p("scope", render_scope(scope));
        }
        for (k, v) in &self.extra {
            p(k, v.clone());
        }
        (header, form(&pairs))
    }

    /// The input of the form entry points ([`oauth_token_form`](super::oauth_token_form),
    /// [`oauth_token_exchange`](super::oauth_token_exchange), [`oauth_par_form`](super::oauth_par_form),
    /// [`ciba_backchannel_form`](super::ciba_backchannel_form)...): the `Authorization` header on the
    /// first line when there is one, then the body (which, form-encoded, has no newline).
    pub fn to_fuzz_input(&self) -> Vec<u8> {
        match self.encode() {
            (Some(header), body) => format!("{header}\n{body}").into_bytes(),
            (None, body) => body.into_bytes(),
        }
    }
}

/// A scope token (RFC 6749 §3.3).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum Scope {
    /// `openid`.
    OpenId,
    /// `profile`.
    Profile,
    /// `email`.
    Email,
    /// `offline_access`.
    OfflineAccess,
    /// Any text.
    Other(String),
}

fn render_scope(scope: &[Scope]) -> String {
    scope
        .iter()
        .map(|s| match s {
            Scope::OpenId => "openid",
            Scope::Profile => "profile",
            Scope::Email => "email",
            Scope::OfflineAccess => "offline_access",
            Scope::Other(s) => s,
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// `response_type` (OAuth 2.0 Multiple Response Type Encoding Practices §3).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ResponseType {
    /// `code`.
    Code,
    /// `id_token`.
    IdToken,
    /// `code id_token`.
    CodeIdToken,
    /// `token`.
    Token,
    /// Any text.
    Other(String),
}

/// `response_mode`.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ResponseMode {
    /// `query`.
    Query,
    /// `fragment`.
    Fragment,
    /// `form_post` (OAuth 2.0 Form Post Response Mode).
    FormPost,
    /// Any text.
    Other(String),
}

/// An authorization request query (RFC 6749 §4.1.1, OIDC Core §3.1.2.1, RFC 7636 §4.3).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub struct AuthorizeQueryInput {
    /// `client_id` (omitted when `None`).
    pub client_id: Option<ClientId>,
    /// `response_type`.
    pub response_type: Option<ResponseType>,
    /// `redirect_uri`.
    pub redirect_uri: Option<RedirectUri>,
    /// `scope`.
    pub scope: Option<Vec<Scope>>,
    /// `state`.
    pub state: Option<String>,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `code_challenge` and whether `code_challenge_method=S256` is sent (else `plain`).
    pub pkce: Option<(String, bool)>,
    /// `response_mode`.
    pub response_mode: Option<ResponseMode>,
    /// `prompt`.
    pub prompt: Option<String>,
    /// `max_age`.
    pub max_age: Option<u32>,
    /// Further parameters.
    pub extra: Vec<(String, String)>,
}

impl AuthorizeQueryInput {
    /// The query string (the input of [`oauth_authorize_query`](super::oauth_authorize_query)).
    pub fn to_query(&self) -> String {
        let mut pairs: Vec<(String, String)> = Vec::new();
        let mut p = |k: &str, v: String| pairs.push((k.to_owned(), v));
        if let Some(c) = &self.client_id {
            p("client_id", c.as_str().to_owned());
        }
        if let Some(r) = &self.response_type {
            p(
                "response_type",
                match r {
                    ResponseType::Code => "code".into(),
                    ResponseType::IdToken => "id_token".into(),
                    ResponseType::CodeIdToken => "code id_token".into(),
                    ResponseType::Token => "token".into(),
                    ResponseType::Other(s) => s.clone(),
                },
            );
        }
        if let Some(r) = &self.redirect_uri {
            p("redirect_uri", r.render());
        }
        if let Some(s) = &self.scope {
            p("scope", render_scope(s));
        }
        if let Some(s) = &self.state {
            p("state", s.clone());
        }
        if let Some(n) = &self.nonce {
            p("nonce", n.clone());
        }
        if let Some((challenge, s256)) = &self.pkce {
            p("code_challenge", challenge.clone());
            p(
                "code_challenge_method",
                if *s256 { "S256" } else { "plain" }.into(),
            );
        }
        if let Some(m) = &self.response_mode {
            p(
                "response_mode",
                match m {
                    ResponseMode::Query => "query".into(),
                    ResponseMode::Fragment => "fragment".into(),
                    ResponseMode::FormPost => "form_post".into(),
                    ResponseMode::Other(s) => s.clone(),
                },
            );
        }
        if let Some(pr) = &self.prompt {
            p("prompt", pr.clone());
        }
        if let Some(m) = self.max_age {
            p("max_age", m.to_string());
        }
        for (k, v) in &self.extra {
            p(k, v.clone());
        }
        form(&pairs)
    }
}

/// A JSON value (bounded by the fuzzer's input, like any `Arbitrary` recursion).
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub enum JsonInput {
    /// `null`.
    Null,
    /// A boolean.
    Bool(bool),
    /// An integer.
    Int(i64),
    /// A finite float (non-finite ones become `null`).
    Float(f64),
    /// A string.
    Str(String),
    /// An array.
    Array(Vec<JsonInput>),
    /// An object (a repeated name keeps the last value).
    Object(Vec<(String, JsonInput)>),
}

impl JsonInput {
    /// The JSON value.
    pub fn to_value(&self) -> Value {
        match self {
            JsonInput::Null => Value::Null,
            JsonInput::Bool(b) => Value::Bool(*b),
            JsonInput::Int(i) => Value::from(*i),
            JsonInput::Float(f) => serde_json::Number::from_f64(*f)
                .map(Value::Number)
                .unwrap_or(Value::Null),
            JsonInput::Str(s) => Value::String(s.clone()),
            JsonInput::Array(a) => Value::Array(a.iter().map(JsonInput::to_value).collect()),
            JsonInput::Object(o) => Value::Object(
                o.iter()
                    .map(|(k, v)| (k.clone(), v.to_value()))
                    .collect::<Map<_, _>>(),
            ),
        }
    }
}

/// A JWS `alg` value: every registered one, `none`, or any text.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum AlgName {
    /// One of `idforge_jose::JwsAlgorithm::ALL`, by index.
    Registered(u8),
    /// `none` (RFC 7518 §3.6: never accepted by a verifier).
    None,
    /// Any text.
    Other(String),
}

impl AlgName {
    /// The `alg` text.
    pub fn render(&self) -> String {
        let all = idforge_jose::JwsAlgorithm::ALL;
        match self {
            AlgName::Registered(i) => all[usize::from(*i) % all.len()].name().to_owned(),
            AlgName::None => "none".into(),
            AlgName::Other(s) => s.clone(),
        }
    }
}

/// JWT claims: the registered ones with typed values, then extra members.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub struct ClaimsInput {
    /// `iss`.
    pub iss: Option<String>,
    /// `sub`.
    pub sub: Option<String>,
    /// `aud` (one string when a single value).
    pub aud: Option<Vec<String>>,
    /// `exp`.
    pub exp: Option<i64>,
    /// `nbf`.
    pub nbf: Option<i64>,
    /// `iat`.
    pub iat: Option<i64>,
    /// `jti`.
    pub jti: Option<String>,
    /// Further members (they may override the typed ones).
    pub extra: Vec<(String, JsonInput)>,
}

impl ClaimsInput {
    /// The claims object.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = Map::new();
        let mut s = |k: &str, v: &Option<String>| {
            if let Some(v) = v {
                m.insert(k.into(), v.clone().into());
            }
        };
        s("iss", &self.iss);
        s("sub", &self.sub);
        s("jti", &self.jti);
        if let Some(aud) = &self.aud {
            let v = match aud.as_slice() {
                [one] => Value::from(one.clone()),
                many => Value::from(many.to_vec()),
            };
            m.insert("aud".into(), v);
        }
        for (k, v) in [("exp", self.exp), ("nbf", self.nbf), ("iat", self.iat)] {
            if let Some(v) = v {
                m.insert(k.into(), v.into());
            }
        }
        for (k, v) in &self.extra {
            m.insert(k.clone(), v.to_value());
        }
        m
    }
}

/// A compact JWS/JWT (RFC 7515 §7.1): a protected header, claims and signature bytes. The
/// signature is arbitrary (so it fails verification unless the fuzzer finds a forgery, which
/// is the point); the header and payload are well-formed JSON more often than not.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub struct JwtInput {
    /// `alg`.
    pub alg: AlgName,
    /// `typ`.
    pub typ: Option<String>,
    /// `kid`.
    pub kid: Option<String>,
    /// `crit`.
    pub crit: Option<Vec<String>>,
    /// `b64` (RFC 7797).
    pub b64: Option<bool>,
    /// Further header members.
    pub header_extra: Vec<(String, JsonInput)>,
    /// The claims.
    pub claims: ClaimsInput,
    /// The signature bytes.
    pub signature: Vec<u8>,
}

impl JwtInput {
    /// The header object.
    pub fn header(&self) -> Map<String, Value> {
        let mut h = Map::new();
        h.insert("alg".into(), self.alg.render().into());
        if let Some(t) = &self.typ {
            h.insert("typ".into(), t.clone().into());
        }
        if let Some(k) = &self.kid {
            h.insert("kid".into(), k.clone().into());
        }
        if let Some(c) = &self.crit {
            h.insert("crit".into(), c.clone().into());
        }
        if let Some(b) = self.b64 {
            h.insert("b64".into(), b.into());
        }
        for (k, v) in &self.header_extra {
            h.insert(k.clone(), v.to_value());
        }
        h
    }

    /// `BASE64URL(header).BASE64URL(claims).BASE64URL(signature)`.
    pub fn to_compact(&self) -> String {
        let header = Value::Object(self.header()).to_string();
        let claims = Value::Object(self.claims.to_map()).to_string();
        format!(
            "{}.{}.{}",
            b64url(header.as_bytes()),
            b64url(claims.as_bytes()),
            b64url(&self.signature)
        )
    }

    /// The input of [`jws_compact`](super::jws_compact): a policy selector byte, then the JWS.
    pub fn to_fuzz_input(&self, policy_selector: u8) -> Vec<u8> {
        let mut v = vec![policy_selector];
        v.extend_from_slice(self.to_compact().as_bytes());
        v
    }
}

/// An SD-JWT Disclosure (RFC 9901 §4.2.1): `[salt, name, value]` or `[salt, value]`.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub struct DisclosureInput {
    /// The salt.
    pub salt: String,
    /// The claim name (`None`: an array element Disclosure).
    pub name: Option<String>,
    /// The value.
    pub value: JsonInput,
}

impl DisclosureInput {
    /// The base64url-encoded Disclosure.
    pub fn encode(&self) -> String {
        let arr = match &self.name {
            Some(n) => Value::from(vec![
                Value::from(self.salt.clone()),
                Value::from(n.clone()),
                self.value.to_value(),
            ]),
            None => Value::from(vec![Value::from(self.salt.clone()), self.value.to_value()]),
        };
        b64url(arr.to_string().as_bytes())
    }
}

/// An SD-JWT in the compact serialization (RFC 9901 §4): issuer-signed JWT, Disclosures, and
/// an optional Key Binding JWT.
#[derive(Debug, Clone, PartialEq, Arbitrary)]
#[non_exhaustive]
pub struct SdJwtInput {
    /// The issuer-signed JWT.
    pub issuer_jwt: JwtInput,
    /// The Disclosures.
    pub disclosures: Vec<DisclosureInput>,
    /// The KB-JWT.
    pub kb_jwt: Option<JwtInput>,
}

impl SdJwtInput {
    /// `<JWT>~<D1>~...~<Dn>~[<KB-JWT>]` (the input of [`sd_jwt_parse`](super::sd_jwt_parse)
    /// and [`sd_jwt_verify`](super::sd_jwt_verify)).
    pub fn to_compact(&self) -> String {
        let mut s = self.issuer_jwt.to_compact();
        s.push('~');
        for d in &self.disclosures {
            s.push_str(&d.encode());
            s.push('~');
        }
        if let Some(kb) = &self.kb_jwt {
            s.push_str(&kb.to_compact());
        }
        s
    }
}

/// A SCIM attribute path of the User schema (RFC 7643 §4.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ScimAttr {
    /// `userName`.
    UserName,
    /// `name.givenName`.
    GivenName,
    /// `emails`.
    Emails,
    /// `emails.value`.
    EmailValue,
    /// `active`.
    Active,
    /// `meta.lastModified`.
    LastModified,
    /// `title`.
    Title,
}

impl ScimAttr {
    fn name(self) -> &'static str {
        match self {
            ScimAttr::UserName => "userName",
            ScimAttr::GivenName => "name.givenName",
            ScimAttr::Emails => "emails",
            ScimAttr::EmailValue => "emails.value",
            ScimAttr::Active => "active",
            ScimAttr::LastModified => "meta.lastModified",
            ScimAttr::Title => "title",
        }
    }
}

/// A SCIM comparison operator (RFC 7644 §3.4.2.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ScimOp {
    /// `eq`.
    Eq,
    /// `ne`.
    Ne,
    /// `co`.
    Co,
    /// `sw`.
    Sw,
    /// `ew`.
    Ew,
    /// `gt`.
    Gt,
    /// `ge`.
    Ge,
    /// `lt`.
    Lt,
    /// `le`.
    Le,
}

/// A comparison value (a JSON literal, RFC 7644 §3.4.2.2).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ScimValue {
    /// A string.
    Str(String),
    /// A boolean.
    Bool(bool),
    /// `null`.
    Null,
    /// An integer.
    Int(i32),
}

/// A SCIM filter expression tree (RFC 7644 §3.4.2.2), rendered to filter text.
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub enum ScimFilterInput {
    /// `attr op value`.
    Compare(ScimAttr, ScimOp, ScimValue),
    /// `attr pr`.
    Present(ScimAttr),
    /// `(a and b)`.
    And(Box<ScimFilterInput>, Box<ScimFilterInput>),
    /// `(a or b)`.
    Or(Box<ScimFilterInput>, Box<ScimFilterInput>),
    /// `not (a)`.
    Not(Box<ScimFilterInput>),
    /// `emails[type eq value]` (a value path with one comparison).
    EmailsOfType(ScimValue),
}

impl std::fmt::Display for ScimFilterInput {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let value = |v: &ScimValue| match v {
            ScimValue::Str(s) => Value::from(s.clone()).to_string(),
            ScimValue::Bool(b) => b.to_string(),
            ScimValue::Null => "null".into(),
            ScimValue::Int(i) => i.to_string(),
        };
        match self {
            ScimFilterInput::Compare(a, op, v) => {
                let op = format!("{op:?}").to_ascii_lowercase();
                write!(f, "{} {op} {}", a.name(), value(v))
            }
            ScimFilterInput::Present(a) => write!(f, "{} pr", a.name()),
            ScimFilterInput::And(a, b) => write!(f, "({a} and {b})"),
            ScimFilterInput::Or(a, b) => write!(f, "({a} or {b})"),
            ScimFilterInput::Not(a) => write!(f, "not ({a})"),
            ScimFilterInput::EmailsOfType(v) => write!(f, "emails[type eq {}]", value(v)),
        }
    }
}

/// `s` without the characters XML 1.0 cannot carry (§2.2 `Char`) and without `\r` (which
/// end-of-line handling, §2.11, would turn into `\n`): what an IdP can put in a document.
pub fn xml_chars(s: &str) -> String {
    s.chars()
        .filter(|&c| c == '\t' || c == '\n' || (c >= ' ' && c != '\u{fffe}' && c != '\u{ffff}'))
        .collect()
}

/// A SAML Response from [`TestSamlIdp`](crate::saml::TestSamlIdp): chosen NameID and
/// attributes, signed as [`Signing`](crate::saml::Signing) says, optionally turned into one of
/// the [`SamlAttack`](crate::saml::SamlAttack)s. Fuzzing an SP with these reaches its code
/// behind signature verification (which raw bytes practically never pass).
#[derive(Debug, Clone, PartialEq, Eq, Arbitrary)]
#[non_exhaustive]
pub struct SamlResponseInput {
    /// The NameID value (through [`xml_chars`]).
    pub name_id: String,
    /// Attributes (name, values; through [`xml_chars`]).
    pub attributes: Vec<(String, Vec<String>)>,
    /// What the IdP signs.
    pub signing: crate::saml::Signing,
    /// The attack applied to the Response, if any.
    pub attack: Option<crate::saml::SamlAttack>,
    /// Whether the Response answers `request_id` (else it is unsolicited).
    pub solicited: bool,
}

impl SamlResponseInput {
    /// The Response XML from `idp` for `sp` at `now`, answering `request_id` when solicited.
    pub fn to_xml(
        &self,
        idp: &crate::saml::TestSamlIdp,
        sp: &idforge_saml_sp::response::SpConfig,
        request_id: &str,
        now: time::OffsetDateTime,
    ) -> idforge_saml_sp::Result<String> {
        let mut spec = idp.response_spec(sp, self.solicited.then_some(request_id), now);
        spec.name_id = xml_chars(&self.name_id);
        spec.attributes = self
            .attributes
            .iter()
            .map(|(n, vs)| (xml_chars(n), vs.iter().map(|v| xml_chars(v)).collect()))
            .collect();
        match self.attack {
            Some(attack) => idp.attack(&spec, attack),
            None => idp.response(&spec, self.signing),
        }
    }
}
