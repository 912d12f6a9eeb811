//! The device authorization endpoint (RFC 8628 §3.1, §3.2) and user-code verification (§3.3):
//! the same decisions behind the host's HTML page and the app-native JSON API (WSO2 IS 7.3:
//! a TV companion app posts the user code and the user's credentials, no browser).

use std::sync::Arc;

use serde_json::{json, Value};

use crate::client_auth::authenticate_optional;
use crate::context::Context;
use crate::device::{
    DecideOutcome, DecisionKind, DeviceApproval, DeviceState, UserCode, UserCodeSubmission,
    UserDecision, DEVICE_CODE_GRANT_TYPE,
};
use crate::error::{Error, Result};
use crate::grant::device_code::{start, DeviceAuthorizationResponse, DeviceFlow};
use crate::grant::requested_scopes;
use crate::model::{Scopes, TokenRequest};

/// The device authorization endpoint.
#[derive(Debug, Clone)]
pub struct DeviceAuthorizationEndpoint {
    ctx: Arc<Context>,
    flow: Arc<DeviceFlow>,
}

impl DeviceAuthorizationEndpoint {
    /// The endpoint of `flow` over the provider's context.
    pub fn new(ctx: Arc<Context>, flow: Arc<DeviceFlow>) -> Self {
        DeviceAuthorizationEndpoint { ctx, flow }
    }

    /// Handles a form body plus `Authorization` header.
    pub async fn handle_form(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<DeviceAuthorizationResponse> {
        let req = TokenRequest::from_form(
            body,
            authorization.map(str::to_owned),
            &self.ctx.config.limits,
        )?;
        self.handle(&req).await
    }

    /// RFC 8628 §3.1: the client authenticates as at the token endpoint (a public client
    /// names itself with `client_id`), must be allowed the device grant (`unauthorized_client`),
    /// and `scope` (default: its registered scopes) must be allowed (`invalid_scope`).
    pub async fn handle(&self, req: &TokenRequest) -> Result<DeviceAuthorizationResponse> {
        let client = authenticate_optional(&self.ctx, req)
            .await?
            .ok_or_else(|| Error::InvalidClient("client authentication required".into()))?;
        if !self.ctx.config.grant_enabled(DEVICE_CODE_GRANT_TYPE)
            || !client.allows_grant(DEVICE_CODE_GRANT_TYPE)
        {
            return Err(Error::UnauthorizedClient(
                "the client may not use the device authorization grant".into(),
            ));
        }
        let scopes = requested_scopes(&self.ctx.config, &client, req, &client.scopes)?;
        start(&self.ctx, &self.flow, &client, scopes).await
    }
}

/// What the user is shown before deciding (RFC 8628 §5.4: the client and what it asks for).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DevicePrompt {
    /// The user code, as `XXXX-XXXX`.
    pub user_code: String,
    /// The client.
    pub client_id: String,
    /// Its display name (`client_name` registration member, else the id).
    pub client_name: String,
    /// The scopes asked for.
    pub scopes: Scopes,
}

/// The result of a decision.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VerdictStatus {
    /// The device is now authorized.
    Approved,
    /// The device's request is now denied.
    Denied,
}

/// A decision recorded on a device authorization.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceVerdict {
    /// Approved or denied.
    pub status: VerdictStatus,
    /// The client.
    pub client_id: String,
    /// The scopes asked for.
    pub scopes: Scopes,
}

impl DeviceVerdict {
    /// The app-native API's answer: `{"status": "approved" | "denied", "client_id", "scope"}`.
    pub fn to_json(&self) -> Value {
        json!({
            "status": match self.status {
                VerdictStatus::Approved => "approved",
                VerdictStatus::Denied => "denied",
            },
            "client_id": self.client_id,
            "scope": self.scopes.to_param(),
        })
    }
}

fn unknown_code() -> Error {
    Error::InvalidGrant("the user code is unknown or was already used".into())
}

fn expired() -> Error {
    Error::protocol("expired_token", 400, "the user code has expired")
}

fn too_many() -> Error {
    Error::protocol(
        "temporarily_unavailable",
        429,
        "too many attempts; try again later",
    )
}

/// User-code verification: look a code up for the page, record the user's decision.
///
/// Brute force is bounded through the [`AttemptLimiter`](crate::ports::AttemptLimiter) port
/// (RFC 8628 §5.1): every lookup and submission counts against the client IP address
/// (`max_attempts_per_ip`), every credential check against the device code
/// (`max_attempts_per_code`); over a limit the answer is `temporarily_unavailable` (HTTP 429).
#[derive(Debug, Clone)]
pub struct DeviceVerification {
    ctx: Arc<Context>,
    flow: Arc<DeviceFlow>,
}

impl DeviceVerification {
    /// Verification for `flow` over the provider's context.
    pub fn new(ctx: Arc<Context>, flow: Arc<DeviceFlow>) -> Self {
        DeviceVerification { ctx, flow }
    }

