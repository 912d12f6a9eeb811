//! XML Encryption 1.1 (W3C REC xmlenc-core1) decryption for `EncryptedAssertion`, `EncryptedID`
//! and `EncryptedAttribute` (SAML Core §2.2.4, §2.3.4, §2.7.3.2): the content key is RSA-OAEP
//! (`rsa-oaep-mgf1p`, or `xmlenc11#rsa-oaep` with SHA-1/SHA-2 digests and MGF1 hashes) under one
//! of the SP's decryption keys (several during rollover); the content is AES-GCM or AES-CBC.
//! RSA PKCS#1 v1.5 key transport is refused (Bleichenbacher; "How to break XML Encryption",
//! CCS 2011), and every failure after parsing is the same opaque `DecryptionFailed`.

use crate::xml::Node;
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;
use idforge_jose::crypto::{self, HashAlg, PrivateKey, PublicKey};

use crate::error::{Error, Result};
use crate::xml::{self, child_elements, is, NS_DSIG, NS_XENC};

/// XML Encryption 1.1 namespace.
pub const NS_XENC11: &str = "http://www.w3.org/2009/xmlenc11#";
const TYPE_ELEMENT: &str = "http://www.w3.org/2001/04/xmlenc#Element";

/// Content encryption algorithms (XML Encryption 1.1 §5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ContentAlgorithm {
    /// AES-CBC with a 128/192/256-bit key (§5.2.2).
    AesCbc(usize),
    /// AES-GCM with a 128/192/256-bit key (§5.2.4).
    AesGcm(usize),
}

impl ContentAlgorithm {
    /// The algorithm for a URI.
    pub fn from_uri(uri: &str) -> Option<Self> {
        Some(match uri {
            "http://www.w3.org/2001/04/xmlenc#aes128-cbc" => Self::AesCbc(16),
            "http://www.w3.org/2001/04/xmlenc#aes192-cbc" => Self::AesCbc(24),
            "http://www.w3.org/2001/04/xmlenc#aes256-cbc" => Self::AesCbc(32),
            "http://www.w3.org/2009/xmlenc11#aes128-gcm" => Self::AesGcm(16),
            "http://www.w3.org/2009/xmlenc11#aes192-gcm" => Self::AesGcm(24),
            "http://www.w3.org/2009/xmlenc11#aes256-gcm" => Self::AesGcm(32),
            _ => return None,
        })
    }

    /// The URI.
    pub fn uri(self) -> &'static str {
        match self {
            Self::AesCbc(24) => "http://www.w3.org/2001/04/xmlenc#aes192-cbc",
            Self::AesCbc(32) => "http://www.w3.org/2001/04/xmlenc#aes256-cbc",
            Self::AesCbc(_) => "http://www.w3.org/2001/04/xmlenc#aes128-cbc",
            Self::AesGcm(24) => "http://www.w3.org/2009/xmlenc11#aes192-gcm",
            Self::AesGcm(32) => "http://www.w3.org/2009/xmlenc11#aes256-gcm",
            Self::AesGcm(_) => "http://www.w3.org/2009/xmlenc11#aes128-gcm",
        }
    }

    fn key_len(self) -> usize {
        match self {
            Self::AesCbc(n) | Self::AesGcm(n) => n,
        }
    }
}

/// RSA-OAEP key transport parameters (XML Encryption 1.1 §5.5.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OaepParams {
    /// The OAEP digest (`ds:DigestMethod`, default SHA-1).
    pub digest: HashAlg,
    /// The MGF1 hash (`xenc11:MGF`, default SHA-1; always SHA-1 for `rsa-oaep-mgf1p`).
    pub mgf1: HashAlg,
}

fn hash_from_uri(uri: &str) -> Option<HashAlg> {
    Some(match uri {
        "http://www.w3.org/2000/09/xmldsig#sha1" => HashAlg::Sha1,
        "http://www.w3.org/2001/04/xmlenc#sha256" => HashAlg::Sha256,
        "http://www.w3.org/2001/04/xmldsig-more#sha384" => HashAlg::Sha384,
        "http://www.w3.org/2001/04/xmlenc#sha512" => HashAlg::Sha512,
        _ => return None,
    })
}

fn mgf_from_uri(uri: &str) -> Option<HashAlg> {
    Some(match uri {
        "http://www.w3.org/2009/xmlenc11#mgf1sha1" => HashAlg::Sha1,
        "http://www.w3.org/2009/xmlenc11#mgf1sha256" => HashAlg::Sha256,
        "http://www.w3.org/2009/xmlenc11#mgf1sha384" => HashAlg::Sha384,
        "http://www.w3.org/2009/xmlenc11#mgf1sha512" => HashAlg::Sha512,
        _ => return None,
    })
}

