//! RFC 7516 Appendix A.1–A.3 and B, and RFC 7518 Appendix C, transcribed from the RFC text.
//! (RFC 7516 Appendix C is the acknowledgements section: it has no test data.)
#![allow(clippy::unwrap_used)]

use idforge_jose::{b64, Header, Key, KeySet};
use idforge_jwe::{
    ecdh, ContentEncryption, Encryptor, Error, JwePolicy, KeyManagementAlgorithm, Recipient,
};

/// RFC 7516 Appendix A.1.3: the RSA key.
const A1_KEY: &str = r#"{"kty":"RSA",
 "n":"oahUIoWw0K0usKNuOR6H4wkf4oBUXHTxRvgb48E-BVvxkeDNjbC4he8rUWcJoZmds2h7M70imEVhRU5djINXtqllXI4DFqcI1DgjT9LewND8MW2Krf3Spsk_ZkoFnilakGygTwpZ3uesH-PFABNIUYpOiN15dsQRkgr0vEhxN92i2asbOenSZeyaxziK72UwxrrKoExv6kc5twXTq4h-QChLOln0_mtUZwfsRaMStPs6mS6XrgxnxbWhojf663tuEQueGC-FCMfra36C9knDFGzKsNa7LZK2djYgyD3JR_MB_4NUJW_TqOQtwHYbxevoJArm-L5StowjzGy-_bq6Gw",
 "e":"AQAB",
 "d":"kLdtIj6GbDks_ApCSTYQtelcNttlKiOyPzMrXHeI-yk1F7-kpDxY4-WY5NWV5KntaEeXS1j82E375xxhWMHXyvjYecPT9fpwR_M9gV8n9Hrh2anTpTD93Dt62ypW3yDsJzBnTnrYu1iwWRgBKrEYY46qAZIrA2xAwnm2X7uGR1hghkqDp0Vqj3kbSCz1XyfCs6_LehBwtxHIyh8Ripy40p24moOAbgxVw3rxT_vlt3UVe4WO3JkJOzlpUf-KTVI2Ptgm-dARxTEtE-id-4OJr0h-K-VFs3VSndVTIznSxfyrj8ILL6MG_Uv8YAu7VILSB3lOW085-4qE3DzgrTjgyQ",
 "p":"1r52Xk46c-LsfB5P442p7atdPUrxQSy4mti_tZI3Mgf2EuFVbUoDBvaRQ-SWxkbkmoEzL7JXroSBjSrK3YIQgYdMgyAEPTPjXv_hI2_1eTSPVZfzL0lffNn03IXqWF5MDFuoUYE0hzb2vhrlN_rKrbfDIwUbTrjjgieRbwC6Cl0",
 "q":"wLb35x7hmQWZsWJmB_vle87ihgZ19S8lBEROLIsZG4ayZVe9Hi9gDVCOBmUDdaDYVTSNx_8Fyw1YYa9XGrGnDew00J28cRUoeBB_jKI1oma0Orv1T9aXIWxKwd4gvxFImOWr3QRL9KEBRzk2RatUBnmDZJTIAfwTs0g68UZHvtc",
 "dp":"ZK-YwE7diUh0qR1tR7w8WHtolDx3MZ_OTowiFvgfeQ3SiresXjm9gZ5KLhMXvo-uz-KUJWDxS5pFQ_M0evdo1dKiRTjVw_x4NyqyXPM5nULPkcpU827rnpZzAJKpdhWAgqrXGKAECQH0Xt4taznjnd_zVpAmZZq60WPMBMfKcuE",
 "dq":"Dq0gfgJ1DdFGXiLvQEZnuKEN0UUmsJBxkjydc3j4ZYdBiMRAy86x0vHCjywcMlYYg4yoC4YZa9hNVcsjqA3FeiL19rk8g6Qn29Tt0cj8qqyFpz9vNDBUfCAiJVeESOjJDZPYHdHY8v1b-o-Z2X5tvLx-TCekf7oxyeKDUqKWjis",
 "qi":"VIMpMYbPf47dT1w_zDUXfPimsSegnMOA1zTaX7aGk_8urY6R8-ZW1FxU7AlWAyLWybqq6t16VFd7hQd0y6flUK4SlOydB61gwanOsXGOAOv82cHq0E3eL4HrtZkUuKvnPrMnsUUFlfUdybVzxyjz9JF_XyaY14ardLSjf4L_FNY"}"#;

