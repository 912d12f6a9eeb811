//! Every sharing policy on a tree of depth 4, before and after organizations are added, moved
//! and disabled; unsharing; roles per organization; the "only below the resident" rule.
#![allow(clippy::unwrap_used)]

use std::collections::BTreeSet;

use idforge_oauth_core::OsRng;
use idforge_orgs::hierarchy::{self, NewOrganization};
use idforge_orgs::memory::{MemoryOrganizationStore, MemorySharingStore};
use idforge_orgs::sharing::{self, Membership, OrgShare, SharePolicy};
use idforge_orgs::{
    IdentityKind, OrgError, OrgId, OrgStatus, OrganizationStore, Resident, SharingStore,
};

struct Env {
    orgs: MemoryOrganizationStore,
    sharing: MemorySharingStore,
}

fn id(s: &str) -> OrgId {
    OrgId::new(s).unwrap()
}

async fn add(env: &Env, name: &str, parent: &str) {
    let new = NewOrganization::new(name.to_uppercase(), name)
        .with_id(id(name))
        .with_parent(id(parent));
    hierarchy::create(&env.orgs, &OsRng::new(), &new)
        .await
        .unwrap();
}

/// root → a → a1 → a11 → a111 (depth 4), a → a2, root → b → b1; user `u` resident at root.
async fn env() -> Env {
    let env = Env {
        orgs: MemoryOrganizationStore::new("Root"),
        sharing: MemorySharingStore::new(),
    };
    for (o, p) in [
        ("a", "root"),
        ("a1", "a"),
        ("a11", "a1"),
        ("a111", "a11"),
        ("a2", "a"),
        ("b", "root"),
        ("b1", "b"),
    ] {
        add(&env, o, p).await;
    }
    env.sharing
        .set_resident("u", Resident::new(OrgId::root(), IdentityKind::User))
        .await
        .unwrap();
    env
}

const UNIVERSE: [&str; 10] = ["a", "a1", "a11", "a111", "a2", "b", "b1", "n1", "n2", "n3"];

async fn shared(env: &Env) -> BTreeSet<&'static str> {
    let mut out = BTreeSet::new();
    for o in UNIVERSE {
        if env.orgs.get(&id(o)).await.unwrap().is_none() {
            continue;
        }
        if let Membership::Shared { roles } = sharing::resolve(&env.orgs, &env.sharing, "u", &id(o))
            .await
            .unwrap()
        {
            assert_eq!(roles, ["member"], "{o}: the share's roles");
            out.insert(o);
        }
    }
    out
}

