//! Which sockets this node holds: a socket that has not authenticated yet is *pending*
//! and counts against a small budget, in total and per source address; a `connect` that
//! succeeds moves it to one of the node's connection slots.
//!
//! So sockets that never finish the handshake, or never send `connect`, cannot take the
//! slots of real users, and a flood of them is refused before it costs a handshake.

use std::{
    net::{IpAddr, Ipv6Addr},
    sync::Arc,
};

use dashmap::DashMap;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use crate::telemetry;

/// The pending budget and the connection slots of one node.
#[derive(Debug)]
pub struct Admission {
    pending: Arc<Semaphore>,
    /// Pending sockets per source (see [`source_of`]); only tracked with a cap.
    per_source: DashMap<IpAddr, u32>,
    /// 0: no cap per source.
    max_pending_per_source: u32,
    connections: Arc<Semaphore>,
}

/// Why a new socket was refused before its handshake.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Refusal {
    /// `--max-pending-connections` sockets are waiting to authenticate.
    PendingFull,
    /// `--max-pending-per-ip` sockets from this source are waiting to authenticate.
    SourceFull,
}

impl Refusal {
    /// The metric label and log field.
    pub fn reason(self) -> &'static str {
        match self {
            Refusal::PendingFull => "pending_full",
            Refusal::SourceFull => "pending_per_ip",
        }
    }
}

/// A socket's place in the pending budget, from the TCP accept until it authenticates
/// or closes; released when dropped.
#[derive(Debug)]
pub struct PendingPermit {
    admission: Arc<Admission>,
    /// The source counted, when sources are capped.
    source: Option<IpAddr>,
    _permit: OwnedSemaphorePermit,
}

impl Drop for PendingPermit {
    fn drop(&mut self) {
        if let Some(source) = self.source {
            self.admission.per_source.remove_if_mut(&source, |_, n| {
                *n -= 1;
                *n == 0
            });
        }
        telemetry::pending_released();
    }
}

/// One of the node's connection slots, held by an authenticated connection until it
/// closes.
#[derive(Debug)]
pub struct ConnectionSlot {
    _permit: OwnedSemaphorePermit,
}

impl Admission {
    /// `max_pending_per_source` 0: no cap per source address.
    pub fn new(max_pending: u32, max_pending_per_source: u32, max_connections: u32) -> Arc<Self> {
        Arc::new(Admission {
            pending: Arc::new(Semaphore::new(max_pending as usize)),
            per_source: DashMap::new(),
            max_pending_per_source,
            connections: Arc::new(Semaphore::new(max_connections as usize)),
        })
    }

    /// Admits a socket from `peer` to the pending budget, or says why not.
    pub fn admit(self: &Arc<Self>, peer: IpAddr) -> Result<PendingPermit, Refusal> {
        let permit = self
            .pending
            .clone()
            .try_acquire_owned()
            .map_err(|_| Refusal::PendingFull)?;
        let source = if self.max_pending_per_source == 0 {
            None
        } else {
            let source = source_of(peer);
            let mut count = self.per_source.entry(source).or_insert(0);
            if *count >= self.max_pending_per_source {
                return Err(Refusal::SourceFull);
            }
            *count += 1;
            Some(source)
        };
        telemetry::pending_admitted();
        Ok(PendingPermit {
            admission: self.clone(),
            source,
            _permit: permit,
        })
    }

    /// Takes a connection slot for a socket that just authenticated, or `None` when the
    /// node is full.
    pub fn connection_slot(&self) -> Option<ConnectionSlot> {
        self.connections
            .clone()
            .try_acquire_owned()
            .ok()
            .map(|permit| ConnectionSlot { _permit: permit })
    }
}

/// The source a socket is counted under: its IPv4 address, or the /64 network of an
/// IPv6 one (a single host is usually given a whole /64).
fn source_of(peer: IpAddr) -> IpAddr {
    match peer {
        IpAddr::V4(v4) => IpAddr::V4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => IpAddr::V4(v4),
            None => {
                let network = u128::from(v6) & !((1u128 << 64) - 1);
                IpAddr::V6(Ipv6Addr::from(network))
            }
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn the_pending_budget_is_counted_and_released() {
        let admission = Admission::new(2, 0, 10);
        let a = admission.admit(ip("10.0.0.1")).unwrap();
        let _b = admission.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(
            admission.admit(ip("10.0.0.3")).unwrap_err(),
            Refusal::PendingFull
        );
        drop(a);
        assert!(admission.admit(ip("10.0.0.3")).is_ok());
    }

    #[test]
    fn each_source_has_its_own_cap_and_no_source_is_kept_once_idle() {
        let admission = Admission::new(10, 2, 10);
        let a = admission.admit(ip("10.0.0.1")).unwrap();
        let b = admission.admit(ip("10.0.0.1")).unwrap();
        assert_eq!(
            admission.admit(ip("10.0.0.1")).unwrap_err(),
            Refusal::SourceFull
        );
        // Another address has its own cap; the refused one gave its total permit back.
        let c = admission.admit(ip("10.0.0.2")).unwrap();
        assert_eq!(admission.pending.available_permits(), 7);
        drop(a);
        assert!(admission.admit(ip("10.0.0.1")).is_ok());
        drop((b, c));
        assert!(admission.per_source.is_empty());
    }

    #[test]
    fn ipv6_sources_are_counted_per_64_and_mapped_ipv4_as_ipv4() {
        let admission = Admission::new(10, 1, 10);
        let _a = admission.admit(ip("2001:db8:1:2::1")).unwrap();
        assert_eq!(
            admission.admit(ip("2001:db8:1:2:ffff::9")).unwrap_err(),
            Refusal::SourceFull
        );
        assert!(admission.admit(ip("2001:db8:1:3::1")).is_ok());
        let _v4 = admission.admit(ip("192.0.2.7")).unwrap();
        assert_eq!(
            admission.admit(ip("::ffff:192.0.2.7")).unwrap_err(),
            Refusal::SourceFull
        );
    }

    #[test]
    fn connection_slots_are_bounded() {
        let admission = Admission::new(1, 0, 1);
        let slot = admission.connection_slot().unwrap();
        assert!(admission.connection_slot().is_none());
        drop(slot);
        assert!(admission.connection_slot().is_some());
    }
}
