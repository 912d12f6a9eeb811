//! The authorization endpoint (RFC 6749 §4.1.1, OIDC Core §3.1.2) as a sans-IO state machine.
//!
//! [`AuthorizationEndpoint::start`] validates a request and returns an [`Interaction`]: show a
//! login page, ask for consent, redirect back to the client, or show an error page. After the
//! host has logged the user in or asked for consent, it calls [`AuthorizationEndpoint::resume`]
//! with the same (serializable) [`AuthorizationRequest`] and the user's [`Decision`].
//!
//! A request may carry its parameters in a signed request object (`request`, RFC 9101; see
//! [`request_object`](crate::request_object)) or refer to parameters pushed beforehand
//! (`request_uri` from the PAR endpoint, RFC 9126; see [`par`](crate::endpoint::par)). Both go through the
//! same validation as a plain query.

use std::sync::Arc;

use serde::{Deserialize, Serialize};

use crate::client::Client;
use crate::config::grant_type;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{
    is_pkce_value, AuthorizationRequest, ClaimsRequest, CodeChallengeMethod, Display, Params,
    Prompt, ResponseMode, Scopes,
};
use crate::pushed_request;
use crate::records::{CodeBinding, Grant, TokenContents, TokenKind, TokenRecord, TokenState};
use crate::request_object::request_object_params;
use crate::secret::{random_token, TokenHash, SECRET_BYTES};
use crate::session::SessionRecord;

/// What the host knows about the user's login session.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Session {
    /// The user's subject identifier.
    pub subject: String,
    /// When the user last authenticated (NumericDate).
    pub auth_time: i64,
    /// Authentication context class achieved.
    pub acr: Option<String>,
    /// Authentication methods used (RFC 8176 values such as `pwd`, `otp`).
    pub amr: Vec<String>,
    /// Session identifier (`sid`).
    pub sid: Option<String>,
    /// Scopes this user already granted to the requesting client (the host's consent record).
    pub consented_scopes: Vec<String>,
    /// An interaction the host must have the user complete before this session may be used
    /// silently (new terms to accept, an expired password, ...), named for the host's page.
    /// Under `prompt=none` it is `interaction_required` (OIDC Core §3.1.2.6); otherwise the
    /// host gets [`Interaction::Login`] and shows that page.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub required_interaction: Option<String>,
}

impl Session {
    /// A session for `subject` authenticated at `auth_time`.
    pub fn new(subject: impl Into<String>, auth_time: i64) -> Session {
        Session {
            subject: subject.into(),
            auth_time,
            ..Session::default()
        }
    }

    /// The session a stored login session stands for, with the scopes the user already
    /// consented to for the requesting client (the host's consent record). Codes issued with
    /// it are recorded in the stored session (its clients and grants), and their ID tokens
    /// carry its `sid` (Front-Channel Logout 1.0 §3, Back-Channel Logout 1.0 §2.1).
    pub fn from_record(record: &SessionRecord, consented_scopes: Vec<String>) -> Session {
        Session {
            subject: record.subject.clone(),
            auth_time: record.auth_time,
            acr: record.acr.clone(),
            amr: record.amr.clone(),
            sid: Some(record.sid.clone()),
            consented_scopes,
            required_interaction: None,
        }
    }
}

/// What the authorization endpoint does next with a validated request and the user's session,
/// decided without I/O by [`next_step`].
#[derive(Debug, Clone, PartialEq)]
pub enum NextStep {
    /// Authenticate the user (no session, `prompt=login`, `max_age` exceeded, another user
    /// than the `id_token_hint` names, a required `acr` not reached), or let the host complete
    /// the session's required interaction.
    Login,
    /// Ask for consent (`prompt=consent`, or scopes not consented yet).
    Consent,
    /// Issue the code: single sign-on.
    Issue,
    /// `prompt=none` and an interaction is needed: the error to return (OIDC Core §3.1.2.6).
    Fail(Error),
}

