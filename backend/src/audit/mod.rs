//! The audit trail: a closed set of security events, each one row in `audit_events`
//! (the users database: SQLite or PostgreSQL) and one structured log event with target
//! `audit`. Never token material, codes or verifiers: an event holds a kind, a reason
//! code, ids, the client address and the device label.

use std::sync::Arc;

use shared::api::{AuditEvent, AuditKind};

use crate::clock::Clock;
use crate::store::{AuditLog, AuditRow, StoreError};

/// Events shown per person in `GET /api/me/activity`.
pub const RECENT: i64 = 50;
/// Of those, at most this many are refusals, so refused requests never push sign-ins and
/// sign-outs out of the view.
pub const RECENT_REFUSALS: i64 = 10;

/// The kinds that record a refused request.
pub fn is_refusal(kind: AuditKind) -> bool {
    matches!(
        kind,
        AuditKind::CsrfRefused | AuditKind::RateLimited | AuditKind::SignInFailed
    )
}

/// One event to record.
#[derive(Debug, Default)]
pub struct Event {
    pub kind: Option<AuditKind>,
    /// An error code or a sign-out reason.
    pub reason: Option<&'static str>,
    pub user_id: Option<i64>,
    /// The public id of the session concerned.
    pub session_id: Option<String>,
    pub client_ip: Option<String>,
    pub device: Option<String>,
}

impl Event {
    pub fn new(kind: AuditKind) -> Self {
        Self {
            kind: Some(kind),
            ..Self::default()
        }
    }
}

pub fn kind_name(kind: AuditKind) -> &'static str {
    match kind {
        AuditKind::SignInSucceeded => "sign_in_succeeded",
        AuditKind::SignInFailed => "sign_in_failed",
        AuditKind::SignedOut => "signed_out",
        AuditKind::SessionEnded => "session_ended",
        AuditKind::CsrfRefused => "csrf_refused",
        AuditKind::RateLimited => "rate_limited",
    }
}

/// Every kind, for reading names back.
const KINDS: [AuditKind; 6] = [
    AuditKind::SignInSucceeded,
    AuditKind::SignInFailed,
    AuditKind::SignedOut,
    AuditKind::SessionEnded,
    AuditKind::CsrfRefused,
    AuditKind::RateLimited,
];

fn kind_from_name(name: &str) -> Option<AuditKind> {
    KINDS.into_iter().find(|k| kind_name(*k) == name)
}

/// Where events go. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    store: Arc<dyn AuditLog>,
    clock: Clock,
}

impl Audit {
    pub fn new(store: Arc<dyn AuditLog>, clock: Clock) -> Self {
        Self { store, clock }
    }

    /// Writes `event` to the log only (target `audit`).
    pub fn log(&self, event: &Event) {
        let Some(kind) = event.kind else {
            return;
        };
        tracing::info!(
            target: "audit",
            kind = kind_name(kind),
            reason = event.reason,
            user_id = event.user_id,
            session = event.session_id.as_deref(),
            client_ip = event.client_ip.as_deref(),
            device = event.device.as_deref(),
            "audit event"
        );
    }

    /// Records `event` in the log and the audit table. A failed write is logged, never an
    /// error for the request that caused the event.
    pub async fn record(&self, event: Event) {
        self.log(&event);
        let Some(kind) = event.kind else {
            return;
        };
        // Written before the response that caused it leaves: another instance may read
        // the activity list next.
        let row = AuditRow {
            id: 0,
            at: self.clock.now(),
            user_id: event.user_id,
            session_id: event.session_id,
            kind: kind_name(kind).to_owned(),
            reason: event.reason.map(str::to_owned),
            client_ip: event.client_ip,
            device: event.device,
        };
        match crate::store::traced("audit.insert", self.store.insert(row)).await {
            Ok(()) => {}
            // Counted in the metrics by the store; a flood must not flood the log too.
            Err(StoreError::Overloaded) => {
                tracing::debug!("an audit event was dropped: the writer is overloaded")
            }
            Err(e) => tracing::warn!(error = ?e, "an audit event was not stored"),
        }
    }

    /// The person's last [`RECENT`] events, newest first, of which at most
    /// [`RECENT_REFUSALS`] are refusals.
    pub async fn recent(&self, user_id: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let (mut rows, refusals) = tokio::try_join!(
            self.store.recent(user_id, RECENT, false),
            self.store.recent(user_id, RECENT_REFUSALS, true),
        )?;
        rows.extend(refusals);
        rows.sort_by_key(|row| std::cmp::Reverse(row.id));
        rows.truncate(RECENT as usize);
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                Some(AuditEvent {
                    at: row.at,
                    kind: kind_from_name(&row.kind)?,
                    reason: row.reason,
                    session_id: row.session_id,
                    device: row.device,
                    client_ip: row.client_ip,
                })
            })
            .collect())
    }

    /// Deletes events older than `days` (AUDIT_RETENTION_DAYS); returns how many.
    pub async fn forget_older_than(&self, days: u64) -> Result<u64, StoreError> {
        let cutoff = self.clock.now() - (days as i64) * 24 * 3600;
        self.store.forget_before(cutoff).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::memory::MemoryStore;

    #[test]
    fn every_kind_has_a_name_that_reads_back() {
        for kind in KINDS {
            assert_eq!(kind_from_name(kind_name(kind)), Some(kind));
            // The API spells kinds the same way.
            assert_eq!(
                serde_json::to_string(&kind).unwrap(),
                format!("\"{}\"", kind_name(kind))
            );
        }
    }

    #[tokio::test]
    async fn events_come_back_newest_first_and_only_for_their_person() {
        let audit = Audit::new(Arc::new(MemoryStore::default()), Clock::default());
        for kind in [AuditKind::SignInSucceeded, AuditKind::SignedOut] {
            audit
                .record(Event {
                    user_id: Some(1),
                    ..Event::new(kind)
                })
                .await;
        }
        audit
            .record(Event {
                user_id: Some(2),
                ..Event::new(AuditKind::SignInFailed)
            })
            .await;
        let mine = audit.recent(1).await.unwrap();
        let kinds: Vec<AuditKind> = mine.iter().map(|e| e.kind).collect();
        assert_eq!(kinds, [AuditKind::SignedOut, AuditKind::SignInSucceeded]);
        assert_eq!(
            audit.forget_older_than(1).await.unwrap(),
            0,
            "nothing is a day old"
        );
    }
}
