//! Pushed Authorization Requests (RFC 9126).
//!
//! The client POSTs its authorization request parameters (or a request object, RFC 9126 §3) to
//! the [`PushedAuthorizationEndpoint`], authenticating exactly as at the token endpoint
//! ([`authenticate_client`]). They are validated by the authorization endpoint's own code
//! (client, redirect URI, response type, scopes, PKCE, prompt, claims, request object...) and
//! stored through the [`PushedRequestStore`](crate::ports::PushedRequestStore) port under a
//! `request_uri` of the form `urn:ietf:params:oauth:request_uri:<256-bit random>` (RFC 9126
//! §2.2). Only the SHA-256 of the random part is stored, as for authorization codes.
//!
//! The authorization endpoint then accepts `client_id` + `request_uri` (RFC 9126 §4): the
//! `request_uri` must have been issued to that client, must not have expired
//! ([`Config::pushed_authorization_request_ttl`](crate::Config::pushed_authorization_request_ttl),
//! default 60 s) and is consumed atomically, so it works once. `request_uri` values that are
//! not such URNs are refused (`request_uri_not_supported`): this provider never fetches a
//! request object from a URL, and advertises `request_uri_parameter_supported: false`.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::client_auth::authenticate_client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::{Params, TokenRequest};
use crate::pushed_request::REQUEST_URI_PREFIX;
use crate::records::PushedRequest;
use crate::secret::{random_token, TokenHash, SECRET_BYTES};

use super::authorize::{AuthorizationEndpoint, Rejected};

/// The successful response of RFC 9126 §2.2 (HTTP 201, JSON).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PushedAuthorizationResponse {
    /// The `request_uri` to send to the authorization endpoint with the `client_id`.
    pub request_uri: String,
    /// Its lifetime in seconds.
    pub expires_in: i64,
}

impl PushedAuthorizationResponse {
    /// The JSON body `{"request_uri", "expires_in"}` (RFC 9126 §2.2).
    pub fn to_json(&self) -> Value {
        json!({ "request_uri": self.request_uri, "expires_in": self.expires_in })
    }
}

/// The pushed authorization request endpoint (RFC 9126 §2).
///
/// Enabled when [`Config::pushed_authorization_request_path`](crate::Config) is set and the
/// provider has a [`PushedRequestStore`](crate::ports::PushedRequestStore)
/// ([`ProviderBuilder::pushed_requests`](crate::ProviderBuilder::pushed_requests)).
#[derive(Debug, Clone)]
pub struct PushedAuthorizationEndpoint {
    ctx: Arc<Context>,
    authorization: AuthorizationEndpoint,
}

impl PushedAuthorizationEndpoint {
    /// The endpoint over `ctx`, validating with `authorization`'s rules.
    pub fn new(ctx: Arc<Context>, authorization: AuthorizationEndpoint) -> Self {
        PushedAuthorizationEndpoint { ctx, authorization }
    }

    /// Whether the endpoint is enabled (path configured and a store present).
    pub fn enabled(&self) -> bool {
        self.ctx.config.pushed_authorization_request_path.is_some()
            && self.ctx.pushed_requests.is_some()
    }

    /// Handles a form body plus `Authorization` header (RFC 9126 §2.1: POST,
    /// `application/x-www-form-urlencoded`).
    pub async fn handle_form(
        &self,
        body: &[u8],
        authorization: Option<&str>,
    ) -> Result<PushedAuthorizationResponse> {
        let req = TokenRequest::from_form(
            body,
            authorization.map(str::to_owned),
            &self.ctx.config.limits,
        )?;
        self.handle(&req).await
    }

    /// Handles a parsed request: authenticates the client as the token endpoint does (RFC 9126
    /// §2: "the same rules for client authentication as ... the token endpoint"), validates
    /// the authorization request as the authorization endpoint would (RFC 9126 §2.1), stores it
    /// and returns its `request_uri`. Errors are those of RFC 9126 §2.3 (`invalid_request`,
    /// `invalid_client`, `invalid_request_object`, `unauthorized_client`, ... as JSON, never
    /// redirected).
    pub async fn handle(&self, req: &TokenRequest) -> Result<PushedAuthorizationResponse> {
        let ctx = &self.ctx;
        let store = match (
            &ctx.config.pushed_authorization_request_path,
            &ctx.pushed_requests,
        ) {
            (Some(_), Some(store)) => store,
            _ => {
                return Err(Error::InvalidRequest(
                    "pushed authorization requests are not enabled".into(),
                ))
            }
        };
        let client = authenticate_client(ctx, req).await?;
        // The authorization request: the body without the client's credentials, with the
        // client_id of the authenticated client (HTTP Basic leaves it out of the body).
        let mut params: Vec<(&str, &str)> = req
            .params
            .iter()
            .filter(|(k, _)| {
                !matches!(
                    *k,
                    "client_secret" | "client_assertion" | "client_assertion_type"
                )
            })
            .collect();
        match req.params.get("client_id") {
            Some(id) if id != client.client_id => {
                return Err(Error::InvalidRequest(
                    "client_id does not match the authenticated client".into(),
                ))
            }
            Some(_) => {}
            None => params.push(("client_id", client.client_id.as_str())),
        }
        let params = Params::from_pairs(params)?;
        let resolved = self
            .authorization
            .resolve(&params, Some(&client))
            .await
            .map_err(Rejected::into_error)?;
        let secret = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
        let now = ctx.clock.now();
        let ttl = ctx.config.pushed_authorization_request_ttl.max(1);
        store
            .insert(PushedRequest {
                hash: TokenHash::of(&secret),
                client_id: client.client_id,
                params: resolved.params,
                created_at: now,
                expires_at: now.saturating_add(ttl),
            })
            .await?;
        Ok(PushedAuthorizationResponse {
            request_uri: format!("{REQUEST_URI_PREFIX}{secret}"),
            expires_in: ttl,
        })
    }
}
