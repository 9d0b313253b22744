//! Records (JSON lines) to Markdown: a summary with one column per label
//! (engine) checked against the targets, then every load run in detail.
//!
//! Besides the records of the other subcommands, bench/run.sh writes:
//! `{"label","kind":"loadavg","value":"1m 5m 15m"}`, `{"label","kind":"startup","ms"}`,
//! `{"label","kind":"cpu_busy_before","pct"}`, `{"label","kind":"rss_idle","kib"}`
//! and `{"label","kind":"rss_after","kib"}`.

use std::{
    fmt::Write as _,
    io::{BufRead, BufReader},
    path::PathBuf,
};

use anyhow::Context;
use serde_json::Value;

/// Sign-in throughput must reach this share of the raw argon2id rate.
const SIGNIN_SHARE_TARGET: f64 = 0.90;
/// Authenticated reads' p99 under a sign-in storm must stay below this.
const READ_P99_TARGET_MS: f64 = 10.0;

/// Reads every record of the files (`-` is standard input).
pub fn read(files: &[PathBuf]) -> anyhow::Result<Vec<Value>> {
    let mut records = Vec::new();
    for file in files {
        let reader: Box<dyn BufRead> = if file.as_os_str() == "-" {
            Box::new(BufReader::new(std::io::stdin()))
        } else {
            Box::new(BufReader::new(std::fs::File::open(file).with_context(|| format!("opening {}", file.display()))?))
        };
        for (n, line) in reader.lines().enumerate() {
            let line = line.with_context(|| format!("reading {}", file.display()))?;
            if line.trim().is_empty() {
                continue;
            }
            let record: Value = serde_json::from_str(&line)
                .with_context(|| format!("{}:{}: not a JSON record", file.display(), n + 1))?;
            records.push(record);
        }
    }
    Ok(records)
}

/// The records of one label.
struct Column<'a> {
    label: &'a str,
    records: Vec<&'a Value>,
}

impl Column<'_> {
    fn get(&self, kind: &str) -> Option<&Value> {
        self.records.iter().rev().find(|r| r["kind"] == kind).copied()
    }

    fn all<'s>(&'s self, kind: &'s str) -> impl Iterator<Item = &'s Value> + 's {
        self.records.iter().filter(move |r| r["kind"] == kind).copied()
    }

    /// The mean raw argon2id rate over the label's hash-rate runs.
    fn hash_rate(&self) -> Option<f64> {
        self.mean_hash_rate("hash_rate")
    }

    /// The mean of the `per_second` of the label's records of a kind of hash-rate run.
    fn mean_hash_rate(&self, kind: &str) -> Option<f64> {
        let rates: Vec<f64> = self.all(kind).filter_map(|r| num(r, "per_second")).collect();
        (!rates.is_empty()).then(|| rates.iter().sum::<f64>() / rates.len() as f64)
    }

    fn find(&self, pred: impl Fn(&Value) -> bool) -> Option<&Value> {
        self.records.iter().rev().find(|r| pred(r)).copied()
    }
}

pub fn render(records: &[Value]) -> String {
    let mut columns: Vec<Column<'_>> = Vec::new();
    for record in records {
        let label = record["label"].as_str().unwrap_or("");
        match columns.iter_mut().find(|c| c.label == label) {
            Some(column) => column.records.push(record),
            None => columns.push(Column { label, records: vec![record] }),
        }
    }
    let mut out = String::new();
    summary(&mut out, &columns);
    details(&mut out, records);
    out
}

