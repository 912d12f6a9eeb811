//! One test per rejection rule: each builds an otherwise valid SD-JWT that breaks exactly one
//! rule and checks the typed error (RFC 9901 §7.1, §7.3; draft-ietf-oauth-sd-jwt-vc §3).
// Tests may unwrap: a panic here is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod common;

use common::*;
use idforge_jose::{crypto::EcCurve, FixedClock, JwsAlgorithm, Key, KeySpec, LocalSigner};
use idforge_sd_jwt::{
    ClaimPath, Credential, Error, Issuance, Issuer, KeyBindingInput, Limits, SdAlg, SdJwtVerifier,
    VcIssuer, VcPolicy, VcVerifier, VerifierConfig,
};
use serde_json::{json, Value};

const NOW: i64 = 1_700_000_000;

fn verify(text: &str) -> Result<idforge_sd_jwt::Verified, Error> {
    SdJwtVerifier::default().verify(text, &issuer_public(), &FixedClock::new(NOW))
}

fn code(r: Result<impl std::fmt::Debug, Error>) -> &'static str {
    match r {
        Ok(v) => panic!("accepted: {v:?}"),
        Err(e) => e.code(),
    }
}

#[test]
fn honest_baseline_is_accepted() {
    let (d, h) = disclosure("salt-aaaaaaaaaaaaaaaa", Some("a"), json!(1));
    let v = verify(&forge(None, &json!({"_sd": [h], "b": 2}), &[d])).unwrap();
    assert_eq!(Value::Object(v.claims), json!({"a": 1, "b": 2}));
}

#[test]
fn compact_syntax() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    let good = forge(None, &json!({"_sd": [h]}), &[d]);
    let jwt = good.split('~').next().unwrap();
    assert_eq!(
        code(verify(jwt)),
        "malformed",
        "a JWT without ~ is not an SD-JWT"
    );
    assert_eq!(
        code(verify(&good.replace("~", "~~"))),
        "malformed",
        "empty disclosure"
    );
    assert_eq!(
        code(verify(&format!("{good}notajws"))),
        "malformed",
        "KB-JWT must be a JWS"
    );
    assert_eq!(code(verify("a.b~")), "malformed");
}

#[test]
fn malformed_disclosures() {
    for json in [
        r#"["s"]"#,
        r#"["s","n",1,2]"#,
        r#"[1,"n",1]"#,
        r#"["s",2,1]"#,
        r#"{"s":1}"#,
        r#""s""#,
        r#"["s","n""#,
    ] {
        let (d, h) = raw_disclosure(json);
        let r = verify(&forge(None, &json!({"_sd": [h]}), &[d]));
        assert_eq!(code(r), "malformed_disclosure", "{json}");
    }
    let (_, h) = disclosure("s", Some("a"), json!(1));
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h]}), &["!!".into()]))),
        "malformed_disclosure"
    );
    // Duplicate member names inside a disclosed value.
    let (d, h) = raw_disclosure(r#"["s","a",{"x":1,"x":2}]"#);
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h]}), &[d]))),
        "malformed_disclosure"
    );
}

#[test]
fn re_encoded_disclosure_does_not_match_its_digest() {
    // RFC 9901 §4.2.3 / §7.1 step 3.1: hash the string as received, never a re-encoding.
    let (d, h) = raw_disclosure(r#"["salt", "a", 1]"#);
    let (reencoded, _) = raw_disclosure(r#"["salt","a",1]"#);
    assert!(verify(&forge(None, &json!({"_sd": [h.clone()]}), &[d])).is_ok());
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h]}), &[reencoded]))),
        "unreferenced_disclosure"
    );
}

