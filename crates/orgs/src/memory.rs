//! In-memory implementations of the three ports: concurrency-safe (one lock per store, every
//! invariant checked and written under it), indexed by id, handle, name, email domain and
//! parent, so descendants are found without asking the store level by level.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

use async_trait::async_trait;

use crate::error::{OrgError, Result};
use crate::model::{
    Application, OrgId, OrgStatus, Organization, Resident, Role, ShareChange, SharedWith,
    UserShares, MAX_DEPTH,
};
use crate::ports::{OrganizationStore, RoleStore, SharingStore};

fn read<T>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    l.read().unwrap_or_else(|e| e.into_inner())
}

fn write<T>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    l.write().unwrap_or_else(|e| e.into_inner())
}

#[derive(Debug, Default)]
struct Tree {
    by_id: HashMap<OrgId, Organization>,
    by_handle: HashMap<String, OrgId>,
    by_name: HashMap<String, BTreeSet<OrgId>>,
    by_domain: HashMap<String, OrgId>,
    children: HashMap<OrgId, BTreeSet<OrgId>>,
}

impl Tree {
    fn unknown(id: &OrgId) -> OrgError {
        OrgError::UnknownOrganization(id.to_string())
    }

    fn subtree(&self, id: &OrgId) -> Vec<OrgId> {
        let mut out = Vec::new();
        let mut stack: Vec<&OrgId> = self.children.get(id).into_iter().flatten().collect();
        while let Some(c) = stack.pop() {
            out.push(c.clone());
            stack.extend(self.children.get(c).into_iter().flatten());
        }
        out
    }

    fn check_unique(&self, org: &Organization, except: Option<&OrgId>) -> Result<()> {
        let other = |owner: &OrgId| Some(owner) != except;
        if self.by_handle.get(&org.handle).is_some_and(other) {
            return Err(OrgError::DuplicateHandle(org.handle.clone()));
        }
        for d in &org.email_domains {
            if self.by_domain.get(d).is_some_and(other) {
                return Err(OrgError::DuplicateEmailDomain(d.clone()));
            }
        }
        Ok(())
    }

    fn index(&mut self, org: &Organization) {
        self.by_handle.insert(org.handle.clone(), org.id.clone());
        self.by_name
            .entry(org.name.clone())
            .or_default()
            .insert(org.id.clone());
        for d in &org.email_domains {
            self.by_domain.insert(d.clone(), org.id.clone());
        }
    }

    fn unindex(&mut self, org: &Organization) {
        self.by_handle.remove(&org.handle);
        if let Some(s) = self.by_name.get_mut(&org.name) {
            s.remove(&org.id);
            if s.is_empty() {
                self.by_name.remove(&org.name);
            }
        }
        for d in &org.email_domains {
            self.by_domain.remove(d);
        }
    }
}

/// The memory [`OrganizationStore`]; the root organization is always present.
#[derive(Debug)]
pub struct MemoryOrganizationStore {
    tree: RwLock<Tree>,
}

impl MemoryOrganizationStore {
    /// A store holding only the root organization named `root_name`.
    pub fn new(root_name: impl Into<String>) -> Self {
        let root = Organization::root(root_name);
        let mut tree = Tree::default();
        tree.index(&root);
        tree.by_id.insert(root.id.clone(), root);
        MemoryOrganizationStore {
            tree: RwLock::new(tree),
        }
    }

    /// A store whose root is `root` (settings, email domains, home realms set by the host).
    pub fn with_root(root: Organization) -> Result<Self> {
        if !root.id.is_root() {
            return Err(OrgError::invalid("root", "the root's id is `root`"));
        }
        root.validate()?;
        let mut tree = Tree::default();
        tree.index(&root);
        tree.by_id.insert(root.id.clone(), root);
        Ok(MemoryOrganizationStore {
            tree: RwLock::new(tree),
        })
    }

    /// How many organizations it holds (the root included).
    pub fn len(&self) -> usize {
        read(&self.tree).by_id.len()
    }