/// RFC 7516 Appendix A.1.7: the complete compact JWE.
const A1_JWE: &str = concat!(
    "eyJhbGciOiJSU0EtT0FFUCIsImVuYyI6IkEyNTZHQ00ifQ.",
    "OKOawDo13gRp2ojaHV7LFpZcgV7T6DVZKTyKOMTYUmKoTCVJRgckCL9kiMT03JGe",
    "ipsEdY3mx_etLbbWSrFr05kLzcSr4qKAq7YN7e9jwQRb23nfa6c9d-StnImGyFDb",
    "Sv04uVuxIp5Zms1gNxKKK2Da14B8S4rzVRltdYwam_lDp5XnZAYpQdb76FdIKLaV",
    "mqgfwX7XWRxv2322i-vDxRfqNzo_tETKzpVLzfiwQyeyPGLBIO56YJ7eObdv0je8",
    "1860ppamavo35UgoRdbYaBcoh9QcfylQr66oc6vFWXRcZ_ZT2LawVCWTIy3brGPi",
    "6UklfCpIMfIjf7iGdXKHzg.",
    "48V1_ALb6US04U3b.",
    "5eym8TW_c8SuK0ltJ3rpYIzOeDQz7TALvtu6UG9oMo4vpzs9tX_EFShS8iB7j6ji",
    "SdiwkIr3ajwQzaBtQD_A.",
    "XFBoMYUZodetZdvTiFvSkQ"
);

/// RFC 7516 Appendix A.1.2: the CEK.
const A1_CEK: [u8; 32] = [
    177, 161, 244, 128, 84, 143, 225, 115, 63, 180, 3, 255, 107, 154, 212, 246, 138, 7, 110, 91,
    112, 46, 34, 105, 47, 130, 203, 46, 122, 234, 64, 252,
];

const A1_PLAINTEXT: &[u8] = b"The true sign of intelligence is not knowledge but imagination.";

#[test]
fn rfc7516_a1_rsa_oaep_a256gcm() {
    let key = Key::from_json(A1_KEY).unwrap();
    let policy = JwePolicy::new(
        [KeyManagementAlgorithm::RsaOaep],
        [ContentEncryption::A256Gcm],
    );
    let d = policy
        .decrypt_compact(A1_JWE, &KeySet::new(vec![key.clone()]))
        .unwrap();
    assert_eq!(d.plaintext, A1_PLAINTEXT);
    assert_eq!(
        (d.alg, d.enc),
        (KeyManagementAlgorithm::RsaOaep, ContentEncryption::A256Gcm)
    );

    // Re-encrypt with the RFC's CEK and IV: header, IV, ciphertext and tag are identical; the
    // RSA-OAEP encrypted key is randomized but must open with the private key.
    let jwe = Encryptor::new(ContentEncryption::A256Gcm)
        .cek(A1_CEK.to_vec())
        .iv(b64::decode("48V1_ALb6US04U3b", "iv").unwrap())
        .recipient(Recipient::new(
            &key.to_public().unwrap(),
            KeyManagementAlgorithm::RsaOaep,
        ))
        .encrypt(A1_PLAINTEXT)
        .unwrap();
    let ours = jwe.compact().unwrap();
    let theirs: Vec<&str> = A1_JWE.split('.').collect();
    let mine: Vec<&str> = ours.split('.').collect();
    assert_eq!(mine[0], theirs[0]);
    assert_eq!(&mine[2..], &theirs[2..]);
    assert_eq!(
        policy
            .decrypt_compact(&ours, &KeySet::new(vec![key]))
            .unwrap()
            .plaintext,
        A1_PLAINTEXT
    );
}

