//! Interop, both ways, with the Python reference `sd-jwt` (0.10.4) and npm `@sd-jwt/core` +
//! `@sd-jwt/sd-jwt-vc` (0.15.x): flat, array-element, recursive and decoy cases, all with key
//! binding.
//!
//! - idforge issues and presents (KB-JWT) → the peer verifies;
//! - idforge issues → the peer presents (KB-JWT) → idforge verifies;
//! - the peer issues and presents → idforge verifies (issuance and presentation);
//! - idforge tampers with a presentation after key binding → the peer must reject it.
//!
//! Peers are installed by `.ci/sd-jwt.sh` into `$IDFORGE_PEERS_DIR` (default
//! `<workspace>/target/peers`). A missing peer prints a skip reason and passes, unless
//! `IDFORGE_INTEROP=require`, then it fails. One peer process per batch.
// Tests may unwrap: a panic here is a test failure with a backtrace.
#![allow(clippy::unwrap_used)]

mod common;

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use idforge_jose::{crypto::EcCurve, JwsAlgorithm, Key, KeySpec, LocalSigner, SystemClock};
use idforge_sd_jwt::{
    ClaimPath, Credential, Issuance, Issuer, IssuerConfig, KeyBindingInput, SdJwtVerifier,
    VcIssuer, VcPolicy, VcVerifier, VerifierConfig,
};
use serde_json::{json, Map, Value};

struct Case {
    name: &'static str,
    sd: &'static [&'static str],
    disclose: &'static [&'static str],
    decoys: usize,
}

const CASES: &[Case] = &[
    Case {
        name: "flat",
        sd: &["/given_name", "/family_name", "/address"],
        disclose: &["/given_name", "/address"],
        decoys: 0,
    },
    Case {
        name: "array-elements",
        sd: &["/nationalities/0", "/nationalities/2"],
        disclose: &["/nationalities/2"],
        decoys: 0,
    },
    Case {
        name: "recursive",
        sd: &["/address", "/address/street_address", "/address/locality"],
        disclose: &["/address/street_address"],
        decoys: 0,
    },
    Case {
        name: "decoys",
        sd: &["/given_name", "/family_name"],
        disclose: &["/family_name"],
        decoys: 3,
    },
];

const AUD: &str = "https://verifier.example";
const NONCE: &str = "interop-nonce-4711";

fn peers_dir() -> PathBuf {
    std::env::var_os("IDFORGE_PEERS_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../target/peers"))
        })
}

fn required() -> bool {
    std::env::var("IDFORGE_INTEROP").is_ok_and(|v| v == "require")
}

/// Skips (prints why, passes) or fails under `IDFORGE_INTEROP=require`.
fn skip(peer: &str, why: &str) {
    if required() {
        panic!("{peer}: {why} (IDFORGE_INTEROP=require; run .ci/sd-jwt.sh)");
    }
    eprintln!("SKIP interop with {peer}: {why}; run .ci/sd-jwt.sh to install it");
}

struct Peer {
    name: &'static str,
    program: &'static str,
    script: &'static str,
    env: (&'static str, PathBuf),
    vc: bool,
}

fn claims(vc: bool, now: i64) -> Map<String, Value> {
    let mut c = json!({
        "iss": "https://issuer.example", "iat": now, "sub": "user_42",
        "given_name": "Erika", "family_name": "Mustermann",
        "address": {"street_address": "Heidestr. 17", "locality": "Köln", "country": "DE"},
        "nationalities": ["DE", "FR", "US"]
    });
    if vc {
        c["vct"] = json!("https://credentials.example/identity");
    }
    c.as_object().cloned().unwrap_or_default()
}

fn paths(p: &[&str]) -> Vec<ClaimPath> {
    p.iter()
        .map(|s| ClaimPath::parse(s).expect("path"))
        .collect()
}

fn without_cnf(mut v: Map<String, Value>) -> Value {
    v.remove("cnf");
    v.remove("_sd_alg");
    Value::Object(v)
}

fn run_batch(peer: &Peer, batch: &Value) -> Vec<Value> {
    let script = format!("{}/tests/peers/{}", env!("CARGO_MANIFEST_DIR"), peer.script);
    let mut child = Command::new(peer.program)
        .arg(&script)
        .env(peer.env.0, &peer.env.1)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn peer");
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(batch.to_string().as_bytes())
        .expect("write batch");
    let out = child.wait_with_output().expect("peer output");
    assert!(
        out.status.success(),
        "{} failed: {}",
        peer.name,
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!(
            "{}: bad output {e}: {}",
            peer.name,
            String::from_utf8_lossy(&out.stdout)
        )
    })
}

