//! Sessions: the memory store against the conformance kit, and real multi-threaded logins and
//! logouts of one user.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_oauth_core::memory::MemorySessionStore;
use idforge_oauth_core::ports::SessionStore;
use idforge_oauth_core::session::RememberMe;
use idforge_oauth_core::testkit;

#[tokio::test]
async fn memory_session_store_conforms() {
    testkit::run_all_sessions(&MemorySessionStore::new()).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn threaded_logins_and_logouts_leave_no_session() {
    let store = Arc::new(MemorySessionStore::new());
    let mut tasks = Vec::new();
    for i in 0..100 {
        let store = store.clone();
        tasks.push(tokio::spawn(async move {
            let s = testkit::session("alice", RememberMe::No, None);
            assert!(store.create(s.clone()).await.unwrap());
            let mut ended = usize::from(store.remove(&s.sid).await.unwrap().is_some());
            if i % 7 == 0 {
                ended += store.remove_by_subject("alice").await.unwrap().len();
            }
            ended
        }));
    }
    let mut ended = 0;
    for t in tasks {
        ended += t.await.unwrap();
    }
    assert_eq!(ended, 100);
    assert!(store
        .by_subject("alice", testkit::T0)
        .await
        .unwrap()
        .is_empty());
    assert!(store.is_empty());
}

#[tokio::test]
async fn a_full_store_sweeps_then_refuses() {
    let store = MemorySessionStore::with_capacity(2);
    let a = testkit::session("u", RememberMe::No, None);
    let b = testkit::session("u", RememberMe::No, None);
    assert!(store.create(a).await.unwrap());
    assert!(store.create(b).await.unwrap());
    let c = testkit::session("u", RememberMe::No, None);
    let err = store.create(c.clone()).await.unwrap_err();
    assert_eq!(err.code(), "temporarily_unavailable");
    // Once the others expired, creating sweeps them and succeeds.
    let mut late = c;
    late.last_active = testkit::T0 + 900;
    late.created_at = testkit::T0 + 900;
    assert!(store.create(late).await.unwrap());
    assert_eq!(store.len(), 1);
}

// ---------------------------------------------------------------------------------------------
// Single sign-on and logout through the provider.

mod common;

use common::*;
use idforge_jose::{JwsAlgorithm, JwsPolicy, Key, KeySet};
use idforge_oauth_core::endpoint::end_session::{EndSessionRequest, LogoutDecision, LogoutStep};
use idforge_oauth_core::ports::LogoutNotifier;
use idforge_oauth_core::session::{BackChannelLogout, DeliveryResult, PasswordUpdatePolicy};
use idforge_oauth_core::{
    Client, Config, Decision, Interaction, Login, Params, PasswordUpdateOutcome, Session,
    SessionPolicy, SessionRecord,
};
use serde_json::{json, Value};

const FC_WEB: &str = "https://rp.example/fc";
const FC_POST: &str = "https://post.example/fc?x=1";
const BC_WEB: &str = "https://rp.example/bc";
const BYE: &str = "https://rp.example/bye";

struct Sso {
    env: Env,
    store: Arc<MemorySessionStore>,
}

fn sso_with(config: Config) -> Sso {
    let store = Arc::new(MemorySessionStore::new());
    let env = env_with_sessions(config, store.clone());
    let all = ["authorization_code", "refresh_token"];
    env.clients.insert(
        Client::confidential("web", "web-secret")
            .with_redirect_uri(RP_CB)
            .with_grant_types(all)
            .with_consent_implied()
            .with_post_logout_redirect_uri(BYE)
            .with_frontchannel_logout(FC_WEB, true)
            .with_backchannel_logout(BC_WEB, true),
    );
    env.clients.insert(
        Client::confidential("post", "post-secret")
            .with_auth_method(idforge_oauth_core::ClientAuthMethod::ClientSecretPost)
            .with_redirect_uri(RP_CB)
            .with_grant_types(all)
            .with_consent_implied()
            .with_frontchannel_logout(FC_POST, false),
    );
    Sso { env, store }
}

fn sso() -> Sso {
    sso_with(config())
}

fn query(client: &str, scope: &str, extra: &str) -> String {
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&scope={}&state=s1&nonce=n1&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        urlencode(RP_CB),
        urlencode(scope)
    )
}

