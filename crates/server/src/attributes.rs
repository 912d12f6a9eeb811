//! The user attributes API (issue 17, WSO2 IS 7.3 "attribute storage location"): with
//! `[attributes]`, `GET` and `PATCH {issuer}/api/users/{username}/attributes` read a user's
//! merged attributes and write attributes where each one lives — a `local` attribute in
//! idforge's database (oauth-core's `LocalAttributeStore`), any other in the connected user
//! store (`ConnectedUserStore`), which for `idforge serve` is the configuration file's
//! `[[users]]` and takes no writes (decision 0021, docs/attributes.md).
//!
//! Authorized like the other administrative endpoints ([`crate::oauth::require_scope`]): a
//! bearer access token of this issuer carrying [`USER_ADMIN`]. A write is all or nothing: the
//! body and every attribute name are checked, and the connected store is asked first, before
//! anything is stored (`FederatedUsers::write_attributes`). Nothing here logs; the request
//! span records the path and the error code, never a value.

use std::fmt;
use std::sync::Arc;

use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use idforge_oauth_core::http::{error_response, json_response};
use idforge_oauth_core::users::{partition, AttributePlacement, FederatedUsers, Written};
use idforge_oauth_core::{ClaimsSource, Error, UserLookup};
use serde::de::{DeserializeSeed, Deserializer, MapAccess, Visitor};
use serde_json::{json, Map, Value};

use crate::oauth::OAuth;
use crate::storage::CONFIG_STORE;
use crate::{ServeConfig, ServeError};

/// The administrative scope of the attributes API (one of the
/// [`ADMINISTRATIVE_SCOPES`](crate::ADMINISTRATIVE_SCOPES): a client gets it only by listing it).
pub(crate) const USER_ADMIN: &str = "user_admin";

/// Largest body of a write.
const MAX_BODY: usize = 64 * 1024;

/// Most attributes one write may change.
pub(crate) const MAX_CHANGES: usize = 100;

/// The `error` code of a write refused because attributes live in a connected store that
/// takes no writes (HTTP 409: the request is valid, the attributes' placement refuses it).
pub(crate) const READ_ONLY: &str = "attribute_read_only";

/// The `error` code of an unknown user (HTTP 404), as the organization API's.
pub(crate) const USER_NOT_FOUND: &str = "user_not_found";

/// The users as the attributes API sees them: oauth-core's composite over the file's users
/// (the connected store [`CONFIG_STORE`]) and the local attributes, and where each attribute
/// lives.
pub(crate) struct Attributes {
    users: Arc<FederatedUsers>,
    placement: AttributePlacement,
}

impl Attributes {
    /// The API's state when `[attributes]` is configured (`federated` is then the composite the
    /// provider reads its claims from).
    pub(crate) fn new(
        config: &ServeConfig,
        federated: Option<Arc<FederatedUsers>>,
    ) -> Result<Option<Self>, ServeError> {
        match (&config.attributes, federated) {
            (Some(a), Some(users)) => Ok(Some(Attributes {
                users,
                placement: a.placement()?,
            })),
            _ => Ok(None),
        }
    }

    /// The subject of `username`. Store order decides if two connected stores had the same
    /// login name, as it decides where a subject lives.
    async fn subject_of(&self, username: &str) -> Result<String, Error> {
        self.users
            .find_users(&[(idforge_oauth_core::users::placement::USERNAME, username)])
            .await?
            .into_iter()
            .next()
            .ok_or_else(|| not_found(username))
    }

    /// The merged view: what ID tokens and UserInfo release (before scope filtering), the
    /// store the user lives in, and which attributes are kept locally.
    async fn view(&self, username: &str, subject: &str) -> Result<Value, Error> {
        let attributes = self
            .users
            .claims(subject)
            .await?
            .ok_or_else(|| not_found(username))?;
        Ok(json!({
            "username": username,
            "sub": subject,
            "store": CONFIG_STORE,
            "local": self.placement.local().collect::<Vec<_>>(),
            "attributes": attributes,
        }))
    }
}

/// `user_admin` when `[attributes]` is configured.
pub(crate) fn extra_scopes(config: &ServeConfig) -> Vec<String> {
    match config.attributes {
        Some(_) => vec![USER_ADMIN.to_owned()],
        None => Vec::new(),
    }
}

/// The routes of the attributes API (served by the root issuer only), state applied.
pub(crate) fn routes(state: Arc<OAuth>) -> Router {
    Router::new()
        .route(
            "/api/users/{username}/attributes",
            get(read_attributes).patch(write_attributes),
        )
        .with_state(state)
}

fn not_found(username: &str) -> Error {
    Error::protocol(USER_NOT_FOUND, 404, format!("no user {username}"))
}

fn respond(result: Result<Value, Error>) -> Response {
    match result {
        Ok(v) => json_response(200, &v).map(Body::from),
        Err(e) => error_response(&e, false).map(Body::from),
    }
}

/// The API's state after the bearer token check.
async fn admin<'a>(state: &'a OAuth, headers: &HeaderMap) -> Result<&'a Attributes, Error> {
    crate::oauth::require_scope(state, headers, USER_ADMIN).await?;
    // Routes are mounted only with `[attributes]`.
    state
        .attributes
        .as_ref()
        .ok_or_else(|| Error::InvalidRequest("user attributes are not configured".into()))
}

/// `GET`: 200 `{username, sub, store, local, attributes}`.
async fn read_attributes(
    State(state): State<Arc<OAuth>>,
    Path(username): Path<String>,
    headers: HeaderMap,
) -> Response {
    respond(
        async {
            let a = admin(&state, &headers).await?;
            let subject = a.subject_of(&username).await?;
            a.view(&username, &subject).await
        }
        .await,
    )
}

