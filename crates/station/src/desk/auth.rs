//! Who may act at the receiving desk: PIN attempts, lock-outs and desk sessions.
//!
//! An attempt is counted *before* its PIN is checked, so guesses sent in parallel get no
//! more tries than guesses sent one after another: the attempt that reaches the limit
//! locks the name at once, and every later one is refused without a PIN check. Each
//! address also has a budget of failures, so one machine cannot walk through the staff
//! list a few guesses per name. Every map here is bounded and forgets what has expired:
//! a stream of made-up names or sign-ins cannot grow the station's memory.
//!
//! Kept in memory only: a restarted station asks staff to sign in again, which costs a
//! PIN, and no session token ever reaches the disk. The clock is an argument, so the
//! rules are tested as plain functions.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Duration, Utc};
use lifebridge_domain::cold_chain::Signatory;
use lifebridge_domain::pin;
// Wrong PINs in a row before a name is locked, and for how long: the device's rule.
pub use lifebridge_domain::pin::{LOCKOUT_MINUTES, MAX_FAILED_ATTEMPTS};

/// How long a desk sign-in lasts: one shift.
pub const SESSION_HOURS: i64 = 12;
/// Failed PIN checks one address may make per window, whatever names it tries. A desk
/// PC with several staff and a few typos stays far below it.
pub const ADDRESS_MAX_FAILURES: u32 = 30;
/// The window of [`ADDRESS_MAX_FAILURES`].
pub const ADDRESS_WINDOW_MINUTES: i64 = 15;
/// A name's failures (below the lock-out) are forgotten after this long without one.
pub const NAME_MEMORY_HOURS: i64 = 24;
/// Most names and addresses tracked at once; past it, expired ones are dropped first
/// and new ones refused while none has expired.
pub const MAX_TRACKED: usize = 4096;
/// Characters of a name kept to count its attempts.
pub const MAX_NAME_CHARS: usize = 64;
/// Most desk sessions held at once; past it, the one closest to its end goes first.
pub const MAX_SESSIONS: usize = 1024;

/// Why an attempt was refused before any PIN was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// Too many wrong PINs for this name.
    NameLocked { until: DateTime<Utc> },
    /// Too many wrong PINs from this address (or too many names tracked).
    AddressLimited { until: DateTime<Utc> },
}

/// A counted attempt, to be settled with [`DeskAuth::succeeded`] if its PIN is right.
#[derive(Debug)]
#[must_use]
pub struct Attempt {
    name: String,
    addr: IpAddr,
    /// Attempts the name has left if this one fails (0: it is now locked).
    pub left: u32,
}

#[derive(Debug, Default)]
struct NameState {
    failures: u32,
    locked_until: Option<DateTime<Utc>>,
    last: Option<DateTime<Utc>>,
}

#[derive(Debug)]
struct AddressState {
    failures: u32,
    window_start: DateTime<Utc>,
}

#[derive(Debug, Clone)]
struct Session {
    staff: Signatory,
    expires: DateTime<Utc>,
}

#[derive(Default)]
struct Attempts {
    names: HashMap<String, NameState>,
    addresses: HashMap<IpAddr, AddressState>,
}

#[derive(Default)]
pub struct DeskAuth {
    attempts: Mutex<Attempts>,
    /// By the SHA-256 of the token: the token itself is only ever in the browser.
    sessions: Mutex<HashMap<String, Session>>,
}

/// A poisoned lock only means a request panicked mid-way; every update here leaves the
/// maps consistent, so carry on with them.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}

fn address_window() -> Duration {
    Duration::minutes(ADDRESS_WINDOW_MINUTES)
}

impl Attempts {
    fn purge(&mut self, now: DateTime<Utc>) {
        let memory = Duration::hours(NAME_MEMORY_HOURS);
        self.names.retain(|_, s| {
            s.locked_until.is_some_and(|u| u > now) || s.last.is_some_and(|t| t + memory > now)
        });
        self.addresses
            .retain(|_, a| a.window_start + address_window() > now);
    }

    /// Room for one more key in a map of `len` keys, purging first if it is full.
    fn has_room(&mut self, new_name: bool, new_addr: bool, now: DateTime<Utc>) -> bool {
        let full = |a: &Attempts| {
            (new_name && a.names.len() >= MAX_TRACKED)
                || (new_addr && a.addresses.len() >= MAX_TRACKED)
        };
        if full(self) {
            self.purge(now);
        }
        !full(self)
    }
}

