//! Closed-loop HTTP load: each worker owns one keep-alive HTTP/1.1 connection
//! (hyper, no pool) and sends its next request as soon as the previous answer is read.

use std::{
    future::Future,
    net::IpAddr,
    pin::Pin,
    sync::Arc,
    time::{Duration, Instant},
};

use anyhow::{Context, bail};
use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;
use reqwest::{StatusCode, header};
use serde_json::{Value, json};

use crate::hash::round;

/// The session cookie's name (`usher_server::extract::SESSION_COOKIE`).
pub(crate) const SESSION_COOKIE: &str = "usher_session";
/// A request that takes longer than this counts as an error.
pub(crate) const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
pub(crate) const USER_AGENT: &str = "usher-bench/1.0";
/// Where sign-ins go.
pub const LOGIN_PATH: &str = "/api/v1/auth/login";

/// `base` without its trailing slash, once it is known to be plain HTTP on a
/// loopback address: the benchmark never sends load elsewhere.
pub fn loopback_base(base: &str) -> anyhow::Result<String> {
    let url = reqwest::Url::parse(base).with_context(|| format!("{base:?} is not a URL"))?;
    if url.scheme() != "http" {
        bail!("{base}: only http:// targets are supported");
    }
    let host = url.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host.trim_start_matches('[').trim_end_matches(']').parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("{base}: the benchmark only targets loopback addresses such as 127.0.0.1");
    }
    Ok(base.trim_end_matches('/').to_owned())
}

pub(crate) fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .user_agent(USER_AGENT)
        .timeout(REQUEST_TIMEOUT)
        .tcp_nodelay(true)
        .pool_max_idle_per_host(1)
        .build()?)
}

/// Signs in once and returns the session secret from the `Set-Cookie` header.
pub async fn login_secret(base: &str, login: &str, password: &str) -> anyhow::Result<String> {
    let res = client()?
        .post(format!("{base}{LOGIN_PATH}"))
        .json(&json!({ "login": login, "password": password }))
        .send()
        .await
        .context("signing in")?;
    let status = res.status();
    if status != StatusCode::OK {
        let body = res.text().await.unwrap_or_default();
        bail!("sign-in of {login} answered {status}: {body}");
    }
    for value in res.headers().get_all(header::SET_COOKIE) {
        let text = value.to_str().unwrap_or("");
        let first = text.split(';').next().unwrap_or("");
        if let Some((SESSION_COOKIE, secret)) = first.split_once('=')
            && !secret.is_empty()
        {
            return Ok(secret.to_owned());
        }
    }
    bail!("the sign-in answer set no {SESSION_COOKIE} cookie")
}

/// One kind of request, repeated by the workers.
#[derive(Clone)]
pub enum Probe {
    /// `POST /api/v1/auth/login` with a JSON body; 200 is a success.
    Login { target: Target, body: Bytes },
    /// `GET` with an optional credential header (session cookie or bearer token); 200 is a success.
    Get { target: Target, credential: Option<(header::HeaderName, String)> },
    /// A sign-in with two-step verification: password, then code (see [`crate::twostep`]).
    TwoStep(Arc<crate::twostep::TwoStep>),
}

/// Where a probe's requests go: `host:port` and the path.
#[derive(Clone)]
pub struct Target {
    pub(crate) authority: String,
    path: String,
}

impl Target {
    pub(crate) fn new(base: &str, path: &str) -> Self {
        Self { authority: base.trim_start_matches("http://").to_owned(), path: path.to_owned() }
    }
}

/// One keep-alive HTTP/1.1 connection, driven by the worker's own task (no
/// connection pool, no second task per request): the load generator should
/// spend as little of the shared CPUs as possible.
pub(crate) struct Connection {
    sender: SendRequest<Full<Bytes>>,
    driver: Pin<Box<dyn Future<Output = hyper::Result<()>> + Send>>,
}

impl Connection {
    async fn open(authority: &str) -> Result<Self, String> {
        let stream = tokio::net::TcpStream::connect(authority).await.map_err(|e| format!("connect: {e}"))?;
        stream.set_nodelay(true).map_err(|e| format!("nodelay: {e}"))?;
        let (sender, conn) =
            hyper::client::conn::http1::handshake(TokioIo::new(stream)).await.map_err(|e| format!("handshake: {e}"))?;
        Ok(Self { sender, driver: Box::pin(conn) })
    }

