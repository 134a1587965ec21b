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
