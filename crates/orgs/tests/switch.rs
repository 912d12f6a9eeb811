//! The organization switch grant through oauth-core's token endpoint: claims and narrowed
//! scopes, refresh, chained switches, every refusal with its error, and email-domain discovery
//! that routes but never grants membership.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_jose::{
    crypto::EcCurve, FixedClock, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet, KeySpec,
    LocalSigner,
};
use idforge_oauth_core::grant::{ClientCredentialsGrant, PasswordGrant};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, OsRng, Provider, TokenResponse};
use idforge_orgs::discovery::{self, DiscoveryRequest};
use idforge_orgs::hierarchy::{self, NewOrganization};
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
use idforge_orgs::sharing::{self, OrgShare, SharePolicy};
use idforge_orgs::{
    Application, IdentityKind, OrgHome, OrgId, OrgSettings, OrgStatus, OrganizationParameter,
    OrganizationSwitchGrant, Resident, Role, RoleStore, SharedWith, SharingStore,
};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;

struct Env {
    provider: Provider,
    orgs: Arc<MemoryOrganizationStore>,
    sharing: Arc<MemorySharingStore>,
    key: Key,
}

fn id(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

async fn env() -> Env {
    let orgs = Arc::new(MemoryOrganizationStore::new("Root"));
    let sharing = Arc::new(MemorySharingStore::new());
    let roles = Arc::new(MemoryRoleStore::new());
    let rng = OsRng::new();
    for (o, p) in [
        ("a", "root"),
        ("a1", "a"),
        ("a11", "a1"),
        ("a111", "a11"),
        ("b", "root"),
    ] {
        let mut new = NewOrganization::new(format!("Org {o}"), o)
            .with_id(id(o))
            .with_parent(id(p));
        if o == "b" {
            let mut s = OrgSettings::default();
            s.email_domains_discovery = Some(true);
            new = new.with_email_domains(["b.example"]).with_settings(s);
        }
        hierarchy::create(orgs.as_ref(), &rng, &new).await.unwrap();
    }
    for u in ["alice", "bob"] {
        sharing
            .set_resident(u, Resident::new(OrgId::root(), IdentityKind::User))
            .await
            .unwrap();
    }
    sharing::share(
        orgs.as_ref(),
        sharing.as_ref(),
        "alice",
        &[OrgShare::new(
            id("a1"),
            SharePolicy::SelectedOrgWithAllExistingAndFutureChildren,
            vec!["editor".into()],
        )],
    )
    .await
    .unwrap();
    for o in ["a1", "a11", "a111"] {
        roles
            .define_role(&id(o), Role::new("editor", ["orders:write"]))
            .await
            .unwrap();
    }
    sharing
        .put_application(Application::new("app", OrgId::root()).with_shared_with(SharedWith::All))
        .await
        .unwrap();
    sharing
        .put_application(Application::new("local", OrgId::root()))
        .await
        .unwrap();
    let home = OrgHome::new(orgs.clone(), sharing.clone(), roles.clone(), OrgId::root());
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    for u in ["alice", "bob"] {
        users.add_user(u, "pw", Map::new(), &rng).unwrap();
    }
    let mut config = Config::new("https://op.example")
        .with_grant_type("password")
        .with_grant_type("organization_switch");
    config
        .scopes_supported
        .extend(["orders:read".to_owned(), "orders:write".to_owned()]);
    let grants = [
        "password",
        "refresh_token",
        "organization_switch",
        "client_credentials",
    ];
    let clients = MemoryClientStore::with_clients([
        Client::confidential("app", "app-secret").with_grant_types(grants),
        Client::confidential("local", "local-secret").with_grant_types(grants),
    ]);
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let provider = Provider::builder(config)
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users.clone())
        .passwords(users)
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(Arc::new(FixedClock::new(NOW)))
        .grant_handler(Arc::new(OrganizationSwitchGrant::new(home.clone())))
        .grant_handler(Arc::new(OrganizationParameter::new(
            Arc::new(PasswordGrant),
            home.clone(),
        )))
        .grant_handler(Arc::new(OrganizationParameter::new(
            Arc::new(ClientCredentialsGrant),
            home,
        )))
        .build()
        .unwrap();
    Env {
        provider,
        orgs,
        sharing,
        key,
    }
}

