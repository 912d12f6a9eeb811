//! The authorization code flow (§5) through a real oauth-core provider: `authorization_details`
//! (§5.1.1) and `issuer_state` (§5.1.3) at the authorization endpoint, the token endpoint's
//! answer (§6.2, RFC 9396 §7.1) and the credential endpoint (§8.2).
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::b64;
use idforge_jose::crypto::HashAlg;
use idforge_oauth_core::{Decision, Error, Interaction, Session, TokenResponse};
use idforge_oid4vci::{CredentialResponse, OfferGrant, OfferRequest};
use serde_json::{json, Value};

const VERIFIER: &str = "a-code-verifier-of-at-least-forty-three-characters-0123456789";

fn query(client: &str, cb: &str, extra: &str) -> String {
    let challenge = b64::encode(HashAlg::Sha256.digest(VERIFIER.as_bytes()));
    format!(
        "response_type=code&client_id={client}&redirect_uri={}&state=st&code_challenge={challenge}&code_challenge_method=S256{extra}",
        enc(cb)
    )
}

fn details(ids: &[&str]) -> String {
    let v: Vec<Value> = ids
        .iter()
        .map(|id| json!({"type": "openid_credential", "credential_configuration_id": id}))
        .collect();
    format!(
        "&authorization_details={}",
        enc(&Value::Array(v).to_string())
    )
}

fn state(s: &str) -> String {
    format!("&issuer_state={}", enc(s))
}

/// The redirect's `code`, or its `error`.
fn outcome(i: Interaction) -> Result<String, String> {
    let Interaction::Redirect(r) = i else {
        panic!("expected a redirect, got {i:?}")
    };
    assert_eq!(r.param("state"), Some("st"), "state is echoed");
    match r.param("code") {
        Some(c) => Ok(c.to_owned()),
        None => Err(r.param("error").unwrap().to_owned()),
    }
}

/// Authorization request by `client` with `user` already logged in.
async fn authorize(
    env: &Env,
    client: &str,
    cb: &str,
    extra: &str,
    user: &str,
) -> Result<String, String> {
    let session = Session::new(user, NOW - 5);
    outcome(
        env.provider
            .authorization
            .start(query(client, cb, extra).as_bytes(), Some(&session))
            .await,
    )
}

/// Authorization request by the wallet that stops at the login page.
async fn login_page(env: &Env, extra: &str) -> idforge_oauth_core::AuthorizationRequest {
    let i = env
        .provider
        .authorization
        .start(query("wallet", WALLET_CB, extra).as_bytes(), None)
        .await;
    let Interaction::Login { request, .. } = i else {
        panic!("expected the login page, got {i:?}")
    };
    *request
}

async fn log_in(
    env: &Env,
    request: idforge_oauth_core::AuthorizationRequest,
    user: &str,
) -> Result<String, String> {
    outcome(
        env.provider
            .authorization
            .resume(
                request,
                Decision::LoggedIn(Session::new(user, env_now(env))),
            )
            .await,
    )
}

fn env_now(env: &Env) -> i64 {
    use idforge_jose::Clock;
    env.clock.now()
}

async fn token(env: &Env, client: &str, cb: &str, code: &str) -> Result<TokenResponse, Error> {
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}&client_id={client}&code_verifier={VERIFIER}",
        enc(cb)
    );
    env.provider.token.handle_form(body.as_bytes(), None).await
}

async fn auth_code_offer(env: &Env, user: &str, ids: &[&str]) -> String {
    env.issuer
        .create_offer(&OfferRequest::new(
            user,
            ids.iter().copied(),
            OfferGrant::AuthorizationCode,
        ))
        .await
        .unwrap()
        .offer
        .grants
        .authorization_code
        .unwrap()
        .issuer_state
        .unwrap()
}

async fn issue(env: &Env, token: &str, body: Value) -> Result<CredentialResponse, Error> {
    let key = holder();
    let nonce = env.nonce().await;
    let mut body = body;
    body["proofs"] = json!({"jwt": [proof(&key, &nonce)]});
    env.credential(token, body).await
}

fn issued(r: Result<CredentialResponse, Error>) -> Vec<String> {
    match r.unwrap() {
        CredentialResponse::Issued { credentials, .. } => credentials,
        other => panic!("not issued: {other:?}"),
    }
}

