//! A sans-IO wallet client (for wallet backends and tests): it builds the HTTP requests of
//! each step and parses the responses; the caller sends them with its own HTTP client.
//!
//! Steps: resolve an offer (§4.1) and the issuer's metadata (§12.2.2) and its authorization
//! server's (RFC 8414 §3), redeem a pre-authorized code with `tx_code` (§6.1) or run the
//! authorization code flow with PKCE (RFC 7636) and `authorization_details` / scope (§5.1),
//! get a nonce (§7), build `jwt` proofs with a [`Signer`] (Appendix F.1), request (batch)
//! credentials (§8), poll the deferred endpoint (§9) and send notifications (§11).

use idforge_jose::crypto::HashAlg;
use idforge_jose::{b64, jws, Header, Jwk, Signer};
use idforge_oauth_core::secret::random_token;
use idforge_oauth_core::{Error, Rng};
use serde_json::{json, Map, Value};

use crate::metadata::{insert_well_known, well_known_url};
use crate::offer::{CredentialOffer, OfferDelivery, PRE_AUTHORIZED_CODE_GRANT};
use crate::ports::NotificationEvent;
use crate::request::{CredentialTarget, PROOF_TYP};

/// Largest response body the client parses (bytes).
pub const MAX_RESPONSE_BYTES: usize = 1024 * 1024;

/// An HTTP request for the caller to send.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct HttpRequest {
    /// `GET` or `POST`.
    pub method: &'static str,
    /// Absolute URL.
    pub url: String,
    /// Header names and values.
    pub headers: Vec<(&'static str, String)>,
    /// Body (empty for `GET`).
    pub body: Vec<u8>,
}

impl HttpRequest {
    /// Adds `credential_response_encryption` (§8.2) to a JSON credential or deferred request:
    /// the wallet's public `jwk` (with its `alg`) and `enc`.
    pub fn with_response_encryption(
        mut self,
        jwk: &Jwk,
        alg: &str,
        enc: &str,
    ) -> Result<Self, Error> {
        let mut body: Map<String, Value> = serde_json::from_slice(&self.body)
            .map_err(|_| Error::InvalidRequest("not a JSON request".into()))?;
        let mut key = jwk
            .to_public()
            .ok_or_else(|| Error::InvalidRequest("the key must be asymmetric".into()))?
            .to_value();
        key["alg"] = json!(alg);
        body.insert(
            "credential_response_encryption".into(),
            json!({"jwk": key, "enc": enc}),
        );
        self.body = Value::Object(body).to_string().into_bytes();
        Ok(self)
    }

    /// Encrypts the JSON body to the issuer's request encryption key (§10.1): the body becomes
    /// a compact JWE and `Content-Type` `application/jwt`.
    pub fn encrypted_to(
        mut self,
        issuer_key: &idforge_jose::Key,
        alg: idforge_jwe::KeyManagementAlgorithm,
        enc: idforge_jwe::ContentEncryption,
        rng: &dyn Rng,
    ) -> Result<Self, Error> {
        let mut header = Header::new();
        if let Some(kid) = issuer_key.kid() {
            header.set("kid", kid);
        }
        let mut r = idforge_oauth_core::secret::PortRng::new(rng);
        let jwe = idforge_jwe::Encryptor::new(enc)
            .protected(header)
            .recipient(idforge_jwe::Recipient::new(issuer_key, alg))
            .encrypt_with_rng(&self.body, &mut r)
            .and_then(|j| j.compact())
            .map_err(|_| Error::InvalidRequest("request encryption failed".into()))?;
        r.finish()?;
        self.body = jwe.into_bytes();
        for h in &mut self.headers {
            if h.0 == "content-type" {
                h.1 = "application/jwt".into();
            }
        }
        Ok(self)
    }

    /// The same request to another URL.
    pub fn with_url(mut self, url: impl Into<String>) -> Self {
        self.url = url.into();
        self
    }

    fn get(url: impl Into<String>) -> Self {
        HttpRequest {
            method: "GET",
            url: url.into(),
            headers: vec![("accept", "application/json".into())],
            body: Vec::new(),
        }
    }

