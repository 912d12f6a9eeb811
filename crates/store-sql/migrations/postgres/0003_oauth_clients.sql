-- oauth-core ClientStore: registered clients (the secret only as its SHA-256 hash, as
-- oauth-core's Client keeps it).
CREATE TABLE oauth_clients (
    client_id TEXT PRIMARY KEY,
    -- the Client as JSON
    body TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
