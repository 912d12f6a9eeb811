//! OpenID Connect ID tokens (OIDC Core §2, §3.1.3.6), signed and optionally encrypted to the
//! client (OIDC Core §10.2).

use idforge_jose::JwsAlgorithm;
use idforge_jwe::{nested::EncryptionPolicy, ContentEncryption, KeyManagementAlgorithm};
use serde_json::{json, Map, Value};

use crate::claims::select_claims;
use crate::client::Client;
use crate::context::Context;
use crate::error::{Error, Result};
use crate::model::Scopes;
use crate::records::Grant;
use crate::secret::PortRng;

use super::add_auth_context;

/// Encrypts a signed JWT (an ID token or a UserInfo response) to `client` as a nested JWT
/// with the `alg` it registered and `enc` (OIDC Registration §2: `A128CBC-HS256` when only
/// `alg` is set). The CEK and IVs come from the provider's [`Rng`](crate::secret::Rng) port
/// (ECDH-ES ephemeral keys from the crypto backend's key generation).
pub fn encrypt_to_client(
    ctx: &Context,
    client: &Client,
    alg: KeyManagementAlgorithm,
    enc: Option<ContentEncryption>,
    jws: &str,
) -> Result<String> {
    let enc = enc.unwrap_or(ContentEncryption::A128CbcHs256);
    let jwks = client
        .jwks
        .clone()
        .ok_or_else(|| Error::internal("the client asks for encryption but has no JWKS"))?;
    let policy = EncryptionPolicy::new(alg, enc, jwks);
    let mut rng = PortRng::new(ctx.rng.as_ref());
    let jwe = policy.encrypt_jwt_with_rng(jws, &mut rng);
    rng.finish()?;
    Ok(jwe?)
}

/// The `at_hash`/`c_hash` of OIDC Core §3.1.3.6/§3.3.2.11: base64url of the left half of the
/// hash (the one of the ID token's JWS `alg`) of the ASCII value.
pub fn half_hash(alg: JwsAlgorithm, value: &str) -> String {
    let digest = alg.hash().digest(value.as_bytes());
    idforge_jose::b64::encode(&digest[..digest.len() / 2])
}

/// The protocol claims of an ID token (OIDC Core §2, §3.1.3.6).
struct ProtocolClaims<'a> {
    ctx: &'a Context,
    client: &'a Client,
    grant: &'a Grant,
    subject: &'a str,
    alg: JwsAlgorithm,
    access_token: Option<&'a str>,
    code: Option<&'a str>,
    now: i64,
}

impl ProtocolClaims<'_> {
    /// Sets them, removing any the grant does not call for.
    fn apply(&self, claims: &mut Map<String, Value>, lifetime: i64) {
        for name in [
            "auth_time",
            "acr",
            "amr",
            "nonce",
            "at_hash",
            "c_hash",
            "sid",
        ] {
            claims.remove(name);
        }
        claims.insert("iss".into(), json!(self.ctx.config.issuer));
        claims.insert("sub".into(), json!(self.subject));
        claims.insert("aud".into(), json!(self.client.client_id));
        claims.insert("exp".into(), json!(self.now.saturating_add(lifetime)));
        claims.insert("iat".into(), json!(self.now));
        add_auth_context(claims, self.grant);
        if let Some(nonce) = &self.grant.nonce {
            claims.insert("nonce".into(), json!(nonce));
        }
        claims.insert("azp".into(), json!(self.client.client_id));
        if let Some(at) = self.access_token {
            claims.insert("at_hash".into(), json!(half_hash(self.alg, at)));
        }
        if let Some(code) = self.code {
            claims.insert("c_hash".into(), json!(half_hash(self.alg, code)));
        }
        if let Some(sid) = &self.grant.sid {
            claims.insert("sid".into(), json!(sid));
        }
    }
}

/// Issues an ID token (OIDC Core §2, §3.1.3.6, §12.2) for `grant`, signed with the current key
/// for the client's `id_token_signed_response_alg`, and encrypted when the client registered
/// `id_token_encrypted_response_alg` (OIDC Core §10.2, nested JWT).
pub async fn issue_id_token(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    access_token: Option<&str>,
    code: Option<&str>,
) -> Result<String> {
    let now = ctx.clock.now();
    let subject = grant
        .subject
        .as_deref()
        .ok_or_else(|| Error::internal("ID token without a subject"))?;
    let signer = ctx.keys.signer(client.id_token_signed_response_alg).await?;
    let alg = signer.algorithm();
    let mut claims = Map::new();
    // Requested claims first, so the protocol claims below always win.
    if ctx.config.scope_claims_in_id_token || grant.claims.is_some() {
        let all = ctx.claims.claims(subject).await?.unwrap_or_default();
        let scopes = if ctx.config.scope_claims_in_id_token {
            grant.scopes.clone()
        } else {
            Scopes::default()
        };
        let names = grant
            .claims
            .as_ref()
            .map(|c| c.id_token.clone())
            .unwrap_or_default();
        claims.extend(select_claims(&all, &scopes, &names));
    }
    // The grant's extra claims next; the protocol claims below overwrite any collision.
    for (name, value) in grant.contents.id_token_claims() {
        claims.insert(name.clone(), value.clone());
    }
    let mut lifetime = ctx.config.id_token_ttl;
    let protocol = ProtocolClaims {
        ctx,
        client,
        grant,
        subject,
        alg,
        access_token,
        code,
        now,
    };
    protocol.apply(&mut claims, lifetime);
    if let Some(hook) = &ctx.pre_issue_id_token {
        hook.before_issue(client, grant, &mut claims, &mut lifetime)
            .await?;
        // The hook cannot forge what relying parties validate.
        protocol.apply(&mut claims, lifetime.max(1));
    }
    let payload = serde_json::to_vec(&claims).map_err(Error::internal)?;
    let jws = super::compact_own(signer.as_ref(), "JWT", &payload).await?;
    match client.id_token_encrypted_response_alg {
        None => Ok(jws),
        Some(alg) => {
            let enc = client.id_token_encrypted_response_enc;
            encrypt_to_client(ctx, client, alg, enc, &jws)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn at_hash_oidc_example() {
        // OIDC Core Appendix A.3/A.4 example: access token and its ES/RS256 at_hash.
        assert_eq!(
            half_hash(
                JwsAlgorithm::RS256,
                "jHkWEdUXMU1BwAsC4vtUsZwnNvTIxEl0z9K3vx5KF0Y"
            ),
            "77QmUPtjPfzWtF2AnpK9RQ"
        );
        assert_eq!(half_hash(JwsAlgorithm::ES384, "x").len(), 32);
    }
}
