"""Independent XML Encryption 1.1 peer for crates/saml-sp/tests/interop.rs.

Built on the Python `cryptography` package (RSA-OAEP, AES-GCM, raw AES-CBC) and lxml; nothing
here comes from idforge.

encrypt IN OUT CERT WHAT CONTENT TRANSPORT KEYPLACE [FLAGS]
    Encrypts the first saml:Assertion (WHAT=assertion, into saml:EncryptedAssertion) or the
    saml:NameID of the first saml:Subject (WHAT=nameid, into saml:EncryptedID) for the RSA key of
    CERT (PEM), and prints JSON {"pad": N} (N = the XML Enc padding length for AES-CBC, else 0).
      CONTENT   aes128-gcm | aes192-gcm | aes256-gcm | aes128-cbc | aes192-cbc | aes256-cbc
                (GCM: 12-byte IV || ciphertext || 128-bit tag, XML Enc 1.1 §5.2.4;
                 CBC: 16-byte IV || ciphertext, padded per §5.2: N-1 *random* octets then N)
      TRANSPORT see TRANSPORTS: key transport URI, optional ds:DigestMethod, optional xenc11:MGF
      KEYPLACE  keyinfo  -> xenc:EncryptedKey inside EncryptedData/ds:KeyInfo
                sibling  -> xenc:EncryptedKey after EncryptedData in the SAML container, found
                            through ds:RetrievalMethod, with a ReferenceList, a Recipient and the
                            recipient's certificate in its own ds:KeyInfo (SAML Core §2.2.4)
      FLAGS     comma-separated, optional:
                wrap    -> base64 CipherValues in 64-character lines
                pretty  -> the encrypted structure indented (whitespace text between elements)
                bare    -> the plaintext element without the namespace declarations its context
                           already provides (as Santuario/xmlsec1 serialize; the decryptor must
                           parse it in context, XML Enc 1.1 §4.5); default: self-contained
decrypt IN KEY [CERT]
    Decrypts the saml:EncryptedAssertion (if any) and then a saml:EncryptedID in its Subject (if
    any) with the RSA private KEY (PEM), parsing each plaintext in the namespace context of the
    replaced element (XML Enc 1.1 §4.5). With CERT, verifies the decrypted assertion's signature
    with signxml. Prints JSON: name_id, name_id_format, assertion_id, algorithms, pad, whether the
    plaintext fragments were namespace-self-contained, signature_verified.
"""
import base64
import json
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from lxml import etree

SAML = "urn:oasis:names:tc:SAML:2.0:assertion"
XENC = "http://www.w3.org/2001/04/xmlenc#"
XENC11 = "http://www.w3.org/2009/xmlenc11#"
DS = "http://www.w3.org/2000/09/xmldsig#"
ELEMENT = XENC + "Element"

CONTENT = {
    "aes128-gcm": (XENC11 + "aes128-gcm", 16, "gcm"),
    "aes192-gcm": (XENC11 + "aes192-gcm", 24, "gcm"),
    "aes256-gcm": (XENC11 + "aes256-gcm", 32, "gcm"),
    "aes128-cbc": (XENC + "aes128-cbc", 16, "cbc"),
    "aes192-cbc": (XENC + "aes192-cbc", 24, "cbc"),
    "aes256-cbc": (XENC + "aes256-cbc", 32, "cbc"),
}

DIGESTS = {
    DS + "sha1": hashes.SHA1,
    XENC + "sha256": hashes.SHA256,
    "http://www.w3.org/2001/04/xmldsig-more#sha384": hashes.SHA384,
    XENC + "sha512": hashes.SHA512,
}
SHA256 = XENC + "sha256"
MGFS = {
    XENC11 + "mgf1sha1": hashes.SHA1,
    XENC11 + "mgf1sha256": hashes.SHA256,
    XENC11 + "mgf1sha384": hashes.SHA384,
    XENC11 + "mgf1sha512": hashes.SHA512,
}
OAEP11 = XENC11 + "rsa-oaep"
MGF1P = XENC + "rsa-oaep-mgf1p"
RSA15 = XENC + "rsa-1_5"

