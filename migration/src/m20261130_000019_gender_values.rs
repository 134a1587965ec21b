//! `residents.gender` holds `male` or `female` (or nothing), so the entity can type it: the two
//! Chinese spellings the import once accepted become the codes, and anything else, which every
//! read already showed as no gender, becomes null. Not reversible in meaning; `down` does nothing.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let gender = || Expr::col(Alias::new("gender"));
        for (from, to) in [("男", "male"), ("女", "female")] {
            m.exec_stmt(
                Query::update()
                    .table(Alias::new("residents"))
                    .value(Alias::new("gender"), to)
                    .and_where(gender().eq(from))
                    .to_owned(),
            )
            .await?;
        }
        m.exec_stmt(
            Query::update()
                .table(Alias::new("residents"))
                .value(Alias::new("gender"), Option::<String>::None)
                .and_where(gender().is_not_null())
                .and_where(gender().is_not_in(["male", "female"]))
                .to_owned(),
        )
        .await
    }

    async fn down(&self, _m: &SchemaManager) -> Result<(), DbErr> {
        Ok(())
    }
}
