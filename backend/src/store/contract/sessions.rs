//! The behaviour every session store must show, one suite per trait, which each store's
//! tests run against a real instance (memory and SQLite in unit tests, Redis in the
//! end-to-end tests, which start a real server).

use std::sync::Arc;

use crate::store::{
    ExpiredDeletion, Ping, Record, RefreshLeases, SeenIds, SessionIndex, SessionKey, SessionRecords,
};

/// Times in the contract are seconds after this (the year 2096), so that stores that
/// let the server expire keys by absolute time (Redis) keep them for the test.
const T0: i64 = 4_000_000_000;

fn key(n: u8) -> SessionKey {
    SessionKey([n; 32])
}

fn record(public_id: &str, person: Option<i64>, version: i64) -> Record {
    Record {
        public_id: public_id.to_owned(),
        person: person.map(|n| format!("github:{n}")),
        provider_sid: None,
        data: format!("{{\"v\":{version}}}"),
        version,
        created_at: T0 + 1_000,
        last_seen: T0 + 1_000,
        expires_at: T0 + 10_000,
    }
}

/// Every suite below against one store, which must be empty.
pub async fn run_all<S>(store: Arc<S>)
where
    S: SessionRecords + SessionIndex + ExpiredDeletion + RefreshLeases + SeenIds + Ping + 'static,
{
    records(&*store).await;
    one_of_many_concurrent_updates_wins(store.clone()).await;
    index(&*store).await;
    expiry(&*store).await;
    leases(&*store).await;
    seen_ids(&*store).await;
    store.ping().await.unwrap();
}

/// [`SessionRecords`]: conditional writes, deletes that stick, re-keying.
pub async fn records<S: SessionRecords>(store: &S) {
    inserted_records_load_back(store).await;
    updates_are_conditional_on_the_version(store).await;
    a_deleted_session_is_never_resurrected(store).await;
    touch_moves_last_seen_forward_only(store).await;
}

/// [`SessionIndex`]: by person and by provider session.
pub async fn index<S: SessionRecords + SessionIndex>(store: &S) {
    a_replaced_session_answers_only_to_its_new_key(store).await;
    a_replace_counts_the_persons_sessions_never_fewer(store).await;
    sessions_are_listed_per_person(store).await;
    a_persons_sessions_are_deleted_in_one_call(store).await;
    sessions_are_found_by_provider_session(store).await;
}

/// [`ExpiredDeletion`].
pub async fn expiry<S: SessionRecords + SessionIndex + ExpiredDeletion>(store: &S) {
    expired_sessions_are_removed_and_returned(store).await;
}

/// [`RefreshLeases`].
pub async fn leases<S: SessionRecords + RefreshLeases>(store: &S) {
    a_lease_has_one_holder_until_it_expires(store).await;
}

/// [`SeenIds`].
pub async fn seen_ids<S: SeenIds>(store: &S) {
    an_id_is_seen_for_the_first_time_once(store).await;
}

async fn an_id_is_seen_for_the_first_time_once(store: &impl SeenIds) {
    assert!(!store.has_seen("delivery", "a", T0).await.unwrap());
    store.remember("delivery", "a", T0 + 100).await.unwrap();
    assert!(store.has_seen("delivery", "a", T0).await.unwrap());
    assert!(
        !store.has_seen("jti", "a", T0).await.unwrap(),
        "kinds are apart"
    );
    // Remembered again with an earlier expiry: the later one stands.
    store.remember("delivery", "a", T0 + 10).await.unwrap();
    store.forget_sightings(T0 + 50).await.unwrap();
    assert!(
        store.has_seen("delivery", "a", T0 + 50).await.unwrap(),
        "not expired yet"
    );
}

async fn inserted_records_load_back(store: &impl SessionRecords) {
    let r = record("p1", None, 1);
    store.insert(&key(1), &r).await.unwrap();
    assert_eq!(store.load(&key(1)).await.unwrap(), Some(r));
    assert_eq!(store.load(&key(2)).await.unwrap(), None);
    assert!(store.delete(&key(1)).await.unwrap());
    assert!(!store.delete(&key(1)).await.unwrap());
}