async fn login(s: &Sso) -> SessionRecord {
    s.env
        .provider
        .sessions
        .login(Login::new("alice-sub", NOW - 10, vec!["pwd".into()]), None)
        .await
        .unwrap()
        .session
}

fn claims_of(env: &Env, jwt: &str) -> (Value, serde_json::Map<String, Value>) {
    let keys = KeySet::new(vec![env.op_key.to_public().unwrap()]);
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &keys)
        .unwrap();
    let (h, _) = jwt.split_once('.').unwrap();
    let header = serde_json::from_slice(&idforge_jose::b64::decode(h, "h").unwrap()).unwrap();
    (header, serde_json::from_slice(&v.payload).unwrap())
}

/// Runs the code flow for `client` in `session`, returning the token response.
async fn tokens(
    s: &Sso,
    client: &str,
    secret: &str,
    scope: &str,
    session: &SessionRecord,
) -> idforge_oauth_core::TokenResponse {
    let i = s
        .env
        .provider
        .authorization
        .start(
            query(client, scope, "").as_bytes(),
            Some(&Session::from_record(session, vec![])),
        )
        .await;
    let code = redirect(i).param("code").unwrap().to_owned();
    let mut body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        urlencode(RP_CB)
    );
    let auth = (client == "web").then(|| basic(client, secret));
    if auth.is_none() {
        body.push_str(&format!("&client_id={client}&client_secret={secret}"));
    }
    s.env
        .provider
        .token
        .handle_form(body.as_bytes(), auth.as_deref())
        .await
        .unwrap()
}

fn params(q: &str) -> Params {
    Params::parse(q.as_bytes(), &Default::default()).unwrap()
}

#[tokio::test]
async fn single_sign_on_records_clients_and_puts_sid_in_id_tokens() {
    let s = sso();
    let session = login(&s).await;
    assert_eq!(session.sid.len(), 22, "128-bit sid, base64url");
    let web = tokens(&s, "web", "web-secret", "openid", &session).await;
    let post = tokens(&s, "post", "post-secret", "openid", &session).await;
    for t in [&web, &post] {
        let (_, id) = claims_of(&s.env, t.id_token.as_deref().unwrap());
        assert_eq!(id["sid"], session.sid.as_str());
    }
    let stored = s.store.get(&session.sid, NOW).await.unwrap().unwrap();
    assert_eq!(stored.clients, ["web", "post"]);
    assert_eq!(stored.grants.len(), 2);
}

#[tokio::test]
async fn prompt_and_max_age_in_a_valid_session() {
    let s = sso();
    let session = Session::from_record(&login(&s).await, vec![]);
    let a = &s.env.provider.authorization;
    // prompt=consent in a valid session: the consent page, not the login form.
    let i = a
        .start(
            query("web", "openid", "&prompt=consent").as_bytes(),
            Some(&session),
        )
        .await;
    assert!(matches!(i, Interaction::Consent { .. }), "{i:?}");
    // prompt=login and max_age force re-authentication.
    for extra in ["&prompt=login", "&max_age=5"] {
        let i = a
            .start(query("web", "openid", extra).as_bytes(), Some(&session))
            .await;
        let Interaction::Login { request, .. } = i else {
            panic!("{extra}: login expected")
        };
        // After the login the code is issued in the (re-authenticated) session.
        let r = redirect(
            a.resume(*request, Decision::LoggedIn(session.clone()))
                .await,
        );
        assert!(r.param("code").is_some());
    }
    // prompt=none (OIDC Core §3.1.2.6).
    let none = |client: &'static str, extra: &'static str, with: bool| {
        let q = query(client, "openid", &format!("&prompt=none{extra}"));
        let session = session.clone();
        async move {
            let i = a.start(q.as_bytes(), with.then_some(&session)).await;
            redirect(i).param("error").map(str::to_owned)
        }
    };
    assert_eq!(
        none("web", "", false).await.as_deref(),
        Some("login_required")
    );
    assert_eq!(
        none("web", "&max_age=5", true).await.as_deref(),
        Some("login_required")
    );
    let q = format!(
        "response_type=code&client_id=asks-consent&redirect_uri={}&scope=openid&prompt=none&code_challenge={CHALLENGE}&code_challenge_method=S256",
        urlencode("https://spa.example/cb")
    );
    let r = redirect(a.start(q.as_bytes(), Some(&session)).await);
    assert_eq!(r.param("error"), Some("consent_required"));
    assert_eq!(none("web", "", true).await, None, "SSO without interaction");
    let acr = "&claims=%7B%22id_token%22%3A%7B%22acr%22%3A%7B%22essential%22%3Atrue%2C%22values%22%3A%5B%22urn%3Amfa%22%5D%7D%7D%7D";
    assert_eq!(
        none("web", acr, true).await.as_deref(),
        Some("login_required")
    );
    // The host has an interaction pending for this user (new terms, expired password).
    let mut pending = session.clone();
    pending.required_interaction = Some("terms".into());
    let q = query("web", "openid", "&prompt=none");
    let r = redirect(a.start(q.as_bytes(), Some(&pending)).await);
    assert_eq!(r.param("error"), Some("interaction_required"));
    let i = a
        .start(query("web", "openid", "").as_bytes(), Some(&pending))
        .await;
    assert!(matches!(i, Interaction::Login { .. }), "{i:?}");
}

