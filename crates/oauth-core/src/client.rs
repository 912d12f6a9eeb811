//! Clients: the registration model (typed, validated when loaded) and redirect URI matching.
//! Authentication is in [`client_auth`](crate::client_auth).

use idforge_jose::{JwkSet, JwsAlgorithm};
use idforge_jwe::{ContentEncryption, KeyManagementAlgorithm};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::config::{AccessTokenFormat, ConfigError};
use crate::secret::TokenHash;

/// Token endpoint authentication methods (RFC 7591 §2, OIDC Core §9).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum ClientAuthMethod {
    /// HTTP Basic with the client id and secret (RFC 6749 §2.3.1).
    #[default]
    ClientSecretBasic,
    /// `client_id` and `client_secret` in the form body (RFC 6749 §2.3.1).
    ClientSecretPost,
    /// A JWT signed with the client's private key (RFC 7523 §2.2, OIDC Core §9).
    PrivateKeyJwt,
    /// A public client: no authentication (RFC 6749 §2.1).
    None,
}

impl ClientAuthMethod {
    /// Every method, in the order discovery lists them.
    pub const ALL: [ClientAuthMethod; 4] = [
        ClientAuthMethod::ClientSecretBasic,
        ClientAuthMethod::ClientSecretPost,
        ClientAuthMethod::PrivateKeyJwt,
        ClientAuthMethod::None,
    ];

    /// The registered name.
    pub fn name(self) -> &'static str {
        match self {
            ClientAuthMethod::ClientSecretBasic => "client_secret_basic",
            ClientAuthMethod::ClientSecretPost => "client_secret_post",
            ClientAuthMethod::PrivateKeyJwt => "private_key_jwt",
            ClientAuthMethod::None => "none",
        }
    }
}

/// The algorithm-typed registration members serialize as their registered names (RFC 7591 §2,
/// OIDC Registration §2); an unknown name fails when the client is loaded, not at token time.
trait Named: Sized + Copy {
    fn name(self) -> &'static str;
    fn from_name(name: &str) -> Option<Self>;
}

impl Named for JwsAlgorithm {
    fn name(self) -> &'static str {
        JwsAlgorithm::name(self)
    }
    fn from_name(name: &str) -> Option<Self> {
        JwsAlgorithm::from_name(name).ok()
    }
}

impl Named for KeyManagementAlgorithm {
    fn name(self) -> &'static str {
        KeyManagementAlgorithm::name(self)
    }
    fn from_name(name: &str) -> Option<Self> {
        KeyManagementAlgorithm::from_name(name).ok()
    }
}

impl Named for ContentEncryption {
    fn name(self) -> &'static str {
        ContentEncryption::name(self)
    }
    fn from_name(name: &str) -> Option<Self> {
        ContentEncryption::from_name(name).ok()
    }
}

mod named {
    use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

    pub(super) fn serialize<T: super::Named, S: Serializer>(
        v: &Option<T>,
        s: S,
    ) -> Result<S::Ok, S::Error> {
        match v {
            Some(a) => s.serialize_str(a.name()),
            None => s.serialize_none(),
        }
    }

    pub(super) fn deserialize<'de, T: super::Named, D: Deserializer<'de>>(
        d: D,
    ) -> Result<Option<T>, D::Error> {
        match Option::<String>::deserialize(d)? {
            None => Ok(None),
            Some(name) => T::from_name(&name)
                .map(Some)
                .ok_or_else(|| D::Error::custom(format!("unsupported algorithm `{name}`"))),
        }
    }
}

