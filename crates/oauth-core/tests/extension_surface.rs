//! The extension surface other crates build on (ciba, oid4vci, orgs, the device and
//! token-exchange grants), exercised from outside the crate through its public API only:
//! a grant that shapes its tokens (`act`, audience, `authorization_details`, lifetime, ID-token
//! claims) and speaks its own error codes, discovery members, client metadata, public minting
//! and validation, single-use artifacts of other kinds, anonymous grants, client-assertion
//! audiences of other endpoints, and repeated `audience` / `resource` parameters.
#![allow(clippy::unwrap_used)]

mod common;

use std::sync::Arc;

use async_trait::async_trait;
use common::{basic, urlencode, ISSUER, NOW};
use idforge_jose::{
    crypto::EcCurve, FixedClock, Header, JwkSet, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet,
    KeySpec, LocalSigner,
};
use idforge_oauth_core::grant::GrantHandler;
use idforge_oauth_core::issue::{issue_token_response, persists, IssueOptions};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::records::{ConsumeOutcome, ACCESS_TOKEN_OWN_CLAIMS};
use idforge_oauth_core::{
    resolve_access_token, verify_own_jwt, AuthorizationExtension, AuthorizationRequest, Client,
    Config, Context, DiscoveryContributor, Error, Grant, GrantStore, Interaction, OsRng, Provider,
    Scopes, Session, TokenContents, TokenHash, TokenKind, TokenPersistence, TokenRecord,
    TokenRequest, TokenResponse,
};
use serde_json::{json, Map, Value};

const DELEGATION: &str = "urn:example:params:grant-type:delegation";
const ARTIFACT: &str = "urn:example:params:grant-type:artifact";
const BACKCHANNEL: &str = "https://op.example/bc-authorize";

/// A token-exchange-like grant written outside oauth-core: the client acts for `subject`
/// through `actor`, for the `audience` values its registration allows.
struct DelegationGrant;

#[async_trait]
impl GrantHandler for DelegationGrant {
    fn grant_type(&self) -> &str {
        DELEGATION
    }

    async fn handle(
        &self,
        ctx: &Context,
        client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        let subject = req.params.require("subject")?;
        let actor = req.params.require("actor")?;
        // The grant reads its own registration member, kept by the ClientStore.
        let allowed = client
            .metadata("delegation_audiences")
            .and_then(Value::as_array)
            .cloned()
            .unwrap_or_default();
        let mut contents = TokenContents::new().with_access_token_ttl(120);
        for aud in req.params.get_all("audience") {
            if !allowed.iter().any(|a| a == aud) {
                // RFC 8693 §2.2.2 `invalid_target`, with an extra member.
                return Err(
                    Error::protocol("invalid_target", 400, "the audience is not allowed")
                        .with_member("allowed_audiences", Value::Array(allowed)),
                );
            }
            contents = contents.with_audience(aud.clone());
        }
        contents.add_access_token_claim("act", json!({ "sub": actor }))?;
        let details: Value = serde_json::from_str(req.params.require("authorization_details")?)
            .map_err(|_| Error::protocol("invalid_authorization_details", 400, "not JSON"))?;
        contents.add_access_token_claim("authorization_details", details)?;
        contents.add_id_token_claim("delegated", json!(true))?;
        let now = ctx.now();
        let id = format!(
            "delegation-{subject}-{}",
            req.params.get("n").unwrap_or("0")
        );
        let grant = Grant::new(
            id,
            client.client_id.clone(),
            Scopes::from_values(["openid"]),
            now,
            now + 3600,
        )
        .with_subject(subject)
        .with_authentication(now, None, vec!["delegation".into()])
        .with_contents(contents);
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        let options = IssueOptions::new().refresh_token(true).id_token(true);
        issue_token_response(ctx, client, &grant, &grant.scopes, options).await
    }

    fn discovery(&self, _config: &Config, metadata: &mut Map<String, Value>) {
        metadata.insert("delegation_supported".into(), json!(true));
        // A grant cannot replace a member the provider owns.
        metadata.insert("issuer".into(), json!("https://forged.example"));
    }
}

