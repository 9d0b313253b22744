//! Configuration: defaults, then a TOML file, then `USHER_*` environment
//! variables, then command-line flags. Secrets can come from `*_FILE` variables.

use std::{collections::BTreeMap, net::SocketAddr, path::PathBuf, time::Duration};

use anyhow::{Context, bail};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;

/// The server's settings after every source is merged.
#[derive(Debug, Clone)]
pub struct Config {
    pub listen: SocketAddr,
    pub data_dir: PathBuf,
    /// `sqlite://...` or `postgres://...`; a secret because it may carry a password.
    pub database_url: SecretString,
    /// Public address used in links (setup link, emails).
    pub base_url: String,
    pub smtp_url: Option<SecretString>,
    pub smtp_from: Option<String>,
    /// The email delivery worker's wait after a first failed attempt (doubled after
    /// each further one, at most an hour); tests shorten it.
    pub smtp_retry_base: Duration,
    pub session_idle: Duration,
    pub session_max: Duration,
    /// Read the client address from `X-Forwarded-For` (only behind a proxy you run).
    pub trust_proxy: bool,
    /// Maximum password age of administrators in days (operator-only; `None`: never expires).
    pub admin_password_max_age_days: Option<u32>,
    /// How failed sign-ins lock accounts and addresses.
    pub lockout: usher_core::protection::LockoutPolicy,
    /// `tracing` filter, e.g. `info` or `usher=debug`.
    pub log: String,
}

/// The keys a config file and the environment may set.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct Layer {
    listen: Option<String>,
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    base_url: Option<String>,
    smtp_url: Option<String>,
    smtp_from: Option<String>,
    smtp_retry_base_ms: Option<u64>,
    session_idle_minutes: Option<u64>,
    session_max_hours: Option<u64>,
    trust_proxy: Option<bool>,
    log: Option<String>,
    admin_password_max_age_days: Option<u64>,
    lockout_failures: Option<u64>,
    lockout_address_failures: Option<u64>,
    lockout_minutes: Option<u64>,
}

const KEYS: [&str; 15] = [
    "listen",
    "data_dir",
    "database_url",
    "base_url",
    "smtp_url",
    "smtp_from",
    "smtp_retry_base_ms",
    "session_idle_minutes",
    "session_max_hours",
    "trust_proxy",
    "log",
    "admin_password_max_age_days",
    "lockout_failures",
    "lockout_address_failures",
    "lockout_minutes",
];
const SECRET_KEYS: [&str; 2] = ["database_url", "smtp_url"];

/// Overrides from command-line flags.
#[derive(Debug, Clone, Default)]
pub struct Overrides {
    pub listen: Option<String>,
    pub data_dir: Option<PathBuf>,
    pub database_url: Option<String>,
}

impl Config {
    /// Merges every source. Returns the config and warnings (unknown `USHER_*`
    /// variables) to log once logging is up.
    pub fn load(
        file: Option<&std::path::Path>,
        env: impl IntoIterator<Item = (String, String)>,
        overrides: Overrides,
    ) -> anyhow::Result<(Self, Vec<String>)> {
        let mut merged = Layer::default();
        if let Some(path) = file {
            let text =
                std::fs::read_to_string(path).with_context(|| format!("reading config file {}", path.display()))?;
            let layer: Layer = toml::from_str(&text).with_context(|| format!("in config file {}", path.display()))?;
            merged = merge(merged, layer);
        }
        let (layer, warnings) = env_layer(env)?;
        merged = merge(merged, layer);
        merged = merge(
            merged,
            Layer {
                listen: overrides.listen,
                data_dir: overrides.data_dir,
                database_url: overrides.database_url,
                ..Layer::default()
            },
        );
        Ok((Self::from_layer(merged)?, warnings))
    }

