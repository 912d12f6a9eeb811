//! The device authorization grant (RFC 8628): what the device authorization endpoint, the
//! verification page or app-native API and the token endpoint share ([`DeviceFlow`]: settings
//! and ports), the pure decisions (code lifetime, user-code drawing, the device authorization
//! response), and the [`DeviceCodeGrant`] token-endpoint handler.

use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{json, Map, Value};

use crate::client::Client;
use crate::config::Config;
use crate::context::Context;
use crate::device::{
    DeviceApproval, DeviceAuthorization, DeviceSettings, PollOutcome, UserCode,
    DEVICE_CODE_GRANT_TYPE, USER_CODE_ALPHABET, USER_CODE_LEN,
};
use crate::error::{Error, Result};
use crate::issue::{issue_token_response, persists, IssueOptions};
use crate::model::{Scopes, TokenRequest, TokenResponse};
use crate::ports::{AttemptLimiter, DeviceCodeStore};
use crate::records::Grant;
use crate::secret::{random_token, Rng, TokenHash, SECRET_BYTES};

use super::{wants_refresh, GrantHandler};

/// The registration member by which a client sets its own device-code lifetime, in seconds.
pub const CLIENT_EXPIRY_MEMBER: &str = "device_code_expiry_seconds";

/// The device flow's settings and ports, shared by its endpoints and its grant handler.
pub struct DeviceFlow {
    /// Settings (validated by [`DeviceFlow::new`]).
    pub settings: DeviceSettings,
    /// Device authorizations.
    pub store: Arc<dyn DeviceCodeStore>,
    /// Attempt limits of user-code entry.
    pub limiter: Arc<dyn AttemptLimiter>,
}

impl std::fmt::Debug for DeviceFlow {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeviceFlow")
            .field("settings", &self.settings)
            .finish_non_exhaustive()
    }
}

impl DeviceFlow {
    /// The flow over `store` and `limiter`; fails if `settings` are invalid.
    pub fn new(
        settings: DeviceSettings,
        store: Arc<dyn DeviceCodeStore>,
        limiter: Arc<dyn AttemptLimiter>,
    ) -> Result<Arc<Self>, crate::device::DeviceSettingsError> {
        settings.validate()?;
        Ok(Arc::new(DeviceFlow {
            settings,
            store,
            limiter,
        }))
    }

    /// `{issuer}{device_authorization_path}`.
    pub fn device_authorization_endpoint(&self, config: &Config) -> String {
        config.url(&self.settings.device_authorization_path)
    }

    /// `{issuer}{verification_path}` (RFC 8628 §3.2 `verification_uri`).
    pub fn verification_uri(&self, config: &Config) -> String {
        config.url(&self.settings.verification_path)
    }

    /// The token-endpoint handler of this flow.
    pub fn grant(self: &Arc<Self>) -> Arc<DeviceCodeGrant> {
        Arc::new(DeviceCodeGrant { flow: self.clone() })
    }
}

/// The code lifetime for `client`: its `device_code_expiry_seconds` registration member when
/// it is a positive integer, else the configured one.
pub fn expires_in_for(settings: &DeviceSettings, client: &Client) -> i64 {
    client
        .metadata(CLIENT_EXPIRY_MEMBER)
        .and_then(Value::as_i64)
        .filter(|s| *s > 0)
        .unwrap_or(settings.expires_in)
}

/// Draws a user code from `rng`: 8 characters of the RFC 8628 §6.1 alphabet, each uniform
/// (rejection sampling: bytes ≥ 240 are redrawn, so `byte % 20` has no bias).
pub fn draw_user_code(rng: &dyn Rng) -> Result<UserCode> {
    let mut out = [0u8; USER_CODE_LEN];
    let mut filled = 0;
    let limit = (256 / USER_CODE_ALPHABET.len() * USER_CODE_ALPHABET.len()) as u8;
    // Each round keeps ~94% of the bytes; 16 rounds failing is a broken RNG.
    for _ in 0..16 {
        let mut buf = [0u8; 16];
        rng.fill(&mut buf)?;
        for b in buf {
            if b < limit && filled < USER_CODE_LEN {
                out[filled] = b % USER_CODE_ALPHABET.len() as u8;
                filled += 1;
            }
        }
        if filled == USER_CODE_LEN {
            return Ok(UserCode::from_indices(&out));
        }
    }
    Err(Error::Internal("random source is biased".into()))
}

