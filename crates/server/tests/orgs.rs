//! The `idforge serve` organizations contract, in process: `[[organizations]]`, users' shares,
//! clients' `shared_with`, the organization switch, the JSON management API (a future share
//! reaching an organization created live, moves, disabling, share/patch/unshare), and a
//! self-issuing organization at `{issuer}/o/{org_id}`, organization claims on
//! authorization-code, device-code and CIBA tokens (its own issuer's, and the `organization`
//! parameter's at the root), and organizations becoming issuers (and ceasing to) at run time.
#![allow(clippy::unwrap_used)]

mod common;

use base64::Engine;
use common::{basic, call, enc, get, hidden, param, post_form, Resp, CHALLENGE, VERIFIER};
use idforge_server::ServeConfig;
use serde_json::{json, Value};

const CONFIG: &str = r#"
issuer = "http://idp.test"

[root]
name = "Acme Root"

[[organizations]]
id = "eu"
name = "Acme EU"
handle = "acme-eu"

[[organizations]]
id = "eu-sales"
name = "Acme EU Sales"
handle = "eu-sales"
parent = "eu"

[[organizations]]
id = "partner"
name = "Partner"
handle = "partner"
issuer = "self"
email_domains = ["partner.example"]
[organizations.settings]
email_domains_discovery = true
scope_as_array = true

[[clients]]
client_id = "app"
client_secret = "app-secret"
grant_types = ["password", "refresh_token", "organization_switch", "authorization_code"]
redirect_uris = ["http://127.0.0.1:3000/callback"]
shared_with = ["*"]

[[clients]]
client_id = "admin"
client_secret = "admin-secret"
grant_types = ["client_credentials"]
scopes = ["org_admin"]

[[clients]]
client_id = "partner-app"
client_secret = "partner-app-secret"
organization = "partner"
grant_types = ["password", "client_credentials", "authorization_code"]
redirect_uris = ["http://127.0.0.1:3000/callback"]

[[clients]]
client_id = "partner-dev"
client_secret = "partner-dev-secret"
organization = "partner"
grant_types = ["urn:ietf:params:oauth:grant-type:device_code", "urn:openid:params:grant-type:ciba"]

[[clients]]
client_id = "eu-app"
client_secret = "eu-app-secret"
organization = "eu"
grant_types = ["password"]

[[users]]
username = "alice"
password = "pw"
[[users.shares]]
policy = "SELECTED_ORG_WITH_ALL_EXISTING_AND_FUTURE_CHILDREN"
organizations = ["eu"]
roles = ["sales"]

[[users]]
username = "bob"
password = "pw"

[[users]]
username = "pat"
password = "pw"
organization = "partner"
"#;

fn app() -> axum::Router {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let state = idforge_server::build(&config, "http://127.0.0.1:1").unwrap();
    idforge_server::router(&state)
}

fn payload(jwt: &str) -> Value {
    let part = jwt.split('.').nth(1).unwrap();
    serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(part)
            .unwrap(),
    )
    .unwrap()
}

async fn token(app: &axum::Router, path: &str, client: &str, body: &str) -> Resp {
    let body = format!("{body}&client_id={client}&client_secret={client}-secret");
    call(
        app,
        "POST",
        path,
        &[("content-type", "application/x-www-form-urlencoded")],
        &body,
    )
    .await
}

