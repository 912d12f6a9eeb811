// Fixed verification keys shared by the JWS targets (included with `include!`): the RFC 7515
// Appendix A.1 HMAC key, the A.2 RSA and A.3 P-256 public keys, the RFC 8037 A.2 Ed25519
// public key and the RFC 7520 §3.1 P-521 key, so that seed tokens from those RFCs verify and
// the fuzzer reaches the signature code with well-formed headers.

use idforge_jose::{Key, KeySet};

const KEYS: &[&str] = &[
    r#"{"kty":"oct","k":"AyM1SysPpbyDfgZld3umj1qzKObwVMkoqQ-EstJQLr_T-1qS0gZH75aKtMN3Yj0iPS4hcgUuTwjAzZr1Z9CAow"}"#,
    r#"{"kty":"RSA","kid":"2010-12-29","n":"ofgWCuLjybRlzo0tZWJjNiuSfb4p4fAkd_wWJcyQoTbji9k0l8W26mPddxHmfHQp-Vaw-4qPCJrcS2mJPMEzP1Pt0Bm4d4QlL-yRT-SFd2lZS-pCgNMsD1W_YpRPEwOWvG6b32690r2jZ47soMZo9wGzjb_7OMg0LOL-bSf63kpaSHSXndS5z5rexMdbBYUsLA9e-KXBdQOS-UTo7WTBEMa2R2CapHg665xsmtdVMTBQY4uDZlxvb3qCo5ZwKh9kG4LT6_I5IhlJH7aGhyxXFvUK-DWNmoudF8NAco9_h9iaGNj8q2ethFkMLs91kzk2PAcDTW9gb54h4FRWyuXpoQ","e":"AQAB"}"#,
    r#"{"kty":"EC","kid":"e9bc097a-ce51-4036-9562-d2ade882db0d","crv":"P-256","x":"f83OJ3D2xF1Bg8vub9tLe1gHMzV76e8Tus9uPHvRVEU","y":"x_FEzRu9m36HLN_tue659LNpXW6pCyStikYjKIWI5a0"}"#,
    r#"{"kty":"OKP","crv":"Ed25519","x":"11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"}"#,
    r#"{"kty":"EC","kid":"bilbo.baggins@hobbiton.example","crv":"P-521","x":"AHKZLLOsCOzz5cY97ewNUajB957y-C-U88c3v13nmGZx6sYl_oJXu9A5RkTKqjqvjyekWF-7ytDyRXYgCF5cj0Kt","y":"AdymlHvOiLxXkEhayXQnNCvDX4h9htZaCJN34kfmC6pV5OhQHiraVySsUdaQkAgDPrwQrJmbnX9cwlGfP-HqHZR1"}"#,
];

fn keys() -> &'static KeySet {
    static KEYS_SET: std::sync::OnceLock<KeySet> = std::sync::OnceLock::new();
    KEYS_SET.get_or_init(|| {
        KeySet::new(
            KEYS.iter()
                .map(|k| Key::from_json(k).expect("fixed fuzz key is valid"))
                .collect(),
        )
    })
}

/// The first input byte picks the policy variant, the rest is the token.
fn policy_and_text(data: &[u8]) -> Option<(idforge_jose::JwsPolicy, &str)> {
    use idforge_jose::{JwsAlgorithm, JwsPolicy};
    let (&selector, rest) = data.split_first()?;
    let text = std::str::from_utf8(rest).ok()?;
    let mut policy = JwsPolicy::new(JwsAlgorithm::ALL);
    if selector & 1 == 1 {
        policy = policy.allowing_unencoded_payload();
    }
    if selector & 2 == 2 {
        policy = policy.understanding("exp");
    }
    Some((policy, text))
}
