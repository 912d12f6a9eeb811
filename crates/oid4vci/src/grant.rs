//! The pre-authorized code grant (§6.1, §6.3) as an oauth-core [`GrantHandler`].

use std::sync::Arc;

use async_trait::async_trait;
use idforge_jose::crypto::ct_eq;
use idforge_oauth_core::records::ConsumeOutcome;
use idforge_oauth_core::revocation::revoke_family;
use idforge_oauth_core::{
    issue_token_response, Client, Context, Error, Grant, GrantHandler, IssueOptions, TokenContents,
    TokenHash, TokenKind, TokenRequest, TokenResponse,
};
use serde_json::{json, Map, Value};

use crate::authorization::{parse_authorization_details, token_details};
use crate::metadata::AnonymousAccess;
use crate::offer::PRE_AUTHORIZED_CODE_GRANT;
use crate::IssuerCore;

/// Lifetime of the grant behind a token from a pre-authorized code (seconds); the access
/// token's own lifetime is the provider's.
const GRANT_TTL: i64 = 24 * 3600;

/// The artifact kind of pre-authorized codes in the [`GrantStore`](idforge_oauth_core::GrantStore).
pub fn artifact_kind() -> TokenKind {
    TokenKind::Artifact(PRE_AUTHORIZED_CODE_GRANT.into())
}

/// The id of the grant holding the tokens issued by redeeming the pre-authorized code of the
/// carrier grant `carrier` (the grant made with the offer, [`OfferRecord::grant_id`]).
///
/// Derived from the carrier, not drawn, so that a replay of the code, which finds only the
/// carrier, revokes the tokens of the first redemption too (RFC 6749 §4.1.2, OID4VCI 1.0 §6:
/// a code used twice is denied and what it issued revoked), by the same `revoke_family`
/// oauth-core's authorization code grant uses (decisions 0018, 0019).
///
/// [`OfferRecord::grant_id`]: crate::OfferRecord::grant_id
pub fn token_grant_id(carrier: &str) -> String {
    format!("{carrier}.tokens")
}

/// The grant handler of `urn:ietf:params:oauth:grant-type:pre-authorized_code` (§6.1).
///
/// Rules:
/// - the code is single use (atomic `GrantStore::consume` of a `TokenKind::Artifact` record)
///   and lives `offer_ttl` seconds; a replay is `invalid_grant` and revokes the carrier grant
///   and every token the first redemption issued ([`token_grant_id`]);
/// - a `tx_code` is required exactly when the offer asked for one (`invalid_request` when
///   missing or unexpected, §6.3); a wrong one is `invalid_grant`, and after
///   `tx_code_max_attempts` wrong ones the code is dead (§13.6);
/// - `authorization_details` (§6.1, §5.1.1) may narrow the offered configurations; they are
///   returned with `credential_identifiers` (§6.2) and carried in the access token;
/// - `resource`, when sent, must be the Credential Issuer Identifier (RFC 8707, §5.1.2);
///   the legacy `user_pin` is ignored;
/// - without client authentication, the request is served only under
///   [`AnonymousAccess::Allowed`] (§6.1 `pre-authorized_grant_anonymous_access_supported`).
#[derive(Clone)]
pub struct PreAuthorizedCodeGrant {
    core: Arc<IssuerCore>,
}

impl std::fmt::Debug for PreAuthorizedCodeGrant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PreAuthorizedCodeGrant")
            .finish_non_exhaustive()
    }
}

impl PreAuthorizedCodeGrant {
    /// The handler over the issuer's shared parts.
    pub fn new(core: Arc<IssuerCore>) -> Self {
        PreAuthorizedCodeGrant { core }
    }

    fn attempt_key(code: &str, n: u32) -> TokenHash {
        TokenHash::namespaced("oid4vci-tx-code-attempt", &format!("{code}\n{n}"))
    }

