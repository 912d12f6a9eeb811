//! Scripted flows without HTML: the test decides who logs in and what is consented, and gets
//! back what a browser (the redirect) or a client (the token response) would receive.

use idforge_jose::b64;
use idforge_jose::crypto::HashAlg;
use idforge_oauth_core::device::{DeviceApproval, UserDecision};
use idforge_oauth_core::endpoint::device::DeviceVerdict;
use idforge_oauth_core::grant::device_code::DeviceAuthorizationResponse;
use idforge_oauth_core::secret::random_token;
use idforge_oauth_core::{
    AuthorizationResponse, Decision, Interaction, Params, Session, TokenResponse,
};

use crate::error::TestError;
use crate::provider::{
    TestIssuer, DEFAULT_REDIRECT_URI, PUBLIC_CLIENT_ID, TEST_CLIENT_ID, TEST_CLIENT_SECRET,
};

/// The address the scripted device approval and denial come from (TEST-NET-2, RFC 5737).
const SCRIPT_IP: &str = "198.51.100.1";

/// What the user does at the consent page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Consent {
    /// Grants what the client asks for.
    Grant,
    /// Refuses (the client receives `access_denied`).
    Deny,
}

/// Who logs in at the authorization endpoint, and what they answer.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ScriptedLogin {
    /// The user `subject` logs in (any subject: registered users also get their claims).
    User {
        /// The subject.
        subject: String,
        /// The answer at the consent page.
        consent: Consent,
        /// `acr` of the login.
        acr: Option<String>,
        /// `amr` of the login.
        amr: Vec<String>,
    },
    /// The user cancels at the login page (the client receives `access_denied`).
    Cancel,
}

impl ScriptedLogin {
    /// `subject` logs in with a password and grants consent.
    pub fn user(subject: impl Into<String>) -> Self {
        ScriptedLogin::User {
            subject: subject.into(),
            consent: Consent::Grant,
            acr: None,
            amr: vec!["pwd".into()],
        }
    }

    /// The same login reaching authentication context class `acr` (OIDC Core §2).
    pub fn with_acr(mut self, value: impl Into<String>) -> Self {
        if let ScriptedLogin::User { acr, .. } = &mut self {
            *acr = Some(value.into());
        }
        self
    }

    /// The same login by methods `amr` (RFC 8176 values: `pwd`, `otp`, `hwk`, ...).
    pub fn with_amr<S: Into<String>>(mut self, methods: impl IntoIterator<Item = S>) -> Self {
        if let ScriptedLogin::User { amr, .. } = &mut self {
            *amr = methods.into_iter().map(Into::into).collect();
        }
        self
    }

    /// The same login, answering `consent` at the consent page.
    pub fn with_consent(self, answer: Consent) -> Self {
        match self {
            ScriptedLogin::User {
                subject, acr, amr, ..
            } => ScriptedLogin::User {
                subject,
                consent: answer,
                acr,
                amr,
            },
            other => other,
        }
    }
}

/// A client as it authenticates at the token endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TestClient {
    /// `client_id`.
    pub client_id: String,
    /// The secret (HTTP Basic, RFC 6749 §2.3.1); `None`: a public client sending
    /// `client_id` in the form.
    pub secret: Option<String>,
}

impl TestClient {
    /// A confidential client authenticating with HTTP Basic.
    pub fn confidential(client_id: impl Into<String>, secret: impl Into<String>) -> Self {
        TestClient {
            client_id: client_id.into(),
            secret: Some(secret.into()),
        }
    }

    /// A public client.
    pub fn public(client_id: impl Into<String>) -> Self {
        TestClient {
            client_id: client_id.into(),
            secret: None,
        }
    }

    /// [`TEST_CLIENT_ID`] with [`TEST_CLIENT_SECRET`].
    pub fn default_confidential() -> Self {
        Self::confidential(TEST_CLIENT_ID, TEST_CLIENT_SECRET)
    }

    /// [`PUBLIC_CLIENT_ID`].
    pub fn default_public() -> Self {
        Self::public(PUBLIC_CLIENT_ID)
    }

    /// The `Authorization` header value, when confidential.
    pub fn authorization(&self) -> Option<String> {
        let secret = self.secret.as_deref()?;
        // RFC 6749 §2.3.1: both form-urlencoded before Basic (RFC 7617).
        let enc = |s: &str| form_urlencoded::byte_serialize(s.as_bytes()).collect::<String>();
        let pair = format!("{}:{}", enc(&self.client_id), enc(secret));
        Some(format!("Basic {}", standard_base64(pair.as_bytes())))
    }

