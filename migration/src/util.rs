//! Helpers shared by the migrations: named foreign keys and indexes, so every constraint has a
//! predictable name on both backends.

use sea_orm_migration::prelude::*;

/// `fk_<table>_<col>`, referencing `<parent>.id`; RESTRICT unless `cascade`.
pub fn fk(table: &str, col: &str, parent: &str, cascade: bool) -> ForeignKeyCreateStatement {
    let mut f = ForeignKey::create();
    f.name(format!("fk_{table}_{col}"))
        .from(Alias::new(table), Alias::new(col))
        .to(Alias::new(parent), Alias::new("id"))
        .on_delete(if cascade {
            ForeignKeyAction::Cascade
        } else {
            ForeignKeyAction::Restrict
        });
    f
}

/// `ix_<table>_<cols>`.
pub fn index(table: &str, cols: &[&str], unique: bool) -> IndexCreateStatement {
    let mut i = Index::create();
    i.name(format!("ix_{table}_{}", cols.join("_")))
        .table(Alias::new(table));
    for c in cols {
        i.col(Alias::new(*c));
    }
    if unique {
        i.unique();
    }
    i
}

/// Adds `columns` to `table`, one statement each: SQLite's ALTER TABLE adds one at a time.
pub async fn add_columns(
    m: &SchemaManager<'_>,
    table: &str,
    columns: impl IntoIterator<Item = ColumnDef>,
) -> Result<(), DbErr> {
    for mut col in columns {
        m.alter_table(
            Table::alter()
                .table(Alias::new(table))
                .add_column(&mut col)
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// Drops `columns` of `table`, one statement each (the reverse of [`add_columns`]).
pub async fn drop_columns(
    m: &SchemaManager<'_>,
    table: &str,
    columns: &[&str],
) -> Result<(), DbErr> {
    for col in columns {
        m.alter_table(
            Table::alter()
                .table(Alias::new(table))
                .drop_column(Alias::new(*col))
                .to_owned(),
        )
        .await?;
    }
    Ok(())
}

/// A nullable column of `table`'s new columns.
pub fn nullable(name: &str, kind: fn(&mut ColumnDef) -> &mut ColumnDef) -> ColumnDef {
    let mut c = ColumnDef::new(Alias::new(name));
    kind(&mut c).null();
    c
}
