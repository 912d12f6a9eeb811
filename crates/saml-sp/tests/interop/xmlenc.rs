//! XML Encryption 1.1 against an independent encryptor/decryptor (`xmlenc_peer.py`, built on
//! Python `cryptography` + lxml): RSA-OAEP with SHA-2 digests and MGF1 hashes (§5.5.2), AES-GCM
//! (§5.2.4) and AES-CBC with non-PKCS#7 padding (§5.2), EncryptedKey inside KeyInfo or beside the
//! EncryptedData (SAML Core §2.2.4), EncryptedAssertion and EncryptedID; and the peer decrypting
//! what our `xmlenc::encrypt_element` produces.

use super::*;

use idforge_jose::crypto::PrivateKey;
use idforge_saml_sp::response::validate_response_decrypting;
use idforge_saml_sp::response::ValidatedResponse;
use idforge_saml_sp::xmlenc::{encrypt_element, ContentAlgorithm};

fn peer_ready(test: &str) -> bool {
    if python_has("cryptography") && python_has("lxml") {
        return true;
    }
    skip(test, "python cryptography/lxml not installed");
    false
}

fn xmlenc_peer(args: &[&str]) -> serde_json::Value {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/interop/xmlenc_peer.py");
    let out = run(Command::new("python3")
        .env("PYTHONPATH", peers_dir().join("python"))
        .env("PYTHONWARNINGS", "ignore")
        .arg(script)
        .args(args));
    serde_json::from_str(out.trim()).unwrap_or_else(|e| panic!("peer output {out:?}: {e}"))
}

/// The peer's content algorithms and the URI each one must put in the message.
const CONTENTS: [(&str, &str); 6] = [
    ("aes128-gcm", "http://www.w3.org/2009/xmlenc11#aes128-gcm"),
    ("aes192-gcm", "http://www.w3.org/2009/xmlenc11#aes192-gcm"),
    ("aes256-gcm", "http://www.w3.org/2009/xmlenc11#aes256-gcm"),
    ("aes128-cbc", "http://www.w3.org/2001/04/xmlenc#aes128-cbc"),
    ("aes192-cbc", "http://www.w3.org/2001/04/xmlenc#aes192-cbc"),
    ("aes256-cbc", "http://www.w3.org/2001/04/xmlenc#aes256-cbc"),
];

/// The peer's key transports (see TRANSPORTS in xmlenc_peer.py) and text each must show.
const TRANSPORTS: [(&str, &[&str]); 8] = [
    (
        "oaep11-sha256-mgf256",
        &[
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\"",
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"",
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"",
        ],
    ),
    (
        "oaep11-sha256",
        &[
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\"",
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"",
        ],
    ),
    (
        "oaep11-sha256-mgf1",
        &[
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\"",
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"",
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha1\"",
        ],
    ),
    (
        "oaep11-sha384-mgf384",
        &[
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmldsig-more#sha384\"",
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha384\"",
        ],
    ),
    (
        "oaep11-sha512-mgf512",
        &[
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha512\"",
            "Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha512\"",
        ],
    ),
    (
        "oaep11-default",
        &["Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\""],
    ),
    (
        "mgf1p-sha256",
        &[
            "Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"",
            "DigestMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"",
        ],
    ),
    (
        "mgf1p",
        &["Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\""],
    ),
];

/// Serialization variants of the peer (see FLAGS in xmlenc_peer.py): line-wrapped base64,
/// indented encrypted structure, plaintext relying on the namespace context.
const FLAGS: [&str; 4] = ["", "wrap", "pretty,bare", "wrap,pretty,bare"];

fn decrypt_validate(xml: &str, keys: &[PrivateKey]) -> idforge_saml_sp::Result<ValidatedResponse> {
    validate_response_decrypting(
        xml.as_bytes(),
        &sp(),
        &idp().trusted().expect("trusted"),
        keys,
        &RequestCheck::Exact("_req1".into()),
        now(),
    )
}

/// Swaps one base64 character inside the `<xenc:CipherValue>` starting at `at`.
fn flip_cipher_value_at(xml: &str, at: usize) -> String {
    let pos = at + "<xenc:CipherValue>".len() + 10;
    let to = if xml.as_bytes()[pos] == b'A' {
        "B"
    } else {
        "A"
    };
    format!("{}{to}{}", &xml[..pos], &xml[pos + 1..])
}