impl DeskAuth {
    /// Counts an attempt to use `name`'s PIN from `addr`, before the PIN is checked.
    /// Refused, without a PIN check, while the name is locked or the address has used
    /// its failures for this window.
    pub fn begin(&self, name: &str, addr: IpAddr, now: DateTime<Utc>) -> Result<Attempt, Refused> {
        // A name is a key of the map: only its start is kept, so a long made-up name
        // costs no more memory than a real one (no account name is this long).
        let name: String = name.chars().take(MAX_NAME_CHARS).collect();
        let name = name.as_str();
        let mut guard = lock(&self.attempts);
        // One reborrow, so the two maps can be borrowed apart.
        let a: &mut Attempts = &mut guard;
        let new_name = !a.names.contains_key(name);
        let new_addr = !a.addresses.contains_key(&addr);
        if !a.has_room(new_name, new_addr, now) {
            return Err(Refused::AddressLimited {
                until: now + address_window(),
            });
        }
        let window = a.addresses.entry(addr).or_insert(AddressState {
            failures: 0,
            window_start: now,
        });
        if window.window_start + address_window() <= now {
            *window = AddressState {
                failures: 0,
                window_start: now,
            };
        }
        if window.failures >= ADDRESS_MAX_FAILURES {
            return Err(Refused::AddressLimited {
                until: window.window_start + address_window(),
            });
        }
        let state = a.names.entry(name.to_owned()).or_default();
        if let Some(until) = state.locked_until {
            if until > now {
                return Err(Refused::NameLocked { until });
            }
            state.locked_until = None;
        }
        if state
            .last
            .is_some_and(|t| t + Duration::hours(NAME_MEMORY_HOURS) <= now)
        {
            state.failures = 0;
        }
        state.failures += 1;
        state.last = Some(now);
        let left = MAX_FAILED_ATTEMPTS.saturating_sub(state.failures);
        if left == 0 {
            // The attempt that reaches the limit locks the name now, before its PIN is
            // checked, so no guess sent alongside it gets through.
            state.failures = 0;
            state.locked_until = Some(now + Duration::minutes(LOCKOUT_MINUTES));
        }
        window.failures += 1;
        Ok(Attempt {
            name: name.to_owned(),
            addr,
            left,
        })
    }

    /// The attempt's PIN was right (and the account may do what it asked): the name's
    /// failures and lock are cleared, and the address gets its attempt back.
    pub fn succeeded(&self, attempt: Attempt) {
        let mut a = lock(&self.attempts);
        a.names.remove(&attempt.name);
        if let Some(window) = a.addresses.get_mut(&attempt.addr) {
            window.failures = window.failures.saturating_sub(1);
        }
    }

    /// Opens a desk session for `staff`; the token to give the browser.
    pub fn open_session(&self, staff: Signatory, now: DateTime<Utc>) -> String {
        let token = crate::auth::new_token();
        let mut sessions = lock(&self.sessions);
        sessions.retain(|_, s| s.expires > now);
        if sessions.len() >= MAX_SESSIONS
            && let Some(oldest) = sessions
                .iter()
                .min_by_key(|(_, s)| s.expires)
                .map(|(k, _)| k.clone())
        {
            sessions.remove(&oldest);
        }
        sessions.insert(
            crate::auth::token_hash(&token),
            Session {
                staff,
                expires: now + Duration::hours(SESSION_HOURS),
            },
        );
        token
    }

    /// Who holds `token`, while its session lasts.
    pub fn session(&self, token: &str, now: DateTime<Utc>) -> Option<Signatory> {
        let key = crate::auth::token_hash(token);
        let mut sessions = lock(&self.sessions);
        match sessions.get(&key) {
            Some(s) if s.expires > now => Some(s.staff.clone()),
            Some(_) => {
                sessions.remove(&key);
                None
            }
            None => None,
        }
    }

    #[cfg(test)]
    fn tracked(&self) -> (usize, usize, usize) {
        let a = lock(&self.attempts);
        (a.names.len(), a.addresses.len(), lock(&self.sessions).len())
    }
}

