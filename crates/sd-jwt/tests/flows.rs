//! Issuer → holder → verifier round trips over every feature: flat, structured, recursive and
//! array-element disclosures, decoys, sha-256/384/512, the JSON serializations (RFC 9901 §8),
//! the async `Signer` port, deterministic output from a seeded RNG, issuer metadata and `x5c`.
// Tests may unwrap: a panic here is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod common;

use async_trait::async_trait;
use common::*;
use idforge_jose::{FixedClock, JwkSet, JwsAlgorithm, LocalSigner, Signer};
use idforge_sd_jwt::vc::{well_known_url, IssuerMetadataResolver};
use idforge_sd_jwt::{
    ClaimPath, Credential, Issuance, Issuer, IssuerConfig, JwtVcIssuerMetadata, KeyBindingInput,
    SdAlg, SdJwt, SdJwtVerifier, Serialization, VcIssuer, VcVerifier, VerifierConfig,
};
use rand::SeedableRng;
use serde_json::{json, Map, Value};

const NOW: i64 = 1_700_000_000;

fn claims() -> Map<String, Value> {
    json!({
        "iss": "https://issuer.example", "iat": NOW, "exp": NOW + 3600, "vct": "https://vct.example/pid",
        "given_name": "Erika", "family_name": "Mustermann",
        "address": {"street_address": "Heidestr. 17", "locality": "Köln", "country": "DE"},
        "nationalities": ["DE", "FR", "US"],
        "degrees": [{"type": "BSc", "year": 2010}, {"type": "MSc", "year": 2012}]
    })
    .as_object()
    .cloned()
    .unwrap()
}

fn paths(p: &[&str]) -> Vec<ClaimPath> {
    p.iter().map(|s| ClaimPath::parse(s).unwrap()).collect()
}

fn issuer_signer() -> LocalSigner {
    LocalSigner::new(issuer_key(), JwsAlgorithm::ES256).unwrap()
}

const ALL_SD: [&str; 10] = [
    "/given_name",
    "/family_name",
    "/address",
    "/address/street_address",
    "/address/locality",
    "/nationalities/0",
    "/nationalities/2",
    "/degrees/1",
    "/degrees/1/year",
    "/degrees/0/type",
];

fn issue(config: IssuerConfig) -> String {
    let issuance = Issuance::new(claims())
        .disclose(ALL_SD)
        .unwrap()
        .holder_key(holder_public_jwk());
    Issuer::new(config)
        .issue(&issuance, &issuer_signer(), &mut rand::thread_rng())
        .unwrap()
}

fn roundtrip(config: IssuerConfig, disclose: &[&str]) -> idforge_sd_jwt::Verified {
    let text = issue(config);
    let clock = FixedClock::new(NOW);
    let cred =
        Credential::verify(&text, &SdJwtVerifier::default(), &issuer_public(), &clock).unwrap();
    assert_eq!(Value::Object(cred.claims().clone()), {
        let mut c = claims();
        c.insert("cnf".into(), json!({"jwk": holder_public_jwk().to_value()}));
        Value::Object(c)
    });
    let p = cred
        .present_with_key_binding(
            &paths(disclose),
            &KeyBindingInput::new("https://v", "n"),
            &LocalSigner::new(holder_key(), JwsAlgorithm::ES256).unwrap(),
            &clock,
        )
        .unwrap();
    SdJwtVerifier::new(VerifierConfig::default().require_key_binding("https://v", "n"))
        .verify(&p, &issuer_public(), &clock)
        .unwrap()
}