/// RFC 7516 Appendix A.2 uses RSAES-PKCS1-v1_5: its protected header
/// `{"alg":"RSA1_5","enc":"A128CBC-HS256"}` is refused before any key is touched, whatever the
/// caller's allow-list (RSA1_5 is not representable).
#[test]
fn rfc7516_a2_rsa1_5_is_refused() {
    let header = "eyJhbGciOiJSU0ExXzUiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";
    assert_eq!(
        b64::decode(header, "h").unwrap(),
        br#"{"alg":"RSA1_5","enc":"A128CBC-HS256"}"#
    );
    let token = format!("{header}.AAAA.AxY8DCtDaGlsbGljb3RoZQ.KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY.9hH0vgRfYgPnAHOd8stkvw");
    let key = Key::from_json(A1_KEY).unwrap();
    let all = JwePolicy::new(KeyManagementAlgorithm::ALL, ContentEncryption::ALL);
    let err = all
        .decrypt_compact(&token, &KeySet::new(vec![key]))
        .unwrap_err();
    assert_eq!(err.code(), "unsupported_algorithm");
    assert!(KeyManagementAlgorithm::from_name("RSA1_5").is_err());
}

/// RFC 7516 Appendix A.3 (A128KW + A128CBC-HS256).
const A3_KEY: &str = r#"{"kty":"oct","k":"GawgguFyGrWKav7AX4VKUg"}"#;
const A3_JWE: &str = concat!(
    "eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0.",
    "6KB707dM9YTIgHtLvtgWQ8mKwboJW3of9locizkDTHzBC2IlrT1oOQ.",
    "AxY8DCtDaGlsbGljb3RoZQ.",
    "KDlTtXchhZTGufMYmOYGS4HffxPSUrfmqCHXaI9wOGY.",
    "U0m_YmjN04DJvceFICbCVQ"
);
/// RFC 7516 Appendix A.3.2 (also A.2.2 and Appendix B): the CEK.
const A3_CEK: [u8; 32] = [
    4, 211, 31, 197, 84, 157, 252, 254, 11, 100, 157, 250, 63, 170, 106, 206, 107, 124, 212, 45,
    111, 107, 9, 219, 200, 177, 0, 240, 143, 156, 44, 207,
];
const A3_PLAINTEXT: &[u8] = b"Live long and prosper.";

#[test]
fn rfc7516_a3_a128kw_a128cbc_hs256() {
    let key = Key::from_json(A3_KEY).unwrap();
    let policy = JwePolicy::new(
        [KeyManagementAlgorithm::A128Kw],
        [ContentEncryption::A128CbcHs256],
    );
    let d = policy
        .decrypt_compact(A3_JWE, &KeySet::new(vec![key.clone()]))
        .unwrap();
    assert_eq!(d.plaintext, A3_PLAINTEXT);
    // AES key wrap is deterministic: the whole compact JWE is reproduced byte for byte.
    let ours = Encryptor::new(ContentEncryption::A128CbcHs256)
        .cek(A3_CEK.to_vec())
        .iv(b64::decode("AxY8DCtDaGlsbGljb3RoZQ", "iv").unwrap())
        .recipient(Recipient::new(&key, KeyManagementAlgorithm::A128Kw))
        .encrypt(A3_PLAINTEXT)
        .unwrap()
        .compact()
        .unwrap();
    assert_eq!(ours, A3_JWE);
}

/// RFC 7516 Appendix B: the AES_128_CBC_HMAC_SHA_256 computation of A.3 — MAC_KEY/ENC_KEY split,
/// AL = 408 bits as 64-bit big endian, tag = first 16 bytes of the HMAC.
#[test]
fn rfc7516_appendix_b_cbc_hmac() {
    let (mac_key, enc_key) = A3_CEK.split_at(16);
    assert_eq!(
        mac_key,
        [4, 211, 31, 197, 84, 157, 252, 254, 11, 100, 157, 250, 63, 170, 106, 206]
    );
    assert_eq!(
        enc_key,
        [107, 124, 212, 45, 111, 107, 9, 219, 200, 177, 0, 240, 143, 156, 44, 207]
    );
    let aad = b"eyJhbGciOiJBMTI4S1ciLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";
    assert_eq!(
        (aad.len() as u64 * 8).to_be_bytes(),
        [0, 0, 0, 0, 0, 0, 1, 152]
    );
    let iv = [
        3, 22, 60, 12, 43, 67, 104, 105, 108, 108, 105, 99, 111, 116, 104, 101,
    ];
    let (ct, tag) = ContentEncryption::A128CbcHs256
        .encrypt(&A3_CEK, &iv, aad, A3_PLAINTEXT)
        .unwrap();
    assert_eq!(
        ct,
        [
            40, 57, 83, 181, 119, 33, 133, 148, 198, 185, 243, 24, 152, 230, 6, 75, 129, 223, 127,
            19, 210, 82, 183, 230, 168, 33, 215, 104, 143, 112, 56, 102
        ]
    );
    assert_eq!(
        tag,
        [83, 73, 191, 98, 104, 205, 211, 128, 201, 189, 199, 133, 32, 38, 194, 85]
    );
    // The same content under the A.2 header authenticates to A.2's tag.
    let a2_aad = b"eyJhbGciOiJSU0ExXzUiLCJlbmMiOiJBMTI4Q0JDLUhTMjU2In0";
    let (_, a2_tag) = ContentEncryption::A128CbcHs256
        .encrypt(&A3_CEK, &iv, a2_aad, A3_PLAINTEXT)
        .unwrap();
    assert_eq!(b64::encode(a2_tag), "9hH0vgRfYgPnAHOd8stkvw");
    // Decryption with a flipped tag bit fails with the one generic error.
    let mut bad = tag.clone();
    bad[0] ^= 1;
    assert_eq!(
        ContentEncryption::A128CbcHs256.decrypt(&A3_CEK, &iv, aad, &ct, &bad),
        Err(Error::InvalidTag)
    );
}

