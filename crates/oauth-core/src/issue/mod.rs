//! Token minting: access tokens ([`access_token`]), refresh tokens ([`refresh_token`]) and ID
//! tokens ([`id_token`]), and the token response that bundles them.
//!
//! Public, so a grant handler outside this crate (device code, token exchange, CIBA,
//! pre-authorized code) issues exactly what the built-in grants issue, shaped by the grant's
//! [`TokenContents`](crate::TokenContents).

pub mod access_token;
pub mod id_token;
pub mod refresh_token;

use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::context::Context;
use crate::error::Result;
use crate::model::{Scopes, TokenResponse};
use crate::records::{Grant, TokenRecord};

pub use access_token::{issue_access_token, persists, IssuedAccessToken};
pub use id_token::{half_hash, issue_id_token};
pub use refresh_token::{issue_refresh_token, REFRESH_TOKEN_TYP};

/// What to issue besides the access token.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct IssueOptions<'a> {
    /// Issue a refresh token.
    pub refresh_token: bool,
    /// Issue an ID token (when the grant has a subject).
    pub id_token: bool,
    /// The authorization code being exchanged (for `c_hash`).
    pub code: Option<&'a str>,
    /// The tokens redeem a single-use artifact the caller has just consumed (an authorization
    /// code): a revocation of the grant landing while they are issued comes after the
    /// redemption, so the response still goes out, with tokens dead on arrival
    /// ([`after_insert`]).
    pub consumed_artifact: bool,
    /// The grant is new and not in the grant store yet: the first token stored takes it along
    /// ([`GrantStore::create_grant_with_token`](crate::ports::GrantStore::create_grant_with_token),
    /// one write instead of two); if no token is stored, the grant is stored alone at the end.
    pub new_grant: bool,
}

impl<'a> IssueOptions<'a> {
    /// An access token only.
    pub fn new() -> Self {
        Self::default()
    }

    /// Also issue a refresh token (or not).
    pub fn refresh_token(mut self, on: bool) -> Self {
        self.refresh_token = on;
        self
    }

    /// Also issue an ID token (or not).
    pub fn id_token(mut self, on: bool) -> Self {
        self.id_token = on;
        self
    }

    /// The authorization code being exchanged, for the ID token's `c_hash`.
    pub fn code(mut self, code: &'a str) -> Self {
        self.code = Some(code);
        self
    }

    /// The tokens redeem a single-use artifact just consumed (or not): see
    /// [`IssueOptions::consumed_artifact`].
    pub fn consumed_artifact(mut self, on: bool) -> Self {
        self.consumed_artifact = on;
        self
    }

    /// The grant is new and still to be stored (or not): see [`IssueOptions::new_grant`].
    pub fn new_grant(mut self, on: bool) -> Self {
        self.new_grant = on;
        self
    }
}

/// Whether the grant whose tokens are being issued is still in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Family {
    /// Every token so far was stored.
    Live,
    /// The grant went while its tokens were issued: nothing more is stored, and the tokens
    /// that were are gone with it.
    Revoked,
}

/// What the result of storing one token of a response means (a pure decision over the store's
/// answer).
///
/// [`GrantStore::insert_token`](crate::ports::GrantStore::insert_token) refuses a token of a
/// grant that is gone with `invalid_grant`. When the tokens redeem an artifact already consumed
/// ([`IssueOptions::consumed_artifact`]), the redemption has happened: the revocation that
/// removed the grant came after it — typically a replay of the same code revoking every token
/// issued from it (RFC 6749 §4.1.2, RFC 9700 §4.2.4). Had it landed a moment later it would
/// have deleted the stored tokens; landing now it keeps them from being stored. Either way the
/// tokens are dead, so the response goes out ([`Family::Revoked`]): exactly one of N
/// concurrent redemptions answers 200, and no token of the replayed code stays usable. Any
/// other refusal, or any refusal outside a redemption, is the request's error.
pub fn after_insert(result: Result<()>, options: &IssueOptions<'_>) -> Result<Family> {
    match result {
        Ok(()) => Ok(Family::Live),
        Err(crate::error::Error::InvalidGrant(_)) if options.consumed_artifact => {
            Ok(Family::Revoked)
        }
        Err(e) => Err(e),
    }
}