async fn token(
    env: &Env,
    client: &str,
    body: &str,
) -> Result<TokenResponse, idforge_oauth_core::Error> {
    let body = format!("{body}&client_id={client}&client_secret={client}-secret");
    env.provider.token.handle_form(body.as_bytes(), None).await
}

async fn login(env: &Env, client: &str, user: &str) -> String {
    token(env, client, &format!("grant_type=password&username={user}&password=pw&scope=openid%20orders:read%20orders:write"))
        .await
        .unwrap()
        .access_token
}

async fn switch(
    env: &Env,
    client: &str,
    at: &str,
    org: &str,
) -> Result<TokenResponse, idforge_oauth_core::Error> {
    token(
        env,
        client,
        &format!("grant_type=organization_switch&token={at}&switching_organization={org}"),
    )
    .await
}

fn claims(env: &Env, jwt: &str) -> Value {
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &KeySet::new(vec![env.key.to_public().unwrap()]))
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

#[tokio::test]
async fn a_shared_user_switches_and_gets_the_organizations_claims_and_roles() {
    let env = env().await;
    let at = login(&env, "app", "alice").await;
    assert!(claims(&env, &at).get("org_id").is_none());
    let r = switch(&env, "app", &at, "a11").await.unwrap();
    let c = claims(&env, &r.access_token);
    assert_eq!(c["sub"], "alice");
    assert_eq!(c["org_id"], "a11");
    assert_eq!(c["org_name"], "Org a11");
    assert_eq!(c["org_handle"], "a11");
    assert_eq!(c["user_org"], "root");
    assert_eq!(c["roles"], json!(["editor"]));
    // Narrowed to what the role grants (identity scopes kept).
    assert_eq!(c["scope"], "openid orders:write");
    let id_token = claims(&env, r.id_token.as_deref().unwrap());
    assert_eq!(
        (id_token["org_id"].clone(), id_token["roles"].clone()),
        (json!("a11"), json!(["editor"]))
    );
    // Refresh keeps the organization.
    let refreshed = token(
        &env,
        "app",
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            r.refresh_token.unwrap()
        ),
    )
    .await
    .unwrap();
    assert_eq!(claims(&env, &refreshed.access_token)["org_id"], "a11");
    // From a11 further down, but never up or sideways.
    let deeper = switch(&env, "app", &r.access_token, "a111").await.unwrap();
    assert_eq!(claims(&env, &deeper.access_token)["org_id"], "a111");
    assert_eq!(
        switch(&env, "app", &r.access_token, "a1")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    assert_eq!(
        switch(&env, "app", &r.access_token, "a11")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    // A requested scope beyond the token's is refused.
    let e = token(&env, "app", &format!("grant_type=organization_switch&token={at}&switching_organization=a11&scope=openid%20profile")).await;
    assert_eq!(e.unwrap_err().code(), "invalid_scope");
    let disc = env.provider.discovery.metadata().await.unwrap();
    assert!(disc["grant_types_supported"]
        .as_array()
        .unwrap()
        .iter()
        .any(|g| g == "organization_switch"));
}

#[tokio::test]
async fn every_refusal_has_its_error() {
    let env = env().await;
    let at = login(&env, "app", "alice").await;
    // Unknown organization, missing parameters: invalid_request.
    for body in [
        format!("grant_type=organization_switch&token={at}&switching_organization=nowhere"),
        format!("grant_type=organization_switch&token={at}&switching_organization=a%2Fb"),
        format!("grant_type=organization_switch&token={at}"),
        "grant_type=organization_switch&switching_organization=a1".to_owned(),
    ] {
        assert_eq!(
            token(&env, "app", &body).await.unwrap_err().code(),
            "invalid_request",
            "{body}"
        );
    }
    // Not a descendant (a sibling subtree, from a switched token).
    let in_a11 = switch(&env, "app", &at, "a11").await.unwrap().access_token;
    assert_eq!(
        switch(&env, "app", &in_a11, "b").await.unwrap_err().code(),
        "invalid_grant"
    );
    // The user is not shared there.
    assert_eq!(
        switch(&env, "app", &at, "b").await.unwrap_err().code(),
        "invalid_grant"
    );
    let bob = login(&env, "app", "bob").await;
    assert_eq!(
        switch(&env, "app", &bob, "a1").await.unwrap_err().code(),
        "invalid_grant"
    );
    // The application is not shared with the target.
    let local = login(&env, "local", "alice").await;
    assert_eq!(
        switch(&env, "local", &local, "a1")
            .await
            .unwrap_err()
            .code(),
        "unauthorized_client"
    );
    // Another client's token; a garbage token.
    assert_eq!(
        switch(&env, "local", &at, "a1").await.unwrap_err().code(),
        "invalid_grant"
    );
    assert_eq!(
        switch(&env, "app", "garbage", "a1")
            .await
            .unwrap_err()
            .code(),
        "invalid_grant"
    );
    // A disabled organization, or one below a disabled ancestor.
    hierarchy::set_status(env.orgs.as_ref(), &id("a1"), OrgStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(
        switch(&env, "app", &at, "a1").await.unwrap_err().code(),
        "invalid_grant"
    );
    assert_eq!(
        switch(&env, "app", &at, "a11").await.unwrap_err().code(),
        "invalid_grant"
    );
    hierarchy::set_status(env.orgs.as_ref(), &id("a1"), OrgStatus::Active)
        .await
        .unwrap();
    assert!(switch(&env, "app", &at, "a11").await.is_ok());
    // Unshared afterwards: refused again.
    sharing::unshare(env.sharing.as_ref(), "alice", &[id("a1"), id("a11")])
        .await
        .unwrap();
    assert_eq!(
        switch(&env, "app", &at, "a11").await.unwrap_err().code(),
        "invalid_grant"
    );
}

#[tokio::test]
async fn email_domain_discovery_routes_but_never_grants_membership() {
    let env = env().await;
    let req = DiscoveryRequest::from_params([
        ("login_hint", "bob@B.example"),
        ("orgDiscoveryType", "emailDomain"),
    ])
    .unwrap()
    .unwrap();
    let found = discovery::discover(env.orgs.as_ref(), &req).await.unwrap();
    assert_eq!(found.organization.id, id("b"));
    // bob's email domain matched b, yet bob is not a member of b and cannot switch there.
    let m = sharing::resolve(env.orgs.as_ref(), env.sharing.as_ref(), "bob", &id("b"))
        .await
        .unwrap();
    assert!(!m.is_member());
    assert!(env.sharing.shares("bob").await.unwrap().is_empty());
    let bob = login(&env, "app", "bob").await;
    assert_eq!(
        switch(&env, "app", &bob, "b").await.unwrap_err().code(),
        "invalid_grant"
    );
    // Where email-domain discovery is off (the default), the domain finds nothing.
    let mut a = env.orgs.get(&id("a")).await.unwrap().unwrap();
    a = a.with_email_domains(["a.example"]).unwrap();
    use idforge_orgs::OrganizationStore;
    env.orgs.update(a).await.unwrap();
    let req = DiscoveryRequest::from_params([
        ("login_hint", "x@a.example"),
        ("orgDiscoveryType", "emailDomain"),
    ])
    .unwrap()
    .unwrap();
    assert!(discovery::discover(env.orgs.as_ref(), &req).await.is_err());
    // By id, handle, name; fidp home realm; a disabled organization is not discovered.
    let mut b = env.orgs.get(&id("b")).await.unwrap().unwrap();
    b = b.with_home_realm("corp", "b-okta");
    env.orgs.update(b).await.unwrap();
    for params in [
        [("orgId", "b"), ("fidp", "corp")],
        [("orgHandle", "b"), ("fidp", "corp")],
        [("org", "Org b"), ("fidp", "corp")],
    ] {
        let req = DiscoveryRequest::from_params(params).unwrap().unwrap();
        let d = discovery::discover(env.orgs.as_ref(), &req).await.unwrap();
        assert_eq!(
            (d.organization.id.as_str(), d.identity_provider.as_deref()),
            ("b", Some("b-okta"))
        );
    }
    hierarchy::set_status(env.orgs.as_ref(), &id("b"), OrgStatus::Disabled)
        .await
        .unwrap();
    let req = DiscoveryRequest::from_params([("orgId", "b")])
        .unwrap()
        .unwrap();
    assert!(discovery::discover(env.orgs.as_ref(), &req).await.is_err());
}

#[tokio::test]
async fn the_organization_parameter_gets_tokens_for_a_sub_organization_directly() {
    let env = env().await;
    let body = "grant_type=password&username=alice&password=pw&scope=openid%20orders:write%20orders:read&organization=a11";
    let r = token(&env, "app", body).await.unwrap();
    let c = claims(&env, &r.access_token);
    assert_eq!(
        (
            c["org_id"].clone(),
            c["user_org"].clone(),
            c["roles"].clone()
        ),
        (json!("a11"), json!("root"), json!(["editor"]))
    );
    assert_eq!(c["scope"], "openid orders:write");
    assert_eq!(
        claims(&env, r.id_token.as_deref().unwrap())["org_id"],
        "a11"
    );
    // Without the parameter the built-in grant answers, unchanged.
    let plain = token(
        &env,
        "app",
        "grant_type=password&username=alice&password=pw&scope=openid",
    )
    .await
    .unwrap();
    assert!(claims(&env, &plain.access_token).get("org_id").is_none());
    // Refusals: not a member, unknown, application not shared, disabled, wrong password.
    let e = |b: &'static str, client: &'static str| {
        let env = &env;
        async move { token(env, client, b).await.unwrap_err().code() }
    };
    assert_eq!(
        e(
            "grant_type=password&username=bob&password=pw&organization=a1",
            "app"
        )
        .await,
        "invalid_grant"
    );
    assert_eq!(
        e(
            "grant_type=password&username=alice&password=pw&organization=nowhere",
            "app"
        )
        .await,
        "invalid_request"
    );
    assert_eq!(
        e(
            "grant_type=password&username=alice&password=pw&organization=a1",
            "local"
        )
        .await,
        "unauthorized_client"
    );
    assert_eq!(
        e(
            "grant_type=password&username=alice&password=no&organization=a1",
            "app"
        )
        .await,
        "invalid_grant"
    );
    hierarchy::set_status(env.orgs.as_ref(), &id("a"), OrgStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(
        e(
            "grant_type=password&username=alice&password=pw&organization=a11",
            "app"
        )
        .await,
        "invalid_grant"
    );
    hierarchy::set_status(env.orgs.as_ref(), &id("a"), OrgStatus::Active)
        .await
        .unwrap();
    // Client credentials: the organization's claims, no user.
    let r = token(
        &env,
        "app",
        "grant_type=client_credentials&scope=orders:read&organization=b",
    )
    .await
    .unwrap();
    let c = claims(&env, &r.access_token);
    assert_eq!(
        (c["org_id"].clone(), c["sub"].clone()),
        (json!("b"), json!("app"))
    );
    assert!(c.get("user_org").is_none());
    assert_eq!(
        e("grant_type=client_credentials&organization=b", "local").await,
        "unauthorized_client"
    );
}