    /// A JSON `POST` to `url`, with the bearer `token` when given (for requests the client
    /// does not build itself, e.g. to encrypt with [`HttpRequest::encrypted_to`]).
    pub fn post_json(url: &str, token: Option<&str>, body: &Value) -> Self {
        let mut headers = vec![("content-type", "application/json".to_owned())];
        if let Some(t) = token {
            headers.push(("authorization", format!("Bearer {t}")));
        }
        HttpRequest {
            method: "POST",
            url: url.to_owned(),
            headers,
            body: body.to_string().into_bytes(),
        }
    }

    fn post_form(url: &str, pairs: &[(&str, &str)]) -> Self {
        let mut f = form_urlencoded::Serializer::new(String::new());
        for (k, v) in pairs {
            f.append_pair(k, v);
        }
        HttpRequest {
            method: "POST",
            url: url.to_owned(),
            headers: vec![(
                "content-type",
                "application/x-www-form-urlencoded".to_owned(),
            )],
            body: f.finish().into_bytes(),
        }
    }
}

/// Parses a JSON response body; a non-2xx status becomes the error it carries
/// (`Error::protocol` with the issuer's code, description and extra members such as
/// `interval`).
pub fn parse_json(status: u16, body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.len() > MAX_RESPONSE_BYTES {
        return Err(Error::ServerError("response too large".into()));
    }
    let v: Value = serde_json::from_slice(body)
        .map_err(|_| Error::ServerError(format!("HTTP {status}: not JSON")))?;
    let Value::Object(m) = v else {
        return Err(Error::ServerError("response is not a JSON object".into()));
    };
    if (200..300).contains(&status) {
        return Ok(m);
    }
    let code = m
        .get("error")
        .and_then(Value::as_str)
        .unwrap_or("server_error");
    let desc = m
        .get("error_description")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let mut e = Error::protocol(known_code(code), status, desc);
    for (k, v) in m {
        if k != "error" && k != "error_description" {
            e = e.with_member(k, v);
        }
    }
    Err(e)
}

/// Maps a received code onto the static codes of OAuth and OID4VCI (unknown ones become
/// `server_error`: the client never echoes arbitrary strings as codes).
fn known_code(code: &str) -> &'static str {
    const CODES: [&str; 22] = [
        "invalid_request",
        "invalid_client",
        "invalid_grant",
        "unauthorized_client",
        "unsupported_grant_type",
        "invalid_scope",
        "invalid_token",
        "insufficient_scope",
        "invalid_target",
        "invalid_authorization_details",
        "access_denied",
        "invalid_credential_request",
        "unknown_credential_configuration",
        "unknown_credential_identifier",
        "invalid_proof",
        "invalid_nonce",
        "invalid_encryption_parameters",
        "credential_request_denied",
        "issuance_pending",
        "invalid_transaction_id",
        "invalid_notification_id",
        "invalid_notification_request",
    ];
    CODES
        .iter()
        .find(|c| **c == code)
        .copied()
        .unwrap_or("server_error")
}

/// What the wallet learned about an issuer (§12.2.4) and its authorization server (RFC 8414).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssuerInfo {
    /// The Credential Issuer Identifier.
    pub credential_issuer: String,
    /// The full metadata.
    pub metadata: Map<String, Value>,
    /// `credential_endpoint`.
    pub credential_endpoint: String,
    /// `nonce_endpoint`, if any.
    pub nonce_endpoint: Option<String>,
    /// `deferred_credential_endpoint`, if any.
    pub deferred_credential_endpoint: Option<String>,
    /// `notification_endpoint`, if any.
    pub notification_endpoint: Option<String>,
    /// `batch_credential_issuance.batch_size` (1 without batch).
    pub batch_size: usize,
    /// The authorization server (first of `authorization_servers`, else the issuer).
    pub authorization_server: String,
}

impl IssuerInfo {
    /// The configuration `id` of `credential_configurations_supported`.
    pub fn configuration(&self, id: &str) -> Option<&Value> {
        self.metadata
            .get("credential_configurations_supported")
            .and_then(|c| c.get(id))
    }
}

/// Authorization server metadata (RFC 8414 §2): the endpoints the wallet uses.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationServer {
    /// `issuer`.
    pub issuer: String,
    /// `token_endpoint`.
    pub token_endpoint: String,
    /// `authorization_endpoint`, if any.
    pub authorization_endpoint: Option<String>,
}

