//! Where the services read the time. Every rule about time (session and ticket
//! lifetimes, lockout windows, expiry of passwords, tokens, invitations and links,
//! TOTP steps, email retries) asks the [`Clock`] that [`crate::Usher`] was built
//! with, never the system directly, so tests and simulations can move time
//! instead of rewriting stored times or waiting.

use std::sync::Mutex;

use chrono::{DateTime, Duration, Utc};

/// A source of the current time.
pub trait Clock: Send + Sync {
    /// The current time.
    fn now(&self) -> DateTime<Utc>;
}

/// The system's clock: what a server runs on.
#[derive(Debug, Clone, Copy, Default)]
pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> DateTime<Utc> {
        Utc::now()
    }
}

/// A clock for tests and simulations: it starts at the real time and runs with
/// it (so timeouts, retries and orderings behave as on a real server), and
/// [`advance`](Self::advance) or [`set`](Self::set) move it at once, e.g. past a
/// session's lifetime or to the next TOTP step. Public for the server's
/// integration tests; a server in production uses [`SystemClock`].
#[derive(Debug, Default)]
pub struct TestClock {
    /// How far this clock is ahead of the system's (negative: behind).
    offset: Mutex<Duration>,
}

impl TestClock {
    /// A clock that shows the real time until it is moved.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the clock forward by `by` (backward if negative), as if that much
    /// time had passed at once.
    pub fn advance(&self, by: Duration) {
        let mut offset = self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *offset += by;
    }

    /// Moves the clock to `to`; it runs on from there.
    pub fn set(&self, to: DateTime<Utc>) {
        let mut offset = self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        *offset = to - SystemClock.now();
    }
}

impl Clock for TestClock {
    fn now(&self) -> DateTime<Utc> {
        let offset = *self.offset.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        SystemClock.now() + offset
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `a` is `b` give or take a second (the clocks run while the test does).
    fn close(a: DateTime<Utc>, b: DateTime<Utc>) -> bool {
        (a - b).abs() < Duration::seconds(1)
    }

    #[test]
    fn a_test_clock_starts_at_the_real_time_and_moves_when_told() {
        let clock = TestClock::new();
        assert!(close(clock.now(), SystemClock.now()));

        clock.advance(Duration::days(3));
        assert!(close(clock.now(), SystemClock.now() + Duration::days(3)));
        clock.advance(Duration::minutes(-90));
        assert!(close(clock.now(), SystemClock.now() + Duration::days(3) - Duration::minutes(90)));

        let at = DateTime::from_timestamp(2_000_000_000, 0).unwrap();
        clock.set(at);
        assert!(close(clock.now(), at));
        assert!(clock.now() >= at, "it runs on from where it was set");
    }
}
