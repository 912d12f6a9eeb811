//! Token exchange (RFC 8693) in `idforge serve`: `[[trusted_issuers]]` become oauth-core
//! [`TrustedIssuer`]s (at a self-issuing organization's issuer, its inherited ones), users
//! are associated through the memory user store (at an organization's issuer, only its
//! members), and `jwks_uri` is
//! fetched with hyper's HTTP/1 client (plain `http://`, 5 s timeout, 1 MiB limit). The grant
//! itself is oauth-core's, served at the token endpoint.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use http_body_util::{BodyExt, Empty, Limited};
use hyper::body::Bytes;
use hyper_util::rt::TokioIo;
use idforge_jose::JwkSet;
use idforge_oauth_core::token_exchange::TrustedIssuer;
use idforge_oauth_core::{Error, JwksFetcher, TokenExchangeGrant, UserLookup};

use crate::config::{ConfigError, ServeConfig, TrustedIssuerConfig};
use crate::ServeError;

/// Largest JWK Set fetched.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

/// Time allowed for one fetch.
const FETCH_TIMEOUT: Duration = Duration::from_secs(5);

/// The oauth-core issuer of one `[[trusted_issuers]]` entry, or what is wrong with it.
pub(crate) fn trusted_issuer(c: &TrustedIssuerConfig) -> Result<TrustedIssuer, ConfigError> {
    let bad = |reason: &str| ConfigError::TrustedIssuer {
        issuer: c.issuer.clone(),
        reason: reason.to_owned(),
    };
    let issuer = match (&c.jwks, &c.jwks_uri) {
        (Some(jwks), None) => {
            let set = JwkSet::from_json(jwks).map_err(|e| bad(&format!("jwks: {e}")))?;
            TrustedIssuer::with_jwks(c.issuer.clone(), &set).map_err(|e| bad(&e.to_string()))?
        }
        (None, Some(uri)) => {
            if parse_http_uri(uri).is_none() {
                return Err(bad("jwks_uri must be an http:// URL (no TLS client here)"));
            }
            TrustedIssuer::with_jwks_uri(c.issuer.clone(), uri.clone())
                .map_err(|e| bad(&e.to_string()))?
        }
        _ => return Err(bad("exactly one of jwks and jwks_uri is required")),
    };
    let issuer = issuer.with_audience(c.audience.clone());
    if c.lookup_attributes.len() > 2 {
        return Err(bad("lookup_attributes has at most 2 names"));
    }
    if c.implicit_association {
        if c.lookup_attributes.is_empty() {
            return Err(bad(
                "implicit_association needs lookup_attributes (or set implicit_association = false)",
            ));
        }
        issuer
            .with_lookup_attributes(c.lookup_attributes.clone())
            .map_err(|e| bad(&e.to_string()))
    } else {
        Ok(issuer)
    }
}

/// The token-exchange grant of the configuration.
pub(crate) fn grant(
    config: &ServeConfig,
    users: Arc<dyn UserLookup>,
) -> Result<TokenExchangeGrant, ServeError> {
    let mut grant = TokenExchangeGrant::new()
        .with_user_lookup(users)
        .with_jwks_fetcher(Arc::new(HttpFetcher));
    for t in &config.trusted_issuers {
        grant = grant.with_trusted_issuer(trusted_issuer(t)?);
    }
    Ok(grant)
}

/// `http://host[:port]/path` → (host, port, authority, path and query).
fn parse_http_uri(uri: &str) -> Option<(String, u16, String, String)> {
    let rest = uri.strip_prefix("http://")?;
    let (authority, path) = match rest.find('/') {
        Some(i) => (&rest[..i], &rest[i..]),
        None => (rest, "/"),
    };
    if authority.is_empty() || authority.contains('@') || path.contains('#') {
        return None;
    }
    let (host, port) = match authority.rsplit_once(':') {
        Some((h, p)) if !h.ends_with(']') || h.starts_with('[') => (h, p.parse().ok()?),
        _ => (authority, 80),
    };
    Some((
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_owned(),
        port,
        authority.to_owned(),
        path.to_owned(),
    ))
}

/// The [`JwksFetcher`] of `idforge serve`: one HTTP/1.1 GET per fetch.
struct HttpFetcher;

async fn get(uri: &str) -> Result<Bytes, String> {
    let (host, port, authority, path) = parse_http_uri(uri).ok_or("not an http:// URL")?;
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|e| e.to_string())?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|e| e.to_string())?;
    let driver = tokio::spawn(conn);
    let req = hyper::Request::get(path)
        .header(hyper::header::HOST, authority)
        .header(
            hyper::header::ACCEPT,
            "application/jwk-set+json, application/json",
        )
        .body(Empty::<Bytes>::new())
        .map_err(|e| e.to_string())?;
    let resp = sender.send_request(req).await.map_err(|e| e.to_string())?;
    if !resp.status().is_success() {
        driver.abort();
        return Err(format!("status {}", resp.status()));
    }
    let body = Limited::new(resp.into_body(), MAX_JWKS_BYTES)
        .collect()
        .await
        .map_err(|e| e.to_string())?
        .to_bytes();
    driver.abort();
    Ok(body)
}

#[async_trait]
impl JwksFetcher for HttpFetcher {
    async fn fetch(&self, jwks_uri: &str) -> Result<JwkSet, Error> {
        let body = tokio::time::timeout(FETCH_TIMEOUT, get(jwks_uri))
            .await
            .map_err(|_| Error::Internal(format!("jwks_uri {jwks_uri}: timeout")))?
            .map_err(|e| Error::Internal(format!("jwks_uri {jwks_uri}: {e}")))?;
        let text = std::str::from_utf8(&body)
            .map_err(|_| Error::Internal(format!("jwks_uri {jwks_uri}: not UTF-8")))?;
        JwkSet::from_json(text).map_err(|e| Error::Internal(format!("jwks_uri {jwks_uri}: {e}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http_uris_parse() {
        assert_eq!(
            parse_http_uri("http://127.0.0.1:8081/jwks?x=1"),
            Some((
                "127.0.0.1".into(),
                8081,
                "127.0.0.1:8081".into(),
                "/jwks?x=1".into()
            ))
        );
        assert_eq!(parse_http_uri("http://idp.example").unwrap().3, "/");
        assert_eq!(parse_http_uri("http://[::1]:9/k").unwrap().0, "::1");
        assert!(parse_http_uri("https://idp.example/jwks").is_none());
        assert!(parse_http_uri("http://u@idp.example/").is_none());
        assert!(parse_http_uri("http:///x").is_none());
    }

    #[tokio::test]
    async fn fetches_a_jwk_set_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let set = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;
        let app =
            axum::Router::new().route("/jwks", axum::routing::get(move || async move { set }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let got = HttpFetcher
            .fetch(&format!("http://{addr}/jwks"))
            .await
            .unwrap();
        assert_eq!(got.keys[0].kid.as_deref(), Some("k1"));
        let e = HttpFetcher
            .fetch(&format!("http://{addr}/missing"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "server_error");
    }
}
