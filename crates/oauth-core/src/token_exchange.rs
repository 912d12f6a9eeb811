//! The token exchange grant's model (RFC 8693): token type identifiers, the parsed request,
//! and trusted token issuers (WSO2 IS 7.3) with their keys, accepted algorithms, audiences and
//! account association.

use idforge_jose::{JwkSet, JwsAlgorithm, KeySet};

use crate::error::{Error, Result};
use crate::model::{Params, Scopes};

/// The `grant_type` of token exchange (RFC 8693 §2.1).
pub const TOKEN_EXCHANGE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:token-exchange";

/// Longest subject or actor token looked at.
pub const MAX_EXCHANGED_TOKEN_BYTES: usize = 16 * 1024;

/// Most lookup attributes of a trusted issuer (WSO2 IS 7.3: up to two).
pub const MAX_LOOKUP_ATTRIBUTES: usize = 2;

/// Token type identifiers this provider accepts or issues (RFC 8693 §3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ExchangeTokenType {
    /// `urn:ietf:params:oauth:token-type:access_token`.
    AccessToken,
    /// `urn:ietf:params:oauth:token-type:jwt`.
    Jwt,
    /// `urn:ietf:params:oauth:token-type:id_token`.
    IdToken,
}

impl ExchangeTokenType {
    /// The URI.
    pub fn uri(self) -> &'static str {
        match self {
            ExchangeTokenType::AccessToken => "urn:ietf:params:oauth:token-type:access_token",
            ExchangeTokenType::Jwt => "urn:ietf:params:oauth:token-type:jwt",
            ExchangeTokenType::IdToken => "urn:ietf:params:oauth:token-type:id_token",
        }
    }

    /// The type named by `uri`, if supported.
    pub fn parse(uri: &str) -> Option<Self> {
        [Self::AccessToken, Self::Jwt, Self::IdToken]
            .into_iter()
            .find(|t| t.uri() == uri)
    }
}

/// A token presented for exchange and its declared type.
#[derive(Clone, PartialEq, Eq)]
pub struct PresentedToken {
    /// The token.
    pub token: String,
    /// Its type (`subject_token_type` / `actor_token_type`).
    pub token_type: ExchangeTokenType,
}

impl std::fmt::Debug for PresentedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PresentedToken")
            .field("token_type", &self.token_type)
            .finish_non_exhaustive()
    }
}

/// What a token exchange may issue (`requested_token_type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RequestedTokenType {
    /// An access token in the client's format (the default).
    AccessToken,
    /// An access token that is a JWT (RFC 9068), whatever the client's format.
    Jwt,
}

impl RequestedTokenType {
    /// The `issued_token_type` of the response (RFC 8693 §2.2.1).
    pub fn issued_token_type(self) -> ExchangeTokenType {
        match self {
            RequestedTokenType::AccessToken => ExchangeTokenType::AccessToken,
            RequestedTokenType::Jwt => ExchangeTokenType::Jwt,
        }
    }
}

/// A parsed token exchange request (RFC 8693 §2.1).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct TokenExchangeRequest {
    /// `subject_token` and `subject_token_type` (both required).
    pub subject: PresentedToken,
    /// `actor_token` and `actor_token_type` (the type is required with the token and
    /// forbidden without it).
    pub actor: Option<PresentedToken>,
    /// `requested_token_type` (default access token).
    pub requested: RequestedTokenType,
    /// `audience` values (logical names), in order.
    pub audience: Vec<String>,
    /// `resource` values (absolute URIs without fragment, RFC 8707 §2), in order.
    pub resource: Vec<String>,
    /// `scope`, if sent.
    pub scope: Option<Scopes>,
}

