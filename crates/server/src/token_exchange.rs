//! Token exchange (RFC 8693) in `idforge serve`: `[[trusted_issuers]]` become oauth-core
//! [`TrustedIssuer`]s (at a self-issuing organization's issuer, its inherited ones), users
//! are associated through the memory user store (at an organization's issuer, only its
//! members), and `jwks_uri` is
//! fetched through the server's outbound client ([`Outbound`]: `http://` or `https://` with the
//! system's trust roots and `[outbound] ca_file`, `[outbound] timeout_seconds`, 1 MiB limit).
//! The grant itself is oauth-core's, served at the token endpoint.

use std::sync::Arc;

use async_trait::async_trait;
use idforge_jose::JwkSet;
use idforge_oauth_core::token_exchange::TrustedIssuer;
use idforge_oauth_core::{Error, JwksFetcher, TokenExchangeGrant, UserLookup};

use crate::config::{ConfigError, ServeConfig, TrustedIssuerConfig};
use crate::outbound::Outbound;
use crate::ServeError;

/// Largest JWK Set fetched.
const MAX_JWKS_BYTES: usize = 1024 * 1024;

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
            if !fetchable(uri) {
                return Err(bad(
                    "jwks_uri must be an http:// or https:// URL with a host and no user information",
                ));
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
    outbound: &Outbound,
) -> Result<TokenExchangeGrant, ServeError> {
    let mut grant = TokenExchangeGrant::new()
        .with_user_lookup(users)
        .with_jwks_fetcher(Arc::new(HttpFetcher {
            outbound: outbound.clone(),
        }));
    for t in &config.trusted_issuers {
        grant = grant.with_trusted_issuer(trusted_issuer(t)?);
    }
    Ok(grant)
}

/// Whether the outbound client can GET `uri` (checked at load, so a typo is a config error,
/// not a failed exchange later).
fn fetchable(uri: &str) -> bool {
    crate::outbound::target(uri).is_ok()
}

/// The [`JwksFetcher`] of `idforge serve`: one GET through the server's outbound client.
struct HttpFetcher {
    outbound: Outbound,
}

#[async_trait]
impl JwksFetcher for HttpFetcher {
    async fn fetch(&self, jwks_uri: &str) -> Result<JwkSet, Error> {
        let get = self.outbound.get(
            jwks_uri,
            "application/jwk-set+json, application/json",
            MAX_JWKS_BYTES,
        );
        let body = tokio::time::timeout(self.outbound.timeout(), get)
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
    use crate::outbound::test_tls::{serve_body_on, Ca};
    use crate::outbound::OutboundConfig;

    const SET: &str = r#"{"keys":[{"kty":"EC","crv":"P-256","kid":"k1","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}]}"#;

    #[test]
    fn jwks_uris_are_checked_at_load() {
        for ok in [
            "http://127.0.0.1:8081/jwks?x=1",
            "http://idp.example",
            "http://[::1]:9/k",
            "https://idp.example/jwks",
        ] {
            assert!(fetchable(ok), "{ok}");
        }
        for bad in [
            "http://u@idp.example/",
            "http:///x",
            "ftp://idp.example/jwks",
            "/jwks",
            "not a url",
        ] {
            assert!(!fetchable(bad), "{bad}");
        }
    }

    fn fetcher(config: &OutboundConfig) -> HttpFetcher {
        HttpFetcher {
            outbound: Outbound::new(config).unwrap(),
        }
    }

    #[tokio::test]
    async fn fetches_a_jwk_set_over_http() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let app =
            axum::Router::new().route("/jwks", axum::routing::get(move || async move { SET }));
        tokio::spawn(async move { axum::serve(listener, app).await });
        let fetcher = fetcher(&OutboundConfig::new());
        let got = fetcher.fetch(&format!("http://{addr}/jwks")).await.unwrap();
        assert_eq!(got.keys[0].kid.as_deref(), Some("k1"));
        let e = fetcher
            .fetch(&format!("http://{addr}/missing"))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "server_error");
    }

    /// A trusted issuer's `jwks_uri` over https: fetched with `[outbound] ca_file`, refused
    /// (as a failed fetch, not a panic) when its certificate does not verify.
    #[tokio::test]
    async fn fetches_a_jwk_set_over_https_and_refuses_an_untrusted_certificate() {
        let ca = Ca::new("trusted issuers");
        let ca_file = ca.pem_file();
        let (cert, key) = ca.leaf(&["localhost"], &["127.0.0.1"]);
        let (port, _seen) = serve_body_on("127.0.0.1:0", cert, key, 200, SET).await;
        let url = format!("https://localhost:{port}/jwks");
        let got = fetcher(&OutboundConfig::new().with_ca_file(&ca_file))
            .fetch(&url)
            .await
            .unwrap();
        assert_eq!(got.keys[0].kid.as_deref(), Some("k1"));
        let e = fetcher(&OutboundConfig::new())
            .fetch(&url)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "server_error");
        assert!(
            format!("{e:?}").contains("certificate verify failed"),
            "{e:?}"
        );
        let _ = std::fs::remove_file(ca_file);
    }
}
