-- idforge-oid4vci TemplateStore and IssuanceStore: credential templates, offers, c_nonces,
-- notification ids, deferred transactions and Token Status Lists. Secrets as hashes only.
CREATE TABLE oid4vci_templates (
    id TEXT PRIMARY KEY,
    -- the CredentialTemplate as JSON (validated before it is written)
    body TEXT NOT NULL
);

CREATE TABLE oid4vci_offers (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    pre_authorized_code BLOB,
    issuer_state BLOB,
    reference BLOB,
    expires_at INTEGER NOT NULL,
    -- the OfferRecord as JSON
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_offers_code ON oid4vci_offers (pre_authorized_code);
CREATE INDEX oid4vci_offers_issuer_state ON oid4vci_offers (issuer_state);
CREATE INDEX oid4vci_offers_reference ON oid4vci_offers (reference);
CREATE INDEX oid4vci_offers_expires_at ON oid4vci_offers (expires_at);

-- c_nonce (§7): consumed by one DELETE ... RETURNING
CREATE TABLE oid4vci_nonces (
    nonce BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX oid4vci_nonces_expires_at ON oid4vci_nonces (expires_at);

-- notification_id (§11) and deferred transaction_id (§9) records
CREATE TABLE oid4vci_notifications (
    hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_notifications_expires_at ON oid4vci_notifications (expires_at);
CREATE TABLE oid4vci_transactions (
    hash BLOB PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_transactions_expires_at ON oid4vci_transactions (expires_at);

-- Token Status Lists: one allocator row hands out (list, index) by one UPDATE ... RETURNING
CREATE TABLE oid4vci_status_allocator (
    id INTEGER PRIMARY KEY,
    list_size INTEGER NOT NULL,
    current_list INTEGER NOT NULL,
    next_index INTEGER NOT NULL
);
CREATE TABLE oid4vci_status_entries (
    list_id INTEGER NOT NULL,
    idx INTEGER NOT NULL,
    value INTEGER NOT NULL,
    PRIMARY KEY (list_id, idx)
);