/// A grant redeeming a single-use artifact of its own kind (a device code, an `auth_req_id`, a
/// pre-authorized code), also anonymously.
struct ArtifactGrant;

impl ArtifactGrant {
    async fn redeem(&self, ctx: &Context, req: &TokenRequest) -> Result<TokenResponse, Error> {
        let code = req.params.require("artifact")?;
        let kind = TokenKind::Artifact(ARTIFACT.into());
        let (_, grant) = match ctx
            .grants
            .consume(&TokenHash::of(code), kind, ctx.now())
            .await?
        {
            ConsumeOutcome::Consumed(record, grant) => (record, grant),
            _ => return Err(Error::InvalidGrant("artifact invalid or spent".into())),
        };
        let client = ctx
            .clients
            .client(&grant.client_id)
            .await?
            .ok_or_else(|| Error::InvalidGrant("client gone".into()))?;
        issue_token_response(ctx, &client, &grant, &grant.scopes, IssueOptions::new()).await
    }
}

#[async_trait]
impl GrantHandler for ArtifactGrant {
    fn grant_type(&self) -> &str {
        ARTIFACT
    }
    async fn handle(
        &self,
        ctx: &Context,
        _client: &Client,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        self.redeem(ctx, req).await
    }
    async fn handle_anonymous(
        &self,
        ctx: &Context,
        req: &TokenRequest,
    ) -> Result<TokenResponse, Error> {
        self.redeem(ctx, req).await
    }
}

/// RFC 9396 rich authorization requests for the code flow: `authorization_details` of type
/// `payment_initiation` and RFC 8707 `resource`, checked at the authorization endpoint and
/// carried into the grant's tokens.
struct PaymentDetails;

#[async_trait]
impl AuthorizationExtension for PaymentDetails {
    fn parameters(&self) -> Vec<&'static str> {
        vec!["authorization_details", "resource"]
    }

    async fn check(&self, _client: &Client, request: &AuthorizationRequest) -> Result<(), Error> {
        let Some(text) = request.extension_param("authorization_details") else {
            return Ok(());
        };
        let bad = |why: &str| Error::protocol("invalid_authorization_details", 400, why);
        let details: Vec<Value> =
            serde_json::from_str(text).map_err(|_| bad("not a JSON array"))?;
        // RFC 9396 §5: unknown types are refused.
        if details.iter().any(|d| d["type"] != "payment_initiation") {
            return Err(bad("unsupported type"));
        }
        Ok(())
    }

    async fn shape_grant(
        &self,
        _client: &Client,
        request: &AuthorizationRequest,
        grant: &mut Grant,
    ) -> Result<(), Error> {
        if let Some(text) = request.extension_param("authorization_details") {
            let details: Value = serde_json::from_str(text)
                .map_err(|_| Error::InvalidRequest("authorization_details".into()))?;
            grant
                .contents
                .add_access_token_claim("authorization_details", details)?;
        }
        for resource in request
            .extension_params
            .get("resource")
            .into_iter()
            .flatten()
        {
            grant.contents = grant.contents.clone().with_audience(resource.clone());
        }
        Ok(())
    }
}

/// A crate serving its own endpoint publishes it in discovery.
struct Backchannel;

impl DiscoveryContributor for Backchannel {
    fn contribute(&self, _config: &Config, metadata: &mut Map<String, Value>) {
        metadata.insert(
            "backchannel_authentication_endpoint".into(),
            json!(BACKCHANNEL),
        );
    }
}

struct Op {
    provider: Provider,
    grants: Arc<MemoryGrantStore>,
    op_key: Key,
    client_key: Key,
}

