//! The issuer end to end through oauth-core's token endpoint: offers, the pre-authorized code
//! grant, nonce, credential (every proof rule and every §8.3.1.2 error), batch, deferred,
//! notification, `dc+sd-jwt` / `jwt_vc_json` issuance and revocation through status lists.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::*;
use idforge_jose::{JwsAlgorithm, JwsPolicy, KeySet};
use idforge_oid4vci::status_list::{StatusListFetcher, StatusListTokenResolver};
use idforge_oid4vci::{
    CredentialResponse, FixedDelay, IssuerSettings, NotificationEvent, OfferDelivery, OfferGrant,
    OfferRequest,
};
use idforge_sd_jwt::{Credential, VcPolicy, VcVerifier, VerifierConfig};
use serde_json::{json, Value};

fn credentials(r: CredentialResponse) -> (Vec<String>, String) {
    match r {
        CredentialResponse::Issued {
            credentials,
            notification_id,
        } => (credentials, notification_id),
        other => panic!("not issued: {other:?}"),
    }
}

async fn code_of(env: &Env, ids: &[&str], tx: Option<u32>) -> (String, Option<String>) {
    let o = env.offer(ids, tx).await;
    (
        o.offer
            .grants
            .pre_authorized_code
            .unwrap()
            .pre_authorized_code,
        o.tx_code,
    )
}

#[tokio::test]
async fn metadata_describes_the_templates_and_endpoints() {
    let env = env();
    let m = env.issuer.metadata().await.unwrap();
    assert_eq!(m["credential_issuer"], ISSUER);
    assert_eq!(
        m["credential_endpoint"],
        "https://issuer.example/credential"
    );
    assert_eq!(m["nonce_endpoint"], "https://issuer.example/nonce");
    assert_eq!(m["batch_credential_issuance"]["batch_size"], 3);
    assert_eq!(
        m["credential_configurations_supported"]["pid"]["vct"],
        "urn:eudi:pid:1"
    );
    assert_eq!(
        m["credential_configurations_supported"]["diploma"]["credential_definition"]["type"][1],
        "UniversityDegreeCredential"
    );
    assert!(m.get("deferred_credential_endpoint").is_none());
    let signed = env.issuer.signed_metadata().await.unwrap();
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&signed, &env.op_key.to_public().unwrap())
        .unwrap();
    assert_eq!(v.header.typ(), Some("openidvci-issuer-metadata+jwt"));
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["sub"], ISSUER);
    assert_eq!(claims["credential_endpoint"], m["credential_endpoint"]);
    let jwt_vc = env.issuer.jwt_vc_issuer_metadata().await.unwrap();
    assert_eq!(jwt_vc["issuer"], ISSUER);
    assert_eq!(jwt_vc["jwks"]["keys"][0]["kid"], "issuer-1");
    // The authorization server says anonymous access is supported (§12.3).
    let d = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(d["pre-authorized_grant_anonymous_access_supported"], true);
}

#[tokio::test]
async fn offers_by_value_and_by_reference() {
    let env = env();
    let created = env.offer(&["pid", "diploma"], Some(6)).await;
    let tx = created.tx_code.clone().unwrap();
    assert_eq!(tx.len(), 6);
    assert!(tx.bytes().all(|b| b.is_ascii_digit()));
    let p = created.offer.grants.pre_authorized_code.as_ref().unwrap();
    assert_eq!(p.tx_code.as_ref().unwrap().length, Some(6));
    let uri = OfferDelivery::ByValue(created.offer.clone()).to_uri();
    assert_eq!(
        OfferDelivery::parse_uri(&uri).unwrap(),
        OfferDelivery::ByValue(created.offer.clone())
    );
    let reference = created
        .credential_offer_uri
        .strip_prefix("https://issuer.example/credential-offer/")
        .unwrap();
    assert_eq!(
        env.issuer.offer_by_reference(reference).await.unwrap(),
        created.offer.to_json()
    );
    assert!(env.issuer.offer_by_reference("nope").await.is_err());
    env.clock.advance(601);
    assert!(env.issuer.offer_by_reference(reference).await.is_err());
    // Unknown configurations and bad tx_code lengths are refused.
    let bad = OfferRequest::new("alice", ["nope"], OfferGrant::AuthorizationCode);
    assert!(env.issuer.create_offer(&bad).await.is_err());
    let bad = OfferRequest::new(
        "alice",
        ["pid"],
        OfferGrant::PreAuthorized {
            tx_code_length: Some(2),
        },
    );
    assert!(env.issuer.create_offer(&bad).await.is_err());
}

#[tokio::test]
async fn issuer_state_is_tied_to_its_offer_and_single_use() {
    let env = env();
    let created = env
        .issuer
        .create_offer(&OfferRequest::new(
            "alice",
            ["pid"],
            OfferGrant::AuthorizationCode,
        ))
        .await
        .unwrap();
    let state = created
        .offer
        .grants
        .authorization_code
        .unwrap()
        .issuer_state
        .unwrap();
    let record = env.issuer.take_issuer_state(&state).await.unwrap();
    assert_eq!(record.subject, "alice");
    assert_eq!(record.configuration_ids, vec!["pid"]);
    assert!(env.issuer.take_issuer_state(&state).await.is_err());
}

