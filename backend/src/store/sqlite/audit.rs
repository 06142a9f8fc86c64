//! Audit events in the SQLite file, written on the writer connection.

use async_trait::async_trait;
use rusqlite::params;

use super::Writer;
use crate::store::audit::sql;
use crate::store::{AuditLog, AuditRow, StoreError, StoreResultExt as _};

pub struct SqliteAudit {
    writer: Writer,
}

impl SqliteAudit {
    pub fn new(writer: Writer) -> Self {
        Self { writer }
    }
}

#[async_trait]
impl AuditLog for SqliteAudit {
    async fn insert(&self, e: AuditRow) -> Result<(), StoreError> {
        // Dropped first when the writer is busy: an audit event is never worth a
        // sign-in's wait.
        self.writer
            .run_droppable(move |db| {
                db.prepare_cached(sql::INSERT)?.execute(params![
                    e.at,
                    e.user_id,
                    e.session_id,
                    e.kind,
                    e.reason,
                    e.client_ip,
                    e.device
                ])
            })
            .await
            .map(|_| ())
            .store("Failed to write an audit event")
    }

    async fn recent(
        &self,
        user_id: i64,
        limit: i64,
        refusals: bool,
    ) -> Result<Vec<AuditRow>, StoreError> {
        self.writer
            .run(move |db| {
                db.prepare_cached(sql::RECENT)?
                    .query_map(params![user_id, refusals, limit], |r| {
                        Ok(AuditRow {
                            id: r.get(0)?,
                            at: r.get(1)?,
                            user_id: r.get(2)?,
                            session_id: r.get(3)?,
                            kind: r.get(4)?,
                            reason: r.get(5)?,
                            client_ip: r.get(6)?,
                            device: r.get(7)?,
                        })
                    })?
                    .collect()
            })
            .await
            .store("Failed to read audit events")
    }

    async fn forget_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        self.writer
            .run(move |db| db.prepare_cached(sql::FORGET)?.execute(params![cutoff]))
            .await
            .map(|n| n as u64)
            .store("Failed to delete old audit events")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::contract;

    #[tokio::test]
    async fn the_sqlite_audit_log_keeps_the_contract() {
        let (_dir, db) = super::super::temporary().await;
        contract::audit::run(&SqliteAudit::new(db.write)).await;
    }

    #[tokio::test]
    async fn events_recorded_at_once_are_each_stored_once() {
        let (_dir, db) = super::super::temporary().await;
        let log = SqliteAudit::new(db.write.clone());
        // Many at the same time, as under load.
        let n = 197;
        let inserts = (0..n).map(|i| {
            log.insert(AuditRow {
                at: 1,
                user_id: Some(i),
                kind: "sign_in_succeeded".into(),
                ..AuditRow::default()
            })
        });
        for answer in futures_util::future::join_all(inserts).await {
            answer.unwrap();
        }
        // Each insert returned only once its event was in the table.
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
        assert_eq!((rows, people), (n, n));
    }
}
