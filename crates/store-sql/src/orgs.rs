//! idforge-orgs' [`OrganizationStore`], [`SharingStore`] and [`RoleStore`] (feature `orgs`;
//! tables `org_*`, migration 0012).
//!
//! An organization is one row: the record as JSON in `body` beside the columns queries filter
//! on. The tree is a materialized path (`root/a/b/`, ids cannot contain `/`) in a byte-ordered
//! column (`COLLATE "C"` on PostgreSQL), so a subtree is one index range
//! `[P, P with its last '/' turned into '0')`: descendants, a move (one `UPDATE` rewriting the
//! prefix of every path in the range) and a cascading delete are each one statement whatever
//! the subtree's size. `parent`, `ancestors` and `status` are read from the columns, so a move
//! never rewrites bodies.
//!
//! Tree writes (insert, update, move, delete) are serialized: a transaction-scoped advisory
//! lock on PostgreSQL (`pg_advisory_xact_lock`), `BEGIN IMMEDIATE` on SQLite. Under it the
//! checks (duplicate id, handle, email domain; missing parent; stale path; cycle; depth; not
//! empty) read the committed tree, so two opposite concurrent moves can never make a cycle and
//! of concurrent inserts of one handle exactly one wins; the `UNIQUE` constraints stay as a
//! second line. Organization writes are administrative and rare, so one lock costs nothing
//! that matters; reads take no lock.
//!
//! A user's shares are one JSON row changed under a lock on the user's residents row
//! (`SELECT … FOR UPDATE`), so concurrent changes are never lost; `org_share_refs` indexes
//! every organization the shares name, so forgetting deleted organizations touches only the
//! users (and, through `org_application_refs`, the applications) that name them.

use std::collections::BTreeSet;

use async_trait::async_trait;
use idforge_orgs::model::{
    Application, OrgId, OrgStatus, Organization, Resident, Role, ShareChange, SharedWith,
    UserShares, MAX_DEPTH,
};
use idforge_orgs::{OrgError, OrganizationStore, Result, RoleStore, SharingStore};

use crate::db::{begin_write, on_db, Backend};
use crate::SqlStore;

/// The advisory lock key of organization tree writes (`pg_advisory_xact_lock`), "idforgeo".
const TREE_LOCK: i64 = 0x6964_666f_7267_656f;

/// Placeholders per statement when a list is bound (well under both backends' limits).
const CHUNK: usize = 500;

fn store_err(e: impl std::fmt::Display) -> OrgError {
    OrgError::Store(format!("sql store: {e}"))
}

fn to_json<T: serde::Serialize>(v: &T) -> Result<String> {
    serde_json::to_string(v).map_err(store_err)
}

fn from_json<T: serde::de::DeserializeOwned>(s: &str) -> Result<T> {
    serde_json::from_str(s).map_err(store_err)
}

fn status_text(s: OrgStatus) -> &'static str {
    match s {
        OrgStatus::Active => "active",
        OrgStatus::Disabled => "disabled",
    }
}

fn status_from(s: &str) -> Result<OrgStatus> {
    match s {
        "active" => Ok(OrgStatus::Active),
        "disabled" => Ok(OrgStatus::Disabled),
        other => Err(store_err(format!("unknown organization status `{other}`"))),
    }
}

/// `root/a/b/` for an organization whose ancestors are `[root, a]` and id `b`.
fn path_of(ancestors: &[OrgId], id: &OrgId) -> String {
    let mut p = String::new();
    for a in ancestors.iter().chain(std::iter::once(id)) {
        p.push_str(a.as_str());
        p.push('/');
    }
    p
}

/// The exclusive upper bound of the subtree range of `path` (its last `/` turned into `0`,
/// the next byte).
fn path_end(path: &str) -> String {
    let mut end = path.strip_suffix('/').unwrap_or(path).to_owned();
    end.push('0');
    end
}

/// The ancestors encoded in a path (every segment but the last).
fn ancestors_of(path: &str) -> Result<Vec<OrgId>> {
    let mut segs: Vec<&str> = path.strip_suffix('/').unwrap_or(path).split('/').collect();
    segs.pop();
    segs.into_iter()
        .map(|s| OrgId::new(s).map_err(store_err))
        .collect()
}

/// A row of `org_organizations`: body, parent, path, status.
type OrgRow = (String, Option<String>, String, String);

const ORG_COLUMNS: &str = "SELECT body, parent, path, status FROM org_organizations";

fn decode_org((body, parent, path, status): OrgRow) -> Result<Organization> {
    let mut org: Organization = from_json(&body)?;
    org.parent = parent
        .map(|p| OrgId::new(p).map_err(store_err))
        .transpose()?;
    org.ancestors = ancestors_of(&path)?;
    org.status = status_from(&status)?;
    Ok(org)
}

