//! Conformance suites for the three ports: the same checks against any implementation
//! (memory, SQL, a host's own). Hosts call [`run_all`] from a test:
//!
//! ```
//! # async fn demo() {
//! use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
//! idforge_orgs::testkit::run_all(
//!     &MemoryOrganizationStore::default(),
//!     &MemorySharingStore::new(),
//!     &MemoryRoleStore::new(),
//! )
//! .await;
//! # }
//! ```
//!
//! The organization store must hold the root organization. Every check uses fresh ids, so one
//! set of stores can run them all; each panics naming the rule it saw broken. Concurrency is
//! checked with 100 attempts polled together: one of many inserts of the same handle wins, and
//! opposite concurrent moves never make a cycle; concurrent share changes are never lost.

use idforge_oauth_core::testkit::{join_all, ok, BoxFuture};
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::OrgError;
use crate::model::{
    Application, IdentityKind, OrgId, OrgStatus, Organization, Reach, Resident, Role, ShareChange,
    ShareRule, SharedWith,
};
use crate::ports::{OrganizationStore, RoleStore, SharingStore};

static COUNTER: AtomicU64 = AtomicU64::new(0);

fn fresh(prefix: &str) -> String {
    let mut r = [0u8; 6];
    let _ = idforge_oauth_core::Rng::fill(&idforge_oauth_core::OsRng::new(), &mut r);
    let hex: String = r.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{}-{hex}", COUNTER.fetch_add(1, Ordering::Relaxed))
}

async fn child(store: &dyn OrganizationStore, parent: &Organization) -> Organization {
    let id = ok(OrgId::new(fresh("o")), "fresh id");
    let org = Organization::child_of(parent, id, "Testkit org", fresh("h"));
    ok(store.insert(org.clone()).await, "insert");
    org
}

async fn root(store: &dyn OrganizationStore) -> Organization {
    match ok(store.get(&OrgId::root()).await, "get root") {
        Some(r) => r,
        None => panic!("testkit: the organization store must hold the root organization"),
    }
}

/// Runs every suite.
pub async fn run_all(
    orgs: &dyn OrganizationStore,
    sharing: &dyn SharingStore,
    roles: &dyn RoleStore,
) {
    organization_store(orgs).await;
    sharing_store(orgs, sharing).await;
    role_store(roles).await;
}