    /// Whether it holds nothing (never true: the root is always there).
    pub fn is_empty(&self) -> bool {
        read(&self.tree).by_id.is_empty()
    }
}

impl Default for MemoryOrganizationStore {
    fn default() -> Self {
        MemoryOrganizationStore::new("Root")
    }
}

#[async_trait]
impl OrganizationStore for MemoryOrganizationStore {
    async fn insert(&self, org: Organization) -> Result<()> {
        org.validate()?;
        let mut t = write(&self.tree);
        if t.by_id.contains_key(&org.id) {
            return Err(OrgError::DuplicateId(org.id));
        }
        let parent_id = org
            .parent
            .clone()
            .ok_or_else(|| OrgError::invalid("parent", "only the root has no parent"))?;
        let parent = t
            .by_id
            .get(&parent_id)
            .ok_or_else(|| Tree::unknown(&parent_id))?;
        if parent.ancestors.len() + 1 != org.ancestors.len()
            || !org.ancestors.starts_with(&parent.ancestors)
        {
            return Err(OrgError::invalid(
                "parent",
                "the ancestor path changed; retry",
            ));
        }
        t.check_unique(&org, None)?;
        t.index(&org);
        t.children
            .entry(parent_id)
            .or_default()
            .insert(org.id.clone());
        t.by_id.insert(org.id.clone(), org);
        Ok(())
    }

    async fn get(&self, id: &OrgId) -> Result<Option<Organization>> {
        Ok(read(&self.tree).by_id.get(id).cloned())
    }

    async fn get_many(&self, ids: &[OrgId]) -> Result<Vec<Organization>> {
        let t = read(&self.tree);
        Ok(ids.iter().filter_map(|i| t.by_id.get(i).cloned()).collect())
    }

    async fn by_handle(&self, handle: &str) -> Result<Option<Organization>> {
        let t = read(&self.tree);
        Ok(t.by_handle
            .get(handle)
            .and_then(|i| t.by_id.get(i))
            .cloned())
    }

    async fn by_name(&self, name: &str) -> Result<Vec<Organization>> {
        let t = read(&self.tree);
        Ok(t.by_name
            .get(name)
            .into_iter()
            .flatten()
            .filter_map(|i| t.by_id.get(i).cloned())
            .collect())
    }

    async fn by_email_domain(&self, domain: &str) -> Result<Option<Organization>> {
        let t = read(&self.tree);
        Ok(t.by_domain
            .get(domain)
            .and_then(|i| t.by_id.get(i))
            .cloned())
    }

    async fn children(&self, id: &OrgId) -> Result<Vec<Organization>> {
        let t = read(&self.tree);
        Ok(t.children
            .get(id)
            .into_iter()
            .flatten()
            .filter_map(|i| t.by_id.get(i).cloned())
            .collect())
    }

    async fn descendants(&self, id: &OrgId) -> Result<Vec<Organization>> {
        let t = read(&self.tree);
        Ok(t.subtree(id)
            .iter()
            .filter_map(|i| t.by_id.get(i).cloned())
            .collect())
    }

    async fn update(&self, org: Organization) -> Result<()> {
        let mut t = write(&self.tree);
        let old = t
            .by_id
            .get(&org.id)
            .cloned()
            .ok_or_else(|| Tree::unknown(&org.id))?;
        let mut new = old.clone();
        new.name = org.name;
        new.handle = org.handle;
        new.email_domains = org.email_domains;
        new.issuer = org.issuer;
        new.home_realms = org.home_realms;
        new.settings = org.settings;
        new.validate()?;
        t.check_unique(&new, Some(&new.id))?;
        t.unindex(&old);
        t.index(&new);
        t.by_id.insert(new.id.clone(), new);
        Ok(())
    }

    async fn set_status(&self, id: &OrgId, status: OrgStatus) -> Result<()> {
        let mut t = write(&self.tree);
        let org = t.by_id.get_mut(id).ok_or_else(|| Tree::unknown(id))?;
        org.status = status;
        Ok(())
    }

