//! Token exchange (RFC 8693) through the public API: trusted issuers (inline JWKS and
//! `jwks_uri` through the fetcher port, refreshed on an unknown `kid`), implicit account
//! association with 0 / 1 / 2 matches, every RFC 8693 §2.2.2 error, delegation with nested
//! `act`, `may_act` refusal, impersonation permission, scope narrowing, `audience`/`resource`,
//! `requested_token_type`.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use common::{basic, urlencode, ISSUER, NOW};
use idforge_jose::{
    crypto::EcCurve, sign_jwt, FixedClock, Header, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeyRing,
    KeySet, KeySpec, LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::token_exchange::{TrustedIssuer, TOKEN_EXCHANGE_GRANT_TYPE};
use idforge_oauth_core::{
    AccessTokenFormat, Client, Config, Error, JwksFetcher, OsRng, Provider, TokenExchangeGrant,
    TokenResponse,
};
use serde_json::{json, Map, Value};

const IDP: &str = "https://idp.example";
const EXT: &str = "https://ext.example";
const REMOTE: &str = "https://remote.example";
const AT: &str = "urn:ietf:params:oauth:token-type:access_token";
const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
const ID: &str = "urn:ietf:params:oauth:token-type:id_token";

fn key(kid: &str) -> Key {
    let k = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    Key::from_jwk(k.jwk().clone().with_kid(kid)).unwrap()
}

fn public(k: &Key) -> JwkSet {
    JwkSet {
        keys: vec![k.public_jwk().unwrap()],
    }
}

/// A `jwks_uri` served from memory, counting fetches; its key can be rotated.
struct Fetcher {
    keys: Mutex<JwkSet>,
    fetches: AtomicUsize,
}

#[async_trait]
impl JwksFetcher for Fetcher {
    async fn fetch(&self, uri: &str) -> Result<JwkSet, Error> {
        assert_eq!(uri, "https://remote.example/jwks");
        self.fetches.fetch_add(1, Ordering::SeqCst);
        Ok(self.keys.lock().unwrap().clone())
    }
}

struct Env {
    provider: Provider,
    clock: Arc<FixedClock>,
    op_key: Key,
    idp_key: Key,
    ext_key: Key,
    fetcher: Arc<Fetcher>,
}

fn env() -> Env {
    let op_key = key("op");
    let (idp_key, ext_key, remote_key) = (key("idp-1"), key("ext-1"), key("remote-1"));
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    for (name, claims) in [
        (
            "alice",
            json!({"sub": "alice-sub", "email": "alice@example.com"}),
        ),
        (
            "twin1",
            json!({"sub": "twin-1", "email": "twin@example.com"}),
        ),
        (
            "twin2",
            json!({"sub": "twin-2", "email": "twin@example.com"}),
        ),
    ] {
        users
            .add_user(
                name,
                "pw",
                serde_json::from_value::<Map<String, Value>>(claims).unwrap(),
                &OsRng::new(),
            )
            .unwrap();
    }
    let fetcher = Arc::new(Fetcher {
        keys: Mutex::new(public(&remote_key)),
        fetches: AtomicUsize::new(0),
    });
    let grant = TokenExchangeGrant::new()
        .with_trusted_issuer(
            TrustedIssuer::with_jwks(IDP, &public(&idp_key))
                .unwrap()
                .with_algorithms([JwsAlgorithm::ES256])
                .unwrap()
                .with_lookup_attributes(["email"])
                .unwrap(),
        )
        .with_trusted_issuer(
            TrustedIssuer::with_jwks(EXT, &public(&ext_key))
                .unwrap()
                .with_audience(["urn:op"]),
        )
        .with_trusted_issuer(
            TrustedIssuer::with_jwks_uri(REMOTE, "https://remote.example/jwks").unwrap(),
        )
        .with_jwks_fetcher(fetcher.clone())
        .with_user_lookup(users.clone());
    let te = [TOKEN_EXCHANGE_GRANT_TYPE, "client_credentials"];
    let clients = MemoryClientStore::with_clients([
        Client::confidential("agent", "agent-secret").with_grant_types(te),
        Client::confidential("rp", "rp-secret")
            .with_grant_types(te)
            .with_metadata("allow_impersonation", json!(true))
            .with_scopes(["openid", "profile", "email"]),
        Client::confidential("opaque", "opaque-secret")
            .with_grant_types(te)
            .with_access_token_format(AccessTokenFormat::Opaque)
            .with_metadata("allow_impersonation", json!(true)),
        Client::confidential("agent-2", "agent-2-secret").with_grant_types(te),
    ]);
    let clock = Arc::new(FixedClock::new(NOW));
    let provider = Provider::builder(Config::new(ISSUER))
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users)
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(clock.clone())
        .grant_handler(Arc::new(grant))
        .build()
        .unwrap();
    Env {
        provider,
        clock,
        op_key,
        idp_key,
        ext_key,
        fetcher,
    }
}