fn interop(peer: Peer) {
    let now = SystemClock.now_secs();
    let issuer = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let holder = Key::generate(KeySpec::Ec(EcCurve::P256)).expect("key");
    let issuer_signer = LocalSigner::new(issuer.clone(), JwsAlgorithm::ES256).expect("signer");
    let holder_signer = LocalSigner::new(holder.clone(), JwsAlgorithm::ES256).expect("signer");
    let issuer_public = issuer.to_public().expect("EC");
    let verifier_config = VerifierConfig::default().require_key_binding(AUD, NONCE);
    let verify = |text: &str| -> Result<Map<String, Value>, idforge_sd_jwt::Error> {
        if peer.vc {
            VcVerifier::new(verifier_config.clone(), VcPolicy::default())
                .verify(text, &issuer_public, &SystemClock)
                .map(|v| v.sd_jwt.claims)
        } else {
            SdJwtVerifier::new(verifier_config.clone())
                .verify(text, &issuer_public, &SystemClock)
                .map(|v| v.claims)
        }
    };
    let issue = |case: &Case| -> String {
        let issuance = Issuance::new(claims(peer.vc, now))
            .disclose(case.sd)
            .expect("paths")
            .holder_key(holder.public_jwk().expect("EC"));
        let config = IssuerConfig::default().decoys(case.decoys);
        if peer.vc {
            VcIssuer::new(config)
                .issue(&issuance, &issuer_signer, &mut rand::thread_rng())
                .expect("issue")
        } else {
            Issuer::new(config.typ("example+sd-jwt"))
                .issue(&issuance, &issuer_signer, &mut rand::thread_rng())
                .expect("issue")
        }
    };
    let kb = KeyBindingInput::new(AUD, NONCE);

    let mut jobs = Vec::new();
    let mut expected = Vec::new();
    for case in CASES {
        let sd_jwt = issue(case);
        let cred = Credential::parse(&sd_jwt, &Default::default()).expect("parse own");
        let presentation = cred
            .present_with_key_binding(&paths(case.disclose), &kb, &holder_signer, &SystemClock)
            .expect("present");
        let own = verify(&presentation).expect("idforge verifies its own presentation");
        expected.push(without_cnf(own));
        // A tampered copy: the last Disclosure dropped after key binding (sd_hash breaks).
        let parts: Vec<&str> = presentation.split('~').collect();
        let tampered = format!(
            "{}~{}",
            parts[..parts.len() - 2].join("~"),
            parts[parts.len() - 1]
        );
        let base = json!({"aud": AUD, "nonce": NONCE, "claims": Value::Object(claims(peer.vc, now)), "disclose": case.disclose});
        let mut job = |op: &str, extra: Value| {
            let mut j = base.clone();
            j["id"] = json!(format!("{}:{op}", case.name));
            j["op"] = json!(op);
            for (k, v) in extra.as_object().cloned().unwrap_or_default() {
                j[k] = v;
            }
            jobs.push(j);
        };
        job("verify", json!({"presentation": presentation}));
        job("verify-tampered", json!({"presentation": tampered}));
        job("present", json!({"sd_jwt": sd_jwt}));
        job(
            "issue_present",
            json!({"sd": case.sd, "decoys": case.decoys}),
        );
    }
    // "verify-tampered" is a verify job whose expected outcome is a rejection.
    for j in &mut jobs {
        if j["op"] == "verify-tampered" {
            j["op"] = json!("verify");
        }
    }
    let batch = json!({
        "issuer_private": issuer.jwk().to_value(), "issuer_public": issuer_public.jwk().to_value(),
        "holder_private": holder.jwk().to_value(), "holder_public": holder.public_jwk().expect("EC").to_value(),
        "jobs": jobs,
    });
    let results = run_batch(&peer, &batch);
    assert_eq!(results.len(), jobs.len());

    let mut matrix = Vec::new();
    let mut failures = Vec::new();
    for ((case, chunk), want) in CASES.iter().zip(results.chunks(4)).zip(&expected) {
        let mut row = |what: &str, ok: bool, detail: String| {
            matrix.push(format!(
                "{:<10} {:<15} {:<44} {}",
                peer.name,
                case.name,
                what,
                if ok { "ok" } else { "FAIL" }
            ));
            if !ok {
                failures.push(format!("{} {} {what}: {detail}", peer.name, case.name));
            }
        };
        // 1. idforge issues + presents with KB → peer verifies.
        let r = &chunk[0];
        let ok = r["ok"] == true
            && r["claims"]
                .as_object()
                .map(|c| without_cnf(c.clone()))
                .as_ref()
                == Some(want);
        row(
            "idforge issue+present(KB) → peer verify",
            ok,
            format!("{r} want {want}"),
        );
        // 2. tampered after key binding → peer rejects.
        let r = &chunk[1];
        row(
            "idforge tampered presentation → peer rejects",
            r["ok"] == false,
            r.to_string(),
        );
        // 3. idforge issues → peer presents with KB → idforge verifies.
        let r = &chunk[2];
        let got = r["presentation"].as_str().map(verify);
        let ok = matches!(&got, Some(Ok(c)) if without_cnf(c.clone()) == *want);
        row(
            "idforge issue → peer present(KB) → idforge",
            ok,
            format!("{r} → {got:?}"),
        );
        // 4. peer issues + presents with KB → idforge verifies both.
        let r = &chunk[3];
        let issued_ok = r["sd_jwt"].as_str().map(|s| {
            SdJwtVerifier::default()
                .verify(s, &issuer_public, &SystemClock)
                .map(|v| without_cnf(v.claims))
        });
        let full = without_cnf(claims(peer.vc, now));
        let ok = matches!(&issued_ok, Some(Ok(c)) if *c == full);
        row(
            "peer issue → idforge verify (all disclosed)",
            ok,
            format!("{r} → {issued_ok:?}"),
        );
        let got = r["presentation"].as_str().map(verify);
        let ok = matches!(&got, Some(Ok(c)) if without_cnf(c.clone()) == *want);
        row(
            "peer issue+present(KB) → idforge verify",
            ok,
            format!("{r} → {got:?}"),
        );
    }
    eprintln!("{}", matrix.join("\n"));
    assert!(
        failures.is_empty(),
        "interop failures:\n{}",
        failures.join("\n")
    );
}

