"""pysaml2 IdP peer for crates/saml-sp/tests/interop.rs.

response       WORKDIR KEY CERT SP_METADATA SP_ENTITY_ID REQUEST_ID ACS SIGN_RESPONSE HASH [ENC_CERT]
                 -> prints a Response (signed Assertion; signed Response when SIGN_RESPONSE=1),
                    RSA-SHA256/SHA-256 when HASH=sha256, pysaml2's default RSA-SHA1/SHA-1 otherwise;
                    with ENC_CERT (PEM file) the signed assertion is encrypted for that certificate
authn-redirect WORKDIR KEY CERT SP_METADATA QUERY     -> parses+verifies our Redirect AuthnRequest
authn-post     WORKDIR KEY CERT SP_METADATA B64       -> parses+verifies our POST AuthnRequest
Both authn-* print JSON with what pysaml2 read. pysaml2 verifies signatures with the SP
certificate from SP_METADATA (our `SpMetadata` output) and `want_authn_requests_signed`.

Single Logout (SAML Profiles §4.4), BINDING = post | redirect:
logout-request  WORKDIR KEY CERT SP_METADATA BINDING SP_ENTITY_ID NAME_ID SESSION_INDEX RELAY_STATE [NO_DEST]
                 -> IdP-initiated: a LogoutRequest to the SP's SLO endpoint from SP_METADATA, signed
                    (POST: enveloped XML signature; Redirect: query-string signature), RSA-SHA256;
                    with NO_DEST=1 the message has no Destination attribute (still sent there);
                    prints JSON {id, destination, post (base64 XML) | query}
logout-response WORKDIR KEY CERT SP_METADATA BINDING PAYLOAD REQUEST_ID [RELAY_STATE]
                 -> parses our LogoutResponse (POST: base64 XML; Redirect: the query string) and
                    checks its signature (XML, or query string with pysaml2's
                    verify_redirect_signature) with the SP certificate; prints JSON
logout-handle   WORKDIR KEY CERT SP_METADATA BINDING PAYLOAD [STATUS]
                 -> SP-initiated: parses and verifies our LogoutRequest (POST: base64 XML; Redirect:
                    the query string), answers with a signed LogoutResponse (STATUS: success or
                    a status code URI) over the same binding; prints JSON {request, response}
"""
import base64
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
SLO = "https://idp.example.org/slo"


