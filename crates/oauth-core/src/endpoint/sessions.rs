//! Login sessions as the host's login page, cookie handling and account management see them:
//! start a session at login, find the current one from the cookie, end one, and apply the
//! password-update policy. Over the [`SessionStore`] port and
//! [`Config::sessions`](crate::Config::sessions).

use std::sync::Arc;

use crate::context::Context;
use crate::error::{Error, Result};
use crate::logout::{end_session, fan_out, GrantRevocation};
use crate::ports::SessionStore;
use crate::revocation::revoke_family;
use crate::session::{new_sid, PasswordUpdatePolicy, RememberMe, SessionEnded, SessionRecord};

/// A successful authentication, as the host's login page reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct Login {
    /// The user's subject identifier.
    pub subject: String,
    /// When the user authenticated.
    pub auth_time: i64,
    /// Authentication context class reached.
    pub acr: Option<String>,
    /// Authentication methods used (RFC 8176).
    pub amr: Vec<String>,
    /// The login form's `remember_me` choice.
    pub remember_me: RememberMe,
}

impl Login {
    /// `subject` authenticated at `auth_time` with `amr` methods, not remembered, no `acr`.
    pub fn new(subject: impl Into<String>, auth_time: i64, amr: Vec<String>) -> Login {
        Login {
            subject: subject.into(),
            auth_time,
            acr: None,
            amr,
            remember_me: RememberMe::No,
        }
    }

    /// Sets the remember-me choice.
    pub fn with_remember_me(mut self, remember_me: RememberMe) -> Login {
        self.remember_me = remember_me;
        self
    }

    /// Sets the `acr` reached.
    pub fn with_acr(mut self, acr: impl Into<String>) -> Login {
        self.acr = Some(acr.into());
        self
    }
}

/// What to do with the browser's previous session at a login, decided by [`login_plan`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LoginPlan {
    /// No live previous session: start a new one.
    Start,
    /// The same user authenticated again (`prompt=login`, `max_age`): update the session's
    /// authentication in place, keeping its `sid` and relying parties.
    Reauthenticate(String),
    /// Another user logs in: end the previous session (with its logout fan-out), then start
    /// a new one, so one browser never mixes two users' sessions.
    Replace(String),
}

/// Decides what a login does with `previous`, the browser's live session if any.
pub fn login_plan(previous: Option<&SessionRecord>, subject: &str) -> LoginPlan {
    match previous {
        None => LoginPlan::Start,
        Some(p) if p.subject == subject => LoginPlan::Reauthenticate(p.sid.clone()),
        Some(p) => LoginPlan::Replace(p.sid.clone()),
    }
}

/// The outcome of [`Sessions::login`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct LoginOutcome {
    /// The session the browser now has (bind the cookie to it, with a fresh cookie value).
    pub session: SessionRecord,
    /// The previous session of another user, ended by this login: deliver its back-channel
    /// logouts.
    pub replaced: Option<SessionEnded>,
}

/// What a password update did (WSO2 IS 7.3 "skip session revocation on password update").
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PasswordUpdateOutcome {
    /// The policy keeps sessions: this many live sessions of the user were left alone.
    Preserved {
        /// Live sessions kept.
        sessions: usize,
    },
    /// Every session of the user ended, and every grant of the user revoked (`offline_access`
    /// included, and grants made outside a session: password, token exchange); deliver the
    /// back-channel logouts.
    Ended {
        /// The ended sessions, each with its logout fan-out.
        sessions: Vec<SessionEnded>,
        /// Grants of the user revoked beyond those recorded in the sessions.
        other_grants_revoked: usize,
    },
}

/// Login sessions of the provider.
#[derive(Debug, Clone)]
pub struct Sessions {
    ctx: Arc<Context>,
}

/// Attempts at drawing an unused `sid` (a collision of 128 random bits does not happen; a
/// broken RNG does, and must fail rather than loop).
const SID_ATTEMPTS: usize = 4;

impl Sessions {
    /// Sessions over `ctx` (which must have a session store).
    pub fn new(ctx: Arc<Context>) -> Self {
        Sessions { ctx }
    }

    fn store(&self) -> Result<&Arc<dyn SessionStore>> {
        self.ctx
            .sessions
            .as_ref()
            .ok_or_else(|| Error::internal("no session store configured"))
    }

