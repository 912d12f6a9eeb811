//! JWE encrypt+decrypt of a 1 KiB ID token, each beside the raw primitives it wraps, timed in
//! the same run so the report reads as a ratio (target ≤ 1.15×).
#![allow(missing_docs, clippy::unwrap_used)]

#[path = "../../../benches/support/ratio.rs"]
mod ratio;
use ratio::interleaved;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use idforge_jose::crypto::EcCurve;
use idforge_jose::{Header, Key, KeyParams, KeySet, KeySpec};
use idforge_jwe::{
    encrypt_compact, ContentEncryption as E, JwePolicy, KeyManagementAlgorithm as A,
};
use openssl::aes::{unwrap_key, wrap_key, AesKey};
use openssl::bn::{BigNum, BigNumContext, BigNumRef};
use openssl::ec::{EcGroup, EcKey, EcPoint, EcPointRef};
use openssl::encrypt::{Decrypter, Encrypter};
use openssl::hash::MessageDigest;
use openssl::nid::Nid;
use openssl::pkey::{PKey, Private, Public};
use openssl::rand::rand_bytes;
use openssl::rsa::{Padding, Rsa};
use openssl::sha::Sha256;
use openssl::sign::Signer;
use openssl::symm::{self, Cipher};

fn id_token() -> Vec<u8> {
    // A signed ID token is base64url text; 1 KiB of it.
    b"eyJhbGciOiJFUzI1NiJ9."
        .iter()
        .copied()
        .cycle()
        .take(1024)
        .collect()
}

/// The raw keys: the same key material loaded into OpenSSL directly, so the raw sequences
/// below never go through idforge's own crypto helpers (issue 19 §1).
struct RawRsa {
    public: PKey<Public>,
    private: PKey<Private>,
}

fn raw_rsa_keys(key: &Key) -> RawRsa {
    let KeyParams::Rsa { n, e, private } = &key.jwk().params else {
        panic!("RSA")
    };
    let [p, q, dp, dq, qi] = private.as_ref().unwrap().crt.clone().unwrap();
    let bn = |b: &[u8]| BigNum::from_slice(b).unwrap();
    let rsa = Rsa::from_private_components(
        bn(n),
        bn(e),
        bn(&private.as_ref().unwrap().d),
        bn(&p),
        bn(&q),
        bn(&dp),
        bn(&dq),
        bn(&qi),
    )
    .unwrap();
    RawRsa {
        public: PKey::from_rsa(Rsa::from_public_components(bn(n), bn(e)).unwrap()).unwrap(),
        private: PKey::from_rsa(rsa).unwrap(),
    }
}

/// RSA-OAEP-256 + A256GCM done directly: random CEK and IV, OAEP encrypt, GCM seal, OAEP
/// decrypt, GCM open.
fn raw_rsa(k: &RawRsa, pt: &[u8]) {
    let mut cek = [0u8; 32];
    let mut iv = [0u8; 12];
    rand_bytes(&mut cek).unwrap();
    rand_bytes(&mut iv).unwrap();
    let mut enc = Encrypter::new(&k.public).unwrap();
    enc.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
    enc.set_rsa_oaep_md(MessageDigest::sha256()).unwrap();
    enc.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    let mut ek = vec![0u8; enc.encrypt_len(&cek).unwrap()];
    let n = enc.encrypt(&cek, &mut ek).unwrap();
    ek.truncate(n);
    let mut tag = [0u8; 16];
    let ct =
        symm::encrypt_aead(Cipher::aes_256_gcm(), &cek, Some(&iv), b"hdr", pt, &mut tag).unwrap();
    let mut dec = Decrypter::new(&k.private).unwrap();
    dec.set_rsa_padding(Padding::PKCS1_OAEP).unwrap();
    dec.set_rsa_oaep_md(MessageDigest::sha256()).unwrap();
    dec.set_rsa_mgf1_md(MessageDigest::sha256()).unwrap();
    let mut cek2 = vec![0u8; dec.decrypt_len(&ek).unwrap()];
    let n = dec.decrypt(&ek, &mut cek2).unwrap();
    cek2.truncate(n);
    black_box(
        symm::decrypt_aead(Cipher::aes_256_gcm(), &cek2, Some(&iv), b"hdr", &ct, &tag).unwrap(),
    );
}

struct RawEc {
    group: EcGroup,
    public: EcKey<Public>,
    private: EcKey<Private>,
}

fn raw_ec_keys(key: &Key) -> RawEc {
    let KeyParams::Ec { x, y, d, .. } = &key.jwk().params else {
        panic!("EC")
    };
    let group = EcGroup::from_curve_name(Nid::X9_62_PRIME256V1).unwrap();
    let (x, y) = (
        BigNum::from_slice(x).unwrap(),
        BigNum::from_slice(y).unwrap(),
    );
    let public = EcKey::from_public_key_affine_coordinates(&group, &x, &y).unwrap();
    let private = EcKey::from_private_components(
        &group,
        &BigNum::from_slice(d.as_ref().unwrap().expose()).unwrap(),
        public.public_key(),
    )
    .unwrap();
    RawEc {
        group,
        public,
        private,
    }
}

