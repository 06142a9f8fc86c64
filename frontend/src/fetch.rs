//! Data a view fetches from the BFF: `None` while the first answer is on its way, then
//! the answer; `refetch` asks again and keeps showing the last answer meanwhile. A plain
//! signal and `spawn_local` rather than Leptos's async resources, whose generic
//! machinery cost several KB of `.wasm` for each use (BENCHMARKS.md).

use std::future::Future;
use std::pin::Pin;

use leptos::prelude::*;
use leptos::task::spawn_local;

use crate::api::ApiError;

type Load<T> = Box<dyn Fn() -> Pin<Box<dyn Future<Output = Result<T, ApiError>>>>>;

pub struct Fetched<T: 'static> {
    value: RwSignal<Option<Result<T, ApiError>>>,
    /// Numbers the requests, so an older answer arriving late is dropped.
    latest: StoredValue<u32>,
    load: StoredValue<Load<T>, LocalStorage>,
}

impl<T: 'static> Clone for Fetched<T> {
    fn clone(&self) -> Self {
        *self
    }
}

impl<T: 'static> Copy for Fetched<T> {}

impl<T: Clone + Send + Sync + 'static> Fetched<T> {
    /// Starts the first request at once.
    pub fn new<Fut>(load: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        Self::known_or(None, load)
    }

    /// Starts with `known` when there is one (data the page came with: the first render
    /// shows it, with no request and no loading state), otherwise as [`Fetched::new`].
    pub fn known_or<Fut>(known: Option<T>, load: impl Fn() -> Fut + 'static) -> Self
    where
        Fut: Future<Output = Result<T, ApiError>> + 'static,
    {
        let load: Load<T> = Box::new(move || Box::pin(load()));
        let asked = known.is_none();
        let fetched = Self {
            value: RwSignal::new(known.map(Ok)),
            latest: StoredValue::new(0),
            load: StoredValue::new_local(load),
        };
        if asked {
            fetched.refetch();
        }
        fetched
    }

    /// The last answer (tracked).
    pub fn get(self) -> Option<Result<T, ApiError>> {
        self.value.get()
    }

    /// Asks again.
    pub fn refetch(self) {
        let Some(number) = self.latest.try_update_value(|n| {
            *n += 1;
            *n
        }) else {
            return; // The view is gone.
        };
        let Some(request) = self.load.try_with_value(|load| load()) else {
            return;
        };
        spawn_local(async move {
            let answer = request.await;
            if self.latest.try_get_value() == Some(number) {
                self.value.try_set(Some(answer));
            }
        });
    }
}
