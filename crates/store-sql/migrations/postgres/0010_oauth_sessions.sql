-- oauth-core SessionStore (login sessions): updates are compare-and-set on version; the
-- record is JSON in body, expires_at its earlier deadline (idle or absolute).
CREATE TABLE oauth_sessions (
    sid TEXT PRIMARY KEY,
    subject TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    -- live while expires_at > now; rewritten by every update
    expires_at BIGINT NOT NULL,
    -- bumped by every write; a write names the version it read
    version BIGINT NOT NULL,
    -- the SessionRecord as JSON
    body TEXT NOT NULL
);
-- by_subject, remove_by_subject (password update)
CREATE INDEX oauth_sessions_subject ON oauth_sessions (subject, created_at);
-- sweep
CREATE INDEX oauth_sessions_expires_at ON oauth_sessions (expires_at);