fn token_param(params: &Params, token: &str, kind: &str) -> Result<Option<PresentedToken>> {
    let t = params.get(token);
    let k = params.get(kind);
    match (t, k) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(Error::InvalidRequest(format!("`{kind}` is required"))),
        (None, Some(_)) => Err(Error::InvalidRequest(format!("`{kind}` without `{token}`"))),
        (Some(t), Some(k)) => {
            if t.len() > MAX_EXCHANGED_TOKEN_BYTES {
                return Err(Error::InvalidRequest(format!("`{token}` is too long")));
            }
            let token_type = ExchangeTokenType::parse(k).ok_or_else(|| {
                Error::InvalidRequest(format!("`{kind}` is not a supported token type"))
            })?;
            Ok(Some(PresentedToken {
                token: t.to_owned(),
                token_type,
            }))
        }
    }
}

/// RFC 8707 §2: an absolute URI without a fragment.
fn valid_resource(r: &str) -> bool {
    let Some((scheme, rest)) = r.split_once(':') else {
        return false;
    };
    !scheme.is_empty()
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+-.".contains(c))
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && !rest.is_empty()
        && !r.contains('#')
}

impl TokenExchangeRequest {
    /// Parses the token request's parameters (RFC 8693 §2.1). A missing `subject_token`, a
    /// type without its token or a token without its type, an unsupported token type or
    /// `requested_token_type`: `invalid_request`; a `resource` that is not an absolute URI
    /// without fragment: `invalid_target` (RFC 8707 §2).
    pub fn from_params(params: &Params, limits: &crate::model::Limits) -> Result<Self> {
        let subject = token_param(params, "subject_token", "subject_token_type")?
            .ok_or_else(|| Error::InvalidRequest("`subject_token` is required".into()))?;
        let actor = token_param(params, "actor_token", "actor_token_type")?;
        let requested = match params.get("requested_token_type") {
            None => RequestedTokenType::AccessToken,
            Some(t) => match ExchangeTokenType::parse(t) {
                Some(ExchangeTokenType::AccessToken) => RequestedTokenType::AccessToken,
                Some(ExchangeTokenType::Jwt) => RequestedTokenType::Jwt,
                _ => {
                    return Err(Error::InvalidRequest(
                        "`requested_token_type` must be access_token or jwt".into(),
                    ))
                }
            },
        };
        let resource = params.get_all("resource").to_vec();
        if let Some(bad) = resource.iter().find(|r| !valid_resource(r)) {
            return Err(Error::protocol(
                "invalid_target",
                400,
                format!("resource `{bad}` is not an absolute URI without fragment"),
            ));
        }
        let scope = params
            .get("scope")
            .map(|s| Scopes::parse(s, limits))
            .transpose()?;
        Ok(TokenExchangeRequest {
            subject,
            actor,
            requested,
            audience: params.get_all("audience").to_vec(),
            resource,
            scope,
        })
    }
}

/// Where a trusted issuer's verification keys come from.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub enum IssuerKeys {
    /// An inline JWK Set, validated when configured.
    Inline(std::sync::Arc<KeySet>),
    /// A `jwks_uri` fetched through the [`JwksFetcher`](crate::ports::JwksFetcher) port,
    /// cached, and fetched again when a token names an unknown `kid`.
    Remote(String),
}

/// How an external subject becomes a local one.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum AccountAssociation {
    /// Implicit account association (WSO2 IS 7.3): the local user whose attributes equal the
    /// token's claims of the same names (1 or 2 lookup attributes, all must match), through the
    /// [`UserLookup`](crate::ports::UserLookup) port. No match or several: `invalid_grant`.
    Lookup(Vec<String>),
    /// No association: the external `sub` is the subject.
    ExternalSubject,
}

/// A trusted token issuer: whose JWTs this provider accepts as `subject_token` or
/// `actor_token`.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct TrustedIssuer {
    /// The `iss` value, compared exactly.
    pub issuer: String,
    /// Its keys.
    pub keys: IssuerKeys,
    /// The algorithms its tokens may use (asymmetric only).
    pub algorithms: Vec<JwsAlgorithm>,
    /// Accepted `aud` values; empty: this provider's issuer and token endpoint.
    pub audience: Vec<String>,
    /// Account association.
    pub association: AccountAssociation,
}

