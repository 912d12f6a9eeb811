//! Drives an axum `Router` in process with `tower::ServiceExt::oneshot`: no socket, no client.
#![allow(dead_code)] // each test binary uses a different subset

use std::collections::HashMap;

use axum::body::{to_bytes, Body};
use axum::http::Request;
use axum::Router;
use tower::ServiceExt;

/// A response, read whole.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HashMap<String, String>,
    pub(crate) body: String,
}

impl Resp {
    pub(crate) fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.body).unwrap_or_else(|_| panic!("not JSON: {}", self.body))
    }

    pub(crate) fn location(&self) -> &str {
        self.headers
            .get("location")
            .map(String::as_str)
            .unwrap_or_else(|| panic!("no location ({}): {}", self.status, self.body))
    }
}

pub(crate) async fn call(
    app: &Router,
    method: &str,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut req = Request::builder().method(method).uri(uri);
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    let resp = app
        .clone()
        .oneshot(req.body(Body::from(body.to_owned())).unwrap())
        .await
        .unwrap();
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .map(|(k, v)| (k.as_str().to_owned(), v.to_str().unwrap_or("").to_owned()))
        .collect();
    let body = to_bytes(resp.into_body(), usize::MAX).await.unwrap();
    Resp {
        status,
        headers,
        body: String::from_utf8(body.to_vec()).unwrap(),
    }
}

pub(crate) async fn get(app: &Router, uri: &str) -> Resp {
    call(app, "GET", uri, &[], "").await
}

pub(crate) const FORM: (&str, &str) = ("content-type", "application/x-www-form-urlencoded");

pub(crate) async fn post_form(
    app: &Router,
    uri: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Resp {
    let mut all = vec![FORM];
    all.extend_from_slice(headers);
    call(app, "POST", uri, &all, body).await
}

pub(crate) fn enc(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

pub(crate) fn basic(id: &str, secret: &str) -> String {
    use base64::Engine;
    format!(
        "Basic {}",
        base64::engine::general_purpose::STANDARD.encode(format!("{id}:{secret}"))
    )
}

/// CIBA's grant type (CIBA Core §10.1).
pub(crate) const CIBA: &str = "urn:openid:params:grant-type:ciba";

/// A CIBA backchannel authentication request by `client` (secret `{client}-secret`).
pub(crate) async fn bc(app: &Router, client: &str, body: &str) -> Resp {
    let auth = basic(client, &format!("{client}-secret"));
    post_form(app, "/bc-authorize", &[("authorization", &auth)], body).await
}

/// `client` (secret `{client}-secret`) polls the token endpoint for `auth_req_id` `id`.
pub(crate) async fn poll(app: &Router, client: &str, id: &str) -> Resp {
    let auth = basic(client, &format!("{client}-secret"));
    let body = format!("grant_type={}&auth_req_id={id}", enc(CIBA));
    post_form(app, "/token", &[("authorization", &auth)], &body).await
}

/// The value of a hidden form field, unescaped.
pub(crate) fn hidden(html: &str, name: &str) -> String {
    let marker = format!("name=\"{name}\" value=\"");
    let start = html
        .find(&marker)
        .unwrap_or_else(|| panic!("no {name}: {html}"))
        + marker.len();
    let end = start + html[start..].find('"').unwrap();
    html[start..end]
        .replace("&quot;", "\"")
        .replace("&amp;", "&")
}

/// A query parameter of a redirect location.
pub(crate) fn param(location: &str, name: &str) -> Option<String> {
    let query = location.split_once('?')?.1;
    form_urlencoded::parse(query.as_bytes())
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

pub(crate) const VERIFIER: &str = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
pub(crate) const CHALLENGE: &str = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

/// A fresh database on the server under `IDFORGE_PG_URL` (skipped with a reason when unset,
/// a failure under `IDFORGE_INTEROP=require`).
pub(crate) async fn fresh_postgres(test: &str) -> Option<String> {
    let Ok(admin) = std::env::var("IDFORGE_PG_URL") else {
        if std::env::var("IDFORGE_INTEROP").as_deref() == Ok("require") {
            panic!("{test}: IDFORGE_PG_URL is unset but IDFORGE_INTEROP=require");
        }
        eprintln!("{test}: skipped: IDFORGE_PG_URL is unset");
        return None;
    };
    let mut r = [0u8; 6];
    idforge_jose::crypto::random_bytes(&mut r).unwrap();
    let name = format!(
        "idforge_server_{}_{}",
        std::process::id(),
        r.iter().map(|b| format!("{b:02x}")).collect::<String>()
    );
    let mut conn = <sqlx::PgConnection as sqlx::Connection>::connect(&admin)
        .await
        .unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut conn)
        .await
        .unwrap();
    let base = admin.split('?').next().unwrap();
    Some(format!("{}/{name}", &base[..base.rfind('/').unwrap()]))
}
