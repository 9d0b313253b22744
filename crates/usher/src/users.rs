//! `usher users import|export`: bulk users as CSV or JSON lines, with a progress bar.

use std::{io::Read, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use clap::Subcommand;
use indicatif::{ProgressBar, ProgressStyle};
use usher_core::{
    RequestContext,
    import::{Format, ImportOutcome, Progress},
};
use usher_server::Config;

/// Bad lines printed before "... and N more".
const ERRORS_SHOWN: usize = 100;

#[derive(Subcommand)]
pub enum UsersCommand {
    /// Import users from FILE (`-` for standard input): all or nothing. Users are
    /// matched by user ID; known ones are updated, identical ones left alone.
    /// Columns: user_id, email, first_name, last_name, phone, roles, groups,
    /// metadata, password_hash (argon2, bcrypt or PBKDF2 PHC string).
    Import {
        file: PathBuf,
        /// Check the file and report what would change, without writing.
        #[arg(long)]
        dry_run: bool,
        /// csv or jsonl [default: from the file name; .csv is CSV, else JSON lines].
        #[arg(long)]
        format: Option<String>,
        /// Organization slug [default: the default organization].
        #[arg(long)]
        organization: Option<String>,
    },
    /// Export users in the import format (to standard output by default).
    Export {
        /// csv or jsonl [default: from --output's name, else jsonl].
        #[arg(long)]
        format: Option<String>,
        /// File to write.
        #[arg(long, short)]
        output: Option<PathBuf>,
        /// Organization slug [default: the default organization].
        #[arg(long)]
        organization: Option<String>,
        /// Leave the password_hash column empty.
        #[arg(long)]
        no_password_hashes: bool,
    },
}

/// A progress bar on standard error (hidden when it is not a terminal).
struct Bar(ProgressBar);

impl Bar {
    fn new() -> Self {
        let bar = ProgressBar::new(0);
        bar.enable_steady_tick(Duration::from_millis(200));
        Self(bar)
    }
}

impl Progress for Bar {
    fn phase(&self, name: &str, total: u64) {
        let template = if total > 0 {
            "{msg:>9} [{bar:40}] {pos}/{len} ({per_sec}, {eta} left)"
        } else {
            "{msg:>9} {spinner} {pos} {elapsed}"
        };
        if let Ok(style) = ProgressStyle::with_template(template) {
            self.0.set_style(style.progress_chars("=> "));
        }
        self.0.set_message(name.to_owned());
        self.0.set_length(total);
        self.0.set_position(0);
    }

    fn set(&self, done: u64) {
        self.0.set_position(done);
    }
}

fn format_of(explicit: Option<&str>, path: Option<&std::path::Path>) -> anyhow::Result<Format> {
    match explicit {
        Some(f) => Format::parse(f).with_context(|| format!("unknown format {f:?}: use csv or jsonl")),
        None => Ok(path.map_or(Format::Jsonl, Format::for_path)),
    }
}

pub async fn run(command: UsersCommand, config: Config) -> anyhow::Result<()> {
    match command {
        UsersCommand::Import { file, dry_run, format, organization } => {
            let format = format_of(format.as_deref(), Some(&file))?;
            let mut data = Vec::new();
            if file.as_os_str() == "-" {
                std::io::stdin().read_to_end(&mut data).context("reading standard input")?;
            } else {
                data = std::fs::read(&file).with_context(|| format!("reading {}", file.display()))?;
            }
            let usher = usher_server::open_usher(&config).await?;
            if organization.is_none() {
                // A fresh database gets its default organization, as at first start.
                usher.initialize().await?;
            }
            let ctx = RequestContext { address: None, client: Some("usher users import".into()) };
            let bar = Bar::new();
            let started = std::time::Instant::now();
            let outcome = usher.import_users(&ctx, organization.as_deref(), &data, format, dry_run, &bar).await;
            bar.0.finish_and_clear();
            let outcome = match outcome {
                Err(usher_core::Error::NotFound) => bail!("no such organization"),
                other => other?,
            };
            match outcome {
                ImportOutcome::Refused(errors) => {
                    for e in errors.iter().take(ERRORS_SHOWN) {
                        eprintln!("{e}");
                    }
                    if errors.len() > ERRORS_SHOWN {
                        eprintln!("... and {} more", errors.len() - ERRORS_SHOWN);
                    }
                    bail!("{} problem(s) in {}: nothing was imported", errors.len(), file.display())
                }
                ImportOutcome::Done(s) => {
                    let verb = if s.dry_run { "Dry run, nothing written: would create" } else { "Imported: created" };
                    println!(
                        "{verb} {} user(s), update {}, leave {} unchanged ({} line(s), {:.1} s).",
                        s.created,
                        s.updated,
                        s.unchanged,
                        s.lines,
                        started.elapsed().as_secs_f64()
                    );
                    if !s.groups_created.is_empty() {
                        println!("New groups: {}", s.groups_created.join(", "));
                    }
                    Ok(())
                }
            }
        }
        UsersCommand::Export { format, output, organization, no_password_hashes } => {
            let format = format_of(format.as_deref(), output.as_deref())?;
            let usher = usher_server::open_usher(&config).await?;
            let bar = Bar::new();
            let count = match &output {
                Some(path) => {
                    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
                    let mut out = std::io::BufWriter::new(file);
                    usher.export_users(organization.as_deref(), format, !no_password_hashes, &mut out, &bar).await
                }
                None => {
                    let mut out = std::io::BufWriter::new(std::io::stdout());
                    usher.export_users(organization.as_deref(), format, !no_password_hashes, &mut out, &bar).await
                }
            };
            bar.0.finish_and_clear();
            let count = match count {
                Err(usher_core::Error::NotFound) => bail!("no such organization"),
                other => other?,
            };
            if let Some(path) = output {
                eprintln!("Exported {count} user(s) to {}.", path.display());
            }
            Ok(())
        }
    }
}
