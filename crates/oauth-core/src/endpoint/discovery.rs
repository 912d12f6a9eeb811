//! Discovery (OIDC Discovery 1.0 §3, RFC 8414 §2) and JWKS, generated from the configuration so
//! nothing disabled is advertised.

use std::sync::Arc;

use idforge_jwe::{ContentEncryption, KeyManagementAlgorithm};
use serde_json::{json, Map, Value};

use crate::claims::scope_claim_names;
use crate::client::{ClientAuthMethod, ASYMMETRIC_ALGS};
use crate::config::{grant_type, Config};
use crate::context::Context;
use crate::error::Result;
use crate::grant::GrantRegistry;
use crate::model::{CodeChallengeMethod, Display, Prompt, ResponseMode};
use crate::request_object::REQUEST_OBJECT_SIGNING_ALGS;

/// A crate serving endpoints of its own (CIBA's backchannel authentication endpoint, ...) adds
/// its discovery members (RFC 8414 §2, OIDC Discovery §3) through this. Members the provider
/// sets itself are never replaced.
pub trait DiscoveryContributor: Send + Sync {
    /// Adds members to `metadata`.
    fn contribute(&self, config: &Config, metadata: &mut Map<String, Value>);
}

/// Discovery metadata and the JWKS document.
#[derive(Clone)]
pub struct DiscoveryEndpoint {
    ctx: Arc<Context>,
    registry: Arc<GrantRegistry>,
    contributors: Vec<Arc<dyn DiscoveryContributor>>,
}

impl std::fmt::Debug for DiscoveryEndpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiscoveryEndpoint")
            .field("registry", &self.registry)
            .field("contributors", &self.contributors.len())
            .finish_non_exhaustive()
    }
}

/// Registered names of `methods`.
fn names(methods: &[ClientAuthMethod]) -> Vec<&'static str> {
    methods.iter().map(|m| m.name()).collect()
}

impl DiscoveryEndpoint {
    /// The endpoint over `ctx`: the grant types are those of `registry` that the configuration
    /// enables, and `contributors` add their members.
    pub fn new(
        ctx: Arc<Context>,
        registry: Arc<GrantRegistry>,
        contributors: Vec<Arc<dyn DiscoveryContributor>>,
    ) -> Self {
        DiscoveryEndpoint {
            ctx,
            registry,
            contributors,
        }
    }

    /// The public JWK Set (RFC 7517 §5): current and retiring verification keys, public parts
    /// only (the key store's `public_jwks`).
    pub async fn jwks(&self) -> Result<Value> {
        let set = self.ctx.keys.public_jwks().await?;
        Ok(
            serde_json::from_str(&set.to_public().to_json())
                .unwrap_or_else(|_| json!({"keys": []})),
        )
    }