/// The wrapped content key: the CipherValue of the EncryptedKey.
fn flip_wrapped_key(xml: &str) -> String {
    let ek = xml.find("<xenc:EncryptedKey").expect("EncryptedKey");
    flip_cipher_value_at(xml, ek + xml[ek..].find("<xenc:CipherValue>").expect("cv"))
}

/// The content ciphertext: the last CipherValue inside EncryptedData.
fn flip_ciphertext(xml: &str) -> String {
    let end = xml.find("</xenc:EncryptedData>").expect("EncryptedData");
    flip_cipher_value_at(xml, xml[..end].rfind("<xenc:CipherValue>").expect("cv"))
}

/// The peer encrypts our signed assertion with every content algorithm and key transport (the
/// EncryptedKey alternately in KeyInfo and beside the EncryptedData); we decrypt and validate.
#[test]
fn python_xmlenc11_encrypted_assertions_decrypt() {
    const TEST: &str = "python_xmlenc11_encrypted_assertions_decrypt";
    if !peer_ready(TEST) {
        return;
    }
    let sp_keys = TestIdp::generate_rsa(SP).expect("sp key");
    let t = Tmp::new("xmlenc11");
    let sp_cert = t.write("sp-cert.pem", sp_keys.certificate_pem());
    let out = t.0.join("enc.xml").display().to_string();
    let mut cases = 0;
    let mut cbc_random_padding = 0;
    for (i, (content, content_uri)) in CONTENTS.iter().enumerate() {
        for (j, (transport, shows)) in TRANSPORTS.iter().enumerate() {
            let keyplace = if (i + j) % 2 == 0 {
                "keyinfo"
            } else {
                "sibling"
            };
            let flags = FLAGS[(i + j / 2) % FLAGS.len()];
            // Every third case the Response is also signed, over the encrypted form.
            let sign_response = (i + j) % 3 == 0;
            let s = ResponseSpec::new(&sp(), Some("_req1"), now());
            let signed = idp().signed_response(&s, true, false).expect("sign");
            let input = t.write("resp.xml", &signed);
            let info = xmlenc_peer(&[
                "encrypt",
                &input,
                &out,
                &sp_cert,
                "assertion",
                content,
                transport,
                keyplace,
                flags,
            ]);
            let mut enc = t.read("enc.xml");
            assert!(!enc.contains("alice@example.com"), "{content} {transport}");
            assert!(enc.contains(&format!("Algorithm=\"{content_uri}\"")));
            for s in *shows {
                assert!(enc.contains(s), "{transport}: {s} missing in\n{enc}");
            }
            assert_eq!(
                enc.contains("<ds:RetrievalMethod"),
                keyplace == "sibling",
                "{keyplace}"
            );
            if sign_response {
                enc = idp().sign(&enc, &s.response_id).expect("sign response");
            }
            let v =
                decrypt_validate(&enc, std::slice::from_ref(&sp_keys.key)).unwrap_or_else(|e| {
                    panic!("peer {content} {transport} {keyplace} [{flags}]: {e}\n{enc}")
                });
            let a = v.assertion;
            assert!(a.signed.assertion);
            assert_eq!(a.signed.response, sign_response);
            assert_eq!(a.id, s.assertion_id);
            assert_eq!(
                a.name_id.as_ref().map(|n| n.value.as_str()),
                Some("alice@example.com")
            );
            assert_eq!(a.session_index.as_deref(), Some(s.session_index.as_str()));
            let pad = info["pad"].as_u64().expect("pad");
            if content.ends_with("cbc") {
                assert!((1..=16).contains(&pad));
                if pad > 1 {
                    // N-1 random octets before N: PKCS#7 unpadding would have refused this.
                    cbc_random_padding += 1;
                }
            } else {
                assert_eq!(pad, 0);
            }
            // Another SP key does not open it.
            if j == 0 {
                let other = TestIdp::generate_rsa(SP).expect("other key");
                assert!(matches!(
                    decrypt_validate(&enc, std::slice::from_ref(&other.key)),
                    Err(Error::DecryptionFailed)
                ));
                // A flipped octet in the wrapped key: OAEP decoding fails.
                let bad = flip_wrapped_key(&enc);
                let r = decrypt_validate(&bad, std::slice::from_ref(&sp_keys.key));
                if sign_response {
                    assert!(matches!(r, Err(Error::SignatureInvalid(_))), "{r:?}");
                } else {
                    assert!(matches!(r, Err(Error::DecryptionFailed)), "{r:?}");
                }
            }
            if content.ends_with("gcm") && !sign_response {
                // A flipped octet in the GCM ciphertext: the tag check fails.
                let bad = flip_ciphertext(&enc);
                assert!(matches!(
                    decrypt_validate(&bad, std::slice::from_ref(&sp_keys.key)),
                    Err(Error::DecryptionFailed)
                ));
            }
            cases += 1;
        }
    }
    assert!(
        cbc_random_padding > 0,
        "no AES-CBC case had padding longer than one octet"
    );
    // RSA PKCS#1 v1.5 key transport from the peer is refused before any RSA operation.
    let s = ResponseSpec::new(&sp(), Some("_req1"), now());
    let input = t.write(
        "resp.xml",
        idp().signed_response(&s, true, false).expect("sign"),
    );
    xmlenc_peer(&[
        "encrypt",
        &input,
        &out,
        &sp_cert,
        "assertion",
        "aes256-gcm",
        "rsa-1_5",
        "keyinfo",
    ]);
    assert!(matches!(
        decrypt_validate(&t.read("enc.xml"), std::slice::from_ref(&sp_keys.key)),
        Err(Error::Unsupported(_))
    ));
    println!(
        "xmlenc peer: {cases} encrypted assertions decrypted and validated \
         ({cbc_random_padding} AES-CBC with random XML Enc padding)"
    );
}

