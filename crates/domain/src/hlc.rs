//! Hybrid logical clock.
//!
//! Devices on buses have wall clocks that drift or get set by hand, so nothing may be
//! ordered by a wall clock alone. A hybrid logical clock timestamp is the wall time in
//! milliseconds, a counter that breaks ties and never lets time run backwards, and the
//! device id as the final tie-break, so every timestamp in the system is unique and
//! totally ordered. Its text form sorts the same way as the value, so stores can order
//! by the column without parsing it.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use thiserror::Error;
use uuid::Uuid;

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Hlc {
    pub wall_ms: u64,
    pub counter: u32,
    pub node: Uuid,
}

#[derive(Debug, Error, PartialEq, Eq)]
pub enum HlcError {
    #[error("hybrid logical clock timestamp {text:?} is malformed: {why}")]
    Malformed { text: String, why: &'static str },
    #[error("clock counter overflowed at wall time {wall_ms} ms")]
    CounterOverflow { wall_ms: u64 },
}

impl Hlc {
    pub fn zero(node: Uuid) -> Hlc {
        Hlc {
            wall_ms: 0,
            counter: 0,
            node,
        }
    }
}

impl fmt::Display for Hlc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Fixed widths keep lexicographic order equal to numeric order.
        write!(f, "{:015}-{:010}-{}", self.wall_ms, self.counter, self.node)
    }
}

impl FromStr for Hlc {
    type Err = HlcError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        let malformed = |why| HlcError::Malformed {
            text: text.to_owned(),
            why,
        };
        let mut parts = text.splitn(3, '-');
        let wall = parts.next().ok_or_else(|| malformed("missing wall time"))?;
        let counter = parts.next().ok_or_else(|| malformed("missing counter"))?;
        let node = parts.next().ok_or_else(|| malformed("missing node id"))?;
        if wall.len() != 15 || counter.len() != 10 {
            return Err(malformed(
                "wall time must be 15 digits and counter 10 digits",
            ));
        }
        Ok(Hlc {
            wall_ms: wall
                .parse()
                .map_err(|_| malformed("wall time is not a number"))?,
            counter: counter
                .parse()
                .map_err(|_| malformed("counter is not a number"))?,
            node: Uuid::parse_str(node).map_err(|_| malformed("node is not a UUID"))?,
        })
    }
}

impl Serialize for Hlc {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Hlc {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// The clock state of one node. The caller supplies physical time so the logic stays
/// pure and testable; the store persists `last` so restarts never go backwards.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HlcClock {
    last: Hlc,
}

impl HlcClock {
    pub fn new(node: Uuid) -> HlcClock {
        HlcClock {
            last: Hlc::zero(node),
        }
    }

    pub fn resume(last: Hlc) -> HlcClock {
        HlcClock { last }
    }

    pub fn last(&self) -> Hlc {
        self.last
    }

    /// A timestamp for a local event at physical time `now_ms`.
    pub fn tick(&mut self, now_ms: u64) -> Result<Hlc, HlcError> {
        let next = if now_ms > self.last.wall_ms {
            Hlc {
                wall_ms: now_ms,
                counter: 0,
                node: self.last.node,
            }
        } else {
            Hlc {
                counter: self.bump()?,
                ..self.last
            }
        };
        self.last = next;
        Ok(next)
    }

    /// Merge a timestamp received from another node, so that anything this node does
    /// afterwards is ordered after what it has seen.
    pub fn observe(&mut self, remote: Hlc, now_ms: u64) -> Result<Hlc, HlcError> {
        let node = self.last.node;
        let wall_ms = now_ms.max(self.last.wall_ms).max(remote.wall_ms);
        let counter = if wall_ms == self.last.wall_ms && wall_ms == remote.wall_ms {
            self.last.counter.max(remote.counter).checked_add(1)
        } else if wall_ms == self.last.wall_ms {
            self.last.counter.checked_add(1)
        } else if wall_ms == remote.wall_ms {
            remote.counter.checked_add(1)
        } else {
            Some(0)
        }
        .ok_or(HlcError::CounterOverflow { wall_ms })?;
        self.last = Hlc {
            wall_ms,
            counter,
            node,
        };
        Ok(self.last)
    }

    fn bump(&self) -> Result<u32, HlcError> {
        self.last
            .counter
            .checked_add(1)
            .ok_or(HlcError::CounterOverflow {
                wall_ms: self.last.wall_ms,
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn node(n: u128) -> Uuid {
        Uuid::from_u128(n)
    }

    #[test]
    fn tick_is_strictly_increasing_even_when_the_wall_clock_goes_back() {
        let mut clock = HlcClock::new(node(1));
        let a = clock.tick(1_000).unwrap();
        let b = clock.tick(900).unwrap();
        let c = clock.tick(1_000).unwrap();
        let d = clock.tick(1_001).unwrap();
        assert!(a < b && b < c && c < d, "{a} {b} {c} {d}");
        assert_eq!(b.wall_ms, 1_000);
        assert_eq!(d.counter, 0);
    }

    #[test]
    fn observing_a_clock_from_the_future_moves_local_time_past_it() {
        let mut clock = HlcClock::new(node(1));
        clock.tick(1_000).unwrap();
        let remote = Hlc {
            wall_ms: 5_000,
            counter: 7,
            node: node(2),
        };
        let merged = clock.observe(remote, 1_001).unwrap();
        assert!(merged > remote);
        assert!(clock.tick(1_002).unwrap() > remote);
    }

    #[test]
    fn text_form_round_trips_and_sorts_like_the_value() {
        let mut clock = HlcClock::new(node(3));
        let mut stamps = vec![];
        for now in [5, 5, 5, 1_000_000, 10, 99_999_999_999] {
            stamps.push(clock.tick(now).unwrap());
        }
        for s in &stamps {
            assert_eq!(s.to_string().parse::<Hlc>().unwrap(), *s);
        }
        let mut texts: Vec<String> = stamps.iter().map(Hlc::to_string).collect();
        let sorted_by_value: Vec<String> = {
            let mut v = stamps.clone();
            v.sort();
            v.iter().map(Hlc::to_string).collect()
        };
        texts.sort();
        assert_eq!(texts, sorted_by_value);
    }

    #[test]
    fn malformed_text_is_rejected_with_the_reason() {
        let err = "12-3".parse::<Hlc>().unwrap_err();
        assert!(err.to_string().contains("missing node id"), "{err}");
        assert!("000000000000001-0000000000-nope".parse::<Hlc>().is_err());
    }
}
