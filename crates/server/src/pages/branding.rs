//! Which branding a page shows: the application's `[clients.branding]` over its
//! organization's `[organizations.branding]`, over the parent organizations', over the root's
//! `[branding]`; field by field (see [`BrandingConfig::over`]).

use std::collections::HashMap;

use super::config::{parse_color, BrandingConfig};
use crate::config::{ConfigError, ServeConfig};

/// The default primary colour (contrast 6.6:1 with white).
pub(crate) const DEFAULT_PRIMARY: &str = "#0b57d0";
/// The default name in the header.
pub(crate) const DEFAULT_NAME: &str = "idforge";
/// Organizations are at most this deep (a cycle cannot loop the walk).
const MAX_DEPTH: usize = 64;

/// The configured branding tables.
#[derive(Debug, Clone, Default)]
pub(crate) struct Brands {
    root: BrandingConfig,
    /// Organization id -> (parent id, its branding).
    orgs: HashMap<String, (Option<String>, BrandingConfig)>,
    /// Client id -> (organization id, its branding).
    clients: HashMap<String, (Option<String>, BrandingConfig)>,
}

/// A page's branding, every field decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Resolved {
    pub(crate) branding: BrandingConfig,
    /// What the pages call the application: its branding name, else the given display name,
    /// else its `client_id`.
    pub(crate) app: Option<String>,
    pub(crate) colors: Colors,
}

/// The stylesheet's colours, chosen for WCAG 2.1 AA contrast (§1.4.3, 4.5:1 for text).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Colors {
    pub(crate) primary: String,
    /// Text on the primary colour: white or near-black, whichever contrasts more.
    pub(crate) on_primary: String,
    /// Links and focus rings on white: the primary colour if it contrasts 4.5:1, else dark.
    pub(crate) link: String,
}

/// WCAG 2.1 relative luminance.
fn luminance([r, g, b]: [u8; 3]) -> f64 {
    let ch = |c: u8| {
        let c = f64::from(c) / 255.0;
        if c <= 0.03928 {
            c / 12.92
        } else {
            ((c + 0.055) / 1.055).powf(2.4)
        }
    };
    0.2126 * ch(r) + 0.7152 * ch(g) + 0.0722 * ch(b)
}

/// WCAG 2.1 contrast ratio.
pub(crate) fn contrast(a: [u8; 3], b: [u8; 3]) -> f64 {
    let (la, lb) = (luminance(a), luminance(b));
    let (hi, lo) = if la > lb { (la, lb) } else { (lb, la) };
    (hi + 0.05) / (lo + 0.05)
}

const WHITE: [u8; 3] = [255, 255, 255];
const DARK: [u8; 3] = [0x1f, 0x23, 0x28];
const BLACK: [u8; 3] = [0, 0, 0];

impl Colors {
    pub(crate) fn from_primary(primary: Option<&str>) -> Colors {
        let (primary, rgb) = match primary.and_then(|p| parse_color(p).map(|rgb| (p, rgb))) {
            Some((p, rgb)) => (p.to_owned(), rgb),
            None => (
                DEFAULT_PRIMARY.to_owned(),
                parse_color(DEFAULT_PRIMARY).unwrap_or(DARK),
            ),
        };
        // One of white and black always reaches 4.58:1 on any colour.
        let on_primary = if contrast(rgb, WHITE) >= contrast(rgb, BLACK) {
            "#ffffff"
        } else {
            "#000000"
        };
        let link = if contrast(rgb, WHITE) >= 4.5 {
            primary.clone()
        } else {
            "#1f2328".to_owned()
        };
        Colors {
            primary,
            on_primary: on_primary.to_owned(),
            link,
        }
    }
}

impl Brands {
    /// Reads and checks `[branding]`, every `[organizations.branding]` and every
    /// `[clients.branding]`.
    pub(crate) fn from_config(config: &ServeConfig) -> Result<Brands, ConfigError> {
        config.branding.validate("branding")?;
        let mut orgs = HashMap::new();
        for o in &config.organizations {
            o.branding
                .validate(&format!("organizations.{}.branding", o.id))?;
            orgs.insert(o.id.clone(), (o.parent.clone(), o.branding.clone()));
        }
        let mut clients = HashMap::new();
        for c in &config.clients {
            c.branding
                .validate(&format!("clients.{}.branding", c.client_id))?;
            clients.insert(
                c.client_id.clone(),
                (c.organization.clone(), c.branding.clone()),
            );
        }
        Ok(Brands {
            root: config.branding.clone(),
            orgs,
            clients,
        })
    }

    /// The branding of an organization: its own over its ancestors' over the root's.
    fn organization(&self, id: Option<&str>) -> BrandingConfig {
        let mut chain = Vec::new();
        let mut next = id.map(str::to_owned);
        while let Some(id) = next.take() {
            if chain.len() >= MAX_DEPTH {
                break;
            }
            match self.orgs.get(&id) {
                Some((parent, b)) => {
                    chain.push(b);
                    next = parent.clone();
                }
                None => break,
            }
        }
        chain
            .into_iter()
            .rev()
            .fold(self.root.clone(), |acc, b| b.over(&acc))
    }

