//! The hosted pages: login, consent, error, device code entry and result, CIBA approval,
//! logout confirmation and the logged-out page with its front-channel iframes, and the
//! form_post response. Rendered from [minijinja] templates (the built-in set is embedded in
//! the binary; `[pages] templates_dir` replaces any of them) with HTML auto-escaping through
//! oauth-core's escaper, localized ([`i18n`]), branded per root, organization and application
//! ([`branding`]), and served with a strict Content-Security-Policy ([`csp`]). Why minijinja
//! and not a compile-time engine: docs/decisions/0015-page-templates.md.

mod branding;
pub(crate) mod config;
mod csp;
mod i18n;
mod view;

use std::collections::BTreeMap;
use std::sync::{Arc, OnceLock};

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use minijinja::value::Value;
use minijinja::{context, AutoEscape, Environment};

use crate::config::{ConfigError, ServeConfig};
use branding::Brands;
use i18n::Catalogs;

pub use config::{BrandingConfig, FooterLink, PagesConfig};
pub(crate) use view::{Consent, DeviceDone, DevicePage, Login, LoginNotice};

/// Escapes text for HTML element content and (double- or single-quoted) attribute values:
/// oauth-core's escaper, the one its own form_post and error pages use, and the templates'
/// auto-escaper.
pub(crate) fn escape(s: &str) -> String {
    idforge_oauth_core::endpoint::authorize::html_escape(s)
}

/// The built-in templates, by name.
const TEMPLATES: [(&str, &str); 14] = [
    ("base.html", include_str!("../../templates/base.html")),
    ("style.css", include_str!("../../templates/style.css")),
    ("scopes.html", include_str!("../../templates/scopes.html")),
    ("login.html", include_str!("../../templates/login.html")),
    ("consent.html", include_str!("../../templates/consent.html")),
    ("error.html", include_str!("../../templates/error.html")),
    ("device.html", include_str!("../../templates/device.html")),
    (
        "device_done.html",
        include_str!("../../templates/device_done.html"),
    ),
    (
        "ciba_approval.html",
        include_str!("../../templates/ciba_approval.html"),
    ),
    (
        "ciba_done.html",
        include_str!("../../templates/ciba_done.html"),
    ),
    (
        "logout_confirm.html",
        include_str!("../../templates/logout_confirm.html"),
    ),
    (
        "logout_cancelled.html",
        include_str!("../../templates/logout_cancelled.html"),
    ),
    (
        "logged_out.html",
        include_str!("../../templates/logged_out.html"),
    ),
    (
        "form_post.html",
        include_str!("../../templates/form_post.html"),
    ),
];

/// The largest template file read from `templates_dir`.
const MAX_TEMPLATE_BYTES: u64 = 256 * 1024;

/// The form_post page's only script (OAuth 2.0 Form Post Response Mode §2 auto-submission),
/// allowed by its hash.
const FORM_POST_SCRIPT: &str = "document.forms[0].submit();";

/// Who a page is for: the language preferences and the application it is about.
#[derive(Debug, Clone, Copy, Default)]
pub(crate) struct Audience<'a> {
    /// `ui_locales` of the request, in order of preference.
    pub(crate) ui_locales: &'a [String],
    /// The `Accept-Language` header.
    pub(crate) accept_language: Option<&'a str>,
    /// The application (`client_id`) the page is about.
    pub(crate) client_id: Option<&'a str>,
    /// A name the protocol gives the application (the device flow's client name).
    pub(crate) client_name: Option<&'a str>,
}

impl<'a> Audience<'a> {
    /// The language preferences of a browser request.
    pub(crate) fn from_headers(headers: &'a HeaderMap) -> Self {
        Audience {
            accept_language: headers
                .get(header::ACCEPT_LANGUAGE)
                .and_then(|v| v.to_str().ok()),
            ..Audience::default()
        }
    }

    /// The page is about `client_id`.
    pub(crate) fn client(mut self, client_id: &'a str) -> Self {
        self.client_id = Some(client_id);
        self
    }

    /// With the request's `ui_locales`.
    pub(crate) fn ui_locales(mut self, ui_locales: &'a [String]) -> Self {
        self.ui_locales = ui_locales;
        self
    }
}

/// The templates, catalogs and branding of one issuer's pages.
pub(crate) struct Pages {
    env: Environment<'static>,
    catalogs: Catalogs,
    brands: Brands,
}

impl std::fmt::Debug for Pages {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pages").finish_non_exhaustive()
    }
}

/// What a rendering adds to the page's Content-Security-Policy.
#[derive(Debug, Default)]
struct Extra {
    script: Option<&'static str>,
    frames: Vec<String>,
}

impl Pages {
    /// The built-in pages with the configured templates, catalogs and branding; every
    /// template parsed and rendered once with sample values (a broken override is a
    /// configuration error, not a broken page later).
    pub(crate) fn from_config(config: &ServeConfig) -> Result<Pages, ConfigError> {
        let mut env = Environment::new();
        env.set_auto_escape_callback(|name| {
            if name.ends_with(".html") {
                AutoEscape::Html
            } else {
                AutoEscape::None
            }
        });
        env.set_formatter(|out, state, value| {
            if state.auto_escape() == AutoEscape::Html
                && !value.is_safe()
                && !value.is_undefined()
                && !value.is_none()
            {
                out.write_str(&escape(&value.to_string()))
                    .map_err(|_| minijinja::Error::new(minijinja::ErrorKind::WriteFailure, "write"))
            } else {
                minijinja::escape_formatter(out, state, value)
            }
        });
        for (name, source) in TEMPLATES {
            env.add_template(name, source).map_err(template_error)?;
        }
        if let Some(dir) = &config.pages.templates_dir {
            for (name, source) in read_templates(dir)? {
                env.add_template_owned(name, source)
                    .map_err(template_error)?;
            }
        }
        let pages = Pages {
            env,
            catalogs: Catalogs::load(config.pages.locales_dir.as_deref())?,
            brands: Brands::from_config(config)?,
        };
        view::check_all(&pages)?;
        Ok(pages)
    }