fn summary(out: &mut String, columns: &[Column<'_>]) {
    let heads: Vec<&str> = columns.iter().map(|c| if c.label.is_empty() { "(no label)" } else { c.label }).collect();
    let _ = writeln!(out, "| Measure | {} | Target |", heads.join(" | "));
    let _ = writeln!(out, "|---|{}---|", "---|".repeat(columns.len()));
    let mut row = |name: String, cell: &dyn Fn(&Column<'_>) -> Option<String>, target: &str| {
        let cells: Vec<String> = columns.iter().map(|c| cell(c).unwrap_or_else(|| "—".into())).collect();
        let _ = writeln!(out, "| {name} | {} | {target} |", cells.join(" | "));
    };
    let first = |kind: &str, field: &str| -> Option<Value> {
        columns.iter().find_map(|c| c.get(kind).map(|r| r[field].clone())).filter(|v| !v.is_null())
    };

    row(
        "Load average before the run (1, 5, 15 min)".into(),
        &|c| Some(c.get("loadavg")?["value"].as_str()?.to_owned()),
        "—",
    );
    row(
        "CPUs busy just before the run (all processes, 2 s sample)".into(),
        &|c| Some(format!("{} %", num(c.get("cpu_busy_before")?, "pct")?)),
        "—",
    );
    row("Load average after the run".into(), &|c| Some(c.get("loadavg_after")?["value"].as_str()?.to_owned()), "—");
    row(
        "Start → ready, first start (empty database: migrations, setup)".into(),
        &|c| Some(format!("{} ms", num(c.get("startup_first")?, "ms")?)),
        "—",
    );
    row(
        "Start → ready, existing database (process start to first 200 from `/healthz`)".into(),
        &|c| Some(format!("{} ms", num(c.get("startup")?, "ms")?)),
        "—",
    );
    row("RSS after start, idle".into(), &|c| mib(c.get("rss_idle")?), "—");
    row("RSS after the load".into(), &|c| mib(c.get("rss_after")?), "—");

    let threads = first("hash_rate", "threads").map_or_else(String::new, |t| format!(", {t} threads"));
    row(
        format!("Raw argon2id hashes/s (hashing alone{threads}; mean of the runs before and after the sign-ins)"),
        &|c| {
            let runs: Vec<String> =
                c.all("hash_rate").filter_map(|r| num(r, "per_second")).map(|r| format!("{r:.1}")).collect();
            Some(format!("{:.1}/s ({})", c.hash_rate()?, runs.join(", ")))
        },
        "—",
    );
    let conc = first("signin", "concurrency").map_or_else(String::new, |t| format!(", {t} workers"));
    row(format!("Sign-ins/s alone{conc} (p50 / p99)"), &|c| rate_cell(c.get("signin")?), "—");
    row(
        "Sign-in rate ÷ raw argon2id rate".into(),
        &|c| {
            let share = num(c.get("signin")?, "per_second")? / c.hash_rate()?;
            Some(format!("{:.1} % — {}", share * 100.0, verdict(share >= SIGNIN_SHARE_TARGET)))
        },
        "≥ 90 %",
    );

    if first("signin_mfa", "concurrency").is_some() {
        two_step_rows(&mut row, &first);
    }

    let conc = first("mixed_reads", "concurrency").map_or_else(String::new, |t| format!("{t} workers"));
    let storm = first("mixed_signin", "concurrency").map_or_else(String::new, |t| format!("{t} sign-in workers"));
    row(
        format!("`GET /api/v1/me` during the sign-in storm ({conc} in a closed loop, with {storm}): p50 / p99"),
        &|c| p99_cell(c.get("mixed_reads")?),
        "p99 < 10 ms",
    );
    row("… their throughput".into(), &|c| Some(format!("{:.0}/s", num(c.get("mixed_reads")?, "per_second")?)), "—");
    row("Sign-ins/s during that storm (p50 / p99)".into(), &|c| rate_cell(c.get("mixed_signin")?), "—");

    if let Some(rate) = first("paced_reads", "target_rate").and_then(|r| r.as_f64()) {
        let conc = first("paced_reads", "concurrency").map_or_else(String::new, |t| format!("{t} workers, "));
        row(
            format!("`GET /api/v1/me` paced at {rate}/s alone ({conc}no storm: the baseline): p50 / p99"),
            &|c| rate_cell(c.get("paced_reads")?),
            "—",
        );
    }
    if let Some(rate) = first("paced_mixed_reads", "target_rate").and_then(|r| r.as_f64()) {
        let storm =
            first("paced_mixed_signin", "concurrency").map_or_else(String::new, |t| format!("{t} sign-in workers"));
        row(
            format!("`GET /api/v1/me` paced at {rate}/s during the sign-in storm (open loop, with {storm}): p50 / p99"),
            &|c| p99_cell(c.get("paced_mixed_reads")?),
            "p99 < 10 ms",
        );
        row("Sign-ins/s during the paced storm (p50 / p99)".into(), &|c| rate_cell(c.get("paced_mixed_signin")?), "—");
    }

    // One row per number of connections the reads alone ran with.
    for (kind, path) in [("reads", "/api/v1/me"), ("token_reads", "/api/v1/me"), ("anonymous_reads", "/healthz")] {
        let mut concurrencies: Vec<u64> = columns
            .iter()
            .flat_map(|c| c.records.iter())
            .filter(|r| r["kind"] == kind && r["path"] == path)
            .filter_map(|r| r["concurrency"].as_u64())
            .collect();
        concurrencies.sort_unstable();
        concurrencies.dedup();
        for n in concurrencies {
            let how = if kind == "token_reads" {
                " with an API token"
            } else if kind == "reads" {
                " with a session"
            } else {
                ""
            };
            row(
                format!("`GET {path}`{how} alone, {n} connections (p50 / p99)"),
                &|c| rate_cell(c.find(|r| r["kind"] == kind && r["path"] == path && r["concurrency"] == n)?),
                "—",
            );
        }
    }
    out.push('\n');
}

type Row<'r> = dyn FnMut(String, &dyn Fn(&Column<'_>) -> Option<String>, &str) + 'r;