    fn form(&self, pairs: &mut Vec<(String, String)>) {
        if self.secret.is_none() {
            pairs.push(("client_id".into(), self.client_id.clone()));
        }
    }
}

/// An authorization request as a relying party sends it, and who answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct AuthorizeScript {
    /// Who logs in.
    pub login: ScriptedLogin,
    /// The client (its secret is used when the code is exchanged).
    pub client: TestClient,
    /// `redirect_uri`.
    pub redirect_uri: String,
    /// `scope`.
    pub scope: String,
    /// `state` (`None`: drawn from the seeded random source).
    pub state: Option<String>,
    /// `nonce` (`None`: drawn from the seeded random source).
    pub nonce: Option<String>,
    /// Send a PKCE S256 challenge (RFC 7636), default on.
    pub pkce: bool,
    /// More request parameters (`prompt`, `max_age`, `claims`, ...).
    pub params: Vec<(String, String)>,
}

impl AuthorizeScript {
    /// `login` answers a request of [`TEST_CLIENT_ID`] for `openid profile email`, with
    /// PKCE.
    pub fn new(login: ScriptedLogin) -> Self {
        AuthorizeScript {
            login,
            client: TestClient::default_confidential(),
            redirect_uri: DEFAULT_REDIRECT_URI.into(),
            scope: "openid profile email".into(),
            state: None,
            nonce: None,
            pkce: true,
            params: Vec::new(),
        }
    }

    /// Sets the client.
    pub fn client(mut self, client: TestClient) -> Self {
        self.client = client;
        self
    }

    /// Sets `redirect_uri`.
    pub fn redirect_uri(mut self, uri: impl Into<String>) -> Self {
        self.redirect_uri = uri.into();
        self
    }

    /// Sets `scope`.
    pub fn scope(mut self, scope: impl Into<String>) -> Self {
        self.scope = scope.into();
        self
    }

    /// Sets `state`.
    pub fn state(mut self, state: impl Into<String>) -> Self {
        self.state = Some(state.into());
        self
    }

    /// Sets `nonce`.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Sends no PKCE challenge.
    pub fn without_pkce(mut self) -> Self {
        self.pkce = false;
        self
    }

    /// Adds a request parameter.
    pub fn param(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.params.push((name.into(), value.into()));
        self
    }
}

/// What the browser is sent back with, and what the client keeps to redeem it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Authorized {
    /// The authorization response (`code`, `state`, `iss`, or `error`).
    pub response: AuthorizationResponse,
    /// The `Location` the browser is redirected to.
    pub location: String,
    /// The PKCE verifier the client keeps.
    pub code_verifier: Option<String>,
    /// The `nonce` sent.
    pub nonce: String,
    /// The `state` sent.
    pub state: String,
    /// The client.
    pub client: TestClient,
    /// The redirect URI sent.
    pub redirect_uri: String,
}

impl Authorized {
    /// The `code`, when the user authorized the request.
    pub fn code(&self) -> Option<&str> {
        self.response.param("code")
    }

    /// The `error`, when the request was refused.
    pub fn error(&self) -> Option<&str> {
        self.response.param("error")
    }
}

impl TestIssuer {
    fn draw(&self, bytes: usize) -> Result<String, TestError> {
        Ok(random_token(self.inner.rng.as_ref(), bytes)?)
    }

    /// Runs the authorization endpoint for `script` (RFC 6749 §4.1.1, OIDC Core §3.1.2):
    /// the request is validated, the scripted user logs in and answers consent, and the
    /// redirect back to the client is returned. A request the provider shows an error page
    /// for (unknown client, unregistered redirect URI) is `Err`.
    pub async fn authorize(&self, script: &AuthorizeScript) -> Result<Authorized, TestError> {
        let state = match &script.state {
            Some(s) => s.clone(),
            None => self.draw(16)?,
        };
        let nonce = match &script.nonce {
            Some(n) => n.clone(),
            None => self.draw(16)?,
        };
        let mut pairs = vec![
            ("response_type".to_owned(), "code".to_owned()),
            ("client_id".to_owned(), script.client.client_id.clone()),
            ("redirect_uri".to_owned(), script.redirect_uri.clone()),
            ("scope".to_owned(), script.scope.clone()),
            ("state".to_owned(), state.clone()),
            ("nonce".to_owned(), nonce.clone()),
        ];
        let code_verifier = if script.pkce {
            let verifier = self.draw(32)?;
            pairs.push(("code_challenge".into(), pkce_challenge(&verifier)));
            pairs.push(("code_challenge_method".into(), "S256".into()));
            Some(verifier)
        } else {
            None
        };
        pairs.extend(script.params.iter().cloned());
        let params = Params::from_pairs(pairs)?;
        let first = self
            .provider()
            .authorization
            .start_params(&params, None)
            .await;
        let response = self.answer(first, &script.login).await?;
        Ok(Authorized {
            location: response.location(),
            response,
            code_verifier,
            nonce,
            state,
            client: script.client.clone(),
            redirect_uri: script.redirect_uri.clone(),
        })
    }

