//! sea-orm entities: the shape of the tables the migrations create.

pub mod attachment;
pub mod audit_event;
pub mod binding_request;
pub mod building;
pub mod community;
pub mod community_public_tag;
pub mod compound;
pub mod grid;
pub mod grid_area;
pub mod household;
pub mod idempotency_key;
pub mod inbox_message;
pub mod login_failure;
pub mod notification;
pub mod property_company;
pub mod refresh_token;
pub mod resident;
pub mod resident_tag;
pub mod role_assignment;
pub mod street;
pub mod ticket;
pub mod ticket_category;
pub mod ticket_event;
pub mod ticket_message;
pub mod ticket_policy;
pub mod user;
