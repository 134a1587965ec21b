//! Access: who acts (`Actor`), tokens and passwords, the one bearer parser, the HTTP extractor of
//! the caller, and the policy (the permission table and the generic scope-to-SQL).

pub mod actions;
pub mod actor;
pub mod author;
pub mod bearer;
pub mod callers;
pub mod durable;
pub mod epoch;
pub mod extractor;
pub mod password;
pub mod policy;
pub mod visible;

pub use actor::Actor;
pub use author::author_of;
pub use extractor::AuthUser;
pub use policy::{Action, Role, ScopeType};