fn op(persistence: TokenPersistence) -> Op {
    let op_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let client_key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let client_key = Key::from_jwk(client_key.jwk().clone().with_kid("agent-1")).unwrap();
    let agent = Client::confidential("agent", "agent-secret")
        .with_grant_types([DELEGATION, ARTIFACT, "refresh_token", "client_credentials"])
        .with_metadata(
            "delegation_audiences",
            json!(["https://rs1.example", "https://rs2.example"]),
        );
    // A registration member other crates define survives the store's serialization.
    let stored: Client = serde_json::from_value(serde_json::to_value(&agent).unwrap()).unwrap();
    assert_eq!(stored, agent);
    let jwt_client = Client::private_key_jwt(
        "signed",
        JwkSet {
            keys: vec![client_key.public_jwk().unwrap()],
        },
    )
    .with_grant_types(["client_credentials"]);
    jwt_client.validate().unwrap();
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user("alice", "pw", Map::new(), &OsRng::new())
        .unwrap();
    let grants = Arc::new(MemoryGrantStore::new());
    let provider = Provider::builder(Config::new(ISSUER).with_token_persistence(persistence))
        .clients(Arc::new(MemoryClientStore::with_clients([
            stored,
            jwt_client,
            Client::confidential("web", "web-secret").with_redirect_uri("https://rp.example/cb"),
            Client::confidential("shop", "shop-secret")
                .with_redirect_uri("https://shop.example/cb")
                .with_consent_implied(),
        ])))
        .grants(grants.clone())
        .claims(users)
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(op_key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(Arc::new(FixedClock::new(NOW)))
        .grant_handler(Arc::new(DelegationGrant))
        .grant_handler(Arc::new(ArtifactGrant))
        .discovery_contributor(Arc::new(Backchannel))
        .authorization_extension(Arc::new(PaymentDetails))
        .client_assertion_audience(BACKCHANNEL)
        .build()
        .unwrap();
    Op {
        provider,
        grants,
        op_key,
        client_key,
    }
}

fn claims_of(op: &Op, jwt: &str) -> Value {
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &KeySet::new(vec![op.op_key.to_public().unwrap()]))
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

fn delegation_body(n: u32) -> String {
    format!(
        "grant_type={}&subject=alice&actor=agent-7&audience={}&audience={}&authorization_details={}&n={n}",
        urlencode(DELEGATION),
        urlencode("https://rs1.example"),
        urlencode("https://rs2.example"),
        urlencode(r#"[{"type":"payment_initiation","amount":"10.00"}]"#),
    )
}

async fn token(op: &Op, body: &str) -> Result<TokenResponse, Error> {
    op.provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("agent", "agent-secret")))
        .await
}

async fn introspect(op: &Op, token: &str) -> Value {
    op.provider
        .introspection
        .handle_form(
            format!("token={}", urlencode(token)).as_bytes(),
            Some(&basic("web", "web-secret")),
        )
        .await
        .unwrap()
}

/// What the grant put in must show in `v`, an access token's claims or its introspection.
fn assert_shaped(v: &Value) {
    assert_eq!(
        v["aud"],
        json!(["https://rs1.example", "https://rs2.example"]),
        "{v}"
    );
    assert_eq!(v["act"], json!({"sub": "agent-7"}), "{v}");
    assert_eq!(
        v["authorization_details"][0]["type"], "payment_initiation",
        "{v}"
    );
    assert_eq!(v["sub"], "alice");
    assert_eq!(v["iss"], ISSUER);
    assert_eq!(v["client_id"], "agent");
}

