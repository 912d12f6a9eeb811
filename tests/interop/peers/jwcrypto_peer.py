"""Interop peer over Python `jwcrypto`, same protocol as jose_peer.mjs.

Usage: python3 jwcrypto_peer.py <directory holding the jwcrypto package>. Reads {"ops":[...]}
on stdin and writes {"results":[...]} on stdout, one result per op. Besides the four ops of
jose_peer.mjs it has "jwe_encrypt_zip", which sets "zip":"DEF" (npm jose v6 dropped zip).
"""
import base64
import json
import sys

sys.path.insert(0, sys.argv[1])

from jwcrypto import jwe, jwk, jws  # noqa: E402
from jwcrypto.common import json_encode  # noqa: E402


def b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def run(op):
    key = jwk.JWK(**op["jwk"])
    kind = op["op"]
    if kind == "jws_sign":
        token = jws.JWS(unb64(op["payload"]))
        token.allowed_algs = [op["alg"]]
        token.add_signature(key, None, json_encode({"alg": op["alg"]}))
        return {"ok": True, "token": token.serialize(compact=True)}
    if kind == "jws_verify":
        token = jws.JWS()
        token.allowed_algs = [op["alg"]]
        token.deserialize(op["token"])
        token.verify(key, alg=op["alg"])
        return {"ok": True, "payload": b64(token.payload)}
    if kind in ("jwe_encrypt", "jwe_encrypt_zip"):
        header = {"alg": op["alg"], "enc": op["enc"]}
        if kind == "jwe_encrypt_zip":
            header["zip"] = "DEF"
        token = jwe.JWE(unb64(op["plaintext"]), json_encode(header), algs=[op["alg"], op["enc"]])
        token.add_recipient(key)
        return {"ok": True, "token": token.serialize(compact=True)}
    if kind == "jwe_decrypt":
        token = jwe.JWE(algs=[op["alg"], op["enc"]])
        token.deserialize(op["token"], key=key)
        return {"ok": True, "plaintext": b64(token.payload), "header": token.jose_header}
    raise ValueError("unknown op " + kind)


def main():
    ops = json.load(sys.stdin)["ops"]
    results = []
    for op in ops:
        try:
            results.append(run(op))
        except Exception as e:  # every failure is reported, never raised
            results.append({"ok": False, "error": "%s: %s" % (type(e).__name__, e)})
    json.dump({"results": results}, sys.stdout)


main()