fn jwt(key: &Key, claims: Value) -> String {
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
    let header = Header::new().with_kid(key.kid().unwrap());
    sign_jwt(header, claims.as_object().unwrap(), &signer).unwrap()
}

fn idp_token(env: &Env, extra: Value) -> String {
    let mut c = json!({
        "iss": IDP, "sub": "ext-alice", "aud": ISSUER, "exp": NOW + 300, "iat": NOW,
        "email": "alice@example.com", "scope": "openid profile"
    });
    for (k, v) in extra.as_object().unwrap() {
        if v.is_null() {
            c.as_object_mut().unwrap().remove(k);
        } else {
            c[k] = v.clone();
        }
    }
    jwt(&env.idp_key, c)
}

async fn exchange(env: &Env, client: &str, pairs: &[(&str, &str)]) -> Result<TokenResponse, Error> {
    let mut body = format!("grant_type={}", urlencode(TOKEN_EXCHANGE_GRANT_TYPE));
    for (k, v) in pairs {
        body.push_str(&format!("&{k}={}", urlencode(v)));
    }
    env.provider
        .token
        .handle_form(
            body.as_bytes(),
            Some(&basic(client, &format!("{client}-secret"))),
        )
        .await
}

fn claims(env: &Env, token: &str) -> Value {
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(token, &KeySet::new(vec![env.op_key.to_public().unwrap()]))
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

async fn own_token(env: &Env, client: &str) -> String {
    let body = "grant_type=client_credentials";
    env.provider
        .token
        .handle_form(
            body.as_bytes(),
            Some(&basic(client, &format!("{client}-secret"))),
        )
        .await
        .unwrap()
        .access_token
}

#[tokio::test]
async fn a_trusted_issuers_token_becomes_a_local_users_token() {
    let env = env();
    let st = idp_token(&env, json!({}));
    let r = exchange(
        &env,
        "rp",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("audience", "https://api.example"),
            ("resource", "https://rs.example/v1"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.extra["issued_token_type"], AT);
    assert_eq!(r.token_type, "Bearer");
    assert!(r.refresh_token.is_none());
    let c = claims(&env, &r.access_token);
    assert_eq!(c["sub"], "alice-sub", "associated by email");
    assert_eq!(c["client_id"], "rp");
    assert_eq!(
        c["aud"],
        json!(["https://api.example", "https://rs.example/v1"])
    );
    assert_eq!(c["scope"], "openid profile");
    assert!(c.get("act").is_none());
}

#[tokio::test]
async fn association_with_zero_one_or_two_matches() {
    let env = env();
    let ok = idp_token(&env, json!({}));
    let none = idp_token(&env, json!({"email": "nobody@example.com"}));
    let two = idp_token(&env, json!({"email": "twin@example.com"}));
    let missing = idp_token(&env, json!({"email": null}));
    assert!(exchange(
        &env,
        "rp",
        &[("subject_token", &ok), ("subject_token_type", JWT)]
    )
    .await
    .is_ok());
    for t in [&none, &two, &missing] {
        let e = exchange(
            &env,
            "rp",
            &[("subject_token", t), ("subject_token_type", AT)],
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "invalid_grant");
    }
    // Association switched off: the external `sub` is the subject.
    let ext = jwt(
        &env.ext_key,
        json!({"iss": EXT, "sub": "ext-user", "aud": "urn:op", "exp": NOW + 60, "scope": "openid"}),
    );
    let r = exchange(
        &env,
        "rp",
        &[("subject_token", &ext), ("subject_token_type", ID)],
    )
    .await
    .unwrap();
    assert_eq!(claims(&env, &r.access_token)["sub"], "ext-user");
}

#[tokio::test]
async fn tokens_that_fail_verification_are_invalid_request() {
    // RFC 8693 §2.2.2.
    let env = env();
    let stranger = key("idp-1");
    let cases = [
        (
            "untrusted issuer",
            idp_token(&env, json!({"iss": "https://evil.example"})),
        ),
        (
            "bad signature",
            jwt(
                &stranger,
                json!({"iss": IDP, "sub": "x", "aud": ISSUER, "exp": NOW + 60, "email": "alice@example.com"}),
            ),
        ),
        ("expired", idp_token(&env, json!({"exp": NOW - 120}))),
        (
            "wrong aud",
            idp_token(&env, json!({"aud": "https://elsewhere.example"})),
        ),
        ("no exp", idp_token(&env, json!({"exp": null}))),
        (
            "aud of another issuer's setting",
            jwt(
                &env.ext_key,
                json!({"iss": EXT, "sub": "x", "aud": ISSUER, "exp": NOW + 60}),
            ),
        ),
        ("not a token", "garbage".to_owned()),
    ];
    for (what, t) in &cases {
        let e = exchange(
            &env,
            "rp",
            &[("subject_token", t), ("subject_token_type", JWT)],
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "invalid_request", "{what}");
    }
    // The same for an actor token.
    let st = idp_token(&env, json!({}));
    let e = exchange(
        &env,
        "agent",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("actor_token", &cases[2].1),
            ("actor_token_type", JWT),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    // An algorithm outside the issuer's list (HS256 with the public key as secret is the
    // classic confusion): refused.
    let hs = {
        let h = idforge_jose::b64::encode(br#"{"alg":"HS256","kid":"idp-1"}"#);
        let p = idforge_jose::b64::encode(
            json!({"iss": IDP, "sub": "x", "aud": ISSUER, "exp": NOW + 60}).to_string(),
        );
        format!("{h}.{p}.AAAA")
    };
    let e = exchange(
        &env,
        "rp",
        &[("subject_token", &hs), ("subject_token_type", JWT)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    // Parameters (RFC 8693 §2.1).
    let e = exchange(&env, "rp", &[("subject_token", &st)])
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
    let e = exchange(
        &env,
        "rp",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("resource", "not-a-uri"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_target");
}

#[tokio::test]
async fn scope_only_narrows() {
    let env = env();
    let st = idp_token(&env, json!({}));
    let r = exchange(
        &env,
        "rp",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("scope", "profile"),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.scope.as_deref(), Some("profile"));
    let e = exchange(
        &env,
        "rp",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("scope", "openid email"),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_scope");
}

#[tokio::test]
async fn impersonation_needs_permission_and_actor_tokens_become_act() {
    let env = env();
    let st = idp_token(&env, json!({}));
    let e = exchange(
        &env,
        "agent",
        &[("subject_token", &st), ("subject_token_type", JWT)],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "unauthorized_client");
    // Delegation: the agent's own token is the actor token.
    let actor = own_token(&env, "agent").await;
    let r = exchange(
        &env,
        "agent",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("actor_token", &actor),
            ("actor_token_type", AT),
        ],
    )
    .await
    .unwrap();
    let first = claims(&env, &r.access_token);
    assert_eq!(first["sub"], "alice-sub");
    assert_eq!(first["act"], json!({"sub": "agent"}));
    // A second hop (RFC 8693 §4.1): agent-2 exchanges the delegated token, which names it as
    // audience, with its own actor token: the chain nests.
    let r2 = exchange(
        &env,
        "agent",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("actor_token", &actor),
            ("actor_token_type", AT),
            ("audience", "agent-2"),
        ],
    )
    .await
    .unwrap();
    let actor2 = own_token(&env, "agent-2").await;
    let r3 = exchange(
        &env,
        "agent-2",
        &[
            ("subject_token", &r2.access_token),
            ("subject_token_type", AT),
            ("actor_token", &actor2),
            ("actor_token_type", AT),
        ],
    )
    .await
    .unwrap();
    let nested = claims(&env, &r3.access_token);
    assert_eq!(nested["sub"], "alice-sub");
    assert_eq!(
        nested["act"],
        json!({"sub": "agent-2", "act": {"sub": "agent"}})
    );
    // A token of this provider issued to another client, not naming this one: refused.
    let e = exchange(
        &env,
        "agent-2",
        &[
            ("subject_token", &r.access_token),
            ("subject_token_type", AT),
            ("actor_token", &actor2),
            ("actor_token_type", AT),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_request");
}

#[tokio::test]
async fn may_act_is_enforced() {
    let env = env();
    let st = idp_token(&env, json!({"may_act": {"sub": "agent-2"}}));
    let agent = own_token(&env, "agent").await;
    let e = exchange(
        &env,
        "agent",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("actor_token", &agent),
            ("actor_token_type", AT),
        ],
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_grant");
    let agent2 = own_token(&env, "agent-2").await;
    let r = exchange(
        &env,
        "agent-2",
        &[
            ("subject_token", &st),
            ("subject_token_type", JWT),
            ("actor_token", &agent2),
            ("actor_token_type", AT),
        ],
    )
    .await
    .unwrap();
    assert_eq!(claims(&env, &r.access_token)["act"]["sub"], "agent-2");
}

#[tokio::test]
async fn requested_token_type_jwt_and_opaque_subject_tokens() {
    let env = env();
    // The opaque client's own opaque token, exchanged (impersonation allowed) for a JWT.
    let opaque = own_token(&env, "opaque").await;
    assert_eq!(opaque.matches('.').count(), 0);
    let r = exchange(
        &env,
        "opaque",
        &[
            ("subject_token", &opaque),
            ("subject_token_type", AT),
            ("requested_token_type", JWT),
        ],
    )
    .await
    .unwrap();
    assert_eq!(r.extra["issued_token_type"], JWT);
    assert_eq!(claims(&env, &r.access_token)["sub"], "opaque");
    // Default: the client's format (opaque).
    let r = exchange(
        &env,
        "opaque",
        &[("subject_token", &opaque), ("subject_token_type", AT)],
    )
    .await
    .unwrap();
    assert_eq!(r.extra["issued_token_type"], AT);
    assert_eq!(r.access_token.matches('.').count(), 0);
}

#[tokio::test]
async fn jwks_uri_keys_are_cached_and_refreshed_on_an_unknown_kid() {
    let env = env();
    let remote_token = |k: &Key| {
        jwt(
            k,
            json!({"iss": REMOTE, "sub": "svc", "aud": format!("{ISSUER}/token"), "exp": NOW + 600}),
        )
    };
    // The issuer's current key (the test holds the private half).
    let k1 = key("remote-2");
    *env.fetcher.keys.lock().unwrap() = public(&k1);
    for _ in 0..3 {
        let r = exchange(
            &env,
            "rp",
            &[
                ("subject_token", &remote_token(&k1)),
                ("subject_token_type", JWT),
            ],
        )
        .await;
        assert!(r.is_ok(), "{r:?}");
    }
    assert_eq!(env.fetcher.fetches.load(Ordering::SeqCst), 1, "cached");
    // The issuer rotates: a token with the new kid triggers one fetch (after the minimum
    // refetch delay), then verifies.
    let k2 = key("remote-3");
    *env.fetcher.keys.lock().unwrap() = public(&k2);
    env.clock.advance(61);
    let r = exchange(
        &env,
        "rp",
        &[
            ("subject_token", &remote_token(&k2)),
            ("subject_token_type", JWT),
        ],
    )
    .await;
    assert!(r.is_ok(), "{r:?}");
    assert_eq!(env.fetcher.fetches.load(Ordering::SeqCst), 2);
    // Unknown kids do not make every request fetch.
    let stranger = key("remote-9");
    for _ in 0..3 {
        let e = exchange(
            &env,
            "rp",
            &[
                ("subject_token", &remote_token(&stranger)),
                ("subject_token_type", JWT),
            ],
        )
        .await
        .unwrap_err();
        assert_eq!(e.code(), "invalid_request");
    }
    assert_eq!(env.fetcher.fetches.load(Ordering::SeqCst), 2);
}