async fn a_replaced_session_answers_only_to_its_new_key(
    store: &(impl SessionRecords + SessionIndex),
) {
    store
        .insert(&key(20), &record("p20", None, 3))
        .await
        .unwrap();
    let signed_in = record("p21", Some(9), 1);
    store.replace(&key(20), &key(21), &signed_in).await.unwrap();
    assert_eq!(store.load(&key(20)).await.unwrap(), None);
    assert_eq!(store.load(&key(21)).await.unwrap(), Some(signed_in.clone()));
    let listed: Vec<_> = store
        .list_for_person("github:9")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, r)| (k.0, r))
        .collect();
    assert_eq!(listed, vec![(key(21).0, signed_in)]);
    // The old session ended meanwhile: the new one is stored all the same.
    let again = record("p23", Some(9), 1);
    store.replace(&key(22), &key(23), &again).await.unwrap();
    assert_eq!(store.load(&key(23)).await.unwrap(), Some(again));
    // A signed-in session replaced (signing in again in the same browser) leaves the
    // person's list with the new one only.
    let newer = record("p24", Some(9), 1);
    store.replace(&key(23), &key(24), &newer).await.unwrap();
    let mut listed: Vec<_> = store
        .list_for_person("github:9")
        .await
        .unwrap()
        .into_iter()
        .map(|(k, _)| k.0)
        .collect();
    listed.sort();
    assert_eq!(listed, vec![key(21).0, key(24).0]);
    assert!(store.delete(&key(21)).await.unwrap());
    assert!(!store.delete(&key(23)).await.unwrap());
    assert!(store.delete(&key(24)).await.unwrap());
}

/// What `replace` may say about the person's sessions: nothing, or at least as many as
/// they have (the sign-in ends the oldest past the limit on that word alone).
async fn a_replace_counts_the_persons_sessions_never_fewer(
    store: &(impl SessionRecords + SessionIndex),
) {
    let person = "github:60";
    let at_least = |counted: Option<usize>, listed: usize| {
        if let Some(n) = counted {
            assert!(n >= listed, "counted {n}, but {listed} are listed");
        }
    };
    store
        .insert(&key(60), &record("p60", None, 1))
        .await
        .unwrap();
    let counted = store
        .replace(&key(60), &key(61), &record("p61", Some(60), 1))
        .await
        .unwrap();
    at_least(counted, 1);
    store
        .insert(&key(62), &record("p62", Some(60), 1))
        .await
        .unwrap();
    let counted = store
        .replace(&key(63), &key(64), &record("p64", Some(60), 1))
        .await
        .unwrap();
    let listed = store.list_for_person(person).await.unwrap().len();
    assert_eq!(listed, 3);
    at_least(counted, listed);
    // A record of nobody has no person to count.
    let counted = store
        .replace(&key(65), &key(66), &record("p66", None, 1))
        .await
        .unwrap();
    assert_eq!(counted, None);
    for n in [61, 62, 64, 66] {
        assert!(store.delete(&key(n)).await.unwrap());
    }
}

/// For stores that say they count in `replace` (Redis, SQLite): they always do, for a
/// record with a person, and exactly when nothing has expired.
pub async fn replace_counts_in_the_same_write<S: SessionRecords + SessionIndex>(store: &S) {
    for (n, previous) in [(70u8, Some(71u8)), (72, None), (73, Some(74))] {
        if let Some(previous) = previous {
            store
                .insert(&key(previous), &record("p70", None, 1))
                .await
                .unwrap();
        }
        let counted = store
            .replace(
                &key(previous.unwrap_or(79)),
                &key(n),
                &record(&format!("p{n}"), Some(70), 1),
            )
            .await
            .unwrap();
        let listed = store.list_for_person("github:70").await.unwrap().len();
        assert_eq!(counted, Some(listed));
    }
    assert_eq!(
        store
            .delete_all_for_person("github:70")
            .await
            .unwrap()
            .len(),
        3
    );
}

async fn updates_are_conditional_on_the_version(store: &impl SessionRecords) {
    store.insert(&key(3), &record("p3", None, 1)).await.unwrap();
    let next = record("p3", Some(7), 2);
    assert!(store.update(&key(3), &next, 1).await.unwrap());
    // A writer that read version 1 loses: its change would overwrite someone else's.
    assert!(!store
        .update(&key(3), &record("p3", None, 2), 1)
        .await
        .unwrap());
    assert_eq!(store.load(&key(3)).await.unwrap(), Some(next));
    store.delete(&key(3)).await.unwrap();
}

