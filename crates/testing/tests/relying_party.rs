//! Example: a relying party's tests with the `openidconnect` crate. `TestProvider` serves
//! several issuers on a random loopback port; for each, the RP discovers the provider over
//! HTTP, sends the browser to the authorization endpoint (the test scripts who logs in),
//! redeems the code with PKCE, verifies the ID token against the JWKS it fetched, and calls
//! UserInfo.
#![allow(clippy::unwrap_used)]

use axum::body::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::TokioIo;
use idforge_jose::JwsAlgorithm;
use idforge_testing::{Consent, IssuerSpec, ScriptedLogin, TestProvider};
use openidconnect::core::{
    CoreAuthenticationFlow, CoreClient, CoreJwsSigningAlgorithm, CoreProviderMetadata,
    CoreUserInfoClaims,
};
use openidconnect::{
    AccessTokenHash, AuthorizationCode, ClientId, ClientSecret, CsrfToken, IssuerUrl, Nonce,
    OAuth2TokenResponse, PkceCodeChallenge, RedirectUrl, Scope, TokenResponse,
};
use serde_json::json;

/// An HTTP/1.1 client over a tokio socket, in the shape `openidconnect` takes (any
/// `Fn(HttpRequest) -> Future<Output = Result<HttpResponse, E>>`).
#[derive(Debug)]
struct HttpError(String);

impl std::fmt::Display for HttpError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for HttpError {}

async fn http(req: openidconnect::HttpRequest) -> Result<openidconnect::HttpResponse, HttpError> {
    let e = |x: &dyn std::fmt::Display| HttpError(x.to_string());
    let uri = req.uri().clone();
    let host = uri.host().ok_or_else(|| e(&"no host"))?.to_owned();
    let port = uri.port_u16().unwrap_or(80);
    let stream = tokio::net::TcpStream::connect((host.as_str(), port))
        .await
        .map_err(|x| e(&x))?;
    let (mut sender, conn) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
        .await
        .map_err(|x| e(&x))?;
    tokio::spawn(conn);
    let (mut parts, body) = req.into_parts();
    parts.headers.insert(
        hyper::header::HOST,
        format!("{host}:{port}").parse().map_err(|x| e(&x))?,
    );
    // Origin-form request target (RFC 9112 §3.2.1).
    parts.uri = uri
        .path_and_query()
        .map(|p| p.as_str())
        .unwrap_or("/")
        .parse()
        .map_err(|x| e(&x))?;
    let req = hyper::Request::from_parts(parts, Full::new(Bytes::from(body)));
    let resp = sender.send_request(req).await.map_err(|x| e(&x))?;
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.map_err(|x| e(&x))?.to_bytes().to_vec();
    Ok(hyper::Response::from_parts(parts, bytes))
}

/// What a browser does with the authorization URL: one GET, reading the redirect.
async fn browser_follow(url: &str) -> (u16, Option<url::Url>) {
    let req = hyper::Request::get(url).body(Vec::new()).unwrap();
    let resp = http(req).await.unwrap();
    let location = resp
        .headers()
        .get(hyper::header::LOCATION)
        .map(|v| url::Url::parse(v.to_str().unwrap()).unwrap());
    (resp.status().as_u16(), location)
}

fn param(url: &url::Url, name: &str) -> Option<String> {
    url.query_pairs()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
}

/// The RP's redirect URI: a confidential client's is matched exactly (RFC 9700 §4.1.3), so
/// it is registered with the issuer.
const CALLBACK: &str = "http://127.0.0.1:8765/callback";

fn spec(path: &str, alg: JwsAlgorithm) -> IssuerSpec {
    IssuerSpec::new(path)
        .with_algorithm(alg)
        .with_redirect_uri(CALLBACK)
}

