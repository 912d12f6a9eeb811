//! JWS sign/verify against the raw OpenSSL primitive on the same key and message, in one run,
//! so the report reads as a ratio (target: idforge ≤ 1.15× the primitive).

#![allow(missing_docs)] // criterion_group! generates undocumented items
#![allow(clippy::unwrap_used)] // a bench aborts on setup failure by design
#[path = "../../../benches/support/ratio.rs"]
mod ratio;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idforge_jose::crypto::EcCurve;
use idforge_jose::jws::sign_compact;
use idforge_jose::{
    b64, Header, Jwk, JwsAlgorithm, JwsPolicy, Key, KeyParams, LocalSigner, SecretBytes,
};
use openssl::bn::BigNumContext;
use openssl::ec::{EcGroup, EcKey};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private};
use openssl::rsa::{Padding, Rsa};

/// A typical ID token claims set (~330 bytes).
const CLAIMS: &[u8] = br#"{"iss":"https://op.example.com","sub":"248289761001","aud":"s6BhdRkqt3","nonce":"n-0S6_WzA2Mj","exp":1311281970,"iat":1311280970,"auth_time":1311280969,"acr":"urn:mace:incommon:iap:silver","amr":["pwd"],"azp":"s6BhdRkqt3","sid":"08a5019c-17e1-4977-8f42-65a12843ea02","name":"Jane Doe","email":"janedoe@example.com"}"#;

fn ec_key() -> (PKey<Private>, Key) {
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let ec = EcKey::generate(&group).unwrap();
    let mut ctx = BigNumContext::new().unwrap();
    let (mut x, mut y) = (
        openssl::bn::BigNum::new().unwrap(),
        openssl::bn::BigNum::new().unwrap(),
    );
    ec.public_key()
        .affine_coordinates(&group, &mut x, &mut y, &mut ctx)
        .unwrap();
    let jwk = Jwk::from_params(KeyParams::Ec {
        crv: EcCurve::P256,
        x: x.to_vec_padded(32).unwrap(),
        y: y.to_vec_padded(32).unwrap(),
        d: Some(SecretBytes::new(
            ec.private_key().to_vec_padded(32).unwrap(),
        )),
    });
    (PKey::from_ec_key(ec).unwrap(), Key::from_jwk(jwk).unwrap())
}

fn rsa_key() -> (PKey<Private>, Key) {
    let rsa = Rsa::generate(2048).unwrap();
    let crt = [rsa.p(), rsa.q(), rsa.dmp1(), rsa.dmq1(), rsa.iqmp()].map(|b| b.unwrap().to_vec());
    let jwk = Jwk::from_params(KeyParams::Rsa {
        n: rsa.n().to_vec(),
        e: rsa.e().to_vec(),
        private: Some(idforge_jose::crypto::RsaPrivateParts {
            d: rsa.d().to_vec(),
            crt: Some(crt),
        }),
    });
    (PKey::from_rsa(rsa).unwrap(), Key::from_jwk(jwk).unwrap())
}

