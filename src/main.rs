//! The `linli` binary: parses the command line and calls into the library.

use std::io::{BufRead, IsTerminal};
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use linli::platform::config::{Environment, Settings};

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
    /// Create a deployment administrator (password from LINLI_ADMIN_PASSWORD, stdin or a prompt;
    /// LINLI_ADMIN_USERNAME is not needed).
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
    /// Prints the generated passwords; refused with LINLI_ENV=prod unless --force.
    Demo {
        /// Seed even with LINLI_ENV=prod.
        #[arg(long)]
        force: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(Command::Openapi) = cli.command {
        print!("{}", linli::openapi_json());
        return ExitCode::SUCCESS;
    }
    let serving = matches!(cli.command, None | Some(Command::Serve));
    let settings = match Settings::from_env() {
        Ok(s) => match s.bootstrap_admin_problem().filter(|_| serving) {
            None => s,
            Some(problem) => {
                report_configuration(s.env, &[problem.to_string()]);
                return ExitCode::from(2);
            }
        },
        Err(errors) => {
            // The environment's own value may be what is wrong; then it is not production.
            let value = std::env::var("LINLI_ENV").ok().filter(|v| !v.is_empty());
            let env = Environment::parse(value.as_deref()).unwrap_or(Environment::Dev);
            let problems: Vec<String> = errors.0.iter().map(ToString::to_string).collect();
            report_configuration(env, &problems);
            return ExitCode::from(2);
        }
    };
    let env = settings.env;
    linli::platform::telemetry::init(env);
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            report(env, &format!("cannot start the runtime: {e}"));
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
                what: SeedWhat::Demo { force },
            } => linli::app::seed::run_demo(&settings, force).await,
        }
    });
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            report(env, &describe(&e));
            ExitCode::FAILURE
        }
    }
}

/// Tells the operator about a failure, once: in production a JSON log event (stderr is read
/// as JSON lines there, and a plain line beside it would be a second copy that parses as
/// nothing), otherwise a plain line.
fn report(env: Environment, message: &str) {
    match env {
        Environment::Prod => tracing::error!("linli failed: {message}"),
        Environment::Dev => eprintln!("linli: {message}"),
    }
}

/// Every configuration problem, one per line (one JSON event each in production).
fn report_configuration(env: Environment, problems: &[String]) {
    if env == Environment::Prod {
        linli::platform::telemetry::init(env);
    }
    for problem in problems {
        match env {
            Environment::Prod => tracing::error!("configuration error: {problem}"),
            Environment::Dev => eprintln!("linli: configuration error: {problem}"),
        }
    }
}

/// The error and its causes, each said once: the database errors repeat their source's text
/// in their own, so `{:#}` would print the same words up to four times.
fn describe(e: &anyhow::Error) -> String {
    let mut out = String::new();
    for cause in e.chain() {
        let text = cause.to_string();
        if out.contains(&text) {
            continue;
        }
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&text);
    }
    out
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
    for warning in settings.warnings() {
        tracing::warn!("{warning}");
    }
    let app = linli::Application::build(settings).await?;
    let base = format!("http://{}", app.state.settings.bind).replace(
        &format!(":{}", app.state.settings.bind.port()),
        &format!(":{}", app.port()),
    );
    tracing::info!(
        address = %base,
        database = backend,
        cache,
        docs = %format!("{base}/docs/"),
        openapi = %format!("{base}/api-docs/openapi.json"),
        "linli listening on {base}"
    );
    // The banner is for a person at a terminal. In production stdout stays empty: whatever
    // collects the logs reads JSON lines from stderr, and the event above says the same.
    if app.state.settings.env == Environment::Dev {
        println!("linli is listening on {base} ({backend}, {cache} cache)");
        println!("Swagger UI: {base}/docs/   OpenAPI: {base}/api-docs/openapi.json");
    }
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
