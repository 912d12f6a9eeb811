-- idforge-saml-sp ReplayCache and RequestStore. Times are Unix nanoseconds (the ports compare
-- instants exactly).
-- Assertion IDs seen (SAML Profiles §4.1.4.5): consume is one upsert that writes only when the
-- ID is new or its entry expired, so of concurrent uses exactly one writes.
CREATE TABLE saml_replay (
    id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL
);
CREATE INDEX saml_replay_expires_at ON saml_replay (expires_at);
-- AuthnRequests sent and awaited (§4.1.4.3): take is one DELETE … RETURNING.
CREATE TABLE saml_requests (
    id TEXT PRIMARY KEY,
    expires_at INTEGER NOT NULL,
    -- the PendingRequest as JSON
    body TEXT NOT NULL
);
CREATE INDEX saml_requests_expires_at ON saml_requests (expires_at);
