//! End-to-end flows through a real oauth-core provider (public API only): the backchannel
//! endpoint's rules (CIBA §7, §13), approval, the token endpoint grant (§10.1, §11) in poll and
//! ping modes, push delivery (§10.3), on-behalf-of tokens with `act`, signed requests (§7.1.1),
//! `id_token_hint`, discovery (§4), and 1,000 concurrent polls giving exactly one token.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_ciba::memory::{MemoryCibaRequestStore, MemoryUserResolver, RecordingNotifier};
use idforge_ciba::{
    AgentClientActors, Approval, Channel, Ciba, CibaClient, CibaConfig, DeliveryMode,
    DeliveryReport, StateName, Verdict, GRANT_TYPE,
};
use idforge_jose::{
    crypto::EcCurve, FixedClock, Header, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet,
    KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, Error, OsRng, Provider, TokenRequest, TokenResponse};
use serde_json::{json, Map, Value};

const ISSUER: &str = "https://op.example";
const NOW: i64 = 1_800_000_000;
const ACCESS_TOKEN_TYPE: &str = "urn:ietf:params:oauth:token-type:access_token";

struct Op {
    provider: Arc<Provider>,
    ciba: Ciba,
    clock: Arc<FixedClock>,
    notifier: Arc<RecordingNotifier>,
    op_key: Key,
    client_key: Key,
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

fn ciba_client(id: &str, c: CibaClient) -> Client {
    c.apply(
        Client::confidential(id, &format!("{id}-secret")).with_grant_types([
            GRANT_TYPE,
            "refresh_token",
            "client_credentials",
        ]),
    )
}

fn op() -> Op {
    let op_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let client_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let client_key = Key::from_jwk(client_key.jwk().clone().with_kid("signer-1")).unwrap();
    let signer_client = CibaClient::default()
        .with_signing_alg(JwsAlgorithm::ES256)
        .apply(
            Client::private_key_jwt(
                "signer",
                JwkSet {
                    keys: vec![client_key.public_jwk().unwrap()],
                },
            )
            .with_grant_types([GRANT_TYPE]),
        );
    let clients = MemoryClientStore::with_clients([
        ciba_client("assistant", CibaClient::default().with_agent()),
        ciba_client("other", CibaClient::default()),
        ciba_client(
            "pinger",
            CibaClient::default()
                .with_delivery(DeliveryMode::Ping, Some("https://rp.example/ping".into())),
        ),
        ciba_client(
            "pusher",
            CibaClient::default()
                .with_delivery(DeliveryMode::Push, Some("https://rp.example/push".into())),
        ),
        ciba_client("coded", CibaClient::default().with_user_code()),
        ciba_client(
            "mailer",
            CibaClient::default().with_channels([Channel::Email, Channel::Sms]),
        ),
        ciba_client(
            "sms-only",
            CibaClient::default().with_channels([Channel::Sms]),
        ),
        ciba_client("plain-agent", CibaClient::default().with_agent()),
        signer_client,
        Client::confidential("web", "web-secret").with_redirect_uri("https://rp.example/cb"),
        Client::public("public").with_grant_types([GRANT_TYPE]),
    ]);
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    let mut claims = Map::new();
    claims.insert("email".into(), json!("alice@example.com"));
    claims.insert("phone_number".into(), json!("+15550100"));
    users
        .add_user("alice", "pw", claims, &OsRng::new())
        .unwrap();
    users
        .add_user("bob", "pw", Map::new(), &OsRng::new())
        .unwrap();
    let resolver = Arc::new(MemoryUserResolver::new());
    resolver.add_login_hint("alice", "alice");
    resolver.add_login_hint("alice@example.com", "alice");
    resolver.add_login_hint("bob", "bob");
    resolver.add_login_hint("ghost", "ghost");
    resolver.add_login_hint_token("hint-token", "alice", NOW + 60);
    resolver.add_login_hint_token("old-hint-token", "alice", NOW - 1);
    resolver.set_user_code("alice", "4711");
    let notifier = Arc::new(RecordingNotifier::new());
    let ciba = Ciba::builder(
        CibaConfig::new(ISSUER).with_authorization_details_types(["calendar_event", "payment"]),
    )
    .store(Arc::new(MemoryCibaRequestStore::new()))
    .users(resolver)
    .notifier(notifier.clone())
    .actors(Arc::new(AgentClientActors))
    .build()
    .unwrap();
    let clock = Arc::new(FixedClock::new(NOW));
    let config = Config::new(ISSUER)
        .with_grant_type(GRANT_TYPE)
        .with_grant_type("client_credentials");
    let builder = Provider::builder(config)
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users)
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(clock.clone());
    let provider = ciba.register(builder).build().unwrap();
    Op {
        provider: Arc::new(provider),
        ciba,
        clock,
        notifier,
        op_key,
        client_key,
    }
}

