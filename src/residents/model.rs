//! Roster values: the status of a transfer between households, the fields one may reveal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub use entity::resident_transfer::TransferStatus;

#[derive(Debug, Clone, Copy, Deserialize, Serialize, ToSchema, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum RevealField {
    Phone,
    IdNumber,
}

impl RevealField {
    pub fn as_str(self) -> &'static str {
        match self {
            RevealField::Phone => "phone",
            RevealField::IdNumber => "id_number",
        }
    }
}
