//! Who may hold one of the exporter's connections.
//!
//! Connections cost a file descriptor and some memory each, so there are a
//! bounded number of them; the policy decides who gets one when they run
//! short. It must keep a scraper answered while somebody else opens as many
//! connections as they can, idle or dribbling their headers (slowloris):
//!
//! - each peer (an IPv4 address, or an IPv6 /64, what one host usually
//!   gets) holds at most `per_peer` connections, so one address cannot
//!   take them all;
//! - when every connection is taken, a newcomer takes over one that has
//!   been quiet for a while (no complete request), from the peer holding
//!   the most: a peer with fewer connections than another displaces it,
//!   one as heavy as the others only displaces stale connections. Someone
//!   holding many connections from few addresses therefore cannot keep a
//!   new peer out, and cannot churn through the pool either, since its
//!   own newcomers are no lighter than what they would displace;
//! - at its own limit, a peer's newest connection displaces the peer's
//!   stalest, so an idle or leaked connection does not keep its own
//!   address out for a whole header timeout;
//! - otherwise the newcomer is refused (the caller answers 503).
//!
//! What this cannot do: someone who shares the scraper's address, or who
//! has as many addresses as there are connections (any local user has all
//! of 127.0.0.0/8), and who keeps reconnecting faster than connections go
//! stale can still win most races for a slot. Each connection they hold
//! lasts at most the header timeout, and a firewall or an authenticating
//! proxy in front is the remedy for that (see the README).
//!
//! Pure bookkeeping: the caller passes the time and a handle per connection
//! (what it needs to close one), and gets back the handle of a connection
//! to close.

use std::collections::HashMap;
use std::net::IpAddr;
use std::time::{Duration, Instant};

/// The limits and the patience of the policy.
#[derive(Debug, Clone, Copy)]
pub struct Limits {
    /// Connections held at once, all peers together.
    pub total: usize,
    /// Connections held at once by one peer.
    pub per_peer: usize,
    /// How long a connection must have been quiet before a lighter peer
    /// may take it over: long enough for a client that has just connected
    /// to send its request (and for a response to be written), short
    /// enough that holding connections takes constant reconnecting.
    pub displaceable_after: Duration,
    /// How long a connection must have been quiet before anyone may take
    /// it over.
    pub stale_after: Duration,
}

/// The exporter's limits. A Prometheus server keeps one connection per
/// target (two or three in an HA pair), so 64 per address is far above
/// any honest need while a quarter of the pool.
pub const LIMITS: Limits = Limits {
    total: 256,
    per_peer: 64,
    displaceable_after: Duration::from_millis(250),
    stale_after: Duration::from_secs(1),
};

/// Whom a connection is counted against: an IPv4 address (IPv4-mapped IPv6
/// included), or an IPv6 address's /64 prefix, since one host is commonly
/// given a whole /64 and could otherwise pick a new address per connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Peer(IpAddr);

impl Peer {
    pub fn of(ip: IpAddr) -> Peer {
        match ip.to_canonical() {
            IpAddr::V4(v4) => Peer(IpAddr::V4(v4)),
            IpAddr::V6(v6) => {
                let prefix = u128::from(v6) & !u128::from(u64::MAX);
                Peer(IpAddr::V6(prefix.into()))
            }
        }
    }
}

/// A connection's number in the pool; never reused.
pub type Id = u64;

/// Why a newcomer gets no connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Its peer holds `per_peer` connections, none of them stale.
    PeerFull,
    /// Every connection is taken and none may be displaced.
    Full,
}

/// A newcomer let in: its id, and the handle of the connection it
/// displaced, which the caller closes.
#[derive(Debug)]
pub struct Admitted<H> {
    pub id: Id,
    pub displaced: Option<H>,
}

struct Entry<H> {
    peer: Peer,
    /// When the connection was accepted or last completed a request.
    active: Instant,
    handle: H,
}

/// The connections held now. `H` is whatever closes one.
pub struct Pool<H> {
    limits: Limits,
    entries: HashMap<Id, Entry<H>>,
    per_peer: HashMap<Peer, usize>,
    next: Id,
}

impl<H> Pool<H> {
    pub fn new(limits: Limits) -> Pool<H> {
        Pool {
            limits,
            entries: HashMap::new(),
            per_peer: HashMap::new(),
            next: 0,
        }
    }

