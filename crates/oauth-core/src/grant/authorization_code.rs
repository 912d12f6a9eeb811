//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6).

use async_trait::async_trait;

use crate::client::Client;
use crate::config::grant_type;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, IssueOptions};
use crate::model::{verify_pkce, Params, TokenRequest, TokenResponse};
use crate::records::{ConsumeOutcome, TokenKind, TokenRecord};
use crate::revocation::revoke_family;
use crate::secret::TokenHash;

use super::{wants_refresh, GrantHandler};

/// The `authorization_code` grant handler.
#[derive(Debug, Clone, Copy, Default)]
pub struct AuthorizationCodeGrant;

fn invalid() -> Error {
    Error::InvalidGrant("the authorization code is invalid or expired".into())
}

/// Whether the consumed code `record` may be redeemed by `client` with the token request's
/// `params`: issued to this client as a code (RFC 6749 §4.1.3), the same `redirect_uri` when
/// the authorization request carried one, and the PKCE verifier matching its challenge (RFC
/// 7636 §4.6) — with no verifier for a code issued without a challenge (RFC 9700 §4.8.2).
pub fn check_redemption(record: &TokenRecord, client: &Client, params: &Params) -> Result<()> {
    if record.kind != TokenKind::AuthorizationCode || record.client_id != client.client_id {
        return Err(invalid());
    }
    let binding = record.code.as_ref().ok_or_else(invalid)?;
    // RFC 6749 §4.1.3: redirect_uri required and identical if it was in the request.
    match params.get("redirect_uri") {
        Some(r) if r != binding.redirect_uri => {
            return Err(Error::InvalidGrant("redirect_uri does not match".into()))
        }
        None if binding.redirect_uri_sent => {
            return Err(Error::InvalidGrant("redirect_uri is required".into()))
        }
        _ => {}
    }
    match (&binding.code_challenge, params.get("code_verifier")) {
        (Some((challenge, method)), Some(verifier)) => {
            if !verify_pkce(verifier, challenge, *method) {
                return Err(Error::InvalidGrant("PKCE verification failed".into()));
            }
        }
        (Some(_), None) => return Err(Error::InvalidGrant("code_verifier is required".into())),
        // RFC 9700 §4.8.2: a code_verifier for a code issued without a challenge is a PKCE
        // downgrade attempt.
        (None, Some(_)) => {
            return Err(Error::InvalidGrant(
                "no code_challenge was sent for this code".into(),
            ))
        }
        (None, None) => {}
    }
    Ok(())
}

#[async_trait]
impl GrantHandler for AuthorizationCodeGrant {
    fn grant_type(&self) -> &str {
        grant_type::AUTHORIZATION_CODE
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let code = req.params.require("code")?;
        let now = ctx.clock.now();
        let outcome = ctx
            .grants
            .consume(&TokenHash::of(code), TokenKind::AuthorizationCode, now)
            .await?;
        let (record, grant) = match outcome {
            ConsumeOutcome::NotFound => return Err(invalid()),
            // RFC 6749 §4.1.2: a code used twice must be denied, and the server SHOULD revoke
            // every token already issued from it (RFC 9700 §4.2.4).
            ConsumeOutcome::Replayed(record) => {
                let until = now.saturating_add(ctx.config.refresh_token_ttl);
                revoke_family(ctx, &record.grant_id, until).await?;
                return Err(invalid());
            }
            ConsumeOutcome::Consumed(record, grant) => (record, grant),
        };
        if let Err(e) = check_redemption(&record, client, &req.params) {
            // The code is spent; nothing was issued from it, so drop the grant.
            ctx.grants.revoke_grant(&record.grant_id).await?;
            return Err(e);
        }
        let options = IssueOptions::new()
            .refresh_token(wants_refresh(&ctx.config, client))
            .id_token(grant.scopes.contains("openid"))
            .code(code);
        issue_token_response(ctx, client, &grant, &grant.scopes, options).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CodeChallengeMethod, Scopes};
    use crate::records::{CodeBinding, Grant};

    const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
    const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    fn record(challenge: bool, redirect_uri_sent: bool) -> TokenRecord {
        let grant = Grant::new("g", "app", Scopes::from_values(["openid"]), 0, 100);
        let mut r = TokenRecord::new(
            TokenHash::of("code"),
            TokenKind::AuthorizationCode,
            &grant,
            grant.scopes.clone(),
            0,
            60,
        );
        r.code = Some(CodeBinding {
            redirect_uri: "https://app/cb".into(),
            redirect_uri_sent,
            code_challenge: challenge.then(|| (CHALLENGE.into(), CodeChallengeMethod::S256)),
        });
        r
    }

    fn params(pairs: &[(&str, &str)]) -> Params {
        Params::from_pairs(pairs.iter().copied()).unwrap()
    }

    #[test]
    fn pkce_and_redirect_uri_rules() {
        let app = Client::public("app");
        let ok = params(&[
            ("redirect_uri", "https://app/cb"),
            ("code_verifier", VERIFIER),
        ]);
        assert!(check_redemption(&record(true, true), &app, &ok).is_ok());
        // RFC 7636 §4.6: wrong verifier.
        let bad = params(&[
            ("redirect_uri", "https://app/cb"),
            ("code_verifier", CHALLENGE),
        ]);
        assert!(check_redemption(&record(true, true), &app, &bad).is_err());
        // Missing verifier for a code with a challenge.
        let none = params(&[("redirect_uri", "https://app/cb")]);
        assert!(check_redemption(&record(true, true), &app, &none).is_err());
        // RFC 9700 §4.8.2: verifier without challenge.
        assert!(check_redemption(&record(false, true), &app, &ok).is_err());
        // RFC 6749 §4.1.3: redirect_uri required when it was sent, and identical.
        let no_uri = params(&[("code_verifier", VERIFIER)]);
        assert!(check_redemption(&record(true, true), &app, &no_uri).is_err());
        assert!(check_redemption(&record(true, false), &app, &no_uri).is_ok());
        let other = params(&[
            ("redirect_uri", "https://app/cb2"),
            ("code_verifier", VERIFIER),
        ]);
        assert!(check_redemption(&record(true, true), &app, &other).is_err());
    }

    #[test]
    fn code_is_bound_to_client_and_kind() {
        let ok = params(&[
            ("redirect_uri", "https://app/cb"),
            ("code_verifier", VERIFIER),
        ]);
        let e = check_redemption(&record(true, true), &Client::public("other"), &ok).unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
        let mut r = record(true, true);
        r.kind = TokenKind::Artifact("urn:x".into());
        assert!(check_redemption(&r, &Client::public("app"), &ok).is_err());
    }
}