# name -> (key transport URI, ds:DigestMethod URI or None, xenc11:MGF URI or None)
TRANSPORTS = {
    # XML Enc 1.1 §5.5.2: rsa-oaep with SHA-256 and MGF1 with SHA-256.
    "oaep11-sha256-mgf256": (OAEP11, SHA256, XENC11 + "mgf1sha256"),
    # rsa-oaep with SHA-256; MGF absent, so the default MGF1 with SHA-1.
    "oaep11-sha256": (OAEP11, SHA256, None),
    # The same with the default written out.
    "oaep11-sha256-mgf1": (OAEP11, SHA256, XENC11 + "mgf1sha1"),
    "oaep11-sha384-mgf384": (OAEP11, "http://www.w3.org/2001/04/xmldsig-more#sha384", XENC11 + "mgf1sha384"),
    "oaep11-sha512-mgf512": (OAEP11, XENC + "sha512", XENC11 + "mgf1sha512"),
    # rsa-oaep with neither: SHA-1 / MGF1-SHA1.
    "oaep11-default": (OAEP11, None, None),
    # rsa-oaep-mgf1p (MGF1 with SHA-1 always) with a SHA-256 OAEP digest.
    "mgf1p-sha256": (MGF1P, SHA256, None),
    "mgf1p": (MGF1P, None, None),
    # RSA PKCS#1 v1.5 (refused by the SP: Bleichenbacher).
    "rsa-1_5": (RSA15, None, None),
}


def q(ns, local):
    return "{%s}%s" % (ns, local)


WRAP = False


def b64(data):
    text = base64.b64encode(data).decode("ascii")
    if WRAP:
        return "\n" + "\n".join(text[i : i + 64] for i in range(0, len(text), 64)) + "\n"
    return text


def bare(element):
    """The element serialized without the namespace declarations in scope at its parent."""
    text = etree.tostring(element, with_tail=False).decode()
    end = text.index(">")
    start_tag, rest = text[:end], text[end:]
    for prefix, uri in element.getparent().nsmap.items():
        decl = ' xmlns="%s"' % uri if prefix is None else ' xmlns:%s="%s"' % (prefix, uri)
        start_tag = start_tag.replace(decl, "", 1)
    return (start_tag + rest).encode()


def xmlenc_pad(plaintext):
    """XML Enc §5.2 padding: N-1 arbitrary octets then N. The arbitrary octets are random and,
    when there are any, never all equal to N (so the result is never PKCS#7 by accident)."""
    n = 16 - len(plaintext) % 16
    while True:
        filler = os.urandom(n - 1)
        if n == 1 or any(b != n for b in filler):
            return plaintext + filler + bytes([n]), n


def encrypt_content(content, cek, plaintext):
    _, _, mode = CONTENT[content]
    if mode == "gcm":
        iv = os.urandom(12)
        return iv + AESGCM(cek).encrypt(iv, plaintext, None), 0
    iv = os.urandom(16)
    padded, n = xmlenc_pad(plaintext)
    enc = Cipher(algorithms.AES(cek), modes.CBC(iv)).encryptor()
    return iv + enc.update(padded) + enc.finalize(), n


def wrap_key(public_key, transport, cek):
    alg, digest, mgf = TRANSPORTS[transport]
    if alg == RSA15:
        return public_key.encrypt(cek, padding.PKCS1v15())
    oaep_hash = DIGESTS[digest or DS + "sha1"]()
    if alg == MGF1P:
        mgf_hash = hashes.SHA1()
    else:
        mgf_hash = MGFS[mgf or XENC11 + "mgf1sha1"]()
    return public_key.encrypt(cek, padding.OAEP(mgf=padding.MGF1(algorithm=mgf_hash), algorithm=oaep_hash, label=None))


def encrypted_key(transport, wrapped, key_id=None, data_id=None, cert_der=None):
    alg, digest, mgf = TRANSPORTS[transport]
    ek = etree.Element(q(XENC, "EncryptedKey"), nsmap={"xenc": XENC, "ds": DS})
    if key_id:
        ek.set("Id", key_id)
        ek.set("Recipient", "https://sp.example.com/metadata")
    em = etree.SubElement(ek, q(XENC, "EncryptionMethod"), Algorithm=alg)
    if digest:
        etree.SubElement(em, q(DS, "DigestMethod"), Algorithm=digest)
    if mgf:
        etree.SubElement(em, q(XENC11, "MGF"), nsmap={"xenc11": XENC11}, Algorithm=mgf)
    if cert_der:
        ki = etree.SubElement(ek, q(DS, "KeyInfo"))
        x509data = etree.SubElement(ki, q(DS, "X509Data"))
        etree.SubElement(x509data, q(DS, "X509Certificate")).text = base64.b64encode(cert_der).decode()
    cd = etree.SubElement(ek, q(XENC, "CipherData"))
    etree.SubElement(cd, q(XENC, "CipherValue")).text = b64(wrapped)
    if data_id:
        rl = etree.SubElement(ek, q(XENC, "ReferenceList"))
        etree.SubElement(rl, q(XENC, "DataReference"), URI="#" + data_id)
    return ek


