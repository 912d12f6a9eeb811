//! The HTML pages: login, consent and error. Every interpolated value is escaped with
//! [`escape`]; the pages know nothing of the protocol crates (they take plain strings).

use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};

/// Escapes text for HTML element content and (double- or single-quoted) attribute values:
/// oauth-core's escaper, the one its own form_post and error pages use.
pub(crate) fn escape(s: &str) -> String {
    idforge_oauth_core::endpoint::authorize::html_escape(s)
}

/// An HTML response that is never cached (it carries a sealed form value or an error).
fn html(status: StatusCode, body: String) -> Response {
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response()
}

/// The login form.
#[derive(Debug)]
pub(crate) struct Login<'a> {
    /// Where the form posts (the authorization endpoint's path).
    pub(crate) action: &'a str,
    /// The requesting client, for display.
    pub(crate) client_id: &'a str,
    /// The requested scopes, space-separated.
    pub(crate) scope: &'a str,
    /// The sealed pending request (hidden field `request`).
    pub(crate) sealed: &'a str,
    /// `login_hint`, prefilled as the username.
    pub(crate) login_hint: &'a str,
    /// A failed attempt's message (the page is then a 401).
    pub(crate) error: Option<&'a str>,
}

/// Renders the login form: 200, or 401 when it repeats after a failed attempt.
pub(crate) fn login(page: &Login<'_>) -> Response {
    let error_html = page
        .error
        .map(|e| format!("<p class=\"error\" role=\"alert\">{}</p>", escape(e)))
        .unwrap_or_default();
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Sign in - idforge</title></head><body>\
         <h1>Sign in</h1><p>to continue to <b>{client}</b> (scopes: {scopes})</p>{error_html}\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"request\" value=\"{sealed}\"/>\
         <label>Username <input name=\"username\" autocomplete=\"username\" value=\"{hint}\"/></label>\
         <label>Password <input name=\"password\" type=\"password\" autocomplete=\"current-password\"/></label>\
         <label><input type=\"checkbox\" name=\"remember_me\" value=\"on\"/> Remember me</label>\
         <button type=\"submit\">Sign in</button></form></body></html>",
        client = escape(page.client_id),
        scopes = escape(page.scope),
        action = escape(page.action),
        sealed = escape(page.sealed),
        hint = escape(page.login_hint),
    );
    let status = if page.error.is_some() {
        StatusCode::UNAUTHORIZED
    } else {
        StatusCode::OK
    };
    html(status, body)
}

/// The consent form.
#[derive(Debug)]
pub(crate) struct Consent<'a> {
    /// Where the form posts (the authorization endpoint's path).
    pub(crate) action: &'a str,
    /// The requesting client, for display.
    pub(crate) client_id: &'a str,
    /// The logged-in user, for display.
    pub(crate) subject: &'a str,
    /// The requested scopes.
    pub(crate) scopes: &'a [String],
    /// The sealed pending request and session (hidden field `consent`).
    pub(crate) sealed: &'a str,
}

/// What a well-known scope lets the client do, in words; `None` for other scopes.
fn scope_description(scope: &str) -> Option<&'static str> {
    Some(match scope {
        "openid" => "know who you are",
        "profile" => "see your name and profile",
        "email" => "see your email address",
        "address" => "see your postal address",
        "phone" => "see your phone number",
        "offline_access" => "keep access while you are away",
        _ => return None,
    })
}

/// Renders the consent form: the client, the scopes, and approve / deny buttons posting
/// `decision=approve` or `decision=deny`.
pub(crate) fn consent(page: &Consent<'_>) -> Response {
    let mut items = String::new();
    for scope in page.scopes {
        match scope_description(scope) {
            Some(d) => items.push_str(&format!(
                "<li><code>{}</code>: {}</li>",
                escape(scope),
                escape(d)
            )),
            None => items.push_str(&format!("<li><code>{}</code></li>", escape(scope))),
        }
    }
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Allow access - idforge</title></head><body>\
         <h1>Allow access?</h1><p><b>{client}</b> asks to access your account <b>{subject}</b>:</p>\
         <ul>{items}</ul>\
         <form method=\"post\" action=\"{action}\">\
         <input type=\"hidden\" name=\"consent\" value=\"{sealed}\"/>\
         <button type=\"submit\" name=\"decision\" value=\"approve\">Allow</button>\
         <button type=\"submit\" name=\"decision\" value=\"deny\">Deny</button></form></body></html>",
        client = escape(page.client_id),
        subject = escape(page.subject),
        action = escape(page.action),
        sealed = escape(page.sealed),
    );
    html(StatusCode::OK, body)
}

/// Renders an error page: an error that must not be redirected to the client (unknown client,
/// unregistered redirect URI, altered form).
pub(crate) fn error(status: u16, code: &str, description: &str) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::BAD_REQUEST);
    let body = format!(
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Authorization error - idforge</title></head><body>\
         <h1>{}</h1><p>{}</p></body></html>",
        escape(code),
        escape(description)
    );
    html(status, body)
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::body::to_bytes;

    async fn text(r: Response) -> (u16, String) {
        let status = r.status().as_u16();
        let body = to_bytes(r.into_body(), usize::MAX).await.unwrap();
        (status, String::from_utf8(body.to_vec()).unwrap())
    }

    const HOSTILE: &str = "<script>alert('x')</script>\"&";

    #[test]
    fn escape_covers_the_five_characters() {
        assert_eq!(
            escape(HOSTILE),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt;&quot;&amp;"
        );
    }

    #[tokio::test]
    async fn every_value_is_escaped() {
        let (status, body) = text(login(&Login {
            action: HOSTILE,
            client_id: HOSTILE,
            scope: HOSTILE,
            sealed: HOSTILE,
            login_hint: HOSTILE,
            error: Some(HOSTILE),
        }))
        .await;
        assert_eq!(status, 401);
        assert!(
            !body.contains("<script>") && !body.contains("'x'"),
            "{body}"
        );
        assert_eq!(body.matches(&escape(HOSTILE)).count(), 6, "{body}");

        let scopes = [HOSTILE.to_owned(), "email".to_owned()];
        let (status, body) = text(consent(&Consent {
            action: HOSTILE,
            client_id: HOSTILE,
            subject: HOSTILE,
            scopes: &scopes,
            sealed: HOSTILE,
        }))
        .await;
        assert_eq!(status, 200);
        assert!(!body.contains("<script>"), "{body}");
        assert_eq!(body.matches(&escape(HOSTILE)).count(), 5, "{body}");
        assert!(body.contains("<li><code>email</code>: see your email address</li>"));
        assert!(body.contains("name=\"decision\" value=\"approve\""));
        assert!(body.contains("name=\"decision\" value=\"deny\""));

        let (status, body) = text(error(400, HOSTILE, HOSTILE)).await;
        assert_eq!(status, 400);
        assert!(!body.contains("<script>"), "{body}");
        assert_eq!(body.matches(&escape(HOSTILE)).count(), 2);
    }

    #[tokio::test]
    async fn login_without_error_is_200_with_the_hidden_request() {
        let (status, body) = text(login(&Login {
            action: "/authorize",
            client_id: "app",
            scope: "openid email",
            sealed: "abc.def",
            login_hint: "",
            error: None,
        }))
        .await;
        assert_eq!(status, 200);
        assert!(body.contains("name=\"request\" value=\"abc.def\""));
        assert!(body.contains("action=\"/authorize\""));
        assert!(!body.contains("role=\"alert\""));
    }
}
