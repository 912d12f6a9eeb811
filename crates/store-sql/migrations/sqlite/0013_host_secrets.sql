-- Secrets a host generates once and shares between its processes (idforge serve: the key
-- sealing its login, consent and logout forms and its session cookie). The first process to
-- start stores its candidate; every later one loads it. Never logged.
CREATE TABLE host_secrets (
    name TEXT PRIMARY KEY,
    secret BLOB NOT NULL,
    created_at INTEGER NOT NULL
);