    fn from_layer(l: Layer) -> anyhow::Result<Self> {
        let lockout = lockout_policy(&l)?;
        let listen_text = l.listen.unwrap_or_else(|| "127.0.0.1:8080".into());
        let listen: SocketAddr = listen_text
            .parse()
            .with_context(|| format!("listen: {listen_text:?} is not an address like 127.0.0.1:8080"))?;
        let data_dir = l.data_dir.unwrap_or_else(|| PathBuf::from("./usher-data"));
        let database_url = match l.database_url {
            Some(url) => url,
            None => format!("sqlite://{}", data_dir.join("usher.db").display()),
        };
        if !(database_url.starts_with("sqlite:")
            || database_url.starts_with("postgres:")
            || database_url.starts_with("postgresql:"))
        {
            bail!("database_url must start with sqlite:// or postgres://");
        }
        let base_url = l.base_url.unwrap_or_else(|| format!("http://{listen}")).trim_end_matches('/').to_owned();
        url::Url::parse(&base_url).with_context(|| format!("base_url: {base_url:?} is not a URL"))?;
        let idle = l.session_idle_minutes.unwrap_or(30);
        let max = l.session_max_hours.unwrap_or(10);
        if idle == 0 || max == 0 {
            bail!("session_idle_minutes and session_max_hours must be at least 1");
        }
        let admin_password_max_age_days = match l.admin_password_max_age_days {
            Some(d @ 1..=3650) => Some(d as u32),
            Some(_) => bail!("admin_password_max_age_days must be between 1 and 3650"),
            None => None,
        };
        Ok(Self {
            listen,
            data_dir,
            database_url: SecretString::from(database_url),
            base_url,
            smtp_url: l.smtp_url.filter(|u| !u.trim().is_empty()).map(SecretString::from),
            smtp_from: l.smtp_from.map(|f| f.trim().to_owned()).filter(|f| !f.is_empty()),
            smtp_retry_base: Duration::from_millis(l.smtp_retry_base_ms.unwrap_or(30_000).max(1)),
            session_idle: Duration::from_secs(idle * 60),
            session_max: Duration::from_secs(max * 3600),
            trust_proxy: l.trust_proxy.unwrap_or(false),
            admin_password_max_age_days,
            lockout,
            log: l.log.unwrap_or_else(|| "info".into()),
        })
    }

    /// Whether cookies must be `Secure` (the public address is HTTPS).
    pub fn secure_cookies(&self) -> bool {
        self.base_url.starts_with("https://")
    }

    pub fn database_url(&self) -> &str {
        self.database_url.expose_secret()
    }
}

fn merge(base: Layer, over: Layer) -> Layer {
    Layer {
        listen: over.listen.or(base.listen),
        data_dir: over.data_dir.or(base.data_dir),
        database_url: over.database_url.or(base.database_url),
        base_url: over.base_url.or(base.base_url),
        smtp_url: over.smtp_url.or(base.smtp_url),
        smtp_from: over.smtp_from.or(base.smtp_from),
        smtp_retry_base_ms: over.smtp_retry_base_ms.or(base.smtp_retry_base_ms),
        session_idle_minutes: over.session_idle_minutes.or(base.session_idle_minutes),
        session_max_hours: over.session_max_hours.or(base.session_max_hours),
        trust_proxy: over.trust_proxy.or(base.trust_proxy),
        log: over.log.or(base.log),
        admin_password_max_age_days: over.admin_password_max_age_days.or(base.admin_password_max_age_days),
        lockout_failures: over.lockout_failures.or(base.lockout_failures),
        lockout_address_failures: over.lockout_address_failures.or(base.lockout_address_failures),
        lockout_minutes: over.lockout_minutes.or(base.lockout_minutes),
    }
}

/// The sign-in lockout from `lockout_*` keys (defaults: 5 failures lock an account,
/// 20 an address, for 15 minutes).
fn lockout_policy(l: &Layer) -> anyhow::Result<usher_core::protection::LockoutPolicy> {
    let default = usher_core::protection::LockoutPolicy::default();
    let failures = |v: Option<u64>, default: u32, key: &str| -> anyhow::Result<u32> {
        match v {
            None => Ok(default),
            Some(n @ 1..=1000) => Ok(n as u32),
            Some(_) => bail!("{key} must be between 1 and 1000"),
        }
    };
    let minutes = match l.lockout_minutes {
        None => default.account_lock,
        Some(m @ 1..=1440) => Duration::from_secs(m * 60),
        Some(_) => bail!("lockout_minutes must be between 1 and 1440"),
    };
    Ok(usher_core::protection::LockoutPolicy {
        account_failures: failures(l.lockout_failures, default.account_failures, "lockout_failures")?,
        address_failures: failures(l.lockout_address_failures, default.address_failures, "lockout_address_failures")?,
        account_lock: minutes,
        address_lock: minutes,
        window: minutes,
    })
}

