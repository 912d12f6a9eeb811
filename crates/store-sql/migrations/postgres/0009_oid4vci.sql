-- idforge-oid4vci TemplateStore and IssuanceStore: credential templates, offers, c_nonces,
-- notification ids, deferred transactions and Token Status Lists. Secrets as hashes only.
CREATE TABLE oid4vci_templates (
    id TEXT PRIMARY KEY,
    -- the CredentialTemplate as JSON (validated before it is written)
    body TEXT NOT NULL
);

CREATE TABLE oid4vci_offers (
    id BIGSERIAL PRIMARY KEY,
    pre_authorized_code BYTEA,
    issuer_state BYTEA,
    reference BYTEA,
    expires_at BIGINT NOT NULL,
    -- the OfferRecord as JSON
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_offers_code ON oid4vci_offers (pre_authorized_code);
CREATE INDEX oid4vci_offers_issuer_state ON oid4vci_offers (issuer_state);
CREATE INDEX oid4vci_offers_reference ON oid4vci_offers (reference);
CREATE INDEX oid4vci_offers_expires_at ON oid4vci_offers (expires_at);

-- c_nonce (§7): consumed by one DELETE ... RETURNING
CREATE TABLE oid4vci_nonces (
    nonce BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
CREATE INDEX oid4vci_nonces_expires_at ON oid4vci_nonces (expires_at);

-- notification_id (§11) and deferred transaction_id (§9) records
CREATE TABLE oid4vci_notifications (
    hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_notifications_expires_at ON oid4vci_notifications (expires_at);
CREATE TABLE oid4vci_transactions (
    hash BYTEA PRIMARY KEY,
    expires_at BIGINT NOT NULL,
    body TEXT NOT NULL
);
CREATE INDEX oid4vci_transactions_expires_at ON oid4vci_transactions (expires_at);

-- Token Status Lists: one allocator row hands out (list, index) by one UPDATE ... RETURNING
CREATE TABLE oid4vci_status_allocator (
    id BIGINT PRIMARY KEY,
    list_size BIGINT NOT NULL,
    current_list BIGINT NOT NULL,
    next_index BIGINT NOT NULL
);
CREATE TABLE oid4vci_status_entries (
    list_id BIGINT NOT NULL,
    idx BIGINT NOT NULL,
    value BIGINT NOT NULL,
    PRIMARY KEY (list_id, idx)
);
