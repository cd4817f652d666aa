//! Per-user limits shared by all of a user's connections on this node: how many
//! connections, how many commands per second, and (private chat) how many connection
//! requests and private messages.

use std::{num::NonZeroU32, sync::Arc, time::Duration};

use dashmap::DashMap;
use governor::{
    DefaultDirectRateLimiter, DefaultKeyedRateLimiter, Quota, RateLimiter, clock::Clock,
};

/// Connection counts and command rates per user.
#[derive(Debug)]
pub struct UserLimits {
    connections: DashMap<Arc<str>, u32>,
    max_connections: u32,
    rate: DefaultKeyedRateLimiter<Arc<str>>,
    requests: DefaultKeyedRateLimiter<Arc<str>>,
    direct: DefaultKeyedRateLimiter<Arc<str>>,
    searches: DefaultKeyedRateLimiter<Arc<str>>,
}

/// Rates of private chat.
#[derive(Clone, Copy, Debug)]
pub struct PrivateRates {
    pub requests_per_min: u32,
    pub messages_per_sec: u32,
    pub searches_per_min: u32,
}

/// Holds one of a user's connection slots; releases it when dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    limits: Arc<UserLimits>,
    user: Arc<str>,
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        self.limits.connections.remove_if_mut(&self.user, |_, n| {
            *n -= 1;
            *n == 0
        });
    }
}

impl UserLimits {
    pub fn new(max_connections: u32, per_sec: u32, burst: u32, private: PrivateRates) -> Arc<Self> {
        let nz = |n: u32| NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
        let per_sec = nz(per_sec);
        let burst = NonZeroU32::new(burst.max(per_sec.get())).unwrap_or(per_sec);
        let requests = nz(private.requests_per_min);
        let messages = nz(private.messages_per_sec);
        let searches = nz(private.searches_per_min);
        Arc::new(UserLimits {
            connections: DashMap::new(),
            max_connections,
            rate: RateLimiter::keyed(Quota::per_second(per_sec).allow_burst(burst)),
            requests: RateLimiter::keyed(Quota::per_minute(requests).allow_burst(requests)),
            direct: RateLimiter::keyed(
                Quota::per_second(messages).allow_burst(nz(messages.get().saturating_mul(2))),
            ),
            searches: RateLimiter::keyed(Quota::per_minute(searches).allow_burst(searches)),
        })
    }

    /// Spends one people search; `Err(wait)` when over the rate.
    pub fn check_search(&self, user: &Arc<str>) -> Result<(), Duration> {
        spend(&self.searches, user)
    }

    /// Spends one connection request; `Err(wait)` when over the rate.
    pub fn check_request(&self, user: &Arc<str>) -> Result<(), Duration> {
        spend(&self.requests, user)
    }

    /// Spends one private message; `Err(wait)` when over the rate.
    pub fn check_direct(&self, user: &Arc<str>) -> Result<(), Duration> {
        spend(&self.direct, user)
    }

    /// Takes a connection slot, or `None` if the user has too many connections.
    pub fn connect(self: &Arc<Self>, user: &Arc<str>) -> Option<ConnectionSlot> {
        let mut count = self.connections.entry(user.clone()).or_insert(0);
        if *count >= self.max_connections {
            return None;
        }
        *count += 1;
        drop(count);
        Some(ConnectionSlot {
            limits: self.clone(),
            user: user.clone(),
        })
    }

    /// Spends one command from the user's budget; `Err(wait)` when over the rate.
    pub fn check_rate(&self, user: &Arc<str>) -> Result<(), Duration> {
        spend(&self.rate, user)
    }

    /// Drops rate state of users idle long enough to be back at a full budget.
    pub fn prune(&self) {
        for limiter in [&self.rate, &self.requests, &self.direct, &self.searches] {
            limiter.retain_recent();
            limiter.shrink_to_fit();
        }
    }
}

/// Spends one unit of `user`'s budget in `limiter`; `Err(wait)` when it is spent.
fn spend(limiter: &DefaultKeyedRateLimiter<Arc<str>>, user: &Arc<str>) -> Result<(), Duration> {
    limiter
        .check_key(user)
        .map_err(|not_until| not_until.wait_time_from(limiter.clock().now()))
}

