//! The Rust `openidconnect` crate (v4) as the relying party, in process: its HTTP client is a
//! closure calling `Provider::handle_http`, so every request and response goes through the same
//! `http` types a real host would see. It discovers the provider, runs authorization code +
//! PKCE, validates the ID token (signature via JWKS, nonce, at_hash), calls UserInfo, refreshes,
//! and gets a client-credentials token.

use std::convert::Infallible;
use std::sync::Arc;

use idforge_jose::{
    crypto::EcCurve, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner, SystemClock,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, Interaction, OsRng, Provider, Session};
use openidconnect::core::{CoreClient, CoreProviderMetadata, CoreResponseType, CoreUserInfoClaims};
use openidconnect::{
    AccessTokenHash, AuthenticationFlow, AuthorizationCode, ClientId, ClientSecret, CsrfToken,
    HttpRequest, HttpResponse, IssuerUrl, Nonce, OAuth2TokenResponse, PkceCodeChallenge,
    RedirectUrl, Scope, TokenResponse,
};

const ISSUER: &str = "https://op.example";
const REDIRECT: &str = "https://rp.example/cb";

fn provider() -> Arc<Provider> {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let key = Key::from_jwk(key.jwk().clone().with_kid("op-key")).unwrap();
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    let claims =
        serde_json::json!({"name": "Alice", "email": "alice@example.com", "email_verified": true});
    users
        .add_user(
            "alice",
            "pw",
            claims.as_object().cloned().unwrap(),
            &OsRng::new(),
        )
        .unwrap();
    let clients = MemoryClientStore::with_clients([Client::confidential("rp", "rp secret/+:")
        .with_redirect_uri(REDIRECT)
        .with_grant_types(["authorization_code", "refresh_token", "client_credentials"])
        .with_consent_implied()]);
    Arc::new(
        Provider::builder(Config::new(ISSUER))
            .clients(Arc::new(clients))
            .grants(Arc::new(MemoryGrantStore::new()))
            .claims(users)
            .keys(Arc::new(KeyRing::new(
                LocalSigner::new(key, JwsAlgorithm::ES256).unwrap(),
            )))
            .clock(Arc::new(SystemClock))
            .build()
            .unwrap(),
    )
}

#[tokio::test]
async fn openidconnect_crate_completes_code_flow_with_pkce() {
    let op = provider();
    let http_client = {
        let op = op.clone();
        move |req: HttpRequest| {
            let op = op.clone();
            async move {
                assert_eq!(req.uri().host(), Some("op.example"), "in-process only");
                let resp = op.handle_http(req).await.unwrap_or_else(|_| {
                    let mut r = HttpResponse::new(b"not found".to_vec());
                    *r.status_mut() = http::StatusCode::NOT_FOUND;
                    r
                });
                Ok::<HttpResponse, Infallible>(resp)
            }
        }
    };

    let metadata =
        CoreProviderMetadata::discover_async(IssuerUrl::new(ISSUER.into()).unwrap(), &http_client)
            .await
            .unwrap();
    let client = CoreClient::from_provider_metadata(
        metadata,
        ClientId::new("rp".into()),
        Some(ClientSecret::new("rp secret/+:".into())),
    )
    .set_redirect_uri(RedirectUrl::new(REDIRECT.into()).unwrap());

    let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
    let (auth_url, csrf, nonce) = client
        .authorize_url(
            AuthenticationFlow::<CoreResponseType>::AuthorizationCode,
            CsrfToken::new_random,
            Nonce::new_random,
        )
        .add_scope(Scope::new("email".into()))
        .add_scope(Scope::new("profile".into()))
        .set_pkce_challenge(challenge)
        .url();
    assert!(auth_url
        .as_str()
        .starts_with(&format!("{ISSUER}/authorize?")));

    // The browser leg: the user is logged in as alice.
    let query = auth_url.query().unwrap_or_default();
    let Interaction::Redirect(response) = op
        .authorization
        .start(query.as_bytes(), Some(&Session::new("alice", 0)))
        .await
    else {
        panic!("expected a redirect");
    };
    assert_eq!(response.param("state"), Some(csrf.secret().as_str()));
    let code = response.param("code").unwrap().to_owned();

    let tokens = client
        .exchange_code(AuthorizationCode::new(code))
        .unwrap()
        .set_pkce_verifier(verifier)
        .request_async(&http_client)
        .await
        .unwrap();
    let id_token = tokens.id_token().expect("an ID token");
    let id_verifier = client.id_token_verifier();
    let claims = id_token
        .claims(&id_verifier, &nonce)
        .expect("ID token validates");
    assert_eq!(claims.subject().as_str(), "alice");
    assert_eq!(claims.issuer().as_str(), ISSUER);
    let expected = claims.access_token_hash().expect("at_hash");
    let actual = AccessTokenHash::from_token(
        tokens.access_token(),
        id_token.signing_alg().unwrap(),
        id_token.signing_key(&id_verifier).unwrap(),
    )
    .unwrap();
    assert_eq!(&actual, expected);

    let info: CoreUserInfoClaims = client
        .user_info(
            tokens.access_token().to_owned(),
            Some(claims.subject().clone()),
        )
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(info.email().map(|e| e.as_str()), Some("alice@example.com"));

    // Refresh (rotation): a new refresh token and a new ID token for the same subject.
    let refreshed = client
        .exchange_refresh_token(tokens.refresh_token().unwrap())
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap();
    assert_ne!(
        refreshed.refresh_token().unwrap().secret(),
        tokens.refresh_token().unwrap().secret()
    );
    let again = refreshed.id_token().unwrap();
    let claims = again
        .claims(&id_verifier, |_: Option<&Nonce>| Ok(()))
        .expect("refreshed ID token validates");
    assert_eq!(claims.subject().as_str(), "alice");

    // Client credentials.
    let cc = client
        .exchange_client_credentials()
        .unwrap()
        .add_scope(Scope::new("profile".into()))
        .request_async(&http_client)
        .await
        .unwrap();
    assert_eq!(cc.token_type().as_ref(), "bearer");
    assert!(cc.refresh_token().is_none());

    // A second redemption of a spent code is refused with invalid_grant.
    let err = client
        .exchange_code(AuthorizationCode::new(
            response.param("code").unwrap().to_owned(),
        ))
        .unwrap()
        .request_async(&http_client)
        .await
        .unwrap_err();
    assert!(format!("{err:?}").contains("invalid_grant"), "{err:?}");
}
