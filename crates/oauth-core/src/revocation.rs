//! Revocation, in one place: what revoking a token takes down (RFC 7009 §2.1), revoking a token
//! family after a replay (RFC 6749 §4.1.2, RFC 9700 §4.14.2), and the deny-list that stands in
//! for the store when tokens are self-contained.
//!
//! The deny-list is a set of marks in the [`GrantStore`](crate::ports::GrantStore) (`mark` /
//! `is_marked`), each expiring when the token or family it denies would have expired anyway.
//! With [`TokenPersistence::SelfContainedWithoutRevocation`](crate::TokenPersistence) nothing
//! is written or read: revocation then waits for expiry.

use crate::context::Context;
use crate::error::{Error, Result};
use crate::records::TokenKind;
use crate::secret::TokenHash;

/// Namespace of a denied token (self-contained access token, or a rotated-away refresh token).
const DENY_TOKEN: &str = "deny-token";
/// Namespace of a denied token family (grant id).
const DENY_GRANT: &str = "deny-grant";

/// What revoking a token takes down.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RevocationScope {
    /// The whole grant: every token of the family (RFC 7009 §2.1: revoking a refresh token
    /// SHOULD also revoke the access tokens of the same grant).
    Family,
    /// Only this token (an access token).
    Token,
}

/// The scope of revoking a token of `kind`.
pub fn scope_of(kind: &TokenKind) -> RevocationScope {
    match kind {
        TokenKind::RefreshToken => RevocationScope::Family,
        _ => RevocationScope::Token,
    }
}

/// RFC 7009 §2.1/§2.2.1: `token_type_hint` is `access_token`, `refresh_token` or absent; any
/// other value is `unsupported_token_type`.
pub fn check_token_type_hint(hint: Option<&str>) -> Result<()> {
    match hint {
        None | Some("access_token") | Some("refresh_token") => Ok(()),
        Some(_) => Err(Error::UnsupportedTokenType(
            "unknown token_type_hint".into(),
        )),
    }
}

/// Whether a self-contained token, or its family `grant_id`, has been revoked.
pub async fn is_denied(ctx: &Context, token: &str, grant_id: &str, now: i64) -> Result<bool> {
    if !ctx.config.token_persistence.records_revocations() {
        return Ok(false);
    }
    Ok(ctx
        .grants
        .is_marked(&TokenHash::namespaced(DENY_TOKEN, token), now)
        .await?
        || is_family_denied(ctx, grant_id, now).await?)
}

/// Whether the family `grant_id` has been revoked on the deny-list.
pub async fn is_family_denied(ctx: &Context, grant_id: &str, now: i64) -> Result<bool> {
    if !ctx.config.token_persistence.records_revocations() {
        return Ok(false);
    }
    ctx.grants
        .is_marked(&TokenHash::namespaced(DENY_GRANT, grant_id), now)
        .await
}

/// Denies one self-contained token until `until` (its expiry).
pub async fn deny_token(ctx: &Context, token: &str, until: i64) -> Result<()> {
    if ctx.config.token_persistence.records_revocations() {
        let now = ctx.clock.now();
        ctx.grants
            .mark(&TokenHash::namespaced(DENY_TOKEN, token), until, now)
            .await?;
    }
    Ok(())
}

/// Revokes a token family: the stored grant and every token hanging off it, and when tokens
/// are self-contained a deny-list entry for the family until `until` (when it would have
/// expired).
pub async fn revoke_family(ctx: &Context, grant_id: &str, until: i64) -> Result<()> {
    ctx.grants.revoke_grant(grant_id).await?;
    if ctx.config.token_persistence.records_revocations() {
        let now = ctx.clock.now();
        ctx.grants
            .mark(&TokenHash::namespaced(DENY_GRANT, grant_id), until, now)
            .await?;
    }
    Ok(())
}

/// Self-contained refresh-token rotation (RFC 9700 §4.14.2): marks `token` used until `exp`.
/// `false` if it was used before: a replay, after which the caller revokes the family. Always
/// `true` when revocations are not recorded (reuse cannot be detected then).
pub async fn use_refresh_token_once(
    ctx: &Context,
    token: &str,
    exp: i64,
    now: i64,
) -> Result<bool> {
    if !ctx.config.token_persistence.records_revocations() {
        return Ok(true);
    }
    ctx.grants
        .mark(&TokenHash::namespaced(DENY_TOKEN, token), exp, now)
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refresh_tokens_take_their_family_down() {
        assert_eq!(scope_of(&TokenKind::RefreshToken), RevocationScope::Family);
        assert_eq!(scope_of(&TokenKind::AccessToken), RevocationScope::Token);
        assert_eq!(
            scope_of(&TokenKind::Artifact("urn:x".into())),
            RevocationScope::Token
        );
    }

    #[test]
    fn token_type_hints() {
        assert!(check_token_type_hint(None).is_ok());
        assert!(check_token_type_hint(Some("refresh_token")).is_ok());
        assert!(check_token_type_hint(Some("access_token")).is_ok());
        let e = check_token_type_hint(Some("id_token")).unwrap_err();
        assert_eq!(e.code(), "unsupported_token_type");
    }
}