#[tokio::test]
async fn openidconnect_runs_a_full_code_flow_against_each_issuer() {
    let idp = TestProvider::builder()
        .seed(33)
        // openidconnect checks ID token times against the system clock.
        .start_at_system_time()
        .issuer(spec("ed", JwsAlgorithm::EdDSA))
        .issuer(spec("ec", JwsAlgorithm::ES256))
        .issuer(spec("rsa", JwsAlgorithm::RS256))
        .serve()
        .await
        .unwrap();
    for (path, alg) in [
        ("ed", CoreJwsSigningAlgorithm::EdDsa),
        ("ec", CoreJwsSigningAlgorithm::EcdsaP256Sha256),
        ("rsa", CoreJwsSigningAlgorithm::RsaSsaPkcs1V15Sha256),
    ] {
        let issuer = idp.issuer_at(path).unwrap();
        issuer.login_as(ScriptedLogin::user("alice"));

        let metadata = CoreProviderMetadata::discover_async(
            IssuerUrl::new(issuer.issuer().into()).unwrap(),
            &http,
        )
        .await
        .unwrap();
        let client = CoreClient::from_provider_metadata(
            metadata,
            ClientId::new(idforge_testing::TEST_CLIENT_ID.into()),
            Some(ClientSecret::new(
                idforge_testing::TEST_CLIENT_SECRET.into(),
            )),
        )
        .set_redirect_uri(RedirectUrl::new(CALLBACK.into()).unwrap());
        let (challenge, verifier) = PkceCodeChallenge::new_random_sha256();
        let (auth_url, csrf, nonce) = client
            .authorize_url(
                CoreAuthenticationFlow::AuthorizationCode,
                CsrfToken::new_random,
                Nonce::new_random,
            )
            .add_scope(Scope::new("email".into()))
            .add_scope(Scope::new("profile".into()))
            .set_pkce_challenge(challenge)
            .url();

        let (status, location) = browser_follow(auth_url.as_str()).await;
        assert_eq!(status, 303, "{path}");
        let location = location.unwrap();
        assert_eq!(location.port(), Some(8765));
        assert_eq!(
            param(&location, "state").as_deref(),
            Some(csrf.secret().as_str())
        );
        assert_eq!(param(&location, "iss").as_deref(), Some(issuer.issuer()));
        let code = param(&location, "code").unwrap();

        let tokens = client
            .exchange_code(AuthorizationCode::new(code))
            .unwrap()
            .set_pkce_verifier(verifier)
            .request_async(&http)
            .await
            .unwrap();
        let id_token = tokens.id_token().unwrap();
        let verifier = client.id_token_verifier().set_allowed_algs([alg.clone()]);
        let claims = id_token.claims(&verifier, &nonce).unwrap();
        assert_eq!(claims.subject().as_str(), "alice");
        assert_eq!(
            claims.email().map(|e| e.as_str()),
            Some("alice@example.com")
        );
        // OIDC Core §3.1.3.8: at_hash binds the access token.
        let expected = claims.access_token_hash().unwrap();
        let actual = AccessTokenHash::from_token(
            tokens.access_token(),
            id_token.signing_alg().unwrap(),
            id_token.signing_key(&verifier).unwrap(),
        )
        .unwrap();
        assert_eq!(expected, &actual, "{path}");

        let userinfo: CoreUserInfoClaims = client
            .user_info(tokens.access_token().clone(), None)
            .unwrap()
            .request_async(&http)
            .await
            .unwrap();
        assert_eq!(userinfo.subject().as_str(), "alice");

        // The next login refuses consent: the RP receives access_denied on its redirect URI.
        issuer.login_as(ScriptedLogin::user("alice").with_consent(Consent::Deny));
        let (status, location) = browser_follow(auth_url.as_str()).await;
        assert_eq!(status, 303);
        assert_eq!(
            param(&location.unwrap(), "error").as_deref(),
            Some("access_denied")
        );
    }
    // The keys the RP fetched are the issuers' own: three different ones.
    let kids: Vec<_> = idp
        .issuers()
        .iter()
        .map(|i| i.current_kid().unwrap())
        .collect();
    assert_eq!(json!(kids).as_array().unwrap().len(), 3);
    assert!(kids[0] != kids[1] && kids[1] != kids[2]);
}