trait NowSecs {
    fn now_secs(&self) -> i64;
}
impl NowSecs for SystemClock {
    fn now_secs(&self) -> i64 {
        idforge_jose::Clock::now(self)
    }
}

fn found(program: &str) -> bool {
    Command::new(program)
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
fn python_sd_jwt_reference() {
    let dir = peers_dir().join("python");
    let python = if found("python3") {
        "python3"
    } else {
        return skip("python sd-jwt", "python3 not found");
    };
    if !dir.join("sd_jwt").join("verifier.py").exists() {
        return skip(
            "python sd-jwt",
            &format!("not installed in {}", dir.display()),
        );
    }
    interop(Peer {
        name: "python",
        program: python,
        script: "sd_jwt_peer.py",
        env: ("PYTHONPATH", dir),
        vc: false,
    });
}

#[test]
fn npm_sd_jwt_vc() {
    let dir = peers_dir().join("node").join("node_modules");
    if !found("node") {
        return skip("npm @sd-jwt", "node not found");
    }
    if !dir
        .join("@sd-jwt")
        .join("sd-jwt-vc")
        .join("package.json")
        .exists()
    {
        return skip(
            "npm @sd-jwt",
            &format!("not installed in {}", dir.display()),
        );
    }
    interop(Peer {
        name: "npm",
        program: "node",
        script: "sd_jwt_peer.cjs",
        env: ("NODE_PATH", dir),
        vc: true,
    });
}