#[tokio::test]
async fn pre_authorized_flow_issues_a_verifiable_sd_jwt_vc_that_can_be_revoked() {
    let env = env();
    let (code, tx) = code_of(&env, &["pid"], Some(6)).await;
    let token = env
        .redeem(&code, tx.as_deref(), None, "&user_pin=123456")
        .await
        .unwrap();
    assert!(token.refresh_token.is_none());
    assert!(token.extra.get("authorization_details").is_none());
    let key = holder();
    let nonce = env.nonce().await;
    let (creds, notification_id) = credentials(
        env.credential(&token.access_token, request("pid", &[proof(&key, &nonce)]))
            .await
            .unwrap(),
    );
    assert_eq!(creds.len(), 1);
    let verifier = VcVerifier::new(
        VerifierConfig::default().algorithms([JwsAlgorithm::ES256]),
        VcPolicy {
            vcts: vec!["urn:eudi:pid:1".into()],
            ..VcPolicy::default()
        },
    );
    let issuer_key = env.op_key.to_public().unwrap();
    let vc = verifier
        .verify(&creds[0], &issuer_key, env.clock.as_ref())
        .unwrap();
    let c = &vc.sd_jwt.claims;
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(c["given_name"], "Erika");
    assert_eq!(c["address"]["locality"], "Köln");
    assert_eq!(
        c["exp"].as_i64().unwrap() - c["iat"].as_i64().unwrap(),
        365 * 24 * 3600
    );
    assert_eq!(c["cnf"]["jwk"], key.public_jwk().unwrap().to_value());
    let parsed = Credential::parse(&creds[0], &Default::default()).unwrap();
    assert_eq!(parsed.disclosable().len(), 4, "the four template claims");
    let status = vc.status.clone().unwrap().status_list.unwrap();
    assert_eq!(status.uri, "https://issuer.example/status-lists/1");

    // Revocation: the status list token is re-signed with the bit set.
    struct Fetch(Arc<Env>);
    #[async_trait]
    impl StatusListFetcher for Fetch {
        async fn fetch(&self, uri: &str) -> Result<String, idforge_sd_jwt::Error> {
            let n: u64 = uri.rsplit('/').next().unwrap().parse().unwrap();
            Ok(self.0.issuer.status_list_token(n).await.unwrap().unwrap())
        }
    }
    let env = Arc::new(env);
    let resolver = StatusListTokenResolver::new(
        Arc::new(Fetch(env.clone())),
        Arc::new(KeySet::new(vec![issuer_key.clone()])),
        [JwsAlgorithm::ES256],
        env.clock.clone(),
    );
    verifier
        .verify_with_status(&creds[0], &issuer_key, env.clock.as_ref(), &resolver)
        .await
        .unwrap();
    let token_jwt = env.issuer.status_list_token(1).await.unwrap().unwrap();
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&token_jwt, &issuer_key)
        .unwrap();
    assert_eq!(v.header.typ(), Some("statuslist+jwt"));
    let claims: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(claims["sub"], status.uri);
    assert_eq!(claims["status_list"]["bits"], 1);
    env.issuer
        .set_status(&status.uri, status.idx, true)
        .await
        .unwrap();
    let e = verifier
        .verify_with_status(&creds[0], &issuer_key, env.clock.as_ref(), &resolver)
        .await
        .unwrap_err();
    assert!(
        matches!(e, idforge_sd_jwt::Error::StatusNotValid(_)),
        "{e:?}"
    );
    env.issuer
        .set_status(&status.uri, status.idx, false)
        .await
        .unwrap();
    verifier
        .verify_with_status(&creds[0], &issuer_key, env.clock.as_ref(), &resolver)
        .await
        .unwrap();
    assert!(env
        .issuer
        .set_status("https://elsewhere.example/status-lists/1", 0, true)
        .await
        .is_err());
    assert!(env.issuer.set_status(&status.uri, 999, true).await.is_err());

    // Notification (§11).
    let bearer = format!("Bearer {}", token.access_token);
    env.issuer
        .notification(
            Some(&bearer),
            json!({"notification_id": notification_id, "event": "credential_accepted",
                   "event_description": "stored"})
            .to_string()
            .as_bytes(),
        )
        .await
        .unwrap();
    let notes = env.notes.0.lock().unwrap().clone();
    assert_eq!(notes.len(), 1);
    assert_eq!(notes[0].event, NotificationEvent::CredentialAccepted);
    assert_eq!(notes[0].issuance.subject, "alice");
    assert_eq!(notes[0].issuance.status, vec![(1, status.idx)]);
}

