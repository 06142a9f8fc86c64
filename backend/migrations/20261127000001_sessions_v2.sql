-- Sessions, second shape: a version for conditional writes, a public id for the devices
-- list, the owner for "all sessions of this person", an explicit deadline, and a refresh
-- lease. Sealed values are now bound to their session, so sessions of the first shape
-- could not be read back: upgrading signs everyone out once.
DROP TABLE sessions;

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a copy of this table holds no usable cookies.
    key BLOB PRIMARY KEY NOT NULL,
    public_id TEXT NOT NULL UNIQUE,
    user_id INTEGER,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms INTEGER
) WITHOUT ROWID;

CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
CREATE INDEX sessions_last_seen ON sessions (last_seen);
CREATE INDEX sessions_expires_at ON sessions (expires_at);