fn logged_out(step: LogoutStep) -> idforge_oauth_core::LoggedOut {
    match step {
        LogoutStep::LoggedOut(l) => *l,
        other => panic!("expected a logout, got {other:?}"),
    }
}

fn error_of(step: LogoutStep) -> String {
    match step {
        LogoutStep::ShowError(e) => e.description().to_owned(),
        other => panic!("expected an error page, got {other:?}"),
    }
}

async fn refresh(s: &Sso, client: &str, secret: &str, token: &str) -> bool {
    let mut body = format!("grant_type=refresh_token&refresh_token={token}");
    let auth = (client == "web").then(|| basic(client, secret));
    if auth.is_none() {
        body.push_str(&format!("&client_id={client}&client_secret={secret}"));
    }
    s.env
        .provider
        .token
        .handle_form(body.as_bytes(), auth.as_deref())
        .await
        .is_ok()
}

#[tokio::test]
async fn rp_initiated_logout_with_an_expired_hint_fans_out_and_revokes() {
    let mut config = config();
    config.sessions = SessionPolicy::new(86_400, 86_400);
    let s = sso_with(config);
    let session = login(&s).await;
    let web = tokens(&s, "web", "web-secret", "openid", &session).await;
    let post = tokens(&s, "post", "post-secret", "openid offline_access", &session).await;
    // The ID token used as the hint has expired (RP-Initiated Logout 1.0 §4: still accepted).
    s.env.clock.set(NOW + 7200);
    let hint = web.id_token.clone().unwrap();
    let q = format!(
        "id_token_hint={hint}&client_id=web&post_logout_redirect_uri={}&state=st%201&ui_locales=fr%20en",
        urlencode(BYE)
    );
    let out = logged_out(
        s.env
            .provider
            .end_session
            .start(&params(&q), Some(&session.sid))
            .await,
    );
    assert_eq!(
        out.redirect.as_deref(),
        Some("https://rp.example/bye?state=st+1")
    );
    assert_eq!(out.ui_locales, ["fr", "en"]);
    let ended = out.ended.unwrap();
    assert_eq!(ended.session.sid, session.sid);
    // Front-Channel Logout 1.0 §4: one iframe per RP, iss and sid where required.
    let fc: Vec<&str> = ended.frontchannel.iter().map(|f| f.uri.as_str()).collect();
    assert_eq!(
        fc,
        [
            format!(
                "{FC_WEB}?iss={}&sid={}",
                urlencode(ISSUER),
                urlencode(&session.sid)
            )
            .as_str(),
            FC_POST
        ]
    );
    // Back-Channel Logout 1.0 §2.4: the Logout Token.
    assert_eq!(ended.backchannel.len(), 1);
    let bc = &ended.backchannel[0];
    assert_eq!((bc.client_id.as_str(), bc.uri.as_str()), ("web", BC_WEB));
    let (header, claims) = claims_of(&s.env, &bc.logout_token);
    assert_eq!(header["typ"], "logout+jwt");
    assert_eq!(claims["iss"], ISSUER);
    assert_eq!(claims["aud"], "web");
    assert_eq!(claims["sub"], "alice-sub");
    assert_eq!(claims["sid"], session.sid.as_str());
    assert_eq!(claims["iat"], NOW + 7200);
    assert_eq!(claims["exp"], NOW + 7200 + 120);
    assert!(claims["jti"].as_str().is_some_and(|j| j.len() >= 22));
    assert!(
        !claims.contains_key("nonce"),
        "§2.4: nonce MUST NOT be present"
    );
    assert_eq!(
        claims["events"],
        json!({"http://schemas.openid.net/event/backchannel-logout": {}})
    );
    // §2.7: the session's tokens are revoked, offline_access refresh tokens survive.
    assert_eq!(ended.revoked_grants.len(), 1);
    assert_eq!(ended.kept_grants.len(), 1);
    assert!(
        !refresh(
            &s,
            "web",
            "web-secret",
            web.refresh_token.as_deref().unwrap()
        )
        .await
    );
    assert!(
        refresh(
            &s,
            "post",
            "post-secret",
            post.refresh_token.as_deref().unwrap()
        )
        .await
    );
    // The session is gone: the next authorization request needs a login.
    assert!(s
        .store
        .get(&session.sid, NOW + 7200)
        .await
        .unwrap()
        .is_none());
    let i = s
        .env
        .provider
        .authorization
        .start(
            query("web", "openid", "").as_bytes(),
            Some(&Session::from_record(&session, vec![])),
        )
        .await;
    assert!(matches!(i, Interaction::Login { .. }), "{i:?}");
}

