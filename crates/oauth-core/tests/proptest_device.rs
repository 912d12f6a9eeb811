//! Property tests of the device grant's parsers and state machine (RFC 8628): user-code input
//! normalization (§6.1) and polling (§3.5) under arbitrary poll times and decisions.
#![allow(clippy::unwrap_used)]

use idforge_oauth_core::device::{
    DeviceApproval, DeviceAuthorization, DeviceState, PollOutcome, UserCode, UserDecision,
    SLOW_DOWN_INCREMENT, USER_CODE_ALPHABET,
};
use idforge_oauth_core::{Scopes, TokenHash};
use proptest::prelude::*;

proptest! {
    /// Whatever is typed, a parsed code is 8 alphabet characters, and it parses back from its
    /// display form, lower-cased and spaced.
    #[test]
    fn user_code_parse_is_normalizing(input in ".{0,80}") {
        if let Some(c) = UserCode::parse(&input) {
            prop_assert_eq!(c.as_str().len(), 8);
            prop_assert!(c.as_str().bytes().all(|b| USER_CODE_ALPHABET.contains(&b)));
            let d = c.display();
            prop_assert_eq!(UserCode::parse(&d), Some(c.clone()));
            prop_assert_eq!(UserCode::parse(&d.to_lowercase().replace('-', " ")), Some(c));
        }
    }

    /// Over any sequence of polls (non-decreasing times) with an approval somewhere: the interval
    /// only grows, by 5 s per `slow_down`; a `Pending` poll is never sooner than the interval
    /// after the previous poll; tokens are redeemed at most once; after expiry every poll is
    /// `Expired` unless already redeemed.
    #[test]
    fn polling_state_machine(
        steps in proptest::collection::vec(0i64..20, 1..60),
        approve_at in 0usize..60,
    ) {
        let mut a = DeviceAuthorization::new(
            TokenHash::of("dc"), TokenHash::of("uc"), "tv", Scopes::from_values(["openid"]),
            0, 300, 5,
        );
        let (mut now, mut redeemed) = (0i64, 0);
        for (i, dt) in steps.iter().enumerate() {
            now += dt;
            if i == approve_at {
                if let Ok(next) = a.decide(
                    UserDecision::Approve(DeviceApproval::new("u", now, vec![])), now) {
                    a = next;
                }
            }
            let before = a.interval;
            let (next, outcome) = a.poll("tv", now);
            match &outcome {
                PollOutcome::SlowDown { interval } => {
                    prop_assert_eq!(*interval, before + SLOW_DOWN_INCREMENT);
                }
                PollOutcome::Pending => {
                    if let Some(prev) = a.last_poll {
                        prop_assert!(now - prev >= before);
                    }
                }
                PollOutcome::Redeemed(..) => redeemed += 1,
                PollOutcome::Expired => prop_assert!(now >= a.expires_at),
                PollOutcome::NotFound => {
                    let spent = matches!(a.state, DeviceState::Redeemed { .. });
                    prop_assert!(spent, "only a redeemed code is not found by its client");
                }
                other => prop_assert!(false, "unexpected {other:?}"),
            }
            if let Some(n) = next {
                prop_assert!(n.interval >= a.interval);
                a = n;
            }
        }
        prop_assert!(redeemed <= 1);
    }
}
