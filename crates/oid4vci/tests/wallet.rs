//! The sans-IO wallet client against idforge's own issuer, over the `http` adapters (in
//! process): pre-authorized code with `tx_code`, authorization code with PKCE and
//! `issuer_state`, batch, deferred and notification.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use common::*;
use idforge_jose::{JwsAlgorithm, LocalSigner};
use idforge_oauth_core::http::{route, HttpEndpoints};
use idforge_oauth_core::{Interaction, OsRng, Session};
use idforge_oid4vci::wallet::{CredentialOutcome, HttpRequest, WalletClient};
use idforge_oid4vci::{
    CredentialTarget, FixedDelay, NotificationEvent, OfferDelivery, OfferGrant, OfferRequest,
};
use serde_json::json;

/// Sends a wallet request to the in-process provider and issuer; the authorization endpoint
/// logs alice in and redirects.
async fn send(env: &Env, r: HttpRequest) -> (u16, Vec<u8>) {
    let path = r.url.strip_prefix(ISSUER).unwrap().to_owned();
    if path.starts_with("/authorize") {
        let query = path.split_once('?').unwrap().1;
        let i = env
            .provider
            .authorization
            .start(query.as_bytes(), Some(&Session::new("alice", NOW - 5)))
            .await;
        let Interaction::Redirect(resp) = i else {
            panic!("{i:?}")
        };
        return (303, resp.location().into_bytes());
    }
    let mut b = http::Request::builder().method(r.method).uri(path);
    for (k, v) in &r.headers {
        b = b.header(*k, v);
    }
    let req = b.body(r.body).unwrap();
    let handlers: [&dyn HttpEndpoints; 2] = [&env.provider, &env.issuer];
    let resp = route(&handlers, req).await.unwrap();
    (resp.status().as_u16(), resp.into_body())
}

async fn holder_proof(
    env: &Env,
    wallet: &WalletClient,
    info: &idforge_oid4vci::wallet::IssuerInfo,
) -> String {
    let (s, b) = send(env, WalletClient::nonce_request(info).unwrap()).await;
    let nonce = WalletClient::parse_nonce(s, &b).unwrap();
    let key = holder();
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
    wallet
        .proof(info, &signer, &key.public_jwk().unwrap(), Some(&nonce), NOW)
        .await
        .unwrap()
}

#[tokio::test]
async fn pre_authorized_flow_with_tx_code_batch_and_notification() {
    let env = env();
    let created = env.offer(&["pid"], Some(4)).await;
    // The offer by reference, as a QR code would carry it.
    let uri = OfferDelivery::ByReference(created.credential_offer_uri.clone()).to_uri();
    let fetch = WalletClient::resolve_offer(&uri).unwrap().unwrap_err();
    let (s, b) = send(&env, fetch).await;
    let offer = WalletClient::parse_offer(s, &b).unwrap();
    assert_eq!(offer, created.offer);

    let (s, b) = send(
        &env,
        WalletClient::metadata_request(&offer.credential_issuer),
    )
    .await;
    let info = WalletClient::parse_metadata(&offer.credential_issuer, s, &b).unwrap();
    assert_eq!(info.batch_size, 3);
    assert!(info.configuration("pid").is_some());
    let (s, b) = send(
        &env,
        WalletClient::authorization_server_request(&info.authorization_server),
    )
    .await;
    let server =
        WalletClient::parse_authorization_server(&info.authorization_server, s, &b).unwrap();

    let wallet = WalletClient::new(None);
    assert!(wallet
        .pre_authorized_token_request(&server, &offer, None, None)
        .is_err());
    let r = wallet
        .pre_authorized_token_request(&server, &offer, Some("0000x"), None)
        .unwrap();
    let (s, b) = send(&env, r).await;
    assert_eq!(
        WalletClient::parse_token(s, &b).unwrap_err().code(),
        "invalid_grant"
    );
    let details = json!([{"type": "openid_credential", "credential_configuration_id": "pid"}]);
    let r = wallet
        .pre_authorized_token_request(&server, &offer, created.tx_code.as_deref(), Some(&details))
        .unwrap();
    let (s, b) = send(&env, r).await;
    let token = WalletClient::parse_token(s, &b).unwrap();
    let ids = token.credential_identifiers("pid");
    assert_eq!(ids.len(), 1);

    let proofs = vec![
        holder_proof(&env, &wallet, &info).await,
        holder_proof(&env, &wallet, &info).await,
    ];
    let r = WalletClient::credential_request(
        &info,
        &token,
        &CredentialTarget::Identifier(ids[0].clone()),
        &proofs,
    )
    .unwrap();
    let (s, b) = send(&env, r).await;
    let CredentialOutcome::Issued {
        credentials,
        notification_id,
    } = WalletClient::parse_credential(s, &b).unwrap()
    else {
        panic!("deferred")
    };
    assert_eq!(credentials.len(), 2);
    let r = WalletClient::notification_request(
        &info,
        &token,
        &notification_id.unwrap(),
        NotificationEvent::CredentialAccepted,
    )
    .unwrap();
    assert_eq!(send(&env, r).await.0, 204);
    assert_eq!(env.notes.0.lock().unwrap().len(), 1);

    // Errors come back typed.
    let r = WalletClient::credential_request(
        &info,
        &token,
        &CredentialTarget::Configuration("pid".into()),
        &proofs,
    )
    .unwrap();
    let (s, b) = send(&env, r).await;
    assert_eq!(
        WalletClient::parse_credential(s, &b).unwrap_err().code(),
        "invalid_credential_request"
    );
}

