//! Audit events in PostgreSQL.

use async_trait::async_trait;
use sqlx::PgPool;

use crate::store::audit::sql;
use crate::store::{AuditLog, AuditRow, StoreError, StoreResultExt as _};

pub struct PgAudit {
    pool: PgPool,
}

impl PgAudit {
    pub fn new(pool: PgPool) -> Self {
        Self { pool }
    }
}

/// One row as sqlx reads it (columns in `sql::RECENT`'s order).
type Row = (
    i64,
    i64,
    Option<i64>,
    Option<String>,
    String,
    Option<String>,
    Option<String>,
    Option<String>,
);

#[async_trait]
impl AuditLog for PgAudit {
    async fn insert(&self, e: AuditRow) -> Result<(), StoreError> {
        sqlx::query(sql::INSERT)
            .bind(e.at)
            .bind(e.user_id)
            .bind(&e.session_id)
            .bind(&e.kind)
            .bind(&e.reason)
            .bind(&e.client_ip)
            .bind(&e.device)
            .execute(&self.pool)
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
        let rows: Vec<Row> = sqlx::query_as(sql::RECENT)
            .bind(user_id)
            .bind(refusals)
            .bind(limit)
            .fetch_all(&self.pool)
            .await
            .store("Failed to read audit events")?;
        Ok(rows
            .into_iter()
            .map(
                |(id, at, user_id, session_id, kind, reason, client_ip, device)| AuditRow {
                    id,
                    at,
                    user_id,
                    session_id,
                    kind,
                    reason,
                    client_ip,
                    device,
                },
            )
            .collect())
    }

    async fn forget_before(&self, cutoff: i64) -> Result<u64, StoreError> {
        sqlx::query(sql::FORGET)
            .bind(cutoff)
            .execute(&self.pool)
            .await
            .map(|done| done.rows_affected())
            .store("Failed to delete old audit events")
    }
}