#[tokio::test]
async fn logout_request_validation() {
    let s = sso();
    let session = login(&s).await;
    let web = tokens(&s, "web", "web-secret", "openid", &session).await;
    let hint = web.id_token.unwrap();
    let es = &s.env.provider.end_session;
    let sid = Some(session.sid.as_str());
    // RP-Initiated Logout 1.0 §3: post_logout_redirect_uri must match exactly.
    let q = format!(
        "id_token_hint={hint}&post_logout_redirect_uri={}",
        urlencode("https://rp.example/bye/")
    );
    assert!(error_of(es.start(&params(&q), sid).await).contains("not registered"));
    // ... and needs a client to compare with.
    let q = format!("post_logout_redirect_uri={}", urlencode(BYE));
    assert!(error_of(es.start(&params(&q), sid).await).contains("client_id"));
    // §2: client_id must match the hint's audience.
    let q = format!("id_token_hint={hint}&client_id=post");
    assert!(error_of(es.start(&params(&q), sid).await).contains("audience"));
    // §4: a hint from another issuer (another key) is refused.
    let other = Key::generate(idforge_jose::KeySpec::Ec(
        idforge_jose::crypto::EcCurve::P256,
    ))
    .unwrap();
    let signer = idforge_jose::LocalSigner::new(other, JwsAlgorithm::ES256).unwrap();
    let foreign = idforge_jose::jws::sign_compact_with(
        idforge_jose::Header::new().with_typ("JWT"),
        &serde_json::to_vec(&json!({"iss": "https://evil.example", "sub": "alice-sub", "aud": "web", "sid": session.sid})).unwrap(),
        &signer,
    )
    .await
    .unwrap();
    let q = format!("id_token_hint={foreign}");
    assert!(error_of(es.start(&params(&q), sid).await).contains("not issued by this provider"));
    // An access token of ours is not an ID token.
    let q = format!("id_token_hint={}", web.access_token);
    assert!(error_of(es.start(&params(&q), sid).await).contains("not an ID token"));
    // Nothing was ended by the refused requests.
    assert!(s.store.get(&session.sid, NOW).await.unwrap().is_some());
    // The hint's audience names the client when client_id is absent; the redirect is allowed.
    let q = format!(
        "id_token_hint={hint}&post_logout_redirect_uri={}",
        urlencode(BYE)
    );
    let out = logged_out(es.start(&params(&q), sid).await);
    assert_eq!(out.redirect.as_deref(), Some(BYE));
    assert!(out.ended.is_some());
}

