//! `[pages]` and the `[branding]` tables: where a host's templates and message catalogs are,
//! and the name, logo, colour and footer links of the root, of an organization and of an
//! application. Validated when the configuration is loaded.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::config::ConfigError;

/// `[pages]`: a host's own templates and message catalogs, replacing or extending the built-in
/// ones (see docs/pages.md).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct PagesConfig {
    /// A directory of templates (`login.html`, `consent.html`, `base.html`, `style.css`...):
    /// each file named like a built-in template replaces it, other `.html` files can be
    /// included by them. Every template is parsed and rendered once when the configuration
    /// is loaded.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub templates_dir: Option<PathBuf>,
    /// A directory of message catalogs, `<language>.toml` files of `key = "text"`: keys
    /// override the built-in catalog of that language, a new language falls back to English
    /// for the keys it does not have.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub locales_dir: Option<PathBuf>,
}

impl PagesConfig {
    /// The built-in templates and catalogs.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the template directory.
    pub fn with_templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates_dir = Some(dir.into());
        self
    }

    /// Sets the message catalog directory.
    pub fn with_locales_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.locales_dir = Some(dir.into());
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == PagesConfig::default()
    }
}

/// One footer link: `{ label = "Privacy", url = "https://example.com/privacy" }`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct FooterLink {
    /// The link text.
    pub label: String,
    /// Where it goes (`https://`, or `http://` on a loopback host).
    pub url: String,
}

impl FooterLink {
    /// A footer link.
    pub fn new(label: impl Into<String>, url: impl Into<String>) -> Self {
        FooterLink {
            label: label.into(),
            url: url.into(),
        }
    }
}

/// `[branding]`, `[organizations.branding]`, `[clients.branding]`: what the pages show. Each
/// absent field is inherited: an application's from its organization, an organization's from
/// its parent, up to the root's `[branding]`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
#[non_exhaustive]
pub struct BrandingConfig {
    /// The name in the page header (and, for an application, the name the pages give it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The logo's URL (`https://`, or `http://` on a loopback host), shown in the header
    /// with the name as its text alternative; the pages' Content-Security-Policy allows
    /// exactly this image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub logo_url: Option<String>,
    /// The primary colour, `#rgb` or `#rrggbb`: buttons, links and focus rings. Text on it is
    /// white or near-black, whichever contrasts more (WCAG 2.1 §1.4.3); links use it only
    /// when it contrasts 4.5:1 with white.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub primary_color: Option<String>,
    /// A link back to the application (shown as "Back to" and the application's name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub home_url: Option<String>,
    /// Footer links (privacy policy, terms, help); a non-empty list replaces the inherited one.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub footer_links: Vec<FooterLink>,
}

impl BrandingConfig {
    /// Nothing set: everything inherited.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets the name.
    pub fn with_name(mut self, name: impl Into<String>) -> Self {
        self.name = Some(name.into());
        self
    }

    /// Sets the logo URL.
    pub fn with_logo_url(mut self, url: impl Into<String>) -> Self {
        self.logo_url = Some(url.into());
        self
    }

    /// Sets the primary colour (`#rgb` or `#rrggbb`).
    pub fn with_primary_color(mut self, color: impl Into<String>) -> Self {
        self.primary_color = Some(color.into());
        self
    }

    /// Sets the link back to the application.
    pub fn with_home_url(mut self, url: impl Into<String>) -> Self {
        self.home_url = Some(url.into());
        self
    }

    /// Adds a footer link.
    pub fn with_footer_link(mut self, link: FooterLink) -> Self {
        self.footer_links.push(link);
        self
    }

    pub(crate) fn is_default(&self) -> bool {
        *self == BrandingConfig::default()
    }

    /// `self`'s fields where set, else `parent`'s.
    pub(crate) fn over(&self, parent: &BrandingConfig) -> BrandingConfig {
        BrandingConfig {
            name: self.name.clone().or_else(|| parent.name.clone()),
            logo_url: self.logo_url.clone().or_else(|| parent.logo_url.clone()),
            primary_color: self
                .primary_color
                .clone()
                .or_else(|| parent.primary_color.clone()),
            home_url: self.home_url.clone().or_else(|| parent.home_url.clone()),
            footer_links: if self.footer_links.is_empty() {
                parent.footer_links.clone()
            } else {
                self.footer_links.clone()
            },
        }
    }

    /// Checks every field; `at` names the table in the error (`branding`,
    /// `organizations.branding`...).
    pub(crate) fn validate(&self, at: &str) -> Result<(), ConfigError> {
        let bad = |field: &str, why: &str| {
            Err(ConfigError::Pages {
                reason: format!("{at}.{field}: {why}"),
            })
        };
        if let Some(name) = &self.name {
            if name.trim().is_empty() || name.chars().count() > 100 {
                return bad("name", "must be 1 to 100 characters");
            }
        }
        if let Some(c) = &self.primary_color {
            if parse_color(c).is_none() {
                return bad("primary_color", "must be #rgb or #rrggbb");
            }
        }
        for (field, url) in [("logo_url", &self.logo_url), ("home_url", &self.home_url)] {
            if let Some(u) = url {
                if !web_url(u) {
                    return bad(field, "must be an https URL (http only on a loopback host)");
                }
            }
        }
        for l in &self.footer_links {
            if l.label.trim().is_empty() || l.label.chars().count() > 100 {
                return bad("footer_links.label", "must be 1 to 100 characters");
            }
            if !web_url(&l.url) {
                return bad(
                    "footer_links.url",
                    "must be an https URL (http only on a loopback host)",
                );
            }
        }
        Ok(())
    }
}

/// `#rgb` or `#rrggbb` as its three channels.
pub(crate) fn parse_color(c: &str) -> Option<[u8; 3]> {
    let hex = c.strip_prefix('#')?;
    if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |s: &str| u8::from_str_radix(s, 16).ok();
    match hex.len() {
        3 => {
            let mut out = [0u8; 3];
            for (i, ch) in hex.chars().enumerate() {
                let v = channel(&ch.to_string())?;
                out[i] = v * 17;
            }
            Some(out)
        }
        6 => Some([
            channel(&hex[0..2])?,
            channel(&hex[2..4])?,
            channel(&hex[4..6])?,
        ]),
        _ => None,
    }
}

/// An absolute `https` URL, or `http` on a loopback host (development), without spaces,
/// quotes or angle brackets (it goes into an attribute and the Content-Security-Policy).
pub(crate) fn web_url(u: &str) -> bool {
    if u.len() > 2048
        || u.chars().any(|c| {
            c.is_whitespace() || c.is_control() || matches!(c, '"' | '\'' | '<' | '>' | ';' | ',')
        })
    {
        return false;
    }
    let host_of = |rest: &str| {
        let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = authority.rsplit('@').next().unwrap_or("");
        let host = if host.starts_with('[') {
            host.split(']')
                .next()
                .map(|h| format!("{h}]"))
                .unwrap_or_default()
        } else {
            host.split(':').next().unwrap_or("").to_owned()
        };
        host
    };
    if let Some(rest) = u.strip_prefix("https://") {
        return !host_of(rest).is_empty();
    }
    if let Some(rest) = u.strip_prefix("http://") {
        return matches!(host_of(rest).as_str(), "localhost" | "127.0.0.1" | "[::1]");
    }
    false
}
