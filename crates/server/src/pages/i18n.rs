//! Message catalogs and language negotiation: `ui_locales` (OpenID Connect Core 1.0 §3.1.2.1,
//! space-separated BCP 47 tags in order of preference) first, then `Accept-Language` (RFC 9110
//! §12.5.4, quality values), falling back to English.

use std::collections::BTreeMap;
use std::path::Path;

use crate::config::ConfigError;

/// The built-in catalogs: English (the fallback, complete) and French.
const BUILT_IN: [(&str, &str); 2] = [
    ("en", include_str!("../../templates/locales/en.toml")),
    ("fr", include_str!("../../templates/locales/fr.toml")),
];

/// The fallback language; its catalog has every key the built-in templates use.
pub(crate) const FALLBACK: &str = "en";

/// At most this many `Accept-Language` entries are considered (bad input never costs more).
const MAX_RANGES: usize = 32;

/// Every language's messages, each complete (English fills the keys a language lacks).
#[derive(Debug, Clone)]
pub(crate) struct Catalogs {
    langs: BTreeMap<String, BTreeMap<String, String>>,
}

fn parse(lang: &str, text: &str) -> Result<BTreeMap<String, String>, ConfigError> {
    let table: toml::Table = toml::from_str(text).map_err(|e| ConfigError::Pages {
        reason: format!("catalog {lang}: {e}"),
    })?;
    table
        .into_iter()
        .map(|(k, v)| match v {
            toml::Value::String(s) => Ok((k, s)),
            _ => Err(ConfigError::Pages {
                reason: format!("catalog {lang}: {k}: must be a string"),
            }),
        })
        .collect()
}

/// A language tag as catalogs are named: `en`, `fr`, `pt-BR` (letters, digits, hyphens).
fn valid_tag(tag: &str) -> bool {
    !tag.is_empty()
        && tag.len() <= 35
        && tag
            .split('-')
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
        && tag.as_bytes()[0].is_ascii_alphabetic()
}

impl Catalogs {
    /// The built-in catalogs, extended by `<lang>.toml` files in `dir`.
    pub(crate) fn load(dir: Option<&Path>) -> Result<Catalogs, ConfigError> {
        let mut raw: BTreeMap<String, BTreeMap<String, String>> = BTreeMap::new();
        for (lang, text) in BUILT_IN {
            raw.insert(lang.to_owned(), parse(lang, text)?);
        }
        if let Some(dir) = dir {
            let entries = std::fs::read_dir(dir).map_err(|e| ConfigError::Pages {
                reason: format!("pages.locales_dir {}: {e}", dir.display()),
            })?;
            for entry in entries {
                let path = entry
                    .map_err(|e| ConfigError::Pages {
                        reason: format!("pages.locales_dir: {e}"),
                    })?
                    .path();
                if path.extension().and_then(|e| e.to_str()) != Some("toml") {
                    continue;
                }
                let lang = path
                    .file_stem()
                    .and_then(|s| s.to_str())
                    .unwrap_or("")
                    .to_owned();
                if !valid_tag(&lang) {
                    return Err(ConfigError::Pages {
                        reason: format!(
                            "pages.locales_dir: {}: the file name must be a language tag",
                            path.display()
                        ),
                    });
                }
                let text = std::fs::read_to_string(&path).map_err(|e| ConfigError::Pages {
                    reason: format!("pages.locales_dir: {}: {e}", path.display()),
                })?;
                let lang = lang.to_ascii_lowercase();
                let extra = parse(&lang, &text)?;
                raw.entry(lang).or_default().extend(extra);
            }
        }
        let base = raw.get(FALLBACK).cloned().unwrap_or_default();
        let langs = raw
            .into_iter()
            .map(|(lang, msgs)| {
                let mut full = base.clone();
                full.extend(msgs);
                (lang, full)
            })
            .collect();
        Ok(Catalogs { langs })
    }

    /// The messages of `lang` (a key of [`Catalogs::negotiate`]'s answer).
    pub(crate) fn messages(&self, lang: &str) -> &BTreeMap<String, String> {
        self.langs
            .get(lang)
            .or_else(|| self.langs.get(FALLBACK))
            .unwrap_or_else(|| unreachable_empty())
    }

    /// One message, or the key itself when no catalog has it (a host template's typo shows,
    /// it does not fail the page).
    pub(crate) fn text<'a>(&'a self, lang: &str, key: &'a str) -> &'a str {
        self.messages(lang)
            .get(key)
            .map(String::as_str)
            .unwrap_or(key)
    }

    /// Whether a catalog has `key` (in `lang` or English).
    pub(crate) fn has(&self, lang: &str, key: &str) -> bool {
        self.messages(lang).contains_key(key)
    }

    /// The languages shipped or added.
    pub(crate) fn languages(&self) -> impl Iterator<Item = &str> {
        self.langs.keys().map(String::as_str)
    }

    /// The best catalog for the user: the first `ui_locales` tag with a catalog (exact, then
    /// its primary language), else the `Accept-Language` range of highest quality with one,
    /// else English.
    pub(crate) fn negotiate(&self, ui_locales: &[String], accept_language: Option<&str>) -> String {
        for tag in ui_locales.iter().take(MAX_RANGES) {
            if let Some(l) = self.find(tag) {
                return l;
            }
        }
        if let Some(header) = accept_language {
            let mut ranges: Vec<(u16, usize, &str)> = header
                .split(',')
                .take(MAX_RANGES)
                .enumerate()
                .filter_map(|(i, item)| {
                    let mut parts = item.split(';');
                    let tag = parts.next()?.trim();
                    let mut q = 1000u16;
                    for p in parts {
                        if let Some(v) = p.trim().strip_prefix("q=") {
                            q = parse_q(v)?;
                        }
                    }
                    (q > 0 && !tag.is_empty()).then_some((q, i, tag))
                })
                .collect();
            // Highest quality first; equal qualities keep the header's order.
            ranges.sort_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
            for (_, _, tag) in ranges {
                if tag == "*" {
                    break;
                }
                if let Some(l) = self.find(tag) {
                    return l;
                }
            }
        }
        FALLBACK.to_owned()
    }