#[tokio::test]
async fn a_logout_not_tied_to_the_session_asks_first() {
    let s = sso();
    let session = login(&s).await;
    tokens(&s, "web", "web-secret", "openid", &session).await;
    let es = &s.env.provider.end_session;
    let sid = Some(session.sid.as_str());
    let q = format!(
        "client_id=web&post_logout_redirect_uri={}&state=x&logout_hint=alice-sub",
        urlencode(BYE)
    );
    let LogoutStep::Confirm { request } = es.start(&params(&q), sid).await else {
        panic!("confirmation expected")
    };
    // The request survives a round trip through the confirmation form.
    let request: EndSessionRequest =
        serde_json::from_value(serde_json::to_value(&*request).unwrap()).unwrap();
    assert!(matches!(
        es.confirm(request.clone(), LogoutDecision::Deny, sid).await,
        LogoutStep::Cancelled { .. }
    ));
    assert!(s.store.get(&session.sid, NOW).await.unwrap().is_some());
    let out = logged_out(es.confirm(request, LogoutDecision::Approve, sid).await);
    assert_eq!(
        out.redirect.as_deref(),
        Some("https://rp.example/bye?state=x")
    );
    assert_eq!(out.ended.unwrap().frontchannel.len(), 1);
    // Without a session there is nothing to end, but the redirect still happens.
    let out = logged_out(es.start(&params(&q), None).await);
    assert!(out.ended.is_none());
    assert_eq!(
        out.redirect.as_deref(),
        Some("https://rp.example/bye?state=x")
    );
}

#[tokio::test]
async fn password_update_policy_both_ways() {
    for policy in [
        PasswordUpdatePolicy::EndSessions,
        PasswordUpdatePolicy::Preserve,
    ] {
        let mut config = config();
        config.sessions = SessionPolicy::default().with_password_update(policy);
        let s = sso_with(config);
        let one = login(&s).await;
        let two = login(&s).await;
        let t = tokens(&s, "post", "post-secret", "openid offline_access", &one).await;
        // A grant made outside any session (say, the password grant) ends too.
        let outside = idforge_oauth_core::records::Grant::new(
            "outside-session",
            "post",
            idforge_oauth_core::Scopes::from_values(["openid"]),
            NOW,
            NOW + 3600,
        )
        .with_subject("alice-sub");
        idforge_oauth_core::ports::GrantStore::create_grant(&*s.env.grants, outside)
            .await
            .unwrap();
        let outcome = s
            .env
            .provider
            .sessions
            .password_updated("alice-sub")
            .await
            .unwrap();
        let refresh_ok = refresh(
            &s,
            "post",
            "post-secret",
            t.refresh_token.as_deref().unwrap(),
        )
        .await;
        let live = s.store.by_subject("alice-sub", NOW).await.unwrap().len();
        match policy {
            PasswordUpdatePolicy::EndSessions => {
                let PasswordUpdateOutcome::Ended {
                    sessions: ended,
                    other_grants_revoked,
                } = outcome
                else {
                    panic!("ended expected")
                };
                assert_eq!(other_grants_revoked, 1, "the grant outside the sessions");
                let mut sids: Vec<_> = ended.iter().map(|e| e.session.sid.clone()).collect();
                sids.sort();
                let mut want = vec![one.sid.clone(), two.sid.clone()];
                want.sort();
                assert_eq!(sids, want);
                assert_eq!(live, 0);
                assert!(
                    !refresh_ok,
                    "offline_access grants go too on password update"
                );
                let gone = idforge_oauth_core::ports::GrantStore::grant(
                    &*s.env.grants,
                    "outside-session",
                    NOW,
                )
                .await
                .unwrap();
                assert!(gone.is_none());
            }
            _ => {
                assert_eq!(outcome, PasswordUpdateOutcome::Preserved { sessions: 2 });
                let kept = idforge_oauth_core::ports::GrantStore::grant(
                    &*s.env.grants,
                    "outside-session",
                    NOW,
                )
                .await
                .unwrap();
                assert!(kept.is_some());
                assert_eq!(live, 2);
                assert!(refresh_ok);
            }
        }
    }
}

