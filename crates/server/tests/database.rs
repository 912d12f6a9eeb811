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
    // Single use across the restart too.
    let again = post_form(&app, "/token", &[], &body).await;
    assert_eq!(again.status, 400, "{}", again.body);

    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let r = call(&app, "POST", "/nonce", &[], "").await;
    let nonce = r.json()["c_nonce"].as_str().unwrap().to_owned();
    let r = post_json(
        &app,
        "/credential",
        &token,
        &json!({"credential_configuration_id": "pid", "proofs": {"jwt": [proof(&key, &nonce)]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    // The c_nonce was consumed in the database.
    let r = post_json(
        &app,
        "/credential",
        &token,
        &json!({"credential_configuration_id": "pid", "proofs": {"jwt": [proof(&key, &nonce)]}}),
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
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
