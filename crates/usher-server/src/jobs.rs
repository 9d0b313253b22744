//! Periodic housekeeping that is not email delivery: password-expiry reminders
//! (each user is claimed by one node, so several nodes may run this at once) and
//! the purge of expired sign-in tickets, forgotten failure counts and secrets
//! shown once that nobody came to see.

use std::time::Duration;

use tokio::sync::watch;
use usher_core::Usher;

/// How often the jobs run (and once right after start).
const EVERY: Duration = Duration::from_secs(60 * 60);

/// Runs the jobs until `stop` turns true.
pub async fn run(usher: Usher, mut stop: watch::Receiver<bool>) {
    loop {
        if *stop.borrow() {
            break;
        }
        match usher.queue_password_reminders().await {
            Ok(0) => {}
            Ok(n) => tracing::info!(reminders = n, "password expiry reminders queued"),
            Err(e) => tracing::error!(error = %usher_core::Chain(&e), "password expiry reminders"),
        }
        if let Err(e) = usher.purge_sign_in_records().await {
            tracing::error!(error = %usher_core::Chain(&e), "purging sign-in tickets and failure counts");
        }
        if let Err(e) = usher.purge_reveals().await {
            tracing::error!(error = %usher_core::Chain(&e), "purging secrets nobody came to see");
        }
        tokio::select! {
            _ = stop.changed() => {}
            () = tokio::time::sleep(EVERY) => {}
        }
    }
}