#[tokio::test]
async fn authorization_code_flow_with_pkce_issuer_state_and_deferral() {
    let env = env_with(
        settings(),
        Some(Arc::new(FixedDelay::new().with_delay("pid", 10))),
    );
    let created = env
        .issuer
        .create_offer(&OfferRequest::new(
            "alice",
            ["pid"],
            OfferGrant::AuthorizationCode,
        ))
        .await
        .unwrap();
    let uri = OfferDelivery::ByValue(created.offer.clone()).to_uri();
    let offer = WalletClient::resolve_offer(&uri).unwrap().unwrap();
    let issuer_state = offer
        .grants
        .authorization_code
        .clone()
        .unwrap()
        .issuer_state
        .unwrap();
    let (s, b) = send(&env, WalletClient::metadata_request(ISSUER)).await;
    let info = WalletClient::parse_metadata(ISSUER, s, &b).unwrap();
    let (s, b) = send(&env, WalletClient::authorization_server_request(ISSUER)).await;
    let server = WalletClient::parse_authorization_server(ISSUER, s, &b).unwrap();
    let wallet = WalletClient::new(Some("wallet".into()));
    let flow = wallet
        .authorization_request(
            &server,
            WALLET_CB,
            Some("pid"),
            None,
            Some(&issuer_state),
            &OsRng::new(),
        )
        .unwrap();
    assert!(flow.url.contains("code_challenge_method=S256"));
    // The authorization endpoint redeems issuer_state for its offer's user (alice).
    let (_, location) = send(&env, HttpRequest::clone(&test_get(&flow.url))).await;
    let code = WalletClient::parse_callback(&flow, &String::from_utf8(location).unwrap()).unwrap();
    assert!(
        env.issuer.take_issuer_state(&issuer_state).await.is_err(),
        "redeemed once, by the authorization endpoint"
    );
    assert!(
        WalletClient::parse_callback(&flow, &format!("{WALLET_CB}?code=x&state=other")).is_err()
    );
    let (s, b) = send(
        &env,
        wallet.authorization_code_token_request(&server, &flow, &code),
    )
    .await;
    let token = WalletClient::parse_token(s, &b).unwrap();

    let proof = holder_proof(&env, &wallet, &info).await;
    let r = WalletClient::credential_request(
        &info,
        &token,
        &CredentialTarget::Configuration("pid".into()),
        &[proof],
    )
    .unwrap();
    let (s, b) = send(&env, r).await;
    assert_eq!(s, 202);
    let CredentialOutcome::Deferred {
        transaction_id,
        interval,
    } = WalletClient::parse_credential(s, &b).unwrap()
    else {
        panic!("issued at once")
    };
    assert_eq!(interval, 10);
    let (s, b) = send(
        &env,
        WalletClient::deferred_request(&info, &token, &transaction_id).unwrap(),
    )
    .await;
    let e = WalletClient::parse_credential(s, &b).unwrap_err();
    assert_eq!(e.code(), "issuance_pending");
    assert_eq!(e.to_json()["interval"], 10);
    env.clock.advance(10);
    let (s, b) = send(
        &env,
        WalletClient::deferred_request(&info, &token, &transaction_id).unwrap(),
    )
    .await;
    let CredentialOutcome::Issued { credentials, .. } =
        WalletClient::parse_credential(s, &b).unwrap()
    else {
        panic!("still deferred")
    };
    assert_eq!(credentials.len(), 1);
}

