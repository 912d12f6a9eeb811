-- The provider's signing keys (a jose KeyRing's contents), so a restart keeps them and every
-- process of a deployment signs with the same key. The private JWK is stored as is: protect
-- the database (and its backups) like a key file.
CREATE TABLE signing_keys (
    kid TEXT PRIMARY KEY,
    issuer TEXT NOT NULL,
    -- the JWS alg name (RFC 7518 §3.1)
    alg TEXT NOT NULL,
    private_jwk TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- NULL: the active key; else when the retiring key stops being published
    retire_at BIGINT
);
-- at most one active key per issuer: two processes starting at once keep the first one stored
CREATE UNIQUE INDEX signing_keys_active ON signing_keys (issuer) WHERE retire_at IS NULL;
CREATE INDEX signing_keys_issuer ON signing_keys (issuer, retire_at);
