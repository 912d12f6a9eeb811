-- idforge-orgs OrganizationStore, SharingStore, RoleStore. Tree writes (insert, update, move,
-- delete) are serialized (PostgreSQL: a transaction-scoped advisory lock; SQLite: BEGIN
-- IMMEDIATE), so uniqueness, cycle and path checks see the committed tree.
CREATE TABLE org_organizations (
    id TEXT PRIMARY KEY,
    -- NULL only for the root
    parent TEXT REFERENCES org_organizations (id),
    -- materialized path: every ancestor id then its own, each followed by '/' ("root/a/b/");
    -- the subtree of P is the byte range [P, P with its last '/' turned into '0')
    path TEXT COLLATE "C" NOT NULL,
    -- number of ancestors (root 0)
    depth BIGINT NOT NULL,
    name TEXT NOT NULL,
    handle TEXT NOT NULL,
    -- 'active' or 'disabled'
    status TEXT NOT NULL,
    -- the Organization as JSON; parent, ancestors and status are read from the columns
    body TEXT NOT NULL,
    CONSTRAINT org_organizations_handle_key UNIQUE (handle)
);
-- descendants, move, cascade delete (range scans)
CREATE UNIQUE INDEX org_organizations_path ON org_organizations (path);
-- children, delete-if-empty
CREATE INDEX org_organizations_parent ON org_organizations (parent);
-- by_name
CREATE INDEX org_organizations_name ON org_organizations (name);

-- registered email domains (unique across the tree)
CREATE TABLE org_email_domains (
    domain TEXT PRIMARY KEY,
    org_id TEXT NOT NULL REFERENCES org_organizations (id) ON DELETE CASCADE
);
CREATE INDEX org_email_domains_org ON org_email_domains (org_id);

-- SharingStore: one resident organization per user
CREATE TABLE org_residents (
    user_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    -- the Resident as JSON
    body TEXT NOT NULL
);
-- residents_in, forget_organizations
CREATE INDEX org_residents_org ON org_residents (org_id, user_id);

-- a user's shares (UserShares as JSON); changed under a lock on the user's residents row
CREATE TABLE org_user_shares (
    user_id TEXT PRIMARY KEY,
    body TEXT NOT NULL
);
-- every organization a user's shares name (explicit, rule anchor, excluded), so forgetting
-- organizations finds the users to rewrite by index
CREATE TABLE org_share_refs (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
CREATE INDEX org_share_refs_user ON org_share_refs (user_id);

-- applications (Application as JSON)
CREATE TABLE org_applications (
    client_id TEXT PRIMARY KEY,
    org_id TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX org_applications_org ON org_applications (org_id);
-- organizations an application is shared with (SharedWith::Selected)
CREATE TABLE org_application_refs (
    org_id TEXT NOT NULL,
    client_id TEXT NOT NULL,
    PRIMARY KEY (org_id, client_id)
);
CREATE INDEX org_application_refs_client ON org_application_refs (client_id);

-- RoleStore
CREATE TABLE org_roles (
    org_id TEXT NOT NULL,
    name TEXT NOT NULL,
    -- the Role as JSON
    body TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
);
CREATE TABLE org_role_assignments (
    org_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    -- role names as a JSON array
    roles TEXT NOT NULL,
    PRIMARY KEY (org_id, user_id)
);