fn decode_orgs(rows: Vec<OrgRow>) -> Result<Vec<Organization>> {
    rows.into_iter().map(decode_org).collect()
}

/// `query` with each id of `ids` bound in order: the values of a [`placeholders`] list (SQLite
/// has no array parameter, so an `IN` list is one placeholder per id).
macro_rules! bind_ids {
    ($query:expr, $ids:expr) => {{
        let mut q = $query;
        for id in $ids {
            q = q.bind(id.as_str());
        }
        q
    }};
}

/// `($n, $n+1, …)` for `count` values starting at `$first`.
fn placeholders(first: usize, count: usize) -> String {
    let list: Vec<String> = (first..first + count).map(|i| format!("${i}")).collect();
    format!("({})", list.join(", "))
}

/// The organizations a user's shares name (explicit, rule anchors, exclusions).
fn share_refs(shares: &UserShares) -> BTreeSet<&str> {
    shares
        .explicit
        .keys()
        .chain(shares.rules.iter().map(|r| &r.anchor))
        .chain(shares.excluded.iter())
        .map(OrgId::as_str)
        .collect()
}

fn app_refs(app: &Application) -> BTreeSet<&str> {
    match &app.shared_with {
        SharedWith::Selected(list) => list.iter().map(OrgId::as_str).collect(),
        SharedWith::None | SharedWith::All => BTreeSet::new(),
    }
}

/// Whether a database error is a unique violation; its constraint name and message.
fn unique_violation(e: &sqlx::Error) -> Option<String> {
    match e {
        sqlx::Error::Database(d) if d.is_unique_violation() => Some(format!(
            "{} {}",
            d.constraint().unwrap_or_default(),
            d.message()
        )),
        _ => None,
    }
}

/// A unique violation that slipped past the checks (they run under the tree lock, so only a
/// writer outside idforge could cause one) as the matching conflict.
fn conflict(e: sqlx::Error, org: &Organization) -> OrgError {
    match unique_violation(&e) {
        Some(what) if what.contains("handle") => OrgError::DuplicateHandle(org.handle.clone()),
        Some(what) if what.contains("domain") => {
            OrgError::DuplicateEmailDomain(org.email_domains.first().cloned().unwrap_or_default())
        }
        Some(_) => OrgError::DuplicateId(org.id.clone()),
        None => store_err(e),
    }
}

impl SqlStore {
    /// Stores `root` as the root organization unless one is stored already (the stored one,
    /// perhaps updated through the API since, wins). Hosts call it once at start, before
    /// using the store as an [`OrganizationStore`], whose contract is that the root exists.
    pub async fn ensure_root_organization(&self, root: &Organization) -> Result<()> {
        if !root.id.is_root() || root.parent.is_some() {
            return Err(OrgError::invalid("root", "the root's id is `root`"));
        }
        root.validate()?;
        let body = to_json(root)?;
        let path = path_of(&[], &root.id);
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            if let Some(lock) = self.tree_lock() {
                sqlx::query(lock).bind(TREE_LOCK).execute(&mut *tx).await.map_err(store_err)?;
            }
            let n = sqlx::query(
                "INSERT INTO org_organizations \
                 (id, parent, path, depth, name, handle, status, body) \
                 VALUES ($1, NULL, $2, 0, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
            )
            .bind(root.id.as_str())
            .bind(&path)
            .bind(&root.name)
            .bind(&root.handle)
            .bind(status_text(root.status))
            .bind(&body)
            .execute(&mut *tx)
            .await
            .map_err(store_err)?
            .rows_affected();
            if n == 1 {
                for d in &root.email_domains {
                    sqlx::query("INSERT INTO org_email_domains (domain, org_id) VALUES ($1, $2)")
                        .bind(d)
                        .bind(root.id.as_str())
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict(e, root))?;
                }
            }
            tx.commit().await.map_err(store_err)
        })
    }

    /// The statement taking the tree lock inside a transaction (PostgreSQL), or `None` where
    /// `BEGIN IMMEDIATE` already serializes writers (SQLite).
    fn tree_lock(&self) -> Option<&'static str> {
        match self.db.backend() {
            Backend::Postgres => Some("SELECT pg_advisory_xact_lock($1)"),
            Backend::Sqlite => None,
        }
    }

    /// ` FOR UPDATE` where row locks exist (PostgreSQL); SQLite's `BEGIN IMMEDIATE` already
    /// holds the write lock.
    fn for_update(&self) -> &'static str {
        match self.db.backend() {
            Backend::Postgres => " FOR UPDATE",
            Backend::Sqlite => "",
        }
    }

    async fn orgs_where(&self, clause: &str, value: &str) -> Result<Vec<Organization>> {
        let sql = format!("{ORG_COLUMNS} WHERE {clause}");
        let rows: Vec<OrgRow> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(value)
            .fetch_all(pool)
            .await
            .map_err(store_err)?);
        decode_orgs(rows)
    }
}