#[test]
fn sd_alg_rules() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [h.clone()], "_sd_alg": "md5"}),
            std::slice::from_ref(&d)
        ))),
        "sd_alg_not_allowed"
    );
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [h.clone()], "_sd_alg": 256}),
            std::slice::from_ref(&d)
        ))),
        "sd_alg_not_allowed"
    );
    // sha-384 digests while the policy allows only sha-256.
    let dd = idforge_sd_jwt::Disclosure::from_parts("s", Some("a"), json!(1)).unwrap();
    let text = forge(
        None,
        &json!({"_sd": [dd.digest(SdAlg::Sha384)], "_sd_alg": "sha-384"}),
        &[dd.encoded().to_owned()],
    );
    assert!(verify(&text).is_ok());
    let strict = VerifierConfig {
        sd_algs: vec![SdAlg::Sha256],
        ..VerifierConfig::default()
    };
    assert_eq!(
        code(SdJwtVerifier::new(strict).verify(&text, &issuer_public(), &FixedClock::new(NOW))),
        "sd_alg_not_allowed"
    );
    // `_sd_alg` below the top level.
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [h], "o": {"_sd_alg": "sha-256"}}),
            &[d]
        ))),
        "invalid_sd_structure"
    );
}

#[test]
fn duplicate_digests_and_disclosures() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [h.clone(), h.clone()]}),
            std::slice::from_ref(&d)
        ))),
        "duplicate_digest"
    );
    // Same digest in two places (object and array).
    let (e, he) = disclosure("t", None, json!("x"));
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [he.clone()], "l": [{"...": he}]}),
            std::slice::from_ref(&e)
        ))),
        "duplicate_digest"
    );
    // A decoy repeated is a duplicate too.
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": ["decoy", "decoy"]}),
            &[]
        ))),
        "duplicate_digest"
    );
    // Digest repeated inside a disclosed value (recursively).
    let (inner, hi) = disclosure("i", Some("x"), json!(1));
    let (outer, ho) = disclosure("o", Some("obj"), json!({"_sd": [hi.clone()]}));
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"_sd": [ho, hi]}),
            &[outer, inner]
        ))),
        "duplicate_digest"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h]}), &[d.clone(), d]))),
        "duplicate_disclosure"
    );
}

#[test]
fn unreferenced_disclosure() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    let (extra, _) = disclosure("x", Some("b"), json!(2));
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h]}), &[d, extra]))),
        "unreferenced_disclosure"
    );
}

#[test]
fn forbidden_and_existing_claim_names() {
    for name in ["_sd", "..."] {
        let (d, h) = raw_disclosure(&format!(r#"["s","{name}",1]"#));
        assert_eq!(
            code(verify(&forge(None, &json!({"_sd": [h]}), &[d]))),
            "forbidden_claim_name",
            "{name}"
        );
    }
    let (d, h) = disclosure("s", Some("a"), json!(1));
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [h], "a": 0}), &[d]))),
        "claim_exists"
    );
}

#[test]
fn wrong_disclosure_kind() {
    let (elem, he) = disclosure("s", None, json!(1));
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [he]}), &[elem]))),
        "wrong_disclosure_kind"
    );
    let (prop, hp) = disclosure("s", Some("a"), json!(1));
    assert_eq!(
        code(verify(&forge(None, &json!({"l": [{"...": hp}]}), &[prop]))),
        "wrong_disclosure_kind"
    );
}

#[test]
fn invalid_structure() {
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": "x"}), &[]))),
        "invalid_sd_structure"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"_sd": [1]}), &[]))),
        "invalid_sd_structure"
    );
    assert_eq!(
        code(verify(&forge(
            None,
            &json!({"l": [{"...": "x", "y": 1}]}),
            &[]
        ))),
        "invalid_sd_structure"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"l": [{"...": 1}]}), &[]))),
        "invalid_sd_structure"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"...": "x"}), &[]))),
        "invalid_sd_structure"
    );
}