async fn login(app: &axum::Router, user: &str) -> String {
    let r = token(
        app,
        "/token",
        "app",
        &format!("grant_type=password&username={user}&password=pw&scope=openid"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
}

async fn switch(app: &axum::Router, at: &str, org: &str) -> Resp {
    token(
        app,
        "/token",
        "app",
        &format!("grant_type=organization_switch&token={at}&switching_organization={org}"),
    )
    .await
}

async fn admin_token(app: &axum::Router) -> String {
    let r = token(
        app,
        "/token",
        "admin",
        "grant_type=client_credentials&scope=org_admin",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    format!("Bearer {}", r.json()["access_token"].as_str().unwrap())
}

async fn api(app: &axum::Router, method: &str, path: &str, bearer: &str, body: Value) -> Resp {
    call(
        app,
        method,
        path,
        &[
            ("authorization", bearer),
            ("content-type", "application/json"),
        ],
        &body.to_string(),
    )
    .await
}

#[tokio::test]
async fn a_shared_user_switches_into_a_sub_organization() {
    let app = app();
    let at = login(&app, "alice").await;
    let r = switch(&app, &at, "eu-sales").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = payload(r.json()["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], "http://idp.test");
    assert_eq!(
        (
            c["org_id"].clone(),
            c["org_name"].clone(),
            c["org_handle"].clone()
        ),
        (json!("eu-sales"), json!("Acme EU Sales"), json!("eu-sales"))
    );
    assert_eq!(c["user_org"], "root");
    assert_eq!(c["roles"], json!(["sales"]));
    let id = payload(r.json()["id_token"].as_str().unwrap());
    assert_eq!(id["org_id"], "eu-sales");
    // Refusals with their errors.
    assert_eq!(
        switch(&app, &at, "nowhere").await.json()["error"],
        "invalid_request"
    );
    let bob = login(&app, "bob").await;
    assert_eq!(
        switch(&app, &bob, "eu").await.json()["error"],
        "invalid_grant"
    );
    let e = switch(&app, &at, "partner").await;
    assert_eq!(
        (e.status, e.json()["error"].clone()),
        (400, json!("invalid_grant"))
    );
    // The `organization` parameter: tokens for a sub-organization directly.
    let body = "grant_type=password&username=alice&password=pw&scope=openid&organization=eu-sales";
    let r = token(&app, "/token", "app", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = payload(r.json()["access_token"].as_str().unwrap());
    assert_eq!(
        (c["org_id"].clone(), c["roles"].clone()),
        (json!("eu-sales"), json!(["sales"]))
    );
    let body = "grant_type=password&username=bob&password=pw&organization=eu-sales";
    assert_eq!(
        token(&app, "/token", "app", body).await.json()["error"],
        "invalid_grant"
    );
    let disc = call(&app, "GET", "/.well-known/openid-configuration", &[], "")
        .await
        .json();
    assert!(disc["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "org_admin"));
    assert!(disc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|s| s == "organization_switch"));
}

#[tokio::test]
async fn the_management_api_shows_future_shares_live() {
    let app = app();
    // Authorization: a bearer token with org_admin.
    let none = api(
        &app,
        "POST",
        "/api/organizations",
        "",
        json!({"name": "X", "handle": "x"}),
    )
    .await;
    assert_eq!(none.status, 401);
    let alice = login(&app, "alice").await;
    let weak = api(
        &app,
        "POST",
        "/api/organizations",
        &format!("Bearer {alice}"),
        json!({"name": "X", "handle": "x"}),
    )
    .await;
    assert_eq!(weak.status, 403);
    let admin = admin_token(&app).await;
    // A new organization below eu: alice's future share reaches it at once.
    let r = api(
        &app,
        "POST",
        "/api/organizations",
        &admin,
        json!({"id": "eu-new", "name": "EU New", "handle": "eu-new", "parent": "eu"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        r.json(),
        json!({"id": "eu-new", "name": "EU New", "handle": "eu-new", "parent": "eu", "status": "active", "issuer": "root"})
    );
    let ok = switch(&app, &alice, "eu-new").await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    assert_eq!(
        payload(ok.json()["access_token"].as_str().unwrap())["roles"],
        json!(["sales"])
    );
    // Conflicts and unknowns.
    assert_eq!(
        api(
            &app,
            "POST",
            "/api/organizations",
            &admin,
            json!({"name": "Y", "handle": "eu-new"})
        )
        .await
        .status,
        409
    );
    assert_eq!(
        api(&app, "GET", "/api/organizations/ghost", &admin, json!({}))
            .await
            .status,
        404
    );
    assert_eq!(
        api(
            &app,
            "PATCH",
            "/api/organizations/eu",
            &admin,
            json!({"parent": "eu-new"})
        )
        .await
        .json()["error"],
        "cycle"
    );
    // Moved out from under eu: the future share no longer reaches it.
    let moved = api(
        &app,
        "PATCH",
        "/api/organizations/eu-new",
        &admin,
        json!({"parent": "root"}),
    )
    .await;
    assert_eq!(
        (moved.status, moved.json()["parent"].clone()),
        (200, json!("root"))
    );
    assert_eq!(
        switch(&app, &alice, "eu-new").await.json()["error"],
        "invalid_grant"
    );
    // Disabled: refused; enabled again: allowed.
    let off = api(
        &app,
        "PATCH",
        "/api/organizations/eu-sales",
        &admin,
        json!({"status": "disabled"}),
    )
    .await;
    assert_eq!(off.json()["status"], "disabled");
    assert_eq!(
        switch(&app, &alice, "eu-sales").await.json()["error"],
        "invalid_grant"
    );
    assert_eq!(
        api(
            &app,
            "GET",
            "/api/organizations/eu-sales",
            &admin,
            json!({})
        )
        .await
        .json()["status"],
        "disabled"
    );
    api(
        &app,
        "PATCH",
        "/api/organizations/eu-sales",
        &admin,
        json!({"status": "active"}),
    )
    .await;
    assert_eq!(switch(&app, &alice, "eu-sales").await.status, 200);
}

#[tokio::test]
async fn share_patch_and_unshare_through_the_api() {
    let app = app();
    let admin = admin_token(&app).await;
    let bob = login(&app, "bob").await;
    let r = api(&app, "POST", "/api/users/share", &admin, json!({
        "userCriteria": {"userIds": ["bob"]},
        "organizations": [{"orgId": "eu", "policy": "SELECTED_ORG_ONLY", "roleAssignment": {"mode": "SELECTED", "roles": ["viewer"]}}]
    })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = switch(&app, &bob, "eu").await;
    assert_eq!(
        payload(s.json()["access_token"].as_str().unwrap())["roles"],
        json!(["viewer"])
    );
    assert_eq!(
        switch(&app, &bob, "eu-sales").await.json()["error"],
        "invalid_grant",
        "SELECTED_ORG_ONLY"
    );
    let r = api(&app, "PATCH", "/api/users/share", &admin, json!({
        "userCriteria": {"userIds": ["bob"]},
        "Operations": [{"op": "replace", "path": "organizations[orgId eq \"eu\"].roles", "value": ["editor"]}]
    })).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let s = switch(&app, &bob, "eu").await;
    assert_eq!(
        payload(s.json()["access_token"].as_str().unwrap())["roles"],
        json!(["editor"])
    );
    let bad = api(&app, "PATCH", "/api/users/share", &admin, json!({
        "userCriteria": {"userIds": ["bob"]},
        "Operations": [{"op": "replace", "path": "organizations[name eq \"eu\"].roles", "value": []}]
    })).await;
    assert_eq!(bad.status, 400);
    let r = api(
        &app,
        "POST",
        "/api/users/unshare",
        &admin,
        json!({"userCriteria": {"userIds": ["bob"]}, "orgIds": ["eu"]}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        switch(&app, &bob, "eu").await.json()["error"],
        "invalid_grant"
    );
    let r = api(
        &app,
        "POST",
        "/api/users/share",
        &admin,
        json!({
            "userCriteria": {"userIds": ["nobody"]},
            "organizations": [{"orgId": "eu", "policy": "SELECTED_ORG_ONLY"}]
        }),
    )
    .await;
    assert_eq!(r.status, 404);
}

#[tokio::test]
async fn a_self_issuing_organization_has_its_own_issuer() {
    let app = app();
    let d = call(
        &app,
        "GET",
        "/o/partner/.well-known/openid-configuration",
        &[],
        "",
    )
    .await;
    assert_eq!(d.status, 200, "{}", d.body);
    let d = d.json();
    assert_eq!(d["issuer"], "http://idp.test/o/partner");
    assert_eq!(d["token_endpoint"], "http://idp.test/o/partner/token");
    assert_eq!(
        d["jwks_uri"].as_str().unwrap(),
        "http://idp.test/o/partner/jwks.json"
    );
    let keys = call(&app, "GET", "/o/partner/jwks.json", &[], "")
        .await
        .json();
    let root_keys = call(&app, "GET", "/jwks.json", &[], "").await.json();
    assert_ne!(
        keys["keys"][0]["kid"], root_keys["keys"][0]["kid"],
        "its own keys"
    );
    // Organizations using the root issuer have no discovery of their own.
    assert_eq!(
        call(
            &app,
            "GET",
            "/o/eu/.well-known/openid-configuration",
            &[],
            ""
        )
        .await
        .status,
        404
    );
    // Its application gets tokens there, not at the root.
    let r = token(
        &app,
        "/o/partner/token",
        "partner-app",
        "grant_type=password&username=pat&password=pw&scope=openid",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = payload(r.json()["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], "http://idp.test/o/partner");
    // Scoped to the organization, as its codes are.
    assert_eq!(
        (
            c["org_id"].clone(),
            c["user_org"].clone(),
            c["roles"].clone()
        ),
        (json!("partner"), json!("partner"), json!([]))
    );
    assert_eq!(
        payload(r.json()["id_token"].as_str().unwrap())["org_handle"],
        "partner"
    );
    let r = token(
        &app,
        "/token",
        "partner-app",
        "grant_type=password&username=pat&password=pw",
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_client");
    // Client credentials for the organization's application, at its issuer.
    let r = token(
        &app,
        "/o/partner/token",
        "partner-app",
        "grant_type=client_credentials",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let c = payload(r.json()["access_token"].as_str().unwrap());
    assert_eq!(
        (c["iss"].clone(), c["sub"].clone(), c["org_id"].clone()),
        (
            json!("http://idp.test/o/partner"),
            json!("partner-app"),
            json!("partner")
        )
    );
    // Only the organization's members log in at its issuer, as the stores say at login time:
    // a share made through the API lets bob in.
    let bob = "grant_type=password&username=bob&password=pw";
    let r = token(&app, "/o/partner/token", "partner-app", bob).await;
    assert_eq!(r.json()["error"], "invalid_grant");
    let admin = admin_token(&app).await;
    let body = json!({
        "userCriteria": {"userIds": ["bob"]},
        "organizations": [{"orgId": "partner", "policy": "SELECTED_ORG_ONLY"}]
    });
    let shared = api(&app, "POST", "/api/users/share", &admin, body).await;
    assert_eq!(shared.status, 200, "{}", shared.body);
    assert_eq!(
        token(&app, "/o/partner/token", "partner-app", bob)
            .await
            .status,
        200
    );
    // Its inherited settings: scope_as_array is on in partner.
    let body = "grant_type=password&username=pat&password=pw&scope=openid%20profile";
    let r = token(&app, "/o/partner/token", "partner-app", body).await;
    let scope = payload(r.json()["access_token"].as_str().unwrap())["scope"].clone();
    assert_eq!(scope, json!(["openid", "profile"]));
}

#[test]
fn organization_config_errors() {
    for (bad, what) in [
        ("[[organizations]]\nid = \"a\"\nname = \"A\"\nhandle = \"a\"\nparent = \"ghost\"", "ghost"),
        ("[[organizations]]\nid = \"a\"\nname = \"A\"\nhandle = \"a\"\n[[organizations]]\nid = \"b\"\nname = \"B\"\nhandle = \"a\"", "handle"),
        ("[[organizations]]\nid = \"a/b\"\nname = \"A\"\nhandle = \"a\"", "organization id"),
        ("[[users]]\nusername = \"u\"\npassword = \"p\"\norganization = \"ghost\"", "ghost"),
        ("[[clients]]\nclient_id = \"c\"\nshared_with = [\"ghost\"]\n[[organizations]]\nid = \"a\"\nname = \"A\"\nhandle = \"a\"", "ghost"),
        ("[[organizations]]\nid = \"a\"\nname = \"A\"\nhandle = \"a\"\n[organizations.settings]\nbogus = true", "bogus"),
    ] {
        let e = ServeConfig::from_toml(bad).unwrap_err().to_string();
        assert!(e.contains(what), "{bad}: {e}");
    }
    // Root governance: applications of organizations that use the root issuer.
    let governed = |policy: &str| {
        format!(
            "[root.root_issuer]\n{policy}\n[[organizations]]\nid = \"a\"\nname = \"A\"\nhandle = \"a\"\n[[organizations]]\nid = \"b\"\nname = \"B\"\nhandle = \"b\"\nparent = \"a\"\n[[organizations]]\nid = \"s\"\nname = \"S\"\nhandle = \"s\"\nparent = \"a\"\nissuer = \"self\"\n[[clients]]\nclient_id = \"c\"\norganization = \"b\"\n[[clients]]\nclient_id = \"d\"\norganization = \"s\""
        )
    };
    assert!(ServeConfig::from_toml(&governed("policy = \"ALLOW_ALL\"")).is_ok());
    assert!(ServeConfig::from_toml(&governed(
        "policy = \"ALLOW_SELECTED\"\norganizations = [\"b\"]"
    ))
    .is_ok());
    for refused in [
        "policy = \"DENY_ALL\"",
        "policy = \"ALLOW_IMMEDIATE\"",
        "policy = \"ALLOW_SELECTED\"\norganizations = [\"a\"]",
    ] {
        let e = ServeConfig::from_toml(&governed(refused))
            .unwrap_err()
            .to_string();
        assert!(e.contains("may not use the root issuer"), "{refused}: {e}");
    }
    // org_admin is supported once organizations are configured.
    assert!(ServeConfig::from_toml(
        "[root]\n[[clients]]\nclient_id = \"c\"\nscopes = [\"org_admin\"]"
    )
    .is_ok());
}

const CB: &str = "http://127.0.0.1:3000/callback";

/// The code flow at the provider mounted at `prefix` ("" for the root): the login page, the
/// login form (`user`, password `pw`), and the authorization endpoint's redirect.
async fn code_redirect(
    app: &axum::Router,
    prefix: &str,
    client: &str,
    user: &str,
    extra: &str,
) -> String {
    let uri = format!(
        "{prefix}/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid%20profile&state=st&nonce=nn&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CB)
    );
    let page = get(app, &uri).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "request={}&username={user}&password=pw",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(app, &format!("{prefix}/authorize"), &[], &body).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert!(r.location().starts_with(CB), "{}", r.location());
    assert_eq!(param(r.location(), "state").as_deref(), Some("st"));
    r.location().to_owned()
}

async fn redeem(app: &axum::Router, prefix: &str, client: &str, location: &str) -> Value {
    let code = param(location, "code").unwrap_or_else(|| panic!("no code: {location}"));
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&code_verifier={VERIFIER}",
        enc(CB)
    );
    let r = token(app, &format!("{prefix}/token"), client, &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()
}

#[tokio::test]
async fn authorization_code_tokens_carry_the_organization() {
    let app = app();
    // At a self-issuing organization's issuer, every code is scoped to it.
    let at = code_redirect(&app, "/o/partner", "partner-app", "pat", "").await;
    let t = redeem(&app, "/o/partner", "partner-app", &at).await;
    let c = payload(t["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], "http://idp.test/o/partner");
    assert_eq!(c["org_id"], "partner");
    assert_eq!(c["org_name"], "Partner");
    assert_eq!(c["org_handle"], "partner");
    assert_eq!(c["user_org"], "partner");
    assert_eq!(c["roles"], json!([]));
    let id = payload(t["id_token"].as_str().unwrap());
    assert_eq!(
        (id["org_id"].clone(), id["nonce"].clone()),
        (json!("partner"), json!("nn"))
    );

    // At the root, without the parameter: no organization.
    let at = code_redirect(&app, "", "app", "alice", "").await;
    let t = redeem(&app, "", "app", &at).await;
    assert!(payload(t["access_token"].as_str().unwrap())
        .get("org_id")
        .is_none());

    // With `organization` (WSO2 IS 7.3): alice is shared into eu-sales through eu's future
    // children policy, with role sales there.
    let at = code_redirect(&app, "", "app", "alice", "&organization=eu-sales").await;
    let t = redeem(&app, "", "app", &at).await;
    let c = payload(t["access_token"].as_str().unwrap());
    assert_eq!(c["iss"], "http://idp.test");
    assert_eq!(c["org_id"], "eu-sales");
    assert_eq!(c["org_handle"], "eu-sales");
    assert_eq!(c["user_org"], "root");
    assert_eq!(c["roles"], json!(["sales"]));
    assert_eq!(
        payload(t["id_token"].as_str().unwrap())["org_id"],
        "eu-sales"
    );

    // bob is not a member there: refused after the login (RFC 6749 §4.1.2.1).
    let r = code_redirect(&app, "", "app", "bob", "&organization=eu-sales").await;
    assert_eq!(param(&r, "error").as_deref(), Some("access_denied"));
    assert!(param(&r, "code").is_none());
    // An unknown organization is refused before any login page.
    let r = get(
        &app,
        &format!(
            "/authorize?response_type=code&client_id=app&redirect_uri={}&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256&organization=ghost",
            enc(CB)
        ),
    )
    .await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("invalid_request")
    );
}

mod per_organization_trust {
    //! Token exchange (RFC 8693) at a self-issuing organization's issuer trusts the
    //! organization's inherited `trusted_issuers` (merged up to the top-level ones).
    use super::*;
    use idforge_jose::{
        crypto::EcCurve, sign_jwt, Header, JwkSet, JwsAlgorithm, Key, KeySpec, LocalSigner,
    };

    const GRANT: &str = "urn:ietf:params:oauth:grant-type:token-exchange";
    const JWT: &str = "urn:ietf:params:oauth:token-type:jwt";
    const AUD: &str = "urn:acme:exchange";

    fn key(kid: &str) -> (Key, String) {
        let k = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        let k = Key::from_jwk(k.jwk().clone().with_kid(kid)).unwrap();
        let jwks = JwkSet {
            keys: vec![k.public_jwk().unwrap()],
        }
        .to_json();
        (k, jwks)
    }

    fn subject_token(k: &Key, kid: &str, iss: &str, email: &str) -> String {
        let signer = LocalSigner::new(k.clone(), JwsAlgorithm::ES256).unwrap();
        let claims = json!({
            "iss": iss, "sub": "ext-1", "aud": AUD, "email": email,
            "exp": 4_000_000_000_i64, "iat": 1_700_000_000, "scope": "openid"
        });
        sign_jwt(
            Header::new().with_kid(kid),
            claims.as_object().unwrap(),
            &signer,
        )
        .unwrap()
    }

    /// root trusts corp; org x (self) trusts x-idp; x-sub (self, below x) inherits; y (self)
    /// trusts nothing of its own.
    fn setup() -> (axum::Router, Key, Key) {
        let (corp, corp_jwks) = key("corp-1");
        let (xk, x_jwks) = key("x-1");
        let trusted = |iss: &str, jwks: &str| {
            format!("issuer = \"{iss}\"\njwks = '{jwks}'\naudience = [\"{AUD}\"]\nlookup_attributes = [\"email\"]\n")
        };
        let mut config = format!(
            "issuer = \"http://idp.test\"\n[[trusted_issuers]]\n{}",
            trusted("https://corp.example", &corp_jwks)
        );
        for (id, parent, own) in [
            ("x", "root", true),
            ("x-sub", "x", false),
            ("y", "root", false),
        ] {
            config.push_str(&format!(
                "[[organizations]]\nid = \"{id}\"\nname = \"{id}\"\nhandle = \"{id}\"\nparent = \"{parent}\"\nissuer = \"self\"\n"
            ));
            if own {
                config.push_str(&format!(
                    "[[organizations.settings.trusted_issuers]]\n{}",
                    trusted("https://x-idp.example", &x_jwks)
                ));
            }
        }
        for (client, org) in [
            ("rp", None),
            ("x-rp", Some("x")),
            ("xs-rp", Some("x-sub")),
            ("y-rp", Some("y")),
        ] {
            config.push_str(&format!(
                "[[clients]]\nclient_id = \"{client}\"\nclient_secret = \"{client}-secret\"\ngrant_types = [\"{GRANT}\"]\nallow_impersonation = true\n"
            ));
            if let Some(org) = org {
                config.push_str(&format!("organization = \"{org}\"\n"));
            }
        }
        for (user, org) in [
            ("root-user", "root"),
            ("xu", "x"),
            ("xsu", "x-sub"),
            ("yu", "y"),
        ] {
            config.push_str(&format!(
                "[[users]]\nusername = \"{user}\"\npassword = \"pw\"\norganization = \"{org}\"\n[users.claims]\nemail = \"{user}@example.com\"\n"
            ));
        }
        config.push_str(
            "[[clients]]\nclient_id = \"admin\"\nclient_secret = \"admin-secret\"\ngrant_types = [\"client_credentials\"]\nscopes = [\"org_admin\"]\n",
        );
        let config = ServeConfig::from_toml(&config).unwrap();
        let state = idforge_server::build(&config, "http://127.0.0.1:1").unwrap();
        (idforge_server::router(&state), corp, xk)
    }

    async fn exchange(app: &axum::Router, prefix: &str, client: &str, token_: &str) -> Resp {
        let body = format!(
            "grant_type={}&subject_token={token_}&subject_token_type={}",
            enc(GRANT),
            enc(JWT)
        );
        token(app, &format!("{prefix}/token"), client, &body).await
    }

    #[tokio::test]
    async fn an_issuer_trusted_in_an_organization_is_accepted_only_there_and_below() {
        let (app, corp, xk) = setup();
        let x_token = |user: &str| {
            subject_token(
                &xk,
                "x-1",
                "https://x-idp.example",
                &format!("{user}@example.com"),
            )
        };
        // Trusted in x: accepted at x's issuer, for x's member.
        let r = exchange(&app, "/o/x", "x-rp", &x_token("xu")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        let at = payload(r.json()["access_token"].as_str().unwrap());
        assert_eq!(
            (at["iss"].clone(), at["sub"].clone()),
            (json!("http://idp.test/o/x"), json!("xu"))
        );
        // Inherited by the self-issuing organization below x.
        let r = exchange(&app, "/o/x-sub", "xs-rp", &x_token("xsu")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            payload(r.json()["access_token"].as_str().unwrap())["sub"],
            "xsu"
        );
        // Refused at the root and at a sibling: the issuer is not trusted there.
        for (prefix, client, user) in [("", "rp", "root-user"), ("/o/y", "y-rp", "yu")] {
            let r = exchange(&app, prefix, client, &x_token(user)).await;
            assert_eq!(r.status, 400, "{prefix}: {}", r.body);
            assert_eq!(r.json()["error"], "invalid_request", "{prefix}");
        }
        // The root's trusted issuers are inherited by every organization.
        let corp_token = |user: &str| {
            subject_token(
                &corp,
                "corp-1",
                "https://corp.example",
                &format!("{user}@example.com"),
            )
        };
        for (prefix, client, user) in [
            ("", "rp", "root-user"),
            ("/o/x", "x-rp", "xu"),
            ("/o/y", "y-rp", "yu"),
        ] {
            let r = exchange(&app, prefix, client, &corp_token(user)).await;
            assert_eq!(r.status, 200, "{prefix}: {}", r.body);
        }
        // An organization's issuer associates only its members.
        let r = exchange(&app, "/o/x", "x-rp", &corp_token("yu")).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.json()["error"], "invalid_grant");
    }

    #[tokio::test]
    async fn trust_lists_follow_the_tree_as_it_is_now() {
        let (app, _, xk) = setup();
        let x_token = |user: &str| {
            subject_token(
                &xk,
                "x-1",
                "https://x-idp.example",
                &format!("{user}@example.com"),
            )
        };
        assert_eq!(
            exchange(&app, "/o/x-sub", "xs-rp", &x_token("xsu"))
                .await
                .status,
            200
        );
        // x-sub moved under y: it no longer inherits x's issuer...
        let admin = admin_token(&app).await;
        let r = api(
            &app,
            "PATCH",
            "/api/organizations/x-sub",
            &admin,
            json!({"parent": "y"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = exchange(&app, "/o/x-sub", "xs-rp", &x_token("xsu")).await;
        assert_eq!(r.status, 400, "{}", r.body);
        assert_eq!(r.json()["error"], "invalid_request");
        // ...until it is moved back.
        let r = api(
            &app,
            "PATCH",
            "/api/organizations/x-sub",
            &admin,
            json!({"parent": "x"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            exchange(&app, "/o/x-sub", "xs-rp", &x_token("xsu"))
                .await
                .status,
            200
        );
        // y moved under x inherits it at once (for y's own members).
        let r = api(
            &app,
            "PATCH",
            "/api/organizations/y",
            &admin,
            json!({"parent": "x"}),
        )
        .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let r = exchange(&app, "/o/y", "y-rp", &x_token("yu")).await;
        assert_eq!(r.status, 200, "{}", r.body);
        assert_eq!(
            payload(r.json()["access_token"].as_str().unwrap())["sub"],
            "yu"
        );
    }

    #[test]
    fn organization_trusted_issuers_are_validated() {
        let e = ServeConfig::from_toml(
            "[[organizations]]\nid = \"x\"\nname = \"x\"\nhandle = \"x\"\n[[organizations.settings.trusted_issuers]]\nissuer = \"https://x-idp.example\"\n",
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("exactly one of jwks and jwks_uri"), "{e}");
    }
}

/// `/authorize` at the root with `extra` (discovery parameters) for `client`.
fn discovery_uri(client: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client}&redirect_uri={}&scope=openid&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(CB)
    )
}

#[tokio::test]
async fn discovery_at_the_root_routes_to_the_organizations_issuer() {
    let app = app();
    for extra in [
        "&orgId=partner",
        "&orgHandle=partner",
        "&org=Partner",
        "&login_hint=pat%40partner.example&orgDiscoveryType=emailDomain",
    ] {
        let r = get(&app, &discovery_uri("partner-app", extra)).await;
        assert_eq!(r.status, 303, "{extra}: {}", r.body);
        let to = r.location();
        let rest = to
            .strip_prefix("http://idp.test/o/partner/authorize?")
            .unwrap_or_else(|| panic!("{extra}: {to}"));
        // The request goes on unchanged but for the discovery parameters.
        assert_eq!(param(to, "client_id").as_deref(), Some("partner-app"));
        assert_eq!(param(to, "state").as_deref(), Some("st"));
        assert_eq!(param(to, "redirect_uri").as_deref(), Some(CB));
        for gone in ["orgId", "orgHandle", "org", "orgDiscoveryType"] {
            assert!(param(to, gone).is_none(), "{extra}: {to}");
        }
        if extra.contains("login_hint") {
            assert_eq!(
                param(to, "login_hint").as_deref(),
                Some("pat@partner.example")
            );
        }
        // The organization's issuer shows its login page.
        let page = get(&app, &format!("/o/partner/authorize?{rest}")).await;
        assert_eq!(page.status, 200, "{}", page.body);
    }
    // Routing never grants membership: bob is no member of partner and cannot log in there.
    let r = get(&app, &discovery_uri("partner-app", "&orgId=partner")).await;
    let rest = r.location().split_once('?').unwrap().1.to_owned();
    let page = get(&app, &format!("/o/partner/authorize?{rest}")).await;
    let body = format!(
        "request={}&username=bob&password=pw",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(&app, "/o/partner/authorize", &[], &body).await;
    assert_ne!(r.status, 303, "{}", r.body);
    // ...while pat gets a code from the organization's issuer (with the form shown again: each
    // login form is accepted once).
    let body = format!(
        "request={}&username=pat&password=pw",
        enc(&hidden(&r.body, "request"))
    );
    let r = post_form(&app, "/o/partner/authorize", &[], &body).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        param(r.location(), "iss").as_deref(),
        Some("http://idp.test/o/partner")
    );
    assert!(param(r.location(), "code").is_some());
}

#[tokio::test]
async fn discovery_refusals_are_clear_errors() {
    let app = app();
    for (client, extra, says) in [
        // A root client is not served at the organization's issuer.
        (
            "app",
            "&orgId=partner",
            "client app is not registered in organization partner",
        ),
        // eu uses the root issuer: the organization parameter is the way there.
        ("app", "&orgId=eu", "send organization=eu"),
        ("app", "&orgId=ghost", "unknown organization"),
        ("app", "&orgHandle=acme-eu&orgId=eu", "more than one way"),
        // Email-domain discovery is off by default (eu has none), so no organization.
        (
            "app",
            "&login_hint=a%40eu.example&orgDiscoveryType=emailDomain",
            "unknown organization",
        ),
        (
            "app",
            "&login_hint=alice&orgDiscoveryType=emailDomain",
            "not an email address",
        ),
    ] {
        let r = get(&app, &discovery_uri(client, extra)).await;
        assert_eq!(r.status, 400, "{extra}: {}", r.body);
        assert!(r.body.contains(says), "{extra}: {}", r.body);
        assert!(!r.headers.contains_key("location"));
    }
    // Without discovery parameters the root's endpoint answers as before (its login page).
    let r = get(&app, &discovery_uri("app", "&login_hint=alice")).await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The discovery document of `/o/{org}` (status, key id of its JWKS).
async fn org_issuer(app: &axum::Router, org: &str) -> (u16, Option<String>) {
    let d = get(app, &format!("/o/{org}/.well-known/openid-configuration")).await;
    if d.status != 200 {
        return (d.status, None);
    }
    assert_eq!(d.json()["issuer"], format!("http://idp.test/o/{org}"));
    let keys = get(app, &format!("/o/{org}/jwks.json")).await.json();
    (200, keys["keys"][0]["kid"].as_str().map(str::to_owned))
}

#[tokio::test]
async fn organizations_become_issuers_at_run_time() {
    let app = app();
    let admin = admin_token(&app).await;
    assert_eq!(org_issuer(&app, "newco").await.0, 404);
    // Created through the API with `issuer = "self"`: its issuer is served at once, with its
    // own key.
    let r = api(
        &app,
        "POST",
        "/api/organizations",
        &admin,
        json!({"id": "newco", "name": "NewCo", "handle": "newco", "issuer": "self"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(r.json()["issuer"], "self");
    let (status, kid) = org_issuer(&app, "newco").await;
    assert_eq!(status, 200);
    let kid = kid.unwrap();
    let (_, partner_kid) = org_issuer(&app, "partner").await;
    let root_kid = get(&app, "/jwks.json").await.json()["keys"][0]["kid"].clone();
    assert_ne!(Some(kid.clone()), partner_kid);
    assert_ne!(json!(kid), root_kid);
    // Its authorization endpoint answers too (no client of its own: a clear error page).
    let r = get(
        &app,
        "/o/newco/authorize?response_type=code&client_id=app&scope=openid",
    )
    .await;
    assert_eq!(r.status, 400, "{}", r.body);
    // A self-issuing organization below it; disabling newco takes both away, enabling brings
    // both back with the same keys.
    let r = api(
        &app,
        "POST",
        "/api/organizations",
        &admin,
        json!({"id": "newco-lab", "name": "NewCo Lab", "handle": "newco-lab", "parent": "newco", "issuer": "self"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (_, lab_kid) = org_issuer(&app, "newco-lab").await;
    let patch = |body: Value| api(&app, "PATCH", "/api/organizations/newco", &admin, body);
    assert_eq!(patch(json!({"status": "disabled"})).await.status, 200);
    assert_eq!(org_issuer(&app, "newco").await.0, 404);
    assert_eq!(org_issuer(&app, "newco-lab").await.0, 404);
    assert_eq!(patch(json!({"status": "active"})).await.status, 200);
    assert_eq!(org_issuer(&app, "newco").await, (200, Some(kid.clone())));
    assert_eq!(org_issuer(&app, "newco-lab").await, (200, lab_kid));
    // Back to the root issuer: no issuer of its own (404), and again.
    assert_eq!(patch(json!({"issuer": "root"})).await.status, 200);
    assert_eq!(org_issuer(&app, "newco").await.0, 404);
    assert_eq!(patch(json!({"issuer": "self"})).await.status, 200);
    assert_eq!(org_issuer(&app, "newco").await.0, 200);
    // The root is always the root issuer.
    let r = api(
        &app,
        "PATCH",
        "/api/organizations/root",
        &admin,
        json!({"issuer": "self"}),
    )
    .await;
    assert_eq!(r.status, 409, "{}", r.body);
    assert_eq!(r.json()["error"], "root_organization");
    // Deleting: only empty organizations (409 while newco-lab is below newco); the issuer is
    // gone, and an organization created again under the same id gets a new key.
    let delete = |id: &'static str| {
        let (app, admin) = (&app, &admin);
        async move {
            let path = format!("/api/organizations/{id}");
            api(app, "DELETE", &path, admin, json!({})).await
        }
    };
    assert_eq!(delete("newco").await.status, 409);
    assert_eq!(delete("newco-lab").await.status, 204);
    assert_eq!(org_issuer(&app, "newco-lab").await.0, 404);
    assert_eq!(delete("newco").await.status, 204);
    assert_eq!(org_issuer(&app, "newco").await.0, 404);
    assert_eq!(
        api(&app, "GET", "/api/organizations/newco", &admin, json!({}))
            .await
            .status,
        404
    );
    let r = api(
        &app,
        "POST",
        "/api/organizations",
        &admin,
        json!({"id": "newco", "name": "NewCo", "handle": "newco", "issuer": "self"}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let (status, again) = org_issuer(&app, "newco").await;
    assert_eq!(status, 200);
    assert_ne!(again, Some(kid));
    // The API needs org_admin.
    let r = api(
        &app,
        "DELETE",
        "/api/organizations/newco",
        "Bearer nope",
        json!({}),
    )
    .await;
    assert_eq!(r.status, 401);
}

#[tokio::test]
async fn applications_follow_their_organizations_issuer_live() {
    let app = app();
    let admin = admin_token(&app).await;
    // eu uses the root issuer: its application gets tokens at the root, eu has no issuer.
    let body = "grant_type=password&username=alice&password=pw&scope=openid";
    let r = token(&app, "/token", "eu-app", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        payload(r.json()["access_token"].as_str().unwrap())["iss"],
        "http://idp.test"
    );
    assert_eq!(org_issuer(&app, "eu").await.0, 404);
    // Made its own issuer: the application moves there (alice is shared into eu) and is no
    // longer served at the root.
    let r = api(
        &app,
        "PATCH",
        "/api/organizations/eu",
        &admin,
        json!({"issuer": "self"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let r = token(&app, "/o/eu/token", "eu-app", body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(
        payload(r.json()["access_token"].as_str().unwrap())["iss"],
        "http://idp.test/o/eu"
    );
    assert_eq!(
        token(&app, "/token", "eu-app", body).await.json()["error"],
        "invalid_client"
    );
    // Only eu's members log in there.
    let bob = "grant_type=password&username=bob&password=pw";
    assert_eq!(
        token(&app, "/o/eu/token", "eu-app", bob).await.json()["error"],
        "invalid_grant"
    );
    // A root application is never served at eu's issuer.
    assert_eq!(
        token(&app, "/o/eu/token", "app", body).await.json()["error"],
        "invalid_client"
    );
    // And back.
    let r = api(
        &app,
        "PATCH",
        "/api/organizations/eu",
        &admin,
        json!({"issuer": "root"}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert_eq!(token(&app, "/token", "eu-app", body).await.status, 200);
    assert_eq!(org_issuer(&app, "eu").await.0, 404);
}

/// The claims of the access and ID tokens of a token response at partner's issuer.
fn partner_claims(t: &Value) -> (Value, Value) {
    let at = payload(t["access_token"].as_str().unwrap());
    let id = payload(t["id_token"].as_str().unwrap());
    assert_eq!(at["iss"], "http://idp.test/o/partner");
    (at, id)
}

#[tokio::test]
async fn device_code_tokens_at_an_organizations_issuer_carry_it() {
    let app = app();
    let client = "client_id=partner-dev&client_secret=partner-dev-secret";
    let r = post_form(
        &app,
        "/o/partner/device_authorization",
        &[],
        &format!("{client}&scope=openid"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (dc, uc) = (
        r.json()["device_code"].as_str().unwrap().to_owned(),
        r.json()["user_code"].as_str().unwrap().to_owned(),
    );
    assert!(r.json()["verification_uri"]
        .as_str()
        .unwrap()
        .starts_with("http://idp.test/o/partner/"));
    let ok = post_form(
        &app,
        "/o/partner/device",
        &[],
        &format!(
            "user_code={}&username=pat&password=pw&decision=approve",
            enc(&uc)
        ),
    )
    .await;
    assert_eq!(ok.status, 200, "{}", ok.body);
    let body = format!(
        "grant_type={}&device_code={}&{client}",
        enc("urn:ietf:params:oauth:grant-type:device_code"),
        enc(&dc)
    );
    let r = post_form(&app, "/o/partner/token", &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (at, id) = partner_claims(&r.json());
    for c in [&at, &id] {
        assert_eq!(c["org_id"], "partner");
        assert_eq!(c["org_name"], "Partner");
        assert_eq!(c["org_handle"], "partner");
        assert_eq!(c["user_org"], "partner");
        assert_eq!(c["roles"], json!([]));
    }
}

/// A CIBA request at partner's issuer for `user`, approved by that user on the approval
/// pages; the poll's answer.
async fn partner_ciba(app: &axum::Router, user: &str) -> Resp {
    let auth = basic("partner-dev", "partner-dev-secret");
    let r = post_form(
        app,
        "/o/partner/bc-authorize",
        &[("authorization", &auth)],
        &format!("scope=openid&login_hint={user}"),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let j = r.json();
    let auth_url = j["auth_url"].as_str().unwrap();
    let path = auth_url.strip_prefix("http://idp.test").unwrap();
    assert!(path.starts_with("/o/partner/"), "{path}");
    let page = get(app, path).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let action = path.split('?').next().unwrap();
    let body = format!(
        "request={}&username={user}&password=pw",
        enc(&hidden(&page.body, "request"))
    );
    let approval = post_form(app, action, &[], &body).await;
    assert_eq!(approval.status, 200, "{}", approval.body);
    let body = format!(
        "consent={}&decision=approve",
        enc(&hidden(&approval.body, "consent"))
    );
    let done = post_form(app, action, &[], &body).await;
    assert_eq!(done.status, 200, "{}", done.body);
    let body = format!(
        "grant_type={}&auth_req_id={}",
        enc("urn:openid:params:grant-type:ciba"),
        j["auth_req_id"].as_str().unwrap()
    );
    post_form(app, "/o/partner/token", &[("authorization", &auth)], &body).await
}

#[tokio::test]
async fn ciba_tokens_at_an_organizations_issuer_carry_it() {
    let app = app();
    let r = partner_ciba(&app, "pat").await;
    assert_eq!(r.status, 200, "{}", r.body);
    let (at, id) = partner_claims(&r.json());
    for c in [&at, &id] {
        assert_eq!(c["org_id"], "partner");
        assert_eq!(c["org_handle"], "partner");
        assert_eq!(c["user_org"], "partner");
        assert_eq!(c["roles"], json!([]));
    }
    // bob is no member of partner: the approved request yields no token there (CIBA §11).
    let r = partner_ciba(&app, "bob").await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "access_denied");
}