/// Why a trusted issuer's configuration is unusable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum TrustedIssuerError {
    /// The JWK Set is not valid.
    #[error("trusted issuer {0}: invalid JWK Set: {1}")]
    Jwks(String, String),
    /// More than two lookup attributes, or none with implicit association.
    #[error("trusted issuer {0}: implicit association needs 1 or 2 lookup attributes")]
    LookupAttributes(String),
    /// A symmetric algorithm or none at all.
    #[error("trusted issuer {0}: algorithms must be asymmetric and not empty")]
    Algorithms(String),
    /// The issuer is empty.
    #[error("trusted issuer: `issuer` is empty")]
    EmptyIssuer,
}

/// The algorithms a trusted issuer may use by default: every asymmetric one.
pub fn default_issuer_algorithms() -> Vec<JwsAlgorithm> {
    JwsAlgorithm::ALL
        .into_iter()
        .filter(|a| !a.is_symmetric())
        .collect()
}

impl TrustedIssuer {
    /// An issuer with an inline JWK Set (validated now), every asymmetric algorithm, the
    /// default audience and no account association (change with the `with_*` methods).
    pub fn with_jwks(issuer: impl Into<String>, jwks: &JwkSet) -> Result<Self, TrustedIssuerError> {
        let issuer = issuer.into();
        let keys = KeySet::from_jwk_set(&jwks.to_public())
            .map_err(|e| TrustedIssuerError::Jwks(issuer.clone(), e.to_string()))?;
        Self::build(issuer, IssuerKeys::Inline(std::sync::Arc::new(keys)))
    }

    /// An issuer whose keys are fetched from `jwks_uri`.
    pub fn with_jwks_uri(
        issuer: impl Into<String>,
        jwks_uri: impl Into<String>,
    ) -> Result<Self, TrustedIssuerError> {
        Self::build(issuer.into(), IssuerKeys::Remote(jwks_uri.into()))
    }

    fn build(issuer: String, keys: IssuerKeys) -> Result<Self, TrustedIssuerError> {
        if issuer.is_empty() {
            return Err(TrustedIssuerError::EmptyIssuer);
        }
        Ok(TrustedIssuer {
            issuer,
            keys,
            algorithms: default_issuer_algorithms(),
            audience: Vec::new(),
            association: AccountAssociation::ExternalSubject,
        })
    }

    /// Sets the accepted algorithms (asymmetric, at least one).
    pub fn with_algorithms(
        mut self,
        algorithms: impl IntoIterator<Item = JwsAlgorithm>,
    ) -> Result<Self, TrustedIssuerError> {
        let algs: Vec<_> = algorithms.into_iter().collect();
        if algs.is_empty() || algs.iter().any(|a| a.is_symmetric()) {
            return Err(TrustedIssuerError::Algorithms(self.issuer));
        }
        self.algorithms = algs;
        Ok(self)
    }

    /// Sets the accepted audience values.
    pub fn with_audience<S: Into<String>>(mut self, audience: impl IntoIterator<Item = S>) -> Self {
        self.audience = audience.into_iter().map(Into::into).collect();
        self
    }

