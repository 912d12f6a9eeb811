"""signxml peer for crates/saml-sp/tests/interop.rs.

sign   IN OUT KEY CERT ELEMENT_ID C14N SIGALG DIGEST  -- enveloped-sign the element with ID=ELEMENT_ID
verify IN CERT ELEMENT_TAG                            -- verify an enveloped signature, print OK
"""
import sys

from lxml import etree
from signxml import XMLSigner, XMLVerifier, methods
from signxml.algorithms import CanonicalizationMethod, DigestAlgorithm, SignatureMethod

C14N = {
    "exc": CanonicalizationMethod.EXCLUSIVE_XML_CANONICALIZATION_1_0,
    "c14n10": CanonicalizationMethod.CANONICAL_XML_1_0,
    "c14n11": CanonicalizationMethod.CANONICAL_XML_1_1,
}
SIG = {
    "rsa-sha256": SignatureMethod.RSA_SHA256,
    "rsa-sha384": SignatureMethod.RSA_SHA384,
    "rsa-sha512": SignatureMethod.RSA_SHA512,
    "ecdsa-sha256": SignatureMethod.ECDSA_SHA256,
    "ecdsa-sha384": SignatureMethod.ECDSA_SHA384,
}
DIG = {"sha256": DigestAlgorithm.SHA256, "sha384": DigestAlgorithm.SHA384, "sha512": DigestAlgorithm.SHA512}


def sign(src, dst, key, cert, element_id, c14n, sigalg, digest):
    tree = etree.parse(src)
    target = tree.xpath("//*[@ID=$id]", id=element_id)[0]
    parent = target.getparent()
    signer = XMLSigner(
        method=methods.enveloped,
        signature_algorithm=SIG[sigalg],
        digest_algorithm=DIG[digest],
        c14n_algorithm=C14N[c14n],
    )
    signer.namespaces = {"ds": "http://www.w3.org/2000/09/xmldsig#"}
    signed = signer.sign(
        target,
        key=open(key, "rb").read(),
        cert=open(cert).read(),
        reference_uri="#" + element_id,
        id_attribute="ID",
    )
    if parent is not None and signed is not target:
        parent.replace(target, signed)
        out = tree.getroot()
    else:
        out = signed
    open(dst, "wb").write(etree.tostring(out))


def verify(src, cert, tag):
    root = etree.parse(src).getroot()
    XMLVerifier().verify(root, x509_cert=open(cert).read(), id_attribute="ID", expect_references=1)
    print("OK")


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "sign":
        sign(*sys.argv[2:10])
    elif cmd == "verify":
        verify(*sys.argv[2:5])
    else:
        sys.exit("unknown command")
