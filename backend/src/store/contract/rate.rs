//! The contract of [`RateCounter`]: GCRA per key, and several counters counted together.

use std::sync::Arc;
use std::time::Duration;

use crate::clock::Clock;
use crate::store::{Rate, RateCounter};

/// Runs the suite on counters `make` returns (name, rate), all on `clock`. `atomic`: the
/// store counts counters together in one step, so a refused request counts nowhere.
pub async fn run(
    make: impl Fn(&'static str, Rate) -> Arc<dyn RateCounter>,
    clock: &Clock,
    atomic: bool,
) {
    let per_minute = |burst| Rate {
        every: Duration::from_secs(60),
        burst,
    };
    let one = make("one", per_minute(2));
    assert_eq!(one.hit("a").await.unwrap(), None);
    assert_eq!(one.hit("a").await.unwrap(), None);
    let wait = one.hit("a").await.unwrap().expect("past the burst");
    assert!(
        wait > Duration::ZERO && wait <= Duration::from_secs(60),
        "{wait:?}"
    );
    assert_eq!(one.hit("b").await.unwrap(), None, "keys count apart");

    // Together: allowed while every counter allows, refused with the longest wait.
    let (wide, narrow, other) = (
        make("wide", per_minute(3)),
        make("narrow", per_minute(1)),
        make("other", per_minute(1)),
    );
    let also: [(&dyn RateCounter, &str); 2] = [(&*narrow, "k"), (&*other, "all")];
    assert_eq!(wide.hit_with("k", &also).await.unwrap(), None);
    let wait = wide
        .hit_with("k", &also)
        .await
        .unwrap()
        .expect("narrow is spent");
    assert!(wait > Duration::from_secs(30), "{wait:?}");
    if atomic {
        // The refused request counted nowhere: wide still has two of its three.
        assert_eq!(wide.hit("k").await.unwrap(), None);
        assert_eq!(wide.hit("k").await.unwrap(), None);
        assert!(wide.hit("k").await.unwrap().is_some());
    }
    // A minute later each has one more.
    clock.advance(Duration::from_secs(60));
    assert_eq!(narrow.hit("k").await.unwrap(), None);
    assert!(wide
        .hit_with("x", &[(&*narrow, "k")])
        .await
        .unwrap()
        .is_some());
    assert_eq!(wide.hit_with("x", &[]).await.unwrap(), None, "alone");
}