def encrypt(src, dst, cert, what, content, transport, keyplace, flags=""):
    global WRAP
    flags = set(filter(None, flags.split(",")))
    WRAP = "wrap" in flags
    tree = etree.parse(src)
    root = tree.getroot()
    if what == "assertion":
        target = root.find(q(SAML, "Assertion"))
        container_name = "EncryptedAssertion"
    elif what == "nameid":
        target = root.find(".//" + q(SAML, "Subject") + "/" + q(SAML, "NameID"))
        container_name = "EncryptedID"
    else:
        sys.exit("WHAT must be assertion or nameid")
    if target is None:
        sys.exit("nothing to encrypt")
    # lxml serializes the element with the namespace declarations in scope: a self-contained
    # fragment (the Type=Element plaintext of XML Enc 1.1 §4.3).
    plaintext = bare(target) if "bare" in flags else etree.tostring(target, with_tail=False)
    content_uri, key_len, _ = CONTENT[content]
    cek = os.urandom(key_len)
    data, pad = encrypt_content(content, cek, plaintext)
    certificate = x509.load_pem_x509_certificate(open(cert, "rb").read())
    public_key = certificate.public_key()
    wrapped = wrap_key(public_key, transport, cek)

    container = etree.Element(q(SAML, container_name), nsmap={"saml": SAML})
    data_id = "_ed" + os.urandom(8).hex()
    key_id = "_ek" + os.urandom(8).hex()
    ed = etree.SubElement(container, q(XENC, "EncryptedData"), nsmap={"xenc": XENC}, Id=data_id, Type=ELEMENT)
    etree.SubElement(ed, q(XENC, "EncryptionMethod"), Algorithm=content_uri)
    ki = etree.SubElement(ed, q(DS, "KeyInfo"), nsmap={"ds": DS})
    if keyplace == "keyinfo":
        ki.append(encrypted_key(transport, wrapped))
    elif keyplace == "sibling":
        etree.SubElement(ki, q(DS, "RetrievalMethod"), URI="#" + key_id, Type=XENC + "EncryptedKey")
    else:
        sys.exit("KEYPLACE must be keyinfo or sibling")
    cd = etree.SubElement(ed, q(XENC, "CipherData"))
    etree.SubElement(cd, q(XENC, "CipherValue")).text = b64(data)
    if keyplace == "sibling":
        der = certificate.public_bytes(serialization.Encoding.DER)
        container.append(encrypted_key(transport, wrapped, key_id, data_id, der))

    if "pretty" in flags:
        etree.indent(container)
    container.tail = target.tail
    target.getparent().replace(target, container)
    open(dst, "wb").write(etree.tostring(root))
    print(json.dumps({"pad": pad}))


def find_encrypted_key(container, ed):
    ki = ed.find(q(DS, "KeyInfo"))
    if ki is not None:
        ek = ki.find(q(XENC, "EncryptedKey"))
        if ek is not None:
            return ek
        rm = ki.find(q(DS, "RetrievalMethod"))
        if rm is not None:
            ref = rm.get("URI", "").lstrip("#")
            for ek in container.iter(q(XENC, "EncryptedKey")):
                if ek.get("Id") == ref:
                    return ek
    ek = container.find(q(XENC, "EncryptedKey"))
    if ek is None:
        sys.exit("no EncryptedKey")
    return ek


