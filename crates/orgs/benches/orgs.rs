//! Criterion benches, each printed beside its target:
//! - whether a user is shared into an organization at depth 10 of a 10,000-organization tree,
//!   on the memory stores (target ≤ 5 µs);
//! - the organization switch through the token endpoint vs one ES256 verification plus one
//!   ES256 signature, interleaved (target ≤ 1.3×), broken down into what oauth-core costs
//!   (its token resolution, its issuance, and a baseline grant doing exactly the switch's
//!   oauth-core work: resolve the presented token, issue one access token for a grant with
//!   the same claims) and what the organizations add on top (switch / baseline).
//!
//! The raw verification and signature call OpenSSL directly (`ECDSA_do_verify` /
//! `ECDSA_do_sign` on prepared keys, `benches/support/raw.rs`), never idforge's JWS layer.
#![allow(clippy::unwrap_used, missing_docs)]

use std::future::Future;
use std::sync::Arc;
use std::time::Instant;

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
#[path = "../../../benches/support/raw.rs"]
mod raw;

use criterion::{black_box, Criterion};
use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeyRing, KeySpec, LocalSigner};
use idforge_oauth_core::memory::{MemoryClientStore, MemoryGrantStore, MemoryUserStore};
use idforge_oauth_core::{Client, Config, OsRng, Provider, TokenPersistence};
use idforge_orgs::memory::{MemoryOrganizationStore, MemoryRoleStore, MemorySharingStore};
use idforge_orgs::model::Organization;
use idforge_orgs::sharing::{self, OrgShare, SharePolicy};
use idforge_orgs::{
    Application, IdentityKind, OrgHome, OrgId, OrganizationStore, OrganizationSwitchGrant,
    Resident, SharedWith, SharingStore,
};
use serde_json::Map;

/// The switch without the organizations: resolves the presented token and issues one access
/// token for a grant carrying `contents` (the organization claims the switch computes), as the
/// switch does. Timing the switch against it isolates what the orgs crate adds.
struct Baseline {
    contents: idforge_oauth_core::TokenContents,
}

#[async_trait::async_trait]
impl idforge_oauth_core::grant::GrantHandler for Baseline {
    fn grant_type(&self) -> &str {
        "urn:bench:baseline"
    }

    async fn handle(
        &self,
        ctx: &idforge_oauth_core::Context,
        client: &Client,
        req: &idforge_oauth_core::TokenRequest,
    ) -> Result<idforge_oauth_core::TokenResponse, idforge_oauth_core::Error> {
        use idforge_oauth_core::issue::{issue_token_response, persists, IssueOptions};
        let token = req.params.require("token")?;
        let info = idforge_oauth_core::resolve_access_token(ctx, token).await?;
        let now = ctx.now();
        let mut id = [0u8; 16];
        ctx.rng.fill(&mut id)?;
        let id: String = id.iter().map(|b| format!("{b:02x}")).collect();
        let grant = idforge_oauth_core::Grant::new(
            id,
            client.client_id.clone(),
            info.scopes.clone(),
            now,
            info.grant.expires_at,
        )
        .with_subject(info.subject.clone().unwrap_or_default())
        .with_contents(self.contents.clone());
        if persists(ctx, client) {
            ctx.grants.create_grant(grant.clone()).await?;
        }
        let options = IssueOptions::new()
            .refresh_token(idforge_oauth_core::grant::wants_refresh(
                &ctx.config,
                client,
            ))
            .id_token(false);
        issue_token_response(ctx, client, &grant, &info.scopes, options).await
    }
}

/// Runs a future of the memory stores (they never suspend).
fn ready<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match f.as_mut().poll(&mut cx) {
        std::task::Poll::Ready(v) => v,
        std::task::Poll::Pending => panic!("memory store suspended"),
    }
}