impl Op {
    async fn bc(&self, client: &str, body: &str) -> Result<Value, Error> {
        let req = TokenRequest::from_form(
            body.as_bytes(),
            Some(basic(client, &format!("{client}-secret"))),
            &self.provider.ctx.config.limits,
        )?;
        self.ciba
            .backchannel(&self.provider.ctx, &req)
            .await
            .map(|r| r.to_json())
    }

    async fn bc_err(&self, client: &str, body: &str) -> (&'static str, u16) {
        let e = self.bc(client, body).await.unwrap_err();
        (e.code(), e.status())
    }

    async fn poll(&self, client: &str, auth_req_id: &str) -> Result<TokenResponse, Error> {
        let body = format!("grant_type={}&auth_req_id={auth_req_id}", enc(GRANT_TYPE));
        self.provider
            .token
            .handle_form(
                body.as_bytes(),
                Some(&basic(client, &format!("{client}-secret"))),
            )
            .await
    }

    fn handle_of(&self, r: &Value) -> String {
        let url = r["auth_url"].as_str().unwrap();
        url.split_once("handle=").unwrap().1.to_owned()
    }

    async fn approve(
        &self,
        handle: &str,
        user: &str,
    ) -> Result<idforge_ciba::DecisionOutcome, Error> {
        let a = Approval::new(self.clock_now(), vec!["pwd".into()]);
        self.ciba
            .decide(&self.provider.ctx, handle, user, Verdict::Approve(a))
            .await
    }

    fn clock_now(&self) -> i64 {
        use idforge_jose::Clock;
        self.clock.now()
    }

    fn claims(&self, jwt: &str) -> Value {
        let v = JwsPolicy::new([JwsAlgorithm::ES256])
            .verify_compact(jwt, &KeySet::new(vec![self.op_key.to_public().unwrap()]))
            .unwrap();
        serde_json::from_slice(&v.payload).unwrap()
    }

    async fn client_token(&self, client: &str) -> String {
        self.provider
            .token
            .handle_form(
                b"grant_type=client_credentials",
                Some(&basic(client, &format!("{client}-secret"))),
            )
            .await
            .unwrap()
            .access_token
    }
}

const BASIC_REQ: &str = "scope=openid%20email&login_hint=alice&binding_message=W4SCT";