/// A registered client (RFC 7591 §2 metadata names).
///
/// Built with [`Client::confidential`] or [`Client::public`] and the `with_*` methods;
/// `#[non_exhaustive]`, so adding a registration member never breaks a user. Members other
/// crates define (`backchannel_token_delivery_mode`, ...) are kept in
/// [`Client::metadata`](Client::metadata) and survive a store round trip.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
#[non_exhaustive]
pub struct Client {
    /// The client identifier.
    pub client_id: String,
    /// SHA-256 of the client secret (never the secret itself).
    pub client_secret_hash: Option<TokenHash>,
    /// Registered redirect URIs, compared exactly (RFC 9700 §4.1.3).
    pub redirect_uris: Vec<String>,
    /// Grant types the client may use.
    pub grant_types: Vec<String>,
    /// Scopes the client may request (empty: any scope the provider supports).
    pub scopes: Vec<String>,
    /// How the client authenticates at the token, introspection and revocation endpoints.
    pub token_endpoint_auth_method: ClientAuthMethod,
    /// The client's public keys: `private_key_jwt` (RFC 7523), request objects (RFC 9101 §4)
    /// and ID token / UserInfo encryption.
    pub jwks: Option<JwkSet>,
    /// Access token format for this client (`None`: the provider default).
    pub access_token_format: Option<AccessTokenFormat>,
    /// `scope` claim as an array in JWT access tokens (`None`: the provider default).
    pub scope_as_array: Option<bool>,
    /// `id_token_signed_response_alg` (OIDC Registration §2); `None`: the key store default.
    /// Asymmetric only: the provider keeps no client secret to MAC with.
    #[serde(with = "named")]
    pub id_token_signed_response_alg: Option<JwsAlgorithm>,
    /// `id_token_encrypted_response_alg`: encrypt ID tokens to the client's JWKS.
    #[serde(with = "named")]
    pub id_token_encrypted_response_alg: Option<KeyManagementAlgorithm>,
    /// `id_token_encrypted_response_enc` (default `A128CBC-HS256`, OIDC Registration §2).
    #[serde(with = "named")]
    pub id_token_encrypted_response_enc: Option<ContentEncryption>,
    /// `userinfo_signed_response_alg` (OIDC Registration §2): UserInfo as a signed JWT.
    #[serde(with = "named")]
    pub userinfo_signed_response_alg: Option<JwsAlgorithm>,
    /// `userinfo_encrypted_response_alg`: UserInfo JWT encrypted to the client's JWKS.
    #[serde(with = "named")]
    pub userinfo_encrypted_response_alg: Option<KeyManagementAlgorithm>,
    /// `userinfo_encrypted_response_enc` (default `A128CBC-HS256`).
    #[serde(with = "named")]
    pub userinfo_encrypted_response_enc: Option<ContentEncryption>,
    /// A first-party client whose consent is implied (no consent interaction).
    pub consent_implied: bool,
    /// `request_object_signing_alg` (OIDC Registration §2, RFC 9101 §10.5): the only algorithm
    /// its request objects may use. `None`: any asymmetric algorithm its keys fit
    /// ([`REQUEST_OBJECT_SIGNING_ALGS`](crate::request_object::REQUEST_OBJECT_SIGNING_ALGS)).
    /// Symmetric (`HS*`) values are refused by [`Client::validate`].
    #[serde(with = "named")]
    pub request_object_signing_alg: Option<JwsAlgorithm>,
    /// `require_pushed_authorization_requests` (RFC 9126 §6): this client's authorization
    /// requests must come through the pushed authorization request endpoint.
    pub require_pushed_authorization_requests: bool,
    /// `post_logout_redirect_uris` (RP-Initiated Logout 1.0 §3.1): where the end-session
    /// endpoint may send the user agent after logout, compared exactly.
    pub post_logout_redirect_uris: Vec<String>,
    /// `frontchannel_logout_uri` (Front-Channel Logout 1.0 §2): rendered in an iframe by the
    /// logout page. Absolute http(s), no fragment.
    pub frontchannel_logout_uri: Option<String>,
    /// `frontchannel_logout_session_required` (Front-Channel Logout 1.0 §2): add `iss` and
    /// `sid` to the front-channel logout URI.
    pub frontchannel_logout_session_required: bool,
    /// `backchannel_logout_uri` (Back-Channel Logout 1.0 §2.2): where logout tokens are
    /// POSTed. Absolute http(s), no fragment.
    pub backchannel_logout_uri: Option<String>,
    /// `backchannel_logout_session_required` (Back-Channel Logout 1.0 §2.2): logout tokens
    /// must carry `sid` (this provider always includes it when the logout ends a session).
    pub backchannel_logout_session_required: bool,
    /// Registration members this crate does not interpret, kept for the crates that do
    /// (e.g. CIBA's `backchannel_token_delivery_mode`); read them with [`Client::metadata`].
    #[serde(flatten)]
    pub extra_metadata: Map<String, Value>,
}