/// 10,000 organizations: a chain of depth 10 (c1..c10) and 9,990 others spread below the
/// chain's members and each other.
fn tree() -> (MemoryOrganizationStore, MemorySharingStore, OrgId) {
    let orgs = MemoryOrganizationStore::new("Root");
    let mut parent = ready(orgs.get(&OrgId::root())).unwrap().unwrap();
    let mut all = vec![parent.clone()];
    for i in 1..=10 {
        let o = Organization::child_of(
            &parent,
            OrgId::new(format!("c{i}")).unwrap(),
            format!("C{i}"),
            format!("c{i}"),
        );
        ready(orgs.insert(o.clone())).unwrap();
        all.push(o.clone());
        parent = o;
    }
    let deepest = parent.id.clone();
    for i in 0..(10_000 - 11) {
        let mut k = i * 7919;
        let p = loop {
            let p = &all[k % all.len()];
            if p.depth() < 12 {
                break p.clone();
            }
            k += 1;
        };
        let o = Organization::child_of(
            &p,
            OrgId::new(format!("o{i}")).unwrap(),
            format!("O{i}"),
            format!("o{i}"),
        );
        ready(orgs.insert(o.clone())).unwrap();
        all.push(o);
    }
    let sharing = MemorySharingStore::new();
    ready(sharing.set_resident("u", Resident::new(OrgId::root(), IdentityKind::User))).unwrap();
    let entries = [
        OrgShare::new(
            OrgId::new("c3").unwrap(),
            SharePolicy::SelectedOrgWithAllExistingAndFutureChildren,
            vec!["member".into()],
        ),
        OrgShare::new(
            OrgId::new("o5").unwrap(),
            SharePolicy::SelectedOrgOnly,
            vec!["viewer".into()],
        ),
    ];
    ready(sharing::share(&orgs, &sharing, "u", &entries)).unwrap();
    (orgs, sharing, deepest)
}

fn resolution(c: &mut Criterion) {
    let (orgs, sharing, deepest) = tree();
    println!(
        "tree: {} organizations, target at depth {}",
        orgs.len(),
        ready(orgs.get(&deepest)).unwrap().unwrap().depth()
    );
    assert!(ready(sharing::resolve(&orgs, &sharing, "u", &deepest))
        .unwrap()
        .is_member());
    // The median of 400 batches of 100 calls: robust against a busy machine's preemptions.
    let mut batches: Vec<std::time::Duration> = (0..400)
        .map(|_| {
            let start = Instant::now();
            for _ in 0..100 {
                black_box(
                    ready(sharing::resolve(&orgs, &sharing, "u", black_box(&deepest))).unwrap(),
                );
            }
            start.elapsed() / 100
        })
        .collect();
    batches.sort_unstable();
    let per = batches[batches.len() / 2];
    println!("shared-user resolution at depth 10 of 10,000: {per:?} per call (target <= 5us)");
    c.bench_function("orgs/resolve shared user at depth 10 of 10k", |b| {
        b.iter(|| ready(sharing::resolve(&orgs, &sharing, "u", black_box(&deepest))).unwrap())
    });
}

fn switch(c: &mut Criterion) {
    for persistence in [TokenPersistence::Stored, TokenPersistence::SelfContained] {
        switch_with(c, persistence);
    }
}