async fn a_deleted_session_is_never_resurrected(store: &impl SessionRecords) {
    store
        .insert(&key(4), &record("p4", Some(1), 1))
        .await
        .unwrap();
    store.delete(&key(4)).await.unwrap();
    assert!(!store
        .update(&key(4), &record("p4", Some(1), 2), 1)
        .await
        .unwrap());
    store.touch(&key(4), T0 + 2_000).await.unwrap();
    assert_eq!(store.load(&key(4)).await.unwrap(), None);
}

async fn touch_moves_last_seen_forward_only(store: &impl SessionRecords) {
    store.insert(&key(5), &record("p5", None, 1)).await.unwrap();
    store.touch(&key(5), T0 + 3_000).await.unwrap();
    store.touch(&key(5), T0 + 2_000).await.unwrap();
    let loaded = store.load(&key(5)).await.unwrap().unwrap();
    assert_eq!(loaded.last_seen, T0 + 3_000);
    assert_eq!(loaded.version, 1, "touch is not a change of the session");
    store.delete(&key(5)).await.unwrap();
}

async fn sessions_are_listed_per_person(store: &(impl SessionRecords + SessionIndex)) {
    store
        .insert(&key(6), &record("p6", Some(42), 1))
        .await
        .unwrap();
    store
        .insert(&key(7), &record("p7", Some(42), 1))
        .await
        .unwrap();
    store
        .insert(&key(8), &record("p8", Some(43), 1))
        .await
        .unwrap();
    store.insert(&key(9), &record("p9", None, 1)).await.unwrap();
    let mut mine: Vec<String> = store
        .list_for_person("github:42")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.public_id)
        .collect();
    mine.sort();
    assert_eq!(mine, ["p6", "p7"]);
    // Signing in (an update that sets the person) adds to the list.
    assert!(store
        .update(&key(9), &record("p9", Some(42), 2), 1)
        .await
        .unwrap());
    assert_eq!(store.list_for_person("github:42").await.unwrap().len(), 3);
    assert_eq!(store.count_for_person("github:42").await.unwrap(), 3);
    store.delete(&key(6)).await.unwrap();
    assert_eq!(store.list_for_person("github:42").await.unwrap().len(), 2);
    assert_eq!(store.count_for_person("github:42").await.unwrap(), 2);
    assert_eq!(store.count_for_person("github:404").await.unwrap(), 0);
    for n in [7, 8, 9] {
        store.delete(&key(n)).await.unwrap();
    }
    assert!(store.list_for_person("github:42").await.unwrap().is_empty());
}

async fn expired_sessions_are_removed_and_returned(
    store: &(impl SessionRecords + SessionIndex + ExpiredDeletion),
) {
    let mut past_deadline = record("p10", Some(1), 1);
    past_deadline.expires_at = T0 + 5_000;
    let mut idle = record("p11", Some(1), 1);
    idle.last_seen = T0 + 1_500;
    let mut live = record("p12", Some(1), 1);
    live.last_seen = T0 + 4_000;
    store.insert(&key(10), &past_deadline).await.unwrap();
    store.insert(&key(11), &idle).await.unwrap();
    store.insert(&key(12), &live).await.unwrap();
    // At 5000, with sessions idle since before 2000 expired.
    let first = store
        .delete_expired(T0 + 5_000, T0 + 2_000, 1)
        .await
        .unwrap();
    assert_eq!(first.len(), 1, "the limit is respected");
    let rest = store
        .delete_expired(T0 + 5_000, T0 + 2_000, 10)
        .await
        .unwrap();
    let mut removed: Vec<String> = first
        .into_iter()
        .chain(rest)
        .map(|r| r.record.public_id)
        .collect();
    removed.sort();
    assert_eq!(removed, ["p10", "p11"]);
    assert!(store.load(&key(12)).await.unwrap().is_some());
    assert_eq!(store.list_for_person("github:1").await.unwrap().len(), 1);
    store.delete(&key(12)).await.unwrap();
}

