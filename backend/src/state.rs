//! `AppState`: everything handlers share, built once in `startup`.

use crate::crypto::KeyRing;
use crate::oauth::GitHub;
use crate::routes::spa::StaticAssets;
use crate::security::rate_limit::IpRateLimiter;
use crate::session::Sessions;
use crate::users::UserStore;

pub struct AppState {
    /// `scheme://host[:port]` the browser uses; the only `Origin` accepted on writes.
    pub public_origin: String,
    pub dev_mode: bool,
    pub github: GitHub,
    pub sessions: Sessions,
    pub users: UserStore,
    pub keys: KeyRing,
    pub login_limiter: IpRateLimiter,
    pub callback_limiter: IpRateLimiter,
    /// The built SPA, when `STATIC_DIR` is set.
    pub assets: Option<StaticAssets>,
}