    /// Answers the authorization endpoint's interactions as `login` says, until it
    /// redirects.
    pub(crate) async fn answer(
        &self,
        mut interaction: Interaction,
        login: &ScriptedLogin,
    ) -> Result<AuthorizationResponse, TestError> {
        let endpoint = &self.provider().authorization;
        // Login, then consent, then a redirect: three steps at most.
        for _ in 0..3 {
            interaction = match interaction {
                Interaction::Redirect(r) => return Ok(r),
                Interaction::ShowError(e) => return Err(TestError::OAuth(e)),
                Interaction::Login { request, .. } => {
                    let decision = match login {
                        ScriptedLogin::User {
                            subject, acr, amr, ..
                        } => {
                            let mut session = Session::new(subject.clone(), self.now());
                            session.acr = acr.clone();
                            session.amr = amr.clone();
                            Decision::LoggedIn(session)
                        }
                        ScriptedLogin::Cancel => Decision::Denied,
                    };
                    endpoint.resume(*request, decision).await
                }
                Interaction::Consent { request, session } => {
                    let granted = matches!(
                        login,
                        ScriptedLogin::User {
                            consent: Consent::Grant,
                            ..
                        }
                    );
                    endpoint
                        .resume(*request, Decision::Consented { session, granted })
                        .await
                }
            };
        }
        Err(TestError::Unexpected(
            "the authorization endpoint did not redirect".into(),
        ))
    }

    /// Redeems the code of `authorized` at the token endpoint (RFC 6749 §4.1.3, with the
    /// PKCE verifier).
    pub async fn exchange_code(&self, authorized: &Authorized) -> Result<TokenResponse, TestError> {
        let code = authorized.code().ok_or_else(|| {
            TestError::Unexpected(format!(
                "no code in the authorization response (error {:?})",
                authorized.error()
            ))
        })?;
        let mut form = vec![
            ("grant_type".to_owned(), "authorization_code".to_owned()),
            ("code".to_owned(), code.to_owned()),
            ("redirect_uri".to_owned(), authorized.redirect_uri.clone()),
        ];
        if let Some(v) = &authorized.code_verifier {
            form.push(("code_verifier".into(), v.clone()));
        }
        self.token_request(&authorized.client, form).await
    }

    /// The whole authorization code flow: [`Self::authorize`] then [`Self::exchange_code`].
    pub async fn code_flow(
        &self,
        script: &AuthorizeScript,
    ) -> Result<(Authorized, TokenResponse), TestError> {
        let authorized = self.authorize(script).await?;
        let tokens = self.exchange_code(&authorized).await?;
        Ok((authorized, tokens))
    }

    /// The refresh token grant (RFC 6749 §6); `scope` narrows the grant.
    pub async fn refresh(
        &self,
        client: &TestClient,
        refresh_token: &str,
        scope: Option<&str>,
    ) -> Result<TokenResponse, TestError> {
        let mut form = vec![
            ("grant_type".to_owned(), "refresh_token".to_owned()),
            ("refresh_token".to_owned(), refresh_token.to_owned()),
        ];
        if let Some(s) = scope {
            form.push(("scope".into(), s.into()));
        }
        self.token_request(client, form).await
    }

    /// The client credentials grant (RFC 6749 §4.4).
    pub async fn client_credentials(
        &self,
        client: &TestClient,
        scope: Option<&str>,
    ) -> Result<TokenResponse, TestError> {
        let mut form = vec![("grant_type".to_owned(), "client_credentials".to_owned())];
        if let Some(s) = scope {
            form.push(("scope".into(), s.into()));
        }
        self.token_request(client, form).await
    }

    /// The device authorization request (RFC 8628 §3.1): what the device shows the user.
    pub async fn start_device(
        &self,
        client: &TestClient,
        scope: Option<&str>,
    ) -> Result<DeviceAuthorizationResponse, TestError> {
        let mut form = Vec::new();
        client.form(&mut form);
        if let Some(s) = scope {
            form.push(("scope".to_owned(), s.to_owned()));
        }
        let body = encode_form(&form);
        let auth = client.authorization();
        Ok(self
            .inner
            .device_endpoint
            .handle_form(body.as_bytes(), auth.as_deref())
            .await?)
    }