fn set(items: &[&'static str]) -> BTreeSet<&'static str> {
    items.iter().copied().collect()
}

/// Shares by `policy` at `anchor`, then checks the shared set initially (`s0`), after adding
/// n1 under a1, n2 under a111 and n3 under a (`s1`), after moving b1 under a1 and a111 (with
/// n2) under b (`s2`), and after disabling a1 (membership unchanged, a1's subtree unusable).
async fn lifecycle(
    policy: SharePolicy,
    anchor: &str,
    s0: &[&'static str],
    s1: &[&'static str],
    s2: &[&'static str],
) {
    let env = env().await;
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[OrgShare::new(id(anchor), policy, vec!["member".into()])],
    )
    .await
    .unwrap();
    assert_eq!(
        shared(&env).await,
        set(s0),
        "{policy:?}: existing organizations"
    );
    add(&env, "n1", "a1").await;
    add(&env, "n2", "a111").await;
    add(&env, "n3", "a").await;
    assert_eq!(
        shared(&env).await,
        set(s1),
        "{policy:?}: after organizations were added"
    );
    hierarchy::move_to(&env.orgs, &id("b1"), &id("a1"))
        .await
        .unwrap();
    hierarchy::move_to(&env.orgs, &id("a111"), &id("b"))
        .await
        .unwrap();
    assert_eq!(
        env.orgs.get(&id("n2")).await.unwrap().unwrap().ancestors,
        [id("root"), id("b"), id("a111")]
    );
    assert_eq!(
        shared(&env).await,
        set(s2),
        "{policy:?}: after organizations were moved"
    );
    hierarchy::set_status(&env.orgs, &id("a1"), OrgStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(
        shared(&env).await,
        set(s2),
        "{policy:?}: disabling keeps the shares"
    );
    for o in ["a1", "a11", "n1", "b1"] {
        let org = env.orgs.get(&id(o)).await.unwrap().unwrap();
        assert_eq!(
            hierarchy::require_active(&env.orgs, &org).await,
            Err(OrgError::Disabled(id("a1"))),
            "{o} is unusable below a disabled a1"
        );
    }
    let a2 = env.orgs.get(&id("a2")).await.unwrap().unwrap();
    assert!(hierarchy::require_active(&env.orgs, &a2).await.is_ok());
    hierarchy::set_status(&env.orgs, &id("a1"), OrgStatus::Active)
        .await
        .unwrap();
    let a11 = env.orgs.get(&id("a11")).await.unwrap().unwrap();
    assert!(hierarchy::require_active(&env.orgs, &a11).await.is_ok());
}

#[tokio::test]
async fn all_existing_orgs_only() {
    let existing = ["a1", "a11", "a111", "a2"];
    // A snapshot: later organizations never join; a111 keeps its share after moving away.
    lifecycle(
        SharePolicy::AllExistingOrgsOnly,
        "a",
        &existing,
        &existing,
        &existing,
    )
    .await;
}

#[tokio::test]
async fn all_existing_and_future_orgs() {
    lifecycle(
        SharePolicy::AllExistingAndFutureOrgs,
        "a",
        &["a1", "a11", "a111", "a2"],
        &["a1", "a11", "a111", "a2", "n1", "n2", "n3"],
        // b1 moved in; a111 and n2 moved out.
        &["a1", "a11", "a2", "b1", "n1", "n3"],
    )
    .await;
}

#[tokio::test]
async fn immediate_existing_orgs_only() {
    lifecycle(
        SharePolicy::ImmediateExistingOrgsOnly,
        "a",
        &["a1", "a2"],
        &["a1", "a2"],
        &["a1", "a2"],
    )
    .await;
}

#[tokio::test]
async fn immediate_existing_and_future_orgs() {
    lifecycle(
        SharePolicy::ImmediateExistingAndFutureOrgs,
        "a",
        &["a1", "a2"],
        &["a1", "a2", "n3"],
        &["a1", "a2", "n3"],
    )
    .await;
}

#[tokio::test]
async fn selected_org_only() {
    lifecycle(
        SharePolicy::SelectedOrgOnly,
        "a1",
        &["a1"],
        &["a1"],
        &["a1"],
    )
    .await;
}

#[tokio::test]
async fn selected_org_with_all_existing_children_only() {
    let s = ["a1", "a11", "a111"];
    lifecycle(
        SharePolicy::SelectedOrgWithAllExistingChildrenOnly,
        "a1",
        &s,
        &s,
        &s,
    )
    .await;
}

#[tokio::test]
async fn selected_org_with_all_existing_and_future_children() {
    lifecycle(
        SharePolicy::SelectedOrgWithAllExistingAndFutureChildren,
        "a1",
        &["a1", "a11", "a111"],
        &["a1", "a11", "a111", "n1", "n2"],
        &["a1", "a11", "b1", "n1"],
    )
    .await;
}

#[tokio::test]
async fn selected_org_with_existing_immediate_children_only() {
    let s = ["a1", "a11"];
    lifecycle(
        SharePolicy::SelectedOrgWithExistingImmediateChildrenOnly,
        "a1",
        &s,
        &s,
        &s,
    )
    .await;
}

#[tokio::test]
async fn selected_org_with_existing_immediate_and_future_children() {
    lifecycle(
        SharePolicy::SelectedOrgWithExistingImmediateAndFutureChildren,
        "a1",
        &["a1", "a11"],
        &["a1", "a11", "n1"],
        &["a1", "a11", "b1", "n1"],
    )
    .await;
}

#[tokio::test]
async fn no_sharing_removes_the_share_at_that_organization() {
    let env = env().await;
    let roles = vec!["member".to_owned()];
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[
            OrgShare::new(
                id("a1"),
                SharePolicy::SelectedOrgWithAllExistingAndFutureChildren,
                roles.clone(),
            ),
            OrgShare::new(id("b"), SharePolicy::SelectedOrgOnly, roles.clone()),
        ],
    )
    .await
    .unwrap();
    assert_eq!(shared(&env).await, set(&["a1", "a11", "a111", "b"]));
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[OrgShare::new(id("a1"), SharePolicy::NoSharing, vec![])],
    )
    .await
    .unwrap();
    assert_eq!(shared(&env).await, set(&["b"]));
    // Share-with-all NO_SHARING removes everything.
    sharing::share_with_all(
        &env.orgs,
        &env.sharing,
        "u",
        SharePolicy::AllExistingAndFutureOrgs,
        roles,
    )
    .await
    .unwrap();
    assert_eq!(
        shared(&env).await,
        set(&["a", "a1", "a11", "a111", "a2", "b", "b1"])
    );
    sharing::share_with_all(&env.orgs, &env.sharing, "u", SharePolicy::NoSharing, vec![])
        .await
        .unwrap();
    assert!(shared(&env).await.is_empty());
}

#[tokio::test]
async fn unsharing_one_organization_under_a_future_rule() {
    let env = env().await;
    let roles = vec!["member".to_owned()];
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[OrgShare::new(
            id("a"),
            SharePolicy::AllExistingAndFutureOrgs,
            roles.clone(),
        )],
    )
    .await
    .unwrap();
    sharing::unshare(&env.sharing, "u", &[id("a11")])
        .await
        .unwrap();
    assert_eq!(shared(&env).await, set(&["a1", "a111", "a2"]));
    add(&env, "n1", "a1").await;
    assert_eq!(
        shared(&env).await,
        set(&["a1", "a111", "a2", "n1"]),
        "the rule still reaches new organizations"
    );
    // Sharing it again lifts the exclusion.
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[OrgShare::new(
            id("a11"),
            SharePolicy::SelectedOrgOnly,
            roles,
        )],
    )
    .await
    .unwrap();
    assert!(shared(&env).await.contains("a11"));
}

#[tokio::test]
async fn roles_are_per_target_organization_and_patchable() {
    let env = env().await;
    sharing::share(
        &env.orgs,
        &env.sharing,
        "u",
        &[
            OrgShare::new(
                id("a"),
                SharePolicy::ImmediateExistingAndFutureOrgs,
                vec!["viewer".into()],
            ),
            OrgShare::new(id("b"), SharePolicy::SelectedOrgOnly, vec!["admin".into()]),
        ],
    )
    .await
    .unwrap();
    let roles = |m: Membership| match m {
        Membership::Shared { roles } => roles,
        other => panic!("{other:?}"),
    };
    let r = |o: &'static str| {
        let env = &env;
        async move {
            sharing::resolve(&env.orgs, &env.sharing, "u", &id(o))
                .await
                .unwrap()
        }
    };
    assert_eq!(roles(r("a1").await), ["viewer"]);
    assert_eq!(roles(r("b").await), ["admin"]);
    use idforge_orgs::sharing::RoleOp;
    let got = sharing::update_roles(
        &env.orgs,
        &env.sharing,
        "u",
        &id("a1"),
        RoleOp::Add,
        &["editor".into()],
    )
    .await
    .unwrap();
    assert_eq!(got, ["viewer", "editor"]);
    assert_eq!(roles(r("a1").await), ["viewer", "editor"]);
    assert_eq!(
        roles(r("a2").await),
        ["viewer"],
        "other organizations keep the rule's roles"
    );
    sharing::update_roles(
        &env.orgs,
        &env.sharing,
        "u",
        &id("a1"),
        RoleOp::Remove,
        &["viewer".into()],
    )
    .await
    .unwrap();
    assert_eq!(roles(r("a1").await), ["editor"]);
    sharing::update_roles(&env.orgs, &env.sharing, "u", &id("b"), RoleOp::Replace, &[])
        .await
        .unwrap();
    assert!(roles(r("b").await).is_empty());
    assert!(matches!(
        sharing::update_roles(
            &env.orgs,
            &env.sharing,
            "u",
            &id("b1"),
            RoleOp::Add,
            &["x".into()]
        )
        .await,
        Err(OrgError::NotMember { .. })
    ));
    // A resident's roles are not share roles.
    let root = OrgId::root();
    let e = sharing::update_roles(&env.orgs, &env.sharing, "u", &root, RoleOp::Add, &[])
        .await
        .unwrap_err();
    assert_eq!(e.status(), 400);
}

