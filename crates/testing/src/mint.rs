//! Minting tokens with any subject, audience, scopes and claims through oauth-core's own
//! issuance code (`issue::issue_access_token`, `issue::issue_id_token`), so they verify
//! against the published JWKS exactly as production tokens do.

use std::time::Duration;

use idforge_oauth_core::issue::{issue_access_token, issue_id_token, persists};
use idforge_oauth_core::secret::random_token;
use idforge_oauth_core::{Client, Grant, Scopes, TokenContents};
use serde_json::{Map, Value};

use crate::error::TestError;
use crate::provider::{TestIssuer, TEST_CLIENT_ID};

/// What an access token says: RFC 9068 claims plus any extra ones.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct AccessTokenSpec {
    /// `sub` (`None`: a client's own token, `sub` is the client id, RFC 9068 §2.2).
    pub subject: Option<String>,
    /// `client_id` (default [`TEST_CLIENT_ID`]).
    pub client_id: String,
    /// `aud` values (default: the issuer).
    pub audience: Vec<String>,
    /// `scope` values.
    pub scopes: Vec<String>,
    /// Extra claims (never over the provider's own: those are refused).
    pub claims: Map<String, Value>,
    /// Lifetime (default the provider's, one hour).
    pub ttl: Option<Duration>,
}

impl AccessTokenSpec {
    /// A token for user `subject`, issued to [`TEST_CLIENT_ID`].
    pub fn new(subject: impl Into<String>) -> Self {
        AccessTokenSpec {
            subject: Some(subject.into()),
            ..Self::for_client(TEST_CLIENT_ID)
        }
    }

    /// A client's own token (as the client credentials grant issues).
    pub fn for_client(client_id: impl Into<String>) -> Self {
        AccessTokenSpec {
            subject: None,
            client_id: client_id.into(),
            audience: Vec::new(),
            scopes: Vec::new(),
            claims: Map::new(),
            ttl: None,
        }
    }

    /// Sets `client_id`.
    pub fn client(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Adds an `aud` value.
    pub fn audience(mut self, aud: impl Into<String>) -> Self {
        self.audience.push(aud.into());
        self
    }

    /// Adds scopes (space-separated values are split).
    pub fn scope(mut self, scope: &str) -> Self {
        self.scopes
            .extend(scope.split_ascii_whitespace().map(str::to_owned));
        self
    }

    /// Adds an extra claim.
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }

    /// Sets the lifetime.
    pub fn ttl(mut self, ttl: Duration) -> Self {
        self.ttl = Some(ttl);
        self
    }
}

/// What an ID token says (OIDC Core §2): the subject, the client it is for, the login
/// context and any extra claims.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct IdTokenSpec {
    /// `sub`.
    pub subject: String,
    /// `aud` and `azp`: the client (default [`TEST_CLIENT_ID`]).
    pub client_id: String,
    /// `nonce`.
    pub nonce: Option<String>,
    /// `auth_time` (default now).
    pub auth_time: Option<i64>,
    /// `acr`.
    pub acr: Option<String>,
    /// `amr` (default `["pwd"]`).
    pub amr: Vec<String>,
    /// Extra claims (never over the provider's own: those are refused).
    pub claims: Map<String, Value>,
}

impl IdTokenSpec {
    /// An ID token about `subject` for [`TEST_CLIENT_ID`].
    pub fn new(subject: impl Into<String>) -> Self {
        IdTokenSpec {
            subject: subject.into(),
            client_id: TEST_CLIENT_ID.into(),
            nonce: None,
            auth_time: None,
            acr: None,
            amr: vec!["pwd".into()],
            claims: Map::new(),
        }
    }

    /// Sets the audience (the client id).
    pub fn audience(mut self, client_id: impl Into<String>) -> Self {
        self.client_id = client_id.into();
        self
    }

    /// Sets `nonce`.
    pub fn nonce(mut self, nonce: impl Into<String>) -> Self {
        self.nonce = Some(nonce.into());
        self
    }

    /// Sets `auth_time`.
    pub fn auth_time(mut self, unix_seconds: i64) -> Self {
        self.auth_time = Some(unix_seconds);
        self
    }