/// `PATCH` with a JSON object of attribute → value (`null` removes): 200 with the view after
/// the write; 400 `invalid_request` for a body that is not such an object (or repeats a name,
/// or changes more than [`MAX_CHANGES`], or names `sub`, `username` or an invalid name); 404
/// `user_not_found`; 409 `attribute_read_only` naming the attributes whose store refused them,
/// nothing written.
async fn write_attributes(
    State(state): State<Arc<OAuth>>,
    Path(username): Path<String>,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    respond(
        async {
            let a = admin(&state, &headers).await?;
            let changes = parse_changes(&body)?;
            // Names checked (and split by placement) before anything is looked up or written.
            let split = partition(&a.placement, &changes)
                .map_err(|e| Error::InvalidRequest(e.to_string()))?;
            let subject = a.subject_of(&username).await?;
            match a.users.write_attributes(&subject, &changes).await? {
                Written::Written => a.view(&username, &subject).await,
                Written::UnknownUser => Err(not_found(&username)),
                // `ReadOnly` (and any refusal a later oauth-core adds): nothing was written.
                _ => Err(read_only(split.connected.keys())),
            }
        }
        .await,
    )
}

/// 409 `attribute_read_only` with the refused attributes (sorted) and the store's name.
fn read_only<'a>(names: impl Iterator<Item = &'a String>) -> Error {
    let mut names: Vec<&String> = names.collect();
    names.sort();
    let list = names
        .iter()
        .map(|n| n.as_str())
        .collect::<Vec<_>>()
        .join(", ");
    Error::protocol(
        READ_ONLY,
        409,
        format!("{list}: kept in the read-only user store {CONFIG_STORE}; nothing was written"),
    )
    .with_member("attributes", json!(names))
    .with_member("store", json!(CONFIG_STORE))
}

/// The body of a write: one JSON object, each name at most once (RFC 8259 §4 leaves repeated
/// names to the parser; a repeated attribute would make the write's meaning depend on it), at
/// most [`MAX_CHANGES`] names.
fn parse_changes(body: &[u8]) -> Result<Map<String, Value>, Error> {
    if body.len() > MAX_BODY {
        return Err(Error::InvalidRequest("the body is too large".into()));
    }
    let mut refusal = None;
    let mut de = serde_json::Deserializer::from_slice(body);
    let parsed = Changes {
        refusal: &mut refusal,
    }
    .deserialize(&mut de)
    .and_then(|map| de.end().map(|()| map));
    parsed.map_err(|_| {
        Error::InvalidRequest(refusal.unwrap_or_else(|| {
            "the body is a JSON object of attribute names to values (null removes)".into()
        }))
    })
}

/// Reads a JSON object of changes, refused on a repeated name or more than [`MAX_CHANGES`];
/// the reason goes to `refusal` (serde_json's own messages would quote the input).
struct Changes<'r> {
    refusal: &'r mut Option<String>,
}

impl<'de> DeserializeSeed<'de> for Changes<'_> {
    type Value = Map<String, Value>;

    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Changes<'_> {
    type Value = Map<String, Value>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON object of attribute names to values")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::new();
        while let Some(name) = m.next_key::<String>()? {
            let refused = if out.len() >= MAX_CHANGES {
                Some(format!("at most {MAX_CHANGES} attributes per write"))
            } else if out.contains_key(&name) {
                Some(format!("attribute {name}: listed twice"))
            } else {
                None
            };
            if let Some(reason) = refused {
                *self.refusal = Some(reason);
                return Err(serde::de::Error::custom("refused"));
            }
            let value = m.next_value::<Value>()?;
            out.insert(name, value);
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(body: &str) -> String {
        match parse_changes(body.as_bytes()) {
            Ok(_) => "ok".into(),
            Err(e) => e.description().to_owned(),
        }
    }

    #[test]
    fn a_write_body_is_one_object_of_distinct_names() {
        let m =
            parse_changes(br#"{"nickname": "Al", "locale": null, "address": {"x": 1}}"#).unwrap();
        assert_eq!(m.len(), 3);
        assert_eq!(m["locale"], Value::Null);
        assert_eq!(code("{}"), "ok");
        assert_eq!(
            code(r#"{"nickname": "a", "nickname": "b"}"#),
            "attribute nickname: listed twice"
        );
        for bad in [
            "",
            "[]",
            "\"x\"",
            "null",
            "{",
            r#"{"a": 1} {}"#,
            "{\"a\": tru}",
        ] {
            assert_eq!(
                code(bad),
                "the body is a JSON object of attribute names to values (null removes)",
                "{bad:?}"
            );
        }
        let many: Map<String, Value> = (0..=MAX_CHANGES)
            .map(|i| (format!("a{i}"), Value::Null))
            .collect();
        assert_eq!(
            code(&Value::Object(many).to_string()),
            format!("at most {MAX_CHANGES} attributes per write")
        );
        assert_eq!(
            code(&format!("\"{}\"", "x".repeat(MAX_BODY))),
            "the body is too large"
        );
    }

    #[test]
    fn a_refusal_names_the_attributes_and_the_store() {
        let names = ["email".to_owned(), "name".to_owned()];
        let e = read_only(names.iter());
        assert_eq!(e.status(), 409);
        let body = e.to_json();
        assert_eq!(body["error"], READ_ONLY);
        assert_eq!(body["attributes"], json!(["email", "name"]));
        assert_eq!(body["store"], CONFIG_STORE);
    }
}