#[tokio::test]
async fn poll_mode_end_to_end() {
    let op = op();
    let r = op.bc("other", BASIC_REQ).await.unwrap();
    let id = r["auth_req_id"].as_str().unwrap().to_owned();
    // §7.3: at least 128 bits; expires_in, interval, auth_url (external channel).
    assert!(id.len() >= 22, "{id}");
    assert_eq!(r["expires_in"], 120);
    assert_eq!(r["interval"], 5);
    let handle = op.handle_of(&r);
    assert_ne!(handle, id, "the approval handle is not the auth_req_id");
    // §11 authorization_pending, then slow_down when polling faster than the interval.
    assert_eq!(
        op.poll("other", &id).await.unwrap_err().code(),
        "authorization_pending"
    );
    let e = op.poll("other", &id).await.unwrap_err();
    assert_eq!((e.code(), e.status()), ("slow_down", 400));
    assert_eq!(e.to_json()["interval"], 10);
    op.clock.advance(10);
    assert_eq!(
        op.poll("other", &id).await.unwrap_err().code(),
        "authorization_pending"
    );
    // The approval view shows what the user approves.
    let view = op
        .ciba
        .approval_view(&handle, op.clock_now())
        .await
        .unwrap();
    assert_eq!(view.client_id, "other");
    assert_eq!(view.binding_message.as_deref(), Some("W4SCT"));
    assert_eq!(view.scopes, ["openid", "email"]);
    assert_eq!(view.subject, "alice");
    let json = serde_json::to_value(&view).unwrap();
    assert_eq!(json["state"], "pending");
    // The auth_req_id does not work as an approval handle (the client cannot approve).
    assert_eq!(
        op.approve(&id, "alice").await.unwrap_err().code(),
        "invalid_request"
    );
    // Another user cannot approve.
    assert_eq!(
        op.approve(&handle, "bob").await.unwrap_err().code(),
        "access_denied"
    );
    let out = op.approve(&handle, "alice").await.unwrap();
    assert_eq!(out.state, StateName::Approved);
    assert_eq!(out.delivery, None);
    // Another client's poll: invalid_grant, and it spends nothing.
    op.clock.advance(5);
    assert_eq!(
        op.poll("assistant", &id).await.unwrap_err().code(),
        "invalid_grant"
    );
    let t = op.poll("other", &id).await.unwrap();
    let at = op.claims(&t.access_token);
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["client_id"], "other");
    assert!(at.get("act").is_none());
    let idt = op.claims(t.id_token.as_deref().unwrap());
    assert_eq!(idt["sub"], "alice");
    assert_eq!(idt["aud"], "other");
    assert_eq!(idt["amr"], json!(["pwd"]));
    assert!(idt["at_hash"].is_string());
    assert!(t.refresh_token.is_some());
    // Single use.
    assert_eq!(
        op.poll("other", &id).await.unwrap_err().code(),
        "invalid_grant"
    );
    // The approval handle is spent too.
    assert!(op
        .ciba
        .approval_view(&handle, op.clock_now())
        .await
        .is_err());
}

#[tokio::test]
async fn denial_gives_access_denied_400_at_the_token_endpoint() {
    let op = op();
    let r = op.bc("other", BASIC_REQ).await.unwrap();
    let id = r["auth_req_id"].as_str().unwrap();
    let handle = op.handle_of(&r);
    let out = op
        .ciba
        .decide(&op.provider.ctx, &handle, "alice", Verdict::Deny)
        .await
        .unwrap();
    assert_eq!(out.state, StateName::Denied);
    let e = op.poll("other", id).await.unwrap_err();
    assert_eq!((e.code(), e.status()), ("access_denied", 400));
    // A second verdict is refused.
    assert!(op.approve(&handle, "alice").await.is_err());
}