/// The wallet's view of an access token response (RFC 6749 §5.1, §6.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletToken {
    /// The access token.
    pub access_token: String,
    /// `authorization_details` with `credential_identifiers`, when returned.
    pub authorization_details: Option<Value>,
}

impl WalletToken {
    /// The `credential_identifiers` returned for configuration `id`.
    pub fn credential_identifiers(&self, id: &str) -> Vec<String> {
        self.authorization_details
            .as_ref()
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter(|d| d["credential_configuration_id"] == id)
            .flat_map(|d| {
                d["credential_identifiers"]
                    .as_array()
                    .cloned()
                    .unwrap_or_default()
            })
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    }
}

/// An authorization code flow in progress: the URL to open and what the callback needs.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizationFlow {
    /// The authorization request URL to open in the browser.
    pub url: String,
    /// `state` (checked on the callback).
    pub state: String,
    /// The PKCE `code_verifier` (RFC 7636 §4.1), sent with the code.
    pub code_verifier: String,
    /// The `redirect_uri`.
    pub redirect_uri: String,
}

/// The credential endpoint's answer as the wallet sees it (§8.3).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CredentialOutcome {
    /// Credentials and the `notification_id`.
    Issued {
        /// The credentials.
        credentials: Vec<String>,
        /// For notifications, if the issuer gave one.
        notification_id: Option<String>,
    },
    /// Deferred: poll the deferred endpoint with `transaction_id` after `interval` seconds.
    Deferred {
        /// The transaction id.
        transaction_id: String,
        /// Seconds.
        interval: u64,
    },
}

/// A signer whose `kid` is not put in the header.
struct WithoutKid<'a>(&'a dyn Signer);

#[async_trait::async_trait]
impl Signer for WithoutKid<'_> {
    fn algorithm(&self) -> idforge_jose::JwsAlgorithm {
        self.0.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        None
    }
    async fn sign(&self, input: &[u8]) -> idforge_jose::Result<Vec<u8>> {
        self.0.sign(input).await
    }
}

/// The wallet client. `client_id` is `None` for anonymous pre-authorized access (proofs then
/// carry no `iss`, Appendix F.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct WalletClient {
    /// The wallet's client id at the authorization server, if it has one.
    pub client_id: Option<String>,
}

fn need_str(m: &Map<String, Value>, name: &str) -> Result<String, Error> {
    m.get(name)
        .and_then(Value::as_str)
        .map(str::to_owned)
        .ok_or_else(|| Error::ServerError(format!("`{name}` missing in response")))
}

fn opt_str(m: &Map<String, Value>, name: &str) -> Option<String> {
    m.get(name).and_then(Value::as_str).map(str::to_owned)
}

impl WalletClient {
    /// A wallet with `client_id` (`None`: anonymous).
    pub fn new(client_id: Option<String>) -> Self {
        WalletClient { client_id }
    }

    /// Resolves an offer URI (§4.1): by value at once, or the `GET` to fetch it by reference.
    pub fn resolve_offer(uri: &str) -> Result<Result<CredentialOffer, HttpRequest>, Error> {
        Ok(match OfferDelivery::parse_uri(uri)? {
            OfferDelivery::ByValue(o) => Ok(o),
            OfferDelivery::ByReference(u) => Err(HttpRequest::get(u)),
        })
    }

    /// Parses the offer fetched by reference (§4.1.3).
    pub fn parse_offer(status: u16, body: &[u8]) -> Result<CredentialOffer, Error> {
        let m = parse_json(status, body)?;
        CredentialOffer::from_json(Value::Object(m).to_string().as_bytes())
    }

    /// The `GET` of the issuer's metadata (§12.2.2).
    pub fn metadata_request(issuer: &str) -> HttpRequest {
        HttpRequest::get(well_known_url(issuer))
    }

