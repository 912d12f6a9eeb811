//! `password` (RFC 6749 §4.3). RFC 9700 §2.4 says it MUST NOT be used, so it is off unless
//! listed in [`Config::grant_types`](crate::Config) and a
//! [`PasswordVerifier`](crate::ports::PasswordVerifier) is set.

use async_trait::async_trait;

use crate::client::Client;
use crate::config::grant_type;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, persists, IssueOptions};
use crate::model::{TokenRequest, TokenResponse};
use crate::records::Grant;
use crate::secret::random_token;

use super::{requested_scopes, wants_refresh, GrantHandler};

/// The `password` grant handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct PasswordGrant;

#[async_trait]
impl GrantHandler for PasswordGrant {
    fn grant_type(&self) -> &str {
        grant_type::PASSWORD
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let verifier = ctx
            .passwords
            .as_ref()
            .ok_or_else(|| Error::UnsupportedGrantType("grant_type not supported".into()))?;
        let username = req.params.require("username")?;
        let password = req.params.require("password")?;
        let scopes = requested_scopes(&ctx.config, client, req, &[])?;
        let subject = verifier
            .verify(username, password)
            .await?
            .ok_or_else(|| Error::InvalidGrant("invalid resource owner credentials".into()))?;
        let now = ctx.clock.now();
        let id = random_token(ctx.rng.as_ref(), 16)?;
        let expires_at = now.saturating_add(ctx.config.refresh_token_ttl);
        let grant = Grant::new(
            id,
            client.client_id.clone(),
            scopes.clone(),
            now,
            expires_at,
        )
        .with_subject(subject)
        .with_authentication(now, None, vec!["pwd".into()]);
        let options = IssueOptions::new()
            .refresh_token(wants_refresh(&ctx.config, client))
            .id_token(scopes.contains("openid"))
            .new_grant(persists(ctx, client));
        issue_token_response(ctx, client, &grant, &scopes, options).await
    }
}
