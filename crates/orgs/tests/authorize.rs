//! Organization claims on authorization-code tokens through a real oauth-core provider's
//! authorization and token endpoints: at a self-issuing organization's own issuer, and at the
//! root with the `organization` parameter (the switch grant's rules, refusals redirected with
//! the authorization endpoint's registered codes); device-code and CIBA grants at the
//! organization's issuer.
#![allow(clippy::unwrap_used)]

use std::sync::Arc;

use idforge_jose::{
    crypto::EcCurve, FixedClock, JwsAlgorithm, JwsPolicy, Key, KeyRing, KeySet, KeySpec,
    LocalSigner,
};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{
    AuthorizationResponse, Client, Config, Interaction, OsRng, Provider, Session, TokenResponse,
};
use idforge_orgs::hierarchy::{self, NewOrganization};
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
use idforge_orgs::sharing::{self, OrgShare, SharePolicy};
use idforge_orgs::{
    Application, IdentityKind, OrgHome, OrgId, OrgStatus, OrganizationAuthorization, Resident,
    Role, RoleStore, SharedWith, SharingStore,
};
use serde_json::{json, Map, Value};

const NOW: i64 = 1_800_000_000;
const CB: &str = "https://rp.example/cb";

struct Op {
    provider: Provider,
    key: Key,
}

struct Env {
    root: Op,
    org_a: Op,
    orgs: Arc<MemoryOrganizationStore>,
}

