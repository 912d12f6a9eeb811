//! The `idforge serve` OID4VCI contract: `[credential_issuer]`, `[[credential_templates]]`,
//! wallet clients, `POST /credential-offers`, `POST /credential-status`, and the issuer's
//! endpoints, driven in process.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::{
    crypto::EcCurve, jws, Header, JwsAlgorithm, JwsPolicy, Key, KeySpec, LocalSigner,
};
use idforge_oid4vci::encryption::{ContentEncryption, KeyManagementAlgorithm};
use idforge_server::{ConfigError, ServeConfig};
use serde_json::{json, Value};

const ISSUER: &str = "http://127.0.0.1:9";

const CONFIG: &str = r#"
[credential_issuer]
batch_size = 2
tx_code_max_attempts = 3

[[credential_templates]]
id = "pid"
format = "dc+sd-jwt"
vct = "urn:eudi:pid:1"
scope = "pid"
display_name = "Person ID"
claims = [
  { path = "given_name", mandatory = true, display_name = "Given name" },
  { path = "family_name" },
  { path = ["address", "locality"] },
]
selectively_disclosable = ["given_name", "family_name", "address.locality"]
validity_days = 30

[[credential_templates]]
id = "diploma"
format = "jwt_vc_json"
types = ["UniversityDegreeCredential"]
claims = [{ path = "given_name" }]

[[credential_templates]]
id = "slow"
format = "dc+sd-jwt"
vct = "urn:example:slow"
claims = [{ path = "given_name" }]
deferred_seconds = 3600

[[clients]]
client_id = "backoffice"
client_secret = "backoffice-secret"
grant_types = ["client_credentials"]
scopes = ["credential_offers"]

[[clients]]
client_id = "eu-wallet"
template = "wallet"
redirect_uris = ["eu.wallet://callback"]

[[clients]]
client_id = "portal"
client_secret = "portal-secret"
redirect_uris = ["https://portal.example/cb"]
grant_types = ["authorization_code"]

[[users]]
username = "alice"
password = "alice-password"
[users.claims]
given_name = "Alice"
family_name = "Liddell"
address = { locality = "Oxford" }

[[users]]
username = "bob"
password = "bob-password"
"#;

fn app() -> (axum::Router, idforge_server::ServerState) {
    let config = ServeConfig::from_toml(CONFIG).unwrap();
    let state = idforge_server::build(&config, ISSUER).unwrap();
    (idforge_server::router(&state), state)
}

