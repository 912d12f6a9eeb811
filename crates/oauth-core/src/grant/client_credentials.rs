//! `client_credentials` (RFC 6749 §4.4): confidential clients only, no refresh token by default
//! (§4.4.3), no ID token (there is no user).

use async_trait::async_trait;

use crate::client::Client;
use crate::config::{grant_type, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, persists, IssueOptions};
use crate::model::{Scopes, TokenRequest, TokenResponse};
use crate::records::Grant;
use crate::secret::random_token;

use super::{requested_scopes, wants_refresh, GrantHandler};

/// The `client_credentials` grant handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct ClientCredentialsGrant;

/// What a client-credentials request is granted: the requested scopes, or without `scope` the
/// client's registered ones except the user-centric `openid` and `offline_access`; `openid`
/// cannot be requested (there is no user), and the client must be confidential (RFC 6749 §4.4:
/// "MUST only be used by confidential clients").
pub fn decide(config: &Config, client: &Client, req: &TokenRequest) -> Result<Scopes> {
    if client.is_public() {
        return Err(Error::UnauthorizedClient(
            "client_credentials needs a confidential client".into(),
        ));
    }
    let default: Vec<String> = if req.params.get("scope").is_some() {
        Vec::new()
    } else {
        client
            .scopes
            .iter()
            .filter(|s| *s != "openid" && *s != "offline_access")
            .cloned()
            .collect()
    };
    let scopes = requested_scopes(config, client, req, &default)?;
    if scopes.contains("openid") {
        return Err(Error::InvalidScope("openid needs a user".into()));
    }
    Ok(scopes)
}

#[async_trait]
impl GrantHandler for ClientCredentialsGrant {
    fn grant_type(&self) -> &str {
        grant_type::CLIENT_CREDENTIALS
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let scopes = decide(&ctx.config, client, req)?;
        let now = ctx.clock.now();
        let refresh = ctx.config.client_credentials_refresh && wants_refresh(&ctx.config, client);
        let lifetime = if refresh {
            ctx.config.refresh_token_ttl
        } else {
            ctx.config.access_token_ttl
        };
        let id = random_token(ctx.rng.as_ref(), 16)?;
        let grant = Grant::new(
            id,
            client.client_id.clone(),
            scopes.clone(),
            now,
            now.saturating_add(lifetime),
        );
        // Stored with its access token (one write) when tokens are stored.
        let options = IssueOptions::new()
            .refresh_token(refresh)
            .new_grant(persists(ctx, client));
        issue_token_response(ctx, client, &grant, &scopes, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::grant::test_request as req;

    #[test]
    fn confidential_clients_without_openid() {
        let cfg = Config::new("https://op.example");
        let e = decide(&cfg, &Client::public("p"), &req(&[])).unwrap_err();
        assert_eq!(e.code(), "unauthorized_client");
        let c = Client::confidential("c", "s").with_scopes(["openid", "email", "offline_access"]);
        // Without `scope`: the registered scopes minus the user-centric ones.
        assert_eq!(decide(&cfg, &c, &req(&[])).unwrap().values(), ["email"]);
        let e = decide(&cfg, &c, &req(&[("scope", "openid")])).unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
    }
}
