//! Activity handlers.

pub mod audit;
pub mod messages;
pub mod notifications;

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(audit::list_audit_events)
        .service(messages::list_my_messages)
        .service(messages::count_my_unread_messages)
        .service(messages::read_my_message)
        .service(messages::read_all_my_messages)
        .service(notifications::list_notifications)
        .service(notifications::retry_notification);
}