    /// The built-in pages, unbranded (for the few error pages shown before an issuer is
    /// known).
    pub(crate) fn built_in() -> Arc<Pages> {
        static BUILT_IN: OnceLock<Arc<Pages>> = OnceLock::new();
        BUILT_IN
            .get_or_init(|| {
                Arc::new(
                    Pages::from_config(&ServeConfig::default())
                        .unwrap_or_else(|e| panic!("the built-in templates are valid: {e}")),
                )
            })
            .clone()
    }

    /// Renders template `name` for `who` with the page's own values `page`.
    fn render(
        &self,
        name: &str,
        who: &Audience<'_>,
        status: StatusCode,
        page: Value,
        extra: Extra,
    ) -> Response {
        match self.render_text(name, who, page, &extra) {
            Ok((body, csp)) => html(status, body, &csp),
            // A template that fails on these values (a host's override): the built-in error
            // page, never the template engine's message.
            Err(_) if name != "error.html" => self.error(who, 500, "server_error", ""),
            Err(_) => html(
                StatusCode::INTERNAL_SERVER_ERROR,
                "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>Error</title></head><body><main><h1>The service had a problem</h1></main></body></html>".to_owned(),
                &csp::Policy::default().header(),
            ),
        }
    }

    /// The page's HTML and its Content-Security-Policy.
    fn render_text(
        &self,
        name: &str,
        who: &Audience<'_>,
        page: Value,
        extra: &Extra,
    ) -> Result<(String, String), minijinja::Error> {
        let lang = self.catalogs.negotiate(who.ui_locales, who.accept_language);
        let brand = self.brands.resolve(who.client_id, who.client_name);
        let style = self.env.get_template("style.css")?.render(context! {
            primary => brand.colors.primary,
            on_primary => brand.colors.on_primary,
            link => brand.colors.link,
        })?;
        let messages: &BTreeMap<String, String> = self.catalogs.messages(&lang);
        let b = &brand.branding;
        let ctx = context! {
            lang => lang,
            t => Value::from_serialize(messages),
            brand => context! {
                name => b.name,
                logo_url => b.logo_url,
                home_url => b.home_url,
                footer_links => Value::from_serialize(&b.footer_links),
            },
            app => brand.app.clone().unwrap_or_else(|| b.name.clone().unwrap_or_default()),
            style => Value::from_safe_string(style.clone()),
            script => extra.script,
            ..page
        };
        let body = self.env.get_template(name)?.render(ctx)?;
        let policy = csp::Policy {
            style: Some(csp::hash(&style)),
            script: extra.script.map(csp::hash),
            image: b.logo_url.clone(),
            frames: extra.frames.clone(),
        };
        Ok((body, policy.header()))
    }

    fn lang(&self, who: &Audience<'_>) -> String {
        self.catalogs.negotiate(who.ui_locales, who.accept_language)
    }

    fn text(&self, lang: &str, key: &str) -> String {
        self.catalogs.text(lang, key).to_owned()
    }
}

/// An HTML page response: never cached, never framed, no referrer, its own CSP.
fn html(status: StatusCode, body: String, csp: &str) -> Response {
    let mut resp = (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
        ],
        body,
    )
        .into_response();
    let h = resp.headers_mut();
    if let Ok(v) = HeaderValue::from_str(csp) {
        h.insert(header::CONTENT_SECURITY_POLICY, v);
    }
    h.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("no-referrer"),
    );
    h.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    resp
}

fn template_error(e: minijinja::Error) -> ConfigError {
    ConfigError::Pages {
        reason: format!("template {}: {e}", e.name().unwrap_or("?")),
    }
}

/// The `.html` and `.css` files of a host's template directory.
fn read_templates(dir: &std::path::Path) -> Result<Vec<(String, String)>, ConfigError> {
    let bad = |what: String| ConfigError::Pages {
        reason: format!("pages.templates_dir {}: {what}", dir.display()),
    };
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| bad(e.to_string()))? {
        let path = entry.map_err(|e| bad(e.to_string()))?.path();
        let Some(name) = path.file_name().and_then(|n| n.to_str()) else {
            continue;
        };
        if !(name.ends_with(".html") || name.ends_with(".css")) || !path.is_file() {
            continue;
        }
        let len = path.metadata().map_err(|e| bad(e.to_string()))?.len();
        if len > MAX_TEMPLATE_BYTES {
            return Err(bad(format!(
                "{name}: larger than {MAX_TEMPLATE_BYTES} bytes"
            )));
        }
        let source = std::fs::read_to_string(&path).map_err(|e| bad(format!("{name}: {e}")))?;
        out.push((name.to_owned(), source));
    }
    out.sort();
    Ok(out)
}

/// The built-in error page (English, unbranded): for the few places that have no issuer's
/// pages at hand (organization discovery before an organization is chosen).
pub(crate) fn error(status: u16, code: &str, description: &str) -> Response {
    Pages::built_in().error(&Audience::default(), status, code, description)
}

/// Checks `[pages]` and the branding tables (part of `ServeConfig::validate`).
pub(crate) fn validate(config: &ServeConfig) -> Result<(), ConfigError> {
    Pages::from_config(config).map(|_| ())
}

#[cfg(test)]
mod tests;
