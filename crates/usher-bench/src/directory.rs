//! The directory at scale (`bench/directory.sh`): a deterministic generator of
//! users to import, and the latency of each shape of users-list query against
//! a server holding them.
//!
//! User `i` is the same in the file and in the measurements (both derive it from
//! `i` and the seed), so the measurer knows real user IDs, emails, phones and
//! sort keys without reading the database.

use std::{io::Write, path::Path, time::Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

const FIRST: [&str; 48] = [
    "James",
    "Mary",
    "Robert",
    "Patricia",
    "John",
    "Jennifer",
    "Michael",
    "Linda",
    "David",
    "Elizabeth",
    "William",
    "Barbara",
    "Richard",
    "Susan",
    "Joseph",
    "Jessica",
    "Thomas",
    "Sarah",
    "Charles",
    "Karen",
    "Daniel",
    "Nancy",
    "Matthew",
    "Lisa",
    "Anthony",
    "Betty",
    "Mark",
    "Sandra",
    "Paul",
    "Ashley",
    "Steven",
    "Emily",
    "Andrew",
    "Donna",
    "Joshua",
    "Michelle",
    "Kevin",
    "Carol",
    "Brian",
    "Amanda",
    "Élodie",
    "Chloé",
    "Иван",
    "Ольга",
    "Дмитрий",
    "Анна",
    "Søren",
    "Zoë",
];
const SYLLABLES: [&str; 40] = [
    "dav", "son", "mar", "tin", "lee", "berg", "stro", "kov", "man", "ers", "wil", "ton", "har", "ris", "gar", "cia",
    "rod", "ri", "guez", "lo", "pez", "mil", "ler", "smi", "th", "an", "der", "sen", "nak", "mura", "ko", "val", "ska",
    "ya", "rue", "du", "mont", "bel", "fer", "go",
];
const DEPARTMENTS: [&str; 24] = [
    "NortheastSales",
    "WorldwideSales",
    "SouthwestSales",
    "Engineering",
    "Platform",
    "Marketing",
    "Finance",
    "Legal",
    "Support",
    "Operations",
    "Research",
    "Design",
    "HumanResources",
    "Procurement",
    "Security",
    "DataScience",
    "Facilities",
    "Training",
    "Partnerships",
    "Communications",
    "Quality",
    "Logistics",
    "Compliance",
    "Strategy",
];
/// The password of every generated user (one PHC hash is reused).
pub const PASSWORD: &str = "correct horse battery staple";

/// The metadata fields the generated users carry (PUT them before importing).
pub fn fields() -> Value {
    json!({ "fields": [
        { "name": "departments", "label": "Department", "type": "text" },
        { "name": "level", "label": "Level", "type": "number" },
        { "name": "since", "label": "Employee since", "type": "date" },
    ] })
}

/// splitmix64: a tiny, good enough, reproducible generator.
fn mix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9E37_79B9_7F4A_7C15);
    x = (x ^ (x >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    x ^ (x >> 31)
}

/// The generated user number `i`.
pub struct User {
    pub user_id: String,
    pub email: String,
    pub first_name: &'static str,
    pub last_name: String,
    /// E.164.
    pub phone: String,
    pub role: &'static str,
    pub group: String,
    pub department: &'static str,
    pub level: u64,
    pub since: String,
}

pub fn user(seed: u64, i: u64) -> User {
    let r = |k: u64| mix(seed ^ mix(i.wrapping_mul(16).wrapping_add(k)));
    let first_name = FIRST[(r(1) % FIRST.len() as u64) as usize];
    let syl = |k: u64| SYLLABLES[(r(k) % SYLLABLES.len() as u64) as usize];
    let mut last_name = format!("{}{}{}", syl(2), syl(3), syl(4));
    if let Some(c) = last_name.get(..1) {
        last_name = c.to_uppercase() + &last_name[1..];
    }
    let role = match r(5) % 100 {
        0..=1 => "administrator",
        2..=5 => "user_manager",
        6..=9 => "developer",
        _ => "user",
    };
    // North American numbers in a few real area codes: +1 AAA EEE LLLL.
    let area = [415, 212, 617, 312, 206, 512, 303, 404][(r(12) % 8) as usize];
    let phone = format!("+1{area}{}{:04}", 200 + r(13) % 800, (i * 7_919) % 10_000);
    let ascii: String = first_name.chars().filter(char::is_ascii_alphabetic).collect::<String>().to_lowercase();
    let email = if ascii.is_empty() {
        format!("user{i}@example.ru")
    } else {
        format!("{ascii}.{}{i}@example.org", last_name.to_lowercase())
    };
    User {
        user_id: format!("u{i:07}"),
        email,
        first_name,
        last_name,
        phone,
        role,
        group: format!("Team {:02}", r(6) % 50 + 1),
        department: DEPARTMENTS[(r(7) % DEPARTMENTS.len() as u64) as usize],
        level: r(8) % 12 + 1,
        since: format!("{}-{:02}-{:02}", 2000 + r(9) % 25, r(10) % 12 + 1, r(11) % 28 + 1),
    }
}

/// A PHC argon2id hash of [`PASSWORD`] at the server's cost, computed once.
fn phc() -> anyhow::Result<String> {
    use argon2::PasswordHasher;
    let params = argon2::Params::new(crate::hash::MEMORY_KIB, crate::hash::ITERATIONS, crate::hash::LANES, Some(32))
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    let argon = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
    let hash =
        argon.hash_password_with_salt(PASSWORD.as_bytes(), b"usher-bench-salt").map_err(|e| anyhow::anyhow!("{e}"))?;
    Ok(hash.to_string())
}

/// Writes `users` users as JSON lines (the `usher users import` format), and
/// their metadata field definitions next to it (`NAME.fields.json`).
pub fn generate(path: &Path, users: u64, seed: u64) -> anyhow::Result<()> {
    let hash = phc()?;
    let file = std::fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for i in 0..users {
        let u = user(seed, i);
        let line = json!({
            "user_id": u.user_id, "email": u.email, "first_name": u.first_name, "last_name": u.last_name,
            "phone": u.phone, "roles": [u.role], "groups": [u.group],
            "metadata": { "departments": u.department, "level": u.level, "since": u.since },
            "password_hash": hash,
        });
        serde_json::to_writer(&mut out, &line)?;
        out.write_all(b"\n")?;
    }
    out.flush()?;
    let fields_path = path.with_extension("fields.json");
    std::fs::write(&fields_path, fields().to_string()).with_context(|| format!("writing {}", fields_path.display()))?;
    Ok(())
}

/// One query shape: a name and the queries (path and query string) it cycles through.
struct Shape {
    name: String,
    queries: Vec<String>,
}

fn enc(s: &str) -> String {
    let mut out = String::new();
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

struct Client {
    http: reqwest::Client,
    base: String,
    cookie: String,
}

impl Client {
    async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let res = self
            .http
            .get(format!("{}{path}", self.base))
            .header("cookie", format!("usher_session={}", self.cookie))
            .send()
            .await?;
        let status = res.status();
        let body: Value = res.json().await.unwrap_or(Value::Null);
        if !status.is_success() {
            bail!("GET {path}: {status} {body}");
        }
        Ok(body)
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn rss_mib(pid: u32) -> Option<(f64, f64)> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kib = |key: &str| {
        status.lines().find(|l| l.starts_with(key))?.split_whitespace().nth(1)?.parse::<f64>().ok().map(|k| k / 1024.0)
    };
    Some((kib("VmRSS:")?, kib("VmHWM:")?))
}

/// Measures each query shape `requests` times, one request at a time, and
/// prints one record per shape (and the server's memory at the end).
pub async fn measure(
    base: &str,
    cookie: &str,
    users: u64,
    seed: u64,
    requests: usize,
    server_pid: Option<u32>,
    label: &str,
) -> anyhow::Result<()> {
    let client = Client { http: reqwest::Client::new(), base: base.to_owned(), cookie: cookie.to_owned() };
    let pick = |k: u64| user(seed, mix(seed ^ k) % users);
    let n = requests as u64;
    // Substrings of 3+ characters of real names and phones.
    let names: Vec<String> = (0..n)
        .map(|k| {
            let u = pick(k);
            let name: Vec<char> =
                if k % 2 == 0 { u.last_name.chars().collect() } else { u.first_name.chars().collect() };
            let len = 3 + (k as usize % 3).min(name.len().saturating_sub(3));
            let start = (mix(k) as usize) % (name.len() - len + 1);
            format!("/api/v1/users?q={}", enc(&name[start..start + len].iter().collect::<String>()))
        })
        .collect();
    let phones: Vec<String> = (0..n)
        .map(|k| {
            let p = pick(k + 1_000_000).phone;
            let start = 2 + (mix(k) as usize % 5);
            format!("/api/v1/users?q={}", enc(&p[start..start + 5]))
        })
        .collect();
    let ids: Vec<String> =
        (0..n).map(|k| format!("/api/v1/users?q={}", enc(&pick(k + 2_000_000).user_id.to_uppercase()))).collect();
    let emails: Vec<String> = (0..n).map(|k| format!("/api/v1/users?q={}", enc(&pick(k + 3_000_000).email))).collect();
    let metadata: Vec<String> = (0..n)
        .map(|k| {
            let d = pick(k + 4_000_000).department.to_lowercase();
            let start = mix(k) as usize % (d.len() - 4);
            format!("/api/v1/users?q={}", enc(&format!("departments:{}", &d[start..start + 4])))
        })
        .collect();
    let mut shapes = vec![
        Shape { name: "search: 3-5 characters of a first or last name".into(), queries: names },
        Shape { name: "search: 5 digits of a phone number".into(), queries: phones },
        Shape { name: "search: exact user ID (other case)".into(), queries: ids },
        Shape { name: "search: exact email".into(), queries: emails },
        Shape { name: "search: departments:<4 characters>".into(), queries: metadata },
    ];
    // Deep pages: for each sort column, a cursor the server made at a random
    // user. Cursors are signed, so they come from the server: the first match
    // of a search for part of that user's last name, one per page (`limit=1`),
    // in the column's order; the cursor after it resumes the whole list there.
    for sort in
        ["last_name", "first_name", "user_id", "email", "phone", "role", "status", "created_at", "last_login_at"]
    {
        let mut queries = Vec::with_capacity(n.min(200) as usize);
        for k in 0..n.min(200) {
            let u = pick(k + 5_000_000);
            let name: Vec<char> = u.last_name.chars().collect();
            let len = 4.min(name.len());
            let start = (mix(k) as usize) % (name.len() - len + 1);
            let needle: String = name[start..start + len].iter().collect();
            let order = if k % 2 == 1 { "&order=desc" } else { "" };
            let body =
                client.get(&format!("/api/v1/users?q={}&sort={sort}{order}&limit=1&fields=id", enc(&needle))).await?;
            let Some(c) = body["next_cursor"].as_str() else { continue };
            queries.push(format!("/api/v1/users?sort={sort}{order}&cursor={}", enc(c)));
        }
        anyhow::ensure!(!queries.is_empty(), "no cursor for sort={sort}");
        shapes.push(Shape { name: format!("page deep in the list, sort={sort}"), queries });
    }
    for shape in &shapes {
        // Warm up on a few queries, then measure each once.
        for q in shape.queries.iter().take(5) {
            client.get(q).await?;
        }
        let mut ms = Vec::with_capacity(shape.queries.len());
        let mut found = 0usize;
        for q in &shape.queries {
            let start = Instant::now();
            let body = client.get(q).await?;
            let took = start.elapsed().as_secs_f64() * 1000.0;
            ms.push(took);
            found += body["items"].as_array().map_or(0, Vec::len);
            if took > 25.0 && std::env::var_os("BENCH_SHOW_SLOW").is_some() {
                eprintln!("slow: {took:.1} ms {q}");
            }
        }
        ms.sort_by(f64::total_cmp);
        let record = json!({
            "label": label, "kind": "directory", "shape": shape.name, "requests": ms.len(),
            "p50_ms": round(percentile(&ms, 0.50)), "p95_ms": round(percentile(&ms, 0.95)),
            "p99_ms": round(percentile(&ms, 0.99)), "max_ms": round(*ms.last().unwrap_or(&0.0)),
            "avg_items": round(found as f64 / ms.len().max(1) as f64),
        });
        println!("{record}");
    }
    if let Some((rss, peak)) = server_pid.and_then(rss_mib) {
        println!(
            "{}",
            json!({ "label": label, "kind": "directory_rss", "rss_mib": round(rss), "peak_mib": round(peak) })
        );
    }
    Ok(())
}

fn round(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The directory records (and import times) as Markdown tables, one column per engine.
pub fn render(records: &[Value]) -> String {
    let labels: Vec<String> = {
        let mut l: Vec<String> = records.iter().filter_map(|r| r["label"].as_str().map(str::to_owned)).collect();
        l.dedup();
        l.sort();
        l.dedup();
        l
    };
    let mut out = String::new();
    out.push_str("| query | ");
    out.push_str(&labels.iter().map(|l| format!("{l} p50 / p95 / p99 (ms)")).collect::<Vec<_>>().join(" | "));
    out.push_str(" |\n|---|");
    out.push_str(&"---|".repeat(labels.len()));
    out.push('\n');
    let mut shapes: Vec<&str> = Vec::new();
    for r in records.iter().filter(|r| r["kind"] == "directory") {
        let s = r["shape"].as_str().unwrap_or("");
        if !shapes.contains(&s) {
            shapes.push(s);
        }
    }
    for shape in shapes {
        out.push_str(&format!("| {shape} |"));
        for label in &labels {
            let r = records.iter().find(|r| r["kind"] == "directory" && r["shape"] == shape && r["label"] == **label);
            match r {
                Some(r) => out.push_str(&format!(" {} / {} / {} |", r["p50_ms"], r["p95_ms"], r["p99_ms"])),
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    for (kind, title, key) in [
        ("directory_import", "import (s)", "seconds"),
        ("directory_rss", "server RSS after the queries (MiB)", "rss_mib"),
        ("directory_rss", "server peak RSS (MiB)", "peak_mib"),
    ] {
        out.push_str(&format!("| {title} |"));
        for label in &labels {
            match records.iter().find(|r| r["kind"] == kind && r["label"] == **label) {
                Some(r) => out.push_str(&format!(" {} |", r[key])),
                None => out.push_str(" – |"),
            }
        }
        out.push('\n');
    }
    out
}