async fn shaped_tokens_survive_refresh(persistence: TokenPersistence) {
    let op = op(persistence);
    let first = token(&op, &delegation_body(1)).await.unwrap();
    assert_eq!(first.token_type, "Bearer");
    assert_eq!(first.expires_in, 120, "the grant's access-token lifetime");
    let at = claims_of(&op, &first.access_token);
    assert_shaped(&at);
    assert_eq!(
        at["exp"].as_i64().unwrap() - at["iat"].as_i64().unwrap(),
        120
    );
    let id = claims_of(&op, first.id_token.as_deref().unwrap());
    assert_eq!(id["delegated"], true);
    assert_eq!(id["aud"], "agent", "the ID token's aud stays the client");
    assert_shaped(&introspect(&op, &first.access_token).await);
    let rt = introspect(&op, first.refresh_token.as_deref().unwrap()).await;
    assert_eq!(rt["token_type"], "refresh_token");
    assert_shaped(&rt);

    // Refresh: the same contents, in both persistence modes.
    let body = format!(
        "grant_type=refresh_token&refresh_token={}",
        urlencode(first.refresh_token.as_deref().unwrap())
    );
    let second = token(&op, &body).await.unwrap();
    assert_eq!(second.expires_in, 120);
    assert_shaped(&claims_of(&op, &second.access_token));
    assert_eq!(
        claims_of(&op, second.id_token.as_deref().unwrap())["delegated"],
        true
    );
    assert_shaped(&introspect(&op, &second.access_token).await);
    assert_shaped(&introspect(&op, second.refresh_token.as_deref().unwrap()).await);

    // Resource endpoints of other crates resolve the token to its grant and claims.
    let ctx = &op.provider.ctx;
    let info = resolve_access_token(ctx, &second.access_token)
        .await
        .unwrap();
    assert_eq!(info.subject.as_deref(), Some("alice"));
    assert_eq!(info.extra_claims()["act"]["sub"], "agent-7");
    assert_eq!(
        info.audience(ctx),
        ["https://rs1.example", "https://rs2.example"]
    );
    // The provider's own JWTs: an ID token checks as one, an access token does not.
    let id_token = second.id_token.as_deref().unwrap();
    assert_eq!(
        verify_own_jwt(ctx, id_token, "JWT").await.unwrap()["sub"],
        "alice"
    );
    let e = verify_own_jwt(ctx, &second.access_token, "JWT")
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_token");

    // Revoking the refresh token revokes the family; introspection says inactive.
    op.provider
        .revocation
        .handle_form(
            format!(
                "token={}",
                urlencode(second.refresh_token.as_deref().unwrap())
            )
            .as_bytes(),
            Some(&basic("agent", "agent-secret")),
        )
        .await
        .unwrap();
    assert_eq!(
        introspect(&op, &second.access_token).await,
        json!({"active": false})
    );
}

#[tokio::test]
async fn shaped_tokens_survive_refresh_when_stored() {
    shaped_tokens_survive_refresh(TokenPersistence::Stored).await;
}

#[tokio::test]
async fn shaped_tokens_survive_refresh_when_self_contained() {
    shaped_tokens_survive_refresh(TokenPersistence::SelfContained).await;
}