    async fn move_subtree(&self, id: &OrgId, new_parent: &OrgId) -> Result<Organization> {
        let mut t = write(&self.tree);
        if id.is_root() {
            return Err(OrgError::Root("moved"));
        }
        let org = t.by_id.get(id).cloned().ok_or_else(|| Tree::unknown(id))?;
        let parent = t
            .by_id
            .get(new_parent)
            .cloned()
            .ok_or_else(|| Tree::unknown(new_parent))?;
        if parent.is_within(id) {
            return Err(OrgError::Cycle {
                org: id.clone(),
                parent: new_parent.clone(),
            });
        }
        let subtree = t.subtree(id);
        let mut prefix = parent.ancestors.clone();
        prefix.push(parent.id.clone());
        let old_len = org.ancestors.len();
        let height = subtree
            .iter()
            .filter_map(|d| t.by_id.get(d))
            .map(|d| d.ancestors.len() - old_len)
            .max()
            .unwrap_or(0);
        if prefix.len() + height > MAX_DEPTH {
            return Err(OrgError::invalid("parent", "the tree would be too deep"));
        }
        if let Some(old_parent) = &org.parent {
            if let Some(s) = t.children.get_mut(old_parent) {
                s.remove(id);
            }
        }
        t.children
            .entry(new_parent.clone())
            .or_default()
            .insert(id.clone());
        for d in std::iter::once(id.clone()).chain(subtree) {
            if let Some(rec) = t.by_id.get_mut(&d) {
                let mut path = prefix.clone();
                path.extend(rec.ancestors.drain(old_len..));
                rec.ancestors = path;
                if &d == id {
                    rec.parent = Some(new_parent.clone());
                }
            }
        }
        t.by_id.get(id).cloned().ok_or_else(|| Tree::unknown(id))
    }

    async fn delete(&self, id: &OrgId, cascade: bool) -> Result<Vec<OrgId>> {
        let mut t = write(&self.tree);
        if id.is_root() {
            return Err(OrgError::Root("deleted"));
        }
        let org = t.by_id.get(id).cloned().ok_or_else(|| Tree::unknown(id))?;
        let subtree = t.subtree(id);
        if !subtree.is_empty() && !cascade {
            return Err(OrgError::NotEmpty(id.clone()));
        }
        if let Some(p) = &org.parent {
            if let Some(s) = t.children.get_mut(p) {
                s.remove(id);
            }
        }
        let mut deleted = vec![id.clone()];
        deleted.extend(subtree);
        for d in &deleted {
            if let Some(rec) = t.by_id.remove(d) {
                t.unindex(&rec);
            }
            t.children.remove(d);
        }
        Ok(deleted)
    }
}

#[derive(Debug, Default)]
struct Sharing {
    residents: HashMap<String, Resident>,
    by_org: HashMap<OrgId, BTreeSet<String>>,
    shares: HashMap<String, UserShares>,
    apps: HashMap<String, Application>,
}

/// The memory [`SharingStore`].
#[derive(Debug, Default)]
pub struct MemorySharingStore {
    inner: RwLock<Sharing>,
}

impl MemorySharingStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl SharingStore for MemorySharingStore {
    async fn set_resident(&self, user: &str, resident: Resident) -> Result<()> {
        let mut s = write(&self.inner);
        if let Some(old) = s.residents.insert(user.to_owned(), resident.clone()) {
            if let Some(set) = s.by_org.get_mut(&old.org) {
                set.remove(user);
            }
        }
        s.by_org
            .entry(resident.org)
            .or_default()
            .insert(user.to_owned());
        Ok(())
    }

    async fn resident(&self, user: &str) -> Result<Option<Resident>> {
        Ok(read(&self.inner).residents.get(user).cloned())
    }

    async fn residents_in(&self, org: &OrgId, limit: usize) -> Result<Vec<String>> {
        Ok(read(&self.inner)
            .by_org
            .get(org)
            .into_iter()
            .flatten()
            .take(limit)
            .cloned()
            .collect())
    }