fn test_get(url: &str) -> HttpRequest {
    WalletClient::metadata_request("https://unused.example").with_url(url)
}

#[tokio::test]
async fn encrypted_request_and_response_through_the_wallet_client() {
    use idforge_jose::{crypto::EcCurve, Key, KeySet, KeySpec};
    use idforge_jwe::{ContentEncryption as Enc, JwePolicy, KeyManagementAlgorithm as Alg};
    use idforge_oid4vci::encryption::EncryptionSettings;

    let mut env = env();
    let issuer_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let issuer_key = Key::from_jwk(
        issuer_key
            .jwk()
            .clone()
            .with_kid("enc-1")
            .with_alg("ECDH-ES"),
    )
    .unwrap();
    let core = env.issuer.core.clone();
    env.issuer = idforge_oid4vci::CredentialIssuer::new(env.provider.ctx.clone(), core)
        .with_encryption(
            EncryptionSettings::new(vec![issuer_key], [Alg::EcdhEs], [Enc::A256Gcm]).required(),
        );
    let token_str = env.anonymous_token(&["pid"]).await;
    let (s, b) = send(&env, WalletClient::metadata_request(ISSUER)).await;
    let info = WalletClient::parse_metadata(ISSUER, s, &b).unwrap();
    let published = info.metadata["credential_request_encryption"]["jwks"]["keys"][0].clone();
    let issuer_public = Key::from_jwk(idforge_jose::Jwk::from_value(published).unwrap()).unwrap();
    let wallet = WalletClient::new(None);
    let proof = holder_proof(&env, &wallet, &info).await;
    let token = idforge_oid4vci::wallet::WalletClient::parse_token(
        200,
        json!({"access_token": token_str, "token_type": "Bearer"})
            .to_string()
            .as_bytes(),
    )
    .unwrap();
    let wallet_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let r = WalletClient::credential_request(
        &info,
        &token,
        &CredentialTarget::Configuration("pid".into()),
        &[proof],
    )
    .unwrap()
    .with_response_encryption(wallet_key.jwk(), "ECDH-ES", "A256GCM")
    .unwrap()
    .encrypted_to(&issuer_public, Alg::EcdhEs, Enc::A256Gcm, &OsRng::new())
    .unwrap();
    assert!(r
        .headers
        .iter()
        .any(|(k, v)| *k == "content-type" && v == "application/jwt"));
    let (s, b) = send(&env, r).await;
    assert_eq!(s, 200);
    let plain = WalletClient::decrypt_response(
        &b,
        &KeySet::new(vec![wallet_key]),
        &JwePolicy::new([Alg::EcdhEs], [Enc::A256Gcm]),
    )
    .unwrap();
    let CredentialOutcome::Issued { credentials, .. } =
        WalletClient::parse_credential(200, &plain).unwrap()
    else {
        panic!("deferred")
    };
    assert_eq!(credentials.len(), 1);
}
