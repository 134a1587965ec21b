//! What the benches share: environment knobs and a fresh database per run.

use sea_orm::{ConnectionTrait, Database};

pub fn env_or(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// A new database: on the PostgreSQL server of `BENCH_DATABASE_URL` when it is set, else a new
/// SQLite file in the temp directory (whose path is returned too, for removal).
pub async fn fresh_db() -> anyhow::Result<(String, Option<std::path::PathBuf>)> {
    let name = format!("linli_bench_{}", uuid::Uuid::now_v7().simple());
    Ok(match std::env::var("BENCH_DATABASE_URL") {
        Ok(base) if base.starts_with("postgres") => {
            let admin = Database::connect(base.as_str()).await?;
            admin
                .execute_unprepared(&format!("CREATE DATABASE {name}"))
                .await?;
            let (prefix, _) = base.rsplit_once('/').unwrap_or((&base, ""));
            (format!("{prefix}/{name}"), None)
        }
        _ => {
            let path = std::env::temp_dir().join(format!("{name}.db"));
            (format!("sqlite://{}?mode=rwc", path.display()), Some(path))
        }
    })
}

pub fn backend() -> &'static str {
    if std::env::var("BENCH_DATABASE_URL").is_ok_and(|u| u.starts_with("postgres")) {
        "PostgreSQL"
    } else {
        "SQLite"
    }
}