#[tokio::test]
async fn authorization_details_are_granted_with_credential_identifiers() {
    let env = env();
    let code = authorize(&env, "wallet", WALLET_CB, &details(&["pid"]), "alice")
        .await
        .unwrap();
    let t = token(&env, "wallet", WALLET_CB, &code).await.unwrap();
    // §6.2 / RFC 9396 §7.1: the token response lists what was granted, with identifiers.
    assert_eq!(
        t.to_json()["authorization_details"],
        json!([{"type": "openid_credential", "credential_configuration_id": "pid",
                "credential_identifiers": ["pid#1"]}])
    );
    // §8.2: the credential endpoint takes the identifier...
    let creds = issued(
        issue(
            &env,
            &t.access_token,
            json!({"credential_identifier": "pid#1"}),
        )
        .await,
    );
    assert_eq!(creds.len(), 1);
    // ...refuses the configuration id once identifiers were given, and unknown identifiers...
    let e = issue(
        &env,
        &t.access_token,
        json!({"credential_configuration_id": "pid"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "invalid_credential_request");
    let e = issue(
        &env,
        &t.access_token,
        json!({"credential_identifier": "diploma#1"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "unknown_credential_identifier");
    // ...and what was not granted (no scope, no details).
    let e = issue(
        &env,
        &t.access_token,
        json!({"credential_configuration_id": "diploma"}),
    )
    .await
    .unwrap_err();
    assert_eq!(e.code(), "unknown_credential_configuration");
}

#[tokio::test]
async fn scope_based_requests_keep_working() {
    let env = env();
    let code = authorize(&env, "wallet", WALLET_CB, "&scope=pid", "alice")
        .await
        .unwrap();
    let t = token(&env, "wallet", WALLET_CB, &code).await.unwrap();
    assert!(t.extra.get("authorization_details").is_none());
    let creds = issued(
        issue(
            &env,
            &t.access_token,
            json!({"credential_configuration_id": "pid"}),
        )
        .await,
    );
    assert_eq!(creds.len(), 1);
    // Other clients use the code flow as before, without the credential parameters.
    authorize(&env, "web", WEB_CB, "&scope=openid", "alice")
        .await
        .unwrap();
}

#[tokio::test]
async fn invalid_authorization_details_are_refused() {
    let env = env();
    for bad in [
        // RFC 9396 §5: unknown types.
        json!([{"type": "payment_initiation", "credential_configuration_id": "pid"}]),
        // §5.1.1: an unknown configuration.
        json!([{"type": "openid_credential", "credential_configuration_id": "passport"}]),
        // §5.1.1: `credential_configuration_id` is required.
        json!([{"type": "openid_credential"}]),
        // §5.1.1: `locations` must name this issuer.
        json!([{"type": "openid_credential", "credential_configuration_id": "pid",
                "locations": ["https://other.example"]}]),
        json!({"type": "openid_credential", "credential_configuration_id": "pid"}),
        json!([]),
    ] {
        let extra = format!("&authorization_details={}", enc(&bad.to_string()));
        assert_eq!(
            authorize(&env, "wallet", WALLET_CB, &extra, "alice").await,
            Err("invalid_authorization_details".to_owned()),
            "{bad}"
        );
    }
    assert_eq!(
        authorize(
            &env,
            "wallet",
            WALLET_CB,
            "&authorization_details=%5B",
            "alice"
        )
        .await,
        Err("invalid_authorization_details".to_owned())
    );
    // `locations` naming this issuer is fine.
    let ok = json!([{"type": "openid_credential", "credential_configuration_id": "pid",
                     "locations": [ISSUER]}]);
    let extra = format!("&authorization_details={}", enc(&ok.to_string()));
    authorize(&env, "wallet", WALLET_CB, &extra, "alice")
        .await
        .unwrap();
    // RFC 6749 §3.1: a parameter at most once (oauth-core refuses before any redirect).
    let twice = format!("{}{}", details(&["pid"]), details(&["pid"]));
    let i = env
        .provider
        .authorization
        .start(
            query("wallet", WALLET_CB, &twice).as_bytes(),
            Some(&Session::new("alice", NOW - 5)),
        )
        .await;
    assert!(
        matches!(&i, Interaction::ShowError(e) if e.code() == "invalid_request"),
        "{i:?}"
    );
}

#[tokio::test]
async fn only_wallets_send_credential_parameters() {
    let env = env();
    assert_eq!(
        authorize(&env, "web", WEB_CB, &details(&["pid"]), "alice").await,
        Err("unauthorized_client".to_owned())
    );
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    assert_eq!(
        authorize(&env, "web", WEB_CB, &state(&s), "alice").await,
        Err("unauthorized_client".to_owned())
    );
    // The refused request did not redeem the offer.
    authorize(&env, "wallet", WALLET_CB, &state(&s), "alice")
        .await
        .unwrap();
}

#[tokio::test]
async fn issuer_state_is_redeemed_once_for_its_offer() {
    let env = env();
    assert_eq!(
        authorize(&env, "wallet", WALLET_CB, &state("made-up"), "alice").await,
        Err("invalid_request".to_owned())
    );
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    // With an issuer_state, the details must be about its offer.
    assert_eq!(
        authorize(
            &env,
            "wallet",
            WALLET_CB,
            &format!("{}{}", state(&s), details(&["diploma"])),
            "alice"
        )
        .await,
        Err("invalid_authorization_details".to_owned())
    );
    let extra = format!("{}{}", state(&s), details(&["pid"]));
    let code = authorize(&env, "wallet", WALLET_CB, &extra, "alice")
        .await
        .unwrap();
    // Single use (§5.1.3).
    assert_eq!(
        authorize(&env, "wallet", WALLET_CB, &extra, "alice").await,
        Err("invalid_request".to_owned())
    );
    assert!(env.issuer.take_issuer_state(&s).await.is_err());
    let t = token(&env, "wallet", WALLET_CB, &code).await.unwrap();
    let creds = issued(
        issue(
            &env,
            &t.access_token,
            json!({"credential_identifier": "pid#1"}),
        )
        .await,
    );
    assert_eq!(creds.len(), 1);
}

#[tokio::test]
async fn issuer_state_of_another_user_is_access_denied_and_not_burnt() {
    let env = env();
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    let extra = format!("{}{}", state(&s), details(&["pid"]));
    assert_eq!(
        authorize(&env, "wallet", WALLET_CB, &extra, "bob").await,
        Err("access_denied".to_owned())
    );
    // Bob logging in on the login page is refused too.
    let request = login_page(&env, &extra).await;
    assert_eq!(
        log_in(&env, request, "bob").await,
        Err("access_denied".to_owned())
    );
    // Alice still can.
    let request = login_page(&env, &extra).await;
    let code = log_in(&env, request, "alice").await.unwrap();
    let t = token(&env, "wallet", WALLET_CB, &code).await.unwrap();
    assert_eq!(
        t.to_json()["authorization_details"][0]["credential_identifiers"],
        json!(["pid#1"])
    );
}

#[tokio::test]
async fn issuer_state_is_checked_again_when_the_code_is_issued() {
    let env = env();
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    // Two tabs pass the first check; only the first login redeems the offer.
    let first = login_page(&env, &state(&s)).await;
    let second = login_page(&env, &state(&s)).await;
    log_in(&env, first, "alice").await.unwrap();
    assert_eq!(
        log_in(&env, second, "alice").await,
        Err("invalid_request".to_owned())
    );
    // An offer that expires during login is refused.
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    let request = login_page(&env, &state(&s)).await;
    env.clock.advance(settings().offer_ttl);
    assert_eq!(
        log_in(&env, request, "alice").await,
        Err("invalid_request".to_owned())
    );
    // And one that expired before the request is refused at once.
    let s = auth_code_offer(&env, "alice", &["pid"]).await;
    env.clock.advance(settings().offer_ttl);
    assert_eq!(
        authorize(&env, "wallet", WALLET_CB, &state(&s), "alice").await,
        Err("invalid_request".to_owned())
    );
}

/// RFC 6749 §3.1: a request kept by the host between login and issuance that carries a
/// parameter twice is refused when the code would be issued.
#[tokio::test]
async fn a_repeated_parameter_is_refused_at_issuance() {
    let env = env();
    let mut request = login_page(&env, &details(&["pid"])).await;
    request
        .extension_params
        .get_mut("authorization_details")
        .unwrap()
        .push(r#"[{"type":"openid_credential","credential_configuration_id":"diploma"}]"#.into());
    assert_eq!(
        log_in(&env, request, "alice").await,
        Err("invalid_request".to_owned())
    );
}