#[tokio::test]
async fn expiry_gives_expired_token_until_the_record_is_dropped() {
    let op = op();
    let r = op
        .bc("other", &format!("{BASIC_REQ}&requested_expiry=30"))
        .await
        .unwrap();
    assert_eq!(r["expires_in"], 30);
    let id = r["auth_req_id"].as_str().unwrap();
    let handle = op.handle_of(&r);
    op.clock.advance(30);
    assert_eq!(
        op.approve(&handle, "alice").await.unwrap_err().code(),
        "invalid_request"
    );
    let e = op.poll("other", id).await.unwrap_err();
    assert_eq!(e.code(), "expired_token");
    // §7.1 requested_expiry is capped by configuration.
    let r = op
        .bc("other", &format!("{BASIC_REQ}&requested_expiry=99999"))
        .await
        .unwrap();
    assert_eq!(r["expires_in"], 600);
    op.clock.advance(59);
    op.ciba.expire_due(&op.provider.ctx).await.unwrap();
    assert_eq!(
        op.poll("other", id).await.unwrap_err().code(),
        "expired_token"
    );
    op.clock.advance(1);
    op.ciba.expire_due(&op.provider.ctx).await.unwrap();
    assert_eq!(
        op.poll("other", id).await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn backchannel_endpoint_rules_s7_s13() {
    let op = op();
    // §7.1 confidential clients only, authenticated.
    let e = op
        .ciba
        .backchannel(
            &op.provider.ctx,
            &TokenRequest::from_form(
                format!("{BASIC_REQ}&client_id=public").as_bytes(),
                None,
                &op.provider.ctx.config.limits,
            )
            .unwrap(),
        )
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("invalid_client", 401));
    let req = TokenRequest::from_form(
        BASIC_REQ.as_bytes(),
        Some(basic("other", "wrong")),
        &op.provider.ctx.config.limits,
    )
    .unwrap();
    let e = op
        .ciba
        .backchannel(&op.provider.ctx, &req)
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("invalid_client", 401));
    // A client not registered for the grant.
    assert_eq!(
        op.bc_err("web", BASIC_REQ).await,
        ("unauthorized_client", 400)
    );
    // §13 codes with their statuses.
    let cases: &[(&str, &str, (&str, u16))] = &[
        ("other", "login_hint=alice", ("invalid_scope", 400)),
        ("other", "scope=email&login_hint=alice", ("invalid_scope", 400)),
        ("other", "scope=openid%20admin&login_hint=alice", ("invalid_scope", 400)),
        ("other", "scope=openid", ("invalid_request", 400)),
        (
            "other",
            "scope=openid&login_hint=alice&id_token_hint=x",
            ("invalid_request", 400),
        ),
        ("other", "scope=openid&login_hint=nobody", ("unknown_user_id", 400)),
        // Resolvable hint, but the user no longer exists.
        ("other", "scope=openid&login_hint=ghost", ("unknown_user_id", 400)),
        (
            "other",
            "scope=openid&login_hint_token=old-hint-token",
            ("expired_login_hint_token", 400),
        ),
        (
            "other",
            "scope=openid&login_hint_token=unknown",
            ("unknown_user_id", 400),
        ),
        (
            "other",
            "scope=openid&login_hint=alice&binding_message=0123456789012345678901234567890123456789012345678901",
            ("invalid_binding_message", 400),
        ),
        ("coded", "scope=openid&login_hint=alice", ("missing_user_code", 400)),
        (
            "coded",
            "scope=openid&login_hint=alice&user_code=0000",
            ("invalid_user_code", 400),
        ),
        ("pinger", "scope=openid&login_hint=alice", ("invalid_request", 400)),
        // §13 access_denied is 403 at this endpoint: the user cannot be reached.
        ("sms-only", "scope=openid&login_hint=bob", ("access_denied", 403)),
        (
            "other",
            "scope=openid&login_hint=alice&authorization_details=%5B%7B%22type%22%3A%22x%22%7D%5D",
            ("invalid_authorization_details", 400),
        ),
        ("other", "scope=openid&login_hint=alice&resource=nope", ("invalid_target", 400)),
        ("other", "scope=openid&login_hint=alice&id_token_hint=a.b.c", ("invalid_request", 400)),
        ("signer", BASIC_REQ, ("invalid_client", 401)),
    ];
    for (client, body, want) in cases {
        assert_eq!(op.bc_err(client, body).await, *want, "{client}: {body}");
    }
    // Accepted forms.
    let r = op
        .bc("coded", "scope=openid&login_hint=alice&user_code=4711")
        .await
        .unwrap();
    assert!(r["auth_req_id"].is_string());
    let r = op
        .bc("other", "scope=openid&login_hint_token=hint-token")
        .await
        .unwrap();
    assert!(r["auth_req_id"].is_string());
    let r = op
        .bc(
            "other",
            "scope=openid&login_hint=alice%40example.com&acr_values=urn%3Amfa",
        )
        .await
        .unwrap();
    let view = op.ciba.approval_view(&op.handle_of(&r), NOW).await.unwrap();
    assert_eq!(view.acr_values, ["urn:mfa"]);
}

