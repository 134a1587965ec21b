//! Roster values: the status of a transfer between households, the fields one may reveal.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TransferStatus {
    Pending,
    Accepted,
    Refused,
    Cancelled,
}

impl TransferStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            TransferStatus::Pending => "pending",
            TransferStatus::Accepted => "accepted",
            TransferStatus::Refused => "refused",
            TransferStatus::Cancelled => "cancelled",
        }
    }

    pub fn parse(s: &str) -> TransferStatus {
        [
            TransferStatus::Accepted,
            TransferStatus::Refused,
            TransferStatus::Cancelled,
        ]
        .into_iter()
        .find(|t| t.as_str() == s)
        .unwrap_or(TransferStatus::Pending)
    }
}

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