/// OIDC Core §3.1.2.1 / §3.1.2.3: re-authenticate on `prompt=login` (or `select_account`), a
/// session older than `max_age`, a session of another user than the `id_token_hint` names, or
/// one that has not reached an essential `acr` (§5.5.1.1); let the host complete a
/// [`Session::required_interaction`]; ask consent on `prompt=consent` or when scopes are not
/// consented yet; otherwise single sign-on. Under `prompt=none` (§3.1.2.6) each needed
/// interaction is an error instead: `login_required` for a login (step-up included),
/// `interaction_required` for the host's pending interaction, `consent_required` for
/// consent.
pub fn next_step(
    request: &AuthorizationRequest,
    client: &Client,
    session: Option<&Session>,
    now: i64,
) -> NextStep {
    let none = request.prompt.contains(&Prompt::None);
    let Some(s) = session else {
        return if none {
            NextStep::Fail(Error::LoginRequired("the user must authenticate".into()))
        } else {
            NextStep::Login
        };
    };
    let reauth = request.prompt.contains(&Prompt::Login)
        || request.prompt.contains(&Prompt::SelectAccount)
        || request
            .max_age
            .is_some_and(|max| now.saturating_sub(s.auth_time) > max);
    match session_mismatch(request, s) {
        Some(Error::LoginRequired(_)) if none => {
            return NextStep::Fail(Error::LoginRequired(
                "the user named by id_token_hint is not the one logged in".into(),
            ))
        }
        // §5.5.1.1: authenticating again may reach the required `acr`.
        Some(_) if none => {
            return NextStep::Fail(Error::LoginRequired(
                "the session has not reached a required acr".into(),
            ))
        }
        Some(_) => return NextStep::Login,
        None => {}
    }
    if s.required_interaction.is_some() && !reauth {
        return if none {
            NextStep::Fail(Error::InteractionRequired(
                "the user must complete an interaction first".into(),
            ))
        } else {
            NextStep::Login
        };
    }
    if reauth {
        return if none {
            NextStep::Fail(Error::LoginRequired("the user must authenticate".into()))
        } else {
            NextStep::Login
        };
    }
    if needs_consent(client, request, s) {
        return if none {
            NextStep::Fail(Error::ConsentRequired("the user must consent".into()))
        } else {
            NextStep::Consent
        };
    }
    NextStep::Issue
}

/// The user's answer, given to [`AuthorizationEndpoint::resume`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Decision {
    /// The user logged in.
    LoggedIn(Session),
    /// The user answered the consent page (`granted: false` is a refusal).
    Consented {
        /// The session.
        session: Session,
        /// Whether the user agreed.
        granted: bool,
    },
    /// The user cancelled (login or consent).
    Denied,
}

/// What the host must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum Interaction {
    /// Authenticate the user (login page), then `resume` with [`Decision::LoggedIn`].
    Login {
        /// The validated request (keep it, e.g. in the login form or a server-side session).
        request: Box<AuthorizationRequest>,
        /// The client, for display.
        client_id: String,
    },
    /// Ask the user to consent to `request.scopes`, then `resume` with [`Decision::Consented`].
    Consent {
        /// The validated request.
        request: Box<AuthorizationRequest>,
        /// The logged-in session.
        session: Session,
    },
    /// Send the user agent back to the client (success or error).
    Redirect(AuthorizationResponse),
    /// Show an error page: the client or redirect URI could not be trusted, so the error must
    /// not be redirected (RFC 6749 §4.1.2.1).
    ShowError(Error),
}

