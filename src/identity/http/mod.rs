//! Identity handlers.

pub mod accounts;
pub mod auth;
pub mod binding_requests;
pub mod invitations;
pub mod me;
pub mod users;

/// Registers this domain's handlers, in an order where a literal path comes before a template
/// that would also match it.
pub fn configure(cfg: &mut impl crate::platform::http::Routes) {
    cfg.service(auth::login)
        .service(auth::wechat_login)
        .service(auth::refresh)
        .service(auth::logout)
        .service(auth::get_me)
        .service(accounts::update_me)
        .service(accounts::change_my_password)
        .service(accounts::create_wechat_binding_code)
        .service(accounts::delete_wechat_binding)
        .service(accounts::bind_wechat)
        .service(users::create_user)
        .service(users::list_users)
        .service(accounts::update_user)
        .service(accounts::reset_user_password)
        .service(accounts::unlock_user)
        .service(users::create_role_assignment)
        .service(users::list_role_assignments)
        .service(users::delete_role_assignment)
        .service(me::bind_my_phone)
        .service(invitations::create_invitation_code)
        .service(invitations::redeem_invitation)
        .service(me::create_my_binding_request)
        .service(me::list_my_binding_requests)
        .service(me::get_my_household)
        .service(me::export_my_data)
        .service(me::erase_me)
        .service(binding_requests::list_binding_requests)
        .service(binding_requests::approve_binding_request)
        .service(binding_requests::reject_binding_request);
}
