//! The end-session endpoint: OpenID Connect RP-Initiated Logout 1.0, with the front-channel
//! (Front-Channel Logout 1.0) and back-channel (Back-Channel Logout 1.0) notifications of the
//! ended session's relying parties.
//!
//! [`EndSessionEndpoint::start`] validates the request ([`EndSessionRequest`]), looks up the
//! browser's session, decides ([`logout_plan`], pure) and acts, returning one [`LogoutStep`]:
//! ask the user to confirm, or the session ended ([`LoggedOut`]: iframes to render, Logout
//! Tokens to deliver, where to redirect), or an error page. After a confirmation page the host
//! calls [`EndSessionEndpoint::confirm`] with the same (serializable) request.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::client::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::logout::{end_session, GrantRevocation};
use crate::model::Params;
use crate::session::{SessionEnded, SessionRecord};
use crate::validate::own_jwt;

/// The `sub` and `sid` of a verified `id_token_hint`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct IdTokenHint {
    /// Its `sub`.
    pub subject: String,
    /// Its `sid`, if it had one.
    pub sid: Option<String>,
}

/// A validated logout request (RP-Initiated Logout 1.0 §2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct EndSessionRequest {
    /// The relying party, from `client_id` or the `id_token_hint`'s audience.
    pub client_id: Option<String>,
    /// The verified `id_token_hint`.
    pub id_token_hint: Option<IdTokenHint>,
    /// `logout_hint`: who the RP thinks is logged in (compared with the session's subject).
    pub logout_hint: Option<String>,
    /// `post_logout_redirect_uri`, only once it matched one the client registered exactly.
    pub post_logout_redirect_uri: Option<String>,
    /// `state`, returned with the redirect.
    pub state: Option<String>,
    /// `ui_locales`: preferred languages of the logout pages.
    pub ui_locales: Vec<String>,
}

impl EndSessionRequest {
    /// Where to send the user agent after logout: the validated `post_logout_redirect_uri`
    /// with `state` appended (RP-Initiated Logout 1.0 §3).
    pub fn redirect(&self) -> Option<String> {
        let uri = self.post_logout_redirect_uri.as_ref()?;
        Some(match &self.state {
            Some(state) => {
                let mut ser = form_urlencoded::Serializer::new(String::new());
                ser.append_pair("state", state);
                let sep = if uri.contains('?') { '&' } else { '?' };
                format!("{uri}{sep}{}", ser.finish())
            }
            None => uri.clone(),
        })
    }
}

/// What to do with the browser's session, decided by [`logout_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LogoutPlan {
    /// No live session: nothing to end (still redirect).
    NothingToEnd,
    /// The request is tied to the session: end it now.
    End(String),
    /// The request cannot be tied to the session's user: ask first.
    Confirm,
}

/// RP-Initiated Logout 1.0 §2: the logout ends the session at once only when it is tied to
/// it: an `id_token_hint` whose `sid` is the session's (or, without `sid`, whose `sub` is its
/// user), and any `logout_hint` naming that user. Otherwise the OP asks the user ("the OP
/// SHOULD ask the End-User whether to log out"), so a cross-site request cannot force a
/// logout.
pub fn logout_plan(request: &EndSessionRequest, session: Option<&SessionRecord>) -> LogoutPlan {
    let Some(session) = session else {
        return LogoutPlan::NothingToEnd;
    };
    let tied = match &request.id_token_hint {
        None => false,
        Some(h) => match &h.sid {
            Some(sid) => *sid == session.sid,
            None => h.subject == session.subject,
        },
    };
    let hint_matches = request
        .logout_hint
        .as_ref()
        .is_none_or(|h| *h == session.subject);
    if tied && hint_matches {
        LogoutPlan::End(session.sid.clone())
    } else {
        LogoutPlan::Confirm
    }
}

/// The user's answer to the logout confirmation page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogoutDecision {
    /// Log out.
    Approve,
    /// Stay logged in.
    Deny,
}

/// A finished logout, for the host to carry out.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoggedOut {
    /// The session that ended, with its front-channel iframes and back-channel Logout
    /// Tokens; `None` when there was none (already ended, or no session in this browser).
    pub ended: Option<SessionEnded>,
    /// Where to send the user agent after rendering the iframes (`post_logout_redirect_uri`
    /// and `state`); `None`: show a "logged out" page.
    pub redirect: Option<String>,
    /// Preferred languages of the page.
    pub ui_locales: Vec<String>,
}

/// What the host must do next.
#[derive(Debug, Clone, PartialEq)]
pub enum LogoutStep {
    /// Ask the user whether to log out (buttons `decision=approve` / `deny` in `idforge
    /// serve`), then call [`EndSessionEndpoint::confirm`] with this request.
    Confirm {
        /// The validated request (keep it, e.g. sealed in the form).
        request: Box<EndSessionRequest>,
    },
    /// The session ended (or there was none).
    LoggedOut(Box<LoggedOut>),
    /// The user chose to stay logged in.
    Cancelled {
        /// Preferred languages of the page.
        ui_locales: Vec<String>,
    },
    /// Show an error page (never redirected: the redirect target could not be trusted).
    ShowError(Error),
}

