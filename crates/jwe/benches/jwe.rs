//! JWE encrypt+decrypt of a 1 KiB ID token, each beside the raw primitives it wraps, timed in
//! the same run so the report reads as a ratio (target ≤ 1.15×).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idforge_jose::crypto::{self, EcCurve, HashAlg};
use idforge_jose::{Header, Key, KeySet, KeySpec};
use idforge_jwe::{
    ecdh, encrypt_compact, ContentEncryption as E, JwePolicy, KeyManagementAlgorithm as A,
};

fn id_token() -> Vec<u8> {
    // A signed ID token is base64url text; 1 KiB of it.
    b"eyJhbGciOiJFUzI1NiJ9."
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect()
}

/// RSA-OAEP-256 + A256GCM done directly: random CEK and IV, OAEP encrypt, GCM seal, OAEP
/// decrypt, GCM open.
fn raw_rsa(public: &Key, private: &Key, pt: &[u8]) {
    let (pk, sk) = (public.public_key().unwrap(), private.private_key().unwrap());
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 12];
    crypto::random_bytes(&mut cek).unwrap();
    crypto::random_bytes(&mut iv).unwrap();
    let ek = crypto::rsa_oaep_encrypt(pk, HashAlg::Sha256, &cek).unwrap();
    let (ct, tag) = crypto::aes_gcm_encrypt(&cek, &iv, b"hdr", pt).unwrap();
    let cek2 = crypto::rsa_oaep_decrypt(sk, HashAlg::Sha256, &ek).unwrap();
    black_box(crypto::aes_gcm_decrypt(&cek2, &iv, b"hdr", &ct, &tag).unwrap());
}

/// ECDH-ES+A256KW + A192CBC-HS384 done directly: ephemeral key generation, ECDH, Concat KDF,
/// AES key wrap, AES-CBC, HMAC on the sender side; epk point validation, ECDH, KDF, unwrap,
/// HMAC check and AES-CBC on the recipient side.
fn raw_ecdh(public: &Key, private: &Key, pt: &[u8]) {
    let (pk, sk) = (public.public_key().unwrap(), private.private_key().unwrap());
    let eph = crypto::ephemeral_like(pk).unwrap();
    let z = crypto::ecdh(&eph, pk).unwrap();
    let kek = ecdh::concat_kdf(&z, "ECDH-ES+A256KW", b"", b"", 32);
    let mut cek = [0u8; 48];
    let mut iv = [0u8; 16];
    crypto::random_bytes(&mut cek).unwrap();
    crypto::random_bytes(&mut iv).unwrap();
    let ek = crypto::aes_key_wrap(&kek, &cek).unwrap();
    let ct = crypto::aes_cbc_encrypt(&cek[24..], &iv, pt).unwrap();
    let mut mac_in = Vec::with_capacity(ct.len() + 64);
    mac_in.extend_from_slice(b"hdr");
    mac_in.extend_from_slice(&iv);
    mac_in.extend_from_slice(&ct);
    let tag = crypto::hmac(HashAlg::Sha384, &cek[..24], &mac_in).unwrap();
    let (x, y) = crypto::ec_coordinates(&eph.public_key().unwrap(), EcCurve::P256).unwrap();
    let epk = crypto::ec_public(EcCurve::P256, &x, &y).unwrap();
    let z2 = crypto::ecdh(sk, &epk).unwrap();
    let kek2 = ecdh::concat_kdf(&z2, "ECDH-ES+A256KW", b"", b"", 32);
    let cek2 = crypto::aes_key_unwrap(&kek2, &ek).unwrap();
    let tag2 = crypto::hmac(HashAlg::Sha384, &cek2[..24], &mac_in).unwrap();
    assert!(crypto::ct_eq(&tag[..24], &tag2[..24]));
    black_box(crypto::aes_cbc_decrypt(&cek2[24..], &iv, &ct).unwrap());
}

fn rsa_oaep_256_a256gcm(c: &mut Criterion) {
    let key = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let public = key.to_public().unwrap();
    let keys = KeySet::new(vec![key.clone()]);
    let policy = JwePolicy::new([A::RsaOaep256], [E::A256Gcm]);
    let pt = id_token();
    let mut g = c.benchmark_group("RSA-OAEP-256+A256GCM 1KiB encrypt+decrypt");
    g.bench_function("idforge-jwe", |b| {
        b.iter(|| {
            let t =
                encrypt_compact(&pt, &public, A::RsaOaep256, E::A256Gcm, Header::new()).unwrap();
            black_box(policy.decrypt_compact(&t, &keys).unwrap());
        })
    });
    g.bench_function("raw primitives", |b| b.iter(|| raw_rsa(&public, &key, &pt)));
    g.finish();
}

fn ecdh_es_a256kw_a192cbc_hs384(c: &mut Criterion) {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let public = key.to_public().unwrap();
    let keys = KeySet::new(vec![key.clone()]);
    let policy = JwePolicy::new([A::EcdhEsA256Kw], [E::A192CbcHs384]);
    let pt = id_token();
    let mut g = c.benchmark_group("ECDH-ES+A256KW+A192CBC-HS384 1KiB encrypt+decrypt");
    g.bench_function("idforge-jwe", |b| {
        b.iter(|| {
            let t = encrypt_compact(
                &pt,
                &public,
                A::EcdhEsA256Kw,
                E::A192CbcHs384,
                Header::new(),
            )
            .unwrap();
            black_box(policy.decrypt_compact(&t, &keys).unwrap());
        })
    });
    g.bench_function("raw primitives", |b| {
        b.iter(|| raw_ecdh(&public, &key, &pt))
    });
    g.finish();
}

fn ratios(_: &mut Criterion) {
    let pt = id_token();
    let rsa = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let rsa_pub = rsa.to_public().unwrap();
    let rsa_keys = KeySet::new(vec![rsa.clone()]);
    let rsa_policy = JwePolicy::new([A::RsaOaep256], [E::A256Gcm]);
    interleaved(
        "RSA-OAEP-256+A256GCM",
        400,
        || {
            let t =
                encrypt_compact(&pt, &rsa_pub, A::RsaOaep256, E::A256Gcm, Header::new()).unwrap();
            black_box(rsa_policy.decrypt_compact(&t, &rsa_keys).unwrap());
        },
        || raw_rsa(&rsa_pub, &rsa, &pt),
    );
    let ec = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let ec_pub = ec.to_public().unwrap();
    let ec_keys = KeySet::new(vec![ec.clone()]);
    let ec_policy = JwePolicy::new([A::EcdhEsA256Kw], [E::A192CbcHs384]);
    interleaved(
        "ECDH-ES+A256KW+A192CBC-HS384",
        1000,
        || {
            let t = encrypt_compact(
                &pt,
                &ec_pub,
                A::EcdhEsA256Kw,
                E::A192CbcHs384,
                Header::new(),
            )
            .unwrap();
            black_box(ec_policy.decrypt_compact(&t, &ec_keys).unwrap());
        },
        || raw_ecdh(&ec_pub, &ec, &pt),
    );
}

criterion_group!(
    benches,
    rsa_oaep_256_a256gcm,
    ecdh_es_a256kw_a192cbc_hs384,
    ratios
);
criterion_main!(benches);