#[tokio::test]
async fn email_and_sms_channels_send_messages_without_auth_url() {
    let op = op();
    let r = op.bc("mailer", BASIC_REQ).await.unwrap();
    assert!(
        r.get("auth_url").is_none(),
        "only external puts auth_url in the response"
    );
    let sent = op.notifier.user_notifications();
    assert_eq!(sent.len(), 2);
    assert_eq!(sent[0].channel, Channel::Email);
    assert_eq!(sent[0].to, "alice@example.com");
    assert_eq!(sent[1].channel, Channel::Sms);
    assert_eq!(sent[1].to, "+15550100");
    for m in &sent {
        assert!(m.text.contains("W4SCT"));
        assert!(m.text.contains(&format!("{ISSUER}/bc-approve?handle=")));
    }
    // The link's handle approves.
    let handle = sent[0].approval_url.split_once("handle=").unwrap().1;
    op.approve(handle, "alice").await.unwrap();
    let t = op.poll("mailer", r["auth_req_id"].as_str().unwrap()).await;
    assert!(t.is_ok());
}

#[tokio::test]
async fn id_token_hint_may_be_expired_but_must_be_ours_for_this_client() {
    let op = op();
    // Get an ID token for alice through a first CIBA round.
    let r = op.bc("other", BASIC_REQ).await.unwrap();
    op.approve(&op.handle_of(&r), "alice").await.unwrap();
    let t = op
        .poll("other", r["auth_req_id"].as_str().unwrap())
        .await
        .unwrap();
    let id_token = t.id_token.unwrap();
    // Expired by now.
    op.clock.advance(7200);
    let r = op
        .bc("other", &format!("scope=openid&id_token_hint={id_token}"))
        .await
        .unwrap();
    let view = op
        .ciba
        .approval_view(&op.handle_of(&r), op.clock_now())
        .await
        .unwrap();
    assert_eq!(view.subject, "alice");
    // Issued to another client: refused.
    assert_eq!(
        op.bc_err(
            "assistant",
            &format!("scope=openid&id_token_hint={id_token}")
        )
        .await,
        ("invalid_request", 400)
    );
    // An access token is not an ID token.
    assert_eq!(
        op.bc_err(
            "other",
            &format!("scope=openid&id_token_hint={}", t.access_token)
        )
        .await,
        ("invalid_request", 400)
    );
}

#[tokio::test]
async fn on_behalf_of_an_agent_task_scoped_token() {
    let op = op();
    let actor = op.client_token("assistant").await;
    let details = r#"[{"type":"calendar_event","action":"create","title":"Sync with Bob","start":"2027-01-12T10:00:00Z"}]"#;
    let body = format!(
        "scope=openid&login_hint=alice&binding_message=MEET-42&actor_token={actor}&actor_token_type={}&authorization_details={}&resource={}",
        enc(ACCESS_TOKEN_TYPE),
        enc(details),
        enc("https://calendar.example/")
    );
    let r = op.bc("assistant", &body).await.unwrap();
    let handle = op.handle_of(&r);
    let view = op.ciba.approval_view(&handle, NOW).await.unwrap();
    assert_eq!(view.actor.as_deref(), Some("assistant"));
    assert_eq!(
        view.authorization_details.as_ref().unwrap()[0]["type"],
        "calendar_event"
    );
    op.approve(&handle, "alice").await.unwrap();
    let t = op
        .poll("assistant", r["auth_req_id"].as_str().unwrap())
        .await
        .unwrap();
    let at = op.claims(&t.access_token);
    assert_eq!(at["sub"], "alice");
    assert_eq!(at["act"], json!({"sub": "assistant"}));
    assert_eq!(at["aud"], "https://calendar.example/");
    assert_eq!(at["authorization_details"][0]["title"], "Sync with Bob");
    assert_eq!(at["scope"], "openid");
    // Refresh keeps the task scope and the actor.
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        enc(t.refresh_token.as_deref().unwrap())
    );
    let t2 = op
        .provider
        .token
        .handle_form(
            body.as_bytes(),
            Some(&basic("assistant", "assistant-secret")),
        )
        .await
        .unwrap();
    assert_eq!(op.claims(&t2.access_token)["act"]["sub"], "assistant");

    // Another client presenting the agent's token: refused (the agent sends its own request).
    let body = format!(
        "{BASIC_REQ}&actor_token={actor}&actor_token_type={}",
        enc(ACCESS_TOKEN_TYPE)
    );
    assert_eq!(op.bc_err("other", &body).await, ("invalid_request", 400));
    // A token of a client that is not an agent proves nothing.
    let not_agent = op.client_token("other").await;
    let body = format!(
        "{BASIC_REQ}&actor_token={not_agent}&actor_token_type={}",
        enc(ACCESS_TOKEN_TYPE)
    );
    assert_eq!(op.bc_err("other", &body).await, ("invalid_request", 400));
    // Wrong type, garbage token, user token.
    for (tok, ty) in [
        (actor.as_str(), "urn:ietf:params:oauth:token-type:id_token"),
        ("garbage", ACCESS_TOKEN_TYPE),
        (t.access_token.as_str(), ACCESS_TOKEN_TYPE),
    ] {
        let body = format!("{BASIC_REQ}&actor_token={tok}&actor_token_type={}", enc(ty));
        assert_eq!(
            op.bc_err("assistant", &body).await,
            ("invalid_request", 400)
        );
    }
}

