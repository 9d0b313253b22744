//! `usher-bench`: the load generator and argon2id rate meter behind
//! `bench/run.sh` and `BENCHMARKS.md`.
//!
//! Every measuring subcommand prints one JSON object per line on standard
//! output (a "record"); `report` turns the collected records into Markdown.
//! Load is only ever sent to a loopback address, and every run is bounded in
//! time and in concurrency.

mod directory;
mod hash;
mod load;
mod report;
mod twostep;

use std::{path::PathBuf, sync::Arc, time::Duration};

use anyhow::bail;
use clap::{Args, Parser, Subcommand};
use serde_json::Value;

use crate::load::{Group, LOGIN_PATH, Probe};

/// The longest a measuring run may last, warm-up included.
const MAX_SECONDS: u64 = 600;
/// The most workers (connections) one run may open.
const MAX_CONCURRENCY: usize = 1024;
/// The most users `mfa-users` writes and `signin-mfa` enrols.
const MAX_MFA_USERS: usize = 100_000;

#[derive(Parser)]
#[command(name = "usher-bench", about = "Benchmarks for Usher: argon2id rate, sign-in storms, authenticated reads")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Raw argon2id hashes per second with the server's exact parameters,
    /// on T threads at once (the server hashes on every core).
    HashRate {
        /// Seconds to hash for.
        #[arg(long, default_value_t = 5)]
        seconds: u64,
        /// Threads hashing in parallel [default: the number of CPUs].
        #[arg(long)]
        threads: Option<usize>,
        /// argon2id memory cost in KiB (the server's by default).
        #[arg(long, default_value_t = hash::MEMORY_KIB)]
        memory_kib: u32,
        /// argon2id iterations (the server's by default).
        #[arg(long, default_value_t = hash::ITERATIONS)]
        iterations: u32,
        /// argon2id lanes (the server's by default).
        #[arg(long, default_value_t = hash::LANES)]
        lanes: u32,
        #[command(flatten)]
        label: Label,
    },
    /// Sign in once and print the session secret (the `usher_session` cookie's value).
    Login {
        #[command(flatten)]
        account: Account,
    },
    /// A sign-in storm: C workers each loop on `POST /api/v1/auth/login`.
    Signin {
        #[command(flatten)]
        account: Account,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Write N users (`PREFIX000000`, ...) with the benchmark password as JSON lines
    /// for `usher users import`, for `signin-mfa` (one argon2id hash for all).
    MfaUsers {
        /// How many users.
        #[arg(long)]
        users: usize,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        /// The start of their user IDs.
        #[arg(long, default_value = "bench-mfa-")]
        prefix: String,
        /// Their password (best given through the environment).
        #[arg(long, env = "BENCH_PASSWORD", hide_env_values = true)]
        password: String,
    },
    /// A sign-in storm with two-step verification: C workers each loop on
    /// `POST /api/v1/auth/login` then `POST /api/v1/auth/login/mfa` with a TOTP
    /// code, over N users enrolled first (each signs in at most once per 30 s step).
    SigninMfa {
        #[command(flatten)]
        mfa: MfaArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// Reads: C workers each loop on `GET PATH` (with the session cookie when given).
    Reads {
        /// Server address, a loopback URL such as http://127.0.0.1:8080.
        #[arg(long)]
        base: String,
        #[command(flatten)]
        read: ReadArgs,
        #[command(flatten)]
        run: RunArgs,
    },
    /// A sign-in storm and authenticated reads at the same time.
    Mixed {
        #[command(flatten)]
        account: Account,
        #[command(flatten)]
        read: ReadArgs,
        /// Sign-in workers.
        #[arg(long, default_value_t = 8)]
        signin_concurrency: usize,
        /// Read workers.
        #[arg(long, default_value_t = 16)]
        read_concurrency: usize,
        /// Pace the reads at this many requests per second in all (an open
        /// loop, like users clicking), instead of as fast as answers come.
        #[arg(long)]
        read_rate: Option<f64>,
        /// Measured seconds.
        #[arg(long, default_value_t = 10)]
        seconds: u64,
        /// Seconds of load before measuring starts (connections open, caches warm).
        #[arg(long, default_value_t = 1)]
        warmup: u64,
        /// The server's process ID, to record its CPU use over the run.
        #[arg(long)]
        server_pid: Option<u32>,
        #[command(flatten)]
        label: Label,
    },
    /// Write N generated users as JSON lines for `usher users import` (bench/directory.sh).
    UsersData {
        /// How many users.
        #[arg(long, default_value_t = 1_000_000)]
        users: u64,
        /// The file to write.
        #[arg(long)]
        out: PathBuf,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Latency of each users-list query shape against a server holding `users-data` users.
    Directory {
        /// Server address, a loopback URL such as http://127.0.0.1:8080.
        #[arg(long)]
        base: String,
        /// The session secret of an administrator.
        #[arg(long, env = "BENCH_COOKIE", hide_env_values = true)]
        cookie: String,
        /// How many users `users-data` generated (with the same seed).
        #[arg(long, default_value_t = 1_000_000)]
        users: u64,
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// Requests per query shape.
        #[arg(long, default_value_t = 300)]
        requests: usize,
        /// The server's process ID, to record its memory.
        #[arg(long)]
        server_pid: Option<u32>,
        #[command(flatten)]
        label: Label,
    },
    /// Render directory records (from `directory` and bench/directory.sh) as a Markdown table.
    DirectoryReport {
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Render records (JSON lines, from the other subcommands and bench/run.sh) as Markdown tables.
    Report {
        /// Files of records; `-` reads standard input.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
}

#[derive(Args)]
struct Label {
    /// Tag put on every record (bench/run.sh uses the engine: sqlite, postgres).
    #[arg(long, default_value = "")]
    label: String,
}

#[derive(Args)]
struct Account {
    /// Server address, a loopback URL such as http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// User ID or email to sign in with.
    #[arg(long)]
    login: String,
    /// The password (best given through the environment).
    #[arg(long, env = "BENCH_PASSWORD", hide_env_values = true)]
    password: String,
}

#[derive(Args)]
struct MfaArgs {
    /// Server address, a loopback URL such as http://127.0.0.1:8080.
    #[arg(long)]
    base: String,
    /// The users' password (best given through the environment).
    #[arg(long, env = "BENCH_PASSWORD", hide_env_values = true)]
    password: String,
    /// The start of the users' IDs (`PREFIX000000`, `PREFIX000001`, ...).
    #[arg(long, default_value = "bench-mfa-")]
    prefix: String,
    /// Users to enrol [default: enough that none signs in twice within a 30 s
    /// step at --expected-rate: rate × min(warm-up + seconds, 30) × 1.5].
    #[arg(long)]
    users: Option<usize>,
    /// Sign-ins per second to size the default number of users for.
    #[arg(long, default_value_t = 150.0)]
    expected_rate: f64,
    /// Create the users through the administration API (with --cookie, an
    /// administrator's session) instead of using existing ones (`mfa-users`).
    #[arg(long)]
    create: bool,
    /// An administrator's session secret, for --create.
    #[arg(long, env = "BENCH_COOKIE", hide_env_values = true)]
    cookie: Option<String>,
    /// Users set up at a time.
    #[arg(long, default_value_t = 8)]
    setup_concurrency: usize,
    /// Seconds of raw argon2id hashing right before and right after the storm
    /// (records `hash_rate_mfa`); 0 skips it.
    #[arg(long, default_value_t = 0)]
    hash_seconds: u64,
}

#[derive(Args)]
struct ReadArgs {
    /// The session secret sent as the `usher_session` cookie; none reads anonymously.
    #[arg(long, env = "BENCH_COOKIE", hide_env_values = true)]
    cookie: Option<String>,
    /// An API token sent as `Authorization: Bearer` (wins over the cookie); several,
    /// comma-separated, are shared out over the workers (worker i sends token i mod n).
    #[arg(long, env = "BENCH_BEARER", hide_env_values = true)]
    bearer: Option<String>,
    /// The path to read.
    #[arg(long, default_value = "/api/v1/me")]
    path: String,
}

#[derive(Args)]
struct RunArgs {
    /// Workers, each with its own keep-alive connection.
    #[arg(long, default_value_t = 8)]
    concurrency: usize,
    /// Measured seconds.
    #[arg(long, default_value_t = 10)]
    seconds: u64,
    /// Seconds of load before measuring starts (connections open, caches warm).
    #[arg(long, default_value_t = 1)]
    warmup: u64,
    /// Pace the requests at this many per second in all (an open loop, like
    /// users clicking), instead of as fast as answers come.
    #[arg(long)]
    rate: Option<f64>,
    /// The server's process ID, to record its CPU use over the run.
    #[arg(long)]
    server_pid: Option<u32>,
    #[command(flatten)]
    label: Label,
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    match cli.command {
        Command::HashRate { seconds, threads, memory_kib, iterations, lanes, label } => {
            check_seconds(seconds, 0)?;
            let threads = match threads {
                Some(0) => bail!("--threads must be at least 1"),
                Some(t) => t.min(MAX_CONCURRENCY),
                None => std::thread::available_parallelism().map_or(1, |n| n.get()),
            };
            let record = hash::rate(Duration::from_secs(seconds), threads, (memory_kib, iterations, lanes))?
                .record(&label.label);
            emit(&record);
            Ok(())
        }
        Command::Report { files } => {
            print!("{}", report::render(&report::read(&files)?));
            Ok(())
        }
        Command::UsersData { users, out, seed } => directory::generate(&out, users, seed),
        Command::MfaUsers { users, out, prefix, password } => {
            if users == 0 || users > MAX_MFA_USERS {
                bail!("--users must be between 1 and {MAX_MFA_USERS}");
            }
            twostep::write_users(&out, users, &prefix, &password)
        }
        Command::DirectoryReport { files } => {
            print!("{}", directory::render(&report::read(&files)?));
            Ok(())
        }
        command => {
            // One thread drives every connection: the load generator takes at
            // most one of the cores it shares with the server.
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
            runtime.block_on(run_http(command))
        }
    }
}

async fn run_http(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Login { account } => {
            let base = load::loopback_base(&account.base)?;
            println!("{}", load::login_secret(&base, &account.login, &account.password).await?);
        }
        Command::Signin { account, run } => {
            check_run(&run)?;
            let probe = signin_probe(&account)?;
            let group = Group {
                kind: format!("{}signin", paced(run.rate)),
                path: LOGIN_PATH.into(),
                probes: vec![probe],
                concurrency: run.concurrency,
                rate: run.rate,
            };
            for record in load::run(vec![group], secs(run.warmup), secs(run.seconds), run.server_pid).await? {
                emit(&record.json(&run.label.label));
            }
        }
        Command::SigninMfa { mfa, run } => signin_mfa(mfa, run).await?,
        Command::Reads { base, read, run } => {
            check_run(&run)?;
            let probes = read_probe(&base, &read)?;
            let kind = if bearer(&read).is_some() {
                "token_reads"
            } else if session(&read).is_some() {
                "reads"
            } else {
                "anonymous_reads"
            };
            let group = Group {
                kind: format!("{}{kind}", paced(run.rate)),
                path: read.path.clone(),
                probes,
                concurrency: run.concurrency,
                rate: run.rate,
            };
            for record in load::run(vec![group], secs(run.warmup), secs(run.seconds), run.server_pid).await? {
                emit(&record.json(&run.label.label));
            }
        }
        Command::Mixed {
            account,
            read,
            signin_concurrency,
            read_concurrency,
            read_rate,
            seconds,
            warmup,
            server_pid,
            label,
        } => {
            check_rate(read_rate)?;
            check_seconds(seconds, warmup)?;
            check_concurrency(signin_concurrency)?;
            check_concurrency(read_concurrency)?;
            let signin = signin_probe(&account)?;
            let reads = read_probe(&account.base, &read)?;
            let prefix = format!("{}mixed", paced(read_rate));
            let groups = vec![
                Group {
                    kind: format!("{prefix}_signin"),
                    path: LOGIN_PATH.into(),
                    probes: vec![signin],
                    concurrency: signin_concurrency,
                    rate: None,
                },
                Group {
                    kind: format!("{prefix}_reads"),
                    path: read.path.clone(),
                    probes: reads,
                    concurrency: read_concurrency,
                    rate: read_rate,
                },
            ];
            for record in load::run(groups, secs(warmup), secs(seconds), server_pid).await? {
                emit(&record.json(&label.label));
            }
        }
        Command::Directory { base, cookie, users, seed, requests, server_pid, label } => {
            let base = load::loopback_base(&base)?;
            directory::measure(&base, &cookie, users, seed, requests.clamp(1, 10_000), server_pid, &label.label)
                .await?;
        }
        Command::HashRate { .. }
        | Command::Report { .. }
        | Command::UsersData { .. }
        | Command::DirectoryReport { .. }
        | Command::MfaUsers { .. } => {
            bail!("not an HTTP subcommand")
        }
    }
    Ok(())
}

/// `signin-mfa`: enrols the users (recording how long that took), then the storm,
/// with the raw argon2id rate right before and after it when asked.
async fn signin_mfa(mfa: MfaArgs, run: RunArgs) -> anyhow::Result<()> {
    check_run(&run)?;
    check_concurrency(mfa.setup_concurrency)?;
    check_seconds(mfa.hash_seconds.max(1), 0)?;
    if !(mfa.expected_rate > 0.0 && mfa.expected_rate <= 1e5) {
        bail!("--expected-rate must be above 0 and at most 100000");
    }
    let base = load::loopback_base(&mfa.base)?;
    let span = (run.warmup + run.seconds).min(30) as f64;
    let users = mfa.users.unwrap_or((mfa.expected_rate * span * 1.5).ceil() as usize);
    if users == 0 || users > MAX_MFA_USERS {
        bail!("--users must be between 1 and {MAX_MFA_USERS}");
    }
    let source = match (mfa.create, mfa.cookie.filter(|c| !c.is_empty())) {
        (false, _) => twostep::Source::Existing,
        (true, Some(admin_cookie)) => twostep::Source::Create { admin_cookie },
        (true, None) => bail!("--create needs an administrator's session (--cookie or BENCH_COOKIE)"),
    };
    let created = matches!(source, twostep::Source::Create { .. });
    let label = &run.label.label;
    let setup = twostep::set_up(&base, &mfa.prefix, users, &mfa.password, source, mfa.setup_concurrency).await?;
    emit(&serde_json::json!({
        "label": label,
        "kind": "mfa_setup",
        "users": users,
        "created": created,
        "concurrency": mfa.setup_concurrency,
        "seconds": hash::round(setup.seconds, 2),
        "per_second": hash::round(users as f64 / setup.seconds, 1),
        "waited_for_next_step_s": hash::round(setup.waited, 2),
    }));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let hash_rate = || -> anyhow::Result<()> {
        if mfa.hash_seconds > 0 {
            let params = (hash::MEMORY_KIB, hash::ITERATIONS, hash::LANES);
            let mut record = hash::rate(secs(mfa.hash_seconds), threads, params)?.record(label);
            record["kind"] = "hash_rate_mfa".into();
            emit(&record);
        }
        Ok(())
    };
    hash_rate()?;
    let two_step = Arc::new(setup.two_step);
    let group = Group {
        kind: format!("{}signin_mfa", paced(run.rate)),
        path: format!("{LOGIN_PATH} + {}", twostep::SECOND_STEP_PATH),
        probes: vec![Probe::TwoStep(two_step.clone())],
        concurrency: run.concurrency,
        rate: run.rate,
    };
    let measure_from = std::time::Instant::now() + secs(run.warmup);
    for record in load::run(vec![group], secs(run.warmup), secs(run.seconds), run.server_pid).await? {
        let mut json = record.json(label);
        if let (Some(fields), Value::Object(extra)) = (json.as_object_mut(), two_step.extra(measure_from)) {
            fields.extend(extra);
        }
        emit(&json);
    }
    hash_rate()
}

fn signin_probe(account: &Account) -> anyhow::Result<Probe> {
    let base = load::loopback_base(&account.base)?;
    Probe::login(&base, &account.login, &account.password)
}

/// The reads' probes: one per API token when `--bearer` lists several
/// (comma-separated; worker i sends token i mod n), else one.
fn read_probe(base: &str, read: &ReadArgs) -> anyhow::Result<Vec<Probe>> {
    let base = load::loopback_base(base)?;
    if !read.path.starts_with('/') {
        bail!("--path must start with /");
    }
    Ok(match bearer(read) {
        Some(tokens) => tokens.split(',').map(|token| Probe::get_bearer(&base, &read.path, token.trim())).collect(),
        None => vec![Probe::get(&base, &read.path, session(read))],
    })
}

/// The API token to send, if any (an empty one is none).
fn bearer(read: &ReadArgs) -> Option<&str> {
    read.bearer.as_deref().filter(|c| !c.is_empty())
}

/// The session secret to send, if any (an empty one is none).
fn session(read: &ReadArgs) -> Option<&str> {
    read.cookie.as_deref().filter(|c| !c.is_empty())
}

fn check_run(run: &RunArgs) -> anyhow::Result<()> {
    check_seconds(run.seconds, run.warmup)?;
    check_rate(run.rate)?;
    check_concurrency(run.concurrency)
}

fn check_rate(rate: Option<f64>) -> anyhow::Result<()> {
    if rate.is_some_and(|r| !(r > 0.0 && r <= 1e6)) {
        bail!("a rate must be above 0 and at most 1000000 per second");
    }
    Ok(())
}

/// The prefix of a paced run's kind.
fn paced(rate: Option<f64>) -> &'static str {
    if rate.is_some() { "paced_" } else { "" }
}

fn check_seconds(seconds: u64, warmup: u64) -> anyhow::Result<()> {
    if seconds == 0 || seconds.saturating_add(warmup) > MAX_SECONDS {
        bail!("--seconds must be at least 1 and, with --warmup, at most {MAX_SECONDS}");
    }
    Ok(())
}

fn check_concurrency(concurrency: usize) -> anyhow::Result<()> {
    if concurrency == 0 || concurrency > MAX_CONCURRENCY {
        bail!("concurrency must be between 1 and {MAX_CONCURRENCY}");
    }
    Ok(())
}

fn secs(n: u64) -> Duration {
    Duration::from_secs(n)
}

/// Prints one record as a JSON line.
fn emit(record: &Value) {
    println!("{record}");
}