    /// Sets `acr`.
    pub fn acr(mut self, acr: impl Into<String>) -> Self {
        self.acr = Some(acr.into());
        self
    }

    /// Sets `amr`.
    pub fn amr<S: Into<String>>(mut self, amr: impl IntoIterator<Item = S>) -> Self {
        self.amr = amr.into_iter().map(Into::into).collect();
        self
    }

    /// Adds an extra claim.
    pub fn claim(mut self, name: impl Into<String>, value: Value) -> Self {
        self.claims.insert(name.into(), value);
        self
    }
}

impl TestIssuer {
    /// The registered client `client_id`, or an unregistered confidential one by that id
    /// (minting needs no client authentication).
    async fn client_for(&self, client_id: &str) -> Result<Client, TestError> {
        let ctx = &self.provider().ctx;
        Ok(match ctx.clients.client(client_id).await? {
            Some(c) => c,
            None => Client::confidential(client_id, "unregistered")
                .with_id_token_signed_response_alg(self.algorithm()),
        })
    }

    async fn grant(
        &self,
        client: &Client,
        subject: Option<&str>,
        scopes: Scopes,
        contents: TokenContents,
        auth: (Option<i64>, Option<String>, Vec<String>),
    ) -> Result<Grant, TestError> {
        let ctx = &self.provider().ctx;
        let now = ctx.now();
        let id = random_token(ctx.rng.as_ref(), 16)?;
        let lifetime = contents
            .access_token_ttl
            .unwrap_or(ctx.config.access_token_ttl)
            .max(ctx.config.id_token_ttl);
        let mut grant = Grant::new(
            id,
            client.client_id.clone(),
            scopes,
            now,
            now.saturating_add(lifetime),
        )
        .with_contents(contents);
        if let Some(sub) = subject {
            grant =
                grant
                    .with_subject(sub)
                    .with_authentication(auth.0.unwrap_or(now), auth.1, auth.2);
        }
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        Ok(grant)
    }

    /// Mints an access token (RFC 9068 JWT, `typ: at+jwt`) through the provider's issuance
    /// code; it is stored as the token endpoint's are, so introspection knows it.
    pub async fn issue_access_token(&self, spec: &AccessTokenSpec) -> Result<String, TestError> {
        let client = self.client_for(&spec.client_id).await?;
        let mut contents = TokenContents::new();
        for aud in &spec.audience {
            contents = contents.with_audience(aud.clone());
        }
        if let Some(ttl) = spec.ttl {
            contents = contents.with_access_token_ttl(secs(ttl));
        }
        for (name, value) in &spec.claims {
            contents
                .add_access_token_claim(name.clone(), value.clone())
                .map_err(|e| TestError::ReservedClaim(e.0))?;
        }
        let scopes = Scopes::from_values(spec.scopes.iter().cloned());
        let grant = self
            .grant(
                &client,
                spec.subject.as_deref(),
                scopes,
                contents,
                (None, None, vec!["pwd".into()]),
            )
            .await?;
        let ctx = &self.provider().ctx;
        Ok(issue_access_token(ctx, &client, &grant, &grant.scopes)
            .await?
            .token)
    }

    /// Mints an ID token (OIDC Core §2, `typ: JWT`) through the provider's issuance code.
    pub async fn issue_id_token(&self, spec: &IdTokenSpec) -> Result<String, TestError> {
        let client = self.client_for(&spec.client_id).await?;
        let mut contents = TokenContents::new();
        for (name, value) in &spec.claims {
            contents
                .add_id_token_claim(name.clone(), value.clone())
                .map_err(|e| TestError::ReservedClaim(e.0))?;
        }
        let mut grant = self
            .grant(
                &client,
                Some(&spec.subject),
                Scopes::from_values(["openid"]),
                contents,
                (spec.auth_time, spec.acr.clone(), spec.amr.clone()),
            )
            .await?;
        grant.nonce = spec.nonce.clone();
        let ctx = &self.provider().ctx;
        Ok(issue_id_token(ctx, &client, &grant, None, None).await?)
    }
}

pub(crate) fn secs(d: Duration) -> i64 {
    i64::try_from(d.as_secs()).unwrap_or(i64::MAX)
}