    /// Sends one request and reads the whole answer, polling the connection meanwhile.
    pub(crate) async fn send(&mut self, request: http::Request<Full<Bytes>>) -> Result<(StatusCode, Bytes), String> {
        let exchange = async {
            let res = self.sender.send_request(request).await.map_err(|e| format!("request: {e}"))?;
            let status = res.status();
            let body = res.into_body().collect().await.map_err(|e| format!("reading the answer: {e}"))?.to_bytes();
            Ok((status, body))
        };
        tokio::select! {
            biased;
            outcome = exchange => outcome,
            closed = &mut self.driver => Err(format!("connection closed: {closed:?}")),
        }
    }
}

impl Probe {
    pub fn login(base: &str, login: &str, password: &str) -> anyhow::Result<Self> {
        let body = serde_json::to_vec(&json!({ "login": login, "password": password }))?;
        Ok(Self::Login { target: Target::new(base, LOGIN_PATH), body: Bytes::from(body) })
    }

    pub fn get(base: &str, path: &str, secret: Option<&str>) -> Self {
        Self::Get {
            target: Target::new(base, path),
            credential: secret.map(|s| (header::COOKIE, format!("{SESSION_COOKIE}={s}"))),
        }
    }

    /// `GET` authenticated with an API token (`Authorization: Bearer`).
    pub fn get_bearer(base: &str, path: &str, token: &str) -> Self {
        Self::Get {
            target: Target::new(base, path),
            credential: Some((header::AUTHORIZATION, format!("Bearer {token}"))),
        }
    }

    fn target(&self) -> &Target {
        match self {
            Self::Login { target, .. } | Self::Get { target, .. } => target,
            Self::TwoStep(two_step) => two_step.target(),
        }
    }

    fn request(&self) -> Result<http::Request<Full<Bytes>>, String> {
        let target = self.target();
        let builder = http::Request::builder()
            .uri(target.path.as_str())
            .header(header::HOST, target.authority.as_str())
            .header(header::USER_AGENT, USER_AGENT);
        let built = match self {
            Self::Login { body, .. } => builder
                .method(http::Method::POST)
                .header(header::CONTENT_TYPE, "application/json")
                .body(Full::new(body.clone())),
            Self::Get { credential: Some((name, value)), .. } => builder.header(name, value).body(Full::default()),
            Self::Get { credential: None, .. } => builder.body(Full::default()),
            Self::TwoStep(_) => return Err("a two-step sign-in builds its own requests".into()),
        };
        built.map_err(|e| format!("building the request: {e}"))
    }

    /// Sends the request on the worker's connection (opening one if needed) and
    /// reads the whole answer; a failed connection is dropped and reopened next time.
    async fn once(&self, conn: &mut Option<Connection>) -> Result<(), String> {
        let open = match conn {
            Some(open) => open,
            None => conn.insert(Connection::open(&self.target().authority).await?),
        };
        let outcome = match self {
            Self::TwoStep(two_step) => two_step.exchange(open).await,
            _ => tokio::time::timeout(REQUEST_TIMEOUT, open.send(self.request()?))
                .await
                .unwrap_or(Err("timed out".into())),
        };
        match outcome {
            Ok((StatusCode::OK, _)) => Ok(()),
            Ok((status, body)) => Err(format!(
                "status {status}: {}",
                String::from_utf8_lossy(&body).chars().take(200).collect::<String>()
            )),
            Err(e) => {
                *conn = None;
                Err(e)
            }
        }
    }
}

/// Workers of one kind within a run.
pub struct Group {
    pub kind: String,
    /// The request path, for the record.
    pub path: String,
    /// What the workers send: worker `i` sends `probes[i % len]` (e.g. one API
    /// token per connection).
    pub probes: Vec<Probe>,
    pub concurrency: usize,
    /// Requests per second for the whole group, spread evenly over its
    /// workers; `None` is a closed loop (as fast as answers come).
    pub rate: Option<f64>,
}

/// What one worker saw.
#[derive(Default)]
struct Tally {
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
    finished: Option<Instant>,
}