    /// Connections held now.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn held_by(&self, peer: Peer) -> usize {
        self.per_peer.get(&peer).copied().unwrap_or(0)
    }

    /// Lets a connection from `ip` in, or says why not.
    pub fn admit(&mut self, ip: IpAddr, now: Instant, handle: H) -> Result<Admitted<H>, Refusal> {
        let peer = Peer::of(ip);
        let held = self.held_by(peer);
        let displaced = if held >= self.limits.per_peer {
            let stalest = self.stalest_of(peer, now).ok_or(Refusal::PeerFull)?;
            Some(self.remove(stalest).ok_or(Refusal::PeerFull)?)
        } else if self.entries.len() >= self.limits.total {
            let victim = self.victim_for(held, now).ok_or(Refusal::Full)?;
            Some(self.remove(victim).ok_or(Refusal::Full)?)
        } else {
            None
        };
        let id = self.next;
        self.next += 1;
        self.entries.insert(
            id,
            Entry {
                peer,
                active: now,
                handle,
            },
        );
        *self.per_peer.entry(peer).or_insert(0) += 1;
        Ok(Admitted { id, displaced })
    }

    /// The connection completed a request: it is in use, not idle.
    pub fn touch(&mut self, id: Id, now: Instant) {
        if let Some(e) = self.entries.get_mut(&id) {
            e.active = now;
        }
    }

    /// The connection closed; displaced ones are gone already.
    pub fn release(&mut self, id: Id) {
        self.remove(id);
    }

    fn remove(&mut self, id: Id) -> Option<H> {
        let entry = self.entries.remove(&id)?;
        if let Some(n) = self.per_peer.get_mut(&entry.peer) {
            *n -= 1;
            if *n == 0 {
                self.per_peer.remove(&entry.peer);
            }
        }
        Some(entry.handle)
    }

    /// The peer's connection quiet the longest, if stale.
    fn stalest_of(&self, peer: Peer, now: Instant) -> Option<Id> {
        self.entries
            .iter()
            .filter(|(_, e)| e.peer == peer)
            .map(|(id, e)| (now.saturating_duration_since(e.active), *id))
            .filter(|(quiet, _)| *quiet >= self.limits.stale_after)
            .max()
            .map(|(_, id)| id)
    }

    /// The connection a newcomer whose peer holds `held` may displace: of
    /// those quiet long enough, one from the heaviest peer, quiet longest.
    fn victim_for(&self, held: usize, now: Instant) -> Option<Id> {
        self.entries
            .iter()
            .filter_map(|(id, e)| {
                let quiet = now.saturating_duration_since(e.active);
                let weight = self.held_by(e.peer);
                let heavier = weight > held + 1 && quiet >= self.limits.displaceable_after;
                (heavier || quiet >= self.limits.stale_after).then_some((weight, quiet, *id))
            })
            .max()
            .map(|(_, _, id)| id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::{Ipv4Addr, Ipv6Addr};

    const LIMITS: Limits = Limits {
        total: 6,
        per_peer: 3,
        displaceable_after: Duration::from_millis(250),
        stale_after: Duration::from_secs(1),
    };

    fn v4(last: u8) -> IpAddr {
        IpAddr::V4(Ipv4Addr::new(10, 0, 0, last))
    }

    fn ms(t0: Instant, n: u64) -> Instant {
        t0 + Duration::from_millis(n)
    }

    /// Admits `n` connections from `ip` at `at`, their handles named.
    fn fill(pool: &mut Pool<&'static str>, ip: IpAddr, n: usize, at: Instant, name: &'static str) {
        for _ in 0..n {
            let admitted = pool.admit(ip, at, name);
            assert!(matches!(
                admitted,
                Ok(Admitted {
                    displaced: None,
                    ..
                })
            ));
        }
    }

    #[test]
    fn peers_are_addresses_and_ipv6_64s() {
        let a: IpAddr = "2001:db8:1:2:aaaa::1".parse().unwrap_or(v4(0));
        let b: IpAddr = "2001:db8:1:2:bbbb::9".parse().unwrap_or(v4(0));
        let c: IpAddr = "2001:db8:1:3::1".parse().unwrap_or(v4(0));
        assert_eq!(Peer::of(a), Peer::of(b));
        assert_ne!(Peer::of(a), Peer::of(c));
        assert_ne!(Peer::of(v4(1)), Peer::of(v4(2)));
        let mapped = IpAddr::V6(Ipv4Addr::new(10, 0, 0, 1).to_ipv6_mapped());
        assert_eq!(Peer::of(mapped), Peer::of(v4(1)));
        assert_ne!(Peer::of(IpAddr::V6(Ipv6Addr::LOCALHOST)), Peer::of(v4(1)));
    }

    #[test]
    fn one_peer_is_refused_beyond_its_limit_while_others_get_in() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        fill(&mut pool, v4(1), 3, t0, "a");
        assert_eq!(
            pool.admit(v4(1), ms(t0, 10), "a").map(|a| a.id).err(),
            Some(Refusal::PeerFull)
        );
        fill(&mut pool, v4(2), 1, ms(t0, 10), "b");
        assert_eq!(pool.len(), 4);
    }

    #[test]
    fn at_its_limit_a_peer_displaces_its_own_stale_connection() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        let first = pool.admit(v4(1), t0, "old").map(|a| a.id).unwrap_or(99);
        fill(&mut pool, v4(1), 2, ms(t0, 500), "newer");
        // Used since: not stale.
        pool.touch(first, ms(t0, 900));
        assert!(pool.admit(v4(1), ms(t0, 1200), "x").is_err());
        let later = pool.admit(v4(1), ms(t0, 1600), "new");
        assert_eq!(later.ok().and_then(|a| a.displaced), Some("newer"));
        assert_eq!(pool.len(), 3);
    }

    #[test]
    fn a_new_peer_displaces_the_heaviest_peers_quiet_connection() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        fill(&mut pool, v4(1), 3, t0, "heavy");
        fill(&mut pool, v4(2), 2, ms(t0, 1), "middle");
        fill(&mut pool, v4(3), 1, ms(t0, 2), "light");
        // Too fresh to displace even for a newcomer.
        assert_eq!(
            pool.admit(v4(9), ms(t0, 100), "new").map(|a| a.id).err(),
            Some(Refusal::Full)
        );
        let admitted = pool.admit(v4(9), ms(t0, 300), "new");
        assert_eq!(admitted.ok().and_then(|a| a.displaced), Some("heavy"));
        // The heavy peer's own newcomer is no lighter: refused until stale.
        assert!(pool.admit(v4(1), ms(t0, 400), "heavy").is_err());
        assert_eq!(pool.len(), 6);
    }

    #[test]
    fn equally_heavy_peers_only_lose_stale_connections() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        for last in 1..=6 {
            fill(&mut pool, v4(last), 1, ms(t0, u64::from(last)), "one");
        }
        assert_eq!(
            pool.admit(v4(9), ms(t0, 500), "new").map(|a| a.id).err(),
            Some(Refusal::Full)
        );
        assert!(pool.admit(v4(9), ms(t0, 1001), "new").is_ok());
        assert_eq!(pool.len(), 6);
    }

    #[test]
    fn a_busy_connection_is_not_displaced() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        let mut ids = Vec::new();
        for _ in 0..3 {
            ids.extend(pool.admit(v4(1), t0, "heavy").map(|a| a.id));
        }
        fill(&mut pool, v4(2), 3, t0, "other");
        for id in &ids {
            pool.touch(*id, ms(t0, 5000));
        }
        // Only v4(2)'s, stale by then, may go.
        let admitted = pool.admit(v4(9), ms(t0, 5100), "new");
        assert_eq!(admitted.ok().and_then(|a| a.displaced), Some("other"));
    }

    #[test]
    fn releasing_frees_the_slot_and_the_peer_count() {
        let t0 = Instant::now();
        let mut pool = Pool::new(LIMITS);
        let ids: Vec<Id> = (0..3)
            .filter_map(|_| pool.admit(v4(1), t0, ()).ok().map(|a| a.id))
            .collect();
        assert!(pool.admit(v4(1), t0, ()).is_err());
        pool.release(ids[0]);
        pool.release(ids[0]);
        assert_eq!(pool.len(), 2);
        assert!(pool.admit(v4(1), t0, ()).is_ok());
        for id in ids {
            pool.release(id);
        }
        assert_eq!(pool.len(), 1);
        assert!(pool.per_peer.values().all(|&n| n == 1));
    }
}
