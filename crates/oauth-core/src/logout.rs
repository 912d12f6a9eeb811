//! Ending a login session and what follows from it: the front-channel iframes (Front-Channel
//! Logout 1.0), the Logout Tokens (Back-Channel Logout 1.0) and the revocation of the session's
//! tokens (Back-Channel Logout 1.0 §2.7). The pure parts (URIs, claims, which grants go) are
//! separate functions; [`end_session`] and [`fan_out`] carry them out against the ports.

use idforge_jose::{jws, Header};
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::ports::LogoutNotifier;
use crate::records::Grant;
use crate::revocation::revoke_family;
use crate::secret::random_token;
use crate::session::{
    BackChannelLogout, DeliveryResult, FrontChannelLogout, SessionEnded, SessionRecord,
    BACKCHANNEL_LOGOUT_EVENT, LOGOUT_TOKEN_TYP,
};

/// Lifetime of a Logout Token: Back-Channel Logout 1.0 §2.4 recommends an `exp` "at most two
/// minutes in the future".
pub const LOGOUT_TOKEN_TTL: i64 = 120;

/// Which grants of an ended session are revoked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GrantRevocation {
    /// Logout: every grant except those with `offline_access`, whose refresh tokens "normally
    /// SHOULD NOT be revoked" (Back-Channel Logout 1.0 §2.7).
    ExceptOffline,
    /// Password update: every grant, `offline_access` included.
    All,
}

/// Whether `grant` survives a logout under `mode` (Back-Channel Logout 1.0 §2.7: refresh
/// tokens issued with `offline_access` are kept by a logout, the others revoked).
pub fn survives(grant: &Grant, mode: GrantRevocation) -> bool {
    mode == GrantRevocation::ExceptOffline && grant.scopes.contains("offline_access")
}

/// Appends query parameters to `uri` (keeping its own query, Front-Channel Logout 1.0 §2).
fn with_query(uri: &str, params: &[(&str, &str)]) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in params {
        ser.append_pair(k, v);
    }
    let sep = if uri.contains('?') { '&' } else { '?' };
    format!("{uri}{sep}{}", ser.finish())
}

/// The iframe of `client` for the session `sid`, if it registered a `frontchannel_logout_uri`:
/// with `iss` and `sid` query parameters when it registered
/// `frontchannel_logout_session_required` (Front-Channel Logout 1.0 §2, §4).
pub fn frontchannel_logout(issuer: &str, client: &Client, sid: &str) -> Option<FrontChannelLogout> {
    let uri = client.frontchannel_logout_uri.as_deref()?;
    let uri = if client.frontchannel_logout_session_required {
        with_query(uri, &[("iss", issuer), ("sid", sid)])
    } else {
        uri.to_owned()
    };
    Some(FrontChannelLogout {
        client_id: client.client_id.clone(),
        uri,
    })
}

/// The claims of a Logout Token (Back-Channel Logout 1.0 §2.4): `iss`, `aud` (the client),
/// `iat`, `exp`, `jti`, `events` with exactly the back-channel logout event (an empty
/// object), `sub` and `sid` of the session; never `nonce` (§2.4: "A nonce Claim MUST NOT be
/// present", so a Logout Token cannot pass as an ID token).
pub fn logout_token_claims(
    issuer: &str,
    client_id: &str,
    session: &SessionRecord,
    jti: &str,
    now: i64,
) -> Map<String, Value> {
    let mut claims = Map::new();
    claims.insert("iss".into(), json!(issuer));
    claims.insert("aud".into(), json!(client_id));
    claims.insert("iat".into(), json!(now));
    claims.insert("exp".into(), json!(now.saturating_add(LOGOUT_TOKEN_TTL)));
    claims.insert("jti".into(), json!(jti));
    claims.insert("events".into(), json!({ BACKCHANNEL_LOGOUT_EVENT: {} }));
    claims.insert("sub".into(), json!(session.subject));
    claims.insert("sid".into(), json!(session.sid));
    claims
}

/// A signed Logout Token for `client` about `session`: `typ` `logout+jwt` (§2.4), signed with
/// the algorithm the client registered for ID tokens (§2.4: "the same ... as ID Tokens").
pub async fn issue_logout_token(
    ctx: &Context,
    client: &Client,
    session: &SessionRecord,
) -> Result<String> {
    let now = ctx.clock.now();
    let jti = random_token(ctx.rng.as_ref(), 16)?;
    let claims = logout_token_claims(&ctx.config.issuer, &client.client_id, session, &jti, now);
    let signer = ctx.keys.signer(client.id_token_signed_response_alg).await?;
    let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
    Ok(jws::sign_compact_with(
        Header::new().with_typ(LOGOUT_TOKEN_TYP),
        &payload,
        signer.as_ref(),
    )
    .await?)
}