    fn find(&self, tag: &str) -> Option<String> {
        if !valid_tag(tag) {
            return None;
        }
        let tag = tag.to_ascii_lowercase();
        if self.langs.contains_key(&tag) {
            return Some(tag);
        }
        let primary = tag.split('-').next()?;
        self.langs.contains_key(primary).then(|| primary.to_owned())
    }
}

/// RFC 9110 §12.4.2 `qvalue`: `0`, `1`, `0.xxx`, `1.000`, as thousandths.
fn parse_q(v: &str) -> Option<u16> {
    let (int, frac) = v.split_once('.').unwrap_or((v, ""));
    if frac.len() > 3 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let frac_value = format!("{frac:0<3}").parse::<u16>().ok()?;
    match int {
        "0" => Some(frac_value),
        "1" if frac_value == 0 => Some(1000),
        _ => None,
    }
}

fn unreachable_empty() -> &'static BTreeMap<String, String> {
    static EMPTY: BTreeMap<String, String> = BTreeMap::new();
    &EMPTY
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cats() -> Catalogs {
        Catalogs::load(None).unwrap()
    }

    #[test]
    fn ui_locales_come_first_then_accept_language_then_english() {
        let c = cats();
        let ui = |s: &str| s.split(' ').map(str::to_owned).collect::<Vec<_>>();
        assert_eq!(c.negotiate(&ui("de fr-CA"), Some("en")), "fr");
        assert_eq!(c.negotiate(&[], Some("de, fr;q=0.5, en;q=0.4")), "fr");
        assert_eq!(c.negotiate(&[], Some("en;q=0.9, fr")), "fr");
        assert_eq!(c.negotiate(&[], Some("fr;q=0, en;q=0.1")), "en");
        assert_eq!(c.negotiate(&[], Some("de")), "en");
        assert_eq!(
            c.negotiate(&[], Some("fr;q=2")),
            "en",
            "an invalid qvalue is skipped"
        );
        assert_eq!(c.negotiate(&ui("x<script>"), None), "en");
        assert_eq!(c.negotiate(&[], None), "en");
    }

    #[test]
    fn french_is_complete_and_falls_back_per_key() {
        let c = cats();
        let en = c.messages("en");
        let fr = c.messages("fr");
        assert_eq!(en.len(), fr.len());
        assert_eq!(c.text("fr", "sign_in"), "Se connecter");
        assert_eq!(c.text("fr", "no_such_key"), "no_such_key");
        // Every built-in French key exists in English (no orphan).
        let raw_fr = parse("fr", BUILT_IN[1].1).unwrap();
        let raw_en = parse("en", BUILT_IN[0].1).unwrap();
        for k in raw_fr.keys() {
            assert!(raw_en.contains_key(k), "{k}");
        }
        for k in raw_en.keys() {
            assert!(raw_fr.contains_key(k), "French lacks {k}");
        }
    }

    #[test]
    fn a_host_catalog_extends_and_adds_languages() {
        let dir = std::env::temp_dir().join(format!("idforge-locales-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("de.toml"), "sign_in = \"Anmelden\"\n").unwrap();
        std::fs::write(dir.join("fr.toml"), "sign_in = \"Connexion\"\n").unwrap();
        let c = Catalogs::load(Some(&dir)).unwrap();
        assert_eq!(c.text("de", "sign_in"), "Anmelden");
        assert_eq!(
            c.text("de", "password"),
            "Password",
            "falls back to English"
        );
        assert_eq!(c.text("fr", "sign_in"), "Connexion");
        assert_eq!(c.negotiate(&[], Some("de-AT")), "de");
        std::fs::write(dir.join("es.toml"), "sign_in = 3\n").unwrap();
        assert!(Catalogs::load(Some(&dir)).is_err());
        std::fs::remove_file(dir.join("es.toml")).unwrap();
        std::fs::write(dir.join("b@d.toml"), "").unwrap();
        assert!(Catalogs::load(Some(&dir)).is_err());
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn hostile_headers_never_panic_and_stay_bounded() {
        let c = cats();
        let long = "fr;q=0.5,".repeat(10_000);
        let inputs = [
            "",
            ",,,,",
            ";;;",
            "q=1",
            "*",
            "fr;q=",
            "fr;q=.5",
            "fr;q=0.",
            "é;q=1",
            "fr\u{0}",
            "-fr",
            "fr-",
            "fr--ca",
            "1fr",
            "fr;q=0.5;q=1.5",
            &long,
        ];
        for h in inputs {
            let l = c.negotiate(&[h.to_owned()], Some(h));
            assert!(l == "en" || l == "fr", "{h:?} -> {l}");
        }
        // Only the first 32 ranges count: French past them is not seen.
        let late = format!("{}fr", "de,".repeat(40));
        assert_eq!(c.negotiate(&[], Some(&late)), "en");
    }

    #[test]
    fn qvalues_parse_per_rfc_9110() {
        assert_eq!(parse_q("1"), Some(1000));
        assert_eq!(parse_q("0.5"), Some(500));
        assert_eq!(parse_q("0.125"), Some(125));
        assert_eq!(parse_q("1.000"), Some(1000));
        assert_eq!(parse_q("1.5"), None);
        assert_eq!(parse_q("0.1234"), None);
        assert_eq!(parse_q("x"), None);
    }
}