fn cipher_value(parent: Node<'_, '_>) -> Result<Vec<u8>> {
    let cd = xml::required_child(parent, NS_XENC, "CipherData")?;
    let cv = xml::required_child(cd, NS_XENC, "CipherValue")?;
    let t: String = xml::simple_text(cv)?
        .chars()
        .filter(|c| !c.is_ascii_whitespace())
        .collect();
    STANDARD
        .decode(t)
        .map_err(|_| Error::MalformedMessage("CipherValue is not base64".into()))
}

fn oaep_params(ek: Node<'_, '_>) -> Result<OaepParams> {
    let em = xml::required_child(ek, NS_XENC, "EncryptionMethod")?;
    let alg = xml::required_attr(em, "Algorithm")?;
    let digest = match xml::unique_child(em, NS_DSIG, "DigestMethod")? {
        Some(d) => {
            let u = xml::required_attr(d, "Algorithm")?;
            hash_from_uri(u).ok_or_else(|| Error::Unsupported(format!("OAEP digest {u}")))?
        }
        None => HashAlg::Sha1,
    };
    if xml::unique_child(em, NS_XENC, "OAEPparams")?.is_some() {
        return Err(Error::Unsupported("OAEPparams (OAEP label)".into()));
    }
    match alg {
        "http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p" => Ok(OaepParams {
            digest,
            mgf1: HashAlg::Sha1,
        }),
        "http://www.w3.org/2009/xmlenc11#rsa-oaep" => {
            let mgf1 = match xml::unique_child(em, NS_XENC11, "MGF")? {
                Some(m) => {
                    let u = xml::required_attr(m, "Algorithm")?;
                    mgf_from_uri(u).ok_or_else(|| Error::Unsupported(format!("MGF {u}")))?
                }
                None => HashAlg::Sha1,
            };
            Ok(OaepParams { digest, mgf1 })
        }
        other => Err(Error::Unsupported(format!("key transport {other}"))),
    }
}

/// Decrypts the `xenc:EncryptedData` inside `container` (an `EncryptedAssertion`, `EncryptedID`
/// or `EncryptedAttribute`) and returns the plaintext XML fragment.
pub fn decrypt_element(container: Node<'_, '_>, keys: &[PrivateKey]) -> Result<Vec<u8>> {
    if keys.is_empty() {
        return Err(Error::Unsupported(format!(
            "{} (no decryption key configured)",
            container.tag_name().name()
        )));
    }
    let ed = xml::required_child(container, NS_XENC, "EncryptedData")?;
    if ed.attribute("Type").is_some_and(|t| t != TYPE_ELEMENT) {
        return Err(Error::Unsupported(
            "EncryptedData Type other than Element".into(),
        ));
    }
    let em = xml::required_child(ed, NS_XENC, "EncryptionMethod")?;
    let uri = xml::required_attr(em, "Algorithm")?;
    let content = ContentAlgorithm::from_uri(uri)
        .ok_or_else(|| Error::Unsupported(format!("content encryption {uri}")))?;
    let ciphertext = cipher_value(ed)?;
    // EncryptedKeys: inside EncryptedData/KeyInfo, or siblings in the container (SAML Core
    // §2.2.4 allows both).
    let mut encrypted_keys: Vec<Node<'_, '_>> = Vec::new();
    if let Some(ki) = xml::unique_child(ed, NS_DSIG, "KeyInfo")? {
        encrypted_keys.extend(child_elements(ki).filter(|n| is(*n, NS_XENC, "EncryptedKey")));
    }
    encrypted_keys.extend(child_elements(container).filter(|n| is(*n, NS_XENC, "EncryptedKey")));
    if encrypted_keys.is_empty() {
        return Err(Error::MalformedMessage("no EncryptedKey".into()));
    }
    if encrypted_keys.len() > 8 {
        return Err(Error::Unsupported("more than 8 EncryptedKeys".into()));
    }
    let mut parsed = Vec::new();
    for ek in encrypted_keys {
        parsed.push((oaep_params(ek)?, cipher_value(ek)?));
    }
    for key in keys {
        for (params, wrapped) in &parsed {
            let Ok(cek) = crypto::rsa_oaep_decrypt_mgf(key, params.digest, params.mgf1, wrapped)
            else {
                continue;
            };
            if cek.len() != content.key_len() {
                continue;
            }
            if let Some(pt) = decrypt_content(content, &cek, &ciphertext) {
                return Ok(pt);
            }
        }
    }
    Err(Error::DecryptionFailed)
}

