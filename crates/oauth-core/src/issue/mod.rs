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
use crate::records::Grant;

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
}

/// Issues the token response for `grant` (access token, optionally refresh and ID tokens).
/// When tokens are stored ([`persists`]), `grant` must already be in the grant store.
pub async fn issue_token_response(
    ctx: &Context,
    client: &Client,
    grant: &Grant,
    scopes: &Scopes,
    options: IssueOptions<'_>,
) -> Result<TokenResponse> {
    let at = issue_access_token(ctx, client, grant, scopes).await?;
    let refresh_token = if options.refresh_token {
        let (token, record) = issue_refresh_token(ctx, client, grant, scopes).await?;
        if let Some(record) = record {
            ctx.grants.insert_token(record).await?;
        }
        Some(token)
    } else {
        None
    };
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

/// Signs `payload` with the provider's current key under a header with `typ` (access and
/// refresh tokens; RFC 8725 §3.11 explicit typing).
async fn sign_own(ctx: &Context, typ: &str, payload: &[u8]) -> Result<String> {
    let signer = ctx.keys.signer(None).await?;
    let header = idforge_jose::Header::new().with_typ(typ);
    Ok(idforge_jose::jws::sign_compact_with(header, payload, signer.as_ref()).await?)
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