#[tokio::test]
async fn login_reauthenticates_the_same_user_and_replaces_another() {
    let s = sso();
    let first = login(&s).await;
    tokens(&s, "web", "web-secret", "openid", &first).await;
    s.env.clock.set(NOW + 60);
    let again = s
        .env
        .provider
        .sessions
        .login(
            Login::new("alice-sub", NOW + 60, vec!["pwd".into(), "otp".into()]).with_acr("urn:mfa"),
            Some(&first.sid),
        )
        .await
        .unwrap();
    assert_eq!(again.session.sid, first.sid, "same user: same session");
    assert_eq!(again.session.auth_time, NOW + 60);
    assert_eq!(again.session.clients, ["web"]);
    assert!(again.replaced.is_none());
    let bob = s
        .env
        .provider
        .sessions
        .login(
            Login::new("bob", NOW + 60, vec!["pwd".into()]),
            Some(&first.sid),
        )
        .await
        .unwrap();
    assert_ne!(bob.session.sid, first.sid);
    let replaced = bob.replaced.unwrap();
    assert_eq!(replaced.session.sid, first.sid);
    assert_eq!(replaced.backchannel.len(), 1, "web is told alice left");
    assert!(s
        .env
        .provider
        .sessions
        .current(&first.sid)
        .await
        .unwrap()
        .is_none());
    // current() counts as use.
    s.env.clock.set(NOW + 500);
    let cur = s
        .env
        .provider
        .sessions
        .current(&bob.session.sid)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(cur.last_active, NOW + 500);
}

#[tokio::test]
async fn idle_expiry_through_the_provider_at_the_boundary_second() {
    let s = sso();
    let session = login(&s).await; // created at NOW, idle 900 s
    s.env.clock.set(NOW + 899);
    assert!(s
        .env
        .provider
        .sessions
        .current(&session.sid)
        .await
        .unwrap()
        .is_some());
    s.env.clock.set(NOW + 899 + 900);
    assert!(s
        .env
        .provider
        .sessions
        .current(&session.sid)
        .await
        .unwrap()
        .is_none());
}

#[tokio::test]
async fn discovery_advertises_logout() {
    let s = sso();
    let m = s.env.provider.discovery.metadata().await.unwrap();
    assert_eq!(m["end_session_endpoint"], format!("{ISSUER}/logout"));
    for name in [
        "frontchannel_logout_supported",
        "frontchannel_logout_session_supported",
        "backchannel_logout_supported",
        "backchannel_logout_session_supported",
    ] {
        assert_eq!(m[name], true, "{name}");
    }
    // Without a session store nothing is advertised.
    let m = env().provider.discovery.metadata().await.unwrap();
    assert!(m.get("end_session_endpoint").is_none());
}

struct Recorder(std::sync::Mutex<Vec<String>>);

#[async_trait::async_trait]
impl LogoutNotifier for Recorder {
    async fn deliver(&self, message: &BackChannelLogout) -> DeliveryResult {
        self.0.lock().unwrap().push(message.client_id.clone());
        if message.client_id == "down" {
            DeliveryResult::Failed {
                reason: "connection refused".into(),
            }
        } else {
            DeliveryResult::Delivered
        }
    }
}

#[tokio::test]
async fn deliveries_report_per_message() {
    let r = Recorder(Default::default());
    let msg = |id: &str| {
        serde_json::from_value::<BackChannelLogout>(
            json!({"client_id": id, "uri": "https://x.example/bc", "logout_token": "t"}),
        )
        .unwrap()
    };
    let out = idforge_oauth_core::logout::deliver_all(&r, &[msg("up"), msg("down")]).await;
    assert_eq!(out[0], DeliveryResult::Delivered);
    assert!(out[1].is_retryable());
    assert_eq!(*r.0.lock().unwrap(), ["up", "down"]);
}
