//! argon2id on a small pool of dedicated threads, one per core.
//!
//! Each thread keeps its argon2 working memory (19 MiB at OWASP's parameters)
//! for its whole life, so a storm of sign-ins neither blocks the async workers
//! nor grows the heap: memory stays at one block set per core, and no time is
//! spent faulting fresh pages in. Hashes are standard PHC strings.

use std::sync::{Arc, Mutex, mpsc};

use argon2::{Algorithm, Argon2, Block, Params, Version};
use base64::{Engine, engine::general_purpose::STANDARD_NO_PAD as B64};
use subtle::ConstantTimeEq;
use tokio::sync::oneshot;

use crate::{CoreConfig, Error, Result};

type Job = Box<dyn FnOnce(&mut Vec<Block>) + Send>;

#[derive(Clone)]
pub(crate) struct Hasher {
    jobs: mpsc::Sender<Job>,
    params: Params,
    /// A real hash of a random password: verifying against it makes an unknown
    /// user cost exactly what a known one does.
    dummy: Arc<String>,
}

impl Hasher {
    pub(crate) fn new(config: &CoreConfig) -> Result<Self> {
        let params = Params::new(config.argon2_memory_kib, config.argon2_iterations, config.argon2_lanes, Some(32))
            .map_err(|e| Error::internal(format!("argon2 parameters: {e}")))?;
        let (jobs, queue) = mpsc::channel::<Job>();
        let queue = Arc::new(Mutex::new(queue));
        let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
        for i in 0..threads {
            let queue = queue.clone();
            std::thread::Builder::new()
                .name(format!("usher-argon2-{i}"))
                .spawn(move || {
                    lower_priority();
                    let mut memory = Vec::new();
                    loop {
                        let job = match queue.lock() {
                            Ok(q) => q.recv(),
                            Err(_) => return,
                        };
                        match job {
                            // A panicking job must not take the thread with it.
                            Ok(job) => {
                                let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| job(&mut memory)));
                            }
                            Err(_) => return, // every Hasher is gone
                        }
                    }
                })
                .map_err(|e| Error::internal(format!("starting hashing threads: {e}")))?;
        }
        let mut memory = Vec::new();
        let dummy = hash_with(&params, &mut memory, crate::secrets::random_secret()?.as_bytes())?;
        Ok(Self { jobs, params, dummy: Arc::new(dummy) })
    }

    /// Hashes a password into a PHC string (argon2id, random 16-byte salt).
    pub(crate) async fn hash(&self, password: &str) -> Result<String> {
        let password = password.to_owned();
        let params = self.params.clone();
        self.run(move |memory| hash_with(&params, memory, password.as_bytes())).await?
    }

    /// Checks a password against a stored hash, or against the dummy hash when
    /// there is none (unknown user, no password set): same cost, always false.
    pub(crate) async fn verify(&self, password: &str, stored: Option<String>) -> Result<bool> {
        let password = password.to_owned();
        let real = stored.is_some();
        let phc = stored.unwrap_or_else(|| self.dummy.as_ref().clone());
        let ok = self.run(move |memory| verify_with(memory, password.as_bytes(), &phc)).await?;
        Ok(real && ok)
    }

    async fn run<T: Send + 'static>(&self, f: impl FnOnce(&mut Vec<Block>) -> T + Send + 'static) -> Result<T> {
        let (tx, rx) = oneshot::channel();
        let job: Job = Box::new(move |memory| {
            let _ = tx.send(f(memory));
        });
        self.jobs.send(job).map_err(|_| Error::internal("hashing threads stopped"))?;
        rx.await.map_err(|_| Error::internal("a hashing job was dropped"))
    }
}

/// How much the hashing threads yield to the rest of the server (Linux nice
/// value): during a sign-in storm, requests that need a few microseconds of CPU
/// get it first, so their latency stays low; sign-ins alone still use every core.
const HASHING_NICE: i32 = 10;

/// Lowers the calling thread's scheduling priority (Linux: per thread).
fn lower_priority() {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: gettid has no preconditions; setpriority on our own thread id
        // only changes this thread's nice value and reports failure by return code.
        let failed = unsafe {
            let tid = libc::gettid();
            libc::setpriority(libc::PRIO_PROCESS, tid as libc::id_t, HASHING_NICE) != 0
        };
        if failed {
            tracing::debug!("could not lower the priority of a hashing thread");
        }
    }
}

/// Grows the thread's working memory to `blocks` if needed and returns that much.
fn memory_for(memory: &mut Vec<Block>, blocks: usize) -> &mut [Block] {
    if memory.len() < blocks {
        memory.resize(blocks, Block::default());
    }
    &mut memory[..blocks]
}

