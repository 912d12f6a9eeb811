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
        assert!(matches!(i, Interaction::Login { .. }), "{extra}: {i:?}");
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
        Some("interaction_required")
    );
}