impl Default for Client {
    fn default() -> Self {
        Client {
            client_id: String::new(),
            client_secret_hash: None,
            redirect_uris: Vec::new(),
            grant_types: vec!["authorization_code".into(), "refresh_token".into()],
            scopes: Vec::new(),
            token_endpoint_auth_method: ClientAuthMethod::ClientSecretBasic,
            jwks: None,
            access_token_format: None,
            scope_as_array: None,
            id_token_signed_response_alg: None,
            id_token_encrypted_response_alg: None,
            id_token_encrypted_response_enc: None,
            userinfo_signed_response_alg: None,
            userinfo_encrypted_response_alg: None,
            userinfo_encrypted_response_enc: None,
            consent_implied: false,
            request_object_signing_alg: None,
            require_pushed_authorization_requests: false,
            post_logout_redirect_uris: Vec::new(),
            frontchannel_logout_uri: None,
            frontchannel_logout_session_required: false,
            backchannel_logout_uri: None,
            backchannel_logout_session_required: false,
            extra_metadata: Map::new(),
        }
    }
}

impl Client {
    /// A confidential client authenticating with `client_secret_basic` (or, with the same
    /// secret, `client_secret_post`).
    pub fn confidential(client_id: impl Into<String>, secret: &str) -> Client {
        Client {
            client_id: client_id.into(),
            client_secret_hash: Some(TokenHash::of(secret)),
            ..Client::default()
        }
    }

    /// A public client (`token_endpoint_auth_method: none`); PKCE S256 is required of it.
    pub fn public(client_id: impl Into<String>) -> Client {
        Client {
            client_id: client_id.into(),
            token_endpoint_auth_method: ClientAuthMethod::None,
            ..Client::default()
        }
    }

    /// A `private_key_jwt` client (RFC 7523 §2.2) with the public keys in `jwks`.
    pub fn private_key_jwt(client_id: impl Into<String>, jwks: JwkSet) -> Client {
        Client {
            client_id: client_id.into(),
            token_endpoint_auth_method: ClientAuthMethod::PrivateKeyJwt,
            jwks: Some(jwks),
            ..Client::default()
        }
    }

    /// A registration member other crates define (not interpreted here).
    pub fn metadata(&self, name: &str) -> Option<&Value> {
        self.extra_metadata.get(name)
    }

    /// Sets a registration member other crates define.
    pub fn with_metadata(mut self, name: impl Into<String>, value: Value) -> Self {
        self.extra_metadata.insert(name.into(), value);
        self
    }

