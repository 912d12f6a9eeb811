//! Wycheproof JOSE vectors (C2SP, Apache-2.0) from `../shared/vectors/wycheproof`:
//! `json_web_signature_test.json`, `json_web_key_test.json` and the JWS cases of
//! `json_web_crypto_test.json` (its JWE cases belong to the idforge-jwe tests).
//!
//! Every `valid` case must verify, every `invalid` case must be rejected (by key loading, header
//! checks or the signature). The files contain no `acceptable` cases; the harness fails if one
//! appears, so a future vector update forces a documented decision.
//!
//! Six `valid` labels contradict RFC 7515/7517, and two `invalid` cases are byte-identical to a
//! `valid` one in this copy of the file; all eight are listed in [`deviations`] with the reason
//! and what the harness asserts instead.
//!
//! The verifier models an application that trusts the key material and lets the key decide:
//! the policy allows every algorithm idforge implements, so rejections come from the token or
//! the key, never from a narrow allow-list.

mod common;

use std::collections::BTreeMap;

use idforge_jose::{Error, JwkSet, JwsAlgorithm, JwsPolicy, KeySet};
use serde_json::Value;

/// Cases whose Wycheproof label idforge deliberately does not follow, with the reason.
enum Deviation {
    /// The group key's `alg` member names another algorithm than the token's; RFC 7517 §4.4
    /// makes `alg` the algorithm the key is intended for and idforge enforces it. The key is
    /// the RFC 7520 §3.2/§3.4 key, which has no `alg` member: with the erroneous member
    /// removed the token must verify; as given, no key of the set qualifies (`key_not_found`).
    KeyAlgContradictsToken(&'static str),
    /// A non-base64url character was inserted into an encoded segment and the MAC of the
    /// unmodified token kept. RFC 7515 §5.2 steps 2–3/6–7 forbid additional characters, and
    /// the MAC covers the encoded segments as sent (§5.2 step 8), so accepting this would make
    /// signatures malleable. idforge rejects it with `invalid_base64`.
    CharacterInsertedInEncodedSegment,
    /// Labelled `invalid` for base64 padding, but this copy of the file carries no padding: the
    /// token is byte for byte that of the `valid` case #357 (the `=` characters were lost
    /// upstream of us). idforge accepts it, as it must for #357; the harness then appends the
    /// padding the case describes to the named segment and checks that *that* is rejected
    /// with `invalid_base64` (RFC 7515 §2: base64url without padding).
    PaddingMissingFromVector {
        /// Index of the segment (0 header, 1 payload, 2 signature) meant to be padded.
        segment: usize,
    },
}

/// `(file, tcId)` → deviation.
fn deviations() -> BTreeMap<(&'static str, u64), Deviation> {
    use Deviation::*;
    let sig = "json_web_signature_test.json";
    BTreeMap::from([
        // Figure 20 of RFC 7520 is PS384; the group key says "alg":"PS256".
        ((sig, 346), KeyAlgContradictsToken("PS256")),
        ((sig, 350), KeyAlgContradictsToken("PS256")),
        // Figure 27 is ES512; the group key says "alg":"ES521" (not a registered name).
        ((sig, 347), KeyAlgContradictsToken("ES521")),
        ((sig, 351), KeyAlgContradictsToken("ES521")),
        ((sig, 372), CharacterInsertedInEncodedSegment),
        ((sig, 373), CharacterInsertedInEncodedSegment),
        ((sig, 367), PaddingMissingFromVector { segment: 2 }),
        ((sig, 370), PaddingMissingFromVector { segment: 1 }),
    ])
}

/// Builds the verification keys of a group: `public` when given, else `private` (symmetric).
/// A group key is either one JWK or a JWK Set. Key-loading errors are rejections.
fn group_keys(group: &Value, strip_alg: bool) -> Result<KeySet, Error> {
    let source = group
        .get("public")
        .or_else(|| group.get("private"))
        .expect("group has a key");
    let mut set = if source.get("keys").is_some() {
        source.clone()
    } else {
        serde_json::json!({ "keys": [source] })
    };
    if strip_alg {
        for k in set["keys"].as_array_mut().expect("keys array") {
            k.as_object_mut().expect("JWK object").remove("alg");
        }
    }
    let jwks = JwkSet::from_value(set)?;
    if jwks.keys.is_empty() {
        return Err(Error::KeyNotFound("no supported key in the set".into()));
    }
    KeySet::from_jwk_set(&jwks)
}

fn verify(group: &Value, jws: &Value, strip_alg: bool) -> Result<Vec<u8>, Error> {
    let keys = group_keys(group, strip_alg)?;
    let policy = JwsPolicy::new(JwsAlgorithm::ALL);
    match jws {
        // A JSON-serialized token given where a compact one is expected (Wycheproof's
        // "JsonSerialization" flag) is handed to verify_compact, which must refuse it.
        Value::String(compact) => policy.verify_compact(compact, &keys),
        other => policy.verify_compact(&other.to_string(), &keys),
    }
    .map(|v| v.payload)
}

#[derive(Default, Debug, PartialEq)]
struct Tally {
    valid: usize,
    invalid: usize,
    deviations: usize,
    skipped_jwe: usize,
}

fn run(file: &'static str) -> Option<Tally> {
    let path = common::vector_path(&format!("wycheproof {file}"), &format!("wycheproof/{file}"))?;
    let doc = common::read_json(&path);
    let deviations = deviations();
    let mut tally = Tally::default();
    let mut failures = Vec::new();
    let mut total = 0;
    for group in doc["testGroups"].as_array().expect("testGroups") {
        for case in group["tests"].as_array().expect("tests") {
            total += 1;
            let id = case["tcId"].as_u64().expect("tcId");
            let result = case["result"].as_str().expect("result");
            let comment = case["comment"].as_str().unwrap_or_default();
            let Some(jws) = case.get("jws") else {
                assert!(
                    case.get("jwe").is_some(),
                    "{file} #{id}: neither jws nor jwe"
                );
                tally.skipped_jwe += 1;
                continue;
            };
            if let Some(dev) = deviations.get(&(file, id)) {
                match dev {
                    Deviation::PaddingMissingFromVector { segment } => {
                        assert_eq!(result, "invalid", "{file} #{id}: deviation list is stale");
                        let text = jws.as_str().expect("compact");
                        assert!(!text.contains('='), "{file} #{id}: vector now has padding");
                        assert!(verify(group, jws, false).is_ok(), "{file} #{id}");
                        let mut parts: Vec<String> = text.split('.').map(str::to_owned).collect();
                        let pad = (4 - parts[*segment].len() % 4) % 4;
                        assert!(pad > 0, "{file} #{id}: segment needs no padding");
                        parts[*segment].push_str(&"=".repeat(pad));
                        let padded = Value::String(parts.join("."));
                        let r = verify(group, &padded, false);
                        assert!(
                            matches!(r, Err(Error::Base64(_))),
                            "{file} #{id}: padded form gave {r:?}"
                        );
                        tally.deviations += 1;
                        continue;
                    }
                    _ => assert_eq!(result, "valid", "{file} #{id}: deviation list is stale"),
                }
                match dev {
                    Deviation::PaddingMissingFromVector { .. } => unreachable!("handled above"),
                    Deviation::KeyAlgContradictsToken(alg) => {
                        let as_given = verify(group, jws, false);
                        assert!(
                            matches!(&as_given, Err(Error::KeyNotFound(_))),
                            "{file} #{id}: expected key_not_found (key is for {alg}), got {as_given:?}"
                        );
                        let corrected = verify(group, jws, true);
                        assert!(corrected.is_ok(), "{file} #{id}: {corrected:?}");
                    }
                    Deviation::CharacterInsertedInEncodedSegment => {
                        let r = verify(group, jws, false);
                        assert!(
                            matches!(r, Err(Error::Base64(_))),
                            "{file} #{id}: expected invalid_base64, got {r:?}"
                        );
                    }
                }
                tally.deviations += 1;
                continue;
            }
            let outcome = verify(group, jws, false);
            match (result, &outcome) {
                ("valid", Ok(_)) => tally.valid += 1,
                ("invalid", Err(_)) => tally.invalid += 1,
                ("acceptable", _) => failures.push(format!(
                    "#{id} {comment}: `acceptable` case without a documented decision ({outcome:?})"
                )),
                _ => failures.push(format!(
                    "#{id} {comment}: expected {result}, got {outcome:?}"
                )),
            }
        }
    }
    assert_eq!(
        doc["numberOfTests"].as_u64(),
        Some(total),
        "{file}: numberOfTests"
    );
    assert!(failures.is_empty(), "{file}:\n{}", failures.join("\n"));
    eprintln!("{file}: {tally:?}");
    Some(tally)
}

#[test]
fn json_web_signature() {
    let Some(t) = run("json_web_signature_test.json") else {
        return;
    };
    assert_eq!(
        t,
        Tally {
            valid: 40,
            invalid: 353,
            deviations: 8,
            skipped_jwe: 0
        }
    );
}

#[test]
fn json_web_key() {
    let Some(t) = run("json_web_key_test.json") else {
        return;
    };
    assert_eq!(
        t,
        Tally {
            valid: 5,
            invalid: 21,
            deviations: 0,
            skipped_jwe: 0
        }
    );
}

#[test]
fn json_web_crypto_jws_part() {
    let Some(t) = run("json_web_crypto_test.json") else {
        return;
    };
    assert_eq!(t.valid + t.invalid + t.deviations, 49, "{t:?}");
    assert_eq!(t.skipped_jwe, 34, "{t:?}");
}