fn signing_input(alg: &str) -> Vec<u8> {
    format!(
        "{}.{}",
        b64::encode(format!(r#"{{"alg":"{alg}","typ":"JWT"}}"#)),
        b64::encode(CLAIMS)
    )
    .into_bytes()
}

fn bench_alg(
    c: &mut Criterion,
    name: &str,
    alg: JwsAlgorithm,
    raw: PKey<Private>,
    key: Key,
    rsa: bool,
) {
    let signer = LocalSigner::new(key.clone(), alg).unwrap();
    let public = key.to_public().unwrap();
    let policy = JwsPolicy::new([alg]);
    let input = signing_input(name);
    let token = sign_compact(Header::new().with_typ("JWT"), CLAIMS, &signer).unwrap();
    // The cheapest raw signature OpenSSL offers for each key type: EVP for RSA;
    // `ECDSA_do_sign` on the EC key for ECDSA (decision 0013), the DER signature kept for
    // the verification baseline below.
    let raw_ec_key = (!rsa).then(|| raw.ec_key().unwrap());
    let raw_signer = || match &raw_ec_key {
        Some(ec) => {
            black_box(openssl::ecdsa::EcdsaSig::sign(&openssl::sha::sha256(&input), ec).unwrap());
        }
        None => {
            let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &raw).unwrap();
            s.set_rsa_padding(Padding::PKCS1).unwrap();
            black_box(s.sign_oneshot_to_vec(&input).unwrap());
        }
    };
    let raw_sig = {
        let mut s = openssl::sign::Signer::new(MessageDigest::sha256(), &raw).unwrap();
        if rsa {
            s.set_rsa_padding(Padding::PKCS1).unwrap();
        }
        s.sign_oneshot_to_vec(&input).unwrap()
    };
    // The cheapest raw verification OpenSSL offers for each key type: for RSA, SHA-256 with
    // the low-level hasher and `EVP_PKEY_verify` of the digest on a context prepared once
    // (padding and digest set; decision 0014: as cheap as the `RSA_public_decrypt` +
    // `DigestInfo` comparison `crypto::verify` makes, and cheaper than a per-call
    // `EVP_DigestVerify*`); `ECDSA_do_verify` on the EC key (with the signature already
    // decoded) for ECDSA, the call `idforge_jose::crypto::verify` itself makes.
    let raw_rsa_ctx = rsa.then(|| {
        let mut ctx = openssl::pkey_ctx::PkeyCtx::new(&raw).unwrap();
        ctx.verify_init().unwrap();
        ctx.set_rsa_padding(Padding::PKCS1).unwrap();
        ctx.set_signature_md(openssl::md::Md::sha256()).unwrap();
        std::cell::RefCell::new(ctx)
    });
    let raw_ec = (!rsa).then(|| {
        (
            raw.ec_key().unwrap(),
            openssl::ecdsa::EcdsaSig::from_der(&raw_sig).unwrap(),
        )
    });
    let raw_verifier = || match &raw_ec {
        Some((ec, sig)) => sig.verify(&openssl::sha::sha256(&input), ec).unwrap(),
        None => raw_rsa_ctx
            .as_ref()
            .unwrap()
            .borrow_mut()
            .verify(&openssl::sha::sha256(&input), &raw_sig)
            .unwrap(),
    };
    let mut group = c.benchmark_group(name);
    group.bench_function("raw sign (OpenSSL)", |b| b.iter(raw_signer));
    group.bench_function("idforge jws sign_compact", |b| {
        b.iter(|| {
            black_box(
                sign_compact(Header::new().with_typ("JWT"), black_box(CLAIMS), &signer).unwrap(),
            )
        })
    });
    group.bench_function("raw verify (OpenSSL)", |b| {
        b.iter(|| black_box(raw_verifier()))
    });
    group.bench_function("idforge jws verify_compact", |b| {
        b.iter(|| black_box(policy.verify_compact(black_box(&token), &public).unwrap()))
    });
    group.finish();

    // The same four operations, interleaved, for a load-independent ratio.
    ratio::interleaved(
        &format!("{name} sign"),
        300,
        || {
            black_box(sign_compact(Header::new().with_typ("JWT"), CLAIMS, &signer).unwrap());
        },
        || {
            raw_signer();
        },
    );
    ratio::interleaved(
        &format!("{name} verify"),
        300,
        || {
            black_box(policy.verify_compact(&token, &public).unwrap());
        },
        || {
            black_box(raw_verifier());
        },
    );
}

fn benches(c: &mut Criterion) {
    let (raw, key) = ec_key();
    bench_alg(c, "ES256", JwsAlgorithm::ES256, raw, key, false);
    let (raw, key) = rsa_key();
    bench_alg(c, "RS256", JwsAlgorithm::RS256, raw, key, true);
}

criterion_group!(jws, benches);
criterion_main!(jws);