/// Sign-ins with two-step verification (`signin-mfa`), compared with plain ones.
fn two_step_rows(row: &mut Row<'_>, first: &dyn Fn(&str, &str) -> Option<Value>) {
    row(
        "Two-step set-up: users signed in once and enrolled (`POST /me/mfa/totp` + `/confirm`)".into(),
        &|c| {
            let r = c.get("mfa_setup")?;
            let how = if r["created"] == true { ", created through the API first" } else { "" };
            Some(format!(
                "{:.0} in {:.1} s ({:.1}/s{how})",
                num(r, "users")?,
                num(r, "seconds")?,
                num(r, "per_second")?
            ))
        },
        "—",
    );
    let conc = first("signin_mfa", "concurrency").map_or_else(String::new, |t| format!(", {t} workers"));
    row(
        format!("Sign-ins/s with two-step verification{conc}: password then TOTP code (p50 / p99 of both)"),
        &|c| {
            let r = c.get("signin_mfa")?;
            let waits = match num(r, "user_waits") {
                Some(w) if w > 0.0 => format!(", **{w} waits for a fresh time step: too few users**"),
                _ => String::new(),
            };
            Some(format!("{}{waits}", rate_cell(r)?))
        },
        "—",
    );
    row(
        "… the second step alone (`POST /api/v1/auth/login/mfa`): p50 / p99".into(),
        &|c| {
            let r = c.get("signin_mfa")?;
            Some(format!("{:.2} / {:.2} ms", num(r, "second_step_p50_ms")?, num(r, "second_step_p99_ms")?))
        },
        "—",
    );
    row(
        "… ÷ sign-ins/s without two-step verification (the storm above)".into(),
        &|c| {
            Some(format!(
                "{:.1} %",
                100.0 * num(c.get("signin_mfa")?, "per_second")? / num(c.get("signin")?, "per_second")?
            ))
        },
        "—",
    );
    row(
        "… ÷ raw argon2id rate right around it (runs before and after)".into(),
        &|c| {
            let hash = c.mean_hash_rate("hash_rate_mfa")?;
            let runs: Vec<String> =
                c.all("hash_rate_mfa").filter_map(|r| num(r, "per_second")).map(|r| format!("{r:.1}")).collect();
            let share = num(c.get("signin_mfa")?, "per_second")? / hash;
            Some(format!("{:.1} % of {hash:.1}/s ({})", share * 100.0, runs.join(", ")))
        },
        "—",
    );
}

fn details(out: &mut String, records: &[Value]) {
    let loads: Vec<&Value> = records.iter().filter(|r| r.get("p99_ms").is_some()).collect();
    if loads.is_empty() {
        return;
    }
    let _ = writeln!(
        out,
        "Every load run. Pace: *closed* means each worker sends its next request as soon as the answer is read; \
         a rate means the group's requests are sent on a fixed schedule, latency counted from the scheduled time. \
         CPU columns: average cores busy over the run, warm-up included: the server process, usher-bench, and \
         everything else on the machine (kernel network work, the PostgreSQL server, other processes).\n"
    );
    let _ = writeln!(
        out,
        "| Label | Run | Path | Workers | Pace | Seconds | OK | Errors | Req/s | p50 ms | p95 ms | p99 ms | max ms | Server CPU | Client CPU | Other CPU |"
    );
    let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
    for r in loads {
        let busy = |field: &str| {
            num(r, field).zip(num(r, "run_wall_s")).and_then(|(c, w)| cores(c, w)).unwrap_or_else(|| "—".into())
        };
        let (server, client) = (busy("server_cpu_s"), busy("client_cpu_s"));
        // Everything else busy on the machine meanwhile: the kernel's network
        // work, the PostgreSQL server, and any other process polluting the run.
        let others = ["machine_cpu_s", "server_cpu_s", "client_cpu_s"]
            .map(|f| num(r, f))
            .into_iter()
            .collect::<Option<Vec<f64>>>()
            .zip(num(r, "run_wall_s"))
            .and_then(|(v, w)| cores((v[0] - v[1] - v[2]).max(0.0), w))
            .unwrap_or_else(|| "—".into());
        let pace = num(r, "target_rate").map_or_else(|| "closed".to_owned(), |t| format!("{t}/s"));
        let s = |k: &str| r[k].as_str().unwrap_or("").to_owned();
        let n = |k: &str| num(r, k).map_or_else(|| "—".into(), |v| format!("{v}"));
        let _ = writeln!(
            out,
            "| {} | {} | `{}` | {} | {pace} | {} | {} | {} | {} | {} | {} | {} | {} | {server} | {client} | {others} |",
            s("label"),
            s("kind"),
            s("path"),
            n("concurrency"),
            n("seconds"),
            n("ok"),
            n("errors"),
            n("per_second"),
            n("p50_ms"),
            n("p95_ms"),
            n("p99_ms"),
            n("max_ms")
        );
    }
    for r in records.iter().filter(|r| r["first_error"].is_string()) {
        let _ = writeln!(
            out,
            "\nFirst error of {} {}: `{}`",
            r["label"].as_str().unwrap_or(""),
            r["kind"].as_str().unwrap_or(""),
            r["first_error"].as_str().unwrap_or("").replace('`', "'")
        );
    }
    out.push('\n');
}

