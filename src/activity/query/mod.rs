//! Activity read models: the audit log and the message centre as screens show them.

pub mod audit_trail;
pub mod inbox_messages;
