//! Property tests: no input makes the parsers or the verifier panic, and honest round trips
//! always verify.
// Tests may unwrap: a panic here is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::{FixedClock, JwsAlgorithm, LocalSigner};
use idforge_sd_jwt::{ClaimPath, Credential, Disclosure, Issuance, Issuer, SdJwt, SdJwtVerifier};
use proptest::prelude::*;
use serde_json::{json, Value};

fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i32>().prop_map(Value::from),
        "[a-z_.~]{0,6}".prop_map(Value::from),
    ];
    leaf.prop_recursive(4, 32, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::btree_map("[a-z_.]{1,5}", inner, 0..4)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn parsers_never_panic(s in "[A-Za-z0-9_\\-.~{}\\[\\]\":, ]{0,300}") {
        let _ = SdJwt::parse(&s, &Default::default());
        let _ = Disclosure::parse(&s, 8);
        let _ = Credential::parse(&s, &Default::default());
        let _ = SdJwtVerifier::default().verify(&s, &issuer_public(), &FixedClock::new(0));
    }

    #[test]
    fn disclosures_of_arbitrary_json_never_panic(v in json_value(), name in proptest::option::of("[a-z_.]{0,4}")) {
        let enc = idforge_jose::b64::encode(serde_json::to_vec(&json!(["s", name, v])).unwrap());
        let _ = Disclosure::parse(&enc, 8);
        let payload = json!({"_sd": [idforge_sd_jwt::SdAlg::Sha256.digest_b64(&enc)], "l": [{"...": "x"}]});
        let _ = SdJwtVerifier::default().verify(&forge(None, &payload, &[enc]), &issuer_public(), &FixedClock::new(0));
    }

    #[test]
    fn arbitrary_payloads_never_panic(v in json_value()) {
        let payload = json!({"p": v});
        let _ = SdJwtVerifier::default().verify(&forge(None, &payload, &[]), &issuer_public(), &FixedClock::new(0));
    }

    #[test]
    fn honest_round_trips_verify(v in json_value(), pick in any::<prop::sample::Index>()) {
        prop_assume!(!reserved(&v), "honest issuers do not use `_sd`, `_sd_alg` or `...`");
        let claims = json!({"c": v}).as_object().cloned().unwrap();
        // Every path in the claims is a candidate; choose all object/array children.
        let mut all = Vec::new();
        collect(&Value::Object(claims.clone()), &ClaimPath::root(), &mut all);
        let issuance = Issuance::new(claims.clone()).disclose(all.iter().map(|p| p.to_string())).unwrap();
        let signer = LocalSigner::new(issuer_key(), JwsAlgorithm::ES256).unwrap();
        let text = Issuer::default().issue(&issuance, &signer, &mut rand::thread_rng()).unwrap();
        let cred = Credential::parse(&text, &Default::default()).unwrap();
        prop_assert_eq!(Value::Object(cred.claims().clone()), Value::Object(claims));
        let chosen = if all.is_empty() { vec![] } else { vec![all[pick.index(all.len())].clone()] };
        let p = cred.present(&chosen).unwrap();
        prop_assert!(SdJwtVerifier::default().verify(&p, &issuer_public(), &FixedClock::new(0)).is_ok());
    }
}

fn reserved(v: &Value) -> bool {
    match v {
        Value::Object(m) => m
            .iter()
            .any(|(k, c)| k == "_sd" || k == "..." || k == "_sd_alg" || reserved(c)),
        Value::Array(a) => a.iter().any(reserved),
        _ => false,
    }
}

fn collect(v: &Value, path: &ClaimPath, out: &mut Vec<ClaimPath>) {
    match v {
        Value::Object(m) => m.iter().for_each(|(k, c)| {
            let p = path.child(k.clone());
            collect(c, &p, out);
            out.push(p);
        }),
        Value::Array(a) => a.iter().enumerate().for_each(|(i, c)| {
            let p = path.child(i.to_string());
            collect(c, &p, out);
            out.push(p);
        }),
        _ => {}
    }
}
