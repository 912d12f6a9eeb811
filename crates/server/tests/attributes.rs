//! `[attributes]` (WSO2 IS 7.3 selectable attribute storage): the file's `[[users]]` are a
//! connected user store and `local` attributes live in the database. A local attribute is read
//! from the database (written there through the library API: `idforge serve` has no attribute
//! write endpoint) and survives a restart while the other claims follow the file; ID tokens
//! and UserInfo carry the merged claims; password login works against the file.
#![allow(clippy::unwrap_used)] // a test aborts on setup failure by design

mod common;

use common::*;
use idforge_oauth_core::LocalAttributeStore;
use idforge_server::{ConfigError, Database, ServeConfig};
use serde_json::{json, Value};

const ISSUER: &str = "http://127.0.0.1:9";

fn config(name: &str, file_nickname: &str) -> String {
    format!(
        r#"
[attributes]
local = ["nickname", "locale"]

[[clients]]
client_id = "app"
client_secret = "app-secret"
redirect_uris = ["https://app.example/cb"]
grant_types = ["authorization_code", "password"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
name = "{name}"
email = "alice@example.com"
nickname = "{file_nickname}"
"#
    )
}

struct TempDb(std::path::PathBuf);

impl TempDb {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!(
            "idforge-server-attrs-{name}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        TempDb(dir)
    }

    fn url(&self) -> String {
        format!("sqlite://{}/state.db", self.0.display())
    }
}

impl Drop for TempDb {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

async fn start(db: &TempDb, toml: &str) -> axum::Router {
    let config = ServeConfig::from_toml(toml).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, &Database::Url(db.url()))
        .await
        .unwrap();
    idforge_server::router(&state)
}

/// Logs alice in with the password grant; returns (ID token claims, UserInfo).
async fn login(app: &axum::Router) -> (Value, Value) {
    let auth = basic("app", "app-secret");
    let r = post_form(
        app,
        "/token",
        &[("authorization", &auth)],
        "grant_type=password&username=alice&password=alice-password&scope=openid%20profile%20email",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let body = r.json();
    let id_token = body["id_token"].as_str().unwrap();
    let payload = id_token.split('.').nth(1).unwrap();
    let id_claims: Value =
        serde_json::from_slice(&idforge_jose::b64::decode(payload, "payload").unwrap()).unwrap();
    let at = body["access_token"].as_str().unwrap();
    let r = call(
        app,
        "GET",
        "/userinfo",
        &[("authorization", &format!("Bearer {at}"))],
        "",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    (id_claims, r.json())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn local_attributes_live_in_the_database_and_the_rest_in_the_file() {
    let db = TempDb::new("merge");
    let app = start(&db, &config("Alice Liddell", "From the file")).await;

    // First start: the file's value of the local attribute is imported (none stored yet).
    let (id, info) = login(&app).await;
    assert_eq!(info["nickname"], "From the file");
    assert_eq!(id["nickname"], "From the file");
    assert_eq!(info["name"], "Alice Liddell");

    // A write through the library API, where the attribute lives: the database.
    let store = idforge_store_sql::SqlStore::connect(&db.url())
        .await
        .unwrap();
    let change = json!({"nickname": "Al", "locale": "fr-FR"});
    store
        .write_local("config", "alice", change.as_object().unwrap())
        .await
        .unwrap();
    // Read at each request: the running server sees it at once.
    let (id, info) = login(&app).await;
    assert_eq!(info["nickname"], "Al");
    assert_eq!(info["locale"], "fr-FR");
    assert_eq!(id["nickname"], "Al");
    assert_eq!(id["locale"], "fr-FR");
    assert_eq!(id["email"], "alice@example.com");
    drop(app);

    // Restart with a changed file: the connected claims follow the file, the local one stays
    // the database's (the file's new nickname is not imported over it).
    let app = start(&db, &config("Alice Pleasance Liddell", "File again")).await;
    let (id, info) = login(&app).await;
    assert_eq!(info["name"], "Alice Pleasance Liddell");
    assert_eq!(id["name"], "Alice Pleasance Liddell");
    assert_eq!(info["nickname"], "Al");
    assert_eq!(id["nickname"], "Al");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["sub"], "alice");
    // The file's users are not copied into idforge's own users table.
    assert_eq!(store.password_hash("alice").await.unwrap(), None);

    // Password login is the file's: a wrong password fails.
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("app", "app-secret"))],
        "grant_type=password&username=alice&password=wrong&scope=openid",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_grant");
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn in_memory_the_file_seeds_the_local_attributes() {
    let config = ServeConfig::from_toml(&config("Alice", "Ally")).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, &Database::Memory)
        .await
        .unwrap();
    let (id, info) = login(&idforge_server::router(&state)).await;
    assert_eq!(
        (&info["nickname"], &info["name"]),
        (&json!("Ally"), &json!("Alice"))
    );
    assert_eq!(id["nickname"], "Ally");
}

#[test]
fn attributes_are_validated_at_load() {
    use idforge_oauth_core::users::PlacementError;
    let err = |toml: &str| ServeConfig::from_toml(toml).unwrap_err();
    assert_eq!(
        err("[attributes]\nlocal = [\"sub\"]"),
        ConfigError::Attributes(PlacementError::Reserved("sub".into()))
    );
    assert_eq!(
        err("[attributes]\nlocal = [\"username\"]"),
        ConfigError::Attributes(PlacementError::Reserved("username".into()))
    );
    assert_eq!(
        err("[attributes]\nlocal = [\"nickname\", \"nickname\"]"),
        ConfigError::Attributes(PlacementError::Duplicate("nickname".into()))
    );
    assert_eq!(
        err("[attributes]\nlocal = [\"nick name\"]"),
        ConfigError::Attributes(PlacementError::InvalidName("nick name".into()))
    );
    assert!(matches!(
        err("[attributes]\nlocal = []\nremote = [\"email\"]"),
        ConfigError::Parse(_)
    ));
    let ok = ServeConfig::from_toml("[attributes]\nlocal = [\"nickname\"]").unwrap();
    assert_eq!(
        ok.attributes,
        Some(idforge_server::AttributesConfig::new(["nickname"]))
    );
}