#[test]
fn limits() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    let text = forge(None, &json!({"_sd": [h]}), &[d]);
    let tight = |l: Limits| {
        SdJwtVerifier::new(VerifierConfig {
            limits: l,
            ..VerifierConfig::default()
        })
    };
    let clock = FixedClock::new(NOW);
    assert_eq!(
        code(
            tight(Limits {
                max_disclosures: 0,
                ..Limits::default()
            })
            .verify(&text, &issuer_public(), &clock)
        ),
        "limit_exceeded"
    );
    assert_eq!(
        code(
            tight(Limits {
                max_input_bytes: 10,
                ..Limits::default()
            })
            .verify(&text, &issuer_public(), &clock)
        ),
        "limit_exceeded"
    );
    // Depth counted through recursive disclosures.
    let mut value = json!(1);
    let mut discs = Vec::new();
    let mut digest = String::new();
    for i in 0..6 {
        let (d, h) = disclosure(&format!("s{i}"), Some("n"), value);
        discs.push(d);
        value = json!({"_sd": [h.clone()]});
        digest = h;
    }
    let deep = forge(None, &json!({"_sd": [digest]}), &discs);
    assert!(verify(&deep).is_ok());
    assert_eq!(
        code(
            tight(Limits {
                max_depth: 4,
                ..Limits::default()
            })
            .verify(&deep, &issuer_public(), &clock)
        ),
        "limit_exceeded"
    );
}

#[test]
fn issuer_signature_and_algorithm() {
    let (d, h) = disclosure("s", Some("a"), json!(1));
    let text = forge(None, &json!({"_sd": [h]}), &[d]);
    let other = Key::generate(KeySpec::Ec(EcCurve::P256))
        .unwrap()
        .to_public()
        .unwrap();
    let clock = FixedClock::new(NOW);
    assert_eq!(
        code(SdJwtVerifier::default().verify(&text, &other, &clock)),
        "invalid_signature"
    );
    let es384_only = VerifierConfig::default().algorithms([JwsAlgorithm::ES384]);
    assert_eq!(
        code(SdJwtVerifier::new(es384_only).verify(&text, &issuer_public(), &clock)),
        "algorithm_not_allowed"
    );
    // Tampered payload.
    let mut parts: Vec<String> = text.splitn(2, '~').map(str::to_owned).collect();
    let jwt: Vec<&str> = parts[0].split('.').collect();
    let forged_payload = idforge_jose::b64::encode(br#"{"a":2}"#);
    parts[0] = format!("{}.{}.{}", jwt[0], forged_payload, jwt[2]);
    assert_eq!(code(verify(&parts.join("~"))), "invalid_signature");
}

#[test]
fn validity_claims() {
    assert_eq!(
        code(verify(&forge(None, &json!({"exp": NOW - 3600}), &[]))),
        "token_expired"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"nbf": NOW + 3600}), &[]))),
        "token_not_yet_valid"
    );
    assert_eq!(
        code(verify(&forge(None, &json!({"exp": "soon"}), &[]))),
        "invalid_claim"
    );
}

#[test]
fn typ_is_checked_when_configured() {
    let text = forge(Some("JWT"), &json!({}), &[]);
    let v = SdJwtVerifier::new(VerifierConfig::default().typ("example+sd-jwt"));
    assert_eq!(
        code(v.verify(&text, &issuer_public(), &FixedClock::new(NOW))),
        "invalid_typ"
    );
}

// ----------------------------------------------------------------------------------------
// Key binding (RFC 9901 §7.3 step 5).

fn holder_signer() -> LocalSigner {
    LocalSigner::new(holder_key(), JwsAlgorithm::ES256).unwrap()
}

fn issued() -> String {
    let claims = json!({"given_name": "Erika", "family_name": "Mustermann"});
    let issuance = Issuance::new(claims.as_object().cloned().unwrap())
        .disclose(["/given_name", "/family_name"])
        .unwrap()
        .holder_key(holder_public_jwk());
    let signer = LocalSigner::new(issuer_key(), JwsAlgorithm::ES256).unwrap();
    Issuer::default()
        .issue(&issuance, &signer, &mut rand::thread_rng())
        .unwrap()
}

fn present(kb: &KeyBindingInput) -> String {
    let cred = Credential::parse(&issued(), &Limits::default()).unwrap();
    cred.present_with_key_binding(
        &[ClaimPath::parse("/given_name").unwrap()],
        kb,
        &holder_signer(),
        &FixedClock::new(NOW),
    )
    .unwrap()
}

fn kb_verifier() -> SdJwtVerifier {
    SdJwtVerifier::new(VerifierConfig::default().require_key_binding("https://v.example", "n1"))
}