    /// Sets the scopes the client may request.
    pub fn with_scopes<S: Into<String>>(mut self, scopes: impl IntoIterator<Item = S>) -> Self {
        self.scopes = scopes.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the access token format for this client.
    pub fn with_access_token_format(mut self, format: AccessTokenFormat) -> Self {
        self.access_token_format = Some(format);
        self
    }

    /// Sets whether the `scope` claim of its JWT access tokens is an array.
    pub fn with_scope_as_array(mut self, on: bool) -> Self {
        self.scope_as_array = Some(on);
        self
    }

    /// Sets `id_token_signed_response_alg`.
    pub fn with_id_token_signed_response_alg(mut self, alg: JwsAlgorithm) -> Self {
        self.id_token_signed_response_alg = Some(alg);
        self
    }

    /// Encrypts ID tokens to the client's keys (`id_token_encrypted_response_alg`/`_enc`;
    /// `enc` `None` means `A128CBC-HS256`, OIDC Registration §2).
    pub fn with_id_token_encryption(
        mut self,
        alg: KeyManagementAlgorithm,
        enc: Option<ContentEncryption>,
    ) -> Self {
        self.id_token_encrypted_response_alg = Some(alg);
        self.id_token_encrypted_response_enc = enc;
        self
    }

    /// Returns UserInfo as a JWT signed with `alg` (`userinfo_signed_response_alg`).
    pub fn with_userinfo_signed_response_alg(mut self, alg: JwsAlgorithm) -> Self {
        self.userinfo_signed_response_alg = Some(alg);
        self
    }

    /// Encrypts UserInfo JWTs to the client's keys (`userinfo_encrypted_response_alg`/`_enc`).
    pub fn with_userinfo_encryption(
        mut self,
        alg: KeyManagementAlgorithm,
        enc: Option<ContentEncryption>,
    ) -> Self {
        self.userinfo_encrypted_response_alg = Some(alg);
        self.userinfo_encrypted_response_enc = enc;
        self
    }

    /// Requires pushed authorization requests from this client (RFC 9126 §6).
    pub fn with_require_pushed_authorization_requests(mut self) -> Self {
        self.require_pushed_authorization_requests = true;
        self
    }

    /// Checks what the types cannot: secret methods have a secret, `private_key_jwt` and
    /// encryption have keys, signing algorithms are asymmetric (the provider keeps only a
    /// hash of a client secret, so it can neither MAC with it nor verify a MAC).
    pub fn validate(&self) -> Result<(), ConfigError> {
        let bad = |reason: &str| ConfigError::Client {
            client_id: self.client_id.clone(),
            reason: reason.to_owned(),
        };
        if self.client_id.is_empty() {
            return Err(bad("client_id is empty"));
        }
        match self.token_endpoint_auth_method {
            ClientAuthMethod::ClientSecretBasic | ClientAuthMethod::ClientSecretPost
                if self.client_secret_hash.is_none() =>
            {
                return Err(bad("a client_secret method needs a client secret"))
            }
            ClientAuthMethod::PrivateKeyJwt if self.jwks.is_none() => {
                return Err(bad("private_key_jwt needs the client's jwks"))
            }
            _ => {}
        }
        let signing = [
            (
                "id_token_signed_response_alg",
                self.id_token_signed_response_alg,
            ),
            (
                "userinfo_signed_response_alg",
                self.userinfo_signed_response_alg,
            ),
            (
                "request_object_signing_alg",
                self.request_object_signing_alg,
            ),
        ];
        for (name, alg) in signing {
            if alg.is_some_and(|a| !ASYMMETRIC_ALGS.contains(&a)) {
                return Err(bad(&format!("{name} must be an asymmetric algorithm")));
            }
        }
        let encrypts = self.id_token_encrypted_response_alg.is_some()
            || self.userinfo_encrypted_response_alg.is_some();
        if encrypts && self.jwks.is_none() {
            return Err(bad("encrypted responses need the client's jwks"));
        }
        if (self.id_token_encrypted_response_enc.is_some()
            && self.id_token_encrypted_response_alg.is_none())
            || (self.userinfo_encrypted_response_enc.is_some()
                && self.userinfo_encrypted_response_alg.is_none())
        {
            // OIDC Registration §2: "If *_enc is specified, *_alg MUST also be provided."
            return Err(bad("an _enc member needs its _alg member"));
        }
        for uri in &self.redirect_uris {
            check_redirect_uri(uri, self.is_public())
                .map_err(|reason| bad(&format!("redirect URI {uri}: {reason}")))?;
        }
        if let Some(g) = self.grant_types.iter().find(|g| !is_grant_type_name(g)) {
            return Err(bad(&format!(
                "grant type `{g}` is not a grant type name (RFC 6749 §4.5: a registered name or an absolute URI)"
            )));
        }
        // Front-Channel Logout 1.0 §2 / Back-Channel Logout 1.0 §2.2: absolute URIs that "MAY
        // contain port, path, and query parameter components" but "MUST NOT include any
        // fragment component"; RP-Initiated Logout 1.0 §3.1: registered redirect targets.
        let uris = self
            .post_logout_redirect_uris
            .iter()
            .map(|u| ("post_logout_redirect_uris", u))
            .chain(
                self.frontchannel_logout_uri
                    .iter()
                    .map(|u| ("frontchannel_logout_uri", u)),
            )
            .chain(
                self.backchannel_logout_uri
                    .iter()
                    .map(|u| ("backchannel_logout_uri", u)),
            );
        for (name, uri) in uris {
            if !is_absolute_http_uri(uri) {
                return Err(bad(&format!(
                    "{name} must be an absolute http(s) URI without a fragment"
                )));
            }
        }
        if self.frontchannel_logout_session_required && self.frontchannel_logout_uri.is_none() {
            return Err(bad(
                "frontchannel_logout_session_required needs a frontchannel_logout_uri",
            ));
        }
        if self.backchannel_logout_session_required && self.backchannel_logout_uri.is_none() {
            return Err(bad(
                "backchannel_logout_session_required needs a backchannel_logout_uri",
            ));
        }
        Ok(())
    }

    /// Registers a post-logout redirect URI (RP-Initiated Logout 1.0 §3.1).
    pub fn with_post_logout_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.post_logout_redirect_uris.push(uri.into());
        self
    }