fn hash_with(params: &Params, memory: &mut Vec<Block>, password: &[u8]) -> Result<String> {
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| Error::internal(format!("random source: {e}")))?;
    let mut out = [0u8; 32];
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params.clone())
        .hash_password_into_with_memory(password, &salt, &mut out, memory_for(memory, params.block_count()))
        .map_err(|e| Error::internal(format!("argon2: {e}")))?;
    Ok(format!(
        "$argon2id$v=19$m={},t={},p={}${}${}",
        params.m_cost(),
        params.t_cost(),
        params.p_cost(),
        B64.encode(salt),
        B64.encode(out)
    ))
}

/// Verifies against a stored hash: an argon2 PHC string of any variant and cost,
/// or an imported bcrypt (`$2b$...`) or PBKDF2 (`$pbkdf2-sha256$...`) hash;
/// anything unreadable is simply "no match".
fn verify_with(memory: &mut Vec<Block>, password: &[u8], phc: &str) -> bool {
    match hash_kind(phc) {
        Some(HashKind::Bcrypt) => return bcrypt::verify(password, phc).unwrap_or(false),
        Some(HashKind::Pbkdf2) => {
            use pbkdf2::PasswordVerifier;
            return pbkdf2::phc::PasswordHash::new(phc)
                .is_ok_and(|h| pbkdf2::Pbkdf2::default().verify_password(password, &h).is_ok());
        }
        _ => {}
    }
    let parts: Vec<&str> = phc.split('$').collect();
    let [_, algorithm, version, costs, salt, hash] = parts[..] else { return false };
    let algorithm = match algorithm {
        "argon2id" => Algorithm::Argon2id,
        "argon2i" => Algorithm::Argon2i,
        "argon2d" => Algorithm::Argon2d,
        _ => return false,
    };
    let version = match version {
        "v=19" => Version::V0x13,
        "v=16" => Version::V0x10,
        _ => return false,
    };
    let cost = |key: &str| costs.split(',').find_map(|kv| kv.strip_prefix(key)?.parse::<u32>().ok());
    let (Some(m), Some(t), Some(p)) = (cost("m="), cost("t="), cost("p=")) else { return false };
    let (Ok(salt), Ok(expected)) = (B64.decode(salt), B64.decode(hash)) else { return false };
    // Refuse absurd costs from a tampered row rather than allocate them.
    if m > 1 << 21 || t > 64 || expected.len() < 16 || expected.len() > 64 {
        return false;
    }
    let Ok(params) = Params::new(m, t, p, Some(expected.len())) else { return false };
    let mut out = vec![0u8; expected.len()];
    let blocks = params.block_count();
    if Argon2::new(algorithm, version, params)
        .hash_password_into_with_memory(password, &salt, &mut out, memory_for(memory, blocks))
        .is_err()
    {
        return false;
    }
    bool::from(out.ct_eq(&expected))
}

/// The families of password hashes Usher can verify.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum HashKind {
    Argon2,
    Bcrypt,
    Pbkdf2,
}

/// Which family a stored hash belongs to, from its prefix.
pub(crate) fn hash_kind(phc: &str) -> Option<HashKind> {
    if phc.starts_with("$argon2") {
        Some(HashKind::Argon2)
    } else if ["$2a$", "$2b$", "$2y$"].iter().any(|p| phc.starts_with(p)) {
        Some(HashKind::Bcrypt)
    } else if phc.starts_with("$pbkdf2") {
        Some(HashKind::Pbkdf2)
    } else {
        None
    }
}

/// Checks that an imported password hash is one Usher can verify: an argon2
/// PHC string, bcrypt (`$2a$`, `$2b$`, `$2y$`, cost 4–31) or a PBKDF2 PHC string
/// (`$pbkdf2`, `$pbkdf2-sha256`, `$pbkdf2-sha512`). Returns why not.
pub fn check_password_hash(phc: &str) -> std::result::Result<(), &'static str> {
    match hash_kind(phc) {
        Some(HashKind::Argon2) => {
            let parsed =
                argon2::password_hash::phc::PasswordHash::new(phc).map_err(|_| "not a valid argon2 PHC string")?;
            let ok = argon2::Params::try_from(&parsed).is_ok() && parsed.salt.is_some() && parsed.hash.is_some();
            if ok { Ok(()) } else { Err("not a valid argon2 PHC string") }
        }
        Some(HashKind::Bcrypt) => {
            let cost = phc.get(4..6).and_then(|c| c.parse::<u32>().ok());
            let ok =
                phc.len() == 60 && phc.as_bytes().get(6) == Some(&b'$') && cost.is_some_and(|c| (4..=31).contains(&c));
            if ok { Ok(()) } else { Err("not a valid bcrypt hash") }
        }
        Some(HashKind::Pbkdf2) => {
            let parsed = pbkdf2::phc::PasswordHash::new(phc).map_err(|_| "not a valid PBKDF2 PHC string")?;
            let ok = pbkdf2::Algorithm::try_from(parsed.algorithm.as_str()).is_ok()
                && pbkdf2::Params::try_from(&parsed).is_ok()
                && parsed.salt.is_some()
                && parsed.hash.is_some();
            if ok { Ok(()) } else { Err("not a valid PBKDF2 PHC string") }
        }
        None => Err("not a PHC string of argon2id, bcrypt or PBKDF2"),
    }
}