/// The [`OrganizationStore`] suite.
pub async fn organization_store(store: &dyn OrganizationStore) {
    let root = root(store).await;
    let a = child(store, &root).await;
    let b = child(store, &a).await;
    let c = child(store, &b).await;
    let d = child(store, &c).await;
    // Lookups.
    assert_eq!(
        ok(store.get(&d.id).await, "get"),
        Some(d.clone()),
        "testkit: get returns the record"
    );
    assert_eq!(
        ok(store.by_handle(&c.handle).await, "by_handle").map(|o| o.id),
        Some(c.id.clone())
    );
    let many = ok(store.get_many(&d.ancestors).await, "get_many");
    assert_eq!(
        many.len(),
        4,
        "testkit: get_many returns every ancestor in one call"
    );
    let mut below: Vec<OrgId> = ok(store.descendants(&a.id).await, "descendants")
        .into_iter()
        .map(|o| o.id)
        .collect();
    below.sort();
    let mut want = vec![b.id.clone(), c.id.clone(), d.id.clone()];
    want.sort();
    assert_eq!(below, want, "testkit: descendants are the whole subtree");
    assert_eq!(ok(store.children(&a.id).await, "children").len(), 1);
    // Uniqueness.
    let dup = Organization::child_of(&root, a.id.clone(), "X", fresh("h"));
    assert_eq!(
        store.insert(dup).await,
        Err(OrgError::DuplicateId(a.id.clone()))
    );
    let dup = Organization::child_of(
        &root,
        ok(OrgId::new(fresh("o")), "id"),
        "X",
        a.handle.clone(),
    );
    assert!(
        matches!(store.insert(dup).await, Err(OrgError::DuplicateHandle(_))),
        "testkit: handles are unique"
    );
    let domain = format!("{}.example", fresh("d"));
    let with_domain = ok(
        Organization::child_of(&root, ok(OrgId::new(fresh("o")), "id"), "X", fresh("h"))
            .with_email_domains([&domain]),
        "domains",
    );
    ok(
        store.insert(with_domain.clone()).await,
        "insert with domain",
    );
    assert_eq!(
        ok(store.by_email_domain(&domain).await, "by_email_domain").map(|o| o.id),
        Some(with_domain.id.clone())
    );
    let clash = ok(
        Organization::child_of(&root, ok(OrgId::new(fresh("o")), "id"), "X", fresh("h"))
            .with_email_domains([&domain]),
        "domains",
    );
    assert!(matches!(
        store.insert(clash).await,
        Err(OrgError::DuplicateEmailDomain(_))
    ));
    // A missing parent.
    let ghost = Organization::child_of(
        &Organization::child_of(&root, ok(OrgId::new(fresh("g")), "id"), "G", "g"),
        ok(OrgId::new(fresh("o")), "id"),
        "X",
        fresh("h"),
    );
    assert!(matches!(
        store.insert(ghost).await,
        Err(OrgError::UnknownOrganization(_))
    ));
    // Update keeps id, path and status; renames re-index the handle.
    let mut renamed = c.clone();
    renamed.name = "Renamed".into();
    renamed.handle = fresh("h");
    renamed.ancestors = Vec::new();
    ok(store.update(renamed.clone()).await, "update");
    let got =
        ok(store.get(&c.id).await, "get").unwrap_or_else(|| panic!("testkit: updated record gone"));
    assert_eq!(
        (got.name.as_str(), &got.ancestors),
        ("Renamed", &c.ancestors)
    );
    assert!(
        ok(store.by_handle(&c.handle).await, "old handle").is_none(),
        "testkit: old handle freed"
    );
    // Status.
    ok(
        store.set_status(&b.id, OrgStatus::Disabled).await,
        "disable",
    );
    assert_eq!(
        ok(store.get(&b.id).await, "get").map(|o| o.status),
        Some(OrgStatus::Disabled)
    );
    ok(store.set_status(&b.id, OrgStatus::Active).await, "enable");
    // Move: the subtree's paths follow; a cycle is refused.
    let e = child(store, &root).await;
    let moved = ok(store.move_subtree(&b.id, &e.id).await, "move");
    assert_eq!(moved.ancestors, vec![root.id.clone(), e.id.clone()]);
    let d2 =
        ok(store.get(&d.id).await, "get").unwrap_or_else(|| panic!("testkit: moved record gone"));
    assert_eq!(
        d2.ancestors,
        vec![root.id.clone(), e.id.clone(), b.id.clone(), c.id.clone()],
        "testkit: a move rewrites the whole subtree's paths"
    );
    assert!(ok(store.descendants(&a.id).await, "descendants").is_empty());
    assert!(matches!(
        store.move_subtree(&b.id, &d.id).await,
        Err(OrgError::Cycle { .. })
    ));
    assert!(matches!(
        store.move_subtree(&b.id, &b.id).await,
        Err(OrgError::Cycle { .. })
    ));
    assert_eq!(
        store.move_subtree(&root.id, &a.id).await.err(),
        Some(OrgError::Root("moved"))
    );
    // Delete: empty only, unless cascading.
    assert_eq!(
        store.delete(&b.id, false).await,
        Err(OrgError::NotEmpty(b.id.clone()))
    );
    let mut gone = ok(store.delete(&b.id, true).await, "cascade delete");
    gone.sort();
    let mut want = vec![b.id.clone(), c.id.clone(), d.id.clone()];
    want.sort();
    assert_eq!(gone, want, "testkit: cascade deletes the subtree");
    assert!(ok(store.get(&d.id).await, "get").is_none());
    assert_eq!(
        ok(store.delete(&a.id, false).await, "delete leaf"),
        vec![a.id.clone()]
    );
    concurrent_handles(store, 100).await;
    concurrent_moves(store, 100).await;
}