/// The device authorization response (RFC 8628 §3.2).
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct DeviceAuthorizationResponse {
    /// The device verification code (256 bits, base64url).
    pub device_code: String,
    /// The user code, shown as `XXXX-XXXX`.
    pub user_code: String,
    /// The verification page.
    pub verification_uri: String,
    /// The verification page with the user code filled in (RFC 8628 §3.3.1).
    pub verification_uri_complete: String,
    /// Lifetime of the codes, in seconds.
    pub expires_in: i64,
    /// Minimum polling interval, in seconds.
    pub interval: i64,
}

impl DeviceAuthorizationResponse {
    /// The JSON body (RFC 8628 §3.2).
    pub fn to_json(&self) -> Value {
        json!({
            "device_code": self.device_code,
            "user_code": self.user_code,
            "verification_uri": self.verification_uri,
            "verification_uri_complete": self.verification_uri_complete,
            "expires_in": self.expires_in,
            "interval": self.interval,
        })
    }
}

/// `verification_uri?user_code=XXXX-XXXX` (RFC 8628 §3.3.1).
pub fn verification_uri_complete(verification_uri: &str, user_code: &UserCode) -> String {
    let sep = if verification_uri.contains('?') {
        '&'
    } else {
        '?'
    };
    format!("{verification_uri}{sep}user_code={}", user_code.display())
}

/// Makes and stores a device authorization for `client` and `scopes` (RFC 8628 §3.1, §3.2):
/// a 256-bit device code, a fresh user code (redrawn on a collision), the client's lifetime.
pub async fn start(
    ctx: &Context,
    flow: &DeviceFlow,
    client: &Client,
    scopes: Scopes,
) -> Result<DeviceAuthorizationResponse> {
    let now = ctx.now();
    let expires_in = expires_in_for(&flow.settings, client);
    for _ in 0..8 {
        let device_code = random_token(ctx.rng.as_ref(), SECRET_BYTES)?;
        let user_code = draw_user_code(ctx.rng.as_ref())?;
        let record = DeviceAuthorization::new(
            TokenHash::of(&device_code),
            user_code.hash(),
            client.client_id.clone(),
            scopes.clone(),
            now,
            expires_in,
            flow.settings.interval,
        );
        if flow.store.insert(record).await? {
            let verification_uri = flow.verification_uri(&ctx.config);
            return Ok(DeviceAuthorizationResponse {
                device_code,
                user_code: user_code.display(),
                verification_uri_complete: verification_uri_complete(&verification_uri, &user_code),
                verification_uri,
                expires_in,
                interval: flow.settings.interval,
            });
        }
    }
    Err(Error::TemporarilyUnavailable(
        "no free user code; try again".into(),
    ))
}

/// The grant made from a redeemed device authorization: the approving user, their
/// authentication, the requested scopes, living as long as refresh tokens.
pub fn grant_of(
    ctx: &Context,
    id: String,
    authorization: &DeviceAuthorization,
    approval: &DeviceApproval,
    now: i64,
) -> Grant {
    Grant::new(
        id,
        authorization.client_id.clone(),
        authorization.scopes.clone(),
        now,
        now.saturating_add(ctx.config.refresh_token_ttl),
    )
    .with_subject(approval.subject.clone())
    .with_authentication(approval.auth_time, None, approval.amr.clone())
}