/// Stores `record` unless the family is already known to be gone (then the insert would be
/// refused anyway), together with `unstored`, the new grant, if it is not stored yet;
/// [`after_insert`] reads the answer.
async fn store(
    ctx: &Context,
    record: TokenRecord,
    family: Family,
    unstored: &mut Option<&Grant>,
    options: &IssueOptions<'_>,
) -> Result<Family> {
    match family {
        Family::Revoked => Ok(Family::Revoked),
        Family::Live => {
            let result = match unstored.take() {
                Some(grant) => {
                    ctx.grants
                        .create_grant_with_token(grant.clone(), record)
                        .await
                }
                None => ctx.grants.insert_token(record).await,
            };
            after_insert(result, options)
        }
    }
}

/// Issues the token response for `grant` (access token, optionally refresh and ID tokens).
/// When tokens are stored ([`persists`]), `grant` must already be in the grant store, or be
/// new and stored here with the first token ([`IssueOptions::new_grant`]); if it is gone, the
/// request fails with `invalid_grant` — unless the tokens redeem a consumed artifact, then
/// they are dead on arrival ([`after_insert`]).
pub async fn issue_token_response(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
    options: IssueOptions<'_>,
) -> Result<TokenResponse> {
    let (at, record) = access_token::mint_access_token(ctx, client, grant, scopes).await?;
    let mut unstored = options.new_grant.then_some(grant);
    let mut family = Family::Live;
    if let Some(record) = record {
        family = store(ctx, record, family, &mut unstored, &options).await?;
    }
    let refresh_token = if options.refresh_token {
        let (token, record) = issue_refresh_token(ctx, client, grant, scopes).await?;
        if let Some(record) = record {
            store(ctx, record, family, &mut unstored, &options).await?;
        }
        Some(token)
    } else {
        None
    };
    if let Some(grant) = unstored {
        ctx.grants.create_grant(grant.clone()).await?;
    }
    let id_token = if options.id_token && grant.subject.is_some() {
        Some(issue_id_token(ctx, client, grant, Some(&at.token), options.code).await?)
    } else {
        None
    };
    // RFC 9396 §7.1: the token response carries the authorization details granted.
    let mut extra = Map::new();
    if let Some(details) = grant
        .contents
        .access_token_claims()
        .get("authorization_details")
    {
        extra.insert("authorization_details".into(), details.clone());
    }
    Ok(TokenResponse {
        access_token: at.token,
        token_type: at.token_type.name().into(),
        expires_in: at.expires_in,
        refresh_token,
        scope: Some(scopes.to_param()),
        id_token,
        extra,
    })
}

/// The protected header of the provider's own access, refresh and ID tokens (RFC 7515 §4.1:
/// `alg`, `kid` when the key has one, and RFC 8725 §3.11's explicit `typ`), members in the
/// order `idforge_jose` writes them.
#[derive(serde::Serialize)]
struct OwnHeader<'a> {
    alg: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    kid: Option<&'a str>,
    typ: &'a str,
}

/// Signs `payload` with the provider's current key under a header with `typ` (access and
/// refresh tokens; RFC 8725 §3.11 explicit typing) into a compact JWS (RFC 7515 §7.1).
///
/// The header is fixed (three members the provider chooses), so the token is assembled here
/// in one buffer: header and payload encoded once, the signing input becoming the token,
/// without the generic header map `idforge_jose::jws::sign_compact_with` builds for any
/// caller's header. The signature still comes from the key store's [`Signer`]
/// (`idforge_jose::Signer`), so KMS and HSM signers work unchanged; the result is the same
/// JWS `sign_compact_with` makes (tested below).
async fn sign_own(ctx: &Context, typ: &str, payload: &[u8]) -> Result<String> {
    let signer = ctx.keys.signer(None).await?;
    compact_own(signer.as_ref(), typ, payload).await
}