/// `n` concurrent inserts of organizations sharing one handle: exactly one wins.
pub async fn concurrent_handles(store: &dyn OrganizationStore, n: usize) {
    let root = root(store).await;
    let handle = fresh("h");
    let futures: Vec<BoxFuture<'_, bool>> = (0..n)
        .map(|_| {
            let org = Organization::child_of(
                &root,
                OrgId::new(fresh("o")).unwrap_or_else(|_| OrgId::root()),
                "C",
                handle.clone(),
            );
            Box::pin(async move { store.insert(org).await.is_ok() }) as BoxFuture<'_, bool>
        })
        .collect();
    let wins = join_all(futures).await.into_iter().filter(|w| *w).count();
    assert_eq!(
        wins, 1,
        "testkit: exactly one concurrent insert of a handle must win"
    );
}

/// `n` concurrent opposite moves of two siblings (x under y, y under x): the tree stays a tree.
pub async fn concurrent_moves(store: &dyn OrganizationStore, n: usize) {
    let root = root(store).await;
    let x = child(store, &root).await;
    let y = child(store, &root).await;
    let futures: Vec<BoxFuture<'_, ()>> = (0..n)
        .map(|i| {
            let (from, to) = if i % 2 == 0 {
                (x.id.clone(), y.id.clone())
            } else {
                (y.id.clone(), x.id.clone())
            };
            Box::pin(async move {
                let _ = store.move_subtree(&from, &to).await;
            }) as BoxFuture<'_, ()>
        })
        .collect();
    join_all(futures).await;
    let x2 = ok(store.get(&x.id).await, "get").unwrap_or_else(|| panic!("testkit: x gone"));
    let y2 = ok(store.get(&y.id).await, "get").unwrap_or_else(|| panic!("testkit: y gone"));
    assert!(
        !(x2.is_below(&y.id) && y2.is_below(&x.id)),
        "testkit: concurrent moves made a cycle"
    );
    assert!(
        x2.is_below(&root.id) && y2.is_below(&root.id),
        "testkit: moves lost the root"
    );
}

