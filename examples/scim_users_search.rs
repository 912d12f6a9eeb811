//! A SCIM `/Users?filter=` search (RFC 7644 §3.4.2) on SQLite: `idforge-scim-filter` parses
//! and validates the filter against the RFC 7643 User schema and translates it to a
//! parameterized `WHERE` clause (every literal a bound parameter, `emails` in a child table as
//! `EXISTS`), run with sqlx; errors are SCIM error responses (RFC 7644 §3.12).
//!
//! The example serves on 127.0.0.1 (ephemeral port), searches itself with several filters,
//! checks each result against the crate's in-memory evaluation (`matches`) of the same filter
//! over the same users, checks that a quote in a literal stays data and that a bad filter is a
//! 400 `invalidFilter`, and exits 0.
//!
//! Run: `cargo run --example scim_users_search`

mod common;

use std::collections::{BTreeSet, HashMap};

use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use idforge_scim_filter::{matches, parse_filter, sql, Schema};
use serde_json::{json, Value};
use sqlx::sqlite::{SqlitePool, SqlitePoolOptions};
use sqlx::Row;

use common::{check, request};

/// The users, as SCIM resources; stored in `users` and `user_emails` below.
fn users() -> Vec<Value> {
    vec![
        json!({"id": "1", "userName": "bjensen", "active": true, "title": "Tour Guide",
               "name": {"givenName": "Barbara", "familyName": "Jensen"},
               "emails": [{"value": "bjensen@example.com", "type": "work", "primary": true},
                          {"value": "babs@jensen.org", "type": "home"}]}),
        json!({"id": "2", "userName": "jsmith", "active": true,
               "name": {"givenName": "John", "familyName": "Smith"},
               "emails": [{"value": "john.smith@example.com", "type": "work"}]}),
        json!({"id": "3", "userName": "mjones", "active": false, "title": "Engineer",
               "name": {"givenName": "Mary", "familyName": "Jones"},
               "emails": [{"value": "mary@jones.example", "type": "home"}]}),
        json!({"id": "4", "userName": "x' OR 1=1 --", "active": false,
               "name": {"givenName": "Bobby", "familyName": "Tables"}, "emails": []}),
    ]
}

async fn load(pool: &SqlitePool) -> Result<(), sqlx::Error> {
    sqlx::query(
        r#"CREATE TABLE "users" ("id" TEXT PRIMARY KEY, "userName" TEXT NOT NULL,
           "active" INTEGER, "title" TEXT, "name_givenName" TEXT, "name_familyName" TEXT)"#,
    )
    .execute(pool)
    .await?;
    sqlx::query(
        r#"CREATE TABLE "user_emails" ("user_id" TEXT NOT NULL REFERENCES "users"("id"),
           "value" TEXT, "type" TEXT, "primary" INTEGER)"#,
    )
    .execute(pool)
    .await?;
    for u in users() {
        sqlx::query(r#"INSERT INTO "users" VALUES (?, ?, ?, ?, ?, ?)"#)
            .bind(u["id"].as_str())
            .bind(u["userName"].as_str())
            .bind(u["active"].as_bool())
            .bind(u["title"].as_str())
            .bind(u["name"]["givenName"].as_str())
            .bind(u["name"]["familyName"].as_str())
            .execute(pool)
            .await?;
        for e in u["emails"].as_array().into_iter().flatten() {
            sqlx::query(r#"INSERT INTO "user_emails" VALUES (?, ?, ?, ?)"#)
                .bind(u["id"].as_str())
                .bind(e["value"].as_str())
                .bind(e["type"].as_str())
                .bind(e["primary"].as_bool())
                .execute(pool)
                .await?;
        }
    }
    Ok(())
}

fn scim_error(status: StatusCode, scim_type: Option<&str>, detail: &str) -> Response {
    let mut body = json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:Error"],
        "status": status.as_u16().to_string(),
        "detail": detail,
    });
    if let Some(t) = scim_type {
        body["scimType"] = json!(t);
    }
    (status, Json(body)).into_response()
}