/// The `urn:ietf:params:oauth:grant-type:device_code` handler (RFC 8628 §3.4, §3.5).
#[derive(Debug)]
pub struct DeviceCodeGrant {
    flow: Arc<DeviceFlow>,
}

#[async_trait]
impl GrantHandler for DeviceCodeGrant {
    fn grant_type(&self) -> &str {
        DEVICE_CODE_GRANT_TYPE
    }

    /// RFC 8628 §3.4: `device_code` of this client. The store applies the poll atomically:
    /// `authorization_pending`, `slow_down`, `access_denied`, `expired_token` (§3.5), or the
    /// tokens, once.
    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse> {
        let code = req.params.require("device_code")?;
        let now = ctx.now();
        let outcome = self
            .flow
            .store
            .poll(&TokenHash::of(code), &client.client_id, now)
            .await?;
        let (authorization, approval) = match outcome {
            PollOutcome::Redeemed(a, approval) => (a, approval),
            other => {
                return Err(other
                    .error()
                    .unwrap_or_else(|| Error::InvalidGrant("invalid device_code".into())))
            }
        };
        let id = random_token(ctx.rng.as_ref(), 16)?;
        let mut grant = grant_of(ctx, id, &authorization, &approval, now);
        super::shape_decoupled_grant(ctx, client, DEVICE_CODE_GRANT_TYPE, &mut grant).await?;
        let options = IssueOptions::new()
            .refresh_token(wants_refresh(&ctx.config, client))
            .id_token(grant.scopes.contains("openid"))
            .new_grant(persists(ctx, client));
        issue_token_response(ctx, client, &grant, &grant.scopes, options).await
    }

    /// RFC 8628 §4: `device_authorization_endpoint`.
    fn discovery(&self, config: &Config, metadata: &mut Map<String, Value>) {
        metadata.insert(
            "device_authorization_endpoint".into(),
            json!(self.flow.device_authorization_endpoint(config)),
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Counter(std::sync::atomic::AtomicU8);
    impl Rng for Counter {
        fn fill(&self, buf: &mut [u8]) -> Result<()> {
            for b in buf {
                *b = self.0.fetch_add(37, std::sync::atomic::Ordering::Relaxed);
            }
            Ok(())
        }
    }

    struct Biased;
    impl Rng for Biased {
        fn fill(&self, buf: &mut [u8]) -> Result<()> {
            buf.fill(255);
            Ok(())
        }
    }

    #[test]
    fn user_codes_use_the_alphabet_without_bias() {
        let rng = Counter(std::sync::atomic::AtomicU8::new(0));
        for _ in 0..50 {
            let c = draw_user_code(&rng).unwrap();
            assert_eq!(c.as_str().len(), 8);
            assert!(c.as_str().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            assert_eq!(UserCode::parse(&c.display()).unwrap(), c);
        }
        // Bytes ≥ 240 are never used.
        assert_eq!(draw_user_code(&Biased).unwrap_err().code(), "server_error");
    }

    #[test]
    fn a_client_may_set_its_own_lifetime() {
        let s = DeviceSettings::new();
        let c = Client::public("tv");
        assert_eq!(expires_in_for(&s, &c), 600);
        let c = c.with_metadata(CLIENT_EXPIRY_MEMBER, json!(120));
        assert_eq!(expires_in_for(&s, &c), 120);
        let c = Client::public("tv").with_metadata(CLIENT_EXPIRY_MEMBER, json!(-1));
        assert_eq!(expires_in_for(&s, &c), 600);
    }

    #[test]
    fn verification_uri_complete_carries_the_code() {
        let c = UserCode::parse("WDJBMJHT").unwrap();
        assert_eq!(
            verification_uri_complete("https://op.example/device", &c),
            "https://op.example/device?user_code=WDJB-MJHT"
        );
        assert_eq!(
            verification_uri_complete("https://op.example/device?x=1", &c),
            "https://op.example/device?x=1&user_code=WDJB-MJHT"
        );
    }
}