    /// The user `subject` enters `user_code` and approves (RFC 8628 §3.3).
    pub async fn approve_device(
        &self,
        user_code: &str,
        subject: &str,
    ) -> Result<DeviceVerdict, TestError> {
        let approval = DeviceApproval::new(subject, self.now(), vec!["pwd".into()]);
        Ok(self
            .inner
            .device_verification
            .decide(user_code, UserDecision::Approve(approval), SCRIPT_IP)
            .await?)
    }

    /// The user enters `user_code` and denies (RFC 8628 §3.5 `access_denied` for the device).
    pub async fn deny_device(&self, user_code: &str) -> Result<DeviceVerdict, TestError> {
        Ok(self
            .inner
            .device_verification
            .decide(user_code, UserDecision::Deny, SCRIPT_IP)
            .await?)
    }

    /// The device's token request (RFC 8628 §3.4): tokens, or `authorization_pending`,
    /// `slow_down`, `access_denied`, `expired_token` as errors.
    pub async fn poll_device(
        &self,
        client: &TestClient,
        device_code: &str,
    ) -> Result<TokenResponse, TestError> {
        let form = vec![
            (
                "grant_type".to_owned(),
                "urn:ietf:params:oauth:grant-type:device_code".to_owned(),
            ),
            ("device_code".to_owned(), device_code.to_owned()),
        ];
        self.token_request(client, form).await
    }

    /// Token exchange (RFC 8693 §2.1) of one of this issuer's access tokens: with an
    /// `actor_token` a delegation (`act` claim), without one an impersonation;
    /// `audience` sets the new token's `aud`.
    pub async fn token_exchange(
        &self,
        client: &TestClient,
        subject_token: &str,
        actor_token: Option<&str>,
        audience: Option<&str>,
    ) -> Result<TokenResponse, TestError> {
        const ACCESS: &str = "urn:ietf:params:oauth:token-type:access_token";
        let mut form = vec![
            (
                "grant_type".to_owned(),
                "urn:ietf:params:oauth:grant-type:token-exchange".to_owned(),
            ),
            ("subject_token".to_owned(), subject_token.to_owned()),
            ("subject_token_type".to_owned(), ACCESS.to_owned()),
        ];
        if let Some(actor) = actor_token {
            form.push(("actor_token".into(), actor.into()));
            form.push(("actor_token_type".into(), ACCESS.into()));
        }
        if let Some(aud) = audience {
            form.push(("audience".into(), aud.into()));
        }
        self.token_request(client, form).await
    }

    /// Any token request: `form` plus the client's authentication, through the token
    /// endpoint.
    pub async fn token_request(
        &self,
        client: &TestClient,
        mut form: Vec<(String, String)>,
    ) -> Result<TokenResponse, TestError> {
        client.form(&mut form);
        let body = encode_form(&form);
        let auth = client.authorization();
        Ok(self
            .provider()
            .token
            .handle_form(body.as_bytes(), auth.as_deref())
            .await?)
    }
}

/// RFC 7636 §4.2: `BASE64URL(SHA256(ASCII(code_verifier)))`.
pub fn pkce_challenge(verifier: &str) -> String {
    b64::encode(HashAlg::Sha256.digest(verifier.as_bytes()))
}

fn encode_form(pairs: &[(String, String)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in pairs {
        ser.append_pair(k, v);
    }
    ser.finish()
}

/// Base64 with the standard alphabet and padding (RFC 4648 §4), from the URL-safe encoder.
fn standard_base64(bytes: &[u8]) -> String {
    let mut out: String = b64::encode(bytes)
        .chars()
        .map(|c| match c {
            '-' => '+',
            '_' => '/',
            c => c,
        })
        .collect();
    let pad = (4 - out.len() % 4) % 4;
    out.extend(std::iter::repeat_n('=', pad));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_challenge_matches_rfc_7636_appendix_b() {
        assert_eq!(
            pkce_challenge("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"),
            "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
        );
    }

    #[test]
    fn basic_credentials_follow_rfc_6749_2_3_1() {
        // RFC 7617 §2's example pair, then a secret that must be form-urlencoded first.
        let c = TestClient::confidential("Aladdin", "open sesame");
        assert_eq!(
            c.authorization().unwrap(),
            "Basic QWxhZGRpbjpvcGVuK3Nlc2FtZQ=="
        );
        assert_eq!(TestClient::public("x").authorization(), None);
    }
}