    /// Registers a front-channel logout URI (Front-Channel Logout 1.0 §2); `session_required`
    /// adds `iss` and `sid` to it.
    pub fn with_frontchannel_logout(
        mut self,
        uri: impl Into<String>,
        session_required: bool,
    ) -> Self {
        self.frontchannel_logout_uri = Some(uri.into());
        self.frontchannel_logout_session_required = session_required;
        self
    }

    /// Registers a back-channel logout URI (Back-Channel Logout 1.0 §2.2).
    pub fn with_backchannel_logout(
        mut self,
        uri: impl Into<String>,
        session_required: bool,
    ) -> Self {
        self.backchannel_logout_uri = Some(uri.into());
        self.backchannel_logout_session_required = session_required;
        self
    }

    /// Adds a redirect URI.
    pub fn with_redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uris.push(uri.into());
        self
    }

    /// Sets the grant types.
    pub fn with_grant_types<S: Into<String>>(mut self, types: impl IntoIterator<Item = S>) -> Self {
        self.grant_types = types.into_iter().map(Into::into).collect();
        self
    }

    /// Sets the authentication method.
    pub fn with_auth_method(mut self, method: ClientAuthMethod) -> Self {
        self.token_endpoint_auth_method = method;
        self
    }

    /// Sets the client's JWKS.
    pub fn with_jwks(mut self, jwks: JwkSet) -> Self {
        self.jwks = Some(jwks);
        self
    }

    /// Sets `request_object_signing_alg` (RFC 9101 §10.5).
    pub fn with_request_object_signing_alg(mut self, alg: JwsAlgorithm) -> Self {
        self.request_object_signing_alg = Some(alg);
        self
    }

    /// Marks consent as implied.
    pub fn with_consent_implied(mut self) -> Self {
        self.consent_implied = true;
        self
    }

    /// Whether the client is public (RFC 6749 §2.1).
    pub fn is_public(&self) -> bool {
        self.token_endpoint_auth_method == ClientAuthMethod::None
    }

    /// Whether the client may use `grant_type` (else `unauthorized_client`, RFC 6749 §5.2).
    pub fn allows_grant(&self, grant_type: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant_type)
    }

    /// Whether the client may request `scope`.
    pub fn allows_scope(&self, scope: &str) -> bool {
        self.scopes.is_empty() || self.scopes.iter().any(|s| s == scope)
    }

    /// Finds the registered redirect URI `requested` matches.
    ///
    /// RFC 9700 §4.1.3: exact string comparison. RFC 8252 §7.3: for a native app (a public
    /// client) and a loopback IP literal (`http://127.0.0.1`, `http://[::1]`) the port is
    /// ignored, since native apps get an ephemeral port at run time; a confidential (web)
    /// client gets exact matching only. `localhost` gets no such leniency (RFC 8252 §8.3).
    pub fn match_redirect_uri<'a>(&'a self, requested: &'a str) -> Option<&'a str> {
        if let Some(exact) = self.redirect_uris.iter().find(|r| *r == requested) {
            return Some(exact);
        }
        if !self.is_public() {
            return None;
        }
        let (req_host, req_rest) = loopback_parts(requested)?;
        self.redirect_uris
            .iter()
            .find(|reg| loopback_parts(reg).is_some_and(|(h, r)| h == req_host && r == req_rest))
            .map(|_| requested)
    }
}

