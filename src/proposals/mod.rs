//! The six-step consultation (提议决筹办评; participation design §A1, §A7): a resident proposes
//! a matter for their building, compound or community; households support it (附议, once each);
//! council members or community staff accept it with a tier (小事/普通事/大事), refer 大事 to the
//! street as a red ticket, or reject or merge it; deliberation runs at least the policy's days;
//! the decision opens a poll (through `polls::service::engine`) on a frozen revision whose sha256
//! the poll carries; the poll's close moves the proposal on exactly once, in the poll-close
//! transaction (raising, implementing when no money is needed, or failed); a lead reports
//! progress; completion needs evidence, acceptance two distinct verdicts, evaluation is a
//! satisfaction poll, and closing sets the 回头看 review date a job reminds about.
//!
//! Money (allocations, pledges, the `*_fen` caches) belongs to the funds and pledges services;
//! they join the steps through `service::hooks`.

pub mod http;
pub mod jobs;
pub mod model;
pub mod policy;
pub mod query;
pub mod service;