#[tokio::test]
async fn sharing_reaches_only_below_the_resident_organization() {
    let env = env().await;
    env.sharing
        .set_resident("v", Resident::new(id("a"), IdentityKind::User))
        .await
        .unwrap();
    let share = |o: &str, p| {
        let env = &env;
        let entry = OrgShare::new(id(o), p, vec![]);
        async move { sharing::share(&env.orgs, &env.sharing, "v", &[entry]).await }
    };
    assert!(matches!(
        share("b", SharePolicy::SelectedOrgOnly).await,
        Err(OrgError::NotDescendant { .. })
    ));
    assert!(matches!(
        share("a", SharePolicy::SelectedOrgOnly).await,
        Err(OrgError::NotDescendant { .. })
    ));
    assert!(matches!(
        share("root", SharePolicy::AllExistingOrgsOnly).await,
        Err(OrgError::NotDescendant { .. })
    ));
    share("a", SharePolicy::AllExistingAndFutureOrgs)
        .await
        .unwrap();
    assert_eq!(
        sharing::resolve(&env.orgs, &env.sharing, "v", &id("a"))
            .await
            .unwrap(),
        Membership::Resident
    );
    assert!(sharing::resolve(&env.orgs, &env.sharing, "v", &id("a111"))
        .await
        .unwrap()
        .is_member());
    assert!(!sharing::resolve(&env.orgs, &env.sharing, "v", &id("b1"))
        .await
        .unwrap()
        .is_member());
    // A disabled organization takes no new shares.
    hierarchy::set_status(&env.orgs, &id("a1"), OrgStatus::Disabled)
        .await
        .unwrap();
    assert_eq!(
        share("a11", SharePolicy::SelectedOrgOnly).await,
        Err(OrgError::Disabled(id("a1")))
    );
    assert!(matches!(
        sharing::share(&env.orgs, &env.sharing, "nobody", &[]).await,
        Err(OrgError::UnknownUser(_))
    ));
}