    async fn redeem(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let settings = &self.core.settings;
        let now = ctx.now();
        let issuer = ctx.config.issuer.as_str();
        for r in req.params.get_all("resource") {
            if r != issuer {
                return Err(Error::protocol(
                    "invalid_target",
                    400,
                    "`resource` must be the credential issuer",
                ));
            }
        }
        let code = req.params.require("pre-authorized_code")?;
        let hash = TokenHash::of(code);
        let offer = self
            .core
            .store
            .offer_by_code(&hash, now)
            .await?
            .ok_or_else(|| Error::InvalidGrant("pre-authorized code invalid or expired".into()))?;
        let max = settings.tx_code_max_attempts;
        match (&offer.tx_code, req.params.get("tx_code")) {
            (None, None) => {}
            (None, Some(_)) => {
                return Err(Error::InvalidRequest(
                    "no transaction code was expected".into(),
                ))
            }
            (Some(_), None) => return Err(Error::InvalidRequest("`tx_code` is required".into())),
            (Some(expected), Some(given)) => {
                if ctx
                    .grants
                    .is_marked(&Self::attempt_key(code, max), now)
                    .await?
                {
                    return Err(Error::InvalidGrant(
                        "pre-authorized code invalid or expired".into(),
                    ));
                }
                if !ct_eq(&TokenHash::of(given).0, &expected.0) {
                    // Count this attempt: the first free attempt slot is ours, atomically.
                    let mut n = 1;
                    while n <= max
                        && !ctx
                            .grants
                            .mark(&Self::attempt_key(code, n), offer.expires_at, now)
                            .await?
                    {
                        n += 1;
                    }
                    if n >= max {
                        ctx.grants.revoke_grant(&offer.grant_id).await?;
                    }
                    return Err(Error::InvalidGrant("wrong transaction code".into()));
                }
            }
        }
        let details_param = req.params.get("authorization_details");
        let requested = match details_param {
            Some(t) => Some(parse_authorization_details(
                t,
                &offer.configuration_ids,
                issuer,
            )?),
            None => None,
        };
        // Self-contained access tokens of the family are denied for as long as they may live.
        let deny_until = now.saturating_add(ctx.config.access_token_ttl);
        let (carrier_id, carrier) = match ctx.grants.consume(&hash, artifact_kind(), now).await? {
            ConsumeOutcome::Consumed(record, grant) => (record.grant_id, grant),
            ConsumeOutcome::Replayed(record) => {
                // The carrier first, then the tokens' family: the winner's check below relies
                // on this order.
                ctx.grants.revoke_grant(&record.grant_id).await?;
                revoke_family(ctx, &token_grant_id(&record.grant_id), deny_until).await?;
                return Err(Error::InvalidGrant(
                    "pre-authorized code already used".into(),
                ));
            }
            ConsumeOutcome::NotFound => {
                return Err(Error::InvalidGrant(
                    "pre-authorized code invalid or expired".into(),
                ))
            }
        };
        let ids = requested
            .clone()
            .unwrap_or_else(|| offer.configuration_ids.clone());
        // The token's scopes are those of the authorized templates only (narrowed by
        // `authorization_details`), so a scope cannot authorize what the details left out.
        let mut scopes = Vec::new();
        for id in &ids {
            if let Some(t) = self.core.templates.template(id).await? {
                scopes.extend(t.scope);
            }
        }
        let scopes = idforge_oauth_core::Scopes::from_values(scopes);
        let details = token_details(&ids, requested.is_some());
        let mut contents = TokenContents::new();
        contents.add_access_token_claim("authorization_details", details.clone())?;
        let id = token_grant_id(&carrier_id);
        let mut grant = Grant::new(
            id.clone(),
            client.client_id.clone(),
            scopes,
            now,
            now + GRANT_TTL,
        )
        .with_contents(contents);
        if let Some(sub) = carrier.subject {
            grant = grant.with_subject(sub);
        }
        // A replay landing while the tokens are stored has come after this redemption: the
        // response still goes out, with tokens dead on arrival (decision 0018). The grant is
        // stored with its first token (one write where the store groups them).
        let options = IssueOptions::new()
            .refresh_token(false)
            .id_token(false)
            .consumed_artifact(true)
            .new_grant(idforge_oauth_core::issue::persists(ctx, client));
        let mut resp = issue_token_response(ctx, client, &grant, &grant.scopes, options).await?;
        // A replay revokes the carrier, then this family. The carrier still there now means any
        // replay's revocation of this family comes after its tokens were stored and removes
        // them; the carrier gone means a replay may have revoked this family before it existed,
        // so it goes now (the carrier lives as long as the code: consuming it just succeeded
        // at `now`).
        if ctx.grants.grant(&carrier_id, now).await?.is_none() {
            revoke_family(ctx, &id, deny_until).await?;
        }
        // §6.2: the token response lists `authorization_details` (with their
        // `credential_identifiers`) only when the wallet sent them; otherwise the token's own
        // entries (the offered configurations, without identifiers) stay inside the token and
        // the wallet names a `credential_configuration_id` (§8.2).
        if requested.is_some() {
            resp.extra.insert("authorization_details".into(), details);
        } else {
            resp.extra.remove("authorization_details");
        }
        Ok(resp)
    }
}

#[async_trait]
impl GrantHandler for PreAuthorizedCodeGrant {
    fn grant_type(&self) -> &str {
        PRE_AUTHORIZED_CODE_GRANT
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        self.redeem(ctx, client, req).await
    }

    async fn handle_anonymous(
        &self,
        ctx: &Context,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let AnonymousAccess::Allowed { client_id } = &self.core.settings.anonymous_access else {
            return Err(Error::InvalidClient(
                "client authentication required".into(),
            ));
        };
        let client = ctx.clients.client(client_id).await?.ok_or_else(|| {
            Error::ServerError("the anonymous wallet client is not registered".into())
        })?;
        self.redeem(ctx, &client, req).await
    }

    fn discovery(&self, _config: &idforge_oauth_core::Config, metadata: &mut Map<String, Value>) {
        // §12.3: the authorization server says whether anonymous access is supported.
        metadata.insert(
            "pre-authorized_grant_anonymous_access_supported".into(),
            json!(matches!(
                self.core.settings.anonymous_access,
                AnonymousAccess::Allowed { .. }
            )),
        );
    }
}