    async fn remove_user(&self, user: &str) -> Result<()> {
        let mut s = write(&self.inner);
        if let Some(old) = s.residents.remove(user) {
            if let Some(set) = s.by_org.get_mut(&old.org) {
                set.remove(user);
            }
        }
        s.shares.remove(user);
        Ok(())
    }

    async fn shares(&self, user: &str) -> Result<UserShares> {
        Ok(read(&self.inner)
            .shares
            .get(user)
            .cloned()
            .unwrap_or_default())
    }

    async fn apply(&self, user: &str, change: ShareChange) -> Result<UserShares> {
        let mut s = write(&self.inner);
        if !s.residents.contains_key(user) {
            return Err(OrgError::UnknownUser(user.to_owned()));
        }
        let shares = s.shares.entry(user.to_owned()).or_default();
        change.apply_to(shares);
        Ok(shares.clone())
    }

    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<Vec<String>> {
        let gone: BTreeSet<&OrgId> = orgs.iter().collect();
        let mut s = write(&self.inner);
        let mut users = Vec::new();
        for o in orgs {
            if let Some(set) = s.by_org.remove(o) {
                users.extend(set);
            }
        }
        for u in &users {
            s.residents.remove(u);
            s.shares.remove(u);
        }
        for sh in s.shares.values_mut() {
            sh.explicit.retain(|o, _| !gone.contains(o));
            sh.rules.retain(|r| !gone.contains(&r.anchor));
            sh.excluded.retain(|o| !gone.contains(o));
        }
        s.apps.retain(|_, a| !gone.contains(&a.organization));
        for a in s.apps.values_mut() {
            if let SharedWith::Selected(list) = &mut a.shared_with {
                list.retain(|o| !gone.contains(o));
            }
        }
        Ok(users)
    }

    async fn put_application(&self, app: Application) -> Result<()> {
        write(&self.inner).apps.insert(app.client_id.clone(), app);
        Ok(())
    }

    async fn application(&self, client_id: &str) -> Result<Option<Application>> {
        Ok(read(&self.inner).apps.get(client_id).cloned())
    }
}

#[derive(Debug, Default)]
struct Roles {
    defined: HashMap<OrgId, BTreeMap<String, Role>>,
    assigned: HashMap<OrgId, HashMap<String, Vec<String>>>,
}

/// The memory [`RoleStore`].
#[derive(Debug, Default)]
pub struct MemoryRoleStore {
    inner: RwLock<Roles>,
}

impl MemoryRoleStore {
    /// An empty store.
    pub fn new() -> Self {
        Self::default()
    }
}

#[async_trait]
impl RoleStore for MemoryRoleStore {
    async fn define_role(&self, org: &OrgId, role: Role) -> Result<()> {
        crate::model::check_label("role", &role.name)?;
        write(&self.inner)
            .defined
            .entry(org.clone())
            .or_default()
            .insert(role.name.clone(), role);
        Ok(())
    }

    async fn roles(&self, org: &OrgId, names: &[String]) -> Result<Vec<Role>> {
        let r = read(&self.inner);
        let Some(defined) = r.defined.get(org) else {
            return Ok(Vec::new());
        };
        Ok(names
            .iter()
            .filter_map(|n| defined.get(n).cloned())
            .collect())
    }

    async fn all_roles(&self, org: &OrgId) -> Result<Vec<Role>> {
        Ok(read(&self.inner)
            .defined
            .get(org)
            .map(|d| d.values().cloned().collect())
            .unwrap_or_default())
    }

    async fn assign(&self, org: &OrgId, user: &str, roles: Vec<String>) -> Result<()> {
        write(&self.inner)
            .assigned
            .entry(org.clone())
            .or_default()
            .insert(user.to_owned(), roles);
        Ok(())
    }

    async fn assigned(&self, org: &OrgId, user: &str) -> Result<Vec<String>> {
        Ok(read(&self.inner)
            .assigned
            .get(org)
            .and_then(|m| m.get(user))
            .cloned()
            .unwrap_or_default())
    }

    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<()> {
        let mut r = write(&self.inner);
        for o in orgs {
            r.defined.remove(o);
            r.assigned.remove(o);
        }
        Ok(())
    }
}
