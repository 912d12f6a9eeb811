//! The token endpoint (RFC 6749 §3.2): client authentication once, then dispatch by
//! `grant_type` to a [`GrantHandler`](crate::grant::GrantHandler).

use std::sync::Arc;

use crate::client_auth::authenticate_optional;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::grant::GrantRegistry;
use crate::model::{Limits, TokenRequest, TokenResponse};

/// The token endpoint.
#[derive(Debug, Clone)]
pub struct TokenEndpoint {
    ctx: Arc<Context>,
    registry: Arc<GrantRegistry>,
}

impl TokenEndpoint {
    /// The endpoint with `registry`'s handlers.
    pub fn new(ctx: Arc<Context>, registry: Arc<GrantRegistry>) -> Self {
        TokenEndpoint { ctx, registry }
    }

    /// Input limits for parsing forms.
    pub fn limits(&self) -> &Limits {
        &self.ctx.config.limits
    }

    /// Handles a form body plus `Authorization` header.
    pub async fn handle_form(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<TokenResponse> {
        let req = TokenRequest::from_form(body, authorization.map(str::to_owned), self.limits())?;
        self.handle(&req).await
    }

    /// Handles a parsed token request: authenticates the client (a request without any
    /// credentials goes to the handler's `handle_anonymous`), checks the grant type is
    /// enabled (`unsupported_grant_type`) and allowed to the client (`unauthorized_client`,
    /// RFC 6749 §5.2), then runs the handler.
    pub async fn handle(&self, req: &TokenRequest) -> Result<TokenResponse> {
        let client = authenticate_optional(&self.ctx, req).await?;
        let gt = req.grant_type()?;
        let handler = self
            .registry
            .get(gt)
            .filter(|_| self.ctx.config.grant_enabled(gt))
            .ok_or_else(|| Error::UnsupportedGrantType("grant_type not supported".into()))?;
        let Some(client) = client else {
            return handler.handle_anonymous(&self.ctx, req).await;
        };
        if !client.allows_grant(gt) {
            return Err(Error::UnauthorizedClient(
                "the client may not use this grant type".into(),
            ));
        }
        handler.handle(&self.ctx, &client, req).await
    }
}