/// Reads `USHER_<KEY>` and, for secrets, `USHER_<KEY>_FILE`.
fn env_layer(env: impl IntoIterator<Item = (String, String)>) -> anyhow::Result<(Layer, Vec<String>)> {
    let mut values = BTreeMap::new();
    let mut warnings = Vec::new();
    for (name, value) in env {
        let Some(key) = name.strip_prefix("USHER_") else { continue };
        let key = key.to_ascii_lowercase();
        if KEYS.contains(&key.as_str()) {
            values.insert(key, value);
        } else if let Some(secret) = key.strip_suffix("_file").filter(|k| SECRET_KEYS.contains(k)) {
            let text = std::fs::read_to_string(&value).with_context(|| format!("reading {name}={value}"))?;
            values.insert(secret.to_owned(), text.trim().to_owned());
        } else if !matches!(key.as_str(), "config" | "test_database") {
            warnings.push(format!("unknown environment variable {name} is ignored"));
        }
    }
    let num = |k: &str| -> anyhow::Result<Option<u64>> {
        values
            .get(k)
            .map(|v| v.trim().parse().with_context(|| format!("USHER_{}: not a number", k.to_uppercase())))
            .transpose()
    };
    let layer = Layer {
        listen: values.get("listen").cloned(),
        data_dir: values.get("data_dir").map(PathBuf::from),
        database_url: values.get("database_url").cloned(),
        base_url: values.get("base_url").cloned(),
        smtp_url: values.get("smtp_url").cloned(),
        smtp_from: values.get("smtp_from").cloned(),
        smtp_retry_base_ms: num("smtp_retry_base_ms")?,
        session_idle_minutes: num("session_idle_minutes")?,
        session_max_hours: num("session_max_hours")?,
        trust_proxy: values
            .get("trust_proxy")
            .map(|v| match v.trim() {
                "1" | "true" | "yes" => Ok(true),
                "0" | "false" | "no" => Ok(false),
                _ => bail!("USHER_TRUST_PROXY must be true or false"),
            })
            .transpose()?,
        log: values.get("log").cloned(),
        admin_password_max_age_days: num("admin_password_max_age_days")?,
        lockout_failures: num("lockout_failures")?,
        lockout_address_failures: num("lockout_address_failures")?,
        lockout_minutes: num("lockout_minutes")?,
    };
    Ok((layer, warnings))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn defaults() {
        let (c, w) = Config::load(None, env(&[]), Overrides::default()).unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:8080");
        assert_eq!(c.database_url(), "sqlite://./usher-data/usher.db");
        assert_eq!(c.base_url, "http://127.0.0.1:8080");
        assert!(w.is_empty());
    }

    #[test]
    fn file_then_env_then_flags() {
        let dir = std::env::temp_dir().join(format!("usher-config-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("usher.toml");
        std::fs::write(&file, "listen = \"0.0.0.0:9000\"\nlog = \"debug\"\nsession_idle_minutes = 5\n").unwrap();
        let secret = dir.join("db");
        std::fs::write(&secret, "postgres://u:p@db/usher\n").unwrap();
        let (c, w) = Config::load(
            Some(&file),
            env(&[
                ("USHER_LOG", "warn"),
                ("USHER_DATABASE_URL_FILE", secret.to_str().unwrap()),
                ("USHER_TYPO", "1"),
                ("PATH", "/bin"),
            ]),
            Overrides { listen: Some("127.0.0.1:7000".into()), ..Default::default() },
        )
        .unwrap();
        assert_eq!(c.listen.to_string(), "127.0.0.1:7000");
        assert_eq!(c.log, "warn");
        assert_eq!(c.session_idle, Duration::from_secs(300));
        assert_eq!(c.database_url(), "postgres://u:p@db/usher");
        assert_eq!(w, vec!["unknown environment variable USHER_TYPO is ignored"]);
        assert!(!format!("{c:?}").contains("u:p@db"), "secrets are redacted in Debug");
    }

    #[test]
    fn unknown_file_keys_are_errors() {
        let dir = std::env::temp_dir().join(format!("usher-config-bad-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("usher.toml");
        std::fs::write(&file, "lisen = \"0.0.0.0:9000\"\n").unwrap();
        let err = Config::load(Some(&file), env(&[]), Overrides::default()).unwrap_err();
        assert!(format!("{err:#}").contains("lisen"), "{err:#}");
    }

    #[test]
    fn sign_in_security_settings() {
        let (c, _) = Config::load(None, env(&[]), Overrides::default()).unwrap();
        assert_eq!((c.admin_password_max_age_days, c.lockout.account_failures), (None, 5));
        let pairs = [
            ("USHER_ADMIN_PASSWORD_MAX_AGE_DAYS", "90"),
            ("USHER_LOCKOUT_FAILURES", "3"),
            ("USHER_LOCKOUT_ADDRESS_FAILURES", "50"),
            ("USHER_LOCKOUT_MINUTES", "5"),
        ];
        let (c, w) = Config::load(None, env(&pairs), Overrides::default()).unwrap();
        assert!(w.is_empty());
        assert_eq!(c.admin_password_max_age_days, Some(90));
        assert_eq!((c.lockout.account_failures, c.lockout.address_failures), (3, 50));
        assert_eq!(c.lockout.account_lock, Duration::from_secs(300));
        for bad in [
            ("USHER_LOCKOUT_MINUTES", "0"),
            ("USHER_ADMIN_PASSWORD_MAX_AGE_DAYS", "0"),
            ("USHER_LOCKOUT_FAILURES", "x"),
        ] {
            assert!(Config::load(None, env(&[bad]), Overrides::default()).is_err(), "{bad:?}");
        }
    }
}
