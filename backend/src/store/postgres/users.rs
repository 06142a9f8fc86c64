//! People in PostgreSQL.

use async_trait::async_trait;
use shared::api::Profile;

use crate::store::users::sql;
use crate::store::{Ping, StoreError, StoreResultExt as _, UserRecords};

pub struct PgUsers {
    pools: super::Pools,
}

impl PgUsers {
    pub fn new(pools: super::Pools) -> Self {
        Self { pools }
    }
}

#[async_trait]
impl UserRecords for PgUsers {
    async fn upsert(&self, p: &Profile, now: i64) -> Result<i64, StoreError> {
        super::retried(&self.pools, |pool| async move {
            sqlx::query_scalar(sql::UPSERT)
                .bind(&p.provider)
                .bind(&p.provider_user_id)
                .bind(&p.login)
                .bind(&p.name)
                .bind(&p.email)
                .bind(&p.avatar_url)
                .bind(&p.profile_url)
                .bind(now)
                .fetch_one(&pool)
                .await
        })
        .await
        .store("Failed to upsert the user")
    }

    async fn find_id(
        &self,
        provider: &str,
        provider_user_id: &str,
    ) -> Result<Option<i64>, StoreError> {
        super::retried(&self.pools, |pool| async move {
            sqlx::query_scalar(sql::FIND_ID)
                .bind(provider)
                .bind(provider_user_id)
                .fetch_optional(&pool)
                .await
        })
        .await
        .store("Failed to look a user up")
    }

    async fn tie_login(
        &self,
        provider: &str,
        login: &str,
        provider_user_id: &str,
    ) -> Result<String, StoreError> {
        super::retried(&self.pools, |pool| async move {
            sqlx::query(sql::TIE_LOGIN)
                .bind(provider)
                .bind(login)
                .bind(provider_user_id)
                .execute(&pool)
                .await
        })
        .await
        .store("Failed to tie an allowed login")?;
        super::retried(&self.pools, |pool| async move {
            sqlx::query_scalar(sql::TIED_TO)
                .bind(provider)
                .bind(login)
                .fetch_one(&pool)
                .await
        })
        .await
        .store("Failed to read an allowed login")
    }
}

#[async_trait]
impl Ping for PgUsers {
    async fn ping(&self) -> Result<(), StoreError> {
        super::retried(&self.pools, |pool| async move {
            sqlx::query(sql::PING).execute(&pool).await
        })
        .await
        .map(|_| ())
        .store("The user table is not reachable")
    }
}
