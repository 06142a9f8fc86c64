//! What a refused request (CSRF, rate limit, failed sign-in) costs. It always goes to the
//! log (target `audit`) and the metrics. It becomes a stored audit event only when a
//! signed-in person stands behind it (nobody else can see it in an activity view), and
//! then at most [`PER_WINDOW`] times per session per [`WINDOW_SECS`]: a flood of refused
//! requests cannot turn the database writer into everyone's bottleneck, nor grow the
//! audit table without bound.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::session::SessionKey;

/// Refusals stored per session per window.
pub const PER_WINDOW: u32 = 5;
/// The window, in seconds.
pub const WINDOW_SECS: i64 = 600;
/// Sessions tracked at once; past that the oldest windows are forgotten.
const TRACKED: usize = 10_000;

/// This instance's count of stored refusals per session.
#[derive(Default)]
pub struct RefusalBudget {
    /// Session → (window start, refusals stored in it).
    counts: Mutex<HashMap<SessionKey, (i64, u32)>>,
}

impl RefusalBudget {
    /// True when one more refusal of `session` may be stored at `now`.
    pub fn admit(&self, session: &SessionKey, now: i64) -> bool {
        let mut counts = self.counts.lock().unwrap_or_else(|e| e.into_inner());
        if counts.len() >= TRACKED && !counts.contains_key(session) {
            counts.retain(|_, (start, _)| now - *start < WINDOW_SECS);
            if counts.len() >= TRACKED {
                return false;
            }
        }
        let entry = counts.entry(*session).or_insert((now, 0));
        if now - entry.0 >= WINDOW_SECS {
            *entry = (now, 0);
        }
        if entry.1 >= PER_WINDOW {
            return false;
        }
        entry.1 += 1;
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_stores_a_few_refusals_per_window() {
        let budget = RefusalBudget::default();
        let key = SessionKey([1; 32]);
        let admitted = (0..20).filter(|_| budget.admit(&key, 1_000)).count();
        assert_eq!(admitted, PER_WINDOW as usize);
        assert!(
            budget.admit(&SessionKey([2; 32]), 1_000),
            "sessions are apart"
        );
        assert!(budget.admit(&key, 1_000 + WINDOW_SECS), "a new window");
    }
}
