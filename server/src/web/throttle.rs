//! Slows password guessing. Failed sign-ins are counted per account and per client
//! address; past a few free ones, the key is locked for a time that doubles with each
//! further failure. Only failures count, so a person who signs in often is never slowed,
//! and a success clears its account's count (not its address's: one valid account must
//! not reset the count of an address guessing others).

use std::collections::HashMap;
use std::hash::Hash;
use std::net::IpAddr;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How many failures a key gets free, and how long it is locked after more.
#[derive(Debug, Clone, Copy)]
pub struct Policy {
    pub free_failures: u32,
    pub first_lock: Duration,
    pub longest_lock: Duration,
    /// A key with no failure for this long starts again from nothing.
    pub forget_after: Duration,
}

impl Policy {
    /// One account: a person who mistypes a few times is not slowed.
    pub const ACCOUNT: Policy = Policy {
        free_failures: 5,
        first_lock: Duration::from_secs(30),
        longest_lock: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };
    /// One address may be an office behind one NAT: more room, the same growth.
    pub const ADDRESS: Policy = Policy {
        free_failures: 20,
        first_lock: Duration::from_secs(30),
        longest_lock: Duration::from_secs(15 * 60),
        forget_after: Duration::from_secs(60 * 60),
    };

    /// How long a key stays locked after its `failures`-th failure in a row.
    pub fn lock_after(&self, failures: u32) -> Duration {
        if failures < self.free_failures {
            return Duration::ZERO;
        }
        let doublings = (failures - self.free_failures).min(20);
        self.first_lock.saturating_mul(1 << doublings).min(self.longest_lock)
    }
}

#[derive(Debug, Clone, Copy)]
struct Failures {
    count: u32,
    last: Instant,
    locked_until: Instant,
}

/// Failures per key, bounded so that random keys cannot fill the memory.
struct Counter<K> {
    policy: Policy,
    entries: Mutex<HashMap<K, Failures>>,
}

/// Beyond this many keys, the forgotten ones are dropped, then the oldest.
const MAX_KEYS: usize = 50_000;

impl<K: Eq + Hash + Clone> Counter<K> {
    fn new(policy: Policy) -> Self {
        Self { policy, entries: Mutex::new(HashMap::new()) }
    }

    fn entries(&self) -> std::sync::MutexGuard<'_, HashMap<K, Failures>> {
        // A panic while holding the lock cannot leave the map inconsistent.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn locked_for(&self, key: &K, now: Instant) -> Option<Duration> {
        let entries = self.entries();
        let failures = entries.get(key)?;
        (failures.locked_until > now).then(|| failures.locked_until - now)
    }

    fn failed(&self, key: &K, now: Instant) {
        let mut entries = self.entries();
        if entries.len() >= MAX_KEYS && !entries.contains_key(key) {
            let forget_after = self.policy.forget_after;
            entries.retain(|_, f| now.saturating_duration_since(f.last) < forget_after);
            if entries.len() >= MAX_KEYS {
                if let Some(oldest) = entries.iter().min_by_key(|(_, f)| f.last).map(|(k, _)| k.clone()) {
                    entries.remove(&oldest);
                }
            }
        }
        let entry = entries.entry(key.clone()).or_insert(Failures { count: 0, last: now, locked_until: now });
        if now.saturating_duration_since(entry.last) >= self.policy.forget_after {
            entry.count = 0;
        }
        entry.count = entry.count.saturating_add(1);
        entry.last = now;
        entry.locked_until = now + self.policy.lock_after(entry.count);
    }

    fn clear(&self, key: &K) {
        self.entries().remove(key);
    }
}

/// The sign-in throttle of one server process.
pub struct Throttle {
    accounts: Counter<String>,
    addresses: Counter<IpAddr>,
}

impl Default for Throttle {
    fn default() -> Self {
        Self::new(Policy::ACCOUNT, Policy::ADDRESS)
    }
}

impl Throttle {
    pub fn new(account: Policy, address: Policy) -> Self {
        Self { accounts: Counter::new(account), addresses: Counter::new(address) }
    }

