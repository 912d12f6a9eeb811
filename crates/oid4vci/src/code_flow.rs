//! The authorization code flow of a credential issuer (§5): `authorization_details` of type
//! `openid_credential` (§5.1.1) and `issuer_state` (§5.1.3) at oauth-core's authorization
//! endpoint, as an oauth-core [`AuthorizationExtension`].

use std::sync::Arc;

use async_trait::async_trait;
use idforge_jose::Clock;
use idforge_oauth_core::{AuthorizationExtension, AuthorizationRequest, Client, Error, Grant};

use crate::authorization::{parse_authorization_details, token_details};
use crate::ports::OfferRecord;
use crate::IssuerCore;
use idforge_oauth_core::TokenHash;

/// The `authorization_details` request parameter (RFC 9396 §2, OID4VCI §5.1.1).
pub const AUTHORIZATION_DETAILS: &str = "authorization_details";
/// The `issuer_state` request parameter (§5.1.3).
pub const ISSUER_STATE: &str = "issuer_state";

/// Which clients may send `authorization_details` of type `openid_credential` and
/// `issuer_state`: they are wallets.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum WalletClients {
    /// Every client.
    Any,
    /// Only the clients with these ids (other clients get `unauthorized_client`, RFC 6749
    /// §4.1.2.1).
    Only(Vec<String>),
}

impl WalletClients {
    fn allows(&self, client_id: &str) -> bool {
        match self {
            WalletClients::Any => true,
            WalletClients::Only(ids) => ids.iter().any(|i| i == client_id),
        }
    }
}

/// The credential issuer's [`AuthorizationExtension`] (§5): register it with
/// `ProviderBuilder::authorization_extension`.
///
/// Rules, checked when the request arrives (errors go to the wallet's redirect URI):
/// - each parameter at most once (`invalid_request`, RFC 6749 §3.1);
/// - only [`WalletClients`] may use them (`unauthorized_client`);
/// - `issuer_state` must name an unexpired, unredeemed offer (§5.1.3; `invalid_request`);
/// - every `authorization_details` entry is of type `openid_credential` and names a
///   `credential_configuration_id` of a known template, one of the offer's when an
///   `issuer_state` is sent; `locations`, if present, names this issuer
///   (`invalid_authorization_details`, RFC 9396 §5, §5.1.1).
///
/// When the code is issued (after login):
/// - the `issuer_state` is redeemed, once (an atomic `IssuanceStore::take_issuer_state`);
///   the logged-in user must be the offer's `subject`, otherwise the request is refused with
///   `access_denied` and the offer stays redeemable by its user (an offer forwarded to, or
///   phished by, someone else does not issue their credentials, nor burn the offer);
/// - the granted `authorization_details`, each with its `credential_identifiers` (§6.2), go
///   into the access token's claims (and so into the token response, RFC 9396 §7.1), exactly
///   as the pre-authorized code grant does, so the credential endpoint accepts
///   `credential_identifier` (§8.2).
///
/// Requests without either parameter are untouched (scope-based requests, §5.1.2).
pub struct CredentialAuthorization {
    core: Arc<IssuerCore>,
    issuer: String,
    clock: Arc<dyn Clock>,
    clients: WalletClients,
}

impl std::fmt::Debug for CredentialAuthorization {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CredentialAuthorization")
            .field("issuer", &self.issuer)
            .field("clients", &self.clients)
            .finish_non_exhaustive()
    }
}

impl CredentialAuthorization {
    /// The extension of the credential issuer `issuer` (the provider's issuer identifier),
    /// reading time from `clock` (the provider's), open to [`WalletClients::Any`].
    pub fn new(core: Arc<IssuerCore>, issuer: impl Into<String>, clock: Arc<dyn Clock>) -> Self {
        CredentialAuthorization {
            core,
            issuer: issuer.into(),
            clock,
            clients: WalletClients::Any,
        }
    }

