//! `build_with_database` on SQLite: state written by one build (one process) is there for the
//! next one on the same file: the signing key, a credential offer's pre-authorized code (its
//! oauth-core grant and its OID4VCI offer), then a credential and its status list entry.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use common::*;
use idforge_jose::{crypto::EcCurve, jws, Header, JwsAlgorithm, Key, KeySpec, LocalSigner};
use idforge_server::{Database, ServeConfig, ServeError};
use serde_json::{json, Value};

const ISSUER: &str = "http://127.0.0.1:9";

const CONFIG: &str = r#"
[credential_issuer]

[[credential_templates]]
id = "pid"
format = "dc+sd-jwt"
vct = "urn:eudi:pid:1"
claims = [{ path = "given_name" }]

[[clients]]
client_id = "backoffice"
client_secret = "backoffice-secret"
grant_types = ["client_credentials"]
scopes = ["credential_offers"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
given_name = "Alice"
"#;

struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let dir =
            std::env::temp_dir().join(format!("idforge-server-db-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir)
    }

    fn database(&self) -> Database {
        Database::Url(format!("sqlite://{}/state.db", self.0.display()))
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(db: &TempDb) -> axum::Router {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, &db.database())
        .await
        .unwrap();
    idforge_server::router(&state)
}

/// A fresh `c_nonce` from the nonce endpoint.
async fn c_nonce(app: &axum::Router) -> String {
    let r = call(app, "POST", "/nonce", &[], "").await;
    r.json()["c_nonce"].as_str().unwrap().to_owned()
}

/// A credential request for `pid` with one proof of `key` over `nonce`.
async fn credential(app: &axum::Router, token: &str, key: &Key, nonce: &str) -> Resp {
    post_json(
        app,
        "/credential",
        token,
        &json!({"credential_configuration_id": "pid", "proofs": {"jwt": [proof(key, nonce)]}}),
    )
    .await
}

fn proof(key: &Key, nonce: &str) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    jws::sign_compact(
        Header::new()
            .with_typ("openid4vci-proof+jwt")
            .with("jwk", key.public_jwk().unwrap().to_value()),
        json!({"aud": ISSUER, "iat": now, "nonce": nonce})
            .to_string()
            .as_bytes(),
        &LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
    )
    .unwrap()
}

async fn post_json(app: &axum::Router, uri: &str, token: &str, body: &Value) -> Resp {
    let auth = format!("Bearer {token}");
    call(
        app,
        "POST",
        uri,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body.to_string(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn state_survives_a_restart_on_sqlite() {
    let db = TempDb::new("restart");
    let (kid, code) = {
        let app = start(&db).await;
        let kid = get(&app, "/jwks.json").await.json()["keys"][0]["kid"].clone();
        let r = post_form(
            &app,
            "/token",
            &[("authorization", &basic("backoffice", "backoffice-secret"))],
            "grant_type=client_credentials&scope=credential_offers",
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let admin = r.json()["access_token"].as_str().unwrap().to_owned();
        let r = post_json(
            &app,
            "/credential-offers",
            &admin,
            &json!({"username": "alice", "credential_configuration_ids": ["pid"],
                    "pre_authorized": true}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let code = r.json()["credential_offer"]["grants"]
            ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
            .as_str()
            .unwrap()
            .to_owned();
        (kid, code)
    };

    // A second build on the same file: another process, or the same after a restart.
    let app = start(&db).await;
    let jwks = get(&app, "/jwks.json").await.json();
    assert_eq!(jwks["keys"][0]["kid"], kid, "the signing key is kept");
    let metadata = get(&app, "/.well-known/openid-credential-issuer")
        .await
        .json();
    assert!(metadata["credential_configurations_supported"]["pid"].is_object());
    let body = format!(
        "grant_type={}&pre-authorized_code={}",
        enc("urn:ietf:params:oauth:grant-type:pre-authorized_code"),
        enc(&code),
    );
    let r = post_form(&app, "/token", &[], &body).await;
    assert_eq!(
        r.status, 200,
        "the offer's code redeems after the restart: {}",
        r.body
    );
    let token = r.json()["access_token"].as_str().unwrap().to_owned();

    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let nonce = c_nonce(&app).await;
    let r = credential(&app, &token, &key, &nonce).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The c_nonce was consumed in the database.
    let r = credential(&app, &token, &key, &nonce).await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Single use across the restart too; the replay also revokes the token the code gave
    // (RFC 6749 §4.1.2, OID4VCI §6; decision 0019), in the database.
    let again = post_form(&app, "/token", &[], &body).await;
    assert_eq!(again.status, 400, "{}", again.body);
    let nonce = c_nonce(&app).await;
    let r = credential(&app, &token, &key, &nonce).await;
    assert_eq!(r.status, 401, "revoked by the replay: {}", r.body);
}

#[tokio::test]
async fn memory_database_builds_in_memory() {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, &Database::Memory)
        .await
        .unwrap();
    let app = idforge_server::router(&state);
    assert_eq!(get(&app, "/jwks.json").await.status, 200);
}

#[tokio::test]
async fn a_database_newer_than_the_binary_stops_the_start() {
    let db = TempDb::new("newer");
    drop(start(&db).await);
    let Database::Url(url) = db.database() else {
        unreachable!()
    };
    let path = url.strip_prefix("sqlite://").unwrap();
    let mut conn =
        <sqlx::SqliteConnection as sqlx::Connection>::connect(&format!("sqlite://{path}"))
            .await
            .unwrap();
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (9999, 'from the future', TRUE, X'00', 0)",
    )
    .execute(&mut conn)
    .await
    .unwrap();
    drop(conn);
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    match idforge_server::build_with_database(&config, ISSUER, &db.database()).await {
        Err(ServeError::Storage(msg)) => assert!(msg.contains("newer"), "{msg}"),
        other => panic!("expected a storage error, got {:?}", other.map(|_| ())),
    }
}

#[test]
fn database_urls_are_checked() {
    assert_eq!("memory".parse::<Database>(), Ok(Database::Memory));
    assert!("mysql://x".parse::<Database>().is_err());
    assert!(matches!(
        "sqlite:///tmp/x.db".parse::<Database>(),
        Ok(Database::Url(u)) if u == "sqlite:///tmp/x.db"
    ));
}

const PG_CONFIG: &str = r#"
issuer = "http://idp.example"

[[clients]]
client_id = "app"
client_secret = "app-secret"
redirect_uris = ["https://app.example/cb"]
grant_types = ["authorization_code", "refresh_token", "password"]

[[clients]]
client_id = "agent"
client_secret = "agent-secret"
grant_types = ["urn:openid:params:grant-type:ciba"]

[[users]]
username = "alice"
password = "alice-password"
"#;

async fn start_pg(url: &str) -> axum::Router {
    let config = ServeConfig::from_toml(PG_CONFIG).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, &Database::Url(url.into()))
        .await
        .unwrap();
    idforge_server::router(&state)
}

/// Two providers (two processes' worth: own pools, own keys in memory, own sealing keys) on one
/// PostgreSQL: a code issued by one is redeemed at the other, 200 concurrent redemptions spread
/// over both give exactly one success (whose tokens the replays revoke), a refresh token rotated
/// at one is reuse at the other.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_providers_on_one_postgres() {
    let Some(url) = fresh_postgres("two_providers_on_one_postgres").await else {
        return;
    };
    let a = start_pg(&url).await;
    let b = start_pg(&url).await;
    assert_eq!(
        get(&a, "/jwks.json").await.json()["keys"][0]["kid"],
        get(&b, "/jwks.json").await.json()["keys"][0]["kid"],
        "one signing key for the deployment"
    );
    // Log in at A.
    let uri = format!(
        "/authorize?response_type=code&client_id=app&redirect_uri={}&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256",
        enc("https://app.example/cb")
    );
    let page = get(&a, &uri).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(&a, "/authorize", &[], &body).await;
    let code = param(r.location(), "code").unwrap();
    let auth = basic("app", "app-secret");
    // Issued at A, redeemed at B.
    let redeem_at_b = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code),
        enc("https://app.example/cb")
    );
    let r = post_form(&b, "/token", &[("authorization", &auth)], &redeem_at_b).await;
    assert_eq!(r.status, 200, "a code issued at A redeems at B: {}", r.body);
    // A second code for the concurrent redemptions.
    let page = get(&a, &uri).await;
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(&a, "/authorize", &[], &body).await;
    let code = param(r.location(), "code").unwrap();
    // 200 concurrent redemptions, half at A, half at B.
    let redeem = format!(
        "grant_type=authorization_code&code={}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(&code),
        enc("https://app.example/cb")
    );
    let tasks: Vec<_> = (0..200)
        .map(|i| {
            let app = if i % 2 == 0 { a.clone() } else { b.clone() };
            let (auth, redeem) = (auth.clone(), redeem.clone());
            tokio::spawn(async move {
                post_form(&app, "/token", &[("authorization", &auth)], &redeem).await
            })
        })
        .collect();
    let mut winners = Vec::new();
    let mut refusals = std::collections::BTreeMap::<String, usize>::new();
    for t in tasks {
        let r = t.await.unwrap();
        match r.status {
            200 => winners.push(r.json()),
            400 => {
                assert_eq!(r.json()["error"], "invalid_grant", "{}", r.body);
                *refusals.entry(r.body).or_default() += 1;
            }
            other => panic!("unexpected status {other}: {}", r.body),
        }
    }
    // The store lets exactly one redemption consume the code (crates/store-sql tests prove it
    // over two pools) and that one answers tokens; the others are replays, which revoke the
    // grant (RFC 6749 §4.1.2 SHOULD revoke the tokens issued from the code), also when the
    // revocation lands while the winner is storing its tokens (decision 0016).
    assert_eq!(
        winners.len(),
        1,
        "redemptions of one code that succeeded; refusals: {refusals:?}"
    );
    let winner = &winners[0];
    for app in [&a, &b] {
        for (token, hint) in [
            (&winner["access_token"], "access_token"),
            (&winner["refresh_token"], "refresh_token"),
        ] {
            let r = post_form(
                app,
                "/introspect",
                &[("authorization", &auth)],
                &format!(
                    "token={}&token_type_hint={hint}",
                    enc(token.as_str().unwrap())
                ),
            )
            .await;
            assert_eq!(r.status, 200, "{}", r.body);
            assert_eq!(r.json()["active"], false, "the winner's {hint} is revoked");
        }
    }

    // Refresh rotation across the two.
    let r = post_form(
        &a,
        "/token",
        &[("authorization", &auth)],
        "grant_type=password&username=alice&password=alice-password&scope=openid",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rt = r.json()["refresh_token"].as_str().unwrap().to_owned();
    let r = post_form(
        &a,
        "/token",
        &[("authorization", &auth)],
        &format!("grant_type=refresh_token&refresh_token={}", enc(&rt)),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let rt2 = r.json()["refresh_token"].as_str().unwrap().to_owned();
    let reuse = post_form(
        &b,
        "/token",
        &[("authorization", &auth)],
        &format!("grant_type=refresh_token&refresh_token={}", enc(&rt)),
    )
    .await;
    assert_eq!(
        reuse.status, 400,
        "reuse detected at the other: {}",
        reuse.body
    );
    assert_eq!(reuse.json()["error"], "invalid_grant");
    // Reuse revoked the family: the successor is dead at both (RFC 9700 §4.14.2).
    let after = post_form(
        &a,
        "/token",
        &[("authorization", &auth)],
        &format!("grant_type=refresh_token&refresh_token={}", enc(&rt2)),
    )
    .await;
    assert_eq!(after.status, 400, "{}", after.body);
    drop((a, b));
    drop_postgres(&url).await;
}

/// Drops the database of `url` (connections still open are terminated).
async fn drop_postgres(url: &str) {
    let admin = std::env::var("IDFORGE_PG_URL").unwrap();
    let name = url.rsplit('/').next().unwrap();
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
        .execute(&mut conn)
        .await
        .unwrap();
}

/// Organizations in the configuration (seeded once, kept as stored) and through the API.
const ORG_CONFIG: &str = r#"
issuer = "http://idp.example"

[root]

[[organizations]]
id = "eu"
name = "EU"
handle = "eu"

[[clients]]
client_id = "admin"
client_secret = "admin-secret"
grant_types = ["client_credentials"]
scopes = ["org_admin"]
"#;

async fn start_orgs(db: &Database) -> axum::Router {
    let config = ServeConfig::from_toml(ORG_CONFIG).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, db)
        .await
        .unwrap();
    idforge_server::router(&state)
}

/// A bearer token with `org_admin`.
async fn org_admin(app: &axum::Router) -> String {
    let r = post_form(
        app,
        "/token",
        &[("authorization", &basic("admin", "admin-secret"))],
        "grant_type=client_credentials&scope=org_admin",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

async fn org_api(app: &axum::Router, method: &str, path: &str, token: &str, body: &Value) -> Resp {
    let auth = format!("Bearer {token}");
    call(
        app,
        method,
        path,
        &[
            ("authorization", &auth),
            ("content-type", "application/json"),
        ],
        &body.to_string(),
    )
    .await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_survive_a_restart_on_sqlite() {
    let db = TempDb::new("orgs");
    {
        let app = start_orgs(&db.database()).await;
        let admin = org_admin(&app).await;
        let r = org_api(
            &app,
            "POST",
            "/api/organizations",
            &admin,
            &json!({"id": "live", "name": "Live", "handle": "live", "parent": "eu"}),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.body);
        let r = org_api(
            &app,
            "PATCH",
            "/api/organizations/eu",
            &admin,
            &json!({"name": "Europe"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
    }
    // Restart: the organization created through the API is there, and the configured one
    // keeps the name the API gave it (the configuration seeds, the database keeps).
    let app = start_orgs(&db.database()).await;
    let admin = org_admin(&app).await;
    let r = org_api(&app, "GET", "/api/organizations/live", &admin, &json!({})).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["parent"], "eu");
    let r = org_api(&app, "GET", "/api/organizations/eu", &admin, &json!({})).await;
    assert_eq!(r.json()["name"], "Europe", "{}", r.body);
    // Handles stay unique across the restart.
    let r = org_api(
        &app,
        "POST",
        "/api/organizations",
        &admin,
        &json!({"name": "Again", "handle": "live"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
}

/// Two processes' worth on one PostgreSQL see each other's organizations at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_providers_share_organizations_on_postgres() {
    let Some(url) = fresh_postgres("two_providers_share_organizations_on_postgres").await else {
        return;
    };
    let db = Database::Url(url.clone());
    let a = start_orgs(&db).await;
    let b = start_orgs(&db).await;
    let (ta, tb) = (org_admin(&a).await, org_admin(&b).await);
    let r = org_api(
        &a,
        "POST",
        "/api/organizations",
        &ta,
        &json!({"id": "from-a", "name": "From A", "handle": "from-a"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let r = org_api(&b, "GET", "/api/organizations/from-a", &tb, &json!({})).await;
    assert_eq!(r.status, 200, "created at A, seen at B: {}", r.body);
    // A handle taken at A is taken at B.
    let r = org_api(
        &b,
        "POST",
        "/api/organizations",
        &tb,
        &json!({"name": "Clash", "handle": "from-a"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let r = org_api(&b, "DELETE", "/api/organizations/from-a", &tb, &json!({})).await;
    assert!(
        r.status == 200 || r.status == 204,
        "{} {}",
        r.status,
        r.body
    );
    let r = org_api(&a, "GET", "/api/organizations/from-a", &ta, &json!({})).await;
    assert_eq!(r.status, 404, "deleted at B, gone at A: {}", r.body);
    drop((a, b));
    drop_postgres(&url).await;
}

/// Two processes' worth on one PostgreSQL share the form sealing key (drawn once, kept in the
/// database): a login form served by A is posted to B, once only across both; the session
/// cookie B sets signs in at A; a logout confirmation served by A is approved at B, and the
/// session is over at both; a CIBA approval page served by A is signed in at B and approved at
/// A, once only.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forms_sessions_and_logout_across_two_providers_on_postgres() {
    let Some(url) =
        fresh_postgres("forms_sessions_and_logout_across_two_providers_on_postgres").await
    else {
        return;
    };
    let a = start_pg(&url).await;
    let b = start_pg(&url).await;
    let uri = |extra: &str| {
        format!(
            "/authorize?response_type=code&client_id=app&redirect_uri={}&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
            enc("https://app.example/cb")
        )
    };
    // The login form of A, posted to B.
    let page = get(&a, &uri("")).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let form = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(&b, "/authorize", &[], &form).await;
    assert_eq!(
        r.status, 303,
        "a form served by A is accepted at B: {}",
        r.body
    );
    assert!(param(r.location(), "code").is_some());
    let cookie = r.headers["set-cookie"]
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    // Once only, across both.
    for app in [&a, &b] {
        let replay = post_form(app, "/authorize", &[], &form).await;
        let code = replay
            .headers
            .get("location")
            .and_then(|l| param(l, "code"));
        assert!(code.is_none(), "a replayed login form: {}", replay.body);
    }
    // The cookie B set signs in at A (single sign-on, no form).
    let r = call(&a, "GET", &uri("&prompt=none"), &[("cookie", &cookie)], "").await;
    assert!(
        param(r.location(), "code").is_some(),
        "the session is seen at A: {}",
        r.location()
    );
    // A logout confirmation served by A, approved at B.
    let r = call(&a, "GET", "/logout", &[("cookie", &cookie)], "").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let sealed = hidden(&r.body, "logout");
    let approve = format!("logout={}&decision=approve", enc(&sealed));
    let r = post_form(&b, "/logout", &[("cookie", &cookie)], &approve).await;
    assert!(r.body.contains("You are signed out"), "{}", r.body);
    // Over at both.
    for app in [&a, &b] {
        let r = call(app, "GET", &uri("&prompt=none"), &[("cookie", &cookie)], "").await;
        assert_eq!(
            param(r.location(), "error").as_deref(),
            Some("login_required")
        );
    }
    // A CIBA approval page served by A: signed in at B, approved at A, once only, and the
    // agent's poll at B gets the tokens.
    let r = bc(&a, "agent", "scope=openid&login_hint=alice").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let id = j["auth_req_id"].as_str().unwrap().to_owned();
    let auth_url = j["auth_url"].as_str().unwrap();
    let page = get(&a, &auth_url[auth_url.find("/bc-approve").unwrap()..]).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let login = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let approval = post_form(&b, "/bc-approve", &[], &login).await;
    assert_eq!(approval.status, 200, "{}", approval.body);
    assert!(
        approval.body.contains("name=\"decision\""),
        "the approval form served by A is accepted at B: {}",
        approval.body
    );
    let consent = format!(
        "consent={}&decision=approve",
        enc(&hidden(&approval.body, "consent"))
    );
    let done = post_form(&a, "/bc-approve", &[], &consent).await;
    assert!(done.body.contains("approved"), "{}", done.body);
    for app in [&a, &b] {
        let replay = post_form(app, "/bc-approve", &[], &consent).await;
        assert_eq!(replay.status, 400, "a replayed approval: {}", replay.body);
        let replay = post_form(app, "/bc-approve", &[], &login).await;
        assert_eq!(replay.status, 400, "a replayed sign-in: {}", replay.body);
    }
    let t = poll(&b, "agent", &id).await;
    assert_eq!(t.status, 200, "{}", t.body);
    assert!(t.json()["access_token"].is_string());
    drop((a, b));
    drop_postgres(&url).await;
}
