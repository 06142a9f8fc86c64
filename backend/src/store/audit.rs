//! The audit trail's storage: one row per security event, read back per person.

use async_trait::async_trait;

use super::StoreError;

/// One stored event. `kind` and `reason` are the names the audit room gives them.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct AuditRow {
    /// The store's own, increasing with every event (0 in a row not stored yet).
    pub id: i64,
    pub at: i64,
    pub user_id: Option<i64>,
    pub session_id: Option<String>,
    pub kind: String,
    pub reason: Option<String>,
    pub client_ip: Option<String>,
    pub device: Option<String>,
}

#[async_trait]
pub trait AuditLog: Send + Sync {
    /// Stores one event; it is readable by every instance once this returns.
    async fn insert(&self, row: AuditRow) -> Result<(), StoreError>;
    /// The person's last `limit` events, newest first: the refusals among them when
    /// `refusals`, every other kind otherwise (see [`REFUSALS`]).
    async fn recent(
        &self,
        user_id: i64,
        limit: i64,
        refusals: bool,
    ) -> Result<Vec<AuditRow>, StoreError>;
    /// Deletes events before `cutoff` (Unix seconds); returns how many.
    async fn forget_before(&self, cutoff: i64) -> Result<u64, StoreError>;
}

/// The kinds that record a refused request, as stored.
pub const REFUSALS: [&str; 3] = ["csrf_refused", "rate_limited", "sign_in_failed"];

/// The statements both SQL backends run (see `users::sql`). SQLite numbers `$n`
/// parameters in the order they first appear, so they appear in order.
pub(super) mod sql {
    pub const INSERT: &str =
        "INSERT INTO audit_events (at, user_id, session_id, kind, reason, client_ip, device)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";
    pub const RECENT: &str =
        "SELECT id, at, user_id, session_id, kind, reason, client_ip, device FROM audit_events
     WHERE user_id = $1
       AND (kind IN ('csrf_refused', 'rate_limited', 'sign_in_failed')) = $2
     ORDER BY id DESC LIMIT $3";
    pub const FORGET: &str = "DELETE FROM audit_events WHERE at < $1";
}