#[async_trait]
impl OrganizationStore for SqlStore {
    async fn insert(&self, org: Organization) -> Result<()> {
        org.validate()?;
        let parent_id = org
            .parent
            .clone()
            .ok_or_else(|| OrgError::invalid("parent", "only the root has no parent"))?;
        let body = to_json(&org)?;
        let path = path_of(&org.ancestors, &org.id);
        let depth = i64::try_from(org.ancestors.len()).map_err(store_err)?;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            if let Some(lock) = self.tree_lock() {
                sqlx::query(lock).bind(TREE_LOCK).execute(&mut *tx).await.map_err(store_err)?;
            }
            let taken: Option<(String,)> =
                sqlx::query_as("SELECT id FROM org_organizations WHERE id = $1")
                    .bind(org.id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            if taken.is_some() {
                return Err(OrgError::DuplicateId(org.id));
            }
            let parent_path: Option<(String,)> =
                sqlx::query_as("SELECT path FROM org_organizations WHERE id = $1")
                    .bind(parent_id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            let Some((parent_path,)) = parent_path else {
                return Err(OrgError::UnknownOrganization(parent_id.to_string()));
            };
            // The caller built the path from the parent it read; a move since makes it stale.
            if path_of(&org.ancestors[..org.ancestors.len().saturating_sub(1)], &parent_id)
                != parent_path
                || org.ancestors.last() != Some(&parent_id)
            {
                return Err(OrgError::invalid("parent", "the ancestor path changed; retry"));
            }
            let handle: Option<(String,)> =
                sqlx::query_as("SELECT id FROM org_organizations WHERE handle = $1")
                    .bind(&org.handle)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            if handle.is_some() {
                return Err(OrgError::DuplicateHandle(org.handle));
            }
            for d in &org.email_domains {
                let owner: Option<(String,)> =
                    sqlx::query_as("SELECT org_id FROM org_email_domains WHERE domain = $1")
                        .bind(d)
                        .fetch_optional(&mut *tx)
                        .await
                        .map_err(store_err)?;
                if owner.is_some() {
                    return Err(OrgError::DuplicateEmailDomain(d.clone()));
                }
            }
            sqlx::query(
                "INSERT INTO org_organizations \
                 (id, parent, path, depth, name, handle, status, body) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            )
            .bind(org.id.as_str())
            .bind(parent_id.as_str())
            .bind(&path)
            .bind(depth)
            .bind(&org.name)
            .bind(&org.handle)
            .bind(status_text(org.status))
            .bind(&body)
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, &org))?;
            for d in &org.email_domains {
                sqlx::query("INSERT INTO org_email_domains (domain, org_id) VALUES ($1, $2)")
                    .bind(d)
                    .bind(org.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict(e, &org))?;
            }
            tx.commit().await.map_err(store_err)
        })
    }

    async fn get(&self, id: &OrgId) -> Result<Option<Organization>> {
        Ok(self.orgs_where("id = $1", id.as_str()).await?.pop())
    }

    async fn get_many(&self, ids: &[OrgId]) -> Result<Vec<Organization>> {
        let mut out = Vec::with_capacity(ids.len());
        for chunk in ids.chunks(CHUNK) {
            let sql = format!("{ORG_COLUMNS} WHERE id IN {}", placeholders(1, chunk.len()));
            let rows: Vec<OrgRow> = on_db!(&self.db, pool => {
                let q = bind_ids!(sqlx::query_as(&sql), chunk);
                q.fetch_all(pool).await.map_err(store_err)?
            });
            out.extend(decode_orgs(rows)?);
        }
        // In the order asked (duplicates as asked), like the memory store.
        let mut ordered = Vec::with_capacity(out.len());
        for id in ids {
            if let Some(o) = out.iter().find(|o| &o.id == id) {
                ordered.push(o.clone());
            }
        }
        Ok(ordered)
    }

    async fn by_handle(&self, handle: &str) -> Result<Option<Organization>> {
        Ok(self.orgs_where("handle = $1", handle).await?.pop())
    }

    async fn by_name(&self, name: &str) -> Result<Vec<Organization>> {
        self.orgs_where("name = $1 ORDER BY id", name).await
    }

    async fn by_email_domain(&self, domain: &str) -> Result<Option<Organization>> {
        Ok(self
            .orgs_where(
                "id = (SELECT org_id FROM org_email_domains WHERE domain = $1)",
                domain,
            )
            .await?
            .pop())
    }

    async fn children(&self, id: &OrgId) -> Result<Vec<Organization>> {
        self.orgs_where("parent = $1 ORDER BY id", id.as_str())
            .await
    }

    async fn descendants(&self, id: &OrgId) -> Result<Vec<Organization>> {
        let Some(path) = self.path_of_id(id).await? else {
            return Ok(Vec::new());
        };
        let sql = format!("{ORG_COLUMNS} WHERE path > $1 AND path < $2 ORDER BY path");
        let rows: Vec<OrgRow> = on_db!(&self.db, pool => sqlx::query_as(&sql)
            .bind(&path)
            .bind(path_end(&path))
            .fetch_all(pool)
            .await
            .map_err(store_err)?);
        decode_orgs(rows)
    }

    async fn update(&self, org: Organization) -> Result<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            if let Some(lock) = self.tree_lock() {
                sqlx::query(lock).bind(TREE_LOCK).execute(&mut *tx).await.map_err(store_err)?;
            }
            let row: Option<OrgRow> = sqlx::query_as(&format!("{ORG_COLUMNS} WHERE id = $1"))
                .bind(org.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err)?;
            let Some(row) = row else {
                return Err(OrgError::UnknownOrganization(org.id.to_string()));
            };
            let mut new = decode_org(row)?;
            new.name = org.name;
            new.handle = org.handle;
            new.email_domains = org.email_domains;
            new.issuer = org.issuer;
            new.home_realms = org.home_realms;
            new.settings = org.settings;
            new.validate()?;
            let handle: Option<(String,)> =
                sqlx::query_as("SELECT id FROM org_organizations WHERE handle = $1 AND id <> $2")
                    .bind(&new.handle)
                    .bind(new.id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            if handle.is_some() {
                return Err(OrgError::DuplicateHandle(new.handle));
            }
            for d in &new.email_domains {
                let owner: Option<(String,)> = sqlx::query_as(
                    "SELECT org_id FROM org_email_domains WHERE domain = $1 AND org_id <> $2",
                )
                .bind(d)
                .bind(new.id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err)?;
                if owner.is_some() {
                    return Err(OrgError::DuplicateEmailDomain(d.clone()));
                }
            }
            sqlx::query(
                "UPDATE org_organizations SET name = $1, handle = $2, body = $3 WHERE id = $4",
            )
            .bind(&new.name)
            .bind(&new.handle)
            .bind(to_json(&new)?)
            .bind(new.id.as_str())
            .execute(&mut *tx)
            .await
            .map_err(|e| conflict(e, &new))?;
            sqlx::query("DELETE FROM org_email_domains WHERE org_id = $1")
                .bind(new.id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(store_err)?;
            for d in &new.email_domains {
                sqlx::query("INSERT INTO org_email_domains (domain, org_id) VALUES ($1, $2)")
                    .bind(d)
                    .bind(new.id.as_str())
                    .execute(&mut *tx)
                    .await
                    .map_err(|e| conflict(e, &new))?;
            }
            tx.commit().await.map_err(store_err)
        })
    }

    async fn set_status(&self, id: &OrgId, status: OrgStatus) -> Result<()> {
        let n = on_db!(&self.db, pool => sqlx::query(
            "UPDATE org_organizations SET status = $1 WHERE id = $2",
        )
        .bind(status_text(status))
        .bind(id.as_str())
        .execute(pool)
        .await
        .map_err(store_err)?
        .rows_affected());
        if n == 0 {
            return Err(OrgError::UnknownOrganization(id.to_string()));
        }
        Ok(())
    }

    async fn move_subtree(&self, id: &OrgId, new_parent: &OrgId) -> Result<Organization> {
        if id.is_root() {
            return Err(OrgError::Root("moved"));
        }
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            if let Some(lock) = self.tree_lock() {
                sqlx::query(lock).bind(TREE_LOCK).execute(&mut *tx).await.map_err(store_err)?;
            }
            let path_and_depth = "SELECT path, depth FROM org_organizations WHERE id = $1";
            let old: Option<(String, i64)> = sqlx::query_as(path_and_depth)
                .bind(id.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err)?;
            let Some((old_path, old_depth)) = old else {
                return Err(OrgError::UnknownOrganization(id.to_string()));
            };
            let parent: Option<(String, i64)> = sqlx::query_as(path_and_depth)
                .bind(new_parent.as_str())
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err)?;
            let Some((parent_path, parent_depth)) = parent else {
                return Err(OrgError::UnknownOrganization(new_parent.to_string()));
            };
            // Under itself or a descendant: the parent's path starts with the moved one's.
            if parent_path.starts_with(&old_path) {
                return Err(OrgError::Cycle { org: id.clone(), parent: new_parent.clone() });
            }
            let end = path_end(&old_path);
            let (deepest,): (i64,) = sqlx::query_as(
                "SELECT MAX(depth) FROM org_organizations WHERE path >= $1 AND path < $2",
            )
            .bind(&old_path)
            .bind(&end)
            .fetch_one(&mut *tx)
            .await
            .map_err(store_err)?;
            let delta = parent_depth + 1 - old_depth;
            if deepest + delta > i64::try_from(MAX_DEPTH).map_err(store_err)? {
                return Err(OrgError::invalid("parent", "the tree would be too deep"));
            }
            let new_path = format!("{parent_path}{id}/");
            let keep_from = i64::try_from(old_path.len() + 1).map_err(store_err)?;
            sqlx::query(
                "UPDATE org_organizations SET path = $1 || substr(path, CAST($2 AS INTEGER)), \
                 depth = depth + $3 WHERE path >= $4 AND path < $5",
            )
            .bind(&new_path)
            .bind(keep_from)
            .bind(delta)
            .bind(&old_path)
            .bind(&end)
            .execute(&mut *tx)
            .await
            .map_err(store_err)?;
            sqlx::query("UPDATE org_organizations SET parent = $1 WHERE id = $2")
                .bind(new_parent.as_str())
                .bind(id.as_str())
                .execute(&mut *tx)
                .await
                .map_err(store_err)?;
            let row: OrgRow = sqlx::query_as(&format!("{ORG_COLUMNS} WHERE id = $1"))
                .bind(id.as_str())
                .fetch_one(&mut *tx)
                .await
                .map_err(store_err)?;
            tx.commit().await.map_err(store_err)?;
            decode_org(row)
        })
    }

    async fn delete(&self, id: &OrgId, cascade: bool) -> Result<Vec<OrgId>> {
        if id.is_root() {
            return Err(OrgError::Root("deleted"));
        }
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            if let Some(lock) = self.tree_lock() {
                sqlx::query(lock).bind(TREE_LOCK).execute(&mut *tx).await.map_err(store_err)?;
            }
            let path: Option<(String,)> =
                sqlx::query_as("SELECT path FROM org_organizations WHERE id = $1")
                    .bind(id.as_str())
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            let Some((path,)) = path else {
                return Err(OrgError::UnknownOrganization(id.to_string()));
            };
            let end = path_end(&path);
            let ids: Vec<(String,)> = sqlx::query_as(
                "SELECT id FROM org_organizations WHERE path >= $1 AND path < $2 ORDER BY path",
            )
            .bind(&path)
            .bind(&end)
            .fetch_all(&mut *tx)
            .await
            .map_err(store_err)?;
            if ids.len() > 1 && !cascade {
                return Err(OrgError::NotEmpty(id.clone()));
            }
            // One statement: the parent references inside the subtree are checked at its end.
            sqlx::query("DELETE FROM org_organizations WHERE path >= $1 AND path < $2")
                .bind(&path)
                .bind(&end)
                .execute(&mut *tx)
                .await
                .map_err(store_err)?;
            tx.commit().await.map_err(store_err)?;
            ids.into_iter()
                .map(|(i,)| OrgId::new(i).map_err(store_err))
                .collect()
        })
    }
}