    /// Restricts which clients may use the parameters.
    pub fn with_wallet_clients(mut self, clients: WalletClients) -> Self {
        self.clients = clients;
        self
    }

    /// The single value of `name`, if sent (RFC 6749 §3.1: at most once).
    fn single<'a>(request: &'a AuthorizationRequest, name: &str) -> Result<Option<&'a str>, Error> {
        match request.extension_params.get(name).map(Vec::as_slice) {
            None | Some([]) => Ok(None),
            Some([one]) => Ok(Some(one.as_str())),
            Some(_) => Err(Error::InvalidRequest(format!(
                "`{name}` sent more than once"
            ))),
        }
    }

    /// The unexpired, unredeemed offer of `state` at `now` (§5.1.3).
    async fn offer(&self, state: &str, now: i64) -> Result<OfferRecord, Error> {
        self.core
            .store
            .offer_by_issuer_state(&TokenHash::of(state), now)
            .await?
            .ok_or_else(unknown_state)
    }

    /// Checks the request and returns the requested configuration ids (None without
    /// `authorization_details`) and the offer of its `issuer_state`.
    async fn evaluate(
        &self,
        client: &Client,
        request: &AuthorizationRequest,
        now: i64,
    ) -> Result<(Option<Vec<String>>, Option<(String, OfferRecord)>), Error> {
        let details = Self::single(request, AUTHORIZATION_DETAILS)?;
        let state = Self::single(request, ISSUER_STATE)?;
        if details.is_none() && state.is_none() {
            return Ok((None, None));
        }
        if !self.clients.allows(&client.client_id) {
            return Err(Error::UnauthorizedClient(
                "this client may not request credentials".into(),
            ));
        }
        let offer = match state {
            Some(s) => Some((s.to_owned(), self.offer(s, now).await?)),
            None => None,
        };
        let ids = match details {
            Some(text) => {
                // §5.1.3: with an `issuer_state`, the request is about its offer.
                let allowed = match &offer {
                    Some((_, o)) => o.configuration_ids.clone(),
                    None => self
                        .core
                        .templates
                        .templates()
                        .await?
                        .into_iter()
                        .map(|t| t.id)
                        .collect(),
                };
                Some(parse_authorization_details(text, &allowed, &self.issuer)?)
            }
            None => None,
        };
        Ok((ids, offer))
    }
}

fn unknown_state() -> Error {
    Error::InvalidRequest("unknown, used or expired `issuer_state`".into())
}

#[async_trait]
impl AuthorizationExtension for CredentialAuthorization {
    fn parameters(&self) -> Vec<&'static str> {
        vec![AUTHORIZATION_DETAILS, ISSUER_STATE]
    }

    async fn check(&self, client: &Client, request: &AuthorizationRequest) -> Result<(), Error> {
        self.evaluate(client, request, self.clock.now())
            .await
            .map(|_| ())
    }

    async fn shape_grant(
        &self,
        client: &Client,
        request: &AuthorizationRequest,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        let now = grant.created_at;
        // Re-checked: the offer may have expired, or templates changed, during login.
        let (ids, offer) = self.evaluate(client, request, now).await?;
        if let Some((state, offer)) = offer {
            // §5.1.3: the offer was made for one user; nobody else redeems it.
            if grant.subject.as_deref() != Some(offer.subject.as_str()) {
                return Err(Error::AccessDenied(
                    "the credential offer was made for another user".into(),
                ));
            }
            let taken = self
                .core
                .store
                .take_issuer_state(&TokenHash::of(&state), now)
                .await?
                .ok_or_else(unknown_state)?;
            if grant.subject.as_deref() != Some(taken.subject.as_str()) {
                return Err(Error::AccessDenied(
                    "the credential offer was made for another user".into(),
                ));
            }
        }
        if let Some(ids) = ids {
            // §6.2: the granted details carry the `credential_identifiers` to request.
            grant
                .contents
                .add_access_token_claim(AUTHORIZATION_DETAILS, token_details(&ids, true))?;
        }
        Ok(())
    }
}
