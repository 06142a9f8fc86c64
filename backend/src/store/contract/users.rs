//! The behaviour every [`UserRecords`] store must show.

use shared::api::{Profile, User};

use crate::store::{Ping, UserRecords};

fn profile(provider: &str, subject: &str, login: &str) -> Profile {
    Profile(User {
        id: 0,
        provider: provider.into(),
        provider_user_id: subject.into(),
        login: login.into(),
        name: Some("Mona".into()),
        email: None,
        avatar_url: None,
        profile_url: None,
    })
}

/// Runs every check against `store`, which must be empty.
pub async fn run(store: &(impl UserRecords + Ping)) {
    a_person_is_keyed_by_provider_and_subject(store).await;
    the_same_subject_at_two_providers_is_two_people(store).await;
    a_login_is_tied_to_its_first_account_for_good(store).await;
    store.ping().await.unwrap();
}

async fn a_login_is_tied_to_its_first_account_for_good(store: &impl UserRecords) {
    assert_eq!(
        store
            .tie_login("github", "octocat", "583231")
            .await
            .unwrap(),
        "583231"
    );
    assert_eq!(
        store
            .tie_login("github", "octocat", "480938")
            .await
            .unwrap(),
        "583231",
        "someone who took the name later is not its owner"
    );
    assert_eq!(store.tie_login("okta", "octocat", "x").await.unwrap(), "x");
}

async fn a_person_is_keyed_by_provider_and_subject(store: &impl UserRecords) {
    let first = store
        .upsert(&profile("github", "583231", "octocat"), 1)
        .await
        .unwrap();
    // The login can change at the provider; the subject cannot.
    let renamed = store
        .upsert(&profile("github", "583231", "octocat-renamed"), 2)
        .await
        .unwrap();
    assert_eq!(first, renamed);
    assert_eq!(
        store.find_id("github", "583231").await.unwrap(),
        Some(first)
    );
    assert_eq!(store.find_id("github", "octocat").await.unwrap(), None);
    assert_eq!(store.find_id("github", "1").await.unwrap(), None);
}

async fn the_same_subject_at_two_providers_is_two_people(store: &impl UserRecords) {
    let at_github = store
        .upsert(&profile("github", "77", "a"), 3)
        .await
        .unwrap();
    let at_okta = store.upsert(&profile("okta", "77", "a"), 3).await.unwrap();
    assert_ne!(at_github, at_okta);
    assert_eq!(store.find_id("okta", "77").await.unwrap(), Some(at_okta));
}