/// The end-session endpoint.
#[derive(Debug, Clone)]
pub struct EndSessionEndpoint {
    ctx: Arc<Context>,
}

/// Largest `id_token_hint` read.
const MAX_HINT_BYTES: usize = 16 * 1024;

impl EndSessionEndpoint {
    /// The endpoint over `ctx`.
    pub fn new(ctx: Arc<Context>) -> Self {
        EndSessionEndpoint { ctx }
    }

    /// Handles a logout request (query of a GET or form of a POST, RP-Initiated Logout 1.0
    /// §2) from a browser whose session cookie names `session_sid`.
    pub async fn start(&self, params: &Params, session_sid: Option<&str>) -> LogoutStep {
        let request = match self.validate(params).await {
            Ok(r) => r,
            Err(e) => return LogoutStep::ShowError(e),
        };
        let session = match self.live_session(session_sid).await {
            Ok(s) => s,
            Err(e) => return LogoutStep::ShowError(e),
        };
        match logout_plan(&request, session.as_ref()) {
            LogoutPlan::Confirm => LogoutStep::Confirm {
                request: Box::new(request),
            },
            LogoutPlan::NothingToEnd => self.finish(&request, None),
            LogoutPlan::End(sid) => self.end(&request, &sid).await,
        }
    }

    /// Continues after the confirmation page: ends the browser's session on
    /// [`LogoutDecision::Approve`].
    pub async fn confirm(
        &self,
        request: EndSessionRequest,
        decision: LogoutDecision,
        session_sid: Option<&str>,
    ) -> LogoutStep {
        match (decision, session_sid) {
            (LogoutDecision::Deny, _) => LogoutStep::Cancelled {
                ui_locales: request.ui_locales,
            },
            (LogoutDecision::Approve, None) => self.finish(&request, None),
            (LogoutDecision::Approve, Some(sid)) => self.end(&request, sid).await,
        }
    }

    async fn live_session(&self, sid: Option<&str>) -> Result<Option<SessionRecord>> {
        match (&self.ctx.sessions, sid) {
            (Some(store), Some(sid)) => store.get(sid, self.ctx.clock.now()).await,
            (None, _) => Err(Error::internal("no session store configured")),
            (_, None) => Ok(None),
        }
    }

    async fn end(&self, request: &EndSessionRequest, sid: &str) -> LogoutStep {
        match end_session(&self.ctx, sid, GrantRevocation::ExceptOffline).await {
            Ok(ended) => self.finish(request, ended),
            Err(e) => LogoutStep::ShowError(e),
        }
    }

    fn finish(&self, request: &EndSessionRequest, ended: Option<SessionEnded>) -> LogoutStep {
        LogoutStep::LoggedOut(Box::new(LoggedOut {
            ended,
            redirect: request.redirect(),
            ui_locales: request.ui_locales.clone(),
        }))
    }

    /// RP-Initiated Logout 1.0 §2 and §3: checks the parameters.
    async fn validate(&self, p: &Params) -> Result<EndSessionRequest> {
        let bad = |why: &str| Error::InvalidRequest(why.to_owned());
        let mut client_id = p.get("client_id").map(str::to_owned);
        let mut hint = None;
        if let Some(jwt) = p.get("id_token_hint") {
            let (h, audience) = self.verify_hint(jwt).await?;
            match &client_id {
                // §2 `client_id`: with both present, "the OP MUST verify that the Client
                // Identifier matches the one used when issuing the ID Token".
                Some(id) => {
                    if !audience.iter().any(|a| a == id) {
                        return Err(bad("client_id does not match the id_token_hint's audience"));
                    }
                }
                None => {
                    if let [only] = audience.as_slice() {
                        client_id = Some(only.clone());
                    }
                }
            }
            hint = Some(h);
        }
        let client = match &client_id {
            Some(id) => Some(
                self.ctx
                    .clients
                    .client(id)
                    .await?
                    .ok_or_else(|| bad("unknown client_id"))?,
            ),
            None => None,
        };
        let post_logout_redirect_uri = match p.get("post_logout_redirect_uri") {
            None => None,
            Some(uri) => Some(registered_redirect(client.as_ref(), uri)?),
        };
        let ui_locales = p
            .get("ui_locales")
            .unwrap_or("")
            .split(' ')
            .filter(|v| !v.is_empty())
            .take(16)
            .map(str::to_owned)
            .collect();
        Ok(EndSessionRequest {
            client_id,
            id_token_hint: hint,
            logout_hint: p.get("logout_hint").map(str::to_owned),
            post_logout_redirect_uri,
            state: p.get("state").map(str::to_owned),
            ui_locales,
        })
    }

