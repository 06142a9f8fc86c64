//! The audit trail: a closed set of security events, each one row in `audit_events`
//! (the users database: SQLite or PostgreSQL) and one structured log event with target
//! `audit`. Never token material, codes or verifiers: an event holds a kind, a reason
//! code, ids, the client address and the device label.

use rusqlite::params;
use shared::api::{AuditEvent, AuditKind};
use tokio::sync::{mpsc, oneshot};

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

fn kind_from_name(name: &str) -> Option<AuditKind> {
    [
        AuditKind::SignInSucceeded,
        AuditKind::SignInFailed,
        AuditKind::SignedOut,
        AuditKind::SessionEnded,
        AuditKind::CsrfRefused,
        AuditKind::RateLimited,
    ]
    .into_iter()
    .find(|k| kind_name(*k) == name)
}

/// Most events written by one statement.
const MAX_BATCH: usize = 64;

/// Where events go. Cheap to clone.
#[derive(Clone)]
pub struct Audit {
    /// `None` records to the log only (unit tests).
    db: Option<Database>,
    /// To the task that writes events (see [`write_batches`]).
    queue: Option<mpsc::Sender<Queued>>,
    clock: crate::clock::Clock,
}

/// An event on its way to the database, and who waits for it to be written.
struct Queued {
    row: Row,
    written: oneshot::Sender<()>,
}

/// One row of `audit_events`.
struct Row {
    at: i64,
    kind: AuditKind,
    event: Event,
}

impl Audit {
    /// Records into `db` through a task spawned on the current runtime.
    pub fn new(db: Database, clock: crate::clock::Clock) -> Self {
        let (queue, waiting) = mpsc::channel(MAX_BATCH * 4);
        tokio::spawn(write_batches(db.clone(), waiting));
        Self {
            db: Some(db),
            queue: Some(queue),
            clock,
        }
    }

    /// Events go to the log only.
    pub fn log_only(clock: crate::clock::Clock) -> Self {
        Self {
            db: None,
            queue: None,
            clock,
        }
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
        let Some(queue) = &self.queue else {
            return;
        };
        // Wait until it is written, as a direct insert would: the event is in the table
        // before the response that caused it leaves (another instance may read it next).
        let (written, done) = oneshot::channel();
        let queued = Queued {
            row: Row { at, kind, event },
            written,
        };
        if queue.send(queued).await.is_err() || done.await.is_err() {
            tracing::warn!("an audit event was not stored: its writer has stopped");
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

/// Writes queued events, all that are waiting (up to [`MAX_BATCH`]) in one statement:
/// under load many requests record at once, and each statement is one turn of the
/// database's single writer (SQLite) or one round trip (PostgreSQL). A lone event is
/// written at once, as before. Runs until every [`Audit`] is dropped.
async fn write_batches(db: Database, mut waiting: mpsc::Receiver<Queued>) {
    let mut batch = Vec::with_capacity(MAX_BATCH);
    while waiting.recv_many(&mut batch, MAX_BATCH).await > 0 {
        let (rows, waiters): (Vec<Row>, Vec<_>) =
            batch.drain(..).map(|q| (q.row, q.written)).unzip();
        let written = insert_rows(&db, rows).await;
        if let Err(e) = written {
            tracing::warn!(error = ?e, events = waiters.len(), "audit events were not stored");
        }
        for waiter in waiters {
            let _ = waiter.send(());
        }
    }
}

const INSERT: &str =
    "INSERT INTO audit_events (at, user_id, session_id, kind, reason, client_ip, device) ";

/// Stores `rows` in one transaction (SQLite) or one statement (PostgreSQL).
async fn insert_rows(db: &Database, rows: Vec<Row>) -> Result<(), StoreError> {
    let what = "Failed to write audit events";
    match db {
        Database::Sqlite(writer) => writer
            .run(move |db| {
                let tx = db.transaction()?;
                {
                    let mut insert = tx
                        .prepare_cached(&format!("{INSERT} VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)"))?;
                    for r in &rows {
                        insert.execute(params![
                            r.at,
                            r.event.user_id,
                            r.event.session_id,
                            kind_name(r.kind),
                            r.event.reason,
                            r.event.client_ip,
                            r.event.device
                        ])?;
                    }
                }
                tx.commit()
            })
            .await
            .store(what),
        Database::Postgres(pool) => {
            let mut insert = sqlx::QueryBuilder::new(INSERT);
            insert.push_values(&rows, |mut row, r| {
                row.push_bind(r.at)
                    .push_bind(r.event.user_id)
                    .push_bind(r.event.session_id.as_deref())
                    .push_bind(kind_name(r.kind))
                    .push_bind(r.event.reason)
                    .push_bind(r.event.client_ip.as_deref())
                    .push_bind(r.event.device.as_deref());
            });
            insert.build().execute(pool).await.map(|_| ()).store(what)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_kind_has_a_name_that_reads_back() {
        for kind in [
            AuditKind::SignInSucceeded,
            AuditKind::SignInFailed,
            AuditKind::SignedOut,
            AuditKind::SessionEnded,
            AuditKind::CsrfRefused,
            AuditKind::RateLimited,
        ] {
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
        // More than one batch, all waiting at the same time.
        let n = MAX_BATCH * 3 + 5;
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