impl SqlStore {
    async fn path_of_id(&self, id: &OrgId) -> Result<Option<String>> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT path FROM org_organizations WHERE id = $1",
        )
        .bind(id.as_str())
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        Ok(row.map(|(p,)| p))
    }
}

#[async_trait]
impl SharingStore for SqlStore {
    async fn set_resident(&self, user: &str, resident: Resident) -> Result<()> {
        let body = to_json(&resident)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO org_residents (user_id, org_id, body) VALUES ($1, $2, $3) \
             ON CONFLICT (user_id) DO UPDATE SET org_id = excluded.org_id, body = excluded.body",
        )
        .bind(user)
        .bind(resident.org.as_str())
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(store_err)?);
        Ok(())
    }

    async fn resident(&self, user: &str) -> Result<Option<Resident>> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM org_residents WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        row.map(|(b,)| from_json(&b)).transpose()
    }

    async fn residents_in(&self, org: &OrgId, limit: usize) -> Result<Vec<String>> {
        let limit = i64::try_from(limit).unwrap_or(i64::MAX);
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT user_id FROM org_residents WHERE org_id = $1 ORDER BY user_id LIMIT $2",
        )
        .bind(org.as_str())
        .bind(limit)
        .fetch_all(pool)
        .await
        .map_err(store_err)?);
        Ok(rows.into_iter().map(|(u,)| u).collect())
    }

    async fn remove_user(&self, user: &str) -> Result<()> {
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            for sql in [
                "DELETE FROM org_residents WHERE user_id = $1",
                "DELETE FROM org_user_shares WHERE user_id = $1",
                "DELETE FROM org_share_refs WHERE user_id = $1",
            ] {
                sqlx::query(sql).bind(user).execute(&mut *tx).await.map_err(store_err)?;
            }
            tx.commit().await.map_err(store_err)
        })
    }

    async fn shares(&self, user: &str) -> Result<UserShares> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM org_user_shares WHERE user_id = $1",
        )
        .bind(user)
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        Ok(row
            .map(|(b,)| from_json(&b))
            .transpose()?
            .unwrap_or_default())
    }

    async fn apply(&self, user: &str, change: ShareChange) -> Result<UserShares> {
        let lock = format!(
            "SELECT user_id FROM org_residents WHERE user_id = $1{}",
            self.for_update()
        );
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            // The user's residents row is the lock every change of its shares takes.
            let resident: Option<(String,)> = sqlx::query_as(&lock)
                .bind(user)
                .fetch_optional(&mut *tx)
                .await
                .map_err(store_err)?;
            if resident.is_none() {
                return Err(OrgError::UnknownUser(user.to_owned()));
            }
            let row: Option<(String,)> =
                sqlx::query_as("SELECT body FROM org_user_shares WHERE user_id = $1")
                    .bind(user)
                    .fetch_optional(&mut *tx)
                    .await
                    .map_err(store_err)?;
            let mut shares: UserShares =
                row.map(|(b,)| from_json(&b)).transpose()?.unwrap_or_default();
            change.apply_to(&mut shares);
            sqlx::query(
                "INSERT INTO org_user_shares (user_id, body) VALUES ($1, $2) \
                 ON CONFLICT (user_id) DO UPDATE SET body = excluded.body",
            )
            .bind(user)
            .bind(to_json(&shares)?)
            .execute(&mut *tx)
            .await
            .map_err(store_err)?;
            sqlx::query("DELETE FROM org_share_refs WHERE user_id = $1")
                .bind(user)
                .execute(&mut *tx)
                .await
                .map_err(store_err)?;
            let refs: Vec<&str> = share_refs(&shares).into_iter().collect();
            for chunk in refs.chunks(CHUNK / 2) {
                let values: Vec<String> =
                    (0..chunk.len()).map(|i| format!("(${}, $1)", i + 2)).collect();
                let sql = format!(
                    "INSERT INTO org_share_refs (org_id, user_id) VALUES {}",
                    values.join(", ")
                );
                let mut q = sqlx::query(&sql).bind(user);
                for o in chunk {
                    q = q.bind(*o);
                }
                q.execute(&mut *tx).await.map_err(store_err)?;
            }
            tx.commit().await.map_err(store_err)?;
            Ok(shares)
        })
    }

    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<Vec<String>> {
        let gone: BTreeSet<&OrgId> = orgs.iter().collect();
        let lock_user = format!(
            "SELECT user_id FROM org_residents WHERE user_id = $1{}",
            self.for_update()
        );
        let lock_app = format!(
            "SELECT body FROM org_applications WHERE client_id = $1{}",
            self.for_update()
        );
        let mut removed: BTreeSet<String> = BTreeSet::new();
        for chunk in orgs.chunks(CHUNK) {
            let list = placeholders(1, chunk.len());
            on_db!(&self.db, pool => {
                let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
                // Residents of the deleted organizations go, with their shares.
                let sql = format!("DELETE FROM org_residents WHERE org_id IN {list} RETURNING user_id");
                let q = bind_ids!(sqlx::query_as::<_, (String,)>(&sql), chunk);
                let users = q.fetch_all(&mut *tx).await.map_err(store_err)?;
                for (u,) in &users {
                    for sql in [
                        "DELETE FROM org_user_shares WHERE user_id = $1",
                        "DELETE FROM org_share_refs WHERE user_id = $1",
                    ] {
                        sqlx::query(sql).bind(u).execute(&mut *tx).await.map_err(store_err)?;
                    }
                }
                removed.extend(users.into_iter().map(|(u,)| u));
                // Other users' shares naming them are rewritten.
                // In user order, so two concurrent forgets lock rows in one order.
                let sql = format!(
                    "SELECT DISTINCT user_id FROM org_share_refs WHERE org_id IN {list} \
                     ORDER BY user_id"
                );
                let q = bind_ids!(sqlx::query_as::<_, (String,)>(&sql), chunk);
                let touched = q.fetch_all(&mut *tx).await.map_err(store_err)?;
                for (u,) in touched {
                    // The per-user lock `apply` takes, so no concurrent change is lost.
                    sqlx::query(&lock_user)
                        .bind(&u)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_err)?;
                    let row: Option<(String,)> =
                        sqlx::query_as("SELECT body FROM org_user_shares WHERE user_id = $1")
                            .bind(&u)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(store_err)?;
                    let Some((body,)) = row else { continue };
                    let mut sh: UserShares = from_json(&body)?;
                    sh.explicit.retain(|o, _| !gone.contains(o));
                    sh.rules.retain(|r| !gone.contains(&r.anchor));
                    sh.excluded.retain(|o| !gone.contains(o));
                    sqlx::query("UPDATE org_user_shares SET body = $1 WHERE user_id = $2")
                        .bind(to_json(&sh)?)
                        .bind(&u)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_err)?;
                }
                let sql = format!("DELETE FROM org_share_refs WHERE org_id IN {list}");
                let q = bind_ids!(sqlx::query(&sql), chunk);
                q.execute(&mut *tx).await.map_err(store_err)?;
                // Applications registered in them go; lists naming them are rewritten.
                let sql = format!("DELETE FROM org_applications WHERE org_id IN {list} RETURNING client_id");
                let q = bind_ids!(sqlx::query_as::<_, (String,)>(&sql), chunk);
                for (c,) in q.fetch_all(&mut *tx).await.map_err(store_err)? {
                    sqlx::query("DELETE FROM org_application_refs WHERE client_id = $1")
                        .bind(&c)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_err)?;
                }
                let sql = format!(
                    "SELECT DISTINCT client_id FROM org_application_refs WHERE org_id IN {list} \
                     ORDER BY client_id"
                );
                let q = bind_ids!(sqlx::query_as::<_, (String,)>(&sql), chunk);
                for (c,) in q.fetch_all(&mut *tx).await.map_err(store_err)? {
                    let row: Option<(String,)> = sqlx::query_as(&lock_app)
                            .bind(&c)
                            .fetch_optional(&mut *tx)
                            .await
                            .map_err(store_err)?;
                    let Some((body,)) = row else { continue };
                    let mut app: Application = from_json(&body)?;
                    if let SharedWith::Selected(list) = &mut app.shared_with {
                        list.retain(|o| !gone.contains(o));
                    }
                    sqlx::query("UPDATE org_applications SET body = $1 WHERE client_id = $2")
                        .bind(to_json(&app)?)
                        .bind(&c)
                        .execute(&mut *tx)
                        .await
                        .map_err(store_err)?;
                }
                let sql = format!("DELETE FROM org_application_refs WHERE org_id IN {list}");
                let q = bind_ids!(sqlx::query(&sql), chunk);
                q.execute(&mut *tx).await.map_err(store_err)?;
                tx.commit().await.map_err(store_err)?;
            });
        }
        Ok(removed.into_iter().collect())
    }

    async fn put_application(&self, app: Application) -> Result<()> {
        let body = to_json(&app)?;
        on_db!(&self.db, pool => {
            let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
            sqlx::query(
                "INSERT INTO org_applications (client_id, org_id, body) VALUES ($1, $2, $3) \
                 ON CONFLICT (client_id) DO UPDATE SET org_id = excluded.org_id, \
                 body = excluded.body",
            )
            .bind(&app.client_id)
            .bind(app.organization.as_str())
            .bind(&body)
            .execute(&mut *tx)
            .await
            .map_err(store_err)?;
            sqlx::query("DELETE FROM org_application_refs WHERE client_id = $1")
                .bind(&app.client_id)
                .execute(&mut *tx)
                .await
                .map_err(store_err)?;
            for o in app_refs(&app) {
                sqlx::query("INSERT INTO org_application_refs (org_id, client_id) VALUES ($1, $2)")
                    .bind(o)
                    .bind(&app.client_id)
                    .execute(&mut *tx)
                    .await
                    .map_err(store_err)?;
            }
            tx.commit().await.map_err(store_err)
        })
    }

    async fn application(&self, client_id: &str) -> Result<Option<Application>> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM org_applications WHERE client_id = $1",
        )
        .bind(client_id)
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        row.map(|(b,)| from_json(&b)).transpose()
    }
}

