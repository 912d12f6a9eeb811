//! A user's own cargo-fuzz target (docs/fuzzing.md): structured token requests go through
//! idforge's token endpoint (the `oauth_token_form` entry point) *and* through the
//! application's own code that reads the same request, and the two must agree.
//!
//! The same file is a fuzz target of the repository's `fuzz/` workspace (`cargo fuzz run
//! user_example_token_client`, where cargo-fuzz sets `cfg(fuzzing)`) and an example of
//! idforge-testing whose tests run the target body over generated inputs (`cargo test -p
//! idforge-testing --features fuzzing --example fuzz_user_target`).
// `cfg(fuzzing)` is set by cargo-fuzz, unknown to plain cargo.
#![allow(unexpected_cfgs)]
#![cfg_attr(fuzzing, no_main)]

use idforge_oauth_core::{Limits, TokenRequest};
use idforge_testing::fuzzing::{self, input::TokenRequestInput};

/// The application's code under test: the key its rate limiter counts token requests by (the
/// body's `client_id`, or `anonymous`), read before idforge authenticates the client.
fn rate_limit_key(body: &[u8]) -> String {
    url::form_urlencoded::parse(body)
        // RFC 6749 §3.1: a parameter without a value is treated as omitted.
        .find(|(name, value)| name == "client_id" && !value.is_empty())
        .map(|(_, value)| value.into_owned())
        .unwrap_or_else(|| "anonymous".to_owned())
}

/// The fuzz target body.
fn check(input: &TokenRequestInput) {
    // 1. idforge's form parser and token endpoint: no panic, registered errors only.
    fuzzing::oauth_token_form(&input.to_fuzz_input());
    // 2. The application's code: no panic, and where idforge parsed the form, the rate limiter
    //    counted the request under the client idforge will see.
    let (authorization, body) = input.encode();
    let key = rate_limit_key(body.as_bytes());
    if let Ok(request) = TokenRequest::from_form(body.as_bytes(), authorization, &Limits::default())
    {
        let client = request.params.get("client_id").unwrap_or("anonymous");
        assert_eq!(
            key, client,
            "rate limiter and token endpoint disagree on {body}"
        );
    }
}

#[cfg(fuzzing)]
libfuzzer_sys::fuzz_target!(|input: TokenRequestInput| check(&input));

/// Without cargo-fuzz: the body over `n` inputs generated from a fixed seed.
#[cfg(not(fuzzing))]
fn run(n: usize) -> usize {
    use arbitrary::{Arbitrary, Unstructured};
    use rand::{RngCore, SeedableRng};
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(2026);
    let mut ran = 0;
    let mut bytes = vec![0u8; 512];
    for _ in 0..n {
        rng.fill_bytes(&mut bytes);
        if let Ok(input) = TokenRequestInput::arbitrary(&mut Unstructured::new(&bytes)) {
            check(&input);
            ran += 1;
        }
    }
    ran
}

#[cfg(not(fuzzing))]
fn main() {
    println!("ran the fuzz target body on {} inputs", run(1_000));
}

#[cfg(all(test, not(fuzzing)))]
mod tests {
    #[test]
    fn the_fuzz_target_body_holds_on_generated_inputs() {
        assert!(super::run(500) > 400);
    }
}