/// An absolute `http`/`https` URI with a host and no fragment.
fn is_absolute_http_uri(uri: &str) -> bool {
    let rest = uri
        .strip_prefix("https://")
        .or_else(|| uri.strip_prefix("http://"));
    rest.is_some_and(|r| {
        let host_end = r.find(['/', '?']).unwrap_or(r.len());
        host_end > 0 && !uri.contains('#') && !uri.contains(char::is_whitespace)
    })
}

/// Asymmetric algorithms accepted for client assertions and request objects (no HMAC: the
/// client holds no shared secret in `private_key_jwt`, and the store keeps only a hash of a
/// client secret).
pub const ASYMMETRIC_ALGS: [JwsAlgorithm; 10] = [
    JwsAlgorithm::RS256,
    JwsAlgorithm::RS384,
    JwsAlgorithm::RS512,
    JwsAlgorithm::PS256,
    JwsAlgorithm::PS384,
    JwsAlgorithm::PS512,
    JwsAlgorithm::ES256,
    JwsAlgorithm::ES384,
    JwsAlgorithm::ES512,
    JwsAlgorithm::EdDSA,
];

/// Schemes that never navigate to a client: they run script in the provider's origin
/// (`javascript:`, `vbscript:`), render attacker content (`data:`, `blob:`), or read local
/// state (`file:`, `about:`, `filesystem:`, `view-source:`).
const FORBIDDEN_SCHEMES: [&str; 8] = [
    "javascript",
    "vbscript",
    "data",
    "blob",
    "file",
    "about",
    "filesystem",
    "view-source",
];

/// The registration rules for one redirect URI:
/// - RFC 6749 §3.1.2: an absolute URI without a fragment;
/// - no script-capable or non-navigable scheme ([`FORBIDDEN_SCHEMES`]);
/// - RFC 9700 §2.6 / RFC 8252 §8.3: `http` only for a loopback host (`127.0.0.0/8`, `[::1]`,
///   `localhost`), otherwise `https`;
/// - RFC 8252 §7.1: a private-use (custom) scheme only for a native app, which is a public
///   client (RFC 8252 §8.4).
pub(crate) fn check_redirect_uri(uri: &str, public: bool) -> Result<(), &'static str> {
    // RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ), then ":".
    let (scheme, rest) = uri.split_once(':').ok_or("not an absolute URI")?;
    let well_formed = scheme
        .bytes()
        .next()
        .is_some_and(|b| b.is_ascii_alphabetic())
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b));
    if !well_formed || uri.bytes().any(|b| b <= b' ' || b == 0x7f) {
        return Err("not an absolute URI");
    }
    if uri.contains('#') {
        return Err("a redirect URI must not have a fragment (RFC 6749 §3.1.2)");
    }
    let scheme = scheme.to_ascii_lowercase();
    if FORBIDDEN_SCHEMES.contains(&scheme.as_str()) {
        return Err("the scheme cannot be a redirect target");
    }
    match scheme.as_str() {
        "https" | "http" => {
            let authority = rest
                .strip_prefix("//")
                .ok_or("an http(s) URI needs a host")?;
            let authority = &authority[..authority.find(['/', '?']).unwrap_or(authority.len())];
            if authority.contains('@') {
                return Err("a redirect URI must not carry user information");
            }
            let host = match authority.strip_prefix('[') {
                Some(v6) => v6.split(']').next().unwrap_or(""),
                None => authority.split(':').next().unwrap_or(""),
            };
            if host.is_empty() {
                return Err("an http(s) URI needs a host");
            }
            let loopback = host.eq_ignore_ascii_case("localhost")
                || host
                    .parse::<std::net::Ipv4Addr>()
                    .is_ok_and(|ip| ip.is_loopback())
                || host
                    .parse::<std::net::Ipv6Addr>()
                    .is_ok_and(|ip| ip.is_loopback());
            if scheme == "http" && !loopback {
                return Err("http is allowed only for a loopback host; use https");
            }
        }
        _ if !public => {
            return Err(
                "a private-use scheme is only for native apps, which are public clients (RFC 8252 §7.1)",
            );
        }
        _ => {}
    }
    Ok(())
}