    /// RP-Initiated Logout 1.0 §4: "When an id_token_hint parameter is present, the OP MUST
    /// validate that it was the issuer of the ID Token" (signature by one of our keys, `iss`
    /// ours) and "SHOULD accept ID Tokens ... even when the exp time has passed". Returns the
    /// hint and its audience.
    async fn verify_hint(&self, jwt: &str) -> Result<(IdTokenHint, Vec<String>)> {
        let bad = |why: &str| Error::InvalidRequest(format!("id_token_hint {why}"));
        if jwt.len() > MAX_HINT_BYTES {
            return Err(bad("is too large"));
        }
        if jwt.split('.').count() != 3 {
            return Err(bad("must be a signed (not encrypted) ID token"));
        }
        let token = own_jwt(&self.ctx, jwt)
            .await
            .map_err(|_| bad("was not issued by this provider"))?;
        // An access token or a logout token signed by the same keys is not an ID token.
        if token
            .header
            .get("typ")
            .is_some_and(|t| t.as_str() != Some("JWT"))
        {
            return Err(bad("is not an ID token"));
        }
        let claims = &token.claims;
        if claims.get("iss").and_then(Value::as_str) != Some(self.ctx.config.issuer.as_str()) {
            return Err(bad("was not issued by this provider"));
        }
        let subject = claims
            .get("sub")
            .and_then(Value::as_str)
            .ok_or_else(|| bad("has no sub"))?
            .to_owned();
        let audience: Vec<String> = match claims.get("aud") {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(list)) => list
                .iter()
                .filter_map(|a| a.as_str().map(str::to_owned))
                .collect(),
            _ => return Err(bad("has no aud")),
        };
        Ok((
            IdTokenHint {
                subject,
                sid: claims.get("sid").and_then(Value::as_str).map(str::to_owned),
            },
            audience,
        ))
    }
}

/// RP-Initiated Logout 1.0 §3: `post_logout_redirect_uri` "MUST have been previously
/// registered" and is compared exactly; without a client to compare with, it is refused (§2:
/// the OP "MUST NOT perform post-logout redirection unless" it can confirm the target).
fn registered_redirect(client: Option<&Client>, uri: &str) -> Result<String> {
    let client = client.ok_or_else(|| {
        Error::InvalidRequest("post_logout_redirect_uri needs client_id or id_token_hint".into())
    })?;
    client
        .post_logout_redirect_uris
        .iter()
        .find(|r| *r == uri)
        .cloned()
        .ok_or_else(|| {
            Error::InvalidRequest(
                "post_logout_redirect_uri is not registered for this client".into(),
            )
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::{RememberMe, SessionPolicy};

    fn session() -> SessionRecord {
        SessionRecord::new("s1", "alice", 0, RememberMe::No, &SessionPolicy::default())
    }

    fn request(hint: Option<(&str, Option<&str>)>, logout_hint: Option<&str>) -> EndSessionRequest {
        EndSessionRequest {
            client_id: Some("rp".into()),
            id_token_hint: hint.map(|(sub, sid)| IdTokenHint {
                subject: sub.into(),
                sid: sid.map(str::to_owned),
            }),
            logout_hint: logout_hint.map(str::to_owned),
            post_logout_redirect_uri: Some("https://rp.example/bye?x=1".into()),
            state: Some("a b".into()),
            ui_locales: vec![],
        }
    }

    #[test]
    fn only_a_request_tied_to_the_session_ends_it_without_asking() {
        let s = session();
        let end = LogoutPlan::End("s1".into());
        assert_eq!(
            logout_plan(&request(Some(("alice", Some("s1"))), None), Some(&s)),
            end
        );
        assert_eq!(
            logout_plan(&request(Some(("alice", None)), None), Some(&s)),
            end
        );
        assert_eq!(
            logout_plan(
                &request(Some(("alice", Some("s1"))), Some("alice")),
                Some(&s)
            ),
            end
        );
        for r in [
            request(None, None),
            request(None, Some("alice")),
            request(Some(("alice", Some("other-session"))), None),
            request(Some(("mallory", None)), None),
            request(Some(("alice", Some("s1"))), Some("bob")),
        ] {
            assert_eq!(logout_plan(&r, Some(&s)), LogoutPlan::Confirm, "{r:?}");
        }
        assert_eq!(
            logout_plan(&request(None, None), None),
            LogoutPlan::NothingToEnd
        );
    }

    #[test]
    fn redirect_appends_state_to_the_registered_uri() {
        assert_eq!(
            request(None, None).redirect().as_deref(),
            Some("https://rp.example/bye?x=1&state=a+b")
        );
    }

    #[test]
    fn post_logout_redirect_uri_is_matched_exactly() {
        let c = Client::public("rp").with_post_logout_redirect_uri("https://rp.example/bye");
        assert!(registered_redirect(Some(&c), "https://rp.example/bye").is_ok());
        for other in [
            "https://rp.example/bye/",
            "https://rp.example/bye?x",
            "https://RP.example/bye",
            "https://rp.example/by",
        ] {
            assert!(registered_redirect(Some(&c), other).is_err(), "{other}");
        }
        assert!(registered_redirect(None, "https://rp.example/bye").is_err());
    }
}