/// One worker: closed loop (next request as soon as the answer is read), or
/// paced when `pace` is set (one request per period, from a first instant).
/// Paced latencies count from the scheduled send time, so a server that falls
/// behind is charged for the wait too (no coordinated omission).
async fn worker(
    probe: Arc<Probe>,
    pace: Option<(Instant, Duration)>,
    measure_from: Instant,
    deadline: Instant,
) -> anyhow::Result<Tally> {
    let mut conn = None;
    let mut tally = Tally::default();
    let mut next = pace.map(|(first, _)| first);
    loop {
        let start = match next {
            Some(at) => {
                tokio::time::sleep_until(at.into()).await;
                at
            }
            None => Instant::now(),
        };
        if start >= deadline {
            break;
        }
        let outcome = probe.once(&mut conn).await;
        let took = start.elapsed();
        let counted = start >= measure_from;
        match outcome {
            Ok(()) if counted => tally.latencies.push(took),
            Ok(()) => {}
            Err(e) => {
                if counted {
                    tally.errors += 1;
                }
                tally.first_error.get_or_insert(e);
                if next.is_none() {
                    // Do not spin on a refused connection.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
        if let (Some(at), Some((_, every))) = (next.as_mut(), pace) {
            *at += every;
        }
    }
    tally.finished = Some(Instant::now());
    Ok(tally)
}

/// The measured result of one group.
pub struct Outcome {
    rate: Option<f64>,
    /// Wall time of the whole run, warm-up included, and the CPU seconds over
    /// it of this process and of the server (Linux only): who used the cores.
    run_wall: Duration,
    client_cpu: Option<f64>,
    server_cpu: Option<f64>,
    /// Busy CPU seconds of the whole machine over the run (every process).
    machine_cpu: Option<f64>,
    kind: String,
    path: String,
    concurrency: usize,
    elapsed: Duration,
    latencies: Vec<Duration>,
    errors: u64,
    first_error: Option<String>,
}

impl Outcome {
    pub fn json(&self, label: &str) -> Value {
        let secs = self.elapsed.as_secs_f64();
        let ms = |p: f64| round(percentile(&self.latencies, p).as_secs_f64() * 1000.0, 2);
        json!({
            "label": label,
            "kind": self.kind,
            "path": self.path,
            "concurrency": self.concurrency,
            "target_rate": self.rate,
            "seconds": round(secs, 3),
            "ok": self.latencies.len(),
            "errors": self.errors,
            "per_second": round(self.latencies.len() as f64 / secs, 1),
            "p50_ms": ms(0.50),
            "p95_ms": ms(0.95),
            "p99_ms": ms(0.99),
            "max_ms": ms(1.0),
            "first_error": self.first_error,
            "run_wall_s": round(self.run_wall.as_secs_f64(), 3),
            "client_cpu_s": self.client_cpu.map(|c| round(c, 2)),
            "server_cpu_s": self.server_cpu.map(|c| round(c, 2)),
            "machine_cpu_s": self.machine_cpu.map(|c| round(c, 2)),
        })
    }
}

/// Runs every group's workers at once: `warmup` of unmeasured load, then
/// `duration` measured. Requests still in flight at the end are waited for and
/// counted; the rate's clock stops when a group's last worker is done.
///
/// `server_pid`, when given, is the server's process, whose CPU use is recorded.
pub async fn run(
    groups: Vec<Group>,
    warmup: Duration,
    duration: Duration,
    server_pid: Option<u32>,
) -> anyhow::Result<Vec<Outcome>> {
    let server_stat = server_pid.map(|pid| format!("/proc/{pid}/stat"));
    let started = Instant::now();
    let cpu_before = cpu_seconds("/proc/self/stat");
    let server_before = server_stat.as_deref().and_then(cpu_seconds);
    let machine_before = machine_busy_seconds();
    let measure_from = started + warmup;
    let deadline = measure_from + duration;
    let mut spawned = Vec::new();
    for group in groups {
        anyhow::ensure!(!group.probes.is_empty(), "a load group needs at least one probe");
        let probes: Vec<_> = group.probes.into_iter().map(Arc::new).collect();
        // Paced workers each send every concurrency/rate seconds, staggered.
        let every = group.rate.filter(|r| *r > 0.0).map(|r| Duration::from_secs_f64(group.concurrency as f64 / r));
        let handles: Vec<_> = (0..group.concurrency)
            .map(|i| {
                let pace = every.map(|e| (started + e.mul_f64(i as f64 / group.concurrency as f64), e));
                tokio::spawn(worker(probes[i % probes.len()].clone(), pace, measure_from, deadline))
            })
            .collect();
        spawned.push((group.kind, group.path, group.concurrency, group.rate, handles));
    }
    let mut finished = Vec::new();
    for (kind, path, concurrency, rate, handles) in spawned {
        let mut tallies = Vec::new();
        for handle in handles {
            tallies.push(handle.await.context("a load worker panicked")??);
        }
        finished.push((kind, path, concurrency, rate, tallies));
    }
    let run_wall = started.elapsed();
    let client_cpu = cpu_seconds("/proc/self/stat").zip(cpu_before).map(|(after, before)| after - before);
    let server_after = server_stat.as_deref().and_then(cpu_seconds);
    let server_cpu = server_after.zip(server_before).map(|(after, before)| after - before);
    let machine_cpu = machine_busy_seconds().zip(machine_before).map(|(after, before)| after - before);
    let mut outcomes = Vec::new();
    for (kind, path, concurrency, rate, tallies) in finished {
        let mut latencies = Vec::new();
        let mut errors = 0;
        let mut first_error = None;
        let mut last = deadline;
        for tally in tallies {
            latencies.extend(tally.latencies);
            errors += tally.errors;
            first_error = first_error.or(tally.first_error);
            last = last.max(tally.finished.unwrap_or(deadline));
        }
        latencies.sort_unstable();
        if let Some(e) = &first_error {
            eprintln!("usher-bench: {kind}: first error: {e}");
        }
        outcomes.push(Outcome {
            rate,
            run_wall,
            client_cpu,
            server_cpu,
            machine_cpu,
            kind,
            path,
            concurrency,
            elapsed: last - measure_from,
            latencies,
            errors,
            first_error,
        });
    }
    Ok(outcomes)
}

/// User plus system CPU seconds of a process so far, from its `/proc/PID/stat`
/// (in clock ticks of 1/100 s, Linux's `USER_HZ`); `None` elsewhere.
fn cpu_seconds(stat_path: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(stat_path).ok()?;
    // Fields after the command name, which is in parentheses: state is field 3, utime 14, stime 15.
    let rest = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |n: usize| fields.get(n - 3)?.parse::<u64>().ok();
    Some((ticks(14)? + ticks(15)?) as f64 / 100.0)
}

/// Busy CPU seconds of the machine so far, all CPUs together, from the `cpu`
/// line of `/proc/stat` (user, nice, system, irq, softirq, steal; not idle or
/// iowait); `None` elsewhere.
fn machine_busy_seconds() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let line = stat.lines().next()?.strip_prefix("cpu ")?;
    let ticks: Vec<u64> = line.split_whitespace().take(8).map(|t| t.parse().ok()).collect::<Option<_>>()?;
    let busy: u64 = ticks.iter().enumerate().filter(|(i, _)| *i != 3 && *i != 4).map(|(_, t)| t).sum();
    Some(busy as f64 / 100.0)
}

/// The nearest-rank percentile (`p` in 0..=1) of sorted durations; zero when empty.
fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<Duration> = (1..=100).map(Duration::from_millis).collect();
        assert_eq!(percentile(&v, 0.50), Duration::from_millis(50));
        assert_eq!(percentile(&v, 0.99), Duration::from_millis(99));
        assert_eq!(percentile(&v, 1.0), Duration::from_millis(100));
        assert_eq!(percentile(&v[..1], 0.99), Duration::from_millis(1));
        assert_eq!(percentile(&[], 0.5), Duration::ZERO);
    }

    #[test]
    fn only_loopback_targets() {
        assert_eq!(loopback_base("http://127.0.0.1:8080/").unwrap(), "http://127.0.0.1:8080");
        assert!(loopback_base("http://[::1]:8080").is_ok());
        assert!(loopback_base("http://localhost:1").is_ok());
        assert!(loopback_base("http://10.0.0.1:8080").is_err());
        assert!(loopback_base("http://example.org").is_err());
        assert!(loopback_base("https://127.0.0.1").is_err());
    }
}