fn kb_verify(text: &str) -> Result<idforge_sd_jwt::Verified, Error> {
    kb_verifier().verify(text, &issuer_public(), &FixedClock::new(NOW))
}

#[test]
fn key_binding_rules() {
    let good = present(&KeyBindingInput::new("https://v.example", "n1"));
    assert!(kb_verify(&good).is_ok());
    // Required but absent.
    let unbound = Credential::parse(&issued(), &Limits::default())
        .unwrap()
        .present(&[])
        .unwrap();
    assert_eq!(code(kb_verify(&unbound)), "key_binding_required");
    assert_eq!(
        code(kb_verify(&present(&KeyBindingInput::new(
            "https://evil.example",
            "n1"
        )))),
        "invalid_audience"
    );
    assert_eq!(
        code(kb_verify(&present(&KeyBindingInput::new(
            "https://v.example",
            "n2"
        )))),
        "invalid_nonce"
    );
    let old = KeyBindingInput {
        issued_at: Some(NOW - 3600),
        ..KeyBindingInput::new("https://v.example", "n1")
    };
    assert_eq!(code(kb_verify(&present(&old))), "invalid_iat");
    let future = KeyBindingInput {
        issued_at: Some(NOW + 3600),
        ..KeyBindingInput::new("https://v.example", "n1")
    };
    assert_eq!(code(kb_verify(&present(&future))), "invalid_iat");
    // sd_hash: dropping or adding a Disclosure after the KB-JWT was made.
    let parts: Vec<&str> = good.split('~').collect();
    let dropped = format!("{}~{}", parts[0], parts[parts.len() - 1]);
    assert_eq!(code(kb_verify(&dropped)), "sd_hash_mismatch");
}

#[test]
fn key_binding_signature_typ_and_cnf() {
    let cred = Credential::parse(&issued(), &Limits::default()).unwrap();
    let kb = KeyBindingInput::new("https://v.example", "n1");
    let stranger = LocalSigner::new(
        Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap(),
        JwsAlgorithm::ES256,
    )
    .unwrap();
    let wrong_key = cred
        .present_with_key_binding(&[], &kb, &stranger, &FixedClock::new(NOW))
        .unwrap();
    assert_eq!(code(kb_verify(&wrong_key)), "invalid_signature");
    // A KB-JWT with another typ, hand-made.
    let base = cred.present(&[]).unwrap();
    let sd_hash = SdAlg::Sha256.digest_b64(&base);
    let claims = json!({"iat": NOW, "aud": "https://v.example", "nonce": "n1", "sd_hash": sd_hash});
    let jwt = idforge_jose::jws::sign_compact(
        idforge_jose::Header::new().with_typ("JWT"),
        claims.to_string().as_bytes(),
        &holder_signer(),
    )
    .unwrap();
    assert_eq!(
        code(kb_verify(&format!("{base}{jwt}"))),
        "invalid_key_binding"
    );
    let no_nonce = json!({"iat": NOW, "aud": "https://v.example", "sd_hash": sd_hash});
    let jwt = idforge_jose::jws::sign_compact(
        idforge_jose::Header::new().with_typ("kb+jwt"),
        no_nonce.to_string().as_bytes(),
        &holder_signer(),
    )
    .unwrap();
    assert_eq!(
        code(kb_verify(&format!("{base}{jwt}"))),
        "invalid_key_binding"
    );
    // `aud` as an array, even one holding the expected audience: a single string only, with
    // or without an expected audience.
    let listed =
        json!({"iat": NOW, "aud": ["https://v.example"], "nonce": "n1", "sd_hash": sd_hash});
    let jwt = idforge_jose::jws::sign_compact(
        idforge_jose::Header::new().with_typ("kb+jwt"),
        listed.to_string().as_bytes(),
        &holder_signer(),
    )
    .unwrap();
    assert_eq!(
        code(kb_verify(&format!("{base}{jwt}"))),
        "invalid_key_binding"
    );
    let lenient = SdJwtVerifier::new(VerifierConfig::default());
    assert!(lenient
        .verify(
            &format!("{base}{jwt}"),
            &issuer_public(),
            &FixedClock::new(NOW)
        )
        .is_err());
    // No cnf in the SD-JWT.
    let no_cnf = forge(None, &json!({"a": 1}), &[]);
    let sd_hash = SdAlg::Sha256.digest_b64(&no_cnf);
    let claims = json!({"iat": NOW, "aud": "https://v.example", "nonce": "n1", "sd_hash": sd_hash});
    let jwt = idforge_jose::jws::sign_compact(
        idforge_jose::Header::new().with_typ("kb+jwt"),
        claims.to_string().as_bytes(),
        &holder_signer(),
    )
    .unwrap();
    assert_eq!(
        code(kb_verify(&format!("{no_cnf}{jwt}"))),
        "missing_holder_key"
    );
}