#[tokio::test]
async fn notification_errors() {
    let env = env();
    let token = env.anonymous_token(&["pid"]).await;
    let nonce = env.nonce().await;
    let (_, id) = credentials(
        env.credential(&token, request("pid", &[proof(&holder(), &nonce)]))
            .await
            .unwrap(),
    );
    let bearer = format!("Bearer {token}");
    let send = |body: Value| {
        let bearer = bearer.clone();
        let env = &env;
        async move {
            env.issuer
                .notification(Some(&bearer), body.to_string().as_bytes())
                .await
        }
    };
    let code = |r: Result<(), idforge_oauth_core::Error>| r.unwrap_err().code();
    assert_eq!(
        code(send(json!({"notification_id": "nope", "event": "credential_deleted"})).await),
        "invalid_notification_id"
    );
    assert_eq!(
        code(send(json!({"notification_id": id, "event": "credential_stolen"})).await),
        "invalid_notification_request"
    );
    assert_eq!(
        code(send(json!({"event": "credential_failure"})).await),
        "invalid_notification_request"
    );
    assert_eq!(
        code(
            send(json!({"notification_id": id, "event": "credential_failure",
                         "event_description": "bad \"quote\""}))
            .await
        ),
        "invalid_notification_request"
    );
    send(json!({"notification_id": id, "event": "credential_failure"}))
        .await
        .unwrap();
    send(json!({"notification_id": id, "event": "credential_deleted"}))
        .await
        .unwrap();
    assert_eq!(env.notes.0.lock().unwrap().len(), 2);
    // Another wallet's token cannot use this notification id.
    let other = env
        .redeem(
            &code_of(&env, &["pid"], None).await.0,
            None,
            Some("wallet"),
            "",
        )
        .await
        .unwrap();
    let e = env
        .issuer
        .notification(
            Some(&format!("Bearer {}", other.access_token)),
            json!({"notification_id": id, "event": "credential_deleted"})
                .to_string()
                .as_bytes(),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_notification_id");
}

#[tokio::test]
async fn jwt_vc_json_is_a_signed_jwt_vc_bound_to_the_holder() {
    let env = env();
    let token = env.anonymous_token(&["diploma"]).await;
    let key = holder();
    let nonce = env.nonce().await;
    let (creds, _) = credentials(
        env.credential(&token, request("diploma", &[proof(&key, &nonce)]))
            .await
            .unwrap(),
    );
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(&creds[0], &env.op_key.to_public().unwrap())
        .unwrap();
    assert_eq!(v.header.kid(), Some("issuer-1"));
    let c: Value = serde_json::from_slice(&v.payload).unwrap();
    assert_eq!(c["iss"], ISSUER);
    assert_eq!(
        c["vc"]["type"],
        json!(["VerifiableCredential", "UniversityDegreeCredential"])
    );
    assert_eq!(
        c["vc"]["credentialSubject"],
        json!({"given_name": "Erika", "degree": "MSc"})
    );
    assert_eq!(c["cnf"]["jwk"], key.public_jwk().unwrap().to_value());
    assert_eq!(
        c["status"]["status_list"]["uri"],
        "https://issuer.example/status-lists/1"
    );
}

#[tokio::test]
async fn tx_code_is_required_checked_and_attempts_are_bounded() {
    let env = env();
    let (code, tx) = code_of(&env, &["pid"], Some(6)).await;
    let tx = tx.unwrap();
    assert_eq!(
        env.redeem(&code, None, None, "").await.unwrap_err().code(),
        "invalid_request"
    );
    let wrong = if tx == "000000" { "111111" } else { "000000" };
    for _ in 0..4 {
        assert_eq!(
            env.redeem(&code, Some(wrong), None, "")
                .await
                .unwrap_err()
                .code(),
            "invalid_grant"
        );
    }
    // The fifth wrong attempt (tx_code_max_attempts = 5) kills the code.
    assert_eq!(
        env.redeem(&code, Some(wrong), None, "")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    assert_eq!(
        env.redeem(&code, Some(&tx), None, "")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant",
        "the right code is too late"
    );
    // Four wrong attempts leave the code usable.
    let (code, tx) = code_of(&env, &["pid"], Some(6)).await;
    for _ in 0..4 {
        env.redeem(&code, Some("x"), None, "").await.unwrap_err();
    }
    env.redeem(&code, tx.as_deref(), None, "").await.unwrap();
    // A tx_code the offer did not ask for.
    let (code, _) = code_of(&env, &["pid"], None).await;
    assert_eq!(
        env.redeem(&code, Some("1234"), None, "")
            .await
            .unwrap_err()
            .code(),
        "invalid_request"
    );
}

#[tokio::test]
async fn pre_authorized_codes_are_single_use_short_lived_and_checked() {
    let env = env();
    let (code, _) = code_of(&env, &["pid"], None).await;
    env.redeem(&code, None, Some("wallet"), "").await.unwrap();
    assert_eq!(
        env.redeem(&code, None, Some("wallet"), "")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    let (code, _) = code_of(&env, &["pid"], None).await;
    env.clock.advance(601);
    assert_eq!(
        env.redeem(&code, None, None, "").await.unwrap_err().code(),
        "invalid_grant"
    );
    assert_eq!(
        env.redeem("made-up", None, None, "")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    // `resource` must be the credential issuer (wallets send it).
    let (code, _) = code_of(&env, &["pid"], None).await;
    let e = env
        .redeem(
            &code,
            None,
            None,
            &format!("&resource={}", enc("https://rs.example")),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_target");
    env.redeem(&code, None, None, &format!("&resource={}", enc(ISSUER)))
        .await
        .unwrap();
}

#[tokio::test]
async fn concurrent_redemptions_of_one_code_yield_one_token() {
    let env = Arc::new(env());
    let (code, _) = code_of(&env, &["pid"], None).await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (env, code) = (env.clone(), code.clone());
        tasks.push(tokio::spawn(async move {
            env.redeem(&code, None, None, "").await.is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn anonymous_access_can_be_refused() {
    let env = env_with(IssuerSettings::default(), None);
    let (code, _) = code_of(&env, &["pid"], None).await;
    assert_eq!(
        env.redeem(&code, None, None, "").await.unwrap_err().code(),
        "invalid_client"
    );
    env.redeem(&code, None, Some("wallet"), "").await.unwrap();
    let d = env.provider.discovery.metadata().await.unwrap();
    assert_eq!(d["pre-authorized_grant_anonymous_access_supported"], false);
}

#[tokio::test]
async fn authorization_details_give_credential_identifiers() {
    let env = env();
    let (code, _) = code_of(&env, &["pid", "diploma"], None).await;
    let details = json!([{"type": "openid_credential", "credential_configuration_id": "pid"}]);
    let t = env
        .redeem(
            &code,
            None,
            Some("wallet"),
            &format!("&authorization_details={}", enc(&details.to_string())),
        )
        .await
        .unwrap();
    let returned = &t.extra["authorization_details"];
    assert_eq!(returned[0]["credential_configuration_id"], "pid");
    let id = returned[0]["credential_identifiers"][0]
        .as_str()
        .unwrap()
        .to_owned();
    let key = holder();
    // With identifiers returned, `credential_configuration_id` is refused (§8.2).
    let nonce = env.nonce().await;
    let e = env
        .credential(&t.access_token, request("pid", &[proof(&key, &nonce)]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_credential_request");
    // Only `pid` was authorized.
    let e = env
        .credential(&t.access_token, request("diploma", &[proof(&key, &nonce)]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "unknown_credential_configuration");
    let body = json!({"credential_identifier": id, "proofs": {"jwt": [proof(&key, &nonce)]}});
    credentials(env.credential(&t.access_token, body).await.unwrap());
    // Details naming a configuration the offer did not include.
    let (code, _) = code_of(&env, &["pid"], None).await;
    let details = json!([{"type": "openid_credential", "credential_configuration_id": "diploma"}]);
    let e = env
        .redeem(
            &code,
            None,
            None,
            &format!("&authorization_details={}", enc(&details.to_string())),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_authorization_details");
}

/// §8.3.1.2: one test per error code.
#[tokio::test]
async fn every_credential_error_code() {
    let env = env();
    let token = env.anonymous_token(&["pid", "badge"]).await;
    let key = holder();
    let code = |r: Result<CredentialResponse, idforge_oauth_core::Error>| r.unwrap_err().code();

    // invalid_token (RFC 6750), 401.
    let e = env
        .credential("garbage", request("pid", &[]))
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("invalid_token", 401));
    let e = env.issuer.credential(None, b"{}").await.unwrap_err();
    assert_eq!(e.code(), "invalid_token");

    // invalid_credential_request.
    for body in [
        json!({}),
        json!({"credential_configuration_id": "pid", "credential_identifier": "pid#1"}),
        json!({"credential_configuration_id": 7}),
        json!({"credential_configuration_id": "pid", "proof": {"proof_type": "jwt", "jwt": "x"}}),
        json!({"credential_configuration_id": "pid", "proofs": {"jwt": "x"}}),
        json!({"credential_configuration_id": "pid", "proofs": {"jwt": []}}),
        json!({"credential_configuration_id": "pid", "proofs": {"jwt": ["a"], "di_vp": []}}),
        json!([1]),
    ] {
        assert_eq!(
            code(env.credential(&token, body.clone()).await),
            "invalid_credential_request",
            "{body}"
        );
    }
    let e = env
        .issuer
        .credential(Some(&format!("Bearer {token}")), b"not json")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_credential_request");
    // batch over batch_size (3).
    let nonce = env.nonce().await;
    let four: Vec<String> = (0..4).map(|_| proof(&holder(), &nonce)).collect();
    assert_eq!(
        code(env.credential(&token, request("pid", &four)).await),
        "invalid_credential_request"
    );

    // unknown_credential_configuration: unknown, or not authorized by the token.
    assert_eq!(
        code(
            env.credential(&token, request("nope", &[proof(&key, &nonce)]))
                .await
        ),
        "unknown_credential_configuration"
    );
    assert_eq!(
        code(
            env.credential(&token, request("diploma", &[proof(&key, &nonce)]))
                .await
        ),
        "unknown_credential_configuration"
    );

    // unknown_credential_identifier.
    let body = json!({"credential_identifier": "pid#9", "proofs": {"jwt": [proof(&key, &nonce)]}});
    assert_eq!(
        code(env.credential(&token, body).await),
        "unknown_credential_identifier"
    );

    // invalid_proof: missing, unsupported type, proof for an unbound credential.
    assert_eq!(
        code(
            env.credential(&token, json!({"credential_configuration_id": "pid"}))
                .await
        ),
        "invalid_proof"
    );
    assert_eq!(
        code(
            env.credential(
                &token,
                json!({"credential_configuration_id": "pid", "proofs": {"attestation": ["x"]}})
            )
            .await
        ),
        "invalid_proof"
    );
    assert_eq!(
        code(
            env.credential(&token, request("badge", &[proof(&key, &nonce)]))
                .await
        ),
        "invalid_proof"
    );

    // invalid_nonce.
    assert_eq!(
        code(
            env.credential(&token, request("pid", &[proof(&key, "not-a-nonce")]))
                .await
        ),
        "invalid_nonce"
    );

    // invalid_encryption_parameters.
    let mut body = request("pid", &[proof(&key, &nonce)]);
    body["credential_response_encryption"] = json!({"jwk": {}, "enc": "A256GCM"});
    assert_eq!(
        code(env.credential(&token, body).await),
        "invalid_encryption_parameters"
    );

    // credential_request_denied: bob has no given_name (mandatory).
    let created = env
        .issuer
        .create_offer(&OfferRequest::new(
            "bob",
            ["pid"],
            OfferGrant::PreAuthorized {
                tx_code_length: None,
            },
        ))
        .await
        .unwrap();
    let bob = env
        .redeem(
            &created
                .offer
                .grants
                .pre_authorized_code
                .unwrap()
                .pre_authorized_code,
            None,
            None,
            "",
        )
        .await
        .unwrap()
        .access_token;
    let e = env
        .credential(&bob, request("pid", &[proof(&key, &nonce)]))
        .await
        .unwrap_err();
    assert_eq!((e.code(), e.status()), ("credential_request_denied", 400));

    // The nonce was spent by bob's request (proofs are checked before claims); a fresh one.
    let nonce = env.nonce().await;
    credentials(
        env.credential(&token, request("pid", &[proof(&key, &nonce)]))
            .await
            .unwrap(),
    );
    // An unbound credential needs no proof.
    let (creds, _) = credentials(
        env.credential(&token, json!({"credential_configuration_id": "badge"}))
            .await
            .unwrap(),
    );
    assert_eq!(creds.len(), 1);
}

/// §8.2.1.1 / Appendix F.1: one test per proof rule.
#[tokio::test]
async fn every_proof_rule() {
    let env = env();
    let token = env.anonymous_token(&["pid"]).await;
    let wallet_token = env
        .redeem(
            &code_of(&env, &["pid"], None).await.0,
            None,
            Some("wallet"),
            "",
        )
        .await
        .unwrap()
        .access_token;
    let key = holder();
    let nonce = env.nonce().await;
    let claims = proof_claims(&nonce);
    let refused = |t: &str, p: String, expected: &'static str| {
        let env = &env;
        let t = t.to_owned();
        async move {
            let e = env.credential(&t, request("pid", &[p])).await.unwrap_err();
            assert_eq!(e.code(), expected);
        }
    };
    // typ.
    let h = proof_header(&key).with_typ("JWT");
    refused(&token, sign_proof(&key, h, &claims), "invalid_proof").await;
    let h = idforge_jose::Header::new().with("jwk", key.public_jwk().unwrap().to_value());
    refused(&token, sign_proof(&key, h, &claims), "invalid_proof").await;
    // alg outside proof_signing_alg_values_supported (ES384 key and alg).
    let k384 = idforge_jose::Key::generate(idforge_jose::KeySpec::Ec(
        idforge_jose::crypto::EcCurve::P384,
    ))
    .unwrap();
    let p384 = idforge_jose::jws::sign_compact(
        proof_header(&k384),
        claims.to_string().as_bytes(),
        &idforge_jose::LocalSigner::new(k384.clone(), JwsAlgorithm::ES384).unwrap(),
    )
    .unwrap();
    refused(&token, p384, "invalid_proof").await;
    // Exactly one of kid / jwk / x5c.
    refused(
        &token,
        sign_proof(&key, proof_header(&key).with_kid("k1"), &claims),
        "invalid_proof",
    )
    .await;
    refused(
        &token,
        sign_proof(
            &key,
            proof_header(&key).with("x5c", json!(["MII"])),
            &claims,
        ),
        "invalid_proof",
    )
    .await;
    let h = idforge_jose::Header::new()
        .with_typ(idforge_oid4vci::request::PROOF_TYP)
        .with_kid("did:example:1#k");
    refused(&token, sign_proof(&key, h, &claims), "invalid_proof").await;
    let h = idforge_jose::Header::new().with_typ(idforge_oid4vci::request::PROOF_TYP);
    refused(&token, sign_proof(&key, h, &claims), "invalid_proof").await;
    // No private key material in `jwk`.
    let h = idforge_jose::Header::new()
        .with_typ(idforge_oid4vci::request::PROOF_TYP)
        .with("jwk", key.jwk().to_value());
    refused(&token, sign_proof(&key, h, &claims), "invalid_proof").await;
    // Signature by another key than `jwk`.
    let other = holder();
    refused(
        &token,
        sign_proof(&other, proof_header(&key), &claims),
        "invalid_proof",
    )
    .await;
    // Tampered payload.
    let good = proof(&key, &nonce);
    let mut parts: Vec<&str> = good.split('.').collect();
    let forged = idforge_jose::b64::encode(
        json!({"aud": ISSUER, "iat": NOW, "nonce": nonce, "x": 1})
            .to_string()
            .as_bytes(),
    );
    parts[1] = &forged;
    refused(&token, parts.join("."), "invalid_proof").await;
    // aud.
    let mut c = claims.clone();
    c["aud"] = json!("https://other.example");
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    c["aud"] = json!([ISSUER, "https://other.example"]);
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    // iat window (300 s old, 60 s ahead) and presence.
    let mut c = claims.clone();
    c["iat"] = json!(NOW - 301);
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    c["iat"] = json!(NOW + 61);
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    c.as_object_mut().unwrap().remove("iat");
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    // exp, when present, not passed.
    let mut c = claims.clone();
    c["exp"] = json!(NOW - 120);
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    // iss: the client id of an identified client; absent under anonymous access.
    let mut c = claims.clone();
    c["iss"] = json!("wallet");
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    c["iss"] = json!("someone-else");
    refused(
        &wallet_token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    // nonce: required, must be live.
    let mut c = claims.clone();
    c.as_object_mut().unwrap().remove("nonce");
    refused(
        &token,
        sign_proof(&key, proof_header(&key), &c),
        "invalid_proof",
    )
    .await;
    refused(&token, proof(&key, "stale"), "invalid_nonce").await;
    // Each proof its own key in a batch.
    let e = env
        .credential(
            &token,
            request("pid", &[proof(&key, &nonce), proof(&key, &nonce)]),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_proof");
    // All good: the identified client's proof may carry its `iss`.
    let mut c = claims.clone();
    c["iss"] = json!("wallet");
    credentials(
        env.credential(
            &wallet_token,
            request("pid", &[sign_proof(&key, proof_header(&key), &c)]),
        )
        .await
        .unwrap(),
    );
}

#[tokio::test]
async fn nonces_are_consumed_once() {
    let env = env();
    let token = env.anonymous_token(&["pid"]).await;
    let key = holder();
    let nonce = env.nonce().await;
    credentials(
        env.credential(&token, request("pid", &[proof(&key, &nonce)]))
            .await
            .unwrap(),
    );
    let e = env
        .credential(&token, request("pid", &[proof(&key, &nonce)]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_nonce", "replay");
    let late = env.nonce().await;
    env.clock.advance(301);
    let e = env
        .credential(
            &token,
            request(
                "pid",
                &[sign_proof(
                    &key,
                    proof_header(&key),
                    &json!({"aud": ISSUER, "iat": NOW + 301, "nonce": late}),
                )],
            ),
        )
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_nonce", "expired");
}

#[tokio::test]
async fn concurrent_requests_with_one_nonce_yield_one_credential() {
    let env = Arc::new(env());
    let token = env.anonymous_token(&["pid"]).await;
    let nonce = env.nonce().await;
    let mut tasks = Vec::new();
    for _ in 0..100 {
        let (env, token, p) = (env.clone(), token.clone(), proof(&holder(), &nonce));
        tasks.push(tokio::spawn(async move {
            env.credential(&token, request("pid", &[p])).await.is_ok()
        }));
    }
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn batch_issues_one_credential_per_key() {
    let env = env();
    let token = env.anonymous_token(&["pid"]).await;
    let nonce = env.nonce().await;
    let keys: Vec<_> = (0..3).map(|_| holder()).collect();
    let proofs: Vec<String> = keys.iter().map(|k| proof(k, &nonce)).collect();
    let (creds, _) = credentials(
        env.credential(&token, request("pid", &proofs))
            .await
            .unwrap(),
    );
    assert_eq!(creds.len(), 3);
    let mut idx = Vec::new();
    for (c, k) in creds.iter().zip(&keys) {
        let vc = VcVerifier::default()
            .verify(c, &env.op_key.to_public().unwrap(), env.clock.as_ref())
            .unwrap();
        assert_eq!(
            vc.sd_jwt.claims["cnf"]["jwk"],
            k.public_jwk().unwrap().to_value()
        );
        idx.push(vc.status.unwrap().status_list.unwrap().idx);
    }
    idx.dedup();
    assert_eq!(idx.len(), 3, "each credential has its own status entry");
}

#[tokio::test]
async fn deferred_issuance() {
    let env = env_with(
        settings(),
        Some(Arc::new(FixedDelay::new().with_delay("pid", 60))),
    );
    let m = env.issuer.metadata().await.unwrap();
    assert_eq!(
        m["deferred_credential_endpoint"],
        "https://issuer.example/deferred_credential"
    );
    let token = env.anonymous_token(&["pid", "diploma"]).await;
    let bearer = format!("Bearer {token}");
    let key = holder();
    let nonce = env.nonce().await;
    let r = env
        .credential(&token, request("pid", &[proof(&key, &nonce)]))
        .await
        .unwrap();
    assert_eq!(r.status(), 202);
    let CredentialResponse::Deferred {
        transaction_id,
        interval,
    } = r
    else {
        panic!("{r:?}")
    };
    assert_eq!(interval, 60);
    let body = json!({"transaction_id": transaction_id}).to_string();
    let e = env
        .issuer
        .deferred_credential(Some(&bearer), body.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "issuance_pending");
    assert_eq!(e.to_json()["interval"], 60);
    env.clock.advance(30);
    let e = env
        .issuer
        .deferred_credential(Some(&bearer), body.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.to_json()["interval"], 30);
    let e = env
        .issuer
        .deferred_credential(Some(&bearer), br#"{"transaction_id":"nope"}"#)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transaction_id");
    env.clock.advance(30);
    let (creds, _) = credentials(
        env.issuer
            .deferred_credential(Some(&bearer), body.as_bytes())
            .await
            .unwrap(),
    );
    let vc = VcVerifier::default()
        .verify(
            &creds[0],
            &env.op_key.to_public().unwrap(),
            env.clock.as_ref(),
        )
        .unwrap();
    assert_eq!(
        vc.sd_jwt.claims["cnf"]["jwk"],
        key.public_jwk().unwrap().to_value()
    );
    let e = env
        .issuer
        .deferred_credential(Some(&bearer), body.as_bytes())
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_transaction_id", "used once");
    // Templates without a delay are issued at once.
    let nonce = env.nonce().await;
    assert_eq!(
        env.credential(&token, request("diploma", &[proof(&key, &nonce)]))
            .await
            .unwrap()
            .status(),
        200
    );
}

mod encryption {
    use super::*;
    use idforge_jose::{crypto::EcCurve, Key, KeySpec};
    use idforge_jwe::{
        encrypt_compact, ContentEncryption as Enc, JwePolicy, KeyManagementAlgorithm as Alg,
    };
    use idforge_oid4vci::encryption::EncryptionSettings;
    use idforge_oid4vci::CredentialReply;

    fn enc_key(kid: &str, alg: &str) -> Key {
        let k = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
        Key::from_jwk(k.jwk().clone().with_kid(kid).with_alg(alg)).unwrap()
    }

    fn settings(key: &Key, required: bool) -> EncryptionSettings {
        let s = EncryptionSettings::new(
            vec![key.clone()],
            [Alg::EcdhEs, Alg::EcdhEsA256Kw],
            [Enc::A256Gcm, Enc::A128Gcm],
        );
        if required {
            s.required()
        } else {
            s
        }
    }

    fn encrypted_env(required: bool, deferred: bool) -> (Env, Key) {
        let issuer_key = enc_key("issuer-enc-1", "ECDH-ES");
        let mut env = if deferred {
            env_with(
                common::settings(),
                Some(Arc::new(FixedDelay::new().with_delay("pid", 5))),
            )
        } else {
            env()
        };
        env.issuer = std::mem::replace(
            &mut env.issuer,
            idforge_oid4vci::CredentialIssuer::new(
                env.provider.ctx.clone(),
                idforge_oid4vci::IssuerCore::new(
                    common::settings(),
                    Arc::new(idforge_oid4vci::memory::MemoryTemplateStore::new()),
                    Arc::new(idforge_oid4vci::memory::MemoryIssuanceStore::new()),
                )
                .unwrap(),
            ),
        )
        .with_encryption(settings(&issuer_key, required));
        (env, issuer_key)
    }

    fn body_with_response_encryption(proof: &str, wallet: &Key, alg: &str, enc: &str) -> Value {
        let mut jwk = wallet.public_jwk().unwrap().to_value();
        jwk["alg"] = json!(alg);
        let mut b = request("pid", &[proof.to_owned()]);
        b["credential_response_encryption"] = json!({"jwk": jwk, "enc": enc});
        b
    }

    #[tokio::test]
    async fn metadata_response_and_request_encryption_round_trips() {
        let (env, issuer_key) = encrypted_env(false, false);
        let m = env.issuer.metadata().await.unwrap();
        let jwks = &m["credential_request_encryption"]["jwks"]["keys"];
        assert_eq!(jwks[0]["kid"], "issuer-enc-1");
        assert!(jwks[0].get("d").is_none(), "public keys only");
        assert_eq!(
            m["credential_response_encryption"]["alg_values_supported"],
            json!(["ECDH-ES", "ECDH-ES+A256KW"])
        );
        assert_eq!(
            m["credential_response_encryption"]["encryption_required"],
            false
        );

        let token = env.anonymous_token(&["pid"]).await;
        let bearer = format!("Bearer {token}");
        let wallet = enc_key("wallet-enc", "ECDH-ES+A256KW");
        let policy = JwePolicy::new([Alg::EcdhEsA256Kw], [Enc::A128Gcm]);
        // Response encryption only.
        let nonce = env.nonce().await;
        let body = body_with_response_encryption(
            &proof(&holder(), &nonce),
            &wallet,
            "ECDH-ES+A256KW",
            "A128GCM",
        );
        let reply = env
            .issuer
            .credential_reply(
                Some(&bearer),
                Some("application/json"),
                body.to_string().as_bytes(),
            )
            .await
            .unwrap();
        let CredentialReply::Encrypted { status, jwe } = reply else {
            panic!("not encrypted")
        };
        assert_eq!(status, 200);
        let plain = policy
            .decrypt_compact(&jwe, &KeySet::new(vec![wallet.clone()]))
            .unwrap();
        assert_eq!(plain.header.kid(), Some("wallet-enc"));
        let v: Value = serde_json::from_slice(&plain.plaintext).unwrap();
        assert!(v["credentials"][0]["credential"]
            .as_str()
            .unwrap()
            .contains('~'));
        // The plain entry point refuses to answer an encrypted exchange.
        let nonce = env.nonce().await;
        let body = body_with_response_encryption(
            &proof(&holder(), &nonce),
            &wallet,
            "ECDH-ES+A256KW",
            "A128GCM",
        );
        assert_eq!(
            env.credential(&token, body).await.unwrap_err().code(),
            "invalid_encryption_parameters"
        );

        // Encrypted request and response.
        let nonce = env.nonce().await;
        let body = body_with_response_encryption(
            &proof(&holder(), &nonce),
            &wallet,
            "ECDH-ES+A256KW",
            "A128GCM",
        );
        let public = issuer_key.to_public().unwrap();
        let jwe_req = encrypt_compact(
            body.to_string().as_bytes(),
            &public,
            Alg::EcdhEs,
            Enc::A256Gcm,
            idforge_jose::Header::new(),
        )
        .unwrap();
        let reply = env
            .issuer
            .credential_reply(Some(&bearer), Some("application/jwt"), jwe_req.as_bytes())
            .await
            .unwrap();
        let CredentialReply::Encrypted { jwe, .. } = reply else {
            panic!("not encrypted")
        };
        policy
            .decrypt_compact(&jwe, &KeySet::new(vec![wallet.clone()]))
            .unwrap();

        // A request that does not decrypt, or with a refused algorithm.
        let e = env
            .issuer
            .credential_reply(Some(&bearer), Some("application/jwt"), b"not.a.jwe.at.all")
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters");
        let jwe_req = encrypt_compact(
            body.to_string().as_bytes(),
            &public,
            Alg::EcdhEs,
            Enc::A192Gcm,
            idforge_jose::Header::new(),
        )
        .unwrap();
        let e = env
            .issuer
            .credential_reply(Some(&bearer), Some("application/jwt"), jwe_req.as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters");

        // Bad `credential_response_encryption` parameters.
        let nonce = env.nonce().await;
        let p = proof(&holder(), &nonce);
        for (alg, enc) in [
            ("ECDH-ES", "A192GCM"),
            ("RSA-OAEP", "A128GCM"),
            ("nope", "A128GCM"),
        ] {
            let body = body_with_response_encryption(&p, &wallet, alg, enc);
            let e = env
                .issuer
                .credential_reply(Some(&bearer), None, body.to_string().as_bytes())
                .await
                .unwrap_err();
            assert_eq!(e.code(), "invalid_encryption_parameters", "{alg} {enc}");
        }
        let mut body = request("pid", std::slice::from_ref(&p));
        let mut no_alg = wallet.public_jwk().unwrap().to_value();
        no_alg.as_object_mut().unwrap().remove("alg");
        body["credential_response_encryption"] = json!({"jwk": no_alg, "enc": "A128GCM"});
        let e = env
            .issuer
            .credential_reply(Some(&bearer), None, body.to_string().as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters", "no jwk.alg");
        let mut private = wallet.jwk().to_value();
        private["alg"] = json!("ECDH-ES");
        body["credential_response_encryption"] = json!({"jwk": private, "enc": "A128GCM"});
        let e = env
            .issuer
            .credential_reply(Some(&bearer), None, body.to_string().as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters", "private jwk");
        let mut body = body_with_response_encryption(&p, &wallet, "ECDH-ES", "A128GCM");
        body["credential_response_encryption"]["zip"] = json!("DEF");
        let e = env
            .issuer
            .credential_reply(Some(&bearer), None, body.to_string().as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters", "zip");
        // None of these refusals spent the nonce.
        let CredentialReply::Json(r) = env
            .issuer
            .credential_reply(
                Some(&bearer),
                None,
                request("pid", &[p]).to_string().as_bytes(),
            )
            .await
            .unwrap()
        else {
            panic!()
        };
        assert_eq!(r.status(), 200);
    }

    #[tokio::test]
    async fn required_encryption_and_deferred_replies() {
        let (env, issuer_key) = encrypted_env(true, true);
        let token = env.anonymous_token(&["pid"]).await;
        let bearer = format!("Bearer {token}");
        let wallet = enc_key("w", "ECDH-ES");
        let nonce = env.nonce().await;
        // Unencrypted request, or no response encryption: refused.
        let e = env
            .credential(&token, request("pid", &[proof(&holder(), &nonce)]))
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters");
        let body =
            body_with_response_encryption(&proof(&holder(), &nonce), &wallet, "ECDH-ES", "A256GCM");
        let e = env
            .issuer
            .credential_reply(Some(&bearer), None, body.to_string().as_bytes())
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_encryption_parameters");
        let public = issuer_key.to_public().unwrap();
        let seal = |v: &Value| {
            encrypt_compact(
                v.to_string().as_bytes(),
                &public,
                Alg::EcdhEs,
                Enc::A256Gcm,
                idforge_jose::Header::new(),
            )
            .unwrap()
        };
        let reply = env
            .issuer
            .credential_reply(
                Some(&bearer),
                Some("application/jwt"),
                seal(&body).as_bytes(),
            )
            .await
            .unwrap();
        let policy = JwePolicy::new([Alg::EcdhEs], [Enc::A256Gcm]);
        let CredentialReply::Encrypted { status, jwe } = reply else {
            panic!()
        };
        assert_eq!(status, 202);
        let v: Value = serde_json::from_slice(
            &policy
                .decrypt_compact(&jwe, &KeySet::new(vec![wallet.clone()]))
                .unwrap()
                .plaintext,
        )
        .unwrap();
        let tx = v["transaction_id"].as_str().unwrap().to_owned();
        env.clock.advance(5);
        let mut jwk = wallet.public_jwk().unwrap().to_value();
        jwk["alg"] = json!("ECDH-ES");
        let deferred = json!({"transaction_id": tx, "credential_response_encryption": {"jwk": jwk, "enc": "A256GCM"}});
        let reply = env
            .issuer
            .deferred_credential_reply(
                Some(&bearer),
                Some("application/jwt"),
                seal(&deferred).as_bytes(),
            )
            .await
            .unwrap();
        let CredentialReply::Encrypted { status, jwe } = reply else {
            panic!()
        };
        assert_eq!(status, 200);
        let v: Value = serde_json::from_slice(
            &policy
                .decrypt_compact(&jwe, &KeySet::new(vec![wallet]))
                .unwrap()
                .plaintext,
        )
        .unwrap();
        assert!(v["credentials"][0]["credential"].is_string());
    }
}
