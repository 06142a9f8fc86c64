//! The behaviour every [`AuditLog`] must show.

use crate::store::{AuditLog, AuditRow};

fn row(at: i64, user_id: i64, kind: &str) -> AuditRow {
    AuditRow {
        id: 0,
        at,
        user_id: Some(user_id),
        session_id: Some("s1".into()),
        kind: kind.into(),
        reason: Some("itself".into()),
        client_ip: Some("192.0.2.1".into()),
        device: Some("Firefox on Linux".into()),
    }
}

/// Runs every check against `log`, which must be empty.
pub async fn run(log: &impl AuditLog) {
    events_come_back_newest_first_and_only_for_their_person(log).await;
    refusals_are_read_apart(log).await;
    old_events_are_forgotten(log).await;
}

async fn events_come_back_newest_first_and_only_for_their_person(log: &impl AuditLog) {
    for (n, kind) in ["sign_in_succeeded", "signed_out", "sign_in_succeeded"]
        .into_iter()
        .enumerate()
    {
        log.insert(row(100 + n as i64, 1, kind)).await.unwrap();
    }
    log.insert(row(200, 2, "sign_in_failed")).await.unwrap();
    let mine = log.recent(1, 50, false).await.unwrap();
    let times: Vec<i64> = mine.iter().map(|r| r.at).collect();
    assert_eq!(times, [102, 101, 100]);
    assert!(
        mine[0].id > mine[1].id && mine[1].id > mine[2].id,
        "ids grow"
    );
    let read_back = AuditRow {
        id: 0,
        ..mine[1].clone()
    };
    assert_eq!(
        read_back,
        row(101, 1, "signed_out"),
        "every field reads back"
    );
    assert_eq!(
        log.recent(1, 2, false).await.unwrap().len(),
        2,
        "the limit holds"
    );
    assert_eq!(log.recent(3, 50, false).await.unwrap(), []);
}

async fn refusals_are_read_apart(log: &impl AuditLog) {
    for (n, kind) in ["csrf_refused", "rate_limited", "sign_in_failed"]
        .into_iter()
        .enumerate()
    {
        log.insert(row(150 + n as i64, 1, kind)).await.unwrap();
    }
    let refusals: Vec<String> = log
        .recent(1, 50, true)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.kind)
        .collect();
    assert_eq!(refusals, ["sign_in_failed", "rate_limited", "csrf_refused"]);
    assert_eq!(
        log.recent(1, 50, false).await.unwrap().len(),
        3,
        "the others are read without them"
    );
}

async fn old_events_are_forgotten(log: &impl AuditLog) {
    assert_eq!(log.forget_before(101).await.unwrap(), 1);
    assert_eq!(log.recent(1, 50, false).await.unwrap().len(), 2);
    assert_eq!(log.forget_before(1_000).await.unwrap(), 6);
    assert_eq!(log.recent(2, 50, false).await.unwrap(), []);
    assert_eq!(log.recent(1, 50, true).await.unwrap(), []);
}