#[test]
fn selective_presentation_reveals_exactly_the_selection_and_ancestors() {
    let v = roundtrip(
        IssuerConfig::default(),
        &[
            "/address/street_address",
            "/nationalities/2",
            "/degrees/1/year",
        ],
    );
    let c = Value::Object(v.claims);
    // address is disclosed (ancestor) with street_address, not locality; country is plain.
    assert_eq!(
        c["address"],
        json!({"street_address": "Heidestr. 17", "country": "DE"})
    );
    assert_eq!(
        c["nationalities"],
        json!(["FR", "US"]),
        "element 0 hidden, 1 plain, 2 disclosed"
    );
    assert_eq!(
        c["degrees"],
        json!([{"year": 2010}, {"type": "MSc", "year": 2012}])
    );
    assert!(c.get("given_name").is_none());
    let disclosed: Vec<String> = v.disclosed.iter().map(|d| d.path.to_string()).collect();
    assert!(disclosed.contains(&"/address/street_address".to_owned()));
    assert!(disclosed.contains(&"/degrees/1/year".to_owned()));
}

#[test]
fn nothing_and_everything() {
    let none = roundtrip(IssuerConfig::default(), &[]);
    assert_eq!(
        Value::Object(none.claims.clone())["nationalities"],
        json!(["FR"])
    );
    assert!(none.disclosed.is_empty());
    let all = roundtrip(IssuerConfig::default(), &ALL_SD);
    assert_eq!(all.disclosed.len(), ALL_SD.len());
    // Selecting `/address` pulls in the nested Disclosures too.
    let addr = roundtrip(IssuerConfig::default(), &["/address"]);
    assert_eq!(Value::Object(addr.claims)["address"]["locality"], "Köln");
}

#[test]
fn decoys_and_hash_algorithms() {
    for alg in SdAlg::ALL {
        let text = issue(
            IssuerConfig::default()
                .sd_alg(alg)
                .decoys(3)
                .array_decoys(2),
        );
        let sd = SdJwt::parse(&text, &Default::default()).unwrap();
        let payload: Value = serde_json::from_slice(
            &idforge_jose::b64::decode(sd.issuer_jwt().split('.').nth(1).unwrap(), "p").unwrap(),
        )
        .unwrap();
        assert_eq!(payload["_sd_alg"], alg.name());
        let top: Vec<&str> = payload["_sd"]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_str().unwrap())
            .collect();
        assert_eq!(
            top.len(),
            3 + 3,
            "given_name, family_name, address plus 3 decoys"
        );
        let mut sorted = top.clone();
        sorted.sort();
        assert_eq!(top, sorted, "digests are sorted (RFC 9901 §4.2.4.1)");
        assert_eq!(
            payload["nationalities"].as_array().unwrap().len(),
            3 + 2,
            "two array decoys"
        );
        let v = roundtrip(
            IssuerConfig::default()
                .sd_alg(alg)
                .decoys(3)
                .array_decoys(2),
            &["/nationalities/0"],
        );
        assert_eq!(
            Value::Object(v.claims)["nationalities"],
            json!(["DE", "FR"])
        );
    }
}

#[test]
fn json_serializations_round_trip() {
    for s in [Serialization::FlattenedJson, Serialization::GeneralJson] {
        let text = issue(IssuerConfig::default().serialization(s));
        let parsed: Value = serde_json::from_str(&text).unwrap();
        let header = if s == Serialization::GeneralJson {
            &parsed["signatures"][0]["header"]
        } else {
            &parsed["header"]
        };
        assert_eq!(
            header["disclosures"].as_array().unwrap().len(),
            ALL_SD.len()
        );
        let v = roundtrip(IssuerConfig::default().serialization(s), &["/given_name"]);
        assert_eq!(v.serialization, s);
        assert_eq!(v.claims["given_name"], "Erika");
        assert!(v.key_binding.is_some());
    }
}

/// A stand-in for a KMS: signs through the async port only.
struct RemoteSigner(LocalSigner);

#[async_trait]
impl Signer for RemoteSigner {
    fn algorithm(&self) -> JwsAlgorithm {
        self.0.algorithm()
    }
    fn key_id(&self) -> Option<&str> {
        Some("kms-key-1")
    }
    async fn sign(&self, input: &[u8]) -> idforge_jose::Result<Vec<u8>> {
        self.0.sign_sync(input)
    }
}

