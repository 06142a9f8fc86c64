-- Ids that must be acted on once: webhook deliveries (GitHub redelivers with the same
-- X-GitHub-Delivery) and logout-token jti values. Kept until `expires_at`, then swept.
CREATE TABLE seen_ids (
    kind TEXT NOT NULL,
    id TEXT NOT NULL,
    expires_at INTEGER NOT NULL,
    PRIMARY KEY (kind, id)
) WITHOUT ROWID;
