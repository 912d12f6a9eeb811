//! Scripted CIBA (OpenID Connect Client-Initiated Backchannel Authentication Core 1.0): the
//! client's backchannel request, the user's answer on "their device", the client's poll.

use idforge_ciba::{Approval, BackchannelResponse, Verdict};
use idforge_oauth_core::{TokenRequest, TokenResponse};

use crate::error::TestError;
use crate::flows::TestClient;
use crate::provider::TestIssuer;

/// A started backchannel authentication: what the client received, and the approval handle
/// the user's device would be given (in `auth_url`).
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CibaStarted {
    /// The backchannel authentication response (CIBA §7.3: `auth_req_id`, `expires_in`,
    /// `interval`, `auth_url`).
    pub response: BackchannelResponse,
    /// The approval handle (distinct from `auth_req_id`).
    pub handle: String,
}

impl CibaStarted {
    /// `auth_req_id`, what the client polls with.
    pub fn auth_req_id(&self) -> &str {
        &self.response.auth_req_id
    }
}

impl TestIssuer {
    /// The client asks to act for the user `login_hint` names (CIBA §7.1: a user of the
    /// issuer, by login name or subject; anyone else is `unknown_user_id`), for `scope`
    /// (must include `openid`), with an optional `binding_message`.
    pub async fn ciba_start(
        &self,
        client: &TestClient,
        login_hint: &str,
        scope: &str,
        binding_message: Option<&str>,
    ) -> Result<CibaStarted, TestError> {
        let mut form = form_urlencoded::Serializer::new(String::new());
        form.append_pair("scope", scope);
        form.append_pair("login_hint", login_hint);
        if let Some(m) = binding_message {
            form.append_pair("binding_message", m);
        }
        if client.secret.is_none() {
            form.append_pair("client_id", &client.client_id);
        }
        let body = form.finish();
        let ctx = &self.provider().ctx;
        let req =
            TokenRequest::from_form(body.as_bytes(), client.authorization(), &ctx.config.limits)?;
        let response = self.inner.ciba.backchannel(ctx, &req).await?;
        let handle = response
            .auth_url
            .as_deref()
            .and_then(|u| u.split_once('?'))
            .and_then(|(_, q)| {
                form_urlencoded::parse(q.as_bytes())
                    .find(|(k, _)| k == "handle")
                    .map(|(_, v)| v.into_owned())
            })
            .ok_or_else(|| TestError::Unexpected("no approval handle in auth_url".into()))?;
        Ok(CibaStarted { response, handle })
    }

    /// `subject` (who must be the user the request names) approves on their device.
    pub async fn ciba_approve(
        &self,
        started: &CibaStarted,
        subject: &str,
    ) -> Result<(), TestError> {
        let approval = Approval::new(self.now(), vec!["pwd".into()]);
        self.ciba_decide(started, subject, Verdict::Approve(approval))
            .await
    }

    /// `subject` denies (the client's next poll gets `access_denied`).
    pub async fn ciba_deny(&self, started: &CibaStarted, subject: &str) -> Result<(), TestError> {
        self.ciba_decide(started, subject, Verdict::Deny).await
    }

    async fn ciba_decide(
        &self,
        started: &CibaStarted,
        subject: &str,
        verdict: Verdict,
    ) -> Result<(), TestError> {
        let ctx = &self.provider().ctx;
        self.inner
            .ciba
            .decide(ctx, &started.handle, subject, verdict)
            .await?;
        Ok(())
    }

    /// The client's poll at the token endpoint (CIBA §10.1): tokens, or
    /// `authorization_pending`, `slow_down`, `access_denied`, `expired_token`.
    pub async fn ciba_poll(
        &self,
        client: &TestClient,
        auth_req_id: &str,
    ) -> Result<TokenResponse, TestError> {
        let form = vec![
            ("grant_type".to_owned(), idforge_ciba::GRANT_TYPE.to_owned()),
            ("auth_req_id".to_owned(), auth_req_id.to_owned()),
        ];
        self.token_request(client, form).await
    }
}
