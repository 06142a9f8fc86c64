//! Audit events in PostgreSQL.

use async_trait::async_trait;

use crate::store::audit::sql;
use crate::store::{AuditLog, AuditRow, StoreError, StoreResultExt as _};

pub struct PgAudit {
    pools: super::Pools,
}

impl PgAudit {
    pub fn new(pools: super::Pools) -> Self {
        Self { pools }
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
        let e = &e;
        super::retried(&self.pools, |pool| async move {
            sqlx::query(sql::INSERT)
                .bind(e.at)
                .bind(e.user_id)
                .bind(&e.session_id)
                .bind(&e.kind)
                .bind(&e.reason)
                .bind(&e.client_ip)
                .bind(&e.device)
                .execute(&pool)
                .await
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
        let rows: Vec<Row> = super::retried(&self.pools, |pool| async move {
            sqlx::query_as(sql::RECENT)
                .bind(user_id)
                .bind(refusals)
                .bind(limit)
                .fetch_all(&pool)
                .await
        })
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
        super::retried(&self.pools, |pool| async move {
            sqlx::query(sql::FORGET).bind(cutoff).execute(&pool).await
        })
        .await
        .map(|done| done.rows_affected())
        .store("Failed to delete old audit events")
    }
}