// ----------------------------------------------------------------------------------------
// Issuer-side refusals and SD-JWT VC rules.

#[test]
fn issuer_refuses_bad_policies() {
    let signer = LocalSigner::new(issuer_key(), JwsAlgorithm::ES256).unwrap();
    let mut rng = rand::thread_rng();
    let claims = |v: Value| v.as_object().cloned().unwrap();
    let issue = |i: Issuance| Issuer::default().issue(&i, &signer, &mut rand::thread_rng());
    assert_eq!(
        code(issue(Issuance::new(claims(json!({"_sd": []}))))),
        "reserved_claim_name"
    );
    assert_eq!(
        code(issue(Issuance::new(claims(json!({"a": {"...": 1}}))))),
        "reserved_claim_name"
    );
    assert_eq!(
        code(issue(
            Issuance::new(claims(json!({"a": 1})))
                .disclose(["/b"])
                .unwrap()
        )),
        "invalid_path"
    );
    assert_eq!(
        code(issue(
            Issuance::new(claims(json!({"a": 1})))
                .disclose(["/a/x"])
                .unwrap()
        )),
        "invalid_path"
    );
    assert_eq!(
        code(issue(
            Issuance::new(claims(json!({"a": 1})))
                .disclose([""])
                .unwrap()
        )),
        "invalid_path"
    );
    assert_eq!(
        code(Issuance::new(claims(json!({"a": 1}))).disclose(["a"])),
        "invalid_path"
    );
    let vc = VcIssuer::default();
    for never in [
        "/iss",
        "/exp",
        "/nbf",
        "/cnf",
        "/vct",
        "/status",
        "/vct#integrity",
        "/status/status_list",
    ] {
        let i = Issuance::new(claims(json!({"vct": "v", "iss": "i", "exp": 1, "nbf": 1, "cnf": {}, "vct#integrity": "x", "status": {"status_list": {"idx": 1, "uri": "u"}}})))
            .disclose([never]).unwrap();
        assert_eq!(
            code(vc.issue(&i, &signer, &mut rng)),
            "never_disclosable",
            "{never}"
        );
    }
    assert_eq!(
        code(vc.issue(&Issuance::new(claims(json!({"a": 1}))), &signer, &mut rng)),
        "invalid_vct"
    );
    assert_eq!(
        code(vc.issue(
            &Issuance::new(claims(json!({"vct": "v", "status": 1}))),
            &signer,
            &mut rng
        )),
        "invalid_status"
    );
}

