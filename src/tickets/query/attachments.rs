//! Photos as a ticket's screens show them.

pub use crate::platform::attachments::AttachmentResponse;
