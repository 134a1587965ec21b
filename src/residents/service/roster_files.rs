//! The roster import and export as units of work: who may, the one transaction an import is
//! written in (or rolled back, for a preview), and the audit record of each.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, TransactionTrait};
use uuid::Uuid;

use crate::access::policy::{self, Action};
use crate::access::Actor;
use crate::platform::audit;
use crate::platform::error::{AppError, AppResult, FieldCode, FieldError};
use crate::platform::lang::Text;
use crate::platform::pii::Pii;
use crate::residents::service::io::{self as svc, ExportFilter, ExportRow, ImportSummary, Table};
use crate::territory::model::Compound;
use crate::territory::query::places;

/// The compound a file is imported into: 404 unless the caller sees it, 403 unless they keep
/// its roster.
pub async fn authorize_import<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    compound_id: Uuid,
) -> AppResult<Compound> {
    places::authorize_compound(
        db,
        actor,
        Action::CompoundRead,
        Action::ResidentWrite,
        compound_id,
    )
    .await
}

/// Imports `table` into `compound`, all rows or none, in one transaction audited with the
/// write; with `dry_run` the rows are written and rolled back, so the counts are exactly what
/// the import would do.
pub async fn import<C: ConnectionTrait + TransactionTrait>(
    db: &C,
    pii: &Pii,
    actor: &Actor,
    compound: Compound,
    table: Table,
    dry_run: bool,
    now: DateTime<Utc>,
) -> AppResult<(ImportSummary, usize)> {
    let write_scope = policy::scope(db, actor, Action::ResidentWrite).await?;
    let (street_id, community_id, compound_id) =
        (compound.street_id, compound.community_id, compound.id);
    let plan = svc::plan_import(db, pii, compound, &write_scope, table, now).await?;
    let rows = plan.rows();
    let txn = db.begin().await?;
    let summary = svc::execute_import(&txn, pii, plan, now).await?;
    if dry_run {
        txn.rollback().await?;
        return Ok((summary, rows));
    }
    // A roster import writes personal data in bulk: it is audited with the write, in the
    // compound's street's log.
    audit::record(
        &txn,
        audit::Event {
            actor: actor.into(),
            action: audit::Action::Import,
            street_id: Some(street_id),
            community_id: Some(community_id),
            resident_id: None,
            field: None,
            purpose: "",
            detail: Some(
                serde_json::json!({
                    "compound_id": compound_id,
                    "rows": rows,
                    "created": summary.created,
                    "updated": summary.updated,
                    "matched_in_household": summary.matched_in_household,
                    "households_created": summary.households_created,
                })
                .to_string(),
            ),
        },
        now,
    )
    .await?;
    txn.commit().await?;
    // Thousands of rows in one go: the planner must not keep planning the roster as it was. The
    // import is in; a failure here only costs plans until autovacuum catches up.
    if let Err(e) =
        crate::platform::statistics::refresh(db, &["residents", "resident_tags", "households"])
            .await
    {
        tracing::warn!(error = %e, "ANALYZE after the roster import failed");
    }
    Ok((summary, rows))
}

/// An export ready to be written: its residents in order, and what its audit record says.
pub struct PreparedExport {
    order: svc::ExportOrder,
    pub unmasked: bool,
    /// Whether the caller may reveal every selected resident (else birth dates are left out).
    may_reveal_all: bool,
    purpose: String,
    street_id: Option<Uuid>,
    community_id: Option<Uuid>,
    filter: ExportFilter,
}

impl PreparedExport {
    /// How many residents were selected.
    pub fn len(&self) -> usize {
        self.order.len()
    }

    pub fn is_empty(&self) -> bool {
        self.order.is_empty()
    }