/// An authorization response to deliver to the client's redirect URI.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthorizationResponse {
    /// The redirect URI.
    pub redirect_uri: String,
    /// How to deliver it.
    pub response_mode: ResponseMode,
    /// The response parameters (`code`, `state`, `iss`, or `error`...).
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    /// The value of a response parameter.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.params
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The `Location` for a 302/303 redirect (query mode). RFC 6749 §3.1.2: the redirect URI's
    /// own query is retained and the parameters appended.
    pub fn location(&self) -> String {
        let mut out = self.redirect_uri.clone();
        let (base, fragment) = match out.find('#') {
            Some(i) => {
                let f = out[i..].to_owned();
                out.truncate(i);
                (out, Some(f))
            }
            None => (out, None),
        };
        let mut out = base;
        let mut ser = form_urlencoded::Serializer::new(String::new());
        for (k, v) in &self.params {
            ser.append_pair(k, v);
        }
        let query = ser.finish();
        out.push(if out.contains('?') { '&' } else { '?' });
        out.push_str(&query);
        // A registered redirect URI never has a fragment (RFC 6749 §3.1.2); keep it out.
        let _ = fragment;
        out
    }

    /// The auto-submitting HTML page of OAuth 2.0 Form Post Response Mode §2.
    pub fn form_post_html(&self) -> String {
        let mut inputs = String::new();
        for (k, v) in &self.params {
            inputs.push_str(&format!(
                "<input type=\"hidden\" name=\"{}\" value=\"{}\"/>",
                html_escape(k),
                html_escape(v)
            ));
        }
        format!(
            "<!DOCTYPE html><html><head><title>Submit This Form</title></head>\
             <body onload=\"javascript:document.forms[0].submit()\">\
             <form method=\"post\" action=\"{}\">{}<noscript><button type=\"submit\">Continue</button></noscript></form></body></html>",
            html_escape(&self.redirect_uri),
            inputs
        )
    }
}

/// Why `session` cannot answer `request`, if it cannot:
/// - OIDC Core §3.1.2.1: the user the `id_token_hint` names is not the one logged in
///   (`login_required`);
/// - OIDC Core §5.5.1.1: `acr` was requested as an Essential Claim with values and the session
///   reached none of them, which counts as a failed authentication (`access_denied`).
fn session_mismatch(request: &AuthorizationRequest, session: &Session) -> Option<Error> {
    if let Some(sub) = &request.id_token_hint_subject {
        if *sub != session.subject {
            return Some(Error::LoginRequired(
                "the user named by id_token_hint is not the one logged in".into(),
            ));
        }
    }
    let required = request
        .claims
        .as_ref()
        .map(|c| c.essential_acr.as_slice())
        .unwrap_or_default();
    if !required.is_empty() && !session.acr.as_ref().is_some_and(|a| required.contains(a)) {
        return Some(Error::AccessDenied(
            "the authentication did not reach a required acr".into(),
        ));
    }
    None
}

/// Escapes text for HTML attribute values and content.
pub fn html_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The authorization endpoint.
#[derive(Debug, Clone)]
pub struct AuthorizationEndpoint {
    ctx: Arc<Context>,
}

/// Where an error goes once the redirect URI is trusted.
#[derive(Debug, Clone)]
pub(crate) struct ErrorTarget {
    redirect_uri: String,
    mode: ResponseMode,
    state: Option<String>,
}

/// Why [`AuthorizationEndpoint::resolve`] refused a request, and where the error goes.
#[derive(Debug)]
pub(crate) enum Rejected {
    /// Client or redirect URI not trusted: an error page (at the PAR endpoint, a JSON error).
    Show(Error),
    /// The redirect URI is trusted: redirect the error (RFC 6749 §4.1.2.1).
    Redirect(ErrorTarget, Error),
}

impl Rejected {
    /// The error, wherever it was going.
    pub(crate) fn into_error(self) -> Error {
        match self {
            Rejected::Show(e) | Rejected::Redirect(_, e) => e,
        }
    }
}

/// A validated authorization request, its client and its effective parameters.
#[derive(Debug)]
pub(crate) struct Resolved {
    pub(crate) client: Client,
    pub(crate) request: AuthorizationRequest,
    pub(crate) params: Params,
}

