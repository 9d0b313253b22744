//! The `usher` command: run the server, apply migrations, create administrators.

use std::{io::Read, path::PathBuf};

use anyhow::{Context, bail};
use clap::{Args, Parser, Subcommand};
use usher_core::{RequestContext, accounts::NewAccount};
use usher_domain::{Email, LoginName, ShortText};
use usher_server::{Config, Overrides};

mod users;

/// mimalloc instead of the system allocator: the request path allocates many
/// small, short-lived buffers, which glibc's malloc serves markedly slower (BENCHMARKS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[derive(Parser)]
#[command(name = "usher", version, about = "Usher: self-hosted user and access management")]
struct Cli {
    #[command(flatten)]
    global: Global,
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Global {
    /// TOML configuration file (its keys: listen, data_dir, database_url, base_url, ...).
    #[arg(long, global = true, env = "USHER_CONFIG")]
    config: Option<PathBuf>,
    /// Folder for the embedded SQLite database and other data [default: ./usher-data].
    #[arg(long, global = true)]
    data_dir: Option<PathBuf>,
    /// sqlite://PATH or postgres://USER@HOST/DB [default: a SQLite file in the data folder].
    #[arg(long, global = true)]
    database_url: Option<String>,
}

#[derive(Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        /// Address to listen on [default: 127.0.0.1:8080].
        #[arg(long)]
        listen: Option<String>,
    },
    /// Apply database migrations and exit (the server also applies them at start).
    Migrate,
    /// Manage administrators.
    Admin {
        #[command(subcommand)]
        command: AdminCommand,
    },
    /// Import or export users (CSV or JSON lines).
    Users {
        #[command(subcommand)]
        command: users::UsersCommand,
    },
}

#[derive(Subcommand)]
enum AdminCommand {
    /// Create an administrator in the default organization.
    Create {
        #[arg(long)]
        user_id: String,
        #[arg(long)]
        email: String,
        #[arg(long)]
        first_name: Option<String>,
        #[arg(long)]
        last_name: Option<String>,
        /// Read the password from standard input instead of prompting.
        #[arg(long)]
        password_stdin: bool,
    },
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let listen = match &cli.command {
        Command::Serve { listen } => listen.clone(),
        _ => None,
    };
    let overrides =
        Overrides { listen, data_dir: cli.global.data_dir.clone(), database_url: cli.global.database_url.clone() };
    let (config, warnings) = Config::load(cli.global.config.as_deref(), std::env::vars(), overrides)?;
    init_logging(&config.log, matches!(cli.command, Command::Users { .. }));
    for w in warnings {
        tracing::warn!("{w}");
    }
    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(run(cli.command, config))
}

/// `bulk`: an import or export, whose statements run long on purpose (index
/// builds of a first load): sqlx's slow-statement warnings would only be noise.
fn init_logging(filter: &str, bulk: bool) {
    let mut filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    if bulk && let Ok(quiet) = "sqlx::query=error".parse() {
        filter = filter.add_directive(quiet);
    }
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

async fn run(command: Command, config: Config) -> anyhow::Result<()> {
    match command {
        Command::Serve { .. } => serve(config).await,
        Command::Users { command } => users::run(command, config).await,
        Command::Migrate => {
            usher_server::open_usher(&config).await?;
            println!("Database is up to date.");
            Ok(())
        }
        Command::Admin { command: AdminCommand::Create { user_id, email, first_name, last_name, password_stdin } } => {
            let mut errors = Vec::new();
            let user_id = LoginName::parse(&user_id).map_err(|e| errors.extend(e.0)).ok();
            let email = Email::parse(&email).map_err(|e| errors.extend(e.0)).ok();
            let first_name = ShortText::parse("first_name", first_name.as_deref().unwrap_or(""))
                .map_err(|e| errors.extend(e.0))
                .ok()
                .flatten();
            let last_name = ShortText::parse("last_name", last_name.as_deref().unwrap_or(""))
                .map_err(|e| errors.extend(e.0))
                .ok()
                .flatten();
            let (Some(user_id), Some(email)) = (user_id, email) else {
                bail!(
                    "{}",
                    errors.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
                );
            };
            let password = read_password(password_stdin)?;
            let usher = usher_server::open_usher(&config).await?;
            let account = NewAccount {
                user_id,
                email: Some(email),
                first_name,
                last_name,
                roles: vec![],
                password: Some(password),
            };
            let ctx = RequestContext { address: None, client: Some("usher admin create".into()) };
            match usher.create_admin(&ctx, account).await {
                Ok(user) => {
                    println!("Administrator {} created.", user.user_id);
                    Ok(())
                }
                Err(usher_core::Error::Invalid(invalid)) => {
                    bail!(
                        "{}",
                        invalid.0.iter().map(|e| format!("{}: {}", e.field, e.message)).collect::<Vec<_>>().join("\n")
                    )
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

fn read_password(from_stdin: bool) -> anyhow::Result<String> {
    if from_stdin {
        let mut text = String::new();
        std::io::stdin().read_to_string(&mut text).context("reading the password from standard input")?;
        let password = text.strip_suffix('\n').map(|t| t.strip_suffix('\r').unwrap_or(t)).unwrap_or(&text).to_owned();
        if password.is_empty() {
            bail!("no password on standard input");
        }
        return Ok(password);
    }
    let first =
        rpassword::prompt_password("Password: ").context("reading the password (use --password-stdin in scripts)")?;
    let second = rpassword::prompt_password("Repeat the password: ")?;
    if first != second {
        bail!("the passwords do not match");
    }
    Ok(first)
}

async fn serve(config: Config) -> anyhow::Result<()> {
    let server = usher_server::build(config).await?;
    if let Some(link) = &server.setup_link {
        tracing::warn!("No administrator yet. Create the first one within the hour at: {link}");
        eprintln!("\n    Create the first administrator (link valid 1 hour, single use):\n    {link}\n");
    }
    tracing::info!(address = %server.addr, "Usher is listening");
    server.run_until(shutdown_signal()).await?;
    tracing::info!("Usher stopped");
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { () = ctrl_c => {}, () = term => {} }
}