    /// The next batch of rows to write, masked unless the export is unmasked; `None` after the
    /// last.
    pub async fn next_rows<C: ConnectionTrait>(
        &mut self,
        db: &C,
        pii: &Pii,
    ) -> AppResult<Option<Vec<ExportRow>>> {
        let unmask = self.unmasked.then_some(pii);
        let Some(mut rows) = self.order.next_rows(db, unmask).await? else {
            return Ok(None);
        };
        if !self.unmasked {
            for r in rows.iter_mut() {
                r.phone = r
                    .phone
                    .as_deref()
                    .map(crate::platform::pii::staff_phone_mask);
                if !self.may_reveal_all {
                    r.birth_date = None;
                }
            }
        }
        Ok(Some(rows))
    }
}

/// The residents `filter` selects that the caller may read, masked unless `unmasked` (for
/// roles that may reveal every one of them, with a purpose of 2 to 500 characters), in the
/// order they are written; their rows are read a batch at a time ([`PreparedExport::next_rows`]).
pub async fn prepare_export<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    filter: ExportFilter,
    unmasked: bool,
    purpose: Option<&str>,
) -> AppResult<PreparedExport> {
    let purpose = match purpose.map(str::trim).filter(|p| !p.is_empty()) {
        None if unmasked => {
            return Err(AppError::InvalidQuery(vec![FieldError::of(
                "purpose",
                FieldCode::Required,
                Text::new(
                    "导出不脱敏的名册须用 2 到 500 个字说明用途",
                    "state the purpose of an unmasked export in 2 to 500 characters",
                ),
            )]))
        }
        None => "",
        Some(p) => crate::platform::text::purpose_of(p).map_err(|m| {
            AppError::InvalidQuery(vec![FieldError::of("purpose", FieldCode::Invalid, m)])
        })?,
    };
    if !policy::can_anywhere(actor, Action::ResidentRead) {
        return Err(AppError::Forbidden);
    }
    let read = policy::scope(db, actor, Action::ResidentRead).await?;
    let reveal = if policy::can_anywhere(actor, Action::ResidentReveal) {
        Some(policy::scope(db, actor, Action::ResidentReveal).await?)
    } else {
        None
    };
    // Whether the caller may reveal every selected resident: required for an unmasked export,
    // and what lets a masked one carry birth dates (else ten-year age bands stand in for them).
    let may_reveal_all = match &reveal {
        Some(reveal) => svc::all_within(db, &filter, &read, reveal).await?,
        None => false,
    };
    if unmasked && !may_reveal_all {
        return Err(AppError::Forbidden);
    }
    let order = svc::plan_export(db, &read, &filter).await?;
    let (street_id, community_id) = if order.is_empty() {
        // Nobody was exported: the event belongs to the caller's own street, not to whatever
        // street the (possibly foreign) filter names.
        (
            crate::identity::service::accounts::home_street(db, actor.id).await?,
            None,
        )
    } else {
        (order.street_id, order.community_id)
    };
    Ok(PreparedExport {
        order,
        unmasked,
        may_reveal_all,
        purpose: purpose.to_string(),
        street_id,
        community_id,
        filter,
    })
}

/// Audits an export of `rows` residents (`export` or `export_unmasked`); written before the
/// file leaves: no audit record, no export. Answers the audit event's id.
pub async fn record_export<C: ConnectionTrait>(
    db: &C,
    actor: &Actor,
    export: &PreparedExport,
    rows: usize,
    now: DateTime<Utc>,
) -> AppResult<Uuid> {
    let detail = serde_json::json!({
        "rows": rows,
        "community_id": export.filter.community_id,
        "compound_id": export.filter.compound_id,
        "building_id": export.filter.building_id,
    });
    audit::record(
        db,
        audit::Event {
            actor: actor.into(),
            action: if export.unmasked {
                audit::Action::ExportUnmasked
            } else {
                audit::Action::Export
            },
            street_id: export.street_id,
            community_id: export.community_id,
            resident_id: None,
            field: None,
            purpose: &export.purpose,
            detail: Some(detail.to_string()),
        },
        now,
    )
    .await
}