#[test]
fn vc_verifier_rules() {
    let clock = FixedClock::new(NOW);
    let v = VcVerifier::default();
    assert_eq!(
        code(v.verify(
            &forge(Some("dc+sd-jwt"), &json!({"a": 1}), &[]),
            &issuer_public(),
            &clock
        )),
        "invalid_vct"
    );
    assert_eq!(
        code(v.verify(
            &forge(Some("JWT"), &json!({"vct": "v"}), &[]),
            &issuer_public(),
            &clock
        )),
        "invalid_typ"
    );
    assert_eq!(
        code(v.verify(
            &forge(None, &json!({"vct": "v"}), &[]),
            &issuer_public(),
            &clock
        )),
        "invalid_typ"
    );
    let legacy = forge(Some("vc+sd-jwt"), &json!({"vct": "v"}), &[]);
    assert_eq!(
        code(v.verify(&legacy, &issuer_public(), &clock)),
        "invalid_typ"
    );
    let lenient = VcVerifier::new(
        VerifierConfig::default(),
        VcPolicy {
            accept_vc_sd_jwt: true,
            ..VcPolicy::default()
        },
    );
    assert!(lenient.verify(&legacy, &issuer_public(), &clock).is_ok());
    let only = VcVerifier::new(
        VerifierConfig::default(),
        VcPolicy {
            vcts: vec!["w".into()],
            ..VcPolicy::default()
        },
    );
    assert_eq!(
        code(only.verify(
            &forge(Some("dc+sd-jwt"), &json!({"vct": "v"}), &[]),
            &issuer_public(),
            &clock
        )),
        "invalid_vct"
    );
    // A never-disclosable claim delivered by a Disclosure.
    for (name, value) in [
        ("vct", json!("v")),
        ("iss", json!("https://i")),
        ("exp", json!(NOW + 10)),
        ("status", json!({})),
    ] {
        let (d, h) = disclosure("s", Some(name), value);
        let payload = if name == "vct" {
            json!({"_sd": [h]})
        } else {
            json!({"_sd": [h], "vct": "v"})
        };
        assert_eq!(
            code(v.verify(
                &forge(Some("dc+sd-jwt"), &payload, &[d]),
                &issuer_public(),
                &clock
            )),
            "never_disclosable",
            "{name}"
        );
    }
    assert_eq!(
        code(v.verify(
            &forge(
                Some("dc+sd-jwt"),
                &json!({"vct": "v", "status": {"status_list": {"idx": -1, "uri": "u"}}}),
                &[]
            ),
            &issuer_public(),
            &clock
        )),
        "invalid_status"
    );
    assert_eq!(
        code(v.verify(
            &forge(Some("dc+sd-jwt"), &json!({"vct": 7}), &[]),
            &issuer_public(),
            &clock
        )),
        "invalid_vct"
    );
}

#[test]
fn status_list_resolver_rejects_revoked() {
    let clock = FixedClock::new(NOW);
    let text = forge(
        Some("dc+sd-jwt"),
        &json!({"vct": "v", "status": {"status_list": {"idx": 3, "uri": "https://s.example/1"}}}),
        &[],
    );
    let mut list = idforge_sd_jwt::vc::MemoryStatusList::default();
    list.set("https://s.example/1", 3, 1);
    let v = VcVerifier::default();
    assert_eq!(
        code(block_on(v.verify_with_status(
            &text,
            &issuer_public(),
            &clock,
            &list
        ))),
        "status_not_valid"
    );
    list.set("https://s.example/1", 3, 0);
    let ok = block_on(v.verify_with_status(&text, &issuer_public(), &clock, &list)).unwrap();
    assert_eq!(ok.status.unwrap().status_list.unwrap().idx, 3);
    let empty = idforge_sd_jwt::vc::MemoryStatusList::default();
    assert_eq!(
        code(block_on(v.verify_with_status(
            &text,
            &issuer_public(),
            &clock,
            &empty
        ))),
        "resolver_error"
    );
}

#[test]
fn json_serialization_rules() {
    // `disclosures` only in the first signature's header (RFC 9901 §8.1).
    let bad = json!({"payload": "e30", "signatures": [
        {"protected": "eyJhbGciOiJFUzI1NiJ9", "header": {"disclosures": []}, "signature": "AA"},
        {"protected": "eyJhbGciOiJFUzI1NiJ9", "header": {"disclosures": []}, "signature": "AA"}]});
    assert_eq!(code(verify(&bad.to_string())), "malformed");
    let no_header =
        json!({"payload": "e30", "protected": "eyJhbGciOiJFUzI1NiJ9", "signature": "AA"});
    assert_eq!(code(verify(&no_header.to_string())), "malformed");
    let bad_disclosures = json!({"payload": "e30", "protected": "eyJhbGciOiJFUzI1NiJ9", "header": {"disclosures": [1]}, "signature": "AA"});
    assert_eq!(code(verify(&bad_disclosures.to_string())), "malformed");
}
