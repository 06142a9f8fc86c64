-- Sessions, second shape: a version for conditional writes, a public id for the devices
-- list, the owner for "all sessions of this person", an explicit deadline, and a refresh
-- lease. Sealed values are now bound to their session, so sessions of the first shape
-- could not be read back: upgrading signs everyone out once.
DROP TABLE sessions;

CREATE TABLE sessions (
    -- SHA-256 of the cookie value: a copy of this table holds no usable cookies.
    key BLOB PRIMARY KEY NOT NULL,
    -- 128 random bits; looked up only among one person's sessions, so not indexed.
    public_id TEXT NOT NULL,
    user_id INTEGER,
    data TEXT NOT NULL,
    version INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    lease_owner TEXT,
    lease_until_ms INTEGER
) WITHOUT ROWID;

-- The only secondary index: every write of a session pays for each one (one writer
-- serialises them all), and the sweep that would use the others runs every five minutes.
CREATE INDEX sessions_user ON sessions (user_id) WHERE user_id IS NOT NULL;