#[tokio::test]
async fn a_grant_speaks_its_own_error_codes() {
    let op = op(TokenPersistence::Stored);
    let body = delegation_body(2).replace(
        &urlencode("https://rs2.example"),
        &urlencode("https://elsewhere.example"),
    );
    let e = token(&op, &body).await.unwrap_err();
    assert_eq!(e.code(), "invalid_target");
    assert_eq!(e.status(), 400);
    let json = e.to_json();
    assert_eq!(json["error"], "invalid_target");
    assert_eq!(json["allowed_audiences"][0], "https://rs1.example");
    let body = delegation_body(3).replace(
        &urlencode(r#"[{"type":"payment_initiation","amount":"10.00"}]"#),
        "%7Bnot-json",
    );
    assert!(body.contains("authorization_details=%7Bnot-json"));
    assert_eq!(
        token(&op, &body).await.unwrap_err().code(),
        "invalid_authorization_details"
    );
}

#[test]
fn the_provider_owns_its_claims() {
    let mut contents = TokenContents::new();
    for owned in ACCESS_TOKEN_OWN_CLAIMS {
        assert!(
            contents.add_access_token_claim(owned, json!("x")).is_err(),
            "{owned}"
        );
    }
    for owned in [
        "iss", "sub", "aud", "exp", "iat", "nonce", "azp", "at_hash", "sid",
    ] {
        assert!(
            contents.add_id_token_claim(owned, json!("x")).is_err(),
            "{owned}"
        );
    }
    assert!(contents.is_empty());
    contents
        .add_access_token_claim("cnf", json!({"jkt": "x"}))
        .unwrap();
    assert!(!contents.is_empty());
}

#[tokio::test]
async fn discovery_gets_extension_members_but_keeps_its_own() {
    let op = op(TokenPersistence::Stored);
    let m = op.provider.discovery.metadata().await.unwrap();
    assert_eq!(m["delegation_supported"], true);
    assert_eq!(m["backchannel_authentication_endpoint"], BACKCHANNEL);
    assert_eq!(m["issuer"], ISSUER);
    let grants = m["grant_types_supported"].as_array().unwrap();
    assert!(grants.iter().any(|g| g == DELEGATION));
    // RFC 8414 §2: signing algorithms wherever private_key_jwt is listed.
    for endpoint in [
        "token_endpoint",
        "introspection_endpoint",
        "revocation_endpoint",
    ] {
        let methods = m[format!("{endpoint}_auth_methods_supported")]
            .as_array()
            .unwrap();
        assert!(methods.iter().any(|x| x == "private_key_jwt"), "{endpoint}");
        let algs = m[format!("{endpoint}_auth_signing_alg_values_supported")]
            .as_array()
            .unwrap();
        assert!(algs.iter().any(|a| a == "ES256"), "{endpoint}");
        assert!(!algs.iter().any(|a| a.as_str().unwrap().starts_with("HS")));
    }
}

/// Puts a single-use artifact of the extension's kind in the store; returns its secret.
async fn artifact(op: &Op, n: u32) -> String {
    let secret = format!("artifact-secret-{n}");
    let grant = Grant::new(
        format!("artifact-grant-{n}"),
        "agent",
        Scopes::from_values(["openid"]),
        NOW,
        NOW + 600,
    )
    .with_subject("alice");
    op.grants.create_grant(grant.clone()).await.unwrap();
    let record = TokenRecord::new(
        TokenHash::of(&secret),
        TokenKind::Artifact(ARTIFACT.into()),
        &grant,
        grant.scopes.clone(),
        NOW,
        NOW + 600,
    );
    op.grants.insert_token(record).await.unwrap();
    secret
}

#[tokio::test]
async fn an_artifact_is_spent_only_by_its_own_grant() {
    let op = op(TokenPersistence::Stored);
    let secret = artifact(&op, 1).await;
    // Another grant's redemption does not consume it...
    let body = format!("grant_type=authorization_code&code={secret}");
    let e = op
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("web", "web-secret")))
        .await;
    assert_eq!(e.unwrap_err().code(), "invalid_grant");
    // The store refuses to consume it as another kind, and leaves it untouched.
    let outcome = op
        .grants
        .consume(&TokenHash::of(&secret), TokenKind::AuthorizationCode, NOW)
        .await
        .unwrap();
    assert_eq!(outcome, ConsumeOutcome::NotFound);
    // ...so its own grant still can, once.
    let body = format!("grant_type={}&artifact={secret}", urlencode(ARTIFACT));
    let r = token(&op, &body).await.unwrap();
    assert_eq!(claims_of(&op, &r.access_token)["sub"], "alice");
    assert_eq!(token(&op, &body).await.unwrap_err().code(), "invalid_grant");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn an_artifact_is_redeemed_once_under_100_concurrent_attempts() {
    let op = Arc::new(op(TokenPersistence::Stored));
    let secret = artifact(&op, 2).await;
    let body = format!("grant_type={}&artifact={secret}", urlencode(ARTIFACT));
    let tasks: Vec<_> = (0..100)
        .map(|_| {
            let (op, body) = (op.clone(), body.clone());
            tokio::spawn(async move { token(&op, &body).await.is_ok() })
        })
        .collect();
    let mut wins = 0;
    for t in tasks {
        wins += usize::from(t.await.unwrap());
    }
    assert_eq!(wins, 1);
}

#[tokio::test]
async fn anonymous_requests_reach_only_grants_that_allow_them() {
    let op = op(TokenPersistence::Stored);
    let secret = artifact(&op, 3).await;
    let body = format!("grant_type={}&artifact={secret}", urlencode(ARTIFACT));
    // No credentials at all: the artifact grant accepts it (as OID4VCI's pre-authorized code
    // may)...
    let r = op
        .provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap();
    assert!(!r.access_token.is_empty());
    // ...other grants answer invalid_client.
    for body in ["grant_type=client_credentials", &delegation_body(9)] {
        let e = op
            .provider
            .token
            .handle_form(body.as_bytes(), None)
            .await
            .unwrap_err();
        assert_eq!(e.code(), "invalid_client", "{body}");
        assert_eq!(e.status(), 401);
    }
    // Presented credentials are still checked.
    let e = op
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("agent", "wrong")))
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}