def unwrap_key(private_key, ek):
    em = ek.find(q(XENC, "EncryptionMethod"))
    alg = em.get("Algorithm")
    dm = em.find(q(DS, "DigestMethod"))
    digest = dm.get("Algorithm") if dm is not None else DS + "sha1"
    mg = em.find(q(XENC11, "MGF"))
    if alg == MGF1P:
        mgf = XENC11 + "mgf1sha1"
    elif alg == OAEP11:
        mgf = mg.get("Algorithm") if mg is not None else XENC11 + "mgf1sha1"
    else:
        sys.exit(f"key transport {alg} not accepted")
    wrapped = base64.b64decode("".join(ek.find(q(XENC, "CipherData")).find(q(XENC, "CipherValue")).text.split()))
    cek = private_key.decrypt(
        wrapped, padding.OAEP(mgf=padding.MGF1(algorithm=MGFS[mgf]()), algorithm=DIGESTS[digest](), label=None)
    )
    return cek, {"transport": alg, "digest": digest, "mgf": mgf}


def decrypt_container(container, private_key):
    """Decrypts the EncryptedData in container and replaces container with the plaintext element,
    parsed in the namespace context of container (XML Enc 1.1 §4.5)."""
    ed = container.find(q(XENC, "EncryptedData"))
    if ed.get("Type", ELEMENT) != ELEMENT:
        sys.exit("EncryptedData Type is not Element")
    uri = ed.find(q(XENC, "EncryptionMethod")).get("Algorithm")
    content = next(name for name, (u, _, _) in CONTENT.items() if u == uri)
    _, key_len, mode = CONTENT[content]
    cek, info = unwrap_key(private_key, find_encrypted_key(container, ed))
    if len(cek) != key_len:
        sys.exit("content key length does not match the algorithm")
    data = base64.b64decode("".join(ed.find(q(XENC, "CipherData")).find(q(XENC, "CipherValue")).text.split()))
    pad = 0
    if mode == "gcm":
        plaintext = AESGCM(cek).decrypt(data[:12], data[12:], None)
    else:
        dec = Cipher(algorithms.AES(cek), modes.CBC(data[:16])).decryptor()
        padded = dec.update(data[16:]) + dec.finalize()
        pad = padded[-1]
        if not 1 <= pad <= 16:
            sys.exit("bad padding length")
        plaintext = padded[:-pad]
    try:
        etree.fromstring(plaintext)
        standalone = True
    except etree.XMLSyntaxError:
        standalone = False
    # Parse in context: a wrapper declaring every namespace in scope at the container.
    wrapper = etree.Element("wrapper", nsmap={k: v for k, v in container.nsmap.items()})
    ctx = etree.tostring(wrapper).decode()
    opening = ctx[: -len("/>")] + ">"
    parsed = etree.fromstring(opening.encode() + plaintext + b"</wrapper>")
    elements = [c for c in parsed if isinstance(c.tag, str)]
    if len(elements) != 1:
        sys.exit("plaintext is not one element")
    element = elements[0]
    element.tail = container.tail
    container.getparent().replace(container, element)
    info.update({"content": uri, "pad": pad, "standalone": standalone})
    return element, info


def decrypt(src, key, cert=None):
    root = etree.parse(src).getroot()
    private_key = serialization.load_pem_private_key(open(key, "rb").read(), password=None)
    out = {"assertion_encrypted": False, "name_id_encrypted": False}
    ea = root.find(q(SAML, "EncryptedAssertion"))
    if ea is not None:
        assertion, info = decrypt_container(ea, private_key)
        out["assertion_encrypted"] = True
        out["assertion"] = info
    else:
        assertion = root.find(q(SAML, "Assertion"))
    if cert:
        # The signature covers the assertion as signed (with an EncryptedID still encrypted).
        from signxml import XMLVerifier

        XMLVerifier().verify(
            etree.tostring(assertion), x509_cert=open(cert).read(), id_attribute="ID", expect_references=1
        )
        out["signature_verified"] = True
    subject = assertion.find(q(SAML, "Subject"))
    eid = subject.find(q(SAML, "EncryptedID"))
    if eid is not None:
        name_id, info = decrypt_container(eid, private_key)
        out["name_id_encrypted"] = True
        out["name_id_info"] = info
    else:
        name_id = subject.find(q(SAML, "NameID"))
    out["assertion_id"] = assertion.get("ID")
    out["name_id"] = name_id.text
    out["name_id_format"] = name_id.get("Format")
    print(json.dumps(out))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "encrypt":
        encrypt(*args)
    elif cmd == "decrypt":
        decrypt(*args)
    else:
        sys.exit("unknown command")