    /// Associates external subjects to local users by these claims (1 or 2).
    pub fn with_lookup_attributes<S: Into<String>>(
        mut self,
        attributes: impl IntoIterator<Item = S>,
    ) -> Result<Self, TrustedIssuerError> {
        let attrs: Vec<String> = attributes.into_iter().map(Into::into).collect();
        if attrs.is_empty() || attrs.len() > MAX_LOOKUP_ATTRIBUTES {
            return Err(TrustedIssuerError::LookupAttributes(self.issuer));
        }
        self.association = AccountAssociation::Lookup(attrs);
        Ok(self)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Limits;

    fn parse(pairs: &[(&str, &str)]) -> Result<TokenExchangeRequest> {
        TokenExchangeRequest::from_params(
            &Params::from_pairs(pairs.iter().copied()).unwrap(),
            &Limits::default(),
        )
    }

    const AT: &str = "urn:ietf:params:oauth:token-type:access_token";

    #[test]
    fn request_parameters_follow_rfc_8693_2_1() {
        let r = parse(&[
            ("subject_token", "s"),
            ("subject_token_type", AT),
            ("audience", "a1"),
            ("audience", "a2"),
            ("resource", "https://rs.example/api"),
            ("scope", "read"),
        ])
        .unwrap();
        assert_eq!(r.subject.token_type, ExchangeTokenType::AccessToken);
        assert_eq!(r.requested, RequestedTokenType::AccessToken);
        assert_eq!(r.audience, ["a1", "a2"]);
        assert_eq!(r.resource, ["https://rs.example/api"]);
        assert!(r.actor.is_none());
        for (pairs, code) in [
            (&[("subject_token_type", AT)][..], "invalid_request"),
            (&[("subject_token", "s")][..], "invalid_request"),
            (
                &[("subject_token", "s"), ("subject_token_type", "urn:x")][..],
                "invalid_request",
            ),
            (
                &[
                    ("subject_token", "s"),
                    ("subject_token_type", AT),
                    ("actor_token", "a"),
                ][..],
                "invalid_request",
            ),
            (
                &[
                    ("subject_token", "s"),
                    ("subject_token_type", AT),
                    ("actor_token_type", AT),
                ][..],
                "invalid_request",
            ),
            (
                &[
                    ("subject_token", "s"),
                    ("subject_token_type", AT),
                    (
                        "requested_token_type",
                        "urn:ietf:params:oauth:token-type:id_token",
                    ),
                ][..],
                "invalid_request",
            ),
            (
                &[
                    ("subject_token", "s"),
                    ("subject_token_type", AT),
                    ("resource", "rs"),
                ][..],
                "invalid_target",
            ),
            (
                &[
                    ("subject_token", "s"),
                    ("subject_token_type", AT),
                    ("resource", "https://rs.example/#f"),
                ][..],
                "invalid_target",
            ),
        ] {
            assert_eq!(parse(pairs).unwrap_err().code(), code, "{pairs:?}");
        }
        let long = "x".repeat(MAX_EXCHANGED_TOKEN_BYTES + 1);
        assert!(parse(&[("subject_token", &long), ("subject_token_type", AT)]).is_err());
        let r = parse(&[
            ("subject_token", "s"),
            (
                "subject_token_type",
                "urn:ietf:params:oauth:token-type:id_token",
            ),
            ("actor_token", "a"),
            ("actor_token_type", "urn:ietf:params:oauth:token-type:jwt"),
            (
                "requested_token_type",
                "urn:ietf:params:oauth:token-type:jwt",
            ),
        ])
        .unwrap();
        assert_eq!(r.actor.unwrap().token_type, ExchangeTokenType::Jwt);
        assert_eq!(r.requested.issued_token_type(), ExchangeTokenType::Jwt);
    }

    #[test]
    fn trusted_issuers_validate() {
        let set = JwkSet { keys: vec![] };
        let t = TrustedIssuer::with_jwks("https://idp.example", &set).unwrap();
        assert_eq!(t.association, AccountAssociation::ExternalSubject);
        assert!(t.clone().with_lookup_attributes(["a", "b", "c"]).is_err());
        assert!(t
            .clone()
            .with_lookup_attributes(Vec::<String>::new())
            .is_err());
        assert!(t.clone().with_algorithms([JwsAlgorithm::HS256]).is_err());
        assert!(t.with_algorithms([JwsAlgorithm::ES256]).is_ok());
        assert_eq!(
            TrustedIssuer::with_jwks_uri("", "https://x").unwrap_err(),
            TrustedIssuerError::EmptyIssuer
        );
    }
}