#[async_trait]
impl RoleStore for SqlStore {
    async fn define_role(&self, org: &OrgId, role: Role) -> Result<()> {
        idforge_orgs::model::check_label("role", &role.name)?;
        let body = to_json(&role)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO org_roles (org_id, name, body) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, name) DO UPDATE SET body = excluded.body",
        )
        .bind(org.as_str())
        .bind(&role.name)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(store_err)?);
        Ok(())
    }

    async fn roles(&self, org: &OrgId, names: &[String]) -> Result<Vec<Role>> {
        let mut found = Vec::new();
        for chunk in names.chunks(CHUNK) {
            let sql = format!(
                "SELECT body FROM org_roles WHERE org_id = $1 AND name IN {}",
                placeholders(2, chunk.len())
            );
            let rows: Vec<(String,)> = on_db!(&self.db, pool => {
                let mut q = sqlx::query_as(&sql).bind(org.as_str());
                for n in chunk {
                    q = q.bind(n);
                }
                q.fetch_all(pool).await.map_err(store_err)?
            });
            for (b,) in rows {
                found.push(from_json::<Role>(&b)?);
            }
        }
        // In the order named, like the memory store.
        Ok(names
            .iter()
            .filter_map(|n| found.iter().find(|r| &r.name == n).cloned())
            .collect())
    }

    async fn all_roles(&self, org: &OrgId) -> Result<Vec<Role>> {
        let rows: Vec<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT body FROM org_roles WHERE org_id = $1 ORDER BY name",
        )
        .bind(org.as_str())
        .fetch_all(pool)
        .await
        .map_err(store_err)?);
        rows.iter().map(|(b,)| from_json(b)).collect()
    }

    async fn assign(&self, org: &OrgId, user: &str, roles: Vec<String>) -> Result<()> {
        let body = to_json(&roles)?;
        on_db!(&self.db, pool => sqlx::query(
            "INSERT INTO org_role_assignments (org_id, user_id, roles) VALUES ($1, $2, $3) \
             ON CONFLICT (org_id, user_id) DO UPDATE SET roles = excluded.roles",
        )
        .bind(org.as_str())
        .bind(user)
        .bind(&body)
        .execute(pool)
        .await
        .map(|_| ())
        .map_err(store_err)?);
        Ok(())
    }

    async fn assigned(&self, org: &OrgId, user: &str) -> Result<Vec<String>> {
        let row: Option<(String,)> = on_db!(&self.db, pool => sqlx::query_as(
            "SELECT roles FROM org_role_assignments WHERE org_id = $1 AND user_id = $2",
        )
        .bind(org.as_str())
        .bind(user)
        .fetch_optional(pool)
        .await
        .map_err(store_err)?);
        Ok(row
            .map(|(b,)| from_json(&b))
            .transpose()?
            .unwrap_or_default())
    }

    async fn forget_organizations(&self, orgs: &[OrgId]) -> Result<()> {
        for chunk in orgs.chunks(CHUNK) {
            let list = placeholders(1, chunk.len());
            on_db!(&self.db, pool => {
                let mut tx = pool.begin_with(begin_write(pool)).await.map_err(store_err)?;
                for table in ["org_roles", "org_role_assignments"] {
                    let sql = format!("DELETE FROM {table} WHERE org_id IN {list}");
                    let q = bind_ids!(sqlx::query(&sql), chunk);
                    q.execute(&mut *tx).await.map_err(store_err)?;
                }
                tx.commit().await.map_err(store_err)?;
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subtree_range_holds_exactly_the_descendants() {
        let p = "root/a/";
        let end = path_end(p);
        assert_eq!(end, "root/a0");
        for inside in ["root/a/", "root/a/b/", "root/a/z.z/c/"] {
            assert!(inside >= p && inside < end.as_str(), "{inside}");
        }
        // Siblings whose ids extend `a` with any allowed character stay outside.
        for outside in [
            "root/a-b/",
            "root/a.b/",
            "root/a_b/",
            "root/a0/",
            "root/aZ/",
            "root/",
        ] {
            assert!(!(outside >= p && outside < end.as_str()), "{outside}");
        }
    }

    #[test]
    fn paths_round_trip_ancestors() {
        let ids: Vec<OrgId> = ["root", "a", "b"]
            .iter()
            .map(|s| OrgId::new(*s).unwrap())
            .collect();
        let path = path_of(&ids[..2], &ids[2]);
        assert_eq!(path, "root/a/b/");
        assert_eq!(ancestors_of(&path).unwrap(), ids[..2].to_vec());
        assert!(ancestors_of("root/").unwrap().is_empty());
    }
}