async fn a_lease_has_one_holder_until_it_expires(store: &(impl SessionRecords + RefreshLeases)) {
    // Leases run on real time (Redis expires them itself), so this check does too.
    let now = || crate::clock::Clock::default().now_ms();
    assert!(
        !store
            .try_lease(&key(13), "a", now(), now() + 200)
            .await
            .unwrap(),
        "no lease on a session that does not exist"
    );
    store
        .insert(&key(13), &record("p13", Some(1), 1))
        .await
        .unwrap();
    assert!(store
        .try_lease(&key(13), "a", now(), now() + 200)
        .await
        .unwrap());
    assert!(!store
        .try_lease(&key(13), "b", now(), now() + 200)
        .await
        .unwrap());
    // Releasing someone else's lease does nothing.
    store.release_lease(&key(13), "b").await.unwrap();
    assert!(!store
        .try_lease(&key(13), "b", now(), now() + 200)
        .await
        .unwrap());
    // An expired lease can be taken over.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(store
        .try_lease(&key(13), "b", now(), now() + 200)
        .await
        .unwrap());
    store.release_lease(&key(13), "b").await.unwrap();
    assert!(store
        .try_lease(&key(13), "a", now(), now() + 200)
        .await
        .unwrap());
    store.delete(&key(13)).await.unwrap();
}

/// Many tasks race to update one session from the same version: exactly one wins.
async fn one_of_many_concurrent_updates_wins<S: SessionRecords + 'static>(store: Arc<S>) {
    store
        .insert(&key(20), &record("p20", None, 1))
        .await
        .unwrap();
    let tasks: Vec<_> = (0..32)
        .map(|n| {
            let store = store.clone();
            tokio::spawn(async move {
                let mut next = record("p20", Some(n), 2);
                next.data = format!("{{\"writer\":{n}}}");
                store.update(&key(20), &next, 1).await.unwrap()
            })
        })
        .collect();
    let mut wins = 0;
    for task in tasks {
        wins += usize::from(task.await.unwrap());
    }
    assert_eq!(wins, 1);
    store.delete(&key(20)).await.unwrap();
}

async fn sessions_are_found_by_provider_session(store: &(impl SessionRecords + SessionIndex)) {
    let with_sid = |public_id: &str, sid: Option<&str>| Record {
        provider_sid: sid.map(|s| format!("okta {s}")),
        ..record(public_id, Some(5), 1)
    };
    store
        .insert(&key(30), &with_sid("p30", Some("a")))
        .await
        .unwrap();
    store
        .insert(&key(31), &with_sid("p31", Some("a")))
        .await
        .unwrap();
    store
        .insert(&key(32), &with_sid("p32", Some("b")))
        .await
        .unwrap();
    let mut found: Vec<String> = store
        .with_provider_sid("okta a")
        .await
        .unwrap()
        .into_iter()
        .map(|(_, r)| r.public_id)
        .collect();
    found.sort();
    assert_eq!(found, ["p30", "p31"]);
    // An update that drops the provider session takes the session out of its set.
    assert!(store
        .update(&key(31), &with_sid("p31", None), 1)
        .await
        .unwrap());
    assert_eq!(store.with_provider_sid("okta a").await.unwrap().len(), 1);
    store.delete(&key(30)).await.unwrap();
    assert!(store.with_provider_sid("okta a").await.unwrap().is_empty());
    assert!(store.with_provider_sid("okta zz").await.unwrap().is_empty());
    for n in [31, 32] {
        store.delete(&key(n)).await.unwrap();
    }
}

async fn a_persons_sessions_are_deleted_in_one_call(store: &(impl SessionRecords + SessionIndex)) {
    for n in [40, 41, 42] {
        store
            .insert(&key(n), &record(&format!("p{n}"), Some(77), 1))
            .await
            .unwrap();
    }
    store
        .insert(&key(43), &record("p43", Some(78), 1))
        .await
        .unwrap();
    let mut removed: Vec<String> = store
        .delete_all_for_person("github:77")
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.record.public_id)
        .collect();
    removed.sort();
    assert_eq!(removed, ["p40", "p41", "p42"]);
    assert!(store.list_for_person("github:77").await.unwrap().is_empty());
    for n in [40, 41, 42] {
        assert_eq!(store.load(&key(n)).await.unwrap(), None);
    }
    assert!(store.load(&key(43)).await.unwrap().is_some(), "others stay");
    assert!(store
        .delete_all_for_person("github:77")
        .await
        .unwrap()
        .is_empty());
    store.delete(&key(43)).await.unwrap();
}
