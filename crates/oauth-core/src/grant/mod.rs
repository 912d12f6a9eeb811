//! Grant types: the [`GrantHandler`] trait every grant implements (built-in or from another
//! crate), the [`GrantRegistry`] the token endpoint dispatches through, and one module per
//! built-in grant.
//!
//! Each grant module splits into pure decisions over records, the request and `now` (unit
//! tested without a store) and a thin async `handle` that does the store calls.

pub mod authorization_code;
pub mod client_credentials;
pub mod device_code;
pub mod password;
pub mod refresh_token;
pub mod token_exchange;

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::client::Client;
use crate::config::{grant_type, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{Scopes, TokenRequest, TokenResponse};

pub use authorization_code::AuthorizationCodeGrant;
pub use client_credentials::ClientCredentialsGrant;
pub use password::PasswordGrant;
pub use refresh_token::RefreshTokenGrant;

/// One grant type. Built-in grants and those of other crates (device code, token exchange,
/// CIBA, pre-authorized code) are all handlers.
///
/// The token endpoint authenticates the client first ([`client_auth`](crate::client_auth)),
/// checks that it may use this grant type, then calls [`handle`](Self::handle). A request that
/// carries no client credentials at all goes to [`handle_anonymous`](Self::handle_anonymous)
/// instead, which refuses it unless the grant's specification allows anonymous access.
#[async_trait]
pub trait GrantHandler: Send + Sync {
    /// The `grant_type` value handled (an absolute URI for extension grants, RFC 6749 §4.5).
    fn grant_type(&self) -> &str;

    /// Handles a token request from an authenticated client.
    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse>;

    /// Handles a token request without client credentials. The default refuses it with
    /// `invalid_client` (RFC 6749 §3.2.1); a grant whose specification allows anonymous access
    /// (OID4VCI §6.1 pre-authorized code with `pre-authorized_grant_anonymous_access_supported`)
    /// overrides it.
    async fn handle_anonymous(&self, ctx: &Context, req: &TokenRequest) -> Result<TokenResponse> {
        let _ = (ctx, req);
        Err(Error::InvalidClient(
            "client authentication required".into(),
        ))
    }

    /// Adds the grant's discovery members (RFC 8414 §2, e.g. `device_authorization_endpoint`)
    /// to `metadata`. The default adds none.
    fn discovery(&self, config: &Config, metadata: &mut Map<String, Value>) {
        let _ = (config, metadata);
    }
}

/// Grant handlers by `grant_type`.
#[derive(Clone, Default)]
pub struct GrantRegistry {
    handlers: BTreeMap<String, Arc<dyn GrantHandler>>,
}

impl std::fmt::Debug for GrantRegistry {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.handlers.keys()).finish()
    }
}

impl GrantRegistry {
    /// The four built-in grants (each still needs enabling in [`Config::grant_types`]).
    pub fn with_builtin() -> Self {
        let mut r = GrantRegistry::default();
        r.register(Arc::new(AuthorizationCodeGrant));
        r.register(Arc::new(RefreshTokenGrant));
        r.register(Arc::new(ClientCredentialsGrant));
        r.register(Arc::new(PasswordGrant));
        r
    }

    /// Adds (or replaces) the handler of its grant type.
    pub fn register(&mut self, handler: Arc<dyn GrantHandler>) {
        self.handlers
            .insert(handler.grant_type().to_owned(), handler);
    }

    /// The handler for `grant_type`.
    pub fn get(&self, grant_type: &str) -> Option<&Arc<dyn GrantHandler>> {
        self.handlers.get(grant_type)
    }

    /// Registered grant types.
    pub fn grant_types(&self) -> impl Iterator<Item = &str> {
        self.handlers.keys().map(String::as_str)
    }

    /// Every registered handler.
    pub fn handlers(&self) -> impl Iterator<Item = &Arc<dyn GrantHandler>> {
        self.handlers.values()
    }
}

/// Runs every authorization extension's
/// [`shape_decoupled_grant`](crate::ports::AuthorizationExtension::shape_decoupled_grant) on
/// the grant of a decoupled flow (`grant_type`: RFC 8628 device code, CIBA), in registration
/// order, before the grant is stored and its tokens issued.
pub async fn shape_decoupled_grant(
    ctx: &Context,
    client: &Client,
    grant_type: &str,
    grant: &mut crate::records::Grant,
) -> Result<()> {
    for ext in &ctx.authorization_extensions {
        ext.shape_decoupled_grant(client, grant_type, grant).await?;
    }
    Ok(())
}

/// Whether to issue a refresh token: the provider and the client both allow the grant.
pub fn wants_refresh(config: &Config, client: &Client) -> bool {
    config.grant_enabled(grant_type::REFRESH_TOKEN)
        && client.allows_grant(grant_type::REFRESH_TOKEN)
}

/// The scopes of a grant without an authorization step (RFC 6749 §3.3): the requested ones, or
/// `default` when `scope` is absent; each must be supported and allowed to the client, else
/// `invalid_scope`.
pub fn requested_scopes(
    config: &Config,
    client: &Client,
    req: &TokenRequest,
    default: &[String],
) -> Result<Scopes> {
    let scopes = match req.params.get("scope") {
        Some(s) => Scopes::parse(s, &config.limits)?,
        None => Scopes::from_values(default.iter().cloned()),
    };
    for s in scopes.values() {
        if !config.scopes_supported.iter().any(|x| x == s) || !client.allows_scope(s) {
            return Err(Error::InvalidScope(format!("scope `{s}` is not allowed")));
        }
    }
    Ok(scopes)
}

/// A token request with `pairs` as its form and no `Authorization` header, for unit tests.
#[cfg(test)]
pub(crate) fn test_request(pairs: &[(&str, &str)]) -> TokenRequest {
    TokenRequest {
        params: crate::model::Params::from_pairs(pairs.iter().copied()).unwrap(),
        authorization: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(pairs: &[(&str, &str)]) -> TokenRequest {
        test_request(pairs)
    }

    #[test]
    fn scopes_must_be_supported_and_allowed() {
        let cfg = Config::new("https://op.example");
        let client = Client::confidential("c", "s").with_scopes(["openid", "email"]);
        let got = requested_scopes(&cfg, &client, &req(&[("scope", "email")]), &[]).unwrap();
        assert_eq!(got.values(), ["email"]);
        let e = requested_scopes(&cfg, &client, &req(&[("scope", "phone")]), &[]).unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
        let e = requested_scopes(&cfg, &client, &req(&[("scope", "unknown")]), &[]).unwrap_err();
        assert_eq!(e.code(), "invalid_scope");
        let default = requested_scopes(&cfg, &client, &req(&[]), &["email".into()]).unwrap();
        assert_eq!(default.values(), ["email"]);
    }

    #[test]
    fn refresh_needs_provider_and_client() {
        let cfg = Config::new("https://op.example");
        let with = Client::confidential("c", "s");
        let without = Client::confidential("c", "s").with_grant_types(["authorization_code"]);
        assert!(wants_refresh(&cfg, &with));
        assert!(!wants_refresh(&cfg, &without));
        let mut off = cfg.clone();
        off.grant_types.retain(|g| g != "refresh_token");
        assert!(!wants_refresh(&off, &with));
    }
}
