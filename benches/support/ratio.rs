//! Shared by the crates' criterion benches (included with `#[path]`): measures a wrapped
//! operation against the raw primitive it wraps, interleaved round by round, so both see the same
//! machine load and the printed ratio stays meaningful on a busy 2-core CI box where criterion's
//! back-to-back groups drift by ±50%.

use std::time::{Duration, Instant};

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort_unstable();
    samples.get(samples.len() / 2).copied().unwrap_or_default()
}

/// Runs `wrapped` and `raw` alternately for `rounds` rounds (swapping the order every round),
/// prints the medians and their ratio, and returns the ratio (wrapped / raw).
pub(crate) fn interleaved(
    name: &str,
    rounds: usize,
    mut wrapped: impl FnMut(),
    mut raw: impl FnMut(),
) -> f64 {
    let (mut w, mut r) = (Vec::with_capacity(rounds), Vec::with_capacity(rounds));
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        f();
        start.elapsed()
    };
    for i in 0..rounds {
        if i % 2 == 0 {
            w.push(time(&mut wrapped));
            r.push(time(&mut raw));
        } else {
            r.push(time(&mut raw));
            w.push(time(&mut wrapped));
        }
    }
    let (mw, mr) = (median(w), median(r));
    let ratio = mw.as_secs_f64() / mr.as_secs_f64().max(f64::MIN_POSITIVE);
    println!("ratio {name}: idforge {mw:?}, raw {mr:?}, ratio {ratio:.3}x");
    ratio
}