impl AuthorizationEndpoint {
    /// The endpoint over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        AuthorizationEndpoint { ctx }
    }

    /// Validates the query string of an authorization request and decides the next step.
    /// `session` is the user's current login session, if any.
    pub async fn start(&self, query: &[u8], session: Option<&Session>) -> Interaction {
        match Params::parse(query, &self.ctx.config.limits) {
            Ok(params) => self.start_params(&params, session).await,
            Err(e) => Interaction::ShowError(e),
        }
    }

    /// [`start`](Self::start) with already parsed parameters (e.g. from a POSTed form, OIDC
    /// Core §3.1.2.1 allows both).
    ///
    /// The request's parameters come from the query itself, from a request object
    /// (`request=<JWT>`, RFC 9101 §5: then only the object's parameters count), or from a pushed
    /// authorization request (`request_uri=urn:ietf:params:oauth:request_uri:...`, RFC 9126 §4).
    pub async fn start_params(&self, params: &Params, session: Option<&Session>) -> Interaction {
        match self.resolve(params, None).await {
            Ok(r) => self.decide(r.request, &r.client, session).await,
            Err(Rejected::Show(e)) => Interaction::ShowError(e),
            Err(Rejected::Redirect(target, e)) => error_redirect(&self.ctx, &target, e),
        }
    }

    /// Finds the client and the request's effective parameters, then validates them: the one
    /// validation path of the authorization endpoint and of the pushed authorization request
    /// endpoint (`pushed_by`: the client that authenticated there, RFC 9126 §2.1).
    pub(crate) async fn resolve(
        &self,
        query: &Params,
        pushed_by: Option<&Client>,
    ) -> std::result::Result<Resolved, Rejected> {
        let cfg = &self.ctx.config;
        let client = match pushed_by {
            Some(c) => c.clone(),
            None => {
                let client_id = query.require("client_id").map_err(Rejected::Show)?;
                self.ctx
                    .clients
                    .client(client_id)
                    .await
                    .map_err(Rejected::Show)?
                    .ok_or_else(|| {
                        Rejected::Show(Error::InvalidRequest("unknown client_id".into()))
                    })?
            }
        };
        let params = if let Some(uri) = query.get("request_uri") {
            // RFC 9126 §2.1: request_uri "MUST NOT be provided" in a pushed request.
            if pushed_by.is_some() {
                return Err(Rejected::Show(Error::InvalidRequest(
                    "request_uri is not allowed in a pushed authorization request".into(),
                )));
            }
            // RFC 9101 §5: one or the other.
            if query.get("request").is_some() {
                return Err(self.early(
                    query,
                    &client,
                    Error::InvalidRequest("request and request_uri cannot be combined".into()),
                ));
            }
            pushed_request::redeem(&self.ctx, uri, &client)
                .await
                .map_err(|e| self.early(query, &client, e))?
        } else {
            // RFC 9126 §5 / §6: PAR required by the provider or for this client.
            if pushed_by.is_none()
                && (cfg.require_pushed_authorization_requests
                    || client.require_pushed_authorization_requests)
            {
                return Err(self.early(
                    query,
                    &client,
                    Error::InvalidRequest(
                        "authorization requests must be pushed first (RFC 9126)".into(),
                    ),
                ));
            }
            match query.get("request") {
                Some(jwt) => request_object_params(&self.ctx, &client, jwt, query)
                    .await
                    .map_err(|e| self.early(query, &client, e))?,
                None => query.clone(),
            }
        };
        let target = self
            .trusted_target(&params, &client)
            .map_err(Rejected::Show)?;
        let mut request = match self.validate(&params, &client, &target) {
            Ok(r) => r,
            Err(e) => return Err(Rejected::Redirect(target, e)),
        };
        if let Some(hint) = params.get("id_token_hint") {
            match self.id_token_hint_subject(hint, &client).await {
                Ok(sub) => request.id_token_hint_subject = Some(sub),
                Err(e) => return Err(Rejected::Redirect(target, e)),
            }
        }
        for ext in &self.ctx.authorization_extensions {
            if let Err(e) = ext.check(&client, &request).await {
                return Err(Rejected::Redirect(target, e));
            }
        }
        Ok(Resolved {
            client,
            request,
            params,
        })
    }

    /// An error found before the request's own parameters are known (bad request object,
    /// unusable `request_uri`): redirected to the query's redirect URI when that one is
    /// registered for the client (the existing trust rule), else shown.
    fn early(&self, query: &Params, client: &Client, e: Error) -> Rejected {
        match self.trusted_target(query, client) {
            Ok(t) => Rejected::Redirect(t, e),
            Err(_) => Rejected::Show(e),
        }
    }

    /// Continues a flow after the host's login or consent page.
    pub async fn resume(&self, request: AuthorizationRequest, decision: Decision) -> Interaction {
        let target = ErrorTarget {
            redirect_uri: request.redirect_uri.clone(),
            mode: request.response_mode,
            state: request.state.clone(),
        };
        let client = match self.ctx.clients.client(&request.client_id).await {
            Ok(Some(c)) if c.match_redirect_uri(&request.redirect_uri).is_some() => c,
            Ok(_) => {
                return Interaction::ShowError(Error::InvalidRequest(
                    "unknown client or redirect_uri".into(),
                ))
            }
            Err(e) => return Interaction::ShowError(e),
        };
        match decision {
            Decision::Denied | Decision::Consented { granted: false, .. } => error_redirect(
                &self.ctx,
                &target,
                Error::AccessDenied("the user denied the request".into()),
            ),
            Decision::LoggedIn(session) | Decision::Consented { session, .. }
                if session_mismatch(&request, &session).is_some() =>
            {
                let e = session_mismatch(&request, &session)
                    .unwrap_or_else(|| Error::internal("unreachable: no mismatch"));
                error_redirect(&self.ctx, &target, e)
            }
            Decision::LoggedIn(session) => {
                if needs_consent(&client, &request, &session) {
                    Interaction::Consent {
                        request: Box::new(request),
                        session,
                    }
                } else {
                    self.issue(&request, &client, &session, &target).await
                }
            }
            Decision::Consented {
                session,
                granted: true,
            } => self.issue(&request, &client, &session, &target).await,
        }
    }

    /// Client and redirect URI: until both are trusted, errors are shown, never redirected
    /// (RFC 6749 §4.1.2.1, §10.15 open redirectors).
    fn trusted_target(&self, p: &Params, client: &Client) -> Result<ErrorTarget> {
        let redirect_uri = match p.get("redirect_uri") {
            // RFC 9700 §4.1.3: exact match against a registered URI (loopback port excepted).
            Some(r) => client
                .match_redirect_uri(r)
                .ok_or_else(|| {
                    Error::InvalidRequest("redirect_uri is not registered for this client".into())
                })?
                .to_owned(),
            // RFC 6749 §3.1.2.3: may be omitted only when exactly one is registered; OIDC Core
            // §3.1.2.1 makes it REQUIRED for OpenID requests.
            None => {
                let openid = p
                    .get("scope")
                    .is_some_and(|s| s.split(' ').any(|v| v == "openid"));
                match client.redirect_uris.as_slice() {
                    [only] if !openid => only.clone(),
                    _ => {
                        return Err(Error::InvalidRequest(
                            "missing parameter `redirect_uri`".into(),
                        ))
                    }
                }
            }
        };
        // The response mode decides how even errors are returned; an invalid one falls back to
        // query (and the error below reports it).
        let mode = p
            .get("response_mode")
            .and_then(ResponseMode::from_name)
            .unwrap_or(ResponseMode::Query);
        Ok(ErrorTarget {
            redirect_uri,
            mode,
            state: p.get("state").map(str::to_owned),
        })
    }

    fn validate(
        &self,
        p: &Params,
        client: &Client,
        target: &ErrorTarget,
    ) -> Result<AuthorizationRequest> {
        let cfg = &self.ctx.config;
        if p.get("registration").is_some() {
            return Err(Error::RegistrationNotSupported(
                "the registration parameter is not supported".into(),
            ));
        }
        // RFC 6749 §4.1.1: response_type=code is the only type this endpoint implements.
        match p.get("response_type") {
            None => {
                return Err(Error::InvalidRequest(
                    "missing parameter `response_type`".into(),
                ))
            }
            Some("code") => {}
            Some(_) => {
                return Err(Error::UnsupportedResponseType(
                    "only response_type=code is supported".into(),
                ))
            }
        }
        if !cfg.grant_enabled(grant_type::AUTHORIZATION_CODE)
            || !client.allows_grant(grant_type::AUTHORIZATION_CODE)
        {
            return Err(Error::UnauthorizedClient(
                "the client may not use the authorization code flow".into(),
            ));
        }
        // OAuth 2.0 Multiple Response Types §2.1: `fragment` is not allowed for `code` here (it
        // would expose the code to scripts), nor is anything unknown.
        if p.get("response_mode")
            .is_some_and(|m| ResponseMode::from_name(m).is_none())
        {
            return Err(Error::InvalidRequest("unsupported response_mode".into()));
        }
        let scopes = Scopes::parse(p.get("scope").unwrap_or(""), &cfg.limits)?;
        for s in scopes.values() {
            if !cfg.scopes_supported.iter().any(|x| x == s) || !client.allows_scope(s) {
                return Err(Error::InvalidScope(format!("scope `{s}` is not allowed")));
            }
        }
        // RFC 7636 §4.3, §4.4.1; RFC 9700 §2.1.1.
        let method = p.get("code_challenge_method");
        let code_challenge = match (p.get("code_challenge"), method) {
            (None, Some(_)) => {
                return Err(Error::InvalidRequest(
                    "code_challenge_method without code_challenge".into(),
                ))
            }
            (None, None) => {
                if client.is_public() || cfg.require_pkce {
                    return Err(Error::InvalidRequest(
                        "PKCE (code_challenge with S256) is required".into(),
                    ));
                }
                None
            }
            (Some(challenge), method) => {
                let method = match method {
                    Some("S256") => CodeChallengeMethod::S256,
                    // RFC 7636 §4.3: the default method is `plain`.
                    Some("plain") | None if cfg.allow_plain_pkce => CodeChallengeMethod::Plain,
                    Some("plain") | None => {
                        return Err(Error::InvalidRequest(
                            "code_challenge_method must be S256".into(),
                        ))
                    }
                    Some(_) => {
                        return Err(Error::InvalidRequest(
                            "unsupported code_challenge_method".into(),
                        ))
                    }
                };
                if !is_pkce_value(challenge) {
                    return Err(Error::InvalidRequest("malformed code_challenge".into()));
                }
                Some((challenge.to_owned(), method))
            }
        };
        let mut prompt = Vec::new();
        for v in p
            .get("prompt")
            .unwrap_or("")
            .split(' ')
            .filter(|v| !v.is_empty())
        {
            let value = Prompt::from_name(v)
                .ok_or_else(|| Error::InvalidRequest("unsupported prompt value".into()))?;
            if !prompt.contains(&value) {
                prompt.push(value);
            }
        }
        // OIDC Core §3.1.2.1: `none` with any other value is an error.
        if prompt.contains(&Prompt::None) && prompt.len() > 1 {
            return Err(Error::InvalidRequest(
                "prompt=none cannot be combined".into(),
            ));
        }
        let max_age = match p.get("max_age") {
            None => None,
            Some(v) => Some(v.parse::<i64>().ok().filter(|n| *n >= 0).ok_or_else(|| {
                Error::InvalidRequest("max_age must be a non-negative integer".into())
            })?),
        };
        let claims = p.get("claims").map(ClaimsRequest::parse).transpose()?;
        let list = |name: &str| -> Vec<String> {
            p.get(name)
                .unwrap_or("")
                .split(' ')
                .filter(|v| !v.is_empty())
                .take(16)
                .map(str::to_owned)
                .collect()
        };
        Ok(AuthorizationRequest {
            client_id: client.client_id.clone(),
            redirect_uri: target.redirect_uri.clone(),
            redirect_uri_sent: p.get("redirect_uri").is_some(),
            scopes,
            state: target.state.clone(),
            nonce: p.get("nonce").map(str::to_owned),
            response_mode: target.mode,
            code_challenge,
            prompt,
            max_age,
            login_hint: p.get("login_hint").map(str::to_owned),
            acr_values: list("acr_values"),
            ui_locales: list("ui_locales"),
            claims,
            display: p.get("display").map(Display::parse).transpose()?,
            // Set by `start_params` once the hint's signature is checked.
            id_token_hint_subject: None,
            extension_params: self.extension_params(p),
        })
    }

    /// The values of the parameters registered extensions read.
    fn extension_params(&self, p: &Params) -> std::collections::BTreeMap<String, Vec<String>> {
        let mut out = std::collections::BTreeMap::new();
        for ext in &self.ctx.authorization_extensions {
            for name in ext.parameters() {
                let values = p.get_all(name);
                if !values.is_empty() {
                    out.insert(name.to_owned(), values.to_vec());
                }
            }
        }
        out
    }

    /// OIDC Core §3.1.2.1 `id_token_hint`: an ID token this OP issued to this client, passed
    /// back as a hint about who should be logged in. Its signature is checked against our own
    /// keys and `iss` and `aud` must match, but its expiry is not (an old ID token is a
    /// legitimate hint). An encrypted one must have been decrypted by the client first.
    /// Returns the hint's `sub`.
    async fn id_token_hint_subject(&self, hint: &str, client: &Client) -> Result<String> {
        let bad = |why: &str| Error::InvalidRequest(format!("id_token_hint {why}"));
        if hint.len() > 16 * 1024 {
            return Err(bad("is too large"));
        }
        if hint.split('.').count() != 3 {
            return Err(bad("must be a signed (not encrypted) ID token"));
        }
        let jwt = crate::validate::own_jwt(&self.ctx, hint)
            .await
            .map_err(|_| bad("was not issued by this provider"))?;
        let claims = &jwt.claims;
        if claims.get("iss").and_then(serde_json::Value::as_str) != Some(&self.ctx.config.issuer) {
            return Err(bad("was not issued by this provider"));
        }
        if crate::validate::audience_names(claims, &[&client.client_id]) != Some(true) {
            return Err(bad("was not issued to this client"));
        }
        claims
            .get("sub")
            .and_then(serde_json::Value::as_str)
            .map(str::to_owned)
            .ok_or_else(|| bad("has no `sub`"))
    }

    /// Decides ([`next_step`]), then acts: a login or consent interaction, an error
    /// redirect, or the code.
    async fn decide(
        &self,
        request: AuthorizationRequest,
        client: &Client,
        session: Option<&Session>,
    ) -> Interaction {
        let target = ErrorTarget {
            redirect_uri: request.redirect_uri.clone(),
            mode: request.response_mode,
            state: request.state.clone(),
        };
        let now = self.ctx.clock.now();
        match (next_step(&request, client, session, now), session) {
            (NextStep::Issue, Some(session)) => {
                self.issue(&request, client, session, &target).await
            }
            (NextStep::Consent, Some(session)) => Interaction::Consent {
                request: Box::new(request),
                session: session.clone(),
            },
            (NextStep::Fail(e), _) => error_redirect(&self.ctx, &target, e),
            (NextStep::Login | NextStep::Issue | NextStep::Consent, _) => Interaction::Login {
                client_id: request.client_id.clone(),
                request: Box::new(request),
            },
        }
    }

    /// Issues the authorization code (RFC 6749 §4.1.2): a new grant (the family root) and the
    /// code, 256 bits, stored by hash, bound to client, redirect URI and PKCE challenge.
    async fn issue(
        &self,
        request: &AuthorizationRequest,
        client: &Client,
        session: &Session,
        target: &ErrorTarget,
    ) -> Interaction {
        match self.issue_code(request, client, session).await {
            // The stored session ended while the user was here: log in again (or, under
            // `prompt=none`, answer `login_required`).
            Err(Error::LoginRequired(_)) if !request.prompt.contains(&Prompt::None) => {
                Interaction::Login {
                    client_id: request.client_id.clone(),
                    request: Box::new(request.clone()),
                }
            }
            Ok(code) => {
                let mut params = vec![("code".to_owned(), code)];
                if let Some(state) = &request.state {
                    params.push(("state".into(), state.clone()));
                }
                // RFC 9207 §2: the issuer identifies the AS that produced the response.
                params.push(("iss".into(), self.ctx.config.issuer.clone()));
                Interaction::Redirect(AuthorizationResponse {
                    redirect_uri: request.redirect_uri.clone(),
                    response_mode: request.response_mode,
                    params,
                })
            }
            Err(e) => error_redirect(&self.ctx, target, e),
        }
    }

    async fn issue_code(
        &self,
        request: &AuthorizationRequest,
        client: &Client,
        session: &Session,
    ) -> Result<String> {
        let ctx = &self.ctx;
        let now = ctx.clock.now();
        let mut grant = Grant {
            id: random_token(ctx.rng.as_ref(), 16)?,
            client_id: request.client_id.clone(),
            subject: Some(session.subject.clone()),
            scopes: request.scopes.clone(),
            auth_time: Some(session.auth_time),
            acr: session.acr.clone(),
            amr: session.amr.clone(),
            sid: session.sid.clone(),
            nonce: request.nonce.clone(),
            claims: request.claims.clone(),
            created_at: now,
            expires_at: now.saturating_add(ctx.config.refresh_token_ttl),
            contents: TokenContents::default(),
        };
        // Extensions shape what the grant's tokens carry (RFC 9396 `authorization_details`, ...).
        for ext in &ctx.authorization_extensions {
            ext.shape_grant(client, request, &mut grant).await?;
        }
        let code = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
        let record = TokenRecord {
            hash: TokenHash::of(&code),
            kind: TokenKind::AuthorizationCode,
            grant_id: grant.id.clone(),
            client_id: request.client_id.clone(),
            scopes: request.scopes.clone(),
            issued_at: now,
            expires_at: now.saturating_add(ctx.config.authorization_code_ttl),
            code: Some(CodeBinding {
                redirect_uri: request.redirect_uri.clone(),
                redirect_uri_sent: request.redirect_uri_sent,
                code_challenge: request.code_challenge.clone(),
            }),
            state: TokenState::Active,
        };
        // The session's logout fans out to this client and revokes this grant.
        if let (Some(store), Some(sid)) = (&ctx.sessions, &session.sid) {
            store
                .record_grant(sid, &request.client_id, &grant.id, now)
                .await?
                .ok_or_else(|| Error::LoginRequired("the login session has ended".into()))?;
        }
        ctx.grants.create_grant_with_token(grant, record).await?;
        Ok(code)
    }
}

