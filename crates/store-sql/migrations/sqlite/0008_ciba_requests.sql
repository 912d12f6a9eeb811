-- idforge-ciba CibaRequestStore: backchannel authentication requests, keyed by the SHA-256 of
-- auth_req_id and of the approval handle. Transitions are compare-and-set on version.
CREATE TABLE ciba_requests (
    id BLOB PRIMARY KEY,
    approval BLOB NOT NULL UNIQUE,
    client_id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    -- expires_at + the crate's retention: dropped after it
    removable_at INTEGER NOT NULL,
    -- 1 while pending or approved (expire_due's candidates), else 0
    live INTEGER NOT NULL,
    version INTEGER NOT NULL,
    -- the CibaRequest as JSON
    body TEXT NOT NULL
);
-- expire_due: live requests whose time ran out
CREATE INDEX ciba_requests_live_expires_at ON ciba_requests (live, expires_at);
-- expire_due: records past retention
CREATE INDEX ciba_requests_removable_at ON ciba_requests (removable_at);