/// Whether `pin` matches the stored `hash`. Blocking (argon2): call it off the async
/// runtime. A name without an account is checked against a hash of the same cost, so
/// the time an answer takes does not tell whether the name exists; an unreadable stored
/// hash matches nothing (the name then cannot sign in).
pub fn pin_matches(hash: Option<&str>, pin: &str) -> bool {
    static NOBODY: OnceLock<String> = OnceLock::new();
    match hash {
        Some(hash) => pin::pin_matches(hash, pin.trim()).unwrap_or(false),
        None => {
            let nobody =
                NOBODY.get_or_init(|| pin::hash_pin("000000", &rand::random()).unwrap_or_default());
            let _ = pin::pin_matches(nobody, pin.trim());
            false
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;
    use uuid::Uuid;

    fn addr(n: u32) -> IpAddr {
        IpAddr::from(n.to_be_bytes())
    }

    fn t0() -> DateTime<Utc> {
        "2026-03-01T08:00:00Z".parse().unwrap()
    }

    #[test]
    fn the_attempt_that_reaches_the_limit_locks_before_its_pin_is_checked() {
        let auth = DeskAuth::default();
        let now = t0();
        // Five attempts begun together (none settled yet): the fifth locks the name.
        let attempts: Vec<Attempt> = (0..MAX_FAILED_ATTEMPTS)
            .map(|_| auth.begin("赵敏", addr(1), now).unwrap())
            .collect();
        let left: Vec<u32> = attempts.iter().map(|a| a.left).collect();
        assert_eq!(left, [4, 3, 2, 1, 0]);
        let until = now + Duration::minutes(LOCKOUT_MINUTES);
        assert_eq!(
            auth.begin("赵敏", addr(2), now).unwrap_err(),
            Refused::NameLocked { until }
        );
        // Other names are not locked; the lock ends on time.
        assert!(auth.begin("李司机", addr(1), now).is_ok());
        let later = auth.begin("赵敏", addr(1), until).unwrap();
        assert_eq!(later.left, MAX_FAILED_ATTEMPTS - 1);
        // A right PIN clears the name's failures.
        auth.succeeded(later);
        assert_eq!(
            auth.begin("赵敏", addr(1), until).unwrap().left,
            MAX_FAILED_ATTEMPTS - 1
        );
    }

    #[test]
    fn an_address_has_a_budget_of_failures_across_names() {
        let auth = DeskAuth::default();
        let now = t0();
        for i in 0..ADDRESS_MAX_FAILURES {
            let _ = auth.begin(&format!("name {i}"), addr(7), now).unwrap();
        }
        let until = now + address_window();
        assert_eq!(
            auth.begin("someone else", addr(7), now).unwrap_err(),
            Refused::AddressLimited { until }
        );
        // Another address is not limited, and the window ends.
        assert!(auth.begin("someone else", addr(8), now).is_ok());
        assert!(auth.begin("someone else", addr(7), until).is_ok());
        // A right PIN gives its attempt back: sign-ins do not use the budget.
        let auth = DeskAuth::default();
        for _ in 0..ADDRESS_MAX_FAILURES * 2 {
            let a = auth.begin("赵敏", addr(9), now).unwrap();
            auth.succeeded(a);
        }
    }

    #[test]
    fn the_maps_stay_bounded_and_forget_what_expired() {
        let auth = DeskAuth::default();
        let now = t0();
        for i in 0..MAX_TRACKED as u32 {
            let _ = auth.begin(&format!("n{i}"), addr(i), now).unwrap();
        }
        assert_eq!(auth.tracked().0, MAX_TRACKED);
        // Full, nothing expired: a new name is refused rather than growing the map.
        assert!(matches!(
            auth.begin("new", addr(1), now),
            Err(Refused::AddressLimited { .. })
        ));
        // Once what it holds has expired, it makes room.
        let later = now + Duration::hours(NAME_MEMORY_HOURS);
        assert!(auth.begin("new", addr(1), later).is_ok());
        let (names, addresses, _) = auth.tracked();
        assert_eq!((names, addresses), (1, 1));

        let staff = Signatory {
            staff_id: Uuid::nil(),
            name: "赵敏".into(),
        };
        let first = auth.open_session(staff.clone(), now);
        for _ in 0..MAX_SESSIONS {
            let _ = auth.open_session(staff.clone(), now + Duration::seconds(1));
        }
        assert_eq!(auth.tracked().2, MAX_SESSIONS);
        assert_eq!(auth.session(&first, now), None, "the oldest went first");
        let token = auth.open_session(staff.clone(), now);
        assert_eq!(auth.session(&token, now), Some(staff.clone()));
        let end = now + Duration::hours(SESSION_HOURS);
        assert_eq!(auth.session(&token, end), None);
        let _ = auth.open_session(staff, end + Duration::seconds(1));
        assert_eq!(auth.tracked().2, 1, "expired sessions are purged");
    }
}