/// The peer encrypts the Subject's NameID into an EncryptedID (SAML Core §2.2.4) before we sign
/// the assertion, then (in half the cases) encrypts the whole assertion too.
#[test]
fn python_xmlenc11_encrypted_ids_decrypt() {
    const TEST: &str = "python_xmlenc11_encrypted_ids_decrypt";
    if !peer_ready(TEST) {
        return;
    }
    let sp_keys = TestIdp::generate_rsa(SP).expect("sp key");
    let t = Tmp::new("xmlenc11-id");
    let sp_cert = t.write("sp-cert.pem", sp_keys.certificate_pem());
    let mut cases = 0;
    for (content, transport, keyplace, flags, encrypt_assertion) in [
        ("aes128-gcm", "oaep11-sha256-mgf256", "keyinfo", "", false),
        ("aes256-cbc", "oaep11-sha256", "sibling", "bare,wrap", false),
        ("aes256-gcm", "mgf1p-sha256", "sibling", "pretty", true),
        (
            "aes128-cbc",
            "oaep11-sha512-mgf512",
            "keyinfo",
            "bare,pretty,wrap",
            true,
        ),
    ] {
        let s = ResponseSpec::new(&sp(), Some("_req1"), now());
        let input = t.write("resp.xml", s.to_xml(IDP));
        let out = t.0.join("id.xml").display().to_string();
        xmlenc_peer(&[
            "encrypt", &input, &out, &sp_cert, "nameid", content, transport, keyplace, flags,
        ]);
        let with_id = t.read("id.xml");
        assert!(with_id.contains("<saml:EncryptedID>"));
        assert!(!with_id.contains(">alice@example.com</saml:NameID>"));
        let mut xml = idp().sign(&with_id, &s.assertion_id).expect("sign");
        if encrypt_assertion {
            let input = t.write("signed.xml", &xml);
            let out = t.0.join("enc.xml").display().to_string();
            xmlenc_peer(&[
                "encrypt",
                &input,
                &out,
                &sp_cert,
                "assertion",
                "aes256-gcm",
                "oaep11-sha256-mgf256",
                "keyinfo",
            ]);
            xml = t.read("enc.xml");
            assert!(xml.contains("<saml:EncryptedAssertion>"));
        } else {
            // Signed but with an encrypted NameID: no key, no NameID.
            assert!(matches!(
                validate_with(&xml, idp()),
                Err(Error::Unsupported(_))
            ));
        }
        let v = decrypt_validate(&xml, std::slice::from_ref(&sp_keys.key)).unwrap_or_else(|e| {
            panic!("EncryptedID {content} {transport} {keyplace} [{flags}]: {e}\n{xml}")
        });
        let n = v.assertion.name_id.expect("decrypted name id");
        assert_eq!(n.value, "alice@example.com");
        assert_eq!(
            n.format.as_deref(),
            Some("urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress")
        );
        assert!(v.assertion.signed.assertion);
        // What the peer decrypts is what we read.
        let f = t.write("final.xml", &xml);
        let key = t.write(
            "sp-key.pem",
            crypto::private_key_to_pem(&sp_keys.key).expect("pem"),
        );
        let peer = xmlenc_peer(&["decrypt", &f, &key]);
        assert_eq!(peer["name_id_encrypted"], true);
        assert_eq!(peer["name_id"], "alice@example.com");
        cases += 1;
    }
    println!("xmlenc peer: {cases} EncryptedIDs decrypted");
}