fn num(record: &Value, field: &str) -> Option<f64> {
    record[field].as_f64()
}

fn cores(cpu_s: f64, wall_s: f64) -> Option<String> {
    (wall_s > 0.0).then(|| format!("{:.2}", cpu_s / wall_s))
}

fn mib(record: &Value) -> Option<String> {
    Some(format!("{:.1} MiB", num(record, "kib")? / 1024.0))
}

fn rate_cell(r: &Value) -> Option<String> {
    Some(format!(
        "{:.1}/s ({:.2} / {:.2} ms){}",
        num(r, "per_second")?,
        num(r, "p50_ms")?,
        num(r, "p99_ms")?,
        errors_note(r)
    ))
}

/// p50 / p99 of reads, checked against the p99 target (errors fail it too).
fn p99_cell(r: &Value) -> Option<String> {
    let p99 = num(r, "p99_ms")?;
    Some(format!(
        "{:.2} / {:.2} ms — {}{}",
        num(r, "p50_ms")?,
        p99,
        verdict(p99 < READ_P99_TARGET_MS && num(r, "errors") == Some(0.0)),
        errors_note(r)
    ))
}

fn errors_note(r: &Value) -> String {
    match num(r, "errors") {
        Some(e) if e > 0.0 => format!(", **{e} errors**"),
        _ => String::new(),
    }
}

fn verdict(met: bool) -> &'static str {
    if met { "met" } else { "**missed**" }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn summary_checks_the_targets() {
        let records = vec![
            json!({"label": "sqlite", "kind": "hash_rate", "threads": 2, "per_second": 21.0}),
            json!({"label": "sqlite", "kind": "hash_rate", "threads": 2, "per_second": 19.0}),
            json!({"label": "sqlite", "kind": "signin", "path": "/api/v1/auth/login", "concurrency": 8, "per_second": 19.0, "p50_ms": 400.0, "p95_ms": 1.0, "p99_ms": 500.0, "errors": 0}),
            json!({"label": "sqlite", "kind": "mixed_reads", "path": "/api/v1/me", "concurrency": 16, "per_second": 900.0, "p50_ms": 2.0, "p95_ms": 1.0, "p99_ms": 12.5, "errors": 0}),
            json!({"label": "postgres", "kind": "startup", "ms": 120}),
        ];
        let text = render(&records);
        assert!(text.contains("| Measure | sqlite | postgres | Target |"), "{text}");
        assert!(text.contains("95.0 % — met"), "{text}");
        assert!(text.contains("| 20.0/s (21.0, 19.0) |"), "{text}");
        assert!(text.contains("2.00 / 12.50 ms — **missed**"), "{text}");
        assert!(text.contains("| — | 120 ms |"), "{text}");
        assert!(!text.contains("two-step"), "no two-step rows without two-step records: {text}");
    }

    #[test]
    fn two_step_sign_ins_compare_with_plain_ones() {
        let records = vec![
            json!({"label": "sqlite", "kind": "signin", "concurrency": 8, "per_second": 100.0, "p50_ms": 70.0, "p99_ms": 90.0, "errors": 0}),
            json!({"label": "sqlite", "kind": "mfa_setup", "users": 2500, "created": false, "seconds": 25.0, "per_second": 100.0}),
            json!({"label": "sqlite", "kind": "hash_rate_mfa", "per_second": 110.0}),
            json!({"label": "sqlite", "kind": "hash_rate_mfa", "per_second": 90.0}),
            json!({"label": "sqlite", "kind": "signin_mfa", "concurrency": 8, "per_second": 95.0, "p50_ms": 75.0, "p99_ms": 95.0, "errors": 0, "user_waits": 0, "second_step_p50_ms": 1.5, "second_step_p99_ms": 4.0}),
        ];
        let text = render(&records);
        assert!(text.contains("| 2500 in 25.0 s (100.0/s) |"), "{text}");
        assert!(text.contains("| 95.0/s (75.00 / 95.00 ms) |"), "{text}");
        assert!(text.contains("| 1.50 / 4.00 ms |"), "{text}");
        assert!(text.contains("| 95.0 % |"), "{text}");
        assert!(text.contains("| 95.0 % of 100.0/s (110.0, 90.0) |"), "{text}");
        assert!(!text.contains("waits"), "{text}");
    }
}