/// The x coordinate of `d·Q`: what `ECDH_compute_key` computes (the cheapest correct ECDH
/// OpenSSL offers without EVP).
fn raw_ecdh_z(group: &EcGroup, q: &EcPointRef, d: &BigNumRef, ctx: &mut BigNumContext) -> Vec<u8> {
    let mut shared = EcPoint::new(group).unwrap();
    shared.mul2(group, q, d, ctx).unwrap();
    let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
    shared
        .affine_coordinates(group, &mut x, &mut y, ctx)
        .unwrap();
    x.to_vec_padded(32).unwrap()
}

/// Concat KDF for one SHA-256 block (RFC 7518 §4.6.2: `ECDH-ES+A256KW`, no apu/apv).
fn raw_kdf(z: &[u8]) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(&1u32.to_be_bytes());
    h.update(z);
    h.update(&14u32.to_be_bytes());
    h.update(b"ECDH-ES+A256KW");
    h.update(&[0u8; 8]);
    h.update(&256u32.to_be_bytes());
    h.finish()
}

fn raw_hmac384(key: &[u8], data: &[u8]) -> Vec<u8> {
    let pkey = PKey::hmac(key).unwrap();
    let mut s = Signer::new(MessageDigest::sha384(), &pkey).unwrap();
    s.sign_oneshot_to_vec(data).unwrap()
}

/// ECDH-ES+A256KW + A192CBC-HS384 done directly on OpenSSL: ephemeral key generation (its
/// public point taken from the key), ECDH, Concat KDF, AES key wrap, AES-CBC, HMAC on the
/// sender side; epk point validation, ECDH, KDF, unwrap, HMAC check and AES-CBC on the
/// recipient side.
fn raw_ecdh(k: &RawEc, pt: &[u8]) {
    let g = &k.group;
    let mut ctx = BigNumContext::new().unwrap();
    let eph = EcKey::generate(g).unwrap();
    let z = raw_ecdh_z(g, k.public.public_key(), eph.private_key(), &mut ctx);
    let kek = raw_kdf(&z);
    let mut cek = [0u8; 48];
    let mut iv = [0u8; 16];
    rand_bytes(&mut cek).unwrap();
    rand_bytes(&mut iv).unwrap();
    let mut ek = [0u8; 56];
    wrap_key(&AesKey::new_encrypt(&kek).unwrap(), None, &mut ek, &cek).unwrap();
    let ct = symm::encrypt(Cipher::aes_192_cbc(), &cek[24..], Some(&iv), pt).unwrap();
    let mut mac_in = Vec::with_capacity(ct.len() + 64);
    mac_in.extend_from_slice(b"hdr");
    mac_in.extend_from_slice(&iv);
    mac_in.extend_from_slice(&ct);
    let tag = raw_hmac384(&cek[..24], &mac_in);
    let (mut x, mut y) = (BigNum::new().unwrap(), BigNum::new().unwrap());
    eph.public_key()
        .affine_coordinates(g, &mut x, &mut y, &mut ctx)
        .unwrap();
    // The recipient: the epk's point, checked to be on the curve.
    let mut epk = EcPoint::new(g).unwrap();
    epk.set_affine_coordinates_gfp(g, &x, &y, &mut ctx).unwrap();
    let z2 = raw_ecdh_z(g, &epk, k.private.private_key(), &mut ctx);
    let kek2 = raw_kdf(&z2);
    let mut cek2 = [0u8; 48];
    unwrap_key(&AesKey::new_decrypt(&kek2).unwrap(), None, &mut cek2, &ek).unwrap();
    let tag2 = raw_hmac384(&cek2[..24], &mac_in);
    assert!(openssl::memcmp::eq(&tag[..24], &tag2[..24]));
    black_box(symm::decrypt(Cipher::aes_192_cbc(), &cek2[24..], Some(&iv), &ct).unwrap());
}

fn rsa_oaep_256_a256gcm(c: &mut Criterion) {
    let key = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let raw = raw_rsa_keys(&key);
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
    g.bench_function("raw primitives", |b| b.iter(|| raw_rsa(&raw, &pt)));
    g.finish();
}

fn ecdh_es_a256kw_a192cbc_hs384(c: &mut Criterion) {
    let key = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let raw = raw_ec_keys(&key);
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
    g.bench_function("raw primitives", |b| b.iter(|| raw_ecdh(&raw, &pt)));
    g.finish();
}

fn ratios(_: &mut Criterion) {
    let pt = id_token();
    // The raw KDF is the Concat KDF idforge computes.
    assert_eq!(
        raw_kdf(&[7u8; 32]).to_vec(),
        idforge_jwe::ecdh::concat_kdf(&[7u8; 32], "ECDH-ES+A256KW", b"", b"", 32)
    );
    let rsa = Key::generate(KeySpec::Rsa(2048)).unwrap();
    let rsa_raw = raw_rsa_keys(&rsa);
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
        || raw_rsa(&rsa_raw, &pt),
    );
    let ec = Key::generate(KeySpec::Ec(EcCurve::P256)).unwrap();
    let ec_raw = raw_ec_keys(&ec);
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
        || raw_ecdh(&ec_raw, &pt),
    );
}

criterion_group!(
    benches,
    rsa_oaep_256_a256gcm,
    ecdh_es_a256kw_a192cbc_hs384,
    ratios
);
criterion_main!(benches);
