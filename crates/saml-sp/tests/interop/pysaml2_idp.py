"""pysaml2 IdP peer for crates/saml-sp/tests/interop.rs.

response       WORKDIR KEY CERT SP_METADATA SP_ENTITY_ID REQUEST_ID ACS SIGN_RESPONSE HASH [ENC_CERT]
                 -> prints a Response (signed Assertion; signed Response when SIGN_RESPONSE=1),
                    RSA-SHA256/SHA-256 when HASH=sha256, pysaml2's default RSA-SHA1/SHA-1 otherwise;
                    with ENC_CERT (PEM file) the signed assertion is encrypted for that certificate
authn-redirect WORKDIR KEY CERT SP_METADATA QUERY     -> parses+verifies our Redirect AuthnRequest
authn-post     WORKDIR KEY CERT SP_METADATA B64       -> parses+verifies our POST AuthnRequest
Both authn-* print JSON with what pysaml2 read. pysaml2 verifies signatures with the SP
certificate from SP_METADATA (our `SpMetadata` output) and `want_authn_requests_signed`.
"""
import json
import shutil
import sys
import urllib.parse

from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.authn_context import PASSWORDPROTECTEDTRANSPORT
from saml2.config import IdPConfig
from saml2.saml import NAME_FORMAT_URI, NAMEID_FORMAT_PERSISTENT, NameID
from saml2.server import Server

IDP = "https://idp.example.org/idp"
SSO = "https://idp.example.org/sso"


def server(workdir, key, cert, sp_metadata):
    conf = IdPConfig()
    conf.load(
        {
            "entityid": IDP,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(SSO, BINDING_HTTP_REDIRECT), (SSO, BINDING_HTTP_POST)]
                    },
                    "want_authn_requests_signed": True,
                    "policy": {
                        "default": {
                            "lifetime": {"minutes": 15},
                            "attribute_restrictions": None,
                            "name_form": NAME_FORMAT_URI,
                        }
                    },
                    "name_id_format": [NAMEID_FORMAT_PERSISTENT],
                }
            },
            "key_file": key,
            "cert_file": cert,
            "metadata": {"local": [sp_metadata]},
            "xmlsec_binary": shutil.which("xmlsec1"),
            "delete_tmpfiles": True,
            "tmp_path": workdir,
        }
    )
    return Server(config=conf)


def response(workdir, key, cert, sp_metadata, sp_entity_id, request_id, acs, sign_response, hash_alg, enc_cert=None):
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    algs = {"sign_alg": SIG_RSA_SHA256, "digest_alg": DIGEST_SHA256} if hash_alg == "sha256" else {}
    enc = {}
    if enc_cert:
        # pysaml2 hard-codes 3DES-CBC content encryption for assertions (not offered by the SP:
        # AES only); switch its template and xmlsec1 session key to AES-256-CBC.
        import functools

        import saml2.entity
        import saml2.sigver

        aes = "http://www.w3.org/2001/04/xmlenc#aes256-cbc"
        saml2.entity.pre_encryption_part = functools.partial(saml2.sigver.pre_encryption_part, msg_enc=aes)
        original = saml2.sigver.SecurityContext.encrypt_assertion

        def encrypt_aes(self, statement, enc_key, template, key_type="des-192", node_xpath=None):
            return original(self, statement, enc_key, template, key_type="aes-256", node_xpath=node_xpath)

        saml2.sigver.SecurityContext.encrypt_assertion = encrypt_aes
        pem = open(enc_cert).read()
        body = "".join(line for line in pem.splitlines() if "CERTIFICATE" not in line)
        enc = {"encrypt_assertion": True, "encrypt_cert_assertion": body}
    srv = server(workdir, key, cert, sp_metadata)
    resp = srv.create_authn_response(
        identity={"mail": ["alice@example.com"], "eduPersonAffiliation": ["staff", "member"]},
        in_response_to=request_id,
        destination=acs,
        sp_entity_id=sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, text="alice-persistent-id"),
        authn={"class_ref": PASSWORDPROTECTEDTRANSPORT, "authn_auth": IDP},
        sign_assertion=True,
        sign_response=sign_response == "1",
        **algs,
        **enc,
    )
    sys.stdout.write(str(resp))


def describe(req):
    m = req.message
    return json.dumps(
        {
            "id": m.id,
            "issuer": m.issuer.text,
            "acs": m.assertion_consumer_service_url,
            "force_authn": m.force_authn,
            "name_id_format": m.name_id_policy.format if m.name_id_policy else None,
        }
    )


def authn_redirect(workdir, key, cert, sp_metadata, query):
    srv = server(workdir, key, cert, sp_metadata)
    q = dict(urllib.parse.parse_qsl(query))
    req = srv.parse_authn_request(
        q["SAMLRequest"],
        BINDING_HTTP_REDIRECT,
        relay_state=q.get("RelayState"),
        sigalg=q.get("SigAlg"),
        signature=q.get("Signature"),
    )
    print(describe(req))


def authn_post(workdir, key, cert, sp_metadata, b64):
    srv = server(workdir, key, cert, sp_metadata)
    req = srv.parse_authn_request(b64, BINDING_HTTP_POST)
    print(describe(req))


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {"response": response, "authn-redirect": authn_redirect, "authn-post": authn_post}[cmd](*args)
