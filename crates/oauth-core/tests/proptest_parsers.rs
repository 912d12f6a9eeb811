//! Parsers never panic on arbitrary input, and accepted forms round-trip.
#![allow(clippy::unwrap_used)]

mod common;

use idforge_oauth_core::model::{ClaimsRequest, Params};
use idforge_oauth_core::{Limits, Scopes, TokenRequest};
use proptest::prelude::*;

proptest! {
    #[test]
    fn params_never_panic(input in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = Params::parse(&input, &Limits::default());
        let _ = TokenRequest::from_form(&input, Some(String::from_utf8_lossy(&input).into_owned()), &Limits::default());
    }

    #[test]
    fn scopes_and_claims_never_panic(s in ".{0,200}") {
        let _ = Scopes::parse(&s, &Limits::default());
        let _ = ClaimsRequest::parse(&s);
    }

    #[test]
    fn distinct_pairs_round_trip(pairs in proptest::collection::btree_map("[a-z_]{1,12}", "[ -~]{1,30}", 0..10)) {
        let mut ser = url::form_urlencoded::Serializer::new(String::new());
        for (k, v) in &pairs {
            ser.append_pair(k, v);
        }
        let parsed = Params::parse(ser.finish().as_bytes(), &Limits::default()).unwrap();
        for (k, v) in &pairs {
            prop_assert_eq!(parsed.get(k), Some(v.as_str()));
        }
    }
}

#[test]
fn authorization_endpoint_never_panics_on_garbage() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let env = common::env();
    let mut runner = proptest::test_runner::TestRunner::default();
    runner
        .run(&proptest::collection::vec(any::<u8>(), 0..300), |input| {
            rt.block_on(async {
                let _ = env
                    .provider
                    .authorization
                    .start(&input, Some(&common::alice()))
                    .await;
                let _ = env
                    .provider
                    .token
                    .handle_form(&input, Some("Basic d2ViOndlYi1zZWNyZXQ="))
                    .await;
            });
            Ok(())
        })
        .unwrap();
}
