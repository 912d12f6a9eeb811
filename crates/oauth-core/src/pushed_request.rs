//! Redeeming a pushed authorization request (RFC 9126 §4): the `request_uri` an authorization
//! request names is consumed from the [`PushedRequestStore`](crate::ports::PushedRequestStore),
//! once. The endpoint that stores them is [`endpoint::par`](crate::endpoint::par).

use crate::client::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Params;
use crate::secret::TokenHash;

/// The prefix of the `request_uri` values this provider issues (RFC 9126 §2.2, registered in
/// RFC 9126 §7.1).
pub const REQUEST_URI_PREFIX: &str = "urn:ietf:params:oauth:request_uri:";

/// RFC 9126 §4: the parameters pushed under `request_uri`, consumed (single use). The
/// `request_uri` must be one of ours, unexpired, and pushed by `client`. A `request_uri` shown
/// by another client is spent all the same: a leaked one is worth nothing afterwards.
pub async fn redeem(ctx: &Context, request_uri: &str, client: &Client) -> Result<Params> {
    let Some(secret) = request_uri.strip_prefix(REQUEST_URI_PREFIX) else {
        return Err(Error::RequestUriNotSupported(
            "only request_uri values from the pushed authorization request endpoint are accepted"
                .into(),
        ));
    };
    let invalid =
        || Error::InvalidRequestUri("the request_uri is unknown, expired or already used".into());
    let store = ctx.pushed_requests.as_ref().ok_or_else(invalid)?;
    let pushed = store
        .consume(&TokenHash::of(secret), ctx.clock.now())
        .await?
        .ok_or_else(invalid)?;
    if pushed.client_id != client.client_id {
        return Err(Error::InvalidRequestUri(
            "the request_uri was not issued to this client".into(),
        ));
    }
    Ok(pushed.params)
}