/// [`sign_own`] with a given signer (the ID token's, which may differ by `alg`).
async fn compact_own(
    signer: &dyn idforge_jose::Signer,
    typ: &str,
    payload: &[u8],
) -> Result<String> {
    let header = OwnHeader {
        alg: signer.algorithm().name(),
        kid: signer.key_id(),
        typ,
    };
    let header = serde_json::to_vec(&header).map_err(crate::error::Error::internal)?;
    let b64_len = |n: usize| n.div_ceil(3) * 4;
    // Header, payload and an ECDSA P-521 / RSA-4096 signature fit without growing.
    let mut token = String::with_capacity(b64_len(header.len()) + b64_len(payload.len()) + 700);
    idforge_jose::b64::encode_into(&header, &mut token);
    token.push('.');
    idforge_jose::b64::encode_into(payload, &mut token);
    let signature = signer.sign(token.as_bytes()).await?;
    token.push('.');
    idforge_jose::b64::encode_into(&signature, &mut token);
    Ok(token)
}

/// `auth_time`, `acr` and `amr` of the grant (OIDC Core §2).
fn add_auth_context(claims: &mut Map<String, Value>, grant: &Grant) {
    if let Some(t) = grant.auth_time {
        claims.insert("auth_time".into(), json!(t));
    }
    if let Some(acr) = &grant.acr {
        claims.insert("acr".into(), json!(acr));
    }
    if !grant.amr.is_empty() {
        claims.insert("amr".into(), json!(grant.amr));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use idforge_jose::crypto::EcCurve;
    use idforge_jose::{JwsAlgorithm, JwsPolicy, Key, KeySet, KeySpec, LocalSigner};

    use crate::error::Error;

    /// A refused insert is dead-on-arrival only for a redemption, and only when the refusal
    /// says the grant is gone (`invalid_grant`, the port's contract); a full store or a broken
    /// database still fails the request.
    #[test]
    fn a_gone_grant_ends_a_redemption_with_dead_tokens() {
        let redeem = IssueOptions::new().consumed_artifact(true);
        let plain = IssueOptions::new();
        assert_eq!(after_insert(Ok(()), &redeem).unwrap(), Family::Live);
        assert_eq!(after_insert(Ok(()), &plain).unwrap(), Family::Live);
        let gone = || Err(Error::InvalidGrant("gone".into()));
        assert_eq!(after_insert(gone(), &redeem).unwrap(), Family::Revoked);
        assert_eq!(
            after_insert(gone(), &plain).unwrap_err().code(),
            "invalid_grant"
        );
        let full = || Err(Error::TemporarilyUnavailable("full".into()));
        assert_eq!(
            after_insert(full(), &redeem).unwrap_err().code(),
            "temporarily_unavailable"
        );
        let broken = || Err(Error::Internal("db".into()));
        assert!(after_insert(broken(), &redeem).is_err());
    }

    /// The provider's own compact JWS is the one `idforge_jose` makes for the same header:
    /// same protected header bytes, same payload, a signature that verifies (RFC 7515 §7.1).
    #[tokio::test]
    async fn own_compact_jws_matches_jose() {
        let payload = br#"{"iss":"https://op.example","sub":"a\"b"}"#;
        for (kid, alg, spec) in [
            (
                Some("k-1\"x"),
                JwsAlgorithm::ES256,
                KeySpec::Ec(EcCurve::P256),
            ),
            (None, JwsAlgorithm::ES384, KeySpec::Ec(EcCurve::P384)),
            (Some("rsa"), JwsAlgorithm::PS256, KeySpec::Rsa(2048)),
        ] {
            let key = Key::generate(spec).unwrap();
            let key = match kid {
                Some(kid) => Key::from_jwk(key.jwk().clone().with_kid(kid)).unwrap(),
                None => key,
            };
            let signer = LocalSigner::new(key.clone(), alg).unwrap();
            let ours = compact_own(&signer, "at+jwt", payload).await.unwrap();
            let theirs = idforge_jose::jws::sign_compact_with(
                idforge_jose::Header::new().with_typ("at+jwt"),
                payload,
                &signer,
            )
            .await
            .unwrap();
            let head = |t: &str| t.rsplit_once('.').unwrap().0.to_owned();
            assert_eq!(head(&ours), head(&theirs), "{alg:?}");
            let keys = KeySet::new(vec![key.to_public().unwrap()]);
            let v = JwsPolicy::new([alg]).verify_compact(&ours, &keys).unwrap();
            assert_eq!(v.payload, payload);
            assert_eq!(v.header.get("typ").and_then(|t| t.as_str()), Some("at+jwt"));
            assert_eq!(v.header.kid(), kid);
        }
    }
}