#[tokio::test]
async fn ping_mode_pings_then_the_client_polls() {
    let op = op();
    let r = op
        .bc(
            "pinger",
            &format!("{BASIC_REQ}&client_notification_token=ping-tok-1"),
        )
        .await
        .unwrap();
    let id = r["auth_req_id"].as_str().unwrap();
    assert_eq!(r["interval"], 5);
    let out = op.approve(&op.handle_of(&r), "alice").await.unwrap();
    assert_eq!(
        out.delivery,
        Some(DeliveryReport::Delivered { attempts: 1 })
    );
    let sent = op.notifier.client_notifications();
    assert_eq!(sent.len(), 1);
    assert_eq!(sent[0].mode, DeliveryMode::Ping);
    assert_eq!(sent[0].endpoint, "https://rp.example/ping");
    assert_eq!(sent[0].bearer, "ping-tok-1");
    assert_eq!(sent[0].body, json!({ "auth_req_id": id }));
    assert!(op.poll("pinger", id).await.is_ok());
}

#[tokio::test]
async fn push_mode_delivers_tokens_with_auth_req_id_at_hash_rt_hash() {
    let op = op();
    let r = op
        .bc(
            "pusher",
            &format!("{BASIC_REQ}&client_notification_token=push-tok"),
        )
        .await
        .unwrap();
    assert!(r.get("interval").is_none(), "no polling in push mode");
    let id = r["auth_req_id"].as_str().unwrap().to_owned();
    // §10.3: push clients do not poll.
    assert_eq!(
        op.poll("pusher", &id).await.unwrap_err().code(),
        "unauthorized_client"
    );
    let out = op.approve(&op.handle_of(&r), "alice").await.unwrap();
    assert_eq!(out.state, StateName::Redeemed);
    let sent = op.notifier.client_notifications();
    assert_eq!(sent.len(), 1);
    let body = &sent[0].body;
    assert_eq!(sent[0].mode, DeliveryMode::Push);
    assert_eq!(sent[0].bearer, "push-tok");
    assert_eq!(body["auth_req_id"], id.as_str());
    let idt = op.claims(body["id_token"].as_str().unwrap());
    assert_eq!(idt["urn:openid:params:jwt:claim:auth_req_id"], id.as_str());
    let half = |v: &str| idforge_oauth_core::issue::half_hash(JwsAlgorithm::ES256, v);
    assert_eq!(idt["at_hash"], half(body["access_token"].as_str().unwrap()));
    assert_eq!(
        idt["rt_hash"],
        half(body["refresh_token"].as_str().unwrap())
    );
    assert_eq!(
        op.claims(body["access_token"].as_str().unwrap())["sub"],
        "alice"
    );

    // Denial and expiry push the error payload (§12).
    let r = op
        .bc(
            "pusher",
            &format!("{BASIC_REQ}&client_notification_token=push-tok"),
        )
        .await
        .unwrap();
    op.ciba
        .decide(&op.provider.ctx, &op.handle_of(&r), "alice", Verdict::Deny)
        .await
        .unwrap();
    let last = op.notifier.client_notifications().pop().unwrap();
    assert_eq!(last.body["error"], "access_denied");
    assert_eq!(last.body["auth_req_id"], r["auth_req_id"]);
    let r = op
        .bc(
            "pusher",
            &format!("{BASIC_REQ}&client_notification_token=push-tok"),
        )
        .await
        .unwrap();
    op.clock.advance(120);
    let reports = op.ciba.expire_due(&op.provider.ctx).await.unwrap();
    assert_eq!(reports.len(), 1);
    let last = op.notifier.client_notifications().pop().unwrap();
    assert_eq!(last.body["error"], "expired_token");
    assert_eq!(last.body["auth_req_id"], r["auth_req_id"]);
}

