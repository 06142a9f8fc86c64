-- Server-side sessions. The key is SHA-256 of the cookie value, so a copy of this table
-- does not hold usable cookies.
CREATE TABLE sessions (
    key BLOB PRIMARY KEY NOT NULL,
    data TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    last_seen INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX sessions_last_seen ON sessions (last_seen);
