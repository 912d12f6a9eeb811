//! Each page's values, and the methods rendering them. The pages know nothing of the protocol
//! crates beyond plain values: scopes, claims and `authorization_details` are turned into
//! words here, from the message catalogs.

use axum::http::StatusCode;
use axum::response::Response;
use minijinja::context;
use minijinja::value::Value;
use serde::Serialize;
use serde_json::Value as Json;

use super::{Audience, Extra, Pages, FORM_POST_SCRIPT};
use crate::config::ConfigError;

/// At most this many `authorization_details` entries, rows per entry and characters per value
/// are shown (bad input never makes an unbounded page).
const MAX_DETAILS: usize = 20;
const MAX_ROWS: usize = 30;
const MAX_VALUE_CHARS: usize = 300;

/// Why the login form is shown again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LoginNotice {
    /// The password did not verify (the page is a 401).
    WrongCredentials,
    /// Over `[login]`'s attempt limits.
    TooManyAttempts,
    /// Signed in as another user than the one a CIBA request is for.
    WrongUser,
}

impl LoginNotice {
    fn key(self) -> &'static str {
        match self {
            LoginNotice::WrongCredentials => "login_error_wrong_credentials",
            LoginNotice::TooManyAttempts => "login_error_too_many_attempts",
            LoginNotice::WrongUser => "login_error_wrong_user",
        }
    }
}

/// The login form.
#[derive(Debug)]
pub(crate) struct Login<'a> {
    /// Where the form posts (the authorization endpoint's path).
    pub(crate) action: &'a str,
    /// The requested scopes.
    pub(crate) scopes: &'a [String],
    /// The sealed pending request (hidden field `request`).
    pub(crate) sealed: &'a str,
    /// `login_hint`, prefilled as the username.
    pub(crate) login_hint: &'a str,
    /// A failed attempt (the page is then a 401).
    pub(crate) error: Option<LoginNotice>,
    /// Whether a Cancel button (`decision=deny`) returns to the application.
    pub(crate) cancel: bool,
}

/// The consent form.
#[derive(Debug)]
pub(crate) struct Consent<'a> {
    /// Where the form posts (the authorization endpoint's path).
    pub(crate) action: &'a str,
    /// The logged-in user, for display.
    pub(crate) subject: &'a str,
    /// The requested scopes.
    pub(crate) scopes: &'a [String],
    /// Individually requested claims (OIDC Core §5.5).
    pub(crate) claims: &'a [String],
    /// `authorization_details` (RFC 9396), if any.
    pub(crate) details: Option<&'a Json>,
    /// The sealed pending request and session (hidden field `consent`).
    pub(crate) sealed: &'a str,
}

/// The device verification page (RFC 8628 §3.3).
#[derive(Debug, Default)]
pub(crate) struct DevicePage<'a> {
    /// Where the forms go.
    pub(crate) action: &'a str,
    /// The code typed so far.
    pub(crate) user_code: &'a str,
    /// The client and scopes, once the code is known: (client id, client name, scopes).
    pub(crate) prompt: Option<(&'a str, &'a str, &'a [String])>,
    /// An error: (HTTP status, code, description).
    pub(crate) error: Option<(u16, &'a str, &'a str)>,
}

/// The device flow's result.
#[derive(Debug)]
pub(crate) struct DeviceDone<'a> {
    /// Whether the user approved.
    pub(crate) approved: bool,
    /// The client.
    pub(crate) client_id: &'a str,
}

#[derive(Serialize)]
struct ScopeView {
    name: String,
    label: String,
    claims: String,
}

#[derive(Serialize)]
struct Row {
    label: String,
    value: String,
}

#[derive(Serialize)]
struct DetailView {
    title: String,
    rows: Vec<Row>,
}

#[derive(Serialize)]
struct Frame<'a> {
    uri: &'a str,
    client_id: &'a str,
}

fn clip(s: String) -> String {
    if s.chars().count() <= MAX_VALUE_CHARS {
        s
    } else {
        let mut out: String = s.chars().take(MAX_VALUE_CHARS).collect();
        out.push('…');
        out
    }
}

impl Pages {
    fn scopes(&self, lang: &str, scopes: &[String]) -> Vec<ScopeView> {
        scopes
            .iter()
            .map(|s| {
                let key = format!("scope_{s}");
                let claims_key = format!("scope_{s}_claims");
                ScopeView {
                    name: s.clone(),
                    label: if self.catalogs.has(lang, &key) {
                        self.text(lang, &key)
                    } else {
                        s.clone()
                    },
                    claims: if self.catalogs.has(lang, &claims_key) {
                        self.text(lang, &claims_key)
                    } else {
                        String::new()
                    },
                }
            })
            .collect()
    }