#[test]
fn async_signer_port_for_issuer_and_holder() {
    let remote = RemoteSigner(issuer_signer());
    let issuance = Issuance::new(claims())
        .disclose(["/given_name"])
        .unwrap()
        .holder_key(holder_public_jwk());
    let text =
        block_on(VcIssuer::default().issue_with(&issuance, &remote, &mut rand::thread_rng()))
            .unwrap();
    let clock = FixedClock::new(NOW);
    let key =
        idforge_jose::Key::from_jwk(issuer_public().jwk().clone().with_kid("kms-key-1")).unwrap();
    let cred = Credential::parse(&text, &Default::default()).unwrap();
    assert_eq!(cred.header().kid(), Some("kms-key-1"));
    let holder = RemoteSigner(LocalSigner::new(holder_key(), JwsAlgorithm::ES256).unwrap());
    let p = block_on(cred.present_with_key_binding_with(
        &paths(&["/given_name"]),
        &KeyBindingInput::new("a", "n"),
        &holder,
        &clock,
    ))
    .unwrap();
    let vc = VcVerifier::new(
        VerifierConfig::default().require_key_binding("a", "n"),
        Default::default(),
    )
    .verify(&p, &key, &clock)
    .unwrap();
    assert_eq!(vc.sd_jwt.claims["given_name"], "Erika");
}

#[test]
fn seeded_rng_gives_byte_exact_disclosures_and_payload() {
    // Same seed, same input: same Disclosures and same payload, byte for byte (ECDSA
    // signatures differ, so the signature part is left out).
    let issuance = Issuance::new(json!({"a": "x", "l": [1, 2]}).as_object().cloned().unwrap())
        .disclose(["/a", "/l/1"])
        .unwrap();
    let run = || {
        let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
        let text = Issuer::new(IssuerConfig::default().decoys(1))
            .issue(&issuance, &issuer_signer(), &mut rng)
            .unwrap();
        let sd = SdJwt::parse(&text, &Default::default()).unwrap();
        let payload = sd.issuer_jwt().split('.').nth(1).unwrap().to_owned();
        (payload, sd.disclosures().to_vec())
    };
    let (p1, d1) = run();
    let (p2, d2) = run();
    assert_eq!((&p1, &d1), (&p2, &d2));
    // The vector: ChaCha20 seeded with 7, salts 16 bytes each, in issuance order.
    let salts: Vec<String> = d1
        .iter()
        .map(|d| {
            idforge_sd_jwt::Disclosure::parse(d, 8)
                .unwrap()
                .salt()
                .to_owned()
        })
        .collect();
    let mut rng = rand_chacha::ChaCha20Rng::seed_from_u64(7);
    let expected: Vec<String> = (0..2).map(|_| idforge_sd_jwt::new_salt(&mut rng)).collect();
    assert_eq!(salts.len(), 2);
    assert_eq!(salts[0], expected[0], "first salt drawn for `/a`");
    assert_eq!(
        d1[0],
        idforge_sd_jwt::Disclosure::from_parts(expected[0].clone(), Some("a"), json!("x"))
            .unwrap()
            .encoded()
    );
}

