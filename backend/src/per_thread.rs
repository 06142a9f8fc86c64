//! A copy of a network client for each HTTP worker thread that uses it.
//!
//! The HTTP server runs each worker on a single-threaded runtime of its own, while the
//! clients of Redis, PostgreSQL, the providers and the upstream APIs were made once. A
//! connection is driven by the runtime that opened it, so a command or query from a worker
//! went to another thread and its answer came back through a second one: two wake-ups of
//! a parked thread per call, which on a machine of two cores cost more than the call. A
//! copy per worker keeps each call on the thread that makes it.
//!
//! Only a single-threaded runtime gets copies of its own. Anywhere else (the main
//! runtime's background tasks, code outside a runtime) uses the shared copy, so the
//! number of connections grows with the workers and no further.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::thread::ThreadId;

use thread_local::ThreadLocal;
use tokio::runtime::{Handle, RuntimeFlavor};

/// True on a thread that drives a single-threaded runtime (an HTTP worker).
fn on_worker() -> bool {
    Handle::try_current().is_ok_and(|h| h.runtime_flavor() == RuntimeFlavor::CurrentThread)
}

/// One value per thread. `ThreadLocal` hands a new thread the slot of one that ended;
/// a copy made there belongs to a runtime that is gone, so a slot remembers the thread
/// that filled it and is made again for any other.
struct Copies<T: Send> {
    slots: ThreadLocal<Mutex<Option<(ThreadId, T)>>>,
}

impl<T: Send + Clone> Copies<T> {
    fn new() -> Self {
        Self {
            slots: ThreadLocal::new(),
        }
    }

    fn get_or(&self, make: impl FnOnce() -> T) -> T {
        let me = std::thread::current().id();
        let mut slot = self
            .slots
            .get_or(|| Mutex::new(None))
            .lock()
            .unwrap_or_else(|e| e.into_inner());
        match &*slot {
            Some((thread, value)) if *thread == me => value.clone(),
            _ => {
                let value = make();
                *slot = Some((me, value.clone()));
                value
            }
        }
    }
}

/// A value made on demand, once per worker thread, from a function that makes it at once
/// (an HTTP client, a lazily connecting pool).
pub struct PerThread<T: Send> {
    shared: T,
    copies: Copies<T>,
    make: Box<dyn Fn() -> T + Send + Sync>,
}

impl<T: Send + Clone> PerThread<T> {
    /// `shared` serves off the workers; `make` is called once in each worker that asks.
    pub fn new(shared: T, make: impl Fn() -> T + Send + Sync + 'static) -> Self {
        Self {
            shared,
            copies: Copies::new(),
            make: Box::new(make),
        }
    }

    /// Copies made by `build`: the shared one at once (its error is returned), each
    /// worker's at its first use. The same settings built the shared copy, so should a
    /// worker's fail anyway, the shared one serves that worker.
    pub fn build<E>(build: impl Fn() -> Result<T, E> + Send + Sync + 'static) -> Result<Self, E>
    where
        T: Sync + 'static,
    {
        let shared = build()?;
        let fallback = shared.clone();
        Ok(Self::new(shared, move || {
            build().unwrap_or_else(|_| fallback.clone())
        }))
    }

    /// This worker's copy, or the shared one off the workers.
    pub fn get(&self) -> T {
        if on_worker() {
            self.copies.get_or(|| (self.make)())
        } else {
            self.shared.clone()
        }
    }
}

/// A value that takes a connection to make (a Redis connection): the shared copy serves
/// a worker until its own has connected in the background, and keeps serving it if that
/// fails (the next call tries again).
pub struct PerThreadConnection<T: Send + Sync> {
    shared: T,
    copies: Copies<Arc<Slot<T>>>,
}

struct Slot<T> {
    value: OnceLock<T>,
    connecting: AtomicBool,
}

impl<T: Send + Sync + Clone + 'static> PerThreadConnection<T> {
    pub fn new(shared: T) -> Self {
        Self {
            shared,
            copies: Copies::new(),
        }
    }

    /// This worker's copy once it is connected, otherwise the shared one; the first call
    /// in a worker starts `connect` on that worker's runtime.
    pub fn get<F>(&self, connect: impl FnOnce() -> F) -> T
    where
        F: std::future::Future<Output = Option<T>> + Send + 'static,
    {
        if !on_worker() {
            return self.shared.clone();
        }
        let slot = self.copies.get_or(|| {
            Arc::new(Slot {
                value: OnceLock::new(),
                connecting: AtomicBool::new(false),
            })
        });
        if let Some(value) = slot.value.get() {
            return value.clone();
        }
        if !slot.connecting.swap(true, Ordering::AcqRel) {
            let connecting = connect();
            // On this worker's runtime: the connection's driver is spawned where it is made.
            tokio::spawn(async move {
                match connecting.await {
                    Some(value) => {
                        let _ = slot.value.set(value);
                    }
                    None => slot.connecting.store(false, Ordering::Release),
                }
            });
        }
        self.shared.clone()
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::AtomicUsize;

    use super::*;

    fn counter() -> (Arc<AtomicUsize>, PerThread<usize>) {
        let made = Arc::new(AtomicUsize::new(0));
        let counted = made.clone();
        let values = PerThread::new(0, move || 1 + counted.fetch_add(1, Ordering::SeqCst));
        (made, values)
    }

    #[test]
    fn off_a_worker_the_shared_copy_serves() {
        let (made, values) = counter();
        assert_eq!(values.get(), 0);
        assert_eq!(values.get(), 0);
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(1)
            .build()
            .unwrap();
        assert_eq!(runtime.block_on(async { values.get() }), 0);
        assert_eq!(made.load(Ordering::SeqCst), 0);
    }

    #[test]
    fn each_worker_makes_its_own_copy_once() {
        let (made, values) = counter();
        let values = Arc::new(values);
        // One after the other: the second thread is given the first one's slot, and must
        // not be given its copy.
        let seen: Vec<(usize, usize)> = (0..2)
            .map(|_| {
                let values = values.clone();
                std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .build()
                        .unwrap();
                    runtime.block_on(async { (values.get(), values.get()) })
                })
                .join()
                .unwrap()
            })
            .collect();
        for (first, second) in &seen {
            assert_eq!(first, second, "a worker keeps its copy");
            assert_ne!(*first, 0, "a worker does not use the shared copy");
        }
        assert_ne!(seen[0].0, seen[1].0, "two workers, two copies");
        assert_eq!(made.load(Ordering::SeqCst), 2);
    }

    #[tokio::test]
    async fn a_connection_serves_once_made_and_a_failed_one_is_tried_again() {
        let values = PerThreadConnection::new(0usize);
        let attempts = Arc::new(AtomicUsize::new(0));
        let connect = |outcome: Option<usize>| {
            let attempts = attempts.clone();
            move || async move {
                attempts.fetch_add(1, Ordering::SeqCst);
                outcome
            }
        };
        assert_eq!(
            values.get(connect(None)),
            0,
            "the shared copy while connecting"
        );
        tokio::task::yield_now().await;
        assert_eq!(
            values.get(connect(Some(7))),
            0,
            "tried again after a failure"
        );
        tokio::task::yield_now().await;
        assert_eq!(values.get(connect(Some(8))), 7, "connected: its own copy");
        assert_eq!(attempts.load(Ordering::SeqCst), 2);
    }
}