#[tokio::test]
async fn client_assertions_may_name_other_endpoints() {
    let op = op(TokenPersistence::Stored);
    let signer = LocalSigner::new(op.client_key.clone(), JwsAlgorithm::ES256).unwrap();
    let assert_with = |aud: &str, jti: &str| {
        let claims = json!({
            "iss": "signed", "sub": "signed", "aud": aud, "exp": NOW + 60, "iat": NOW, "jti": jti
        });
        let a =
            idforge_jose::sign_jwt(Header::new(), claims.as_object().unwrap(), &signer).unwrap();
        format!(
            "grant_type=client_credentials&client_assertion_type={}&client_assertion={a}",
            urlencode(idforge_oauth_core::client_auth::JWT_BEARER_ASSERTION)
        )
    };
    // CIBA §7.1: the backchannel endpoint another crate serves; RFC 7523 §3: the issuer or an
    // endpoint of this provider.
    let accepted = [
        BACKCHANNEL.to_owned(),
        ISSUER.to_owned(),
        format!("{ISSUER}/token"),
        format!("{ISSUER}/introspect"),
        format!("{ISSUER}/revoke"),
        format!("{ISSUER}/par"),
    ];
    for (i, aud) in accepted.iter().enumerate() {
        let body = assert_with(aud, &format!("j{i}"));
        let r = op.provider.token.handle_form(body.as_bytes(), None).await;
        assert!(r.is_ok(), "{aud}: {r:?}");
    }
    let body = assert_with("https://elsewhere.example/token", "j-bad");
    let e = op
        .provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
    // A private_key_jwt client never authenticates with a secret.
    let body = "grant_type=client_credentials&client_id=signed&client_secret=x";
    let e = op
        .provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap_err();
    assert_eq!(e.code(), "invalid_client");
}

fn code_query(details: &str) -> String {
    format!(
        "response_type=code&client_id=shop&redirect_uri={}&scope=openid&state=s&authorization_details={}&resource={}&resource={}",
        urlencode("https://shop.example/cb"),
        urlencode(details),
        urlencode("https://bank.example/payments"),
        urlencode("https://bank.example/accounts"),
    )
}

#[tokio::test]
async fn authorization_extensions_shape_the_code_flow() {
    let op = op(TokenPersistence::Stored);
    let session = Session::new("alice", NOW - 5);
    let details =
        r#"[{"type":"payment_initiation","instructedAmount":{"currency":"EUR","amount":"12.00"}}]"#;
    let i = op
        .provider
        .authorization
        .start(code_query(details).as_bytes(), Some(&session))
        .await;
    let Interaction::Redirect(r) = i else {
        panic!("expected a redirect, got {i:?}")
    };
    let code = r.param("code").unwrap().to_owned();
    let body = format!(
        "grant_type=authorization_code&code={code}&redirect_uri={}",
        urlencode("https://shop.example/cb")
    );
    let t = op
        .provider
        .token
        .handle_form(body.as_bytes(), Some(&basic("shop", "shop-secret")))
        .await
        .unwrap();
    // RFC 9396 §7.1: the token response carries the granted details...
    assert_eq!(
        t.extra["authorization_details"][0]["instructedAmount"]["amount"],
        "12.00"
    );
    assert_eq!(
        t.to_json()["authorization_details"][0]["type"],
        "payment_initiation"
    );
    // ...and so does the access token, whose audience is the resources (RFC 8707 §2).
    let at = claims_of(&op, &t.access_token);
    assert_eq!(at["authorization_details"][0]["type"], "payment_initiation");
    assert_eq!(
        at["aud"],
        json!([
            "https://bank.example/payments",
            "https://bank.example/accounts"
        ])
    );
    assert_eq!(at["sub"], "alice");

    // RFC 9396 §5: an unsupported type is redirected to the client as
    // `invalid_authorization_details`.
    let i = op
        .provider
        .authorization
        .start(
            code_query(r#"[{"type":"unknown"}]"#).as_bytes(),
            Some(&session),
        )
        .await;
    let Interaction::Redirect(r) = i else {
        panic!("expected a redirect, got {i:?}")
    };
    assert_eq!(r.param("error"), Some("invalid_authorization_details"));
    assert_eq!(r.param("state"), Some("s"));
}
