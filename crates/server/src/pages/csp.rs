//! The pages' Content-Security-Policy (CSP Level 3): nothing is allowed by default; the one
//! stylesheet and the form_post script by their SHA-256 hashes (§8.3, no `'unsafe-inline'`),
//! the branding logo by its exact URL, the front-channel logout iframes by their origins
//! (Front-Channel Logout 1.0 §4: the logged-out page frames each RP's `frontchannel_logout_uri`);
//! `frame-ancestors 'none'` keeps every page out of frames (clickjacking), `base-uri 'none'`
//! keeps relative URLs where they are.

use base64::Engine as _;
use idforge_jose::crypto::HashAlg;

/// One page's policy.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(crate) struct Policy {
    /// The inline `<style>`'s hash source (`'sha256-...'`).
    pub(crate) style: Option<String>,
    /// The inline `<script>`'s hash source.
    pub(crate) script: Option<String>,
    /// The logo's URL.
    pub(crate) image: Option<String>,
    /// The framed front-channel logout URIs.
    pub(crate) frames: Vec<String>,
}

/// `'sha256-<base64>'` of an inline element's text (CSP3 §2.3.1 hash-source).
pub(crate) fn hash(text: &str) -> String {
    let digest = HashAlg::Sha256.digest(text.as_bytes());
    format!(
        "'sha256-{}'",
        base64::engine::general_purpose::STANDARD.encode(digest)
    )
}

/// The origin of an `https` or `http` URL as a CSP host-source (`scheme://host[:port]`), if
/// it is one: no characters that would end or split a directive.
pub(crate) fn origin(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    if !matches!(scheme.to_ascii_lowercase().as_str(), "https" | "http") {
        return None;
    }
    let authority = rest.split(['/', '?', '#']).next()?;
    let host_port = authority.rsplit('@').next()?;
    if host_port.is_empty()
        || !host_port
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-' | b':' | b'[' | b']'))
    {
        return None;
    }
    Some(format!("{}://{}", scheme.to_ascii_lowercase(), host_port))
}

/// A URL as a CSP source (exact path; query and fragment are not part of a source, CSP3
/// §6.7.2.9), if it can be one.
fn source(url: &str) -> Option<String> {
    let base = url.split(['?', '#']).next()?;
    let o = origin(base)?;
    let path = &base[base.find("://")? + 3..];
    let path = path.find('/').map(|i| &path[i..]).unwrap_or("");
    path.bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b';' | b',' | b'\'' | b'"'))
        .then(|| format!("{o}{path}"))
}

impl Policy {
    /// The header value.
    pub(crate) fn header(&self) -> String {
        let mut d = vec!["default-src 'none'".to_owned()];
        if let Some(s) = &self.style {
            d.push(format!("style-src {s}"));
        }
        if let Some(s) = &self.script {
            d.push(format!("script-src {s}"));
        }
        if let Some(src) = self.image.as_deref().and_then(source) {
            d.push(format!("img-src {src}"));
        }
        let mut frames: Vec<String> = self.frames.iter().filter_map(|f| origin(f)).collect();
        frames.sort();
        frames.dedup();
        if !frames.is_empty() {
            d.push(format!("frame-src {}", frames.join(" ")));
        }
        d.push("base-uri 'none'".to_owned());
        d.push("frame-ancestors 'none'".to_owned());
        d.join("; ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_is_the_base64_sha256_of_the_text() {
        // CSP3 §2.3.1's example: the hash of `alert('Hello, world.');`.
        assert_eq!(
            hash("alert('Hello, world.');"),
            "'sha256-qznLcsROx4GACP2dm0UCKCzCG+HiZ1guq6ZZDob/Tng='"
        );
    }

    #[test]
    fn the_policy_allows_only_what_the_page_needs() {
        let p = Policy {
            style: Some(hash("a{}")),
            script: None,
            image: Some("https://cdn.example/logo.png?v=2".into()),
            frames: vec![
                "https://rp.example/fc?x=1".into(),
                "https://rp.example/other".into(),
                "javascript:alert(1)".into(),
                "https://bad.example;script-src *".into(),
            ],
        };
        let h = p.header();
        assert!(
            h.starts_with("default-src 'none'; style-src 'sha256-"),
            "{h}"
        );
        assert!(h.contains("img-src https://cdn.example/logo.png;"), "{h}");
        assert!(h.contains("frame-src https://rp.example;"), "{h}");
        assert!(!h.contains("script-src"), "{h}");
        assert!(
            !h.contains("javascript") && !h.contains("bad.example"),
            "{h}"
        );
        assert!(
            h.ends_with("base-uri 'none'; frame-ancestors 'none'"),
            "{h}"
        );
        assert!(!h.contains("unsafe"), "{h}");
    }

    #[test]
    fn origins() {
        assert_eq!(
            origin("https://a.example:8443/x").as_deref(),
            Some("https://a.example:8443")
        );
        assert_eq!(
            origin("http://[::1]:80/").as_deref(),
            Some("http://[::1]:80")
        );
        assert_eq!(origin("ftp://a.example/"), None);
        assert_eq!(origin("https:///x"), None);
        assert_eq!(origin("https://a b/"), None);
    }
}
