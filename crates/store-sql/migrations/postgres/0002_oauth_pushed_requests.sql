-- oauth-core PushedRequestStore (RFC 9126): consumed by one DELETE ... RETURNING.
CREATE TABLE oauth_pushed_requests (
    hash BYTEA PRIMARY KEY,
    client_id TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- the PushedRequest as JSON
    body TEXT NOT NULL
);
-- sweep
CREATE INDEX oauth_pushed_requests_expires_at ON oauth_pushed_requests (expires_at);
