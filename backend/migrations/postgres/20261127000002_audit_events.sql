-- Security events of each person (sign-ins, sign-outs and why, refusals), newest read
-- first per person, swept after AUDIT_RETENTION_DAYS.
CREATE TABLE audit_events (
    id BIGSERIAL PRIMARY KEY,
    at BIGINT NOT NULL,
    user_id BIGINT,
    session_id TEXT,
    kind TEXT NOT NULL,
    reason TEXT,
    client_ip TEXT,
    device TEXT
);
CREATE INDEX audit_events_user ON audit_events (user_id, id);
CREATE INDEX audit_events_at ON audit_events (at);