fn signed_request(op: &Op, claims: Value) -> String {
    let signer = LocalSigner::new(op.client_key.clone(), JwsAlgorithm::ES256).unwrap();
    idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap()
}

fn client_assertion(op: &Op, aud: &str, jti: &str) -> String {
    let claims = json!({
        "iss": "signer", "sub": "signer", "aud": aud, "exp": NOW + 60, "iat": NOW, "jti": jti
    });
    let a = signed_request(op, claims);
    format!(
        "client_assertion_type={}&client_assertion={a}",
        enc(idforge_oauth_core::client_auth::JWT_BEARER_ASSERTION)
    )
}

#[tokio::test]
async fn signed_requests_and_private_key_jwt_s7_1_1() {
    let op = op();
    let good = |jti: &str| {
        json!({
            "iss": "signer", "aud": ISSUER, "exp": NOW + 60, "iat": NOW, "nbf": NOW,
            "jti": jti, "scope": "openid", "login_hint": "alice", "binding_message": "SIGNED"
        })
    };
    let send = |body: String| {
        let op = &op;
        async move {
            let req =
                TokenRequest::from_form(body.as_bytes(), None, &op.provider.ctx.config.limits)
                    .unwrap();
            op.ciba.backchannel(&op.provider.ctx, &req).await
        }
    };
    // The client assertion names the backchannel endpoint as its audience (§7.1).
    let auth = client_assertion(&op, &format!("{ISSUER}/bc-authorize"), "a1");
    let r = send(format!(
        "{auth}&request={}",
        signed_request(&op, good("r1"))
    ))
    .await
    .unwrap();
    let view = op
        .ciba
        .approval_view(
            r.auth_url
                .as_deref()
                .unwrap()
                .split_once("handle=")
                .unwrap()
                .1,
            NOW,
        )
        .await
        .unwrap();
    assert_eq!(view.binding_message.as_deref(), Some("SIGNED"));
    // jti reuse.
    let auth = client_assertion(&op, ISSUER, "a2");
    let e = send(format!(
        "{auth}&request={}",
        signed_request(&op, good("r1"))
    ))
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    // Unsigned from a client that registered signing: refused.
    let auth = client_assertion(&op, ISSUER, "a3");
    let e = send(format!("{auth}&{BASIC_REQ}")).await.unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    // Parameters beside the signed request: refused.
    let auth = client_assertion(&op, ISSUER, "a4");
    let e = send(format!(
        "{auth}&login_hint=bob&request={}",
        signed_request(&op, good("r2"))
    ))
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    // Each required claim missing.
    for (i, name) in ["iss", "aud", "exp", "iat", "nbf", "jti"]
        .iter()
        .enumerate()
    {
        let mut c = good(&format!("m{i}"));
        c.as_object_mut().unwrap().remove(*name);
        let auth = client_assertion(&op, ISSUER, &format!("b{i}"));
        let e = send(format!("{auth}&request={}", signed_request(&op, c)))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_request", "{name}");
    }
    // Signed by another key: refused.
    let other = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let forged = idforge_jose::sign_jwt(
        Header::new(),
        good("r9").as_object().unwrap(),
        &LocalSigner::new(other, JwsAlgorithm::ES256).unwrap(),
    )
    .unwrap();
    let auth = client_assertion(&op, ISSUER, "a9");
    let e = send(format!("{auth}&request={forged}")).await.unwrap_err();
    assert_eq!(e.code(), "invalid_request");
}