/// The [`SharingStore`] suite (`orgs` provides organizations to share into).
pub async fn sharing_store(orgs: &dyn OrganizationStore, store: &dyn SharingStore) {
    let root = root(orgs).await;
    let a = child(orgs, &root).await;
    let b = child(orgs, &a).await;
    let user = fresh("user");
    // No residency, no shares.
    assert!(matches!(
        store.apply(&user, ShareChange::new()).await,
        Err(OrgError::UnknownUser(_))
    ));
    ok(
        store
            .set_resident(&user, Resident::new(root.id.clone(), IdentityKind::User))
            .await,
        "resident",
    );
    assert_eq!(
        ok(store.resident(&user).await, "resident").map(|r| r.org),
        Some(root.id.clone())
    );
    assert!(ok(store.residents_in(&root.id, 1000).await, "residents_in").contains(&user));
    // Moving residency re-indexes.
    ok(
        store
            .set_resident(&user, Resident::new(a.id.clone(), IdentityKind::Agent))
            .await,
        "move resident",
    );
    assert!(!ok(store.residents_in(&root.id, 1000).await, "residents_in").contains(&user));
    assert_eq!(
        ok(store.residents_in(&a.id, 10).await, "residents_in"),
        vec![user.clone()]
    );
    // Apply: removals then additions, atomically.
    let mut c = ShareChange::new();
    c.add_explicit.insert(b.id.clone(), vec!["r1".into()]);
    c.add_rules.push(ShareRule::new(
        a.id.clone(),
        Reach::Descendants,
        vec!["r2".into()],
    ));
    let got = ok(store.apply(&user, c).await, "apply");
    assert_eq!(got.explicit.get(&b.id), Some(&vec!["r1".to_owned()]));
    assert_eq!(
        ok(store.shares(&user).await, "shares"),
        got,
        "testkit: apply returns what is stored"
    );
    let mut c = ShareChange::new();
    c.remove_explicit.insert(b.id.clone());
    c.add_excluded.insert(b.id.clone());
    let got = ok(store.apply(&user, c).await, "apply");
    assert!(got.explicit.is_empty() && got.excluded.contains(&b.id) && got.rules.len() == 1);
    // Concurrent changes to one user's shares are never lost.
    let targets: Vec<OrgId> = (0..100)
        .map(|_| OrgId::new(fresh("t")).unwrap_or_else(|_| OrgId::root()))
        .collect();
    let futures: Vec<BoxFuture<'_, bool>> = targets
        .iter()
        .map(|t| {
            let mut c = ShareChange::new();
            c.add_explicit.insert(t.clone(), Vec::new());
            let user = user.clone();
            Box::pin(async move { store.apply(&user, c).await.is_ok() }) as BoxFuture<'_, bool>
        })
        .collect();
    assert!(join_all(futures).await.into_iter().all(|x| x));
    let got = ok(store.shares(&user).await, "shares");
    assert!(
        targets.iter().all(|t| got.explicit.contains_key(t)),
        "testkit: a concurrent share change was lost"
    );
    // Applications.
    let app = Application::new(fresh("app"), a.id.clone())
        .with_shared_with(SharedWith::Selected([b.id.clone()].into()));
    ok(store.put_application(app.clone()).await, "put_application");
    assert_eq!(
        ok(store.application(&app.client_id).await, "application"),
        Some(app.clone())
    );
    // Forgetting deleted organizations.
    let removed = ok(
        store
            .forget_organizations(&[a.id.clone(), b.id.clone()])
            .await,
        "forget",
    );
    assert_eq!(
        removed,
        vec![user.clone()],
        "testkit: residents of deleted organizations are returned"
    );
    assert!(ok(store.resident(&user).await, "resident").is_none());
    assert!(ok(store.application(&app.client_id).await, "application").is_none());
    ok(store.remove_user(&user).await, "remove_user");
}

/// The [`RoleStore`] suite.
pub async fn role_store(store: &dyn RoleStore) {
    let org = ok(OrgId::new(fresh("o")), "id");
    let other = ok(OrgId::new(fresh("o")), "id");
    ok(
        store
            .define_role(&org, Role::new("viewer", ["orders:read"]))
            .await,
        "define",
    );
    ok(
        store
            .define_role(&org, Role::new("editor", ["orders:read", "orders:write"]))
            .await,
        "define",
    );
    let got = ok(
        store.roles(&org, &["editor".into(), "nope".into()]).await,
        "roles",
    );
    assert_eq!(got.len(), 1, "testkit: unknown role names are left out");
    assert_eq!(got[0].scopes, ["orders:read", "orders:write"]);
    assert!(
        ok(store.roles(&other, &["editor".into()]).await, "roles").is_empty(),
        "testkit: roles are per organization"
    );
    assert_eq!(ok(store.all_roles(&org).await, "all_roles").len(), 2);
    ok(
        store.assign(&org, "u", vec!["viewer".into()]).await,
        "assign",
    );
    assert_eq!(ok(store.assigned(&org, "u").await, "assigned"), ["viewer"]);
    assert!(ok(store.assigned(&other, "u").await, "assigned").is_empty());
    ok(
        store.forget_organizations(std::slice::from_ref(&org)).await,
        "forget",
    );
    assert!(ok(store.all_roles(&org).await, "all_roles").is_empty());
    assert!(ok(store.assigned(&org, "u").await, "assigned").is_empty());
}
