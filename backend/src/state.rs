//! `AppState`: everything handlers share, built once in `startup`.

use crate::oauth::GitHub;
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
    pub login_limiter: IpRateLimiter,
    pub callback_limiter: IpRateLimiter,
    /// New pre-auth sessions per client: each is a stored row.
    pub preauth_limiter: IpRateLimiter,
}