fn id(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

fn op(
    issuer: &str,
    home: OrgId,
    clients: &[&str],
    stores: (
        &Arc<MemoryOrganizationStore>,
        &Arc<MemorySharingStore>,
        &Arc<MemoryRoleStore>,
    ),
    users: &Arc<MemoryUserStore>,
) -> Op {
    let mut config = Config::new(issuer);
    config
        .scopes_supported
        .extend(["orders:read".to_owned(), "orders:write".to_owned()]);
    let clients = MemoryClientStore::with_clients(clients.iter().map(|c| {
        Client::confidential(*c, &format!("{c}-secret"))
            .with_grant_types(["authorization_code", "refresh_token"])
            .with_redirect_uri(CB)
            .with_consent_implied()
    }));
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let provider = Provider::builder(config)
        .clients(Arc::new(clients))
        .grants(Arc::new(MemoryGrantStore::new()))
        .claims(users.clone())
        .keys(Arc::new(KeyRing::new(
            LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap(),
        )))
        .clock(Arc::new(FixedClock::new(NOW)))
        .authorization_extension(Arc::new(OrganizationAuthorization::new(OrgHome::new(
            stores.0.clone(),
            stores.1.clone(),
            stores.2.clone(),
            home,
        ))))
        .build()
        .unwrap();
    Op { provider, key }
}

/// root → a (self-issuing) → a1; root → b. alice (root) is shared into a1 as editor; bob
/// (root) is shared nowhere; carol is resident in a. `app` (root) is shared with all, `local`
/// (root) with none, `a-app` is a's own.
async fn env() -> Env {
    let orgs = Arc::new(MemoryOrganizationStore::new("Root"));
    let sharing = Arc::new(MemorySharingStore::new());
    let roles = Arc::new(MemoryRoleStore::new());
    let rng = OsRng::new();
    for (o, p) in [("a", "root"), ("a1", "a"), ("b", "root")] {
        let new = NewOrganization::new(format!("Org {o}"), o)
            .with_id(id(o))
            .with_parent(id(p));
        hierarchy::create(orgs.as_ref(), &rng, &new).await.unwrap();
    }
    for (u, o) in [("alice", "root"), ("bob", "root"), ("carol", "a")] {
        sharing
            .set_resident(u, Resident::new(id(o), IdentityKind::User))
            .await
            .unwrap();
    }
    sharing::share(
        orgs.as_ref(),
        sharing.as_ref(),
        "alice",
        &[OrgShare::new(
            id("a1"),
            SharePolicy::SelectedOrgOnly,
            vec!["editor".into()],
        )],
    )
    .await
    .unwrap();
    roles
        .define_role(&id("a1"), Role::new("editor", ["orders:write"]))
        .await
        .unwrap();
    for app in [
        Application::new("app", OrgId::root()).with_shared_with(SharedWith::All),
        Application::new("local", OrgId::root()),
        Application::new("a-app", id("a")),
    ] {
        sharing.put_application(app).await.unwrap();
    }
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    for u in ["alice", "bob", "carol"] {
        users.add_user(u, "pw", Map::new(), &rng).unwrap();
    }
    let stores = (&orgs, &sharing, &roles);
    Env {
        root: op(
            "https://op.example",
            OrgId::root(),
            &["app", "local"],
            stores,
            &users,
        ),
        org_a: op(
            "https://op.example/o/a",
            id("a"),
            &["a-app"],
            stores,
            &users,
        ),
        orgs,
    }
}

fn query(client: &str, organization: Option<&str>) -> String {
    let mut q = format!(
        "response_type=code&client_id={client}&redirect_uri=https%3A%2F%2Frp.example%2Fcb\
         &scope=openid%20orders%3Aread%20orders%3Awrite&state=s1&nonce=n1"
    );
    if let Some(o) = organization {
        q.push_str(&format!("&organization={o}"));
    }
    q
}

/// The authorization endpoint's redirect for `user` (already logged in).
async fn authorize(op: &Op, client: &str, user: &str, org: Option<&str>) -> AuthorizationResponse {
    let session = Session::new(user, NOW - 5);
    let i = op
        .provider
        .authorization
        .start(query(client, org).as_bytes(), Some(&session))
        .await;
    let Interaction::Redirect(r) = i else {
        panic!("expected a redirect, got {i:?}")
    };
    assert_eq!(r.param("state"), Some("s1"));
    r
}

async fn token(op: &Op, client: &str, body: &str) -> TokenResponse {
    let body = format!("{body}&client_id={client}&client_secret={client}-secret");
    op.provider
        .token
        .handle_form(body.as_bytes(), None)
        .await
        .unwrap()
}

async fn code_flow(op: &Op, client: &str, user: &str, org: Option<&str>) -> TokenResponse {
    let r = authorize(op, client, user, org).await;
    let code = r.param("code").expect("a code");
    token(
        op,
        client,
        &format!(
            "grant_type=authorization_code&code={code}&redirect_uri=https%3A%2F%2Frp.example%2Fcb"
        ),
    )
    .await
}

fn claims(op: &Op, jwt: &str) -> Value {
    let v = JwsPolicy::new([JwsAlgorithm::ES256])
        .verify_compact(jwt, &KeySet::new(vec![op.key.to_public().unwrap()]))
        .unwrap();
    serde_json::from_slice(&v.payload).unwrap()
}

#[tokio::test]
async fn an_organizations_own_issuer_scopes_every_code_to_it() {
    let env = env().await;
    let t = code_flow(&env.org_a, "a-app", "carol", None).await;
    let at = claims(&env.org_a, &t.access_token);
    assert_eq!(at["iss"], "https://op.example/o/a");
    assert_eq!(at["sub"], "carol");
    assert_eq!(at["org_id"], "a");
    assert_eq!(at["org_name"], "Org a");
    assert_eq!(at["org_handle"], "a");
    assert_eq!(at["user_org"], "a");
    assert_eq!(at["roles"], json!([]));
    // The organization's own client keeps the scopes it was granted.
    assert_eq!(at["scope"], "openid orders:read orders:write");
    let idt = claims(&env.org_a, t.id_token.as_deref().unwrap());
    assert_eq!(
        (idt["org_id"].clone(), idt["nonce"].clone()),
        (json!("a"), json!("n1"))
    );
    // Refresh keeps the organization.
    let refreshed = token(
        &env.org_a,
        "a-app",
        &format!(
            "grant_type=refresh_token&refresh_token={}",
            t.refresh_token.unwrap()
        ),
    )
    .await;
    assert_eq!(claims(&env.org_a, &refreshed.access_token)["org_id"], "a");
    // Below it with the parameter: alice is shared into a1, but a's own client is not.
    let r = authorize(&env.org_a, "a-app", "alice", Some("a1")).await;
    assert_eq!(r.param("error"), Some("unauthorized_client"));
    // Outside it: unknown there.
    let r = authorize(&env.org_a, "a-app", "carol", Some("b")).await;
    assert_eq!(r.param("error"), Some("invalid_request"));
}

#[tokio::test]
async fn the_root_without_the_parameter_issues_no_organization_claims() {
    let env = env().await;
    let t = code_flow(&env.root, "app", "alice", None).await;
    let at = claims(&env.root, &t.access_token);
    assert!(at.get("org_id").is_none());
    assert_eq!(at["scope"], "openid orders:read orders:write");
}

#[tokio::test]
async fn the_organization_parameter_scopes_the_code_like_a_switch() {
    let env = env().await;
    let t = code_flow(&env.root, "app", "alice", Some("a1")).await;
    let at = claims(&env.root, &t.access_token);
    assert_eq!(at["org_id"], "a1");
    assert_eq!(at["org_name"], "Org a1");
    assert_eq!(at["user_org"], "root");
    assert_eq!(at["roles"], json!(["editor"]));
    // Narrowed to what the role grants there (identity scopes kept).
    assert_eq!(at["scope"], "openid orders:write");
    assert_eq!(t.scope.as_deref(), Some("openid orders:write"));
    let idt = claims(&env.root, t.id_token.as_deref().unwrap());
    assert_eq!(idt["roles"], json!(["editor"]));
}

#[tokio::test]
async fn refusals_are_redirected_with_registered_codes() {
    let env = env().await;
    // RFC 6749 §4.1.2.1: a user who is not a member there is refused after the login.
    let r = authorize(&env.root, "app", "bob", Some("a1")).await;
    assert_eq!(r.param("error"), Some("access_denied"));
    assert!(r.param("code").is_none());
    // The checks that need no user run before the login page is shown.
    let i = env
        .root
        .provider
        .authorization
        .start(query("local", Some("a1")).as_bytes(), None)
        .await;
    let Interaction::Redirect(r) = i else {
        panic!("expected a redirect, got {i:?}")
    };
    assert_eq!(r.param("error"), Some("unauthorized_client"));
    for unknown in ["zzz", "a%2Fb"] {
        let r = authorize(&env.root, "app", "alice", Some(unknown)).await;
        assert_eq!(r.param("error"), Some("invalid_request"), "{unknown}");
    }
    // A disabled ancestor disables the organization.
    hierarchy::set_status(env.orgs.as_ref(), &id("a"), OrgStatus::Disabled)
        .await
        .unwrap();
    let r = authorize(&env.root, "app", "alice", Some("a1")).await;
    assert_eq!(r.param("error"), Some("access_denied"));
    let r = authorize(&env.org_a, "a-app", "carol", None).await;
    assert_eq!(r.param("error"), Some("access_denied"));
}

/// Device-code and CIBA grants (oauth-core's `shape_decoupled_grant`): scoped to the
/// organization at its own issuer, with the same checks as its codes; unscoped at the root.
#[tokio::test]
async fn decoupled_grants_at_an_organizations_issuer_carry_it() {
    const DEVICE: &str = "urn:ietf:params:oauth:grant-type:device_code";
    let env = env().await;
    let grant = |user: &str| {
        idforge_oauth_core::Grant::new(
            "g1",
            "a-app",
            idforge_oauth_core::Scopes::from_values(["openid"]),
            NOW,
            NOW + 3600,
        )
        .with_subject(user)
    };
    let shape = |op: &Op, client: &'static str, user: &'static str| {
        let ctx = op.provider.ctx.clone();
        let mut g = grant(user);
        async move {
            let client = Client::confidential(client, "x");
            idforge_oauth_core::grant::shape_decoupled_grant(&ctx, &client, DEVICE, &mut g)
                .await
                .map(|()| g)
        }
    };
    // carol is resident in a: a's claims in the access and the ID token.
    let g = shape(&env.org_a, "a-app", "carol").await.unwrap();
    let at = g.contents.access_token_claims();
    assert_eq!(at["org_id"], "a");
    assert_eq!(at["org_handle"], "a");
    assert_eq!(at["user_org"], "a");
    assert_eq!(at["roles"], json!([]));
    assert_eq!(g.contents.id_token_claims(), at);
    // alice is shared into a1 only, bob nowhere: not members of a.
    for user in ["alice", "bob"] {
        let e = shape(&env.org_a, "a-app", user).await.unwrap_err();
        assert_eq!(e.code(), "access_denied", "{user}");
    }
    // An application not usable in a.
    let e = shape(&env.org_a, "local", "carol").await.unwrap_err();
    assert_eq!(e.code(), "unauthorized_client");
    // At the root there is no organization to scope to.
    let g = shape(&env.root, "app", "alice").await.unwrap();
    assert!(g.contents.is_empty());
    // A disabled organization issues nothing.
    hierarchy::set_status(env.orgs.as_ref(), &id("a"), OrgStatus::Disabled)
        .await
        .unwrap();
    let e = shape(&env.org_a, "a-app", "carol").await.unwrap_err();
    assert_eq!(e.code(), "access_denied");
}