    /// The metadata document, served at `/.well-known/openid-configuration` and
    /// `/.well-known/oauth-authorization-server` (RFC 8414 §3).
    pub async fn metadata(&self) -> Result<Value> {
        let ctx = &self.ctx;
        let cfg = &ctx.config;
        let mut m = Map::new();
        m.insert("issuer".into(), json!(cfg.issuer));
        let grants: Vec<&str> = self
            .registry
            .grant_types()
            .filter(|g| cfg.grant_enabled(g))
            .filter(|g| *g != grant_type::PASSWORD || ctx.passwords.is_some())
            .collect();
        // RFC 8414 §2: authorization_endpoint only when a grant uses it.
        if grants.contains(&grant_type::AUTHORIZATION_CODE) {
            m.insert(
                "authorization_endpoint".into(),
                json!(cfg.url(&cfg.authorization_path)),
            );
            m.insert("response_types_supported".into(), json!(["code"]));
            let modes: Vec<&str> = ResponseMode::ALL.iter().map(|m| m.name()).collect();
            m.insert("response_modes_supported".into(), json!(modes));
            let mut pkce = vec![CodeChallengeMethod::S256.name()];
            if cfg.allow_plain_pkce {
                pkce.push(CodeChallengeMethod::Plain.name());
            }
            m.insert("code_challenge_methods_supported".into(), json!(pkce));
            // RFC 9207 §3.
            m.insert(
                "authorization_response_iss_parameter_supported".into(),
                json!(true),
            );
            m.insert("claims_parameter_supported".into(), json!(true));
            // RFC 9101 §9.2 / OIDC Discovery §3: request objects by value are accepted...
            m.insert("request_parameter_supported".into(), json!(true));
            m.insert(
                "request_object_signing_alg_values_supported".into(),
                json!(REQUEST_OBJECT_SIGNING_ALGS
                    .iter()
                    .map(|a| a.name())
                    .collect::<Vec<_>>()),
            );
            // ...but `request_uri` only as a PAR URN: no request object is ever fetched from a
            // URL, which is what this member advertises (OIDC Discovery §3).
            m.insert("request_uri_parameter_supported".into(), json!(false));
            // RFC 9126 §5.
            if let (Some(p), true) = (
                &cfg.pushed_authorization_request_path,
                ctx.pushed_requests.is_some(),
            ) {
                m.insert(
                    "pushed_authorization_request_endpoint".into(),
                    json!(cfg.url(p)),
                );
            }
            m.insert(
                "require_pushed_authorization_requests".into(),
                json!(cfg.require_pushed_authorization_requests),
            );
            let prompts: Vec<&str> = Prompt::ALL.iter().map(|p| p.name()).collect();
            m.insert("prompt_values_supported".into(), json!(prompts));
            // OIDC Discovery §3; the host renders the pages, the request carries the value.
            let displays: Vec<&str> = Display::ALL.iter().map(|d| d.name()).collect();
            m.insert("display_values_supported".into(), json!(displays));
        } else {
            // RFC 8414 §2 still requires the member; an empty list says "none".
            m.insert("response_types_supported".into(), json!([]));
        }
        m.insert("token_endpoint".into(), json!(cfg.token_endpoint()));
        m.insert("grant_types_supported".into(), json!(grants));
        // Derived from the enums, so what is advertised is what `client_auth` accepts.
        let auth_methods = names(&ClientAuthMethod::ALL);
        let assertion_algs: Vec<&str> = ASYMMETRIC_ALGS.iter().map(|a| a.name()).collect();
        // RFC 8414 §2: `*_auth_signing_alg_values_supported` wherever `private_key_jwt` is
        // listed (strict clients reject the document without it).
        let with_auth = |m: &mut Map<String, Value>, endpoint: &str, methods: &[&str]| {
            m.insert(format!("{endpoint}_auth_methods_supported"), json!(methods));
            if methods.contains(&ClientAuthMethod::PrivateKeyJwt.name()) {
                m.insert(
                    format!("{endpoint}_auth_signing_alg_values_supported"),
                    json!(assertion_algs),
                );
            }
        };
        with_auth(&mut m, "token_endpoint", &auth_methods);
        m.insert("jwks_uri".into(), json!(cfg.url(&cfg.jwks_path)));
        m.insert("scopes_supported".into(), json!(cfg.scopes_supported));
        m.insert("subject_types_supported".into(), json!(["public"]));
        let signing = self.signing_algs().await?;
        m.insert(
            "id_token_signing_alg_values_supported".into(),
            json!(signing),
        );
        let kma: Vec<&str> = KeyManagementAlgorithm::ALL
            .iter()
            .map(|a| a.name())
            .collect();
        let enc: Vec<&str> = ContentEncryption::ALL.iter().map(|a| a.name()).collect();
        m.insert(
            "id_token_encryption_alg_values_supported".into(),
            json!(kma),
        );
        m.insert(
            "id_token_encryption_enc_values_supported".into(),
            json!(enc),
        );
        if let Some(p) = &cfg.userinfo_path {
            m.insert("userinfo_endpoint".into(), json!(cfg.url(p)));
            m.insert(
                "userinfo_signing_alg_values_supported".into(),
                json!(signing),
            );
            m.insert(
                "userinfo_encryption_alg_values_supported".into(),
                json!(kma),
            );
            m.insert(
                "userinfo_encryption_enc_values_supported".into(),
                json!(enc),
            );
        }
        // RP-Initiated Logout 1.0 §3.1, Front-Channel Logout 1.0 §3, Back-Channel Logout 1.0
        // §2.1: advertised when sessions are kept and the endpoint is served.
        if let (Some(p), true) = (&cfg.end_session_path, ctx.sessions.is_some()) {
            m.insert("end_session_endpoint".into(), json!(cfg.url(p)));
            for name in [
                "frontchannel_logout_supported",
                "frontchannel_logout_session_supported",
                "backchannel_logout_supported",
                "backchannel_logout_session_supported",
            ] {
                m.insert(name.into(), json!(true));
            }
        }
        if let Some(p) = &cfg.introspection_path {
            m.insert("introspection_endpoint".into(), json!(cfg.url(p)));
            // RFC 7662 §2.1: public clients may not introspect.
            let confidential: Vec<&str> = auth_methods
                .iter()
                .copied()
                .filter(|n| *n != ClientAuthMethod::None.name())
                .collect();
            with_auth(&mut m, "introspection_endpoint", &confidential);
        }
        if let Some(p) = &cfg.revocation_path {
            m.insert("revocation_endpoint".into(), json!(cfg.url(p)));
            with_auth(&mut m, "revocation_endpoint", &auth_methods);
        }
        let mut claims = vec![
            "sub",
            "iss",
            "aud",
            "exp",
            "iat",
            "auth_time",
            "nonce",
            "acr",
            "amr",
            "azp",
            "sid",
        ];
        for scope in &cfg.scopes_supported {
            claims.extend(scope_claim_names(scope));
        }
        m.insert("claims_supported".into(), json!(claims));
        // Extensions last; they add members and never replace the provider's.
        let mut extra = Map::new();
        for handler in self.registry.handlers() {
            if cfg.grant_enabled(handler.grant_type()) {
                handler.discovery(cfg, &mut extra);
            }
        }
        for c in &self.contributors {
            c.contribute(cfg, &mut extra);
        }
        for (k, v) in extra {
            m.entry(k).or_insert(v);
        }
        Ok(Value::Object(m))
    }

    async fn signing_algs(&self) -> Result<Vec<String>> {
        let jwks = self.ctx.keys.public_jwks().await?;
        let mut algs: Vec<String> = Vec::new();
        let default = self
            .ctx
            .keys
            .signer(None)
            .await?
            .algorithm()
            .name()
            .to_owned();
        algs.push(default);
        for k in &jwks.keys {
            if let Some(a) = &k.alg {
                if !algs.contains(a) {
                    algs.push(a.clone());
                }
            }
        }
        Ok(algs)
    }
}