/// Budgets of contexts created by a join of an unknown id (without
/// `--require-created-contexts`): per user and for the whole node, per hour. Only a
/// join that creates spends them.
#[derive(Debug)]
pub struct ImplicitContexts {
    per_user: DefaultKeyedRateLimiter<Arc<str>>,
    per_node: DefaultDirectRateLimiter,
}

/// Which creation budget is spent, and how long until it allows one more.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CreationRefused {
    User(Duration),
    Node(Duration),
}

impl ImplicitContexts {
    /// `per_user` and `per_node` creations an hour, each its own burst.
    pub fn new(per_user: u32, per_node: u32) -> Arc<Self> {
        let hourly = |n: u32| {
            let n = NonZeroU32::new(n).unwrap_or(NonZeroU32::MIN);
            Quota::per_hour(n).allow_burst(n)
        };
        Arc::new(ImplicitContexts {
            per_user: RateLimiter::keyed(hourly(per_user)),
            per_node: RateLimiter::direct(hourly(per_node)),
        })
    }

    /// Spends one creation of `user` and one of the node. The user's budget is asked
    /// first, so a user over theirs never spends the node's.
    pub fn spend(&self, user: &Arc<str>) -> Result<(), CreationRefused> {
        spend(&self.per_user, user).map_err(CreationRefused::User)?;
        self.per_node.check().map_err(|not_until| {
            CreationRefused::Node(not_until.wait_time_from(self.per_node.clock().now()))
        })
    }

    /// Drops the state of users back at a full budget.
    pub fn prune(&self) {
        self.per_user.retain_recent();
        self.per_user.shrink_to_fit();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const RATES: PrivateRates = PrivateRates {
        requests_per_min: 2,
        messages_per_sec: 1,
        searches_per_min: 1,
    };

    #[test]
    fn private_rates_are_separate_budgets() {
        let limits = UserLimits::new(1, 100, 100, RATES);
        let u: Arc<str> = "u".into();
        assert!(limits.check_request(&u).is_ok());
        assert!(limits.check_request(&u).is_ok());
        let wait = limits.check_request(&u).unwrap_err();
        assert!(
            wait > Duration::from_secs(1),
            "a request budget refills per minute"
        );
        assert!(limits.check_direct(&u).is_ok());
        assert!(limits.check_direct(&u).is_ok());
        assert!(
            limits.check_direct(&u).is_err(),
            "burst is twice the per-second rate"
        );
        assert!(limits.check_search(&u).is_ok());
        assert!(
            limits.check_search(&u).is_err(),
            "searches have their own budget"
        );
        assert!(
            limits.check_rate(&u).is_ok(),
            "the command budget is untouched"
        );
    }

    #[test]
    fn connection_slots_are_counted_and_released() {
        let limits = UserLimits::new(2, 10, 10, RATES);
        let u: Arc<str> = "u".into();
        let a = limits.connect(&u).unwrap();
        let _b = limits.connect(&u).unwrap();
        assert!(limits.connect(&u).is_none());
        drop(a);
        assert!(limits.connect(&u).is_some());
    }

    #[test]
    fn rate_allows_the_burst_then_refuses() {
        let limits = UserLimits::new(1, 1, 3, RATES);
        let u: Arc<str> = "u".into();
        for _ in 0..3 {
            assert!(limits.check_rate(&u).is_ok());
        }
        let wait = limits.check_rate(&u).unwrap_err();
        assert!(wait > Duration::ZERO && wait <= Duration::from_secs(1));
        // Another user has their own budget.
        assert!(limits.check_rate(&"v".into()).is_ok());
    }

    #[test]
    fn implicit_creation_has_a_budget_per_user_and_one_per_node() {
        let budgets = ImplicitContexts::new(2, 3);
        let (u, v): (Arc<str>, Arc<str>) = ("u".into(), "v".into());
        assert_eq!(budgets.spend(&u), Ok(()));
        assert_eq!(budgets.spend(&u), Ok(()));
        let Err(CreationRefused::User(wait)) = budgets.spend(&u) else {
            panic!("the user's budget is spent");
        };
        // One more an hour / 2: half an hour.
        assert!(wait > Duration::from_secs(1_700) && wait <= Duration::from_secs(1_800));
        // The refused user spent none of the node's: another user gets its last one.
        assert_eq!(budgets.spend(&v), Ok(()));
        assert!(matches!(budgets.spend(&v), Err(CreationRefused::Node(_))));
    }
}
