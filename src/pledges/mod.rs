//! Pledges (民筹, participation design §A6): money, labour and materials residents (or staff on
//! a resident's or an organisation's behalf) promise to a proposal while it raises or is
//! implemented. Money is recorded when received (a `contribution` entry of a fund account, no
//! payment integration), labour is confirmed in minutes by the proposal's lead, materials with a
//! receipt photo; an unfulfilled pledge lapses when its proposal ends, exactly once. Public
//! lists show the pledger as they chose: masked or anonymous (organisations by name).

pub mod http;
pub mod model;
pub mod query;
pub mod service;