#[tokio::test]
async fn hierarchy_rules() {
    let env = env().await;
    let rng = OsRng::new();
    // Handles are unique; moves never make cycles; the root is fixed; deletion needs empty.
    let dup = NewOrganization::new("X", "a1");
    assert_eq!(
        hierarchy::create(&env.orgs, &rng, &dup).await,
        Err(OrgError::DuplicateHandle("a1".into()))
    );
    let generated = hierarchy::create(&env.orgs, &rng, &NewOrganization::new("Gen", "gen"))
        .await
        .unwrap();
    assert_eq!(generated.parent, Some(OrgId::root()));
    assert!(matches!(
        hierarchy::move_to(&env.orgs, &id("a"), &id("a111")).await,
        Err(OrgError::Cycle { .. })
    ));
    assert_eq!(
        hierarchy::move_to(&env.orgs, &id("root"), &id("a")).await,
        Err(OrgError::Root("moved"))
    );
    assert_eq!(
        hierarchy::set_status(&env.orgs, &id("root"), OrgStatus::Disabled).await,
        Err(OrgError::Root("disabled"))
    );
    let renamed = hierarchy::rename(&env.orgs, &id("a2"), "Acme Two", Some("acme-two"))
        .await
        .unwrap();
    assert_eq!(renamed.handle, "acme-two");
    assert!(env.orgs.by_handle("acme-two").await.unwrap().is_some());
    let roles = idforge_orgs::memory::MemoryRoleStore::new();
    use idforge_orgs::DeletePolicy;
    assert_eq!(
        hierarchy::delete(
            &env.orgs,
            &env.sharing,
            &roles,
            &id("a1"),
            DeletePolicy::OnlyIfEmpty
        )
        .await,
        Err(OrgError::NotEmpty(id("a1")))
    );
    env.sharing
        .set_resident("w", Resident::new(id("a2"), IdentityKind::User))
        .await
        .unwrap();
    assert_eq!(
        hierarchy::delete(
            &env.orgs,
            &env.sharing,
            &roles,
            &id("a2"),
            DeletePolicy::OnlyIfEmpty
        )
        .await,
        Err(OrgError::NotEmpty(id("a2"))),
        "resident users make an organization non-empty"
    );
    let (gone, users) = hierarchy::delete(
        &env.orgs,
        &env.sharing,
        &roles,
        &id("a1"),
        DeletePolicy::Cascade,
    )
    .await
    .unwrap();
    assert_eq!(gone.len(), 3);
    assert!(users.is_empty());
    let (_, users) = hierarchy::delete(
        &env.orgs,
        &env.sharing,
        &roles,
        &id("a2"),
        DeletePolicy::Cascade,
    )
    .await
    .unwrap();
    assert_eq!(users, ["w"]);
    // Settings inherit through the store in one call.
    let s = hierarchy::effective_settings(&env.orgs, &id("b1"))
        .await
        .unwrap();
    assert!(s.totp_enrollment);
}
