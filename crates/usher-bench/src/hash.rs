//! The raw argon2id rate: what hashing alone allows on these cores, with the
//! parameters the server uses.

use std::time::{Duration, Instant};

use anyhow::{Context, anyhow};
use argon2::{Algorithm, Argon2, Block, Params, Version};
use serde_json::{Value, json};

/// The server's argon2id cost (`usher_core::CoreConfig::default()`: OWASP's
/// m=19 MiB, t=2, p=1). Not taken from usher-core itself so that the benchmark
/// builds on its own; `--memory-kib`, `--iterations` and `--lanes` override them.
pub const MEMORY_KIB: u32 = 19_456;
pub const ITERATIONS: u32 = 2;
pub const LANES: u32 = 1;

/// The password hashed; its length is that of a typical passphrase.
const PASSWORD: &[u8] = b"correct horse battery staple";
const SALT: &[u8; 16] = b"usher-bench-salt";

pub struct HashRate {
    threads: usize,
    hashes: u64,
    elapsed: Duration,
    params: (u32, u32, u32),
}

impl HashRate {
    pub fn per_second(&self) -> f64 {
        self.hashes as f64 / self.elapsed.as_secs_f64()
    }

    pub fn record(&self, label: &str) -> Value {
        let (m, t, p) = self.params;
        json!({
            "label": label,
            "kind": "hash_rate",
            "threads": self.threads,
            "seconds": round(self.elapsed.as_secs_f64(), 3),
            "hashes": self.hashes,
            "per_second": round(self.per_second(), 2),
            "ms_per_hash_per_thread": round(self.elapsed.as_secs_f64() * 1000.0 * self.threads as f64 / self.hashes.max(1) as f64, 2),
            "params": format!("argon2id m={m} KiB, t={t}, p={p}"),
        })
    }
}

/// Hashes a password on `threads` threads for `duration`: the work of one
/// sign-in's verification, with nothing else. Like the server's hashing
/// threads (`usher-core`'s `hashing`), each thread keeps its argon2 working
/// memory, so no time goes to allocating and faulting in 19 MiB per hash.
pub fn rate(duration: Duration, threads: usize, (m, t, p): (u32, u32, u32)) -> anyhow::Result<HashRate> {
    let params = Params::new(m, t, p, Some(32)).map_err(|e| anyhow!("argon2 parameters: {e}"))?;
    let argon = Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone());
    let start = Instant::now();
    let deadline = start + duration;
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let argon = argon.clone();
            let blocks = params.block_count();
            std::thread::spawn(move || -> anyhow::Result<u64> {
                let mut memory = vec![Block::default(); blocks];
                let mut out = [0u8; 32];
                let mut n = 0;
                while Instant::now() < deadline {
                    argon
                        .hash_password_into_with_memory(PASSWORD, SALT, &mut out, &mut memory[..])
                        .map_err(|e| anyhow!("argon2: {e}"))?;
                    n += 1;
                }
                Ok(n)
            })
        })
        .collect();
    let mut hashes = 0;
    for worker in workers {
        hashes += worker.join().map_err(|_| anyhow!("a hashing thread panicked"))?.context("hashing")?;
    }
    let elapsed = start.elapsed();
    Ok(HashRate { threads, hashes, elapsed, params: (m, t, p) })
}

pub fn round(x: f64, digits: i32) -> f64 {
    let f = 10f64.powi(digits);
    (x * f).round() / f
}