/// RFC 7518 Appendix C: ECDH-ES key agreement between Alice's ephemeral key and Bob's key with
/// apu "Alice", apv "Bob", for A128GCM.
#[test]
fn rfc7518_appendix_c_ecdh_es() {
    let alice = Key::from_json(r#"{"kty":"EC","crv":"P-256","x":"gI0GAILBdu7T53akrFmMyGcsF3n5dO7MmwNBHKW5SV0","y":"SLW_xSffzlPWrHEVI30DHM_4egVwt3NQqeUD7nMFpps","d":"0_NxaRPUMQoAJt50Gz8YiTr8gRTwyEaCumd-MToTmIo"}"#).unwrap();
    let bob = Key::from_json(r#"{"kty":"EC","crv":"P-256","x":"weNJy2HscCSM6AEDTDg04biOvhFhyyWvOHQfeF_PxMQ","y":"e8lnCO-AlStT-NJVX-crhB7QRYhiix03illJOVAOyck","d":"VEmDZpDXXK8p8N0Cndsxs924q6nS1RXFASRl6BfUqdw"}"#).unwrap();
    let epk = alice.public_jwk().unwrap().to_value();
    let z = ecdh::shared_secret(&bob, &epk).unwrap();
    assert_eq!(
        z,
        [
            158, 86, 217, 29, 129, 113, 53, 211, 114, 131, 66, 131, 191, 132, 38, 156, 251, 49,
            110, 163, 218, 128, 106, 72, 246, 218, 167, 121, 140, 254, 144, 196
        ]
    );
    let cek = ecdh::concat_kdf(&z, "A128GCM", b"Alice", b"Bob", 16);
    assert_eq!(b64::encode(&cek), "VqqN6vgjbSBcIijNcacQGg");

    // The full JWE path with Alice's key injected derives the same CEK: the ciphertext equals
    // a direct A128GCM encryption under "VqqN6vgjbSBcIijNcacQGg".
    let header = Header::new().with("apu", "QWxpY2U").with("apv", "Qm9i");
    let iv = vec![7u8; 12];
    let jwe = Encryptor::new(ContentEncryption::A128Gcm)
        .protected(header)
        .iv(iv.clone())
        .recipient(
            Recipient::new(&bob.to_public().unwrap(), KeyManagementAlgorithm::EcdhEs)
                .ephemeral_key(alice),
        )
        .encrypt(b"hi Bob")
        .unwrap();
    let (ct, tag) = ContentEncryption::A128Gcm
        .encrypt(&cek, &iv, jwe.protected.as_bytes(), b"hi Bob")
        .unwrap();
    assert_eq!((jwe.ciphertext.clone(), jwe.tag.clone()), (ct, tag));
    let policy = JwePolicy::new(
        [KeyManagementAlgorithm::EcdhEs],
        [ContentEncryption::A128Gcm],
    );
    let d = policy
        .decrypt_compact(&jwe.compact().unwrap(), &KeySet::new(vec![bob]))
        .unwrap();
    assert_eq!(d.plaintext, b"hi Bob");
    assert_eq!(
        d.header.get("apu").and_then(|v| v.as_str()),
        Some("QWxpY2U")
    );
}
