//! The `linli` binary: parses the command line and calls into the library.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use linli::config::Settings;

#[derive(Parser)]
#[command(
    name = "linli",
    version,
    about = "linli (邻里): community-governance API server"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server (the default). Migrates the database first.
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Print the OpenAPI document.
    Openapi,
    /// Create a deployment administrator (password from LINLI_ADMIN_PASSWORD, stdin or a prompt).
    CreateAdmin {
        #[arg(long)]
        username: String,
        #[arg(long, default_value = "Administrator")]
        display_name: String,
    },
    /// Fill an empty database with demo data.
    Seed {
        #[command(subcommand)]
        what: SeedWhat,
    },
}

#[derive(Subcommand)]
enum SeedWhat {
    /// 紫阳街道 with its communities, compounds, buildings, households and one user per role.
    Demo,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", linli::openapi_json());
        return ExitCode::SUCCESS;
    }
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => {
            eprintln!("linli: configuration error: {e}");
            return ExitCode::from(2);
        }
    };
    linli::telemetry::init(settings.env);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("linli: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async move {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve(settings).await,
            Command::Migrate => linli::migrate(&settings).await,
            Command::Openapi => Ok(()),
            Command::CreateAdmin {
                username,
                display_name,
            } => {
                let password = match &settings.admin_password {
                    Some(p) => p.expose().clone(),
                    None => read_password()?,
                };
                linli::create_admin(&settings, &username, &password, &display_name).await?;
                println!("administrator {username:?} created");
                Ok(())
            }
            Command::Seed {
                what: SeedWhat::Demo,
            } => linli::seed::run_demo(&settings).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            tracing::error!(error = %format!("{e:#}"), "linli failed");
            eprintln!("linli: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let backend = if settings.is_sqlite() {
        "SQLite"
    } else {
        "PostgreSQL"
    };
    let cache = if settings.redis_url.is_some() {
        "Redis"
    } else {
        "in-process"
    };
    let app = linli::Application::build(settings).await?;
    let base = format!("http://{}", app.state.settings.bind).replace(
        &format!(":{}", app.state.settings.bind.port()),
        &format!(":{}", app.port()),
    );
    tracing::info!(database = backend, cache, "linli listening on {base}");
    println!("linli is listening on {base} ({backend}, {cache} cache)");
    println!("Swagger UI: {base}/docs/   OpenAPI: {base}/api-docs/openapi.json");
    app.run_until_stopped().await?;
    tracing::info!("linli stopped");
    Ok(())
}

fn read_password() -> anyhow::Result<String> {
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("password: ")?;
        let again = rpassword::prompt_password("again: ")?;
        anyhow::ensure!(p == again, "the passwords differ");
        Ok(p)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\r', '\n']).to_string())
    }
}
