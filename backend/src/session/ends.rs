//! Watching a session for its end, for connections that outlive a request (WebSockets,
//! event streams through an upstream API): they must close when the session ends,
//! whatever ends it (sign-out in another tab, "sign out everywhere", the devices list,
//! expiry, a revocation webhook, back-channel logout) and on whichever instance.
//!
//! Two ways to notice, so that neither has to be perfect:
//! - every change this process makes to a session, and every change another instance
//!   publishes (Redis, through `Sessions::follow`), is broadcast by key; a watcher whose
//!   key changed reads its session from the store at once;
//! - every [`CHECK_EVERY`] a watcher reads its session anyway, which catches expiry (no
//!   write marks it) and anything a lost message would have said.
//!
//! So a session ended anywhere closes its connections within milliseconds when the
//! message arrives, and within [`CHECK_EVERY`] when it does not.

use std::time::Duration;

use tokio::sync::broadcast;

use super::Sessions;
use crate::store::SessionKey;

/// How often a watcher reads its session even without news of a change.
pub const CHECK_EVERY: Duration = Duration::from_secs(2);

/// News of changes: a key, or "anything may have changed" (the channel from other
/// instances was lost and found again).
#[derive(Clone, Copy, Debug)]
pub enum Change {
    Key(SessionKey),
    Any,
}

/// The broadcast of session changes (cheap to clone; one per process).
#[derive(Clone)]
pub struct SessionEnds {
    sender: broadcast::Sender<Change>,
}

impl Default for SessionEnds {
    fn default() -> Self {
        // A watcher that falls behind by this many changes re-reads its session (see
        // `Lagged` below), so the capacity bounds memory, not correctness.
        let (sender, _) = broadcast::channel(1024);
        Self { sender }
    }
}

impl SessionEnds {
    /// Says `change` happened. Nobody watching is the common case and costs nothing.
    pub fn notify(&self, change: Change) {
        if self.sender.receiver_count() > 0 {
            let _ = self.sender.send(change);
        }
    }

    fn subscribe(&self) -> broadcast::Receiver<Change> {
        self.sender.subscribe()
    }
}

/// One connection's watch over its session.
pub struct Watch {
    sessions: Sessions,
    key: SessionKey,
    changes: broadcast::Receiver<Change>,
}

impl Watch {
    pub(super) fn new(sessions: Sessions, key: SessionKey) -> Self {
        let changes = sessions.ends.subscribe();
        Self {
            sessions,
            key,
            changes,
        }
    }

    /// Returns once the session has ended (deleted, or past either timeout). A store
    /// that cannot be read is not an end: the connection stays until the store answers.
    pub async fn ended(&mut self) {
        let mut tick = tokio::time::interval(CHECK_EVERY);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        tick.tick().await;
        loop {
            let look = tokio::select! {
                _ = tick.tick() => true,
                change = self.changes.recv() => match change {
                    Ok(Change::Key(key)) => key == self.key,
                    Ok(Change::Any) | Err(broadcast::error::RecvError::Lagged(_)) => true,
                    // The sender lives as long as `Sessions`: closed means shutting down.
                    Err(broadcast::error::RecvError::Closed) => return,
                },
            };
            if look && self.is_over().await {
                return;
            }
        }
    }

    async fn is_over(&self) -> bool {
        matches!(self.sessions.load_fresh(&self.key).await, Ok(None))
    }
}