#[tokio::test]
async fn discovery_members_s4() {
    let op = op();
    let m = op.provider.discovery.metadata().await.unwrap();
    assert_eq!(
        m["backchannel_authentication_endpoint"],
        format!("{ISSUER}/bc-authorize")
    );
    assert_eq!(
        m["backchannel_token_delivery_modes_supported"],
        json!(["poll", "ping", "push"])
    );
    assert!(
        m["backchannel_authentication_request_signing_alg_values_supported"]
            .as_array()
            .unwrap()
            .iter()
            .any(|a| a == "ES256")
    );
    assert_eq!(m["backchannel_user_code_parameter_supported"], true);
    assert!(m["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == GRANT_TYPE));
    assert_eq!(
        m["authorization_details_types_supported"],
        json!(["calendar_event", "payment"])
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_thousand_concurrent_polls_give_exactly_one_token_response() {
    let op = Arc::new(op());
    let r = op.bc("other", BASIC_REQ).await.unwrap();
    let id = r["auth_req_id"].as_str().unwrap().to_owned();
    op.approve(&op.handle_of(&r), "alice").await.unwrap();
    let tasks: Vec<_> = (0..1000)
        .map(|_| {
            let (op, id) = (op.clone(), id.clone());
            tokio::spawn(async move { op.poll("other", &id).await })
        })
        .collect();
    let (mut wins, mut spent) = (0, 0);
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => wins += 1,
            Err(e) if e.code() == "invalid_grant" => spent += 1,
            Err(e) => panic!("unexpected {e:?}"),
        }
    }
    assert_eq!((wins, spent), (1, 999));
}

#[cfg(feature = "testkit")]
#[tokio::test]
async fn the_memory_store_passes_the_conformance_suite() {
    idforge_ciba::testkit::run_all(&MemoryCibaRequestStore::new()).await;
}

#[cfg(feature = "http")]
#[tokio::test]
async fn the_http_adapter_routes_only_its_endpoint() {
    use idforge_ciba::http::CibaHttp;
    use idforge_oauth_core::http::{route, HttpEndpoints};
    let op = op();
    let h = CibaHttp::new(op.ciba.clone(), op.provider.ctx.clone());
    let handlers: [&dyn HttpEndpoints; 2] = [op.provider.as_ref(), &h];
    let req = |method: &str, path: &str, ct: &str, body: &str| {
        http::Request::builder()
            .method(method)
            .uri(path)
            .header("content-type", ct)
            .header("authorization", basic("other", "other-secret"))
            .body(body.as_bytes().to_vec())
            .unwrap()
    };
    let form = "application/x-www-form-urlencoded";
    let r = route(&handlers, req("POST", "/bc-authorize", form, BASIC_REQ))
        .await
        .unwrap();
    assert_eq!(r.status(), 200);
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert!(body["auth_req_id"].is_string());
    assert_eq!(r.headers()["cache-control"], "no-store");
    let r = route(&handlers, req("GET", "/bc-authorize", form, ""))
        .await
        .unwrap();
    assert_eq!(r.status(), 405);
    let r = route(
        &handlers,
        req("POST", "/bc-authorize", "application/json", "{}"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let r = route(
        &handlers,
        req("POST", "/bc-authorize", form, "scope=openid&login_hint=x"),
    )
    .await
    .unwrap();
    assert_eq!(r.status(), 400);
    let body: Value = serde_json::from_slice(r.body()).unwrap();
    assert_eq!(body["error"], "unknown_user_id");
    // Not its path: given back.
    assert!(route(&handlers, req("POST", "/elsewhere", form, ""))
        .await
        .is_err());
}