def server(workdir, key, cert, sp_metadata):
    conf = IdPConfig()
    conf.load(
        {
            "entityid": IDP,
            "service": {
                "idp": {
                    "endpoints": {
                        "single_sign_on_service": [(SSO, BINDING_HTTP_REDIRECT), (SSO, BINDING_HTTP_POST)],
                        "single_logout_service": [(SLO, BINDING_HTTP_REDIRECT), (SLO, BINDING_HTTP_POST)],
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


BINDINGS = {"post": BINDING_HTTP_POST, "redirect": BINDING_HTTP_REDIRECT}


def signing_args():
    from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

    return SIG_RSA_SHA256, DIGEST_SHA256


def location(info):
    return dict(info["headers"])["Location"]


def outgoing(srv, binding, msg, destination, relay_state, response):
    """The message over `binding`: POST -> {"post": base64 XML}, Redirect -> {"query": ...}
    (pysaml2 signs the query string; POST messages are XML-signed before they get here)."""
    sig_alg, _ = signing_args()
    if binding == "post":
        return {"post": base64.b64encode(str(msg).encode()).decode(), "relay_state": relay_state}
    info = srv.apply_binding(
        BINDINGS[binding], str(msg), destination, relay_state, response=response, sign=True, sigalg=sig_alg
    )
    url = location(info)
    assert url.startswith(destination + "?"), url
    return {"query": url.split("?", 1)[1]}


def logout_request(
    workdir, key, cert, sp_metadata, binding, sp_entity_id, name_id, session_index, relay_state, no_dest="0"
):
    from saml2.time_util import in_a_while

    sig_alg, digest_alg = signing_args()
    srv = server(workdir, key, cert, sp_metadata)
    slo = srv.metadata.single_logout_service(sp_entity_id, BINDINGS[binding], "spsso")
    destination = slo[0]["location"]
    req_id, req = srv.create_logout_request(
        "" if no_dest == "1" else destination,
        sp_entity_id,
        name_id=NameID(format=NAMEID_FORMAT_PERSISTENT, name_qualifier=IDP, sp_name_qualifier=sp_entity_id, text=name_id),
        reason="urn:oasis:names:tc:SAML:2.0:logout:user",
        expire=in_a_while(minutes=5),
        session_indexes=[session_index],
        sign=binding == "post",
        sign_alg=sig_alg,
        digest_alg=digest_alg,
    )
    out = {"id": req_id, "destination": destination}
    out.update(outgoing(srv, binding, req, destination, relay_state, response=False))
    print(json.dumps(out))


def incoming(binding, payload, kind):
    """(message value for pysaml2's parse_*, relay_state, sigalg, signature)"""
    if binding == "post":
        return payload, None, None, None
    q = dict(urllib.parse.parse_qsl(payload))
    return q[kind], q.get("RelayState"), q.get("SigAlg"), q.get("Signature")


def logout_response(workdir, key, cert, sp_metadata, binding, payload, request_id, relay_state=None):
    from saml2.sigver import verify_redirect_signature

    srv = server(workdir, key, cert, sp_metadata)
    value, rs, sigalg, signature = incoming(binding, payload, "SAMLResponse")
    resp = srv.parse_logout_request_response(value, BINDINGS[binding])
    if resp is None:
        sys.exit("pysaml2 refused the LogoutResponse")
    m = resp.response
    issuer = m.issuer.text.strip()
    if binding == "post":
        # Required XML signature, checked with the issuer's certificate from its metadata.
        srv.sec.correctly_signed_logout_response(resp.xmlstr, must=True)
        signature_checked = "xml"
    else:
        if sigalg is None or signature is None:
            sys.exit("unsigned Redirect LogoutResponse")
        msg = {"SAMLResponse": value, "SigAlg": sigalg, "Signature": signature}
        if rs is not None:
            msg["RelayState"] = rs
        certs = srv.metadata.certs(issuer, "any", "signing")
        if not any(verify_redirect_signature(msg, srv.sec.sec_backend, c) for _, c in certs):
            sys.exit("query-string signature does not verify")
        signature_checked = "query"
    if not resp.verify():
        sys.exit("pysaml2 LogoutResponse verification failed")
    if m.in_response_to != request_id:
        sys.exit(f"InResponseTo {m.in_response_to} != {request_id}")
    print(
        json.dumps(
            {
                "issuer": issuer,
                "destination": m.destination,
                "in_response_to": m.in_response_to,
                "status": m.status.status_code.value,
                "signature": signature_checked,
                "relay_state": rs if binding == "redirect" else relay_state,
            }
        )
    )


def logout_handle(workdir, key, cert, sp_metadata, binding, payload, status="success"):
    from saml2.samlp import STATUS_SUCCESS

    sig_alg, digest_alg = signing_args()
    srv = server(workdir, key, cert, sp_metadata)
    value, rs, sigalg, signature = incoming(binding, payload, "SAMLRequest")
    req = srv.parse_logout_request(value, BINDINGS[binding], relay_state=rs, sigalg=sigalg, signature=signature)
    m = req.message
    described = {
        "id": m.id,
        "issuer": m.issuer.text,
        "destination": m.destination,
        "name_id": m.name_id.text,
        "name_id_format": m.name_id.format,
        "session_indexes": [s.text for s in m.session_index],
        "not_on_or_after": m.not_on_or_after,
    }
    st = None
    if status != "success":
        from saml2.samlp import STATUS_RESPONDER

        st = factory_status(STATUS_RESPONDER, status)
    resp = srv.create_logout_response(
        m, [BINDINGS[binding]], status=st, sign=binding == "post", sign_alg=sig_alg, digest_alg=digest_alg
    )
    destination = srv.metadata.single_logout_service(m.issuer.text, BINDINGS[binding], "spsso")[0]["location"]
    out = {"request": described, "status_success": STATUS_SUCCESS}
    out["response"] = outgoing(srv, binding, resp, destination, rs or "", response=True)
    print(json.dumps(out))


def factory_status(top, second):
    from saml2 import samlp

    return samlp.Status(
        status_code=samlp.StatusCode(value=top, status_code=samlp.StatusCode(value=second)),
        status_message=samlp.StatusMessage(text="logout failed at the IdP"),
    )


if __name__ == "__main__":
    cmd, args = sys.argv[1], sys.argv[2:]
    {
        "response": response,
        "authn-redirect": authn_redirect,
        "authn-post": authn_post,
        "logout-request": logout_request,
        "logout-response": logout_response,
        "logout-handle": logout_handle,
    }[cmd](*args)