    /// `Err(wait)` while the account or the address is locked: the attempt is refused
    /// before the password is even looked at.
    pub fn check(&self, account: &str, address: IpAddr, now: Instant) -> Result<(), Duration> {
        let wait = self
            .accounts
            .locked_for(&account.to_string(), now)
            .into_iter()
            .chain(self.addresses.locked_for(&address, now))
            .max();
        wait.map_or(Ok(()), Err)
    }

    pub fn failed(&self, account: &str, address: IpAddr, now: Instant) {
        self.accounts.failed(&account.to_string(), now);
        self.addresses.failed(&address, now);
    }

    pub fn succeeded(&self, account: &str) {
        self.accounts.clear(&account.to_string());
    }
}

/// "30 seconds", "2 minutes": for the message that says when to try again.
pub fn describe_wait(wait: Duration) -> String {
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    if seconds < 120 {
        format!("{seconds} second{}", if seconds == 1 { "" } else { "s" })
    } else {
        format!("{} minutes", seconds.div_ceil(60))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOME: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 1));
    const CAFE: IpAddr = IpAddr::V4(std::net::Ipv4Addr::new(192, 0, 2, 2));

    #[test]
    fn the_lock_starts_after_the_free_failures_and_doubles_up_to_a_ceiling() {
        let policy = Policy::ACCOUNT;
        let locks: Vec<u64> = (1..=12).map(|n| policy.lock_after(n).as_secs()).collect();
        assert_eq!(locks, [0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
        assert_eq!(policy.lock_after(u32::MAX), policy.longest_lock);
    }

    #[test]
    fn an_account_is_locked_after_its_free_failures_from_any_address() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            throttle.failed("ada@example.com", HOME, now);
            assert_eq!(throttle.check("ada@example.com", HOME, now), Ok(()));
        }
        throttle.failed("ada@example.com", HOME, now);
        assert_eq!(throttle.check("ada@example.com", CAFE, now), Err(Duration::from_secs(30)));
        assert_eq!(throttle.check("max@example.com", HOME, now), Ok(()), "another account is not locked");
        assert_eq!(throttle.check("ada@example.com", HOME, now + Duration::from_secs(30)), Ok(()));
    }

    #[test]
    fn an_address_guessing_many_accounts_is_locked_too() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for n in 0..20 {
            throttle.failed(&format!("user{n}@example.com"), CAFE, now);
        }
        assert!(throttle.check("someone-new@example.com", CAFE, now).is_err());
        assert_eq!(throttle.check("someone-new@example.com", HOME, now), Ok(()));
    }

    #[test]
    fn a_success_clears_the_account_but_not_the_address() {
        let throttle = Throttle::new(Policy::ACCOUNT, Policy { free_failures: 3, ..Policy::ADDRESS });
        let now = Instant::now();
        for _ in 0..3 {
            throttle.failed("ada@example.com", HOME, now);
        }
        throttle.succeeded("ada@example.com");
        assert!(throttle.check("ada@example.com", HOME, now).is_err(), "the address stays locked");
        assert_eq!(throttle.check("ada@example.com", CAFE, now), Ok(()));
    }

    #[test]
    fn failures_long_past_are_forgotten() {
        let throttle = Throttle::default();
        let now = Instant::now();
        for _ in 0..4 {
            throttle.failed("ada@example.com", HOME, now);
        }
        let later = now + Policy::ACCOUNT.forget_after;
        throttle.failed("ada@example.com", HOME, later);
        assert_eq!(throttle.check("ada@example.com", HOME, later), Ok(()), "one failure, not five");
    }

    #[test]
    fn random_accounts_cannot_grow_the_memory_without_bound() {
        let counter = Counter::<u32>::new(Policy::ACCOUNT);
        let now = Instant::now();
        for key in 0..(MAX_KEYS as u32 + 10) {
            counter.failed(&key, now);
        }
        assert_eq!(counter.entries().len(), MAX_KEYS);
    }

    #[test]
    fn waits_are_told_in_seconds_then_minutes() {
        assert_eq!(describe_wait(Duration::from_millis(29_500)), "30 seconds");
        assert_eq!(describe_wait(Duration::from_secs(1)), "1 second");
        assert_eq!(describe_wait(Duration::from_secs(900)), "15 minutes");
    }
}