    /// Records a login: reauthenticates the browser's session `previous_sid` when it belongs to
    /// the same user, else starts a new session (`sid` of 128 bits from the provider's
    /// [`Rng`](crate::secret::Rng)) with the lifetimes of [`Config::sessions`](crate::Config)
    /// and ends the previous one of another user.
    pub async fn login(&self, login: Login, previous_sid: Option<&str>) -> Result<LoginOutcome> {
        let store = self.store()?;
        let now = self.ctx.clock.now();
        let previous = match previous_sid {
            Some(sid) => store.get(sid, now).await?,
            None => None,
        };
        let mut replaced = None;
        match login_plan(previous.as_ref(), &login.subject) {
            LoginPlan::Reauthenticate(sid) => {
                if let Some(session) = store
                    .reauthenticate(&sid, login.auth_time, login.acr.as_deref(), &login.amr, now)
                    .await?
                {
                    return Ok(LoginOutcome {
                        session,
                        replaced: None,
                    });
                }
                // It expired in between: start afresh.
            }
            LoginPlan::Replace(sid) => {
                replaced = end_session(&self.ctx, &sid, GrantRevocation::ExceptOffline).await?;
            }
            LoginPlan::Start => {}
        }
        let policy = &self.ctx.config.sessions;
        for _ in 0..SID_ATTEMPTS {
            let session = SessionRecord::new(
                new_sid(self.ctx.rng.as_ref())?,
                login.subject.clone(),
                now,
                login.remember_me,
                policy,
            )
            .with_auth_time(login.auth_time)
            .with_acr(login.acr.clone())
            .with_amr(login.amr.clone());
            if store.create(session.clone()).await? {
                return Ok(LoginOutcome { session, replaced });
            }
        }
        Err(Error::internal("could not draw an unused session id"))
    }

    /// The live session `sid` (from the host's cookie), counted as a use (its idle window
    /// restarts); `None` when it ended or expired.
    pub async fn current(&self, sid: &str) -> Result<Option<SessionRecord>> {
        self.store()?.touch(sid, self.ctx.clock.now()).await
    }

    /// Ends the session `sid` (an administrator's or the host's own logout, without a
    /// browser): revokes its grants except `offline_access` ones (Back-Channel Logout 1.0
    /// §2.7) and returns the logouts to deliver; `None` if it had already ended.
    pub async fn end(&self, sid: &str) -> Result<Option<SessionEnded>> {
        end_session(&self.ctx, sid, GrantRevocation::ExceptOffline).await
    }

    /// A user's password changed: under [`PasswordUpdatePolicy::EndSessions`] every session of
    /// `subject` ends and every grant issued in them is revoked, `offline_access` included;
    /// under [`PasswordUpdatePolicy::Preserve`] nothing changes.
    pub async fn password_updated(&self, subject: &str) -> Result<PasswordUpdateOutcome> {
        self.password_updated_with(subject, self.ctx.config.sessions.password_update)
            .await
    }

    /// [`password_updated`](Self::password_updated) with an explicit policy (the orgs crate
    /// passes its organization's).
    pub async fn password_updated_with(
        &self,
        subject: &str,
        policy: PasswordUpdatePolicy,
    ) -> Result<PasswordUpdateOutcome> {
        let store = self.store()?;
        match policy {
            PasswordUpdatePolicy::Preserve => Ok(PasswordUpdateOutcome::Preserved {
                sessions: store.by_subject(subject, self.ctx.clock.now()).await?.len(),
            }),
            PasswordUpdatePolicy::EndSessions => {
                let mut ended = Vec::new();
                for session in store.remove_by_subject(subject).await? {
                    ended.push(fan_out(&self.ctx, session, GrantRevocation::All).await?);
                }
                // The grants no session recorded (password grant, token exchange, grants of
                // sessions already gone) end too: the old password must buy nothing more.
                let now = self.ctx.clock.now();
                let mut other_grants_revoked = 0;
                for grant in self.ctx.grants.grants_by_subject(subject, now).await? {
                    revoke_family(&self.ctx, &grant.id, grant.expires_at).await?;
                    other_grants_revoked += 1;
                }
                Ok(PasswordUpdateOutcome::Ended {
                    sessions: ended,
                    other_grants_revoked,
                })
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::session::SessionPolicy;

    #[test]
    fn login_plan_reauthenticates_the_same_user_and_replaces_another() {
        let s = SessionRecord::new("s1", "alice", 0, RememberMe::No, &SessionPolicy::default());
        assert_eq!(login_plan(None, "alice"), LoginPlan::Start);
        assert_eq!(
            login_plan(Some(&s), "alice"),
            LoginPlan::Reauthenticate("s1".into())
        );
        assert_eq!(login_plan(Some(&s), "bob"), LoginPlan::Replace("s1".into()));
    }
}