fn decrypt_content(alg: ContentAlgorithm, cek: &[u8], data: &[u8]) -> Option<Vec<u8>> {
    match alg {
        ContentAlgorithm::AesGcm(_) => {
            if data.len() < 28 {
                return None;
            }
            let (iv, rest) = data.split_at(12);
            let (ct, tag) = rest.split_at(rest.len() - 16);
            crypto::aes_gcm_decrypt(cek, iv, b"", ct, tag).ok()
        }
        ContentAlgorithm::AesCbc(_) => {
            if data.len() < 32 {
                return None;
            }
            let (iv, ct) = data.split_at(16);
            let mut pt = crypto::aes_cbc_decrypt_raw(cek, iv, ct).ok()?;
            // §5.2: the last octet is the padding length (1..=16); the others are arbitrary.
            let n = usize::from(*pt.last()?);
            if n == 0 || n > 16 || n > pt.len() {
                return None;
            }
            pt.truncate(pt.len() - n);
            Some(pt)
        }
    }
}

/// Encrypts an element (IdP side; used by the test kit and for interop tests): a fresh content
/// key under `recipient` with RSA-OAEP (`xmlenc11#rsa-oaep` with SHA-256 digest and MGF1 when
/// `oaep_sha256`, else `rsa-oaep-mgf1p` with SHA-1), and `content` for the data. Returns the
/// `xenc:EncryptedData` element text (with the EncryptedKey in its KeyInfo).
pub fn encrypt_element(
    plaintext: &str,
    recipient: &PublicKey,
    content: ContentAlgorithm,
    oaep_sha256: bool,
) -> Result<String> {
    let fail = |_| Error::Key("encryption failed".into());
    let mut cek = vec![0u8; content.key_len()];
    crypto::random_bytes(&mut cek).map_err(fail)?;
    let data = match content {
        ContentAlgorithm::AesGcm(_) => {
            let mut iv = [0u8; 12];
            crypto::random_bytes(&mut iv).map_err(fail)?;
            let (ct, tag) =
                crypto::aes_gcm_encrypt(&cek, &iv, b"", plaintext.as_bytes()).map_err(fail)?;
            [iv.as_slice(), &ct, &tag].concat()
        }
        ContentAlgorithm::AesCbc(_) => {
            let mut iv = [0u8; 16];
            crypto::random_bytes(&mut iv).map_err(fail)?;
            let ct = crypto::aes_cbc_encrypt(&cek, &iv, plaintext.as_bytes()).map_err(fail)?;
            [iv.as_slice(), &ct].concat()
        }
    };
    let (hash, method) = if oaep_sha256 {
        (
            HashAlg::Sha256,
            "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2009/xmlenc11#rsa-oaep\"><ds:DigestMethod xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"http://www.w3.org/2001/04/xmlenc#sha256\"/><xenc11:MGF xmlns:xenc11=\"http://www.w3.org/2009/xmlenc11#\" Algorithm=\"http://www.w3.org/2009/xmlenc11#mgf1sha256\"/></xenc:EncryptionMethod>",
        )
    } else {
        (
            HashAlg::Sha1,
            "<xenc:EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#rsa-oaep-mgf1p\"><ds:DigestMethod xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\" Algorithm=\"http://www.w3.org/2000/09/xmldsig#sha1\"/></xenc:EncryptionMethod>",
        )
    };
    let wrapped = crypto::rsa_oaep_encrypt_mgf(recipient, hash, hash, &cek).map_err(fail)?;
    Ok(format!(
        concat!(
            "<xenc:EncryptedData xmlns:xenc=\"{ns}\" Type=\"{ty}\">",
            "<xenc:EncryptionMethod Algorithm=\"{alg}\"/>",
            "<ds:KeyInfo xmlns:ds=\"http://www.w3.org/2000/09/xmldsig#\"><xenc:EncryptedKey>{method}",
            "<xenc:CipherData><xenc:CipherValue>{key}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedKey></ds:KeyInfo>",
            "<xenc:CipherData><xenc:CipherValue>{data}</xenc:CipherValue></xenc:CipherData></xenc:EncryptedData>"
        ),
        ns = NS_XENC,
        ty = TYPE_ELEMENT,
        alg = content.uri(),
        method = method,
        key = STANDARD.encode(wrapped),
        data = STANDARD.encode(data),
    ))
}