fn switch_with(c: &mut Criterion, persistence: TokenPersistence) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let orgs = Arc::new(MemoryOrganizationStore::new("Root"));
    let sharing = Arc::new(MemorySharingStore::new());
    let root = ready(orgs.get(&OrgId::root())).unwrap().unwrap();
    let a = Organization::child_of(&root, OrgId::new("a").unwrap(), "A", "a");
    ready(orgs.insert(a.clone())).unwrap();
    ready(sharing.set_resident("alice", Resident::new(OrgId::root(), IdentityKind::User))).unwrap();
    ready(sharing::share(
        orgs.as_ref(),
        sharing.as_ref(),
        "alice",
        &[OrgShare::new(
            a.id.clone(),
            SharePolicy::SelectedOrgOnly,
            vec!["member".into()],
        )],
    ))
    .unwrap();
    ready(
        sharing.put_application(
            Application::new("app", OrgId::root()).with_shared_with(SharedWith::All),
        ),
    )
    .unwrap();
    let users = Arc::new(MemoryUserStore::new().with_iterations(1000));
    users
        .add_user("alice", "pw", Map::new(), &OsRng::new())
        .unwrap();
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let signer = LocalSigner::new(key.clone(), JwsAlgorithm::ES256).unwrap();
    // The orgs crate's own work in one switch, alone: its store reads, decision and claims.
    let home = OrgHome::new(
        orgs.clone(),
        sharing.clone(),
        Arc::new(MemoryRoleStore::new()),
        OrgId::root(),
    );
    let token_scopes = idforge_oauth_core::Scopes::from_values(["profile"]);
    let orgs_work = || {
        ready(async {
            let (target, ancestors) = home.organization("a").await.unwrap().unwrap();
            let app = home.application("app").await.unwrap();
            let standing = home.standing("alice", &target).await.unwrap();
            idforge_orgs::switch::decide(
                &OrgId::root(),
                &target,
                &ancestors,
                app.as_ref(),
                &standing.membership,
            )
            .unwrap();
            let (names, role_scopes) = home
                .roles_and_scopes(&standing.membership, &target.id, "alice")
                .await
                .unwrap();
            let scopes =
                idforge_orgs::switch::narrow_scopes(&token_scopes, None, &role_scopes).unwrap();
            // As the switch builds them for a grant without `openid`: access-token claims.
            let resident = standing.resident.as_ref().unwrap();
            let mut contents = idforge_oauth_core::TokenContents::new();
            for (name, value) in [
                ("org_id", serde_json::json!(target.id)),
                ("org_name", serde_json::json!(target.name)),
                ("org_handle", serde_json::json!(target.handle)),
                (resident.kind.org_claim(), serde_json::json!(resident.org)),
                ("roles", serde_json::json!(names)),
            ] {
                contents.add_access_token_claim(name, value).unwrap();
            }
            black_box((scopes, contents));
        })
    };
    let start = Instant::now();
    for _ in 0..10_000 {
        orgs_work();
    }
    println!(
        "  breakdown ({persistence:?}): the orgs crate's own work per switch (store reads, decision, claims): {:?}",
        start.elapsed() / 10_000
    );
    let provider = Provider::builder(
        Config::new("https://op.example")
            .with_grant_type("password")
            .with_grant_type("organization_switch")
            .with_grant_type("client_credentials")
            .with_grant_type("urn:bench:baseline")
            .with_token_persistence(persistence),
    )
    .clients(Arc::new(MemoryClientStore::with_clients([
        Client::confidential("app", "app-secret").with_grant_types([
            "password",
            "organization_switch",
            "client_credentials",
            "urn:bench:baseline",
        ]),
    ])))
    .grants(Arc::new(MemoryGrantStore::new()))
    .claims(users.clone())
    .passwords(users)
    .keys(Arc::new(KeyRing::new(signer)))
    .clock(Arc::new(FixedClock::new(1_800_000_000)))
    .grant_handler(Arc::new(OrganizationSwitchGrant::new(OrgHome::new(
        orgs,
        sharing,
        Arc::new(MemoryRoleStore::new()),
        OrgId::root(),
    ))))
    .grant_handler(Arc::new(Baseline {
        // What the switch puts in this grant (no `openid`: access-token claims only).
        contents: {
            let mut c = idforge_oauth_core::TokenContents::new();
            for (name, value) in [
                ("org_id", serde_json::json!("a")),
                ("org_name", serde_json::json!("A")),
                ("org_handle", serde_json::json!("a")),
                ("user_org", serde_json::json!("root")),
                ("roles", serde_json::json!(["member"])),
            ] {
                c.add_access_token_claim(name, value).unwrap();
            }
            c
        },
    }))
    .build()
    .unwrap();
    let at = rt
        .block_on(provider.token.handle_form(b"grant_type=password&username=alice&password=pw&scope=profile&client_id=app&client_secret=app-secret", None))
        .unwrap()
        .access_token;
    let body = format!("grant_type=organization_switch&token={at}&switching_organization=a&client_id=app&client_secret=app-secret");
    // The raw work: verify the presented token (signature decoded, key prepared) and sign the
    // signing input of an access token the switch issues (same header and claims).
    let raw_key = raw::RawEs256::from_key(&key);
    let (at_input, at_sig) = raw::split_es256_jws(&at);
    let issued = rt
        .block_on(provider.token.handle_form(body.as_bytes(), None))
        .unwrap()
        .access_token;
    let (sign_input, _) = raw::split_es256_jws(&issued);
    let mut wrapped = || {
        black_box(
            rt.block_on(provider.token.handle_form(body.as_bytes(), None))
                .unwrap(),
        );
    };
    let mut raw = || {
        assert!(raw_key.verify(black_box(&at_input), &at_sig));
        black_box(raw_key.sign(black_box(&sign_input)));
    };
    // Where the time goes: oauth-core's own token resolution against the raw verification.
    let ctx = provider.ctx.clone();
    ratio::interleaved(
        "  breakdown: oauth-core resolve_access_token / raw ES256 verify",
        1000,
        || {
            black_box(
                rt.block_on(idforge_oauth_core::resolve_access_token(&ctx, &at))
                    .unwrap(),
            );
        },
        || {
            assert!(raw_key.verify(black_box(&at_input), &at_sig));
        },
    );
    let cc = b"grant_type=client_credentials&scope=profile&client_id=app&client_secret=app-secret";
    ratio::interleaved(
        "  breakdown: oauth-core client_credentials (one JWT) / raw ES256 sign",
        1000,
        || {
            black_box(rt.block_on(provider.token.handle_form(cc, None)).unwrap());
        },
        || {
            black_box(raw_key.sign(black_box(&sign_input)));
        },
    );
    // The same oauth-core work without the organizations.
    let base =
        format!("grant_type=urn:bench:baseline&token={at}&client_id=app&client_secret=app-secret");
    let base_tokens = rt
        .block_on(provider.token.handle_form(base.as_bytes(), None))
        .unwrap();
    let switched = rt
        .block_on(provider.token.handle_form(body.as_bytes(), None))
        .unwrap();
    // Same claims, same size: the comparison is like for like.
    assert!(
        base_tokens
            .access_token
            .len()
            .abs_diff(switched.access_token.len())
            < 64
    );
    let mut baseline = || {
        black_box(
            rt.block_on(provider.token.handle_form(base.as_bytes(), None))
                .unwrap(),
        );
    };
    ratio::interleaved(
        &format!("  breakdown ({persistence:?}): oauth-core baseline (resolve + issue, same claims) / raw"),
        2000,
        &mut baseline,
        &mut raw,
    );
    ratio::interleaved(
        &format!("  breakdown ({persistence:?}): orgs on top: switch / oauth-core baseline"),
        2000,
        &mut wrapped,
        &mut baseline,
    );
    let name = format!("organization switch ({persistence:?}) / (ES256 verify + ES256 sign)");
    let r = ratio::interleaved(&name, 3000, &mut wrapped, &mut raw);
    println!("switch ratio ({persistence:?}) {r:.3}x (target <= 1.3x)");
    c.bench_function(
        &format!("orgs/organization switch ({persistence:?})"),
        |b| b.iter(&mut wrapped),
    );
    c.bench_function("orgs/raw ES256 verify + sign", |b| b.iter(&mut raw));
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    resolution(&mut c);
    switch(&mut c);
    c.final_summary();
}