    fn words(&self, lang: &str, prefix: &str, name: &str) -> String {
        let key = format!("{prefix}{name}");
        if self.catalogs.has(lang, &key) {
            self.text(lang, &key)
        } else {
            name.to_owned()
        }
    }

    fn claims(&self, lang: &str, claims: &[String]) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for c in claims.iter().take(MAX_ROWS) {
            let w = self.words(lang, "claim_", c);
            if !out.contains(&w) {
                out.push(w);
            }
        }
        out
    }

    /// `authorization_details` (RFC 9396 §2) as titled lists of label and value: the `type`
    /// in words when the catalog knows it (`detail_<type>`), each other member likewise.
    fn details(&self, lang: &str, details: Option<&Json>) -> Vec<DetailView> {
        let entries: Vec<&Json> = match details {
            Some(Json::Array(a)) => a.iter().take(MAX_DETAILS).collect(),
            Some(other @ Json::Object(_)) => vec![other],
            _ => return Vec::new(),
        };
        entries
            .into_iter()
            .map(|e| {
                let ty = e.get("type").and_then(Json::as_str).unwrap_or("");
                let rows = match e {
                    Json::Object(m) => m
                        .iter()
                        .filter(|(k, _)| *k != "type")
                        .take(MAX_ROWS)
                        .map(|(k, v)| Row {
                            label: self.words(lang, "detail_", k),
                            value: clip(plain(v)),
                        })
                        .collect(),
                    _ => Vec::new(),
                };
                DetailView {
                    title: self.words(lang, "detail_", ty),
                    rows,
                }
            })
            .collect()
    }

    /// The login form: 200, or 401 after a failed attempt.
    pub(crate) fn login(&self, who: &Audience<'_>, page: &Login<'_>) -> Response {
        let lang = self.lang(who);
        let status = if page.error.is_some() {
            StatusCode::UNAUTHORIZED
        } else {
            StatusCode::OK
        };
        let ctx = context! {
            action => page.action,
            sealed => page.sealed,
            login_hint => page.login_hint,
            scopes => Value::from_serialize(self.scopes(&lang, page.scopes)),
            error => page.error.map(|e| self.text(&lang, e.key())),
            cancel => page.cancel,
        };
        self.render("login.html", who, status, ctx, Extra::default())
    }

    /// The consent form: the application, the scopes and claims in words, the
    /// `authorization_details`, and `decision=approve` / `decision=deny`.
    pub(crate) fn consent(&self, who: &Audience<'_>, page: &Consent<'_>) -> Response {
        let lang = self.lang(who);
        let ctx = context! {
            action => page.action,
            sealed => page.sealed,
            subject => page.subject,
            scopes => Value::from_serialize(self.scopes(&lang, page.scopes)),
            claims => Value::from_serialize(self.claims(&lang, page.claims)),
            details => Value::from_serialize(self.details(&lang, page.details)),
        };
        self.render("consent.html", who, StatusCode::OK, ctx, Extra::default())
    }

    /// An error page: a human title, explanation and next step for `code` (falling back to
    /// generic words), the code and description only as details. A server error's description
    /// is never shown (it may name internals).
    pub(crate) fn error(
        &self,
        who: &Audience<'_>,
        status: u16,
        code: &str,
        description: &str,
    ) -> Response {
        let lang = self.lang(who);
        let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
        let pick = |what: &str| {
            let specific = format!("error_{what}_{code}");
            if self.catalogs.has(&lang, &specific) {
                self.text(&lang, &specific)
            } else {
                self.text(&lang, &format!("error_{what}"))
            }
        };
        let description = if status.is_server_error() {
            ""
        } else {
            description
        };
        let ctx = context! {
            title => pick("title"),
            explanation => pick("text"),
            next => pick("next"),
            code => code,
            description => description,
        };
        self.render("error.html", who, status, ctx, Extra::default())
    }

    /// The device verification page.
    pub(crate) fn device(&self, who: &Audience<'_>, page: &DevicePage<'_>) -> Response {
        let lang = self.lang(who);
        let prompt = page.prompt.map(|(id, name, _)| {
            context! { client_id => id, client_name => name }
        });
        let scopes = page.prompt.map(|(_, _, s)| s).unwrap_or_default();
        let error = page.error.map(|(_, code, description)| {
            let key = format!("error_text_{code}");
            let text = if self.catalogs.has(&lang, &key) {
                self.text(&lang, &key)
            } else {
                description.to_owned()
            };
            context! { code => code, text => text }
        });
        let status = page
            .error
            .and_then(|(s, _, _)| StatusCode::from_u16(s).ok())
            .unwrap_or(StatusCode::OK);
        let ctx = context! {
            action => page.action,
            user_code => page.user_code,
            prompt => prompt,
            scopes => Value::from_serialize(self.scopes(&lang, scopes)),
            error => error,
        };
        self.render("device.html", who, status, ctx, Extra::default())
    }

    /// The device flow's result page.
    pub(crate) fn device_done(&self, who: &Audience<'_>, page: &DeviceDone<'_>) -> Response {
        let lang = self.lang(who);
        let which = if page.approved { "approved" } else { "denied" };
        let ctx = context! {
            title => self.text(&lang, &format!("device_{which}_title")),
            text => self.text(&lang, &format!("device_{which}")),
            client_id => page.client_id,
        };
        self.render(
            "device_done.html",
            who,
            StatusCode::OK,
            ctx,
            Extra::default(),
        )
    }

    /// The CIBA approval page (OpenID CIBA Core 1.0 §7.1: who asks, the binding message to
    /// compare, the scopes and the task).
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn ciba_approval(
        &self,
        who: &Audience<'_>,
        action: &str,
        sealed: &str,
        subject: &str,
        actor: Option<&str>,
        binding_message: Option<&str>,
        scopes: &[String],
        details: Option<&Json>,
        resources: &[String],
    ) -> Response {
        let lang = self.lang(who);
        let ctx = context! {
            action => action,
            sealed => sealed,
            subject => subject,
            actor => actor,
            binding_message => binding_message,
            scopes => Value::from_serialize(self.scopes(&lang, scopes)),
            details => Value::from_serialize(self.details(&lang, details)),
            resources => resources,
        };
        self.render(
            "ciba_approval.html",
            who,
            StatusCode::OK,
            ctx,
            Extra::default(),
        )
    }

    /// The CIBA result page; `state` is the request's state name (`approved`, `denied`...).
    pub(crate) fn ciba_done(&self, who: &Audience<'_>, state: &str) -> Response {
        let lang = self.lang(who);
        let key = format!("ciba_done_{state}");
        let title = if self.catalogs.has(&lang, &key) {
            self.text(&lang, &key)
        } else {
            self.text(&lang, "ciba_done_other")
        };
        let ctx = context! { title => title, state => state };
        self.render("ciba_done.html", who, StatusCode::OK, ctx, Extra::default())
    }

    /// The logout confirmation (RP-Initiated Logout 1.0 §2: the request is not tied to the
    /// browser's session): `decision=approve` / `decision=deny`.
    pub(crate) fn logout_confirm(
        &self,
        who: &Audience<'_>,
        action: &str,
        sealed: &str,
    ) -> Response {
        let ctx = context! { action => action, sealed => sealed };
        self.render(
            "logout_confirm.html",
            who,
            StatusCode::OK,
            ctx,
            Extra::default(),
        )
    }

    /// The user chose to stay signed in.
    pub(crate) fn logout_cancelled(&self, who: &Audience<'_>) -> Response {
        self.render(
            "logout_cancelled.html",
            who,
            StatusCode::OK,
            context! {},
            Extra::default(),
        )
    }

    /// The logged-out page: one hidden iframe per front-channel logout URI (Front-Channel
    /// Logout 1.0 §4; `frames` are (URI, client id)), then the redirect after `wait` seconds
    /// (meta refresh, and a link).
    pub(crate) fn logged_out(
        &self,
        who: &Audience<'_>,
        frames: &[(&str, &str)],
        redirect: Option<&str>,
        wait: u32,
    ) -> Response {
        let views: Vec<Frame<'_>> = frames
            .iter()
            .map(|(uri, client_id)| Frame { uri, client_id })
            .collect();
        let ctx = context! {
            frames => Value::from_serialize(&views),
            redirect => redirect,
            wait => wait,
        };
        let extra = Extra {
            script: None,
            frames: frames.iter().map(|(u, _)| (*u).to_owned()).collect(),
        };
        self.render("logged_out.html", who, StatusCode::OK, ctx, extra)
    }

    /// The form_post response (OAuth 2.0 Form Post Response Mode §2): the parameters as hidden
    /// fields of a form posting to the redirect URI, submitted by the one script the policy
    /// allows by hash, with a Continue button for browsers without scripts.
    pub(crate) fn form_post(
        &self,
        who: &Audience<'_>,
        redirect_uri: &str,
        params: &[(String, String)],
    ) -> Response {
        let ctx = context! {
            redirect_uri => redirect_uri,
            params => params,
        };
        let extra = Extra {
            script: Some(FORM_POST_SCRIPT),
            frames: Vec::new(),
        };
        self.render("form_post.html", who, StatusCode::OK, ctx, extra)
    }
}

