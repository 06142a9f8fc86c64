//! The audit trail: a closed set of security events, each one row in `audit_events`
//! (the users database: SQLite or PostgreSQL) and one structured log event with target
//! `audit`. Never token material, codes or verifiers: an event holds a kind, a reason
//! code, ids, the client address and the device label.

use rusqlite::params;
use shared::api::{AuditEvent, AuditKind};

use crate::storage::{Database, StoreError, StoreResultExt as _};

/// Events kept per person in `GET /api/me/activity`.
pub const RECENT: i64 = 50;

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
    /// `None` records to the log only (unit tests).
    db: Option<Database>,
    clock: crate::clock::Clock,
}

impl Audit {
    pub fn new(db: Database, clock: crate::clock::Clock) -> Self {
        Self {
            db: Some(db),
            clock,
        }
    }

    /// Events go to the log only.
    pub fn log_only(clock: crate::clock::Clock) -> Self {
        Self { db: None, clock }
    }

    /// Records `event`. A failed write is logged, never an error for the request that
    /// caused the event.
    pub async fn record(&self, event: Event) {
        let Some(kind) = event.kind else {
            return;
        };
        let at = self.clock.now();
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
        let Some(db) = &self.db else {
            return;
        };
        // Written before the response that caused it leaves: another instance may read
        // the activity list next.
        if let Err(e) = insert(db, at, kind, event).await {
            tracing::warn!(error = ?e, "an audit event was not stored");
        }
    }

    /// The person's last [`RECENT`] events, newest first.
    pub async fn recent(&self, user_id: i64) -> Result<Vec<AuditEvent>, StoreError> {
        let Some(db) = &self.db else {
            return Ok(Vec::new());
        };
        type Row = (
            i64,
            String,
            Option<String>,
            Option<String>,
            Option<String>,
            Option<String>,
        );
        const RECENT_SQL: &str =
            "SELECT at, kind, reason, session_id, device, client_ip FROM audit_events
             WHERE user_id = $1 ORDER BY id DESC LIMIT $2";
        let what = "Failed to read audit events";
        let rows: Vec<Row> = match db {
            Database::Sqlite(writer) => writer
                .run(move |db| {
                    db.prepare_cached(RECENT_SQL)?
                        .query_map(params![user_id, RECENT], |r| {
                            Ok((
                                r.get(0)?,
                                r.get(1)?,
                                r.get(2)?,
                                r.get(3)?,
                                r.get(4)?,
                                r.get(5)?,
                            ))
                        })?
                        .collect()
                })
                .await
                .store(what)?,
            Database::Postgres(pool) => sqlx::query_as(RECENT_SQL)
                .bind(user_id)
                .bind(RECENT)
                .fetch_all(pool)
                .await
                .store(what)?,
        };
        Ok(rows
            .into_iter()
            .filter_map(|(at, kind, reason, session_id, device, client_ip)| {
                Some(AuditEvent {
                    at,
                    kind: kind_from_name(&kind)?,
                    reason,
                    session_id,
                    device,
                    client_ip,
                })
            })
            .collect())
    }

    /// Deletes events older than `days` (AUDIT_RETENTION_DAYS); returns how many.
    pub async fn forget_older_than(&self, days: u64) -> Result<u64, StoreError> {
        let Some(db) = &self.db else {
            return Ok(0);
        };
        let cutoff = self.clock.now() - (days as i64) * 24 * 3600;
        const FORGET: &str = "DELETE FROM audit_events WHERE at < $1";
        let what = "Failed to delete old audit events";
        match db {
            Database::Sqlite(writer) => writer
                .run(move |db| db.prepare_cached(FORGET)?.execute(params![cutoff]))
                .await
                .map(|n| n as u64)
                .store(what),
            Database::Postgres(pool) => sqlx::query(FORGET)
                .bind(cutoff)
                .execute(pool)
                .await
                .map(|done| done.rows_affected())
                .store(what),
        }
    }
}

const INSERT: &str =
    "INSERT INTO audit_events (at, user_id, session_id, kind, reason, client_ip, device)
     VALUES ($1, $2, $3, $4, $5, $6, $7)";

/// Stores one event.
async fn insert(db: &Database, at: i64, kind: AuditKind, e: Event) -> Result<(), StoreError> {
    let what = "Failed to write an audit event";
    match db {
        Database::Sqlite(writer) => writer
            .run(move |db| {
                db.prepare_cached(INSERT)?.execute(params![
                    at,
                    e.user_id,
                    e.session_id,
                    kind_name(kind),
                    e.reason,
                    e.client_ip,
                    e.device
                ])
            })
            .await
            .map(|_| ())
            .store(what),
        Database::Postgres(pool) => sqlx::query(INSERT)
            .bind(at)
            .bind(e.user_id)
            .bind(&e.session_id)
            .bind(kind_name(kind))
            .bind(e.reason)
            .bind(&e.client_ip)
            .bind(&e.device)
            .execute(pool)
            .await
            .map(|_| ())
            .store(what),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    async fn events_recorded_at_once_are_each_stored_once() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        let db = crate::storage::sqlite::connect(&url).await.unwrap();
        let audit = Audit::new(
            Database::Sqlite(db.write.clone()),
            crate::clock::Clock::default(),
        );
        // Many at the same time, as under load.
        let n = 197;
        let recorded = (0..n).map(|i| {
            audit.record(Event {
                user_id: Some(i as i64),
                ..Event::new(AuditKind::SignInSucceeded)
            })
        });
        futures_util::future::join_all(recorded).await;
        // Each recording returned only once its event was in the table.
        let (rows, people): (i64, i64) = db
            .write
            .run(|db| {
                db.query_row(
                    "SELECT COUNT(*), COUNT(DISTINCT user_id) FROM audit_events",
                    [],
                    |r| Ok((r.get(0)?, r.get(1)?)),
                )
            })
            .await
            .unwrap();
        assert_eq!((rows, people), (n as i64, n as i64));
    }

    #[tokio::test]
    async fn events_come_back_newest_first_and_only_for_their_person() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}", dir.path().join("t.sqlite3").display());
        let db = crate::storage::sqlite::connect(&url).await.unwrap();
        let audit = Audit::new(Database::Sqlite(db.write), crate::clock::Clock::default());
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
