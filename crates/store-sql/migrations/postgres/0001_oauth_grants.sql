-- oauth-core GrantStore: grants (token families), their codes and tokens, and marks
-- (jti replay / deny-list). Only SHA-256 hashes of codes and tokens are stored.
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    subject TEXT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- the Grant as JSON
    body TEXT NOT NULL
);
-- sweep: DELETE ... WHERE expires_at <= now, in batches
CREATE INDEX oauth_grants_expires_at ON oauth_grants (expires_at);

CREATE TABLE oauth_tokens (
    hash BYTEA PRIMARY KEY,
    -- the TokenKind as JSON ("AuthorizationCode", {"Artifact":"urn:..."})
    kind TEXT NOT NULL,
    -- revoking the grant (one DELETE) removes the whole family
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id) ON DELETE CASCADE,
    issued_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    -- 'active' | 'consumed' | 'rotated'; single-use transitions are one
    -- UPDATE ... WHERE state = 'active' ... RETURNING
    state TEXT NOT NULL,
    state_at BIGINT,
    -- the TokenRecord as JSON (its state is the columns above)
    body TEXT NOT NULL
);
-- revoke_grant's cascade
CREATE INDEX oauth_tokens_grant_id ON oauth_tokens (grant_id);
-- sweep
CREATE INDEX oauth_tokens_expires_at ON oauth_tokens (expires_at);

CREATE TABLE oauth_marks (
    key BYTEA PRIMARY KEY,
    until_at BIGINT NOT NULL
);
-- sweep
CREATE INDEX oauth_marks_until_at ON oauth_marks (until_at);