/// A JSON value as plain text: strings as they are, arrays joined by commas, objects as
/// `name: value` pairs.
fn plain(v: &Json) -> String {
    match v {
        Json::String(s) => s.clone(),
        Json::Null => String::new(),
        Json::Bool(b) => b.to_string(),
        Json::Number(n) => n.to_string(),
        Json::Array(a) => a
            .iter()
            .take(MAX_ROWS)
            .map(plain)
            .collect::<Vec<_>>()
            .join(", "),
        // RFC 9396 §A.3's amounts: `{"currency": "EUR", "amount": "42.00"}` as "42.00 EUR".
        Json::Object(m)
            if m.len() == 2 && m.contains_key("amount") && m.contains_key("currency") =>
        {
            format!("{} {}", plain(&m["amount"]), plain(&m["currency"]))
        }
        Json::Object(m) => m
            .iter()
            .take(MAX_ROWS)
            .map(|(k, v)| format!("{k}: {}", plain(v)))
            .collect::<Vec<_>>()
            .join("; "),
    }
}

/// Renders every page once with sample values, in every language: a host template that
/// fails (an unknown filter, a missing include, a type error) is refused at load.
pub(super) fn check_all(pages: &Pages) -> Result<(), ConfigError> {
    let scopes = ["openid".to_owned(), "email".to_owned(), "x".to_owned()];
    let claims = ["name".to_owned()];
    let details =
        serde_json::json!([{"type": "openid_credential", "credential_configuration_id": "x"}]);
    let frames = [("https://rp.example/fc", "rp")];
    let params = [("code".to_owned(), "c".to_owned())];
    let langs: Vec<String> = pages.catalogs.languages().map(str::to_owned).collect();
    for lang in &langs {
        let ui = [lang.clone()];
        let who = Audience {
            ui_locales: &ui,
            client_id: Some("app"),
            ..Audience::default()
        };
        let all: [(&str, Value, Extra); 11] = [
            (
                "login.html",
                context! { action => "/a", sealed => "s", login_hint => "", scopes => Value::from_serialize(pages.scopes(lang, &scopes)), error => "e", cancel => true },
                Extra::default(),
            ),
            (
                "consent.html",
                context! { action => "/a", sealed => "s", subject => "u", scopes => Value::from_serialize(pages.scopes(lang, &scopes)), claims => Value::from_serialize(pages.claims(lang, &claims)), details => Value::from_serialize(pages.details(lang, Some(&details))) },
                Extra::default(),
            ),
            (
                "error.html",
                context! { title => "t", explanation => "e", next => "n", code => "c", description => "d" },
                Extra::default(),
            ),
            (
                "device.html",
                context! { action => "/d", user_code => "", prompt => context! { client_id => "c", client_name => "n" }, scopes => Value::from_serialize(pages.scopes(lang, &scopes)), error => context! { code => "c", text => "t" } },
                Extra::default(),
            ),
            (
                "device.html",
                context! { action => "/d", user_code => "", scopes => Value::from_serialize(pages.scopes(lang, &[])) },
                Extra::default(),
            ),
            (
                "device_done.html",
                context! { title => "t", text => "t", client_id => "c" },
                Extra::default(),
            ),
            (
                "ciba_approval.html",
                context! { action => "/c", sealed => "s", subject => "u", actor => "a", binding_message => "b", scopes => Value::from_serialize(pages.scopes(lang, &scopes)), details => Value::from_serialize(pages.details(lang, Some(&details))), resources => ["https://r.example"] },
                Extra::default(),
            ),
            (
                "ciba_done.html",
                context! { title => "t", state => "approved" },
                Extra::default(),
            ),
            (
                "logout_confirm.html",
                context! { action => "/l", sealed => "s" },
                Extra::default(),
            ),
            ("logout_cancelled.html", context! {}, Extra::default()),
            (
                "logged_out.html",
                context! { frames => Value::from_serialize([Frame { uri: frames[0].0, client_id: frames[0].1 }]), redirect => "https://rp.example/", wait => 2 },
                Extra {
                    script: None,
                    frames: vec![frames[0].0.to_owned()],
                },
            ),
        ];
        for (name, ctx, extra) in all {
            pages
                .render_text(name, &who, ctx, &extra)
                .map_err(|e| ConfigError::Pages {
                    reason: format!("template {name} ({lang}): {e}"),
                })?;
        }
        pages
            .render_text(
                "form_post.html",
                &who,
                context! { redirect_uri => "https://rp.example/cb", params => &params },
                &Extra {
                    script: Some(FORM_POST_SCRIPT),
                    frames: Vec::new(),
                },
            )
            .map_err(|e| ConfigError::Pages {
                reason: format!("template form_post.html ({lang}): {e}"),
            })?;
    }
    Ok(())
}