#[test]
fn issuer_metadata_model_and_resolver() {
    assert_eq!(
        well_known_url("https://example.com/tenant/1234").unwrap(),
        "https://example.com/.well-known/jwt-vc-issuer/tenant/1234"
    );
    assert_eq!(
        well_known_url("https://example.com").unwrap(),
        "https://example.com/.well-known/jwt-vc-issuer"
    );
    assert_eq!(
        well_known_url("https://example.com/").unwrap(),
        "https://example.com/.well-known/jwt-vc-issuer"
    );
    assert!(well_known_url("http://example.com").is_err());
    assert!(well_known_url("https://example.com/?q").is_err());
    let jwks = JwkSet {
        keys: vec![issuer_public().jwk().clone()],
    };
    let doc = json!({"issuer": "https://issuer.example", "jwks": serde_json::from_str::<Value>(&jwks.to_json()).unwrap()}).to_string();
    let meta = JwtVcIssuerMetadata::from_json(&doc).unwrap();
    assert!(meta.check_issuer("https://issuer.example").is_ok());
    assert_eq!(
        meta.check_issuer("https://other.example")
            .unwrap_err()
            .code(),
        "invalid_issuer_metadata"
    );
    assert_eq!(
        JwtVcIssuerMetadata::from_json(r#"{"issuer":"x","jwks_uri":"u","jwks":{"keys":[]}}"#)
            .unwrap_err()
            .code(),
        "invalid_issuer_metadata"
    );
    assert_eq!(
        JwtVcIssuerMetadata::from_json(r#"{"issuer":"x"}"#)
            .unwrap_err()
            .code(),
        "invalid_issuer_metadata"
    );
    let by_uri = JwtVcIssuerMetadata::from_json(
        r#"{"issuer":"https://issuer.example","jwks_uri":"https://issuer.example/jwks"}"#,
    )
    .unwrap();
    assert_eq!(
        JwtVcIssuerMetadata::from_json(&by_uri.to_json()).unwrap(),
        by_uri
    );
    let mut resolver = IssuerMetadataResolver::default();
    resolver.insert(&meta, None).unwrap();
    let issuance = Issuance::new(claims()).disclose(["/given_name"]).unwrap();
    let text = VcIssuer::default()
        .issue(&issuance, &issuer_signer(), &mut rand::thread_rng())
        .unwrap();
    let vc = VcVerifier::default()
        .verify(&text, &resolver, &FixedClock::new(NOW))
        .unwrap();
    assert_eq!(vc.vct, "https://vct.example/pid");
    let mut other = claims();
    other.insert("iss".into(), "https://unknown.example".into());
    let text = VcIssuer::default()
        .issue(
            &Issuance::new(other),
            &issuer_signer(),
            &mut rand::thread_rng(),
        )
        .unwrap();
    assert_eq!(
        VcVerifier::default()
            .verify(&text, &resolver, &FixedClock::new(NOW))
            .unwrap_err()
            .code(),
        "resolver_error"
    );
}

#[test]
fn x5c_is_exposed_to_the_key_resolver() {
    struct Seen(std::sync::Mutex<Option<Vec<Vec<u8>>>>);
    impl idforge_sd_jwt::IssuerKeyResolver for Seen {
        fn issuer_keys(
            &self,
            ctx: &idforge_sd_jwt::IssuerContext<'_>,
        ) -> idforge_sd_jwt::Result<idforge_jose::KeySet> {
            *self.0.lock().unwrap() = ctx.x5c()?;
            Ok(idforge_jose::KeySet::new(vec![issuer_public()]))
        }
    }
    let issuance = Issuance::new(claims()).header("x5c", json!(["MIIBAA==", "AQID"]));
    let text = VcIssuer::default()
        .issue(&issuance, &issuer_signer(), &mut rand::thread_rng())
        .unwrap();
    let seen = Seen(std::sync::Mutex::new(None));
    VcVerifier::default()
        .verify(&text, &seen, &FixedClock::new(NOW))
        .unwrap();
    assert_eq!(
        seen.0.lock().unwrap().clone().unwrap(),
        vec![vec![0x30, 0x82, 0x01, 0x00], vec![1, 2, 3]]
    );
}

#[test]
fn holder_lists_paths_and_parents() {
    let cred = Credential::parse(&issue(IssuerConfig::default()), &Default::default()).unwrap();
    let listed: Vec<String> = cred
        .disclosable()
        .iter()
        .map(|d| d.path.to_string())
        .collect();
    let mut expected: Vec<String> = ALL_SD.iter().map(|s| s.to_string()).collect();
    let mut got = listed.clone();
    expected.sort();
    got.sort();
    assert_eq!(got, expected);
    let street = cred
        .disclosable()
        .iter()
        .find(|d| d.path.to_string() == "/address/street_address")
        .unwrap();
    let parent = street.parent.expect("recursive");
    assert_eq!(cred.disclosable()[parent].path.to_string(), "/address");
    assert_eq!(
        cred.select(&paths(&["/nope"])).unwrap_err().code(),
        "invalid_path"
    );
    // A plain claim selects nothing.
    assert!(cred.select(&paths(&["/iss"])).unwrap().is_empty());
}
