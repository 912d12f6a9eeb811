"""Interop peer: the Python reference `sd-jwt` 0.10.4 verifies a dc+sd-jwt issued by
`idforge serve` with the issuer's published key. stdin: {"sd_jwt", "issuer_jwk"}; stdout: the
verified payload as JSON."""
import json
import sys

from jwcrypto.jwk import JWK
from sd_jwt.verifier import SDJWTVerifier


def main():
    job = json.load(sys.stdin)
    key = JWK.from_json(json.dumps(job["issuer_jwk"]))
    verifier = SDJWTVerifier(job["sd_jwt"], lambda iss, header: key)
    json.dump(verifier.get_verified_payload(), sys.stdout)


if __name__ == "__main__":
    main()