fn needs_consent(client: &Client, request: &AuthorizationRequest, session: &Session) -> bool {
    if request.prompt.contains(&Prompt::Consent) {
        return true;
    }
    if client.consent_implied {
        return false;
    }
    !request
        .scopes
        .values()
        .iter()
        .all(|s| session.consented_scopes.contains(s))
}

/// An error response to the trusted redirect URI (RFC 6749 §4.1.2.1, RFC 9207 `iss`).
fn error_redirect(ctx: &Context, target: &ErrorTarget, error: Error) -> Interaction {
    let mut params = vec![
        ("error".to_owned(), error.code().to_owned()),
        (
            "error_description".to_owned(),
            error.description().to_owned(),
        ),
    ];
    if let Some(state) = &target.state {
        params.push(("state".into(), state.clone()));
    }
    params.push(("iss".into(), ctx.config.issuer.clone()));
    Interaction::Redirect(AuthorizationResponse {
        redirect_uri: target.redirect_uri.clone(),
        response_mode: target.mode,
        params,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn location_keeps_query_and_encodes() {
        let r = AuthorizationResponse {
            redirect_uri: "https://app.example/cb?x=1".into(),
            response_mode: ResponseMode::Query,
            params: vec![("code".into(), "a b".into()), ("state".into(), "&".into())],
        };
        assert_eq!(
            r.location(),
            "https://app.example/cb?x=1&code=a+b&state=%26"
        );
        assert_eq!(r.param("state"), Some("&"));
    }

    #[test]
    fn form_post_escapes() {
        let r = AuthorizationResponse {
            redirect_uri: "https://app.example/cb".into(),
            response_mode: ResponseMode::FormPost,
            params: vec![("state".into(), "\"><script>".into())],
        };
        let html = r.form_post_html();
        assert!(
            html.contains("value=\"&quot;&gt;&lt;script&gt;\""),
            "{html}"
        );
        assert!(!html.contains("<script>"));
    }
}