async fn admin_token(app: &axum::Router) -> String {
    let r = post_form(
        app,
        "/token",
        &[("authorization", &basic("backoffice", "backoffice-secret"))],
        "grant_type=client_credentials&scope=credential_offers",
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    r.json()["access_token"].as_str().unwrap().to_owned()
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

async fn nonce(app: &axum::Router) -> String {
    let r = call(app, "POST", "/nonce", &[], "").await;
    assert_eq!(r.headers["cache-control"], "no-store");
    r.json()["c_nonce"].as_str().unwrap().to_owned()
}

fn proof(key: &Key, nonce: &str, iss: Option<&str>) -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    let mut claims = json!({"aud": ISSUER, "iat": now, "nonce": nonce});
    if let Some(i) = iss {
        claims["iss"] = json!(i);
    }
    jws::sign_compact(
        Header::new()
            .with_typ("openid4vci-proof+jwt")
            .with("jwk", key.public_jwk().unwrap().to_value()),
        claims.to_string().as_bytes(),
        &LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
    )
    .unwrap()
}

#[tokio::test]
async fn metadata_and_scopes() {
    let (app, _) = app();
    let m = get(&app, "/.well-known/openid-credential-issuer")
        .await
        .json();
    assert_eq!(m["credential_issuer"], ISSUER);
    assert_eq!(m["batch_credential_issuance"]["batch_size"], 2);
    assert_eq!(
        m["credential_configurations_supported"]["pid"]["scope"],
        "pid"
    );
    assert_eq!(
        m["credential_configurations_supported"]["pid"]["credential_metadata"]["claims"][2]["path"],
        json!(["address", "locality"])
    );
    assert!(m["deferred_credential_endpoint"].is_string());
    let d = get(&app, "/.well-known/openid-configuration").await.json();
    let scopes: Vec<&str> = d["scopes_supported"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(scopes.contains(&"credential_offers") && scopes.contains(&"pid"));
    assert_eq!(d["pre-authorized_grant_anonymous_access_supported"], true);
    // Credentials are signed with a key published at /.well-known/jwt-vc-issuer and the JWKS.
    let vc = get(&app, "/.well-known/jwt-vc-issuer").await.json();
    let jwks = get(&app, "/jwks.json").await.json();
    assert_eq!(vc["jwks"]["keys"][0]["kid"], jwks["keys"][0]["kid"]);
    assert!(vc["jwks"]["keys"][0]["kid"].is_string());
}

#[tokio::test]
async fn offer_pre_authorized_with_tx_code_credential_and_revocation() {
    let (app, state) = app();
    let admin = admin_token(&app).await;
    // A token without the scope is refused.
    let r = post_json(&app, "/credential-offers", "nope", &json!({})).await;
    assert_eq!(r.status, 401);
    let r = post_json(
        &app,
        "/credential-offers",
        &admin,
        &json!({"username": "alice", "credential_configuration_ids": ["pid"],
                "pre_authorized": true, "tx_code": true}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let created = r.json();
    let tx = created["tx_code"].as_str().unwrap().to_owned();
    let offer = &created["credential_offer"];
    let code = offer["grants"]["urn:ietf:params:oauth:grant-type:pre-authorized_code"]
        ["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = created["credential_offer_uri"]
        .as_str()
        .unwrap()
        .strip_prefix(ISSUER)
        .unwrap()
        .to_owned();
    assert_eq!(&get(&app, &path).await.json(), offer);

    // Anonymous redemption; `resource` accepted, `user_pin` ignored.
    let body = format!(
        "grant_type={}&pre-authorized_code={}&tx_code={tx}&resource={}&user_pin=0000",
        enc("urn:ietf:params:oauth:grant-type:pre-authorized_code"),
        enc(&code),
        enc(ISSUER)
    );
    let r = post_form(&app, "/token", &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();

    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let n = nonce(&app).await;
    let r = post_json(
        &app,
        "/credential",
        &token,
        &json!({"credential_configuration_id": "pid", "proofs": {"jwt": [proof(&key, &n, None)]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let credential = r.json()["credentials"][0]["credential"]
        .as_str()
        .unwrap()
        .to_owned();
    let issuer_key = {
        let jwks = get(&app, "/jwks.json").await.json();
        Key::from_jwk(idforge_jose::Jwk::from_value(jwks["keys"][0].clone()).unwrap()).unwrap()
    };
    let clock = idforge_jose::SystemClock;
    let vc = idforge_sd_jwt::VcVerifier::default()
        .verify(&credential, &issuer_key, &clock)
        .unwrap();
    assert_eq!(vc.sd_jwt.claims["given_name"], "Alice");
    assert_eq!(vc.sd_jwt.claims["address"]["locality"], "Oxford");
    let status = vc.status.unwrap().status_list.unwrap();

    // Revocation through POST /credential-status; the status list token at its uri.
    let r = post_json(
        &app,
        "/credential-status",
        &admin,
        &json!({"status_list": {"idx": status.idx, "uri": status.uri}, "status": "revoked"}),
    )
    .await;
    assert_eq!(r.status, 204, "{}", r.body);
    let list_path = status.uri.strip_prefix(ISSUER).unwrap();
    let r = get(&app, list_path).await;
    assert_eq!(r.headers["content-type"], "application/statuslist+jwt");
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&r.body, &issuer_key)
        .unwrap();
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["sub"], status.uri);
    let lst = claims["status_list"]["lst"].as_str().unwrap();
    assert_eq!(
        idforge_oid4vci::status_list::read_lst(lst, 1, status.idx).unwrap(),
        1
    );
    let r = post_json(
        &app,
        "/credential-status",
        &admin,
        &json!({"status_list": {"idx": status.idx, "uri": status.uri}, "status": "lost"}),
    )
    .await;
    assert_eq!(r.status, 400);
    drop(state);
}

#[tokio::test]
async fn wallet_clients_tx_code_limits_and_deferral() {
    let (app, _) = app();
    let admin = admin_token(&app).await;
    let offer = |ids: Value, tx: bool| {
        let app = app.clone();
        let admin = admin.clone();
        async move {
            let r = post_json(
                &app,
                "/credential-offers",
                &admin,
                &json!({"username": "alice", "credential_configuration_ids": ids,
                        "pre_authorized": true, "tx_code": tx}),
            )
            .await;
            assert_eq!(r.status, 201, "{}", r.body);
            let v = r.json();
            (
                v["credential_offer"]["grants"]
                    ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
                    .as_str()
                    .unwrap()
                    .to_owned(),
                v["tx_code"].as_str().map(str::to_owned),
            )
        }
    };
    let grant = enc("urn:ietf:params:oauth:grant-type:pre-authorized_code");
    // tx_code_max_attempts = 3: after three wrong codes, the right one is too late.
    let (code, tx) = offer(json!(["pid"]), true).await;
    for _ in 0..3 {
        let r = post_form(
            &app,
            "/token",
            &[],
            &format!(
                "grant_type={grant}&pre-authorized_code={}&tx_code=x",
                enc(&code)
            ),
        )
        .await;
        assert_eq!(r.json()["error"], "invalid_grant");
    }
    let r = post_form(
        &app,
        "/token",
        &[],
        &format!(
            "grant_type={grant}&pre-authorized_code={}&tx_code={}",
            enc(&code),
            tx.unwrap()
        ),
    )
    .await;
    assert_eq!(r.json()["error"], "invalid_grant");

    // A wallet client redeems with its client_id; its proofs carry `iss`.
    let (code, _) = offer(json!(["slow"]), false).await;
    let r = post_form(
        &app,
        "/token",
        &[],
        &format!(
            "grant_type={grant}&pre-authorized_code={}&client_id=eu-wallet",
            enc(&code)
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let n = nonce(&app).await;
    let r = post_json(
        &app,
        "/credential",
        &token,
        &json!({"credential_configuration_id": "slow", "proofs": {"jwt": [proof(&key, &n, Some("eu-wallet"))]}}),
    )
    .await;
    assert_eq!(r.status, 202, "{}", r.body);
    let tx = r.json()["transaction_id"].as_str().unwrap().to_owned();
    let r = post_json(
        &app,
        "/deferred_credential",
        &token,
        &json!({"transaction_id": tx}),
    )
    .await;
    assert_eq!(r.json()["error"], "issuance_pending");

    // An offer with the authorization code grant carries issuer_state.
    let r = post_json(
        &app,
        "/credential-offers",
        &admin,
        &json!({"username": "alice", "credential_configuration_ids": ["pid"], "pre_authorized": false}),
    )
    .await;
    assert!(
        r.json()["credential_offer"]["grants"]["authorization_code"]["issuer_state"].is_string()
    );
}

#[test]
fn configuration_is_checked() {
    let e = ServeConfig::from_toml(
        "[[credential_templates]]\nid = \"x\"\nformat = \"dc+sd-jwt\"\nvct = \"v\"\n",
    )
    .unwrap_err();
    assert!(matches!(e, ConfigError::CredentialIssuer(_)), "{e}");
    let e = ServeConfig::from_toml(
        "[credential_issuer]\n[[credential_templates]]\nid = \"x\"\nformat = \"dc+sd-jwt\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("vct"), "{e}");
    let e = ServeConfig::from_toml(
        "[credential_issuer]\n[[clients]]\nclient_id = \"w\"\ntemplate = \"wallet\"\nclient_secret = \"s\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("public"), "{e}");
    let e = ServeConfig::from_toml(
        "[credential_issuer]\n[[credential_templates]]\nid = \"x\"\nformat = \"dc+sd-jwt\"\nvct = \"v\"\nclaims = [{path = \"a\"}]\nselectively_disclosable = [\"b\"]\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("selectively"), "{e}");
    let e = ServeConfig::from_toml(
        "[credential_issuer]\n[[clients]]\nclient_id = \"oid4vci-anonymous-wallet\"\n",
    )
    .unwrap_err();
    assert!(e.to_string().contains("reserved"), "{e}");
    ServeConfig::from_toml(CONFIG).unwrap();
}

const WALLET_CB: &str = "eu.wallet://callback";

fn wallet_authorize_uri(client_id: &str, cb: &str, extra: &str) -> String {
    format!(
        "/authorize?response_type=code&client_id={client_id}&redirect_uri={}&state=st&code_challenge={CHALLENGE}&code_challenge_method=S256{extra}",
        enc(cb)
    )
}

/// The login page of `uri`, signed in as `user`: where the browser is sent.
async fn sign_in_as(app: &axum::Router, uri: &str, user: &str) -> String {
    let page = get(app, uri).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "request={}&username={user}&password={user}-password",
        enc(&hidden(&page.body, "request"))
    );
    let r = post_form(app, "/authorize", &[], &body).await;
    assert_eq!(r.status, 303, "{}", r.body);
    r.location().to_owned()
}

/// OID4VCI §5: the authorization code flow with `issuer_state` and `authorization_details`
/// through the login form; the token response's `credential_identifiers` (§6.2) at the
/// credential endpoint.
#[tokio::test]
async fn authorization_code_flow_with_authorization_details_and_issuer_state() {
    let (app, _state) = app();
    let admin = admin_token(&app).await;
    let r = post_json(
        &app,
        "/credential-offers",
        &admin,
        &json!({"username": "alice", "credential_configuration_ids": ["pid"], "pre_authorized": false}),
    )
    .await;
    let issuer_state = r.json()["credential_offer"]["grants"]["authorization_code"]["issuer_state"]
        .as_str()
        .unwrap()
        .to_owned();
    let details = json!([{"type": "openid_credential", "credential_configuration_id": "pid"}]);
    let extra = format!(
        "&issuer_state={}&authorization_details={}",
        enc(&issuer_state),
        enc(&details.to_string())
    );
    let uri = wallet_authorize_uri("eu-wallet", WALLET_CB, &extra);

    // The offer was made for alice: bob is refused, and the offer survives.
    let location = sign_in_as(&app, &uri, "bob").await;
    assert!(location.starts_with(WALLET_CB), "{location}");
    assert_eq!(param(&location, "error").as_deref(), Some("access_denied"));

    let location = sign_in_as(&app, &uri, "alice").await;
    let code = param(&location, "code").expect(&location);
    let r = post_form(
        &app,
        "/token",
        &[],
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri={}&client_id=eu-wallet&code_verifier={VERIFIER}",
            enc(WALLET_CB)
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let t = r.json();
    assert_eq!(
        t["authorization_details"],
        json!([{"type": "openid_credential", "credential_configuration_id": "pid",
                "credential_identifiers": ["pid#1"]}])
    );
    let token = t["access_token"].as_str().unwrap();
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let n = nonce(&app).await;
    let r = post_json(
        &app,
        "/credential",
        token,
        &json!({"credential_identifier": "pid#1", "proofs": {"jwt": [proof(&key, &n, None)]}}),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.json()["credentials"][0]["credential"].is_string());

    // The issuer_state was redeemed: a second request is refused before login.
    let r = get(&app, &uri).await;
    assert_eq!(r.status, 303, "{}", r.body);
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("invalid_request")
    );

    // Unknown configurations, and clients that are not wallets, are refused before login.
    let bad = json!([{"type": "openid_credential", "credential_configuration_id": "passport"}]);
    let r = get(
        &app,
        &wallet_authorize_uri(
            "eu-wallet",
            WALLET_CB,
            &format!("&authorization_details={}", enc(&bad.to_string())),
        ),
    )
    .await;
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("invalid_authorization_details")
    );
    let r = get(
        &app,
        &wallet_authorize_uri(
            "portal",
            "https://portal.example/cb",
            &format!("&authorization_details={}", enc(&details.to_string())),
        ),
    )
    .await;
    assert_eq!(
        param(r.location(), "error").as_deref(),
        Some("unauthorized_client")
    );
}

/// `[credential_issuer]` `request_encryption` / `response_encryption` (OID4VCI 1.0 §10,
/// metadata §12.2.4): advertised, honoured, `required` enforced, names checked at load.
#[tokio::test]
async fn credential_encryption_configuration() {
    let with = |tables: &str| {
        CONFIG.replacen(
            "tx_code_max_attempts = 3\n",
            &format!("tx_code_max_attempts = 3\n{tables}"),
            1,
        )
    };
    let config = ServeConfig::from_toml(&with(
        "request_encryption = { algs = [\"RSA-OAEP-256\"], encs = [\"A256GCM\"] }\n\
         response_encryption = { algs = [\"ECDH-ES\"], encs = [\"A128GCM\"], required = true }\n",
    ))
    .unwrap();
    let state = idforge_server::build(&config, ISSUER).unwrap();
    let app = idforge_server::router(&state);
    let m = get(&app, "/.well-known/openid-credential-issuer")
        .await
        .json();
    let req = &m["credential_request_encryption"];
    // One decryption key per key family of the (united) algorithms, public parts only.
    let keys = req["jwks"]["keys"].as_array().unwrap();
    let algs: Vec<(&str, &str)> = keys
        .iter()
        .map(|k| (k["kty"].as_str().unwrap(), k["alg"].as_str().unwrap()))
        .collect();
    assert_eq!(algs, [("EC", "ECDH-ES"), ("RSA", "RSA-OAEP-256")]);
    assert!(keys.iter().all(|k| k.get("d").is_none()));
    assert_eq!(req["encryption_required"], true);
    let resp = &m["credential_response_encryption"];
    assert_eq!(
        resp["alg_values_supported"],
        json!(["RSA-OAEP-256", "ECDH-ES"])
    );
    assert_eq!(resp["enc_values_supported"], json!(["A256GCM", "A128GCM"]));
    assert_eq!(resp["encryption_required"], true);

    // A pre-authorized offer, redeemed anonymously.
    let admin = admin_token(&app).await;
    let r = post_json(
        &app,
        "/credential-offers",
        &admin,
        &json!({"username": "alice", "credential_configuration_ids": ["pid"]}),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let code = r.json()["credential_offer"]["grants"]
        ["urn:ietf:params:oauth:grant-type:pre-authorized_code"]["pre-authorized_code"]
        .as_str()
        .unwrap()
        .to_owned();
    let body = format!(
        "grant_type={}&pre-authorized_code={}",
        enc("urn:ietf:params:oauth:grant-type:pre-authorized_code"),
        enc(&code)
    );
    let r = post_form(&app, "/token", &[], &body).await;
    assert_eq!(r.status, 200, "{}", r.body);
    let token = r.json()["access_token"].as_str().unwrap().to_owned();

    // Encryption is required: a plain request asking for a plain response is refused.
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let plain = json!({"credential_configuration_id": "pid",
                       "proofs": {"jwt": [proof(&key, &nonce(&app).await, None)]}});
    let r = post_json(&app, "/credential", &token, &plain).await;
    assert_eq!(r.status, 400, "{}", r.body);
    assert_eq!(r.json()["error"], "invalid_encryption_parameters");

    // The request encrypted to the issuer's RSA key (RSA-OAEP-256, A256GCM), asking for
    // `credential_response_encryption` (ECDH-ES, A128GCM): the answer is a JWE to the
    // wallet's key.
    let wallet = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let mut jwk = wallet.public_jwk().unwrap().to_value();
    jwk["alg"] = json!("ECDH-ES");
    jwk["kid"] = json!("wallet-enc");
    let mut asked = json!({"credential_configuration_id": "pid",
                           "proofs": {"jwt": [proof(&key, &nonce(&app).await, None)]}});
    asked["credential_response_encryption"] = json!({"jwk": jwk, "enc": "A128GCM"});
    let issuer_key = Key::from_json(&keys[1].to_string()).unwrap();
    let encrypt = |body: &Value| {
        idforge_oid4vci::wallet::HttpRequest::post_json(
            &format!("{ISSUER}/credential"),
            Some(&token),
            body,
        )
        .encrypted_to(
            &issuer_key,
            KeyManagementAlgorithm::RsaOaep256,
            ContentEncryption::A256Gcm,
            &idforge_oauth_core::OsRng::new(),
        )
        .unwrap()
    };
    let send = |req: idforge_oid4vci::wallet::HttpRequest| {
        let app = &app;
        let auth = format!("Bearer {token}");
        async move {
            call(
                app,
                "POST",
                "/credential",
                &[
                    ("authorization", &auth),
                    ("content-type", "application/jwt"),
                ],
                std::str::from_utf8(&req.body).unwrap(),
            )
            .await
        }
    };
    let r = send(encrypt(&asked)).await;
    assert_eq!(r.status, 200, "{}", r.body);
    assert!(r.headers["content-type"].starts_with("application/jwt"));
    assert_eq!(r.body.split('.').count(), 5, "a compact JWE");
    use base64::Engine;
    let header: Value = serde_json::from_slice(
        &base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(r.body.split('.').next().unwrap())
            .unwrap(),
    )
    .unwrap();
    assert_eq!(header["alg"], "ECDH-ES");
    assert_eq!(header["enc"], "A128GCM");
    assert_eq!(header["kid"], "wallet-enc");
    // An `enc` the issuer does not offer is refused.
    asked["credential_response_encryption"]["enc"] = json!("A192GCM");
    asked["proofs"]["jwt"] = json!([proof(&key, &nonce(&app).await, None)]);
    let r = send(encrypt(&asked)).await;
    assert_eq!(r.json()["error"], "invalid_encryption_parameters");

    // Unknown names and symmetric algorithms are refused when the configuration is loaded.
    for bad in [
        "response_encryption = { algs = [\"ECDH-ES+A512KW\"] }\n",
        "response_encryption = { encs = [\"A128CBC\"] }\n",
        "request_encryption = { algs = [\"A128KW\"] }\n",
        "request_encryption = { algs = [\"dir\"] }\n",
        "response_encryption = { algs = [] }\n",
    ] {
        assert!(ServeConfig::from_toml(&with(bad)).is_err(), "{bad}");
    }
    // Defaults: ECDH-ES, A128GCM, not required.
    let config = ServeConfig::from_toml(&with("response_encryption = {}\n")).unwrap();
    let state = idforge_server::build(&config, ISSUER).unwrap();
    let m = get(
        &idforge_server::router(&state),
        "/.well-known/openid-credential-issuer",
    )
    .await
    .json();
    assert_eq!(
        m["credential_response_encryption"],
        json!({"alg_values_supported": ["ECDH-ES"], "enc_values_supported": ["A128GCM"],
               "encryption_required": false})
    );
}

/// Issue 21: the consent page (`prompt=consent`) shows the requested credential from
/// `authorization_details` in words (OID4VCI §5.1.1, RFC 9396 §2), in the page's language.
#[tokio::test]
async fn the_consent_page_words_the_requested_credential() {
    let (app, _state) = app();
    let details = json!([{"type": "openid_credential", "credential_configuration_id": "pid"}]);
    let uri = wallet_authorize_uri(
        "eu-wallet",
        WALLET_CB,
        &format!(
            "&prompt=consent&ui_locales=fr&authorization_details={}",
            enc(&details.to_string())
        ),
    );
    let page = get(&app, &uri).await;
    assert_eq!(page.status, 200, "{}", page.body);
    let body = format!(
        "request={}&username=alice&password=alice-password",
        enc(&hidden(&page.body, "request"))
    );
    let consent = post_form(&app, "/authorize", &[], &body).await;
    assert_eq!(consent.status, 200, "{}", consent.body);
    assert!(
        consent
            .body
            .contains("<h3>Une attestation numérique à ranger dans votre portefeuille</h3>"),
        "{}",
        consent.body
    );
    assert!(
        consent.body.contains("<dt>Attestation</dt><dd>pid</dd>"),
        "{}",
        consent.body
    );
    assert!(consent.body.contains("<html lang=\"fr\">"));
}