impl Hasher {
    /// Whether a stored hash is argon2id at this server's cost, i.e. needs no
    /// upgrade after a successful sign-in.
    pub(crate) fn is_current(&self, phc: &str) -> bool {
        let prefix =
            format!("$argon2id$v=19$m={},t={},p={}$", self.params.m_cost(), self.params.t_cost(), self.params.p_cost());
        phc.starts_with(&prefix)
    }
}

#[cfg(test)]
mod tests {
    use argon2::{PasswordHasher, PasswordVerifier};

    use super::*;

    fn params() -> Params {
        Params::new(19_456, 2, 1, Some(32)).unwrap()
    }

    #[test]
    fn our_hashes_are_standard_phc_and_interoperate() {
        let mut memory = Vec::new();
        let phc = hash_with(&params(), &mut memory, b"hunter2-hunter2").unwrap();
        assert!(phc.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify_with(&mut memory, b"hunter2-hunter2", &phc));
        assert!(!verify_with(&mut memory, b"hunter3-hunter3", &phc));
        // The argon2 crate's own verifier accepts our string...
        let default = Argon2::default();
        assert!(default.verify_password(b"hunter2-hunter2", phc.as_str()).is_ok());
        // ...and we accept its strings, at other costs too.
        let theirs = Argon2::new(Algorithm::Argon2id, Version::V0x13, Params::new(8_192, 3, 2, None).unwrap())
            .hash_password(b"other password")
            .unwrap()
            .to_string();
        assert!(verify_with(&mut memory, b"other password", &theirs));
        assert!(!verify_with(&mut memory, b"other passwore", &theirs));
        for junk in ["", "$argon2id$v=19$m=1,t=1,p=1$$", "$bcrypt$x", "$argon2id$v=19$m=999999999,t=2,p=1$AAAA$AAAA"] {
            assert!(!verify_with(&mut memory, b"x", junk), "{junk}");
        }
    }

    #[test]
    fn imported_bcrypt_and_pbkdf2_hashes_verify() {
        let mut memory = Vec::new();
        let bcrypt = bcrypt::hash("tr0ub4dor&3", 4).unwrap();
        assert_eq!(hash_kind(&bcrypt), Some(HashKind::Bcrypt));
        assert!(check_password_hash(&bcrypt).is_ok());
        assert!(verify_with(&mut memory, b"tr0ub4dor&3", &bcrypt));
        assert!(!verify_with(&mut memory, b"tr0ub4dor&4", &bcrypt));
        // RFC 6070-style PBKDF2-SHA256 PHC string (from the pbkdf2 crate's tests).
        let pbkdf2 = "$pbkdf2-sha256$i=4096,l=40$c2FsdFNBTFRzYWx0U0FMVHNhbHRTQUxUc2FsdFNBTFRzYWx0\
                      $NIyJ28vTKy8y2BS4EW6EzysXNH68GAAYHE4qH7jdU+HGNVGMfaxH6Q";
        assert!(check_password_hash(pbkdf2).is_ok(), "{:?}", check_password_hash(pbkdf2));
        assert!(verify_with(&mut memory, b"passwordPASSWORDpassword", pbkdf2));
        assert!(!verify_with(&mut memory, b"password", pbkdf2));
        let ours = hash_with(&params(), &mut memory, b"x").unwrap();
        assert!(check_password_hash(&ours).is_ok());
        for bad in ["", "plain", "$2b$99$xx", "$pbkdf2-md5$i=1$AAAA$AAAA", "$argon2id$v=19$m=x$$", "$md5$x"] {
            assert!(check_password_hash(bad).is_err(), "{bad}");
        }
    }

    #[tokio::test]
    async fn the_pool_hashes_and_verifies_concurrently() {
        let hasher = Hasher::new(&CoreConfig::default()).unwrap();
        let hashes = futures_join(&hasher).await;
        for (i, h) in hashes.iter().enumerate() {
            assert!(hasher.verify(&format!("password number {i}"), Some(h.clone())).await.unwrap());
        }
        assert!(!hasher.verify("anything", None).await.unwrap(), "no stored hash never matches");
    }

    async fn futures_join(hasher: &Hasher) -> Vec<String> {
        let tasks: Vec<_> = (0..4)
            .map(|i| {
                let h = hasher.clone();
                tokio::spawn(async move { h.hash(&format!("password number {i}")).await.unwrap() })
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    }
}