    async fn limit(&self, key: &str, max: u32) -> Result<()> {
        let s = &self.flow.settings;
        if self
            .flow
            .limiter
            .attempt(key, max, s.attempt_window, self.ctx.now())
            .await?
        {
            Ok(())
        } else {
            Err(too_many())
        }
    }

    async fn limit_ip(&self, client_ip: &str) -> Result<()> {
        self.limit(
            &format!("ip:{client_ip}"),
            self.flow.settings.max_attempts_per_ip,
        )
        .await
    }

    /// Finds the pending authorization of `input` (counted against `client_ip`): what the page
    /// shows before the user decides. Not a user code, unknown, decided or redeemed:
    /// `invalid_grant`; expired: `expired_token`.
    pub async fn lookup(&self, input: &str, client_ip: &str) -> Result<DevicePrompt> {
        self.limit_ip(client_ip).await?;
        let code = UserCode::parse(input).ok_or_else(unknown_code)?;
        let now = self.ctx.now();
        let a = self
            .flow
            .store
            .by_user_code(&code.hash(), now)
            .await?
            .ok_or_else(unknown_code)?;
        match a.state_at(now) {
            DeviceState::Pending => {}
            DeviceState::Expired => return Err(expired()),
            _ => return Err(unknown_code()),
        }
        let client = self.ctx.clients.client(&a.client_id).await?;
        let client_name = client
            .as_ref()
            .and_then(|c| c.metadata("client_name"))
            .and_then(Value::as_str)
            .unwrap_or(&a.client_id)
            .to_owned();
        Ok(DevicePrompt {
            user_code: code.display(),
            client_id: a.client_id,
            client_name,
            scopes: a.scopes,
        })
    }

    /// Records the decision of a user the host authenticated itself (a session, a passkey):
    /// `Pending → Approved | Denied`, atomically.
    pub async fn decide(
        &self,
        input: &str,
        decision: UserDecision,
        client_ip: &str,
    ) -> Result<DeviceVerdict> {
        self.limit_ip(client_ip).await?;
        let code = UserCode::parse(input).ok_or_else(unknown_code)?;
        self.apply(&code, decision).await
    }

    async fn apply(&self, code: &UserCode, decision: UserDecision) -> Result<DeviceVerdict> {
        let outcome = self
            .flow
            .store
            .decide(&code.hash(), decision, self.ctx.now())
            .await?;
        let (status, a) = match outcome {
            DecideOutcome::Approved(a) => (VerdictStatus::Approved, a),
            DecideOutcome::Denied(a) => (VerdictStatus::Denied, a),
            DecideOutcome::Expired => return Err(expired()),
            DecideOutcome::NotFound => return Err(unknown_code()),
        };
        Ok(DeviceVerdict {
            status,
            client_id: a.client_id,
            scopes: a.scopes,
        })
    }

    /// The page's and the app-native API's submission: the user code, the user's credentials
    /// (checked with the provider's [`PasswordVerifier`](crate::ports::PasswordVerifier)) and
    /// the decision. Wrong credentials: `access_denied` (the authorization stays pending);
    /// otherwise as [`DeviceVerification::decide`].
    pub async fn submit(
        &self,
        submission: &UserCodeSubmission,
        client_ip: &str,
    ) -> Result<DeviceVerdict> {
        self.limit_ip(client_ip).await?;
        let code = UserCode::parse(&submission.user_code).ok_or_else(unknown_code)?;
        let now = self.ctx.now();
        let a = self
            .flow
            .store
            .by_user_code(&code.hash(), now)
            .await?
            .ok_or_else(unknown_code)?;
        match a.state_at(now) {
            DeviceState::Pending => {}
            DeviceState::Expired => return Err(expired()),
            _ => return Err(unknown_code()),
        }
        let device_key = format!("device:{}", idforge_jose::b64::encode(a.device_code.0));
        self.limit(&device_key, self.flow.settings.max_attempts_per_code)
            .await?;
        let passwords = self
            .ctx
            .passwords
            .as_ref()
            .ok_or_else(|| Error::Internal("no password verifier configured".into()))?;
        let subject = passwords
            .verify(&submission.username, &submission.password)
            .await?
            .ok_or_else(|| Error::AccessDenied("wrong username or password".into()))?;
        let decision = match submission.decision {
            DecisionKind::Approve => {
                UserDecision::Approve(DeviceApproval::new(subject, now, vec!["pwd".into()]))
            }
            DecisionKind::Deny => UserDecision::Deny,
        };
        self.apply(&code, decision).await
    }

    /// The app-native JSON API: parses the body ([`UserCodeSubmission::from_json`]) and
    /// submits it; the HTTP status and JSON body to answer (`{"status", "client_id", "scope"}`
    /// or the RFC 6749 §5.2 error object).
    pub async fn handle_json(&self, body: &[u8], client_ip: &str) -> (u16, Value) {
        let result = match UserCodeSubmission::from_json(body) {
            Ok(s) => self.submit(&s, client_ip).await,
            Err(e) => Err(e),
        };
        match result {
            Ok(v) => (200, v.to_json()),
            Err(e) => (e.status(), e.to_json()),
        }
    }
}
