//! `authorization_code` (RFC 6749 §4.1.3, RFC 7636 §4.5–4.6).

use async_trait::async_trait;

use crate::client::Client;
use crate::config::{grant_type, Config};
use crate::context::Context;
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, IssueOptions};
use crate::model::{verify_pkce, Params, TokenRequest, TokenResponse};
use crate::records::{ConsumeOutcome, Grant, TokenKind, TokenRecord};
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

/// What a token request does with the outcome of consuming its code: the protocol decision,
/// a pure function of the store's answer, the request and `now`; [`AuthorizationCodeGrant`]
/// carries it out.
// Short-lived values, moved once: boxing would cost an allocation per request for nothing.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Redemption {
    /// Unknown, expired, or already revoked code: `invalid_grant`, nothing to undo.
    Refuse,
    /// RFC 6749 §4.1.2: the code was used before. The request is denied and every token
    /// issued from the code is revoked (RFC 9700 §4.2.4): the grant `grant_id` goes, and
    /// self-contained tokens of the family are denied until `deny_until`.
    RevokeFamily {
        /// The family.
        grant_id: String,
        /// When every token the family may hold has expired.
        deny_until: i64,
    },
    /// The code was spent by a request that may not redeem it (another client, a wrong
    /// `redirect_uri` or PKCE verifier): nothing was issued from it, so the grant is dropped
    /// and the request fails with `error`.
    DropGrant {
        /// The grant of the spent code.
        grant_id: String,
        /// The reason.
        error: Error,
    },
    /// This request consumed the code: issue the tokens of `grant` (RFC 6749 §4.1.4).
    Issue(Grant),
}

/// The [`Redemption`] for `outcome`, the consumption of the code sent by `client` with
/// `params` at `now`.
///
/// The winner's tokens are issued with [`IssueOptions::consumed_artifact`]: a replay that
/// revokes the family while they are being stored has come after the redemption, so the winner
/// still gets its response (exactly one success among concurrent redemptions) and its tokens
/// are dead on arrival (`crate::issue::after_insert`).
pub fn redemption(
    outcome: ConsumeOutcome,
    client: &Client,
    params: &Params,
    config: &Config,
    now: i64,
) -> Redemption {
    match outcome {
        ConsumeOutcome::NotFound => Redemption::Refuse,
        ConsumeOutcome::Replayed(record) => Redemption::RevokeFamily {
            grant_id: record.grant_id,
            // A stored family never outlives its grant; self-contained tokens issued by the
            // winner, now or a moment from now, end within the longer token lifetime.
            deny_until: now.saturating_add(config.refresh_token_ttl.max(config.access_token_ttl)),
        },
        ConsumeOutcome::Consumed(record, grant) => {
            match check_redemption(&record, client, params) {
                Ok(()) => Redemption::Issue(grant),
                Err(error) => Redemption::DropGrant {
                    grant_id: record.grant_id,
                    error,
                },
            }
        }
    }
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
        match redemption(outcome, client, &req.params, &ctx.config, now) {
            Redemption::Refuse => Err(invalid()),
            Redemption::RevokeFamily {
                grant_id,
                deny_until,
            } => {
                revoke_family(ctx, &grant_id, deny_until).await?;
                Err(invalid())
            }
            Redemption::DropGrant { grant_id, error } => {
                ctx.grants.revoke_grant(&grant_id).await?;
                Err(error)
            }
            Redemption::Issue(grant) => {
                let options = IssueOptions::new()
                    .refresh_token(wants_refresh(&ctx.config, client))
                    .id_token(grant.scopes.contains("openid"))
                    .code(code)
                    .consumed_artifact(true);
                issue_token_response(ctx, client, &grant, &grant.scopes, options).await
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{CodeChallengeMethod, Scopes};
    use crate::records::CodeBinding;

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

    /// RFC 6749 §4.1.2: the first consumer issues, a replay revokes the family for as long as
    /// any of its tokens may live, a spent code that fails the checks drops its grant.
    #[test]
    fn redemption_decisions() {
        let cfg = Config::new("https://op.example");
        let app = Client::public("app");
        let ok = params(&[
            ("redirect_uri", "https://app/cb"),
            ("code_verifier", VERIFIER),
        ]);
        let grant = Grant::new("g", "app", Scopes::from_values(["openid"]), 0, 100);
        let consumed = ConsumeOutcome::Consumed(record(true, true), grant.clone());
        assert_eq!(
            redemption(consumed.clone(), &app, &ok, &cfg, 10),
            Redemption::Issue(grant)
        );
        assert_eq!(
            redemption(ConsumeOutcome::NotFound, &app, &ok, &cfg, 10),
            Redemption::Refuse
        );
        assert_eq!(
            redemption(
                ConsumeOutcome::Replayed(record(true, true)),
                &app,
                &ok,
                &cfg,
                10
            ),
            Redemption::RevokeFamily {
                grant_id: "g".into(),
                deny_until: 10 + cfg.refresh_token_ttl,
            }
        );
        let other = Client::public("other");
        match redemption(consumed, &other, &ok, &cfg, 10) {
            Redemption::DropGrant { grant_id, error } => {
                assert_eq!(grant_id, "g");
                assert_eq!(error.code(), "invalid_grant");
            }
            r => panic!("{r:?}"),
        }
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
