//! A short-lived memory of credentials already verified against the store, so that a
//! busy client does not cost a database round trip per request (on PostgreSQL the token
//! lookup was half of a GET's queries).
//!
//! Revocation is honoured by the time to live: an entry is trusted only until it expires,
//! then the store is asked again, so a token or access key removed from the database (by
//! any replica, or by hand) stops working within the TTL on every replica. Only
//! credentials found are remembered: an unknown one is looked up every time (a token made
//! a moment ago works at once, and a guesser gets no cached answer; failures are throttled
//! by the middleware anyway). A TTL of zero turns the cache off.
//!
//! The map is bounded: when full, expired entries go first, and if none had expired the
//! whole map is dropped (a flood of distinct valid credentials only costs lookups).

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use crate::domain::ProjectId;

/// How many credentials the cache remembers at most (of each kind).
pub const MAX_ENTRIES: usize = 10_000;

/// What a verified credential resolves to.
#[derive(Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A token (keyed by its SHA-256): its project.
    Token(ProjectId),
    /// An access key: its project and its secret key (to verify signatures with).
    AccessKey(ProjectId, String),
}

impl std::fmt::Debug for Resolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Resolved::Token(p) => f.debug_tuple("Token").field(p).finish(),
            // Never the secret key.
            Resolved::AccessKey(p, _) => f.debug_tuple("AccessKey").field(p).field(&"***").finish(),
        }
    }
}

/// Credentials found in the store, each until its expiry.
#[derive(Debug)]
pub struct CredentialCache {
    ttl: Duration,
    capacity: usize,
    entries: Mutex<HashMap<String, (Resolved, Instant)>>,
}

impl CredentialCache {
    /// A cache keeping each credential for `ttl` (zero: nothing is kept).
    pub fn new(ttl: Duration) -> Self {
        Self::with_capacity(ttl, MAX_ENTRIES)
    }

    /// A cache of at most `capacity` entries.
    pub fn with_capacity(ttl: Duration, capacity: usize) -> Self {
        Self { ttl, capacity: capacity.max(1), entries: Mutex::new(HashMap::new()) }
    }

    /// How long an entry is trusted.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }

    /// The credential under `key`, if it was found less than the TTL before `now`.
    pub fn get(&self, key: &str, now: Instant) -> Option<Resolved> {
        if self.ttl.is_zero() {
            return None;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        match entries.get(key) {
            Some((resolved, expires)) if now < *expires => Some(resolved.clone()),
            Some(_) => {
                entries.remove(key);
                None
            }
            None => None,
        }
    }

    /// Remembers that `key` resolved to `resolved` at `now`.
    pub fn put(&self, key: String, resolved: Resolved, now: Instant) {
        if self.ttl.is_zero() {
            return;
        }
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= self.capacity && !entries.contains_key(&key) {
            entries.retain(|_, (_, expires)| now < *expires);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, (resolved, now + self.ttl));
    }

    /// How many entries are held (expired ones included until they are next touched).
    pub fn len(&self) -> usize {
        self.entries.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    /// Whether nothing is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn project() -> ProjectId {
        ProjectId::parse("e9993fc787d94b6c886cbaa340f9c0f4").unwrap()
    }

    #[test]
    fn a_credential_is_trusted_until_its_ttl_and_then_looked_up_again() {
        let cache = CredentialCache::new(Duration::from_secs(5));
        let t0 = Instant::now();
        assert_eq!(cache.get("token:a", t0), None);
        cache.put("token:a".into(), Resolved::Token(project()), t0);
        assert_eq!(
            cache.get("token:a", t0 + Duration::from_secs(4)),
            Some(Resolved::Token(project()))
        );
        assert_eq!(cache.get("token:a", t0 + Duration::from_secs(5)), None, "expired at the TTL");
        assert!(cache.is_empty(), "an expired entry is dropped when touched");
    }

    #[test]
    fn a_zero_ttl_keeps_nothing() {
        let cache = CredentialCache::new(Duration::ZERO);
        let t0 = Instant::now();
        cache.put("token:a".into(), Resolved::Token(project()), t0);
        assert_eq!(cache.get("token:a", t0), None);
        assert!(cache.is_empty());
    }

    #[test]
    fn a_full_cache_drops_expired_entries_first_then_everything() {
        let cache = CredentialCache::with_capacity(Duration::from_secs(5), 2);
        let t0 = Instant::now();
        cache.put("a".into(), Resolved::Token(project()), t0);
        cache.put("b".into(), Resolved::Token(project()), t0 + Duration::from_secs(3));
        // At t0+6, "a" has expired: it makes room, "b" stays.
        cache.put("c".into(), Resolved::Token(project()), t0 + Duration::from_secs(6));
        assert_eq!(cache.len(), 2);
        assert!(cache.get("b", t0 + Duration::from_secs(6)).is_some());
        // Nothing expired: the map starts over rather than grow.
        cache.put("d".into(), Resolved::Token(project()), t0 + Duration::from_secs(6));
        assert_eq!(cache.len(), 1);
        assert!(cache.get("d", t0 + Duration::from_secs(6)).is_some());
    }

    #[test]
    fn the_secret_key_never_shows_in_debug_output() {
        let r = Resolved::AccessKey(project(), "very-secret-key".into());
        assert!(!format!("{r:?}").contains("very-secret-key"));
    }
}