/// `GET /Users?filter=...`: the matching users, ordered by `userName`.
async fn search(
    State(pool): State<SqlitePool>,
    Query(q): Query<HashMap<String, String>>,
) -> Response {
    let mut sql_text = String::from(
        r#"SELECT "users"."id", "users"."userName", "users"."active", "users"."title",
           "users"."name_givenName", "users"."name_familyName" FROM "users""#,
    );
    let mut params = Vec::new();
    if let Some(filter) = q.get("filter") {
        // RFC 7644 §3.12: a filter that does not parse or fit the schema is `invalidFilter`.
        let translated = parse_filter(filter).and_then(|f| {
            let map =
                sql::WideTable::new("users").with_child_table("emails", "user_emails", "user_id");
            sql::to_sql(&f, &Schema::user(), &map, sql::Dialect::Sqlite)
        });
        match translated {
            Ok(w) => {
                sql_text.push_str(" WHERE ");
                sql_text.push_str(&w.sql);
                params = w.params;
            }
            Err(e) => {
                let body = e.to_scim_error();
                return (StatusCode::BAD_REQUEST, Json(body)).into_response();
            }
        }
    }
    sql_text.push_str(r#" ORDER BY "users"."userName""#);
    let mut query = sqlx::query(&sql_text);
    for p in params {
        query = match p {
            sql::SqlParam::Text(s) => query.bind(s),
            sql::SqlParam::Integer(i) => query.bind(i),
            sql::SqlParam::Real(f) => query.bind(f),
            sql::SqlParam::Bool(b) => query.bind(b),
            // A parameter kind this example does not know: refuse rather than guess.
            #[allow(unreachable_patterns)]
            _ => {
                return scim_error(
                    StatusCode::BAD_REQUEST,
                    Some("invalidFilter"),
                    "unsupported literal",
                )
            }
        };
    }
    let rows = match query.fetch_all(&pool).await {
        Ok(rows) => rows,
        Err(_) => return scim_error(StatusCode::INTERNAL_SERVER_ERROR, None, "search failed"),
    };
    let resources: Vec<Value> = rows
        .iter()
        .map(|r| {
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "id": r.get::<String, _>(0),
                "userName": r.get::<String, _>(1),
                "active": r.get::<Option<bool>, _>(2),
                "title": r.get::<Option<String>, _>(3),
                "name": {"givenName": r.get::<Option<String>, _>(4),
                         "familyName": r.get::<Option<String>, _>(5)},
            })
        })
        .collect();
    Json(json!({
        "schemas": ["urn:ietf:params:scim:api:messages:2.0:ListResponse"],
        "totalResults": resources.len(),
        "Resources": resources,
    }))
    .into_response()
}

fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // One connection: an in-memory SQLite database lives as long as its connection.
    let pool = SqlitePoolOptions::new()
        .max_connections(1)
        .connect("sqlite::memory:")
        .await?;
    load(&pool).await?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let addr = listener.local_addr()?;
    common::spawn_server(
        listener,
        Router::new().route("/Users", get(search)).with_state(pool),
    );

    let everyone = request(addr, "GET", "/Users", &[], "").await?;
    check(
        everyone.json()["totalResults"] == 4,
        "no filter: every user",
    )?;
    for filter in [
        r#"userName eq "BJENSEN""#,
        r#"emails[type eq "work" and value co "@example.com"]"#,
        r#"name.familyName sw "J" and active eq true"#,
        r#"title pr or not (active eq true)"#,
        r#"emails.value ew ".org" or userName eq "jsmith""#,
        r#"userName eq "x' OR 1=1 --""#,
        r#"userName eq "nobody' OR '1'='1""#,
    ] {
        let r = request(
            addr,
            "GET",
            &format!("/Users?filter={}", enc(filter)),
            &[],
            "",
        )
        .await?;
        let got: BTreeSet<String> = r.json()["Resources"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|u| u["id"].as_str().map(str::to_owned))
            .collect();
        let parsed = parse_filter(filter)?;
        let mut want = BTreeSet::new();
        for u in users() {
            if matches(&parsed, &u, &Schema::user())? {
                want.insert(u["id"].as_str().unwrap_or_default().to_owned());
            }
        }
        check(
            r.status == 200 && got == want,
            &format!("{filter}: SQLite returns {got:?}, as matches() says"),
        )?;
    }
    let bad = request(
        addr,
        "GET",
        &format!("/Users?filter={}", enc("userName eq")),
        &[],
        "",
    )
    .await?;
    check(
        bad.status == 400 && bad.json()["scimType"] == "invalidFilter",
        "a malformed filter is 400 invalidFilter",
    )?;
    let unknown = request(
        addr,
        "GET",
        &format!("/Users?filter={}", enc(r#"shoeSize gt 3"#)),
        &[],
        "",
    )
    .await?;
    check(
        unknown.status == 400,
        "an attribute outside the schema is refused",
    )?;
    println!("scim_users_search: all checks passed");
    Ok(())
}
