//! Identity rules and transactions; no HTTP types.

pub mod accounts;
pub mod auth;
pub mod binding;
pub mod invitations;
pub mod me;
pub mod users;

use sea_orm::DatabaseConnection;

use crate::platform::cache::SharedCache;
use crate::platform::config::Settings;
use crate::platform::tokens::JwtKeys;

/// What signing in, refreshing and ending sessions need: the database (refresh tokens), the
/// cache (revocations, slow-downs, one-time codes), the token lifetimes and the signing keys.
pub struct Sessions<'a> {
    pub db: &'a DatabaseConnection,
    pub cache: &'a SharedCache,
    pub settings: &'a Settings,
    pub jwt: &'a JwtKeys,
}