    /// The branding for a page about `client_id` (`display_name`: a name the protocol gave,
    /// such as the device flow's client name).
    pub(crate) fn resolve(&self, client_id: Option<&str>, display_name: Option<&str>) -> Resolved {
        let (branding, app) = match client_id.and_then(|id| self.clients.get(id).map(|c| (id, c))) {
            Some((id, (org, own))) => {
                let inherited = self.organization(org.as_deref());
                let app = own
                    .name
                    .clone()
                    .or_else(|| display_name.map(str::to_owned))
                    .unwrap_or_else(|| id.to_owned());
                (own.over(&inherited), Some(app))
            }
            None => (
                self.root.clone(),
                display_name.or(client_id).map(str::to_owned),
            ),
        };
        let mut branding = branding;
        if branding.name.is_none() {
            branding.name = Some(DEFAULT_NAME.to_owned());
        }
        let colors = Colors::from_primary(branding.primary_color.as_deref());
        Resolved {
            branding,
            app,
            colors,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::ClientConfig;
    use crate::orgs::OrganizationConfig;
    use crate::pages::config::FooterLink;

    #[test]
    fn contrast_matches_wcag_examples() {
        // Black on white is 21:1, white on white 1:1.
        assert!((contrast([0, 0, 0], WHITE) - 21.0).abs() < 0.01);
        assert!((contrast(WHITE, WHITE) - 1.0).abs() < 0.01);
        let default = parse_color(DEFAULT_PRIMARY).unwrap();
        assert!(contrast(default, WHITE) >= 4.5);
    }

    #[test]
    fn text_on_a_light_primary_is_dark_and_links_stay_readable() {
        let c = Colors::from_primary(Some("#ffd700"));
        assert_eq!(c.on_primary, "#000000");
        assert_eq!(c.link, "#1f2328");
        let c = Colors::from_primary(Some("#123"));
        assert_eq!(c.on_primary, "#ffffff");
        assert_eq!(c.link, "#123");
        for p in [
            "#ffd700", "#123", "#0b57d0", "#e11d48", "#16a34a", "#777777",
        ] {
            let c = Colors::from_primary(Some(p));
            let rgb = parse_color(&c.primary).unwrap();
            assert!(
                contrast(rgb, parse_color(&c.on_primary).unwrap()) >= 4.5,
                "{p}"
            );
            assert!(contrast(parse_color(&c.link).unwrap(), WHITE) >= 4.5, "{p}");
        }
    }

    #[test]
    fn clients_inherit_from_organizations_and_the_root() {
        let mut config = ServeConfig {
            branding: BrandingConfig::new()
                .with_name("Acme")
                .with_primary_color("#112233")
                .with_footer_link(FooterLink::new("Privacy", "https://acme.example/privacy")),
            ..ServeConfig::default()
        };
        let mut parent = OrganizationConfig::new("emea", "EMEA", "emea");
        parent.branding = BrandingConfig::new().with_logo_url("https://emea.example/logo.png");
        let mut child = OrganizationConfig::new("fr", "France", "fr").with_parent("emea");
        child.branding = BrandingConfig::new().with_name("Acme France");
        config.organizations = vec![parent, child];
        let mut app = ClientConfig::new("shop");
        app.organization = Some("fr".into());
        app.branding = BrandingConfig::new().with_primary_color("#aa0000");
        config.clients = vec![app, ClientConfig::new("plain")];
        let brands = Brands::from_config(&config).unwrap();

        let r = brands.resolve(Some("shop"), None);
        assert_eq!(r.branding.name.as_deref(), Some("Acme France"));
        assert_eq!(
            r.branding.logo_url.as_deref(),
            Some("https://emea.example/logo.png")
        );
        assert_eq!(r.colors.primary, "#aa0000");
        assert_eq!(r.branding.footer_links.len(), 1);
        assert_eq!(r.app.as_deref(), Some("shop"));

        let r = brands.resolve(Some("plain"), None);
        assert_eq!(r.branding.name.as_deref(), Some("Acme"));
        assert_eq!(r.colors.primary, "#112233");
        let r = brands.resolve(None, None);
        assert_eq!(r.branding.name.as_deref(), Some("Acme"));
        assert_eq!(r.app, None);
        let r = brands.resolve(Some("unknown"), Some("TV"));
        assert_eq!(r.app.as_deref(), Some("TV"));
    }

    #[test]
    fn bad_branding_is_refused_at_load() {
        for b in [
            BrandingConfig::new().with_primary_color("red"),
            BrandingConfig::new().with_primary_color("#12345"),
            BrandingConfig::new().with_logo_url("javascript:alert(1)"),
            BrandingConfig::new().with_logo_url("http://evil.example/logo.png"),
            BrandingConfig::new().with_logo_url("https://a.example/x\" onerror=\"x"),
            BrandingConfig::new().with_name(""),
            BrandingConfig::new().with_footer_link(FooterLink::new("x", "data:text/html,x")),
        ] {
            let config = ServeConfig {
                branding: b.clone(),
                ..ServeConfig::default()
            };
            assert!(Brands::from_config(&config).is_err(), "{b:?}");
        }
        let ok = BrandingConfig::new().with_logo_url("http://localhost:8080/logo.svg");
        assert!(ok.validate("branding").is_ok());
    }
}
