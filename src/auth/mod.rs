//! Identity and access: passwords, tokens, the authenticated-caller extractor and the policy.

pub mod durable;
pub mod extractor;
pub mod password;
pub mod policy;
pub mod tokens;

pub use extractor::AuthUser;
pub use policy::{Action, Role, ScopeType};