/// Carries out the end of `session` (already removed from the store): revokes its grants under
/// `mode` and builds the front- and back-channel messages for its relying parties.
pub async fn fan_out(
    ctx: &Context,
    session: SessionRecord,
    mode: GrantRevocation,
) -> Result<SessionEnded> {
    let now = ctx.clock.now();
    let mut revoked = Vec::new();
    let mut kept = Vec::new();
    for id in &session.grants {
        let grant = ctx.grants.grant(id, now).await?;
        if grant.as_ref().is_some_and(|g| survives(g, mode)) {
            kept.push(id.clone());
            continue;
        }
        // A grant already gone is denied anyway until it would have expired.
        let until = grant.map_or_else(
            || now.saturating_add(ctx.config.refresh_token_ttl),
            |g| g.expires_at,
        );
        revoke_family(ctx, id, until).await?;
        revoked.push(id.clone());
    }
    let mut frontchannel = Vec::new();
    let mut backchannel = Vec::new();
    for client_id in &session.clients {
        let Some(client) = ctx.clients.client(client_id).await? else {
            continue;
        };
        if let Some(fc) = frontchannel_logout(&ctx.config.issuer, &client, &session.sid) {
            frontchannel.push(fc);
        }
        if let Some(uri) = &client.backchannel_logout_uri {
            backchannel.push(BackChannelLogout {
                client_id: client.client_id.clone(),
                uri: uri.clone(),
                logout_token: issue_logout_token(ctx, &client, &session).await?,
            });
        }
    }
    Ok(SessionEnded {
        session,
        frontchannel,
        backchannel,
        revoked_grants: revoked,
        kept_grants: kept,
    })
}

/// Ends the session `sid` if it still exists (of concurrent callers exactly one gets
/// `Some`), then [`fan_out`].
pub async fn end_session(
    ctx: &Context,
    sid: &str,
    mode: GrantRevocation,
) -> Result<Option<SessionEnded>> {
    let store = ctx
        .sessions
        .as_ref()
        .ok_or_else(|| Error::internal("no session store configured"))?;
    match store.remove(sid).await? {
        Some(session) => Ok(Some(fan_out(ctx, session, mode).await?)),
        None => Ok(None),
    }
}

/// Delivers every Logout Token once through `notifier`, one after another; the results are in
/// the order of `messages` (retries are the host's, see [`DeliveryResult::is_retryable`]).
pub async fn deliver_all(
    notifier: &dyn LogoutNotifier,
    messages: &[BackChannelLogout],
) -> Vec<DeliveryResult> {
    let mut out = Vec::with_capacity(messages.len());
    // Sequential awaits keep this runtime-free; a host wanting parallel delivery spawns one
    // task per message itself (`idforge serve` does).
    for m in messages {
        out.push(notifier.deliver(m).await);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Scopes;
    use crate::session::{RememberMe, SessionPolicy};

    fn session() -> SessionRecord {
        SessionRecord::new(
            "sid-1",
            "alice",
            100,
            RememberMe::No,
            &SessionPolicy::default(),
        )
    }

    #[test]
    fn frontchannel_uri_adds_iss_and_sid_only_when_required() {
        let c = Client::public("rp").with_frontchannel_logout("https://rp.example/fc?a=1", true);
        let fc = frontchannel_logout("https://op.example", &c, "s 1").unwrap();
        assert_eq!(
            fc.uri,
            "https://rp.example/fc?a=1&iss=https%3A%2F%2Fop.example&sid=s+1"
        );
        let c = Client::public("rp").with_frontchannel_logout("https://rp.example/fc", false);
        let fc = frontchannel_logout("https://op.example", &c, "s").unwrap();
        assert_eq!(fc.uri, "https://rp.example/fc");
        assert!(frontchannel_logout("https://op.example", &Client::public("x"), "s").is_none());
    }

    #[test]
    fn logout_token_claims_follow_back_channel_logout_2_4() {
        let c = logout_token_claims("https://op.example", "rp", &session(), "j1", 1000);
        let names: Vec<&str> = c.keys().map(String::as_str).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(
            sorted,
            ["aud", "events", "exp", "iat", "iss", "jti", "sid", "sub"]
        );
        assert!(!c.contains_key("nonce"));
        assert_eq!(
            c["events"],
            json!({"http://schemas.openid.net/event/backchannel-logout": {}})
        );
        assert_eq!(c["exp"], 1120);
        assert_eq!(c["sid"], "sid-1");
        assert_eq!(c["sub"], "alice");
        assert_eq!(c["aud"], "rp");
    }

    #[test]
    fn offline_access_grants_survive_logout_not_password_update() {
        let offline = Grant::new(
            "g",
            "rp",
            Scopes::from_values(["openid", "offline_access"]),
            0,
            9,
        );
        let online = Grant::new("h", "rp", Scopes::from_values(["openid"]), 0, 9);
        assert!(survives(&offline, GrantRevocation::ExceptOffline));
        assert!(!survives(&offline, GrantRevocation::All));
        assert!(!survives(&online, GrantRevocation::ExceptOffline));
    }
}
