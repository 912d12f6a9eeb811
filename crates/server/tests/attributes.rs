//! `[attributes]` (WSO2 IS 7.3 selectable attribute storage): the file's `[[users]]` are a
//! connected user store and `local` attributes live in the database. A local attribute is read
//! from the database (written there through the library API or the attributes API,
//! `PATCH /api/users/{username}/attributes`) and survives a restart while the other claims
//! follow the file; ID tokens and UserInfo carry the merged claims; password login works
//! against the file. A write of an attribute the file keeps is refused (409) and writes nothing;
//! the API runs on memory, SQLite and (with `IDFORGE_PG_URL`) PostgreSQL.
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

[[clients]]
client_id = "admin"
client_secret = "admin-secret"
grant_types = ["client_credentials"]
scopes = ["user_admin"]

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
    start_on(&Database::Url(db.url()), toml).await
}

async fn start_on(database: &Database, toml: &str) -> axum::Router {
    let config = ServeConfig::from_toml(toml).unwrap();
    let state = idforge_server::build_with_database(&config, ISSUER, database)
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

/// A `user_admin` access token of the `admin` client (client credentials).
async fn admin_token(app: &axum::Router) -> String {
    let r = post_form(
        app,
        "/token",
        &[("authorization", &basic("admin", "admin-secret"))],
        "grant_type=client_credentials&scope=user_admin",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

async fn patch(app: &axum::Router, token: &str, username: &str, body: &str) -> Resp {
    call(
        app,
        "PATCH",
        &format!("/api/users/{username}/attributes"),
        &[
            ("authorization", &format!("Bearer {token}")),
            ("content-type", "application/json"),
        ],
        body,
    )
    .await
}

async fn read(app: &axum::Router, token: &str, username: &str) -> Resp {
    call(
        app,
        "GET",
        &format!("/api/users/{username}/attributes"),
        &[("authorization", &format!("Bearer {token}"))],
        "",
    )
    .await
}

/// Writes through the API where each attribute lives, on `database`; `durable`: then restarts
/// on the same database and finds the write kept.
async fn writes_through_the_api(database: Database, durable: bool) {
    let toml = config("Alice Liddell", "From the file");
    let app = start_on(&database, &toml).await;
    let token = admin_token(&app).await;

    // The merged view: the file's claims and the imported local value.
    let r = read(&app, &token, "alice").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = r.json();
    assert_eq!(v["sub"], "alice");
    assert_eq!(v["store"], "config");
    assert_eq!(v["local"], json!(["locale", "nickname"]));
    assert_eq!(v["attributes"]["nickname"], "From the file");
    assert_eq!(v["attributes"]["email"], "alice@example.com");
    assert_eq!(r.headers["cache-control"], "no-store");

    // Local attributes are written to idforge's store; the answer is the view after it.
    let r = patch(
        &app,
        &token,
        "alice",
        r#"{"nickname": "Al", "locale": "fr-FR"}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["attributes"]["nickname"], "Al");
    assert_eq!(r.json()["attributes"]["locale"], "fr-FR");
    let (id, info) = login(&app).await;
    assert_eq!(
        (&id["nickname"], &info["nickname"]),
        (&json!("Al"), &json!("Al"))
    );
    assert_eq!(
        (&id["locale"], &info["locale"]),
        (&json!("fr-FR"), &json!("fr-FR"))
    );

    // An attribute the file keeps: refused, naming it and the store; the local change sent
    // with it is not written either.
    let r = patch(
        &app,
        &token,
        "alice",
        r#"{"nickname": "Mallory", "email": "mallory@example.com", "name": null}"#,
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    let e = r.json();
    assert_eq!(e["error"], "attribute_read_only");
    assert_eq!(e["attributes"], json!(["email", "name"]));
    assert_eq!(e["store"], "config");
    assert!(
        !r.body.contains("mallory"),
        "values are not echoed: {}",
        r.body
    );
    let (id, info) = login(&app).await;
    assert_eq!(id["nickname"], "Al");
    assert_eq!(info["email"], "alice@example.com");
    assert_eq!(info["name"], "Alice Liddell");

    // `null` removes a local attribute; the file's value is not released instead.
    let r = patch(&app, &token, "alice", r#"{"locale": null}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(r.json()["attributes"].get("locale"), None);
    let (id, _) = login(&app).await;
    assert_eq!(id.get("locale"), None);

    if durable {
        // Restart with a changed file: the written value stays, the file's claims follow it.
        drop(app);
        let app = start_on(&database, &config("Alice P. Liddell", "File again")).await;
        let token = admin_token(&app).await;
        let v = read(&app, &token, "alice").await.json();
        assert_eq!(v["attributes"]["nickname"], "Al");
        assert_eq!(v["attributes"]["name"], "Alice P. Liddell");
        let (id, info) = login(&app).await;
        assert_eq!(
            (&id["nickname"], &info["nickname"]),
            (&json!("Al"), &json!("Al"))
        );

        // A removal survives a restart too: the file's value is not imported over it.
        let r = patch(&app, &token, "alice", r#"{"nickname": null}"#).await;
        assert_eq!(r.status, 200, "{}", r.body);
        drop(app);
        let app = start_on(&database, &config("Alice P. Liddell", "File again")).await;
        let (id, info) = login(&app).await;
        assert_eq!((id.get("nickname"), info.get("nickname")), (None, None));
        // Written again, it is back.
        let token = admin_token(&app).await;
        let r = patch(&app, &token, "alice", r#"{"nickname": "Al"}"#).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(r.json()["attributes"]["nickname"], "Al");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_writes_local_attributes_in_memory() {
    writes_through_the_api(Database::Memory, false).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_writes_local_attributes_on_sqlite_and_they_survive_a_restart() {
    let db = TempDb::new("api");
    writes_through_the_api(Database::Url(db.url()), true).await;
    // Nothing of the refused write reached the table.
    let store = idforge_store_sql::SqlStore::connect(&db.url())
        .await
        .unwrap();
    let stored = store.local_attributes("config", "alice").await.unwrap();
    assert_eq!(Value::Object(stored), json!({"nickname": "Al"}));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_writes_local_attributes_on_postgres() {
    let Some(url) = fresh_postgres("the_api_writes_local_attributes_on_postgres").await else {
        return;
    };
    writes_through_the_api(Database::Url(url.clone()), true).await;
    let store = idforge_store_sql::SqlStore::connect(&url).await.unwrap();
    let stored = store.local_attributes("config", "alice").await.unwrap();
    assert_eq!(Value::Object(stored), json!({"nickname": "Al"}));
    store.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_refuses_bad_requests_and_writes_nothing() {
    let app = start_on(&Database::Memory, &config("Alice", "Ally")).await;
    let token = admin_token(&app).await;

    // RFC 6750 §3.1: no token, a bad token, a token without `user_admin`.
    let r = call(&app, "PATCH", "/api/users/alice/attributes", &[], "{}").await;
    assert_eq!(r.status, 401, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_token");
    assert!(r.headers["www-authenticate"].starts_with("Bearer"));
    let r = read(&app, "not-a-token", "alice").await;
    assert_eq!(r.status, 401, "{}", r.body);
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("app", "app-secret"))],
        "grant_type=password&username=alice&password=alice-password&scope=openid",
    )
    .await;
    let user_token = r.json()["access_token"].as_str().unwrap().to_owned();
    for r in [
        read(&app, &user_token, "alice").await,
        patch(&app, &user_token, "alice", r#"{"nickname": "x"}"#).await,
    ] {
        assert_eq!(r.status, 403, "{}", r.body);
        assert_eq!(r.json()["error"], "insufficient_scope");
        assert!(r.headers["www-authenticate"].contains("insufficient_scope"));
    }
    // The `app` client cannot even ask for the administrative scope.
    let r = post_form(
        &app,
        "/token",
        &[("authorization", &basic("app", "app-secret"))],
        "grant_type=password&username=alice&password=alice-password&scope=user_admin",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);

    // Unknown user.
    for r in [
        read(&app, &token, "bob").await,
        patch(&app, &token, "bob", r#"{"nickname": "x"}"#).await,
    ] {
        assert_eq!(r.status, 404, "{}", r.body);
        assert_eq!(r.json()["error"], "user_not_found");
    }

    // Bodies that are not one object of distinct, writable names: 400, nothing written.
    for (body, says) in [
        ("nickname=x", "JSON object"),
        (r#"["nickname"]"#, "JSON object"),
        (
            r#"{"nickname": "a", "nickname": "b"}"#,
            "nickname: listed twice",
        ),
        (r#"{"nickname": "a", "sub": "bob"}"#, "sub"),
        (r#"{"nickname": "a", "username": "bob"}"#, "username"),
        (r#"{"nickname": "a", "nick name": "b"}"#, "nick name"),
    ] {
        let r = patch(&app, &token, "alice", body).await;
        assert_eq!(r.status, 400, "{body}: {}", r.body);
        let e = r.json();
        assert_eq!(e["error"], "invalid_request", "{body}");
        assert!(
            e["error_description"].as_str().unwrap().contains(says),
            "{body}: {e}"
        );
    }
    assert_eq!(
        read(&app, &token, "alice").await.json()["attributes"]["nickname"],
        "Ally"
    );
    // Other methods are not routes of the API.
    let r = call(
        &app,
        "DELETE",
        "/api/users/alice/attributes",
        &[("authorization", &format!("Bearer {token}"))],
        "",
    )
    .await;
    assert_eq!(r.status, 405, "{}", r.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_attributes_there_is_no_api_and_no_scope() {
    let toml =
        config("Alice", "Ally").replace("[attributes]\nlocal = [\"nickname\", \"locale\"]\n", "");
    assert!(!toml.contains("[attributes]"));
    // `user_admin` is supported only with `[attributes]`.
    assert!(matches!(
        ServeConfig::from_toml(&toml).unwrap_err(),
        ConfigError::UnsupportedScope { scope, .. } if scope == "user_admin"
    ));
    let toml = toml.replace("scopes = [\"user_admin\"]\n", "");
    let app = start_on(&Database::Memory, &toml).await;
    let r = call(&app, "GET", "/api/users/alice/attributes", &[], "").await;
    assert_eq!(r.status, 404, "{}", r.body);
    let discovery = get(&app, "/.well-known/openid-configuration").await.json();
    assert!(!discovery["scopes_supported"]
        .as_array()
        .unwrap()
        .contains(&json!("user_admin")));
}

/// In memory, the root's and an organization's issuer share the local attributes: a write
/// through the root's API is released by the organization's issuer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn organizations_issuers_see_the_writes_in_memory() {
    let toml = r#"
[attributes]
local = ["nickname"]

[root]
name = "Root"

[[organizations]]
id = "partner"
name = "Partner"
handle = "partner"
issuer = "self"

[[clients]]
client_id = "admin"
client_secret = "admin-secret"
grant_types = ["client_credentials"]
scopes = ["user_admin"]

[[clients]]
client_id = "partner-app"
client_secret = "partner-app-secret"
organization = "partner"
grant_types = ["password"]

[[users]]
username = "pat"
password = "pw"
organization = "partner"
[users.claims]
nickname = "P"

[[users]]
username = "share"
password = "pw"
"#;
    let app = start_on(&Database::Memory, toml).await;
    let token = admin_token(&app).await;
    let r = patch(&app, &token, "pat", r#"{"nickname": "Patty"}"#).await;
    assert_eq!(r.status, 200, "{}", r.body);
    // A user named like an organizations API route (`/api/users/share`) is still found.
    let r = read(&app, &token, "share").await;
    assert_eq!(
        (r.status, &r.json()["sub"]),
        (200, &json!("share")),
        "{}",
        r.body
    );
    let r = post_form(
        &app,
        "/o/partner/token",
        &[("authorization", &basic("partner-app", "partner-app-secret"))],
        "grant_type=password&username=pat&password=pw&scope=openid%20profile",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let id_token = r.json()["id_token"].as_str().unwrap().to_owned();
    let payload = id_token.split('.').nth(1).unwrap();
    let id: Value =
        serde_json::from_slice(&idforge_jose::b64::decode(payload, "payload").unwrap()).unwrap();
    assert_eq!(id["iss"], "http://127.0.0.1:9/o/partner");
    assert_eq!(id["nickname"], "Patty");
}