    /// Parses the issuer's metadata; `credential_issuer` must be the issuer asked for
    /// (§12.2.2: otherwise the metadata must not be used).
    pub fn parse_metadata(issuer: &str, status: u16, body: &[u8]) -> Result<IssuerInfo, Error> {
        let m = parse_json(status, body)?;
        if m.get("credential_issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(Error::ServerError(
                "`credential_issuer` does not match the issuer".into(),
            ));
        }
        let batch_size = m
            .get("batch_credential_issuance")
            .and_then(|b| b.get("batch_size"))
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .clamp(1, 1000) as usize;
        let authorization_server = m
            .get("authorization_servers")
            .and_then(Value::as_array)
            .and_then(|a| a.first())
            .and_then(Value::as_str)
            .unwrap_or(issuer)
            .to_owned();
        Ok(IssuerInfo {
            credential_issuer: issuer.to_owned(),
            credential_endpoint: need_str(&m, "credential_endpoint")?,
            nonce_endpoint: opt_str(&m, "nonce_endpoint"),
            deferred_credential_endpoint: opt_str(&m, "deferred_credential_endpoint"),
            notification_endpoint: opt_str(&m, "notification_endpoint"),
            batch_size,
            authorization_server,
            metadata: m,
        })
    }

    /// The `GET` of the authorization server's metadata (RFC 8414 §3.1, well-known inserted).
    pub fn authorization_server_request(issuer: &str) -> HttpRequest {
        HttpRequest::get(insert_well_known(
            issuer,
            "/.well-known/oauth-authorization-server",
        ))
    }

    /// Parses authorization server metadata; `issuer` must match (RFC 8414 §3.3).
    pub fn parse_authorization_server(
        issuer: &str,
        status: u16,
        body: &[u8],
    ) -> Result<AuthorizationServer, Error> {
        let m = parse_json(status, body)?;
        if m.get("issuer").and_then(Value::as_str) != Some(issuer) {
            return Err(Error::ServerError("`issuer` does not match".into()));
        }
        Ok(AuthorizationServer {
            issuer: issuer.to_owned(),
            token_endpoint: need_str(&m, "token_endpoint")?,
            authorization_endpoint: opt_str(&m, "authorization_endpoint"),
        })
    }

    /// The token request redeeming the offer's pre-authorized code (§6.1), with the user's
    /// `tx_code` and optional `authorization_details`.
    pub fn pre_authorized_token_request(
        &self,
        server: &AuthorizationServer,
        offer: &CredentialOffer,
        tx_code: Option<&str>,
        authorization_details: Option<&Value>,
    ) -> Result<HttpRequest, Error> {
        let grant =
            offer.grants.pre_authorized_code.as_ref().ok_or_else(|| {
                Error::InvalidRequest("the offer has no pre-authorized code".into())
            })?;
        if grant.tx_code.is_some() && tx_code.is_none() {
            return Err(Error::InvalidRequest("the offer requires a tx_code".into()));
        }
        let details = authorization_details.map(Value::to_string);
        let mut pairs = vec![
            ("grant_type", PRE_AUTHORIZED_CODE_GRANT),
            ("pre-authorized_code", grant.pre_authorized_code.as_str()),
        ];
        if let Some(t) = tx_code {
            pairs.push(("tx_code", t));
        }
        if let Some(c) = &self.client_id {
            pairs.push(("client_id", c));
        }
        if let Some(d) = &details {
            pairs.push(("authorization_details", d));
        }
        Ok(HttpRequest::post_form(&server.token_endpoint, &pairs))
    }

    /// Starts the authorization code flow (§5.1) with PKCE S256: `scope` and/or
    /// `authorization_details` say what is asked; `issuer_state` comes from the offer.
    pub fn authorization_request(
        &self,
        server: &AuthorizationServer,
        redirect_uri: &str,
        scope: Option<&str>,
        authorization_details: Option<&Value>,
        issuer_state: Option<&str>,
        rng: &dyn Rng,
    ) -> Result<AuthorizationFlow, Error> {
        let endpoint = server
            .authorization_endpoint
            .as_deref()
            .ok_or_else(|| Error::InvalidRequest("no authorization endpoint".into()))?;
        let client_id = self.client_id.as_deref().ok_or_else(|| {
            Error::InvalidRequest("the authorization code flow needs a client id".into())
        })?;
        let state = random_token(rng, 16)?;
        let code_verifier = random_token(rng, 32)?;
        let challenge = b64::encode(HashAlg::Sha256.digest(code_verifier.as_bytes()));
        let mut q = form_urlencoded::Serializer::new(String::new());
        q.append_pair("response_type", "code")
            .append_pair("client_id", client_id)
            .append_pair("redirect_uri", redirect_uri)
            .append_pair("state", &state)
            .append_pair("code_challenge", &challenge)
            .append_pair("code_challenge_method", "S256");
        if let Some(s) = scope {
            q.append_pair("scope", s);
        }
        if let Some(d) = authorization_details {
            q.append_pair("authorization_details", &d.to_string());
        }
        if let Some(s) = issuer_state {
            q.append_pair("issuer_state", s);
        }
        let sep = if endpoint.contains('?') { '&' } else { '?' };
        Ok(AuthorizationFlow {
            url: format!("{endpoint}{sep}{}", q.finish()),
            state,
            code_verifier,
            redirect_uri: redirect_uri.to_owned(),
        })
    }

    /// Reads the authorization response at the redirect URI: `state` must match; an `error`
    /// becomes that error; returns the `code`.
    pub fn parse_callback(flow: &AuthorizationFlow, callback_url: &str) -> Result<String, Error> {
        let query = callback_url.split_once('?').map(|(_, q)| q).unwrap_or("");
        let query = query.split('#').next().unwrap_or("");
        let mut params = Map::new();
        for (k, v) in form_urlencoded::parse(query.as_bytes()) {
            params.insert(k.into_owned(), Value::String(v.into_owned()));
        }
        if params.get("state").and_then(Value::as_str) != Some(flow.state.as_str()) {
            return Err(Error::AccessDenied("`state` does not match".into()));
        }
        if let Some(e) = params.get("error").and_then(Value::as_str) {
            return Err(Error::protocol(known_code(e), 400, e.to_owned()));
        }
        need_str(&params, "code")
    }

    /// The token request for an authorization code (RFC 6749 §4.1.3, RFC 7636 §4.5).
    pub fn authorization_code_token_request(
        &self,
        server: &AuthorizationServer,
        flow: &AuthorizationFlow,
        code: &str,
    ) -> HttpRequest {
        let mut pairs = vec![
            ("grant_type", "authorization_code"),
            ("code", code),
            ("redirect_uri", flow.redirect_uri.as_str()),
            ("code_verifier", flow.code_verifier.as_str()),
        ];
        if let Some(c) = &self.client_id {
            pairs.push(("client_id", c));
        }
        HttpRequest::post_form(&server.token_endpoint, &pairs)
    }

    /// Parses a token response.
    pub fn parse_token(status: u16, body: &[u8]) -> Result<WalletToken, Error> {
        let m = parse_json(status, body)?;
        Ok(WalletToken {
            access_token: need_str(&m, "access_token")?,
            authorization_details: m.get("authorization_details").cloned(),
        })
    }

    /// The nonce request (§7.1: `POST`, no body).
    pub fn nonce_request(info: &IssuerInfo) -> Result<HttpRequest, Error> {
        let url = info
            .nonce_endpoint
            .as_deref()
            .ok_or_else(|| Error::InvalidRequest("the issuer has no nonce endpoint".into()))?;
        Ok(HttpRequest {
            method: "POST",
            url: url.to_owned(),
            headers: Vec::new(),
            body: Vec::new(),
        })
    }

    /// Parses the nonce response (§7.2): the `c_nonce`.
    pub fn parse_nonce(status: u16, body: &[u8]) -> Result<String, Error> {
        need_str(&parse_json(status, body)?, "c_nonce")
    }

    /// Builds a `jwt` proof (Appendix F.1): `typ` `openid4vci-proof+jwt`, the public `jwk`,
    /// `aud` the issuer, `iat` now, `nonce`, and `iss` the client id unless anonymous.
    pub async fn proof(
        &self,
        info: &IssuerInfo,
        signer: &dyn Signer,
        public_key: &Jwk,
        nonce: Option<&str>,
        now: i64,
    ) -> Result<String, Error> {
        let jwk = public_key
            .to_public()
            .ok_or_else(|| Error::InvalidRequest("the holder key must be asymmetric".into()))?;
        let mut claims = Map::new();
        claims.insert("aud".into(), json!(info.credential_issuer));
        claims.insert("iat".into(), json!(now));
        if let Some(n) = nonce {
            claims.insert("nonce".into(), json!(n));
        }
        if let Some(c) = &self.client_id {
            claims.insert("iss".into(), json!(c));
        }
        let header = Header::new()
            .with_typ(PROOF_TYP)
            .with("jwk", jwk.to_value());
        // The signer's `kid` would make two key members (Appendix F.1: exactly one).
        jws::sign_compact_with(
            header,
            Value::Object(claims).to_string().as_bytes(),
            &WithoutKid(signer),
        )
        .await
        .map_err(|_| Error::ServerError("proof signing failed".into()))
    }

    /// The credential request (§8.2) with one proof per credential wanted.
    pub fn credential_request(
        info: &IssuerInfo,
        token: &WalletToken,
        target: &CredentialTarget,
        proofs: &[String],
    ) -> Result<HttpRequest, Error> {
        if proofs.len() > info.batch_size {
            return Err(Error::InvalidRequest(
                "more proofs than the batch size".into(),
            ));
        }
        let mut body = Map::new();
        match target {
            CredentialTarget::Identifier(i) => {
                body.insert("credential_identifier".into(), json!(i))
            }
            CredentialTarget::Configuration(c) => {
                body.insert("credential_configuration_id".into(), json!(c))
            }
        };
        if !proofs.is_empty() {
            body.insert("proofs".into(), json!({"jwt": proofs}));
        }
        Ok(HttpRequest::post_json(
            &info.credential_endpoint,
            Some(&token.access_token),
            &Value::Object(body),
        ))
    }

    /// Decrypts an encrypted credential or deferred response (§10.2) with the wallet's keys.
    pub fn decrypt_response(
        body: &[u8],
        keys: &idforge_jose::KeySet,
        policy: &idforge_jwe::JwePolicy,
    ) -> Result<Vec<u8>, Error> {
        let text = std::str::from_utf8(body)
            .map_err(|_| Error::ServerError("the response is not a JWE".into()))?;
        policy
            .decrypt_compact(text.trim(), keys)
            .map(|d| d.plaintext)
            .map_err(|_| Error::ServerError("the response does not decrypt".into()))
    }

    /// Parses a credential or deferred credential response (§8.3, §9.2).
    pub fn parse_credential(status: u16, body: &[u8]) -> Result<CredentialOutcome, Error> {
        let m = parse_json(status, body)?;
        if let Some(tx) = opt_str(&m, "transaction_id") {
            return Ok(CredentialOutcome::Deferred {
                transaction_id: tx,
                interval: m.get("interval").and_then(Value::as_u64).unwrap_or(5),
            });
        }
        let credentials = m
            .get("credentials")
            .and_then(Value::as_array)
            .ok_or_else(|| Error::ServerError("`credentials` missing".into()))?
            .iter()
            .map(|c| match c.get("credential") {
                Some(Value::String(s)) => Ok(s.clone()),
                Some(other) => Ok(other.to_string()),
                None => Err(Error::ServerError("`credential` missing".into())),
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(CredentialOutcome::Issued {
            credentials,
            notification_id: opt_str(&m, "notification_id"),
        })
    }

    /// The deferred credential request (§9.1).
    pub fn deferred_request(
        info: &IssuerInfo,
        token: &WalletToken,
        transaction_id: &str,
    ) -> Result<HttpRequest, Error> {
        let url = info
            .deferred_credential_endpoint
            .as_deref()
            .ok_or_else(|| Error::InvalidRequest("no deferred credential endpoint".into()))?;
        Ok(HttpRequest::post_json(
            url,
            Some(&token.access_token),
            &json!({"transaction_id": transaction_id}),
        ))
    }

    /// The notification request (§11.1).
    pub fn notification_request(
        info: &IssuerInfo,
        token: &WalletToken,
        notification_id: &str,
        event: NotificationEvent,
    ) -> Result<HttpRequest, Error> {
        let url = info
            .notification_endpoint
            .as_deref()
            .ok_or_else(|| Error::InvalidRequest("no notification endpoint".into()))?;
        Ok(HttpRequest::post_json(
            url,
            Some(&token.access_token),
            &json!({"notification_id": notification_id, "event": event}),
        ))
    }
}