/// RFC 6749 §4.5 / RFC 7591 §2: a grant type is a registered name (`[a-z0-9_]`) or an
/// absolute URI (extension grants, `urn:ietf:params:oauth:grant-type:...`).
fn is_grant_type_name(g: &str) -> bool {
    let name = |s: &str| {
        !s.is_empty()
            && s.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    };
    if name(g) {
        return true;
    }
    match g.split_once(':') {
        Some((scheme, rest)) => {
            scheme
                .bytes()
                .next()
                .is_some_and(|b| b.is_ascii_alphabetic())
                && scheme
                    .bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b"+-.".contains(&b))
                && !rest.is_empty()
                && rest.bytes().all(|b| b.is_ascii_graphic())
        }
        None => false,
    }
}

/// Splits `http://HOST[:PORT]REST` when HOST is a loopback IP literal (`127.0.0.1`-style IPv4
/// or `[::1]`), returning the host and everything after the port (path, query). No user info,
/// no fragment, a port of digits only.
fn loopback_parts(uri: &str) -> Option<(&str, &str)> {
    let rest = uri.strip_prefix("http://")?;
    if uri.contains('#') {
        return None;
    }
    let end = rest.find(['/', '?']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    if authority.contains('@') {
        return None;
    }
    let (host, port) = if let Some(v6) = authority.strip_prefix('[') {
        let close = v6.find(']')?;
        let ip: std::net::Ipv6Addr = v6[..close].parse().ok()?;
        if !ip.is_loopback() {
            return None;
        }
        (&authority[..close + 2], &v6[close + 1..])
    } else {
        let (h, p) = match authority.find(':') {
            Some(i) => (&authority[..i], &authority[i..]),
            None => (authority, ""),
        };
        let ip: std::net::Ipv4Addr = h.parse().ok()?;
        if !ip.is_loopback() {
            return None;
        }
        (h, p)
    };
    match port.strip_prefix(':') {
        None if port.is_empty() => {}
        Some(digits)
            if digits.bytes().all(|b| b.is_ascii_digit()) && digits.parse::<u16>().is_ok() => {}
        _ => return None,
    }
    Some((host, tail))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(uri: &str, public: bool) -> Result<(), &'static str> {
        check_redirect_uri(uri, public)
    }

    #[test]
    fn script_capable_and_non_navigable_redirect_uris_are_refused() {
        for uri in [
            "javascript:alert(1)",
            "JavaScript:alert(document.domain)//",
            "data:text/html,<script>alert(1)</script>",
            "vbscript:msgbox(1)",
            "file:///etc/passwd",
            "about:blank",
            "blob:https://a.example/x",
            "view-source:https://a.example",
        ] {
            assert!(rule(uri, true).is_err(), "{uri}");
            assert!(rule(uri, false).is_err(), "{uri}");
        }
        assert!(rule("/relative/cb", true).is_err());
        assert!(rule("https://app.example/cb#frag", false).is_err());
        assert!(rule("https://app.example/cb#", false).is_err());
    }

    #[test]
    fn http_only_for_loopback_and_custom_schemes_only_for_public_clients() {
        assert!(rule("https://app.example/cb", false).is_ok());
        assert!(rule("http://app.example/cb", false).is_err());
        assert!(rule("http://127.0.0.1:3000/cb", false).is_ok());
        assert!(rule("http://[::1]/cb", false).is_ok());
        assert!(rule("http://localhost:3000/cb", false).is_ok());
        assert!(rule("com.example.app:/cb", true).is_ok());
        assert!(rule("eu.wallet://callback", true).is_ok());
        assert!(rule("com.example.app:/cb", false).is_err());
    }

    #[test]
    fn validate_applies_the_redirect_and_grant_type_rules() {
        let c = Client::confidential("web", "s").with_redirect_uri("javascript:alert(1)");
        let e = c.validate().unwrap_err().to_string();
        assert!(
            e.contains("javascript:alert(1)") && e.contains("scheme"),
            "{e}"
        );
        let c = Client::public("native").with_redirect_uri("com.example.app:/cb");
        assert!(c.validate().is_ok());
        let c = Client::public("x").with_grant_types(["authorization code"]);
        assert!(c.validate().unwrap_err().to_string().contains("grant type"));
        let c = Client::public("x").with_grant_types([
            "urn:ietf:params:oauth:grant-type:device_code",
            "organization_switch",
        ]);
        assert!(c.validate().is_ok());
    }

    #[test]
    fn any_port_loopback_is_for_public_clients_only() {
        let web = Client::confidential("web", "s").with_redirect_uri("http://127.0.0.1/cb");
        assert_eq!(web.match_redirect_uri("http://127.0.0.1:51004/cb"), None);
        assert!(web.match_redirect_uri("http://127.0.0.1/cb").is_some());
    }

    #[test]
    fn logout_metadata_is_validated_at_load() {
        let ok = Client::public("rp")
            .with_post_logout_redirect_uri("https://rp.example/bye?x=1")
            .with_frontchannel_logout("https://rp.example/fc", true)
            .with_backchannel_logout("http://127.0.0.1:9/bc", true);
        assert!(ok.validate().is_ok());
        for bad in [
            Client::public("rp").with_post_logout_redirect_uri("/relative"),
            Client::public("rp").with_frontchannel_logout("https://rp.example/fc#frag", false),
            Client::public("rp").with_backchannel_logout("ftp://rp.example/bc", false),
            Client::public("rp").with_backchannel_logout("https:///bc", false),
        ] {
            assert!(bad.validate().is_err(), "{bad:?}");
        }
        let mut c = Client::public("rp");
        c.backchannel_logout_session_required = true;
        assert!(c.validate().is_err());
        // The registration members round-trip under their registered names.
        let v = serde_json::to_value(&ok).unwrap();
        assert_eq!(v["frontchannel_logout_session_required"], true);
        assert_eq!(v["backchannel_logout_uri"], "http://127.0.0.1:9/bc");
        let back: Client = serde_json::from_value(v).unwrap();
        assert_eq!(back, ok);
    }

    #[test]
    fn redirect_uri_exact_and_loopback() {
        let c = Client::public("app")
            .with_redirect_uri("https://app.example/cb")
            .with_redirect_uri("http://127.0.0.1/cb")
            .with_redirect_uri("http://[::1]:1234/cb");
        assert_eq!(
            c.match_redirect_uri("https://app.example/cb"),
            Some("https://app.example/cb")
        );
        assert_eq!(c.match_redirect_uri("https://app.example/cb/"), None);
        assert_eq!(c.match_redirect_uri("https://app.example/cb?x=1"), None);
        assert_eq!(c.match_redirect_uri("https://APP.example/cb"), None);
        // RFC 8252 §7.3: any port on the loopback IP.
        assert_eq!(
            c.match_redirect_uri("http://127.0.0.1:51004/cb"),
            Some("http://127.0.0.1:51004/cb")
        );
        assert!(c.match_redirect_uri("http://[::1]:9/cb").is_some());
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:51004/other"), None);
        assert_eq!(c.match_redirect_uri("http://localhost:51004/cb"), None);
        assert_eq!(c.match_redirect_uri("https://127.0.0.1:51004/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:99999/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:/cb"), None);
        assert_eq!(c.match_redirect_uri("http://u@127.0.0.1:80/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:80/cb#f"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.2:80/cb"), None);
        assert_eq!(c.match_redirect_uri("http://127.0.0.1:80/cb?x"), None);
    }
}