/// The other direction: our encryptor (`TestIdp::encrypted_response` / `encrypt_element`), the
/// peer decrypts (parsing the plaintext in context, XML Enc 1.1 §4.5) and verifies the assertion
/// signature with signxml.
#[test]
fn python_xmlenc_decrypts_ours() {
    const TEST: &str = "python_xmlenc_decrypts_ours";
    if !python_has("signxml") {
        return skip(TEST, "python signxml not installed");
    }
    if !peer_ready(TEST) {
        return;
    }
    let sp_keys = TestIdp::generate_rsa(SP).expect("sp key");
    let public = sp_keys.key.public_key().expect("public");
    let t = Tmp::new("xmlenc-ours");
    let key = t.write(
        "sp-key.pem",
        crypto::private_key_to_pem(&sp_keys.key).expect("pem"),
    );
    let (_, idp_cert) = write_keys(&t, idp());
    let mut cases = 0;
    let mut standalone = 0;
    for content in [
        ContentAlgorithm::AesGcm(16),
        ContentAlgorithm::AesGcm(24),
        ContentAlgorithm::AesGcm(32),
        ContentAlgorithm::AesCbc(16),
        ContentAlgorithm::AesCbc(24),
        ContentAlgorithm::AesCbc(32),
    ] {
        for oaep_sha256 in [false, true] {
            let s = ResponseSpec::new(&sp(), Some("_req1"), now());
            let xml = idp()
                .encrypted_response(&s, &public, content, oaep_sha256, true, false)
                .expect("encrypt");
            let f = t.write("ours.xml", &xml);
            let v = xmlenc_peer(&["decrypt", &f, &key, &idp_cert]);
            assert_eq!(v["assertion_encrypted"], true);
            assert_eq!(v["assertion"]["content"], content.uri());
            let (transport, digest, mgf) = if oaep_sha256 {
                (
                    "http://www.w3.org/2009/xmlenc11#rsa-oaep",
                    "http://www.w3.org/2001/04/xmlenc#sha256",
                    "http://www.w3.org/2009/xmlenc11#mgf1sha256",
                )
            } else {
                (
                    "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p",
                    "http://www.w3.org/2000/09/xmldsig#sha1",
                    "http://www.w3.org/2009/xmlenc11#mgf1sha1",
                )
            };
            assert_eq!(v["assertion"]["transport"], transport);
            assert_eq!(v["assertion"]["digest"], digest);
            assert_eq!(v["assertion"]["mgf"], mgf);
            assert_eq!(v["assertion_id"], s.assertion_id.as_str());
            assert_eq!(v["name_id"], "alice@example.com");
            assert_eq!(v["signature_verified"], true);
            if v["assertion"]["standalone"] == true {
                standalone += 1;
            }
            cases += 1;
        }
    }
    // An EncryptedID made with our encrypt_element (the NameID declares its namespace).
    let s = ResponseSpec::new(&sp(), Some("_req1"), now());
    let xml = s.to_xml(IDP);
    let name_id = format!(
        "<saml:NameID Format=\"{}\">{}</saml:NameID>",
        s.name_id_format, s.name_id
    );
    let plain = name_id.replacen(
        "<saml:NameID ",
        "<saml:NameID xmlns:saml=\"urn:oasis:names:tc:SAML:2.0:assertion\" ",
        1,
    );
    let enc = encrypt_element(&plain, &public, ContentAlgorithm::AesGcm(32), true).expect("enc");
    let xml = xml.replacen(
        &name_id,
        &format!("<saml:EncryptedID>{enc}</saml:EncryptedID>"),
        1,
    );
    let xml = idp().sign(&xml, &s.assertion_id).expect("sign");
    let f = t.write("ours-id.xml", &xml);
    let v = xmlenc_peer(&["decrypt", &f, &key, &idp_cert]);
    assert_eq!(v["name_id_encrypted"], true);
    assert_eq!(v["name_id"], "alice@example.com");
    assert_eq!(v["signature_verified"], true);
    // And we read our own EncryptedID too.
    let ours = decrypt_validate(&xml, std::slice::from_ref(&sp_keys.key)).expect("ours");
    assert_eq!(
        ours.assertion.name_id.expect("nid").value,
        "alice@example.com"
    );
    println!(
        "xmlenc peer: decrypted {cases} of our encrypted assertions ({standalone} were \
         namespace-self-contained; the rest needed the Response's namespace context) + 1 EncryptedID"
    );
}
