"""SD-JWT interop peer: the Python reference implementation `sd-jwt` (0.10.4).

Reads one JSON batch on stdin, writes one JSON array of results on stdout (one process per
batch). Paths are RFC 6901 JSON Pointers; they are translated to the library's `SDObj`
markers (issuance) and nested `claims_to_disclose` structures (presentation).
"""
import json
import sys

from jwcrypto.jwk import JWK
from sd_jwt.common import SDObj
from sd_jwt.holder import SDJWTHolder
from sd_jwt.issuer import SDJWTIssuer
from sd_jwt.verifier import SDJWTVerifier


def tokens(path):
    return [t.replace("~1", "/").replace("~0", "~") for t in path.split("/")[1:]]


def mark(value, sd, here=()):
    """Wraps the claims named by `sd` (sets of token tuples) in SDObj, children first."""
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            p = here + (k,)
            child = mark(v, sd, p)
            out[SDObj(k) if p in sd else k] = child
        return out
    if isinstance(value, list):
        out = []
        for i, v in enumerate(value):
            p = here + (str(i),)
            child = mark(v, sd, p)
            out.append(SDObj(child) if p in sd else child)
        return out
    return value


def selection(paths, claims):
    """`claims_to_disclose` for the holder: nested dicts/lists with True at the leaves."""
    root = {}
    for path in paths:
        node, value = root, claims
        toks = tokens(path)
        for i, t in enumerate(toks):
            last = i == len(toks) - 1
            if isinstance(value, list):
                idx = int(t)
                while len(node) <= idx:
                    node.append(None)
                if last:
                    node[idx] = True
                else:
                    if not isinstance(node[idx], (dict, list)):
                        node[idx] = [] if isinstance(value[idx], list) else {}
                    node = node[idx]
                value = value[idx]
            else:
                if last:
                    node[t] = True
                else:
                    if not isinstance(node.get(t), (dict, list)):
                        node[t] = [] if isinstance(value[t], list) else {}
                    node = node[t]
                value = value[t]
    return root


def main():
    batch = json.load(sys.stdin)
    issuer_key = JWK.from_json(json.dumps(batch["issuer_private"]))
    issuer_public = JWK.from_json(json.dumps(batch["issuer_public"]))
    holder_key = JWK.from_json(json.dumps(batch["holder_private"]))
    results = []
    for job in batch["jobs"]:
        r = {"id": job["id"]}
        try:
            if job["op"] == "verify":
                v = SDJWTVerifier(job["presentation"], lambda iss, header: issuer_public,
                                  job["aud"], job["nonce"])
                r["claims"] = v.get_verified_payload()
            elif job["op"] == "present":
                h = SDJWTHolder(job["sd_jwt"])
                h.create_presentation(selection(job["disclose"], job["claims"]),
                                      job["nonce"], job["aud"], holder_key, "ES256")
                r["presentation"] = h.sd_jwt_presentation
            elif job["op"] == "issue_present":
                sd = {tuple(tokens(p)) for p in job["sd"]}
                issuer = SDJWTIssuer(mark(job["claims"], sd), issuer_key, holder_key, "ES256",
                                     add_decoy_claims=job.get("decoys", 0) > 0)
                r["sd_jwt"] = issuer.sd_jwt_issuance
                h = SDJWTHolder(issuer.sd_jwt_issuance)
                h.create_presentation(selection(job["disclose"], job["claims"]),
                                      job["nonce"], job["aud"], holder_key, "ES256")
                r["presentation"] = h.sd_jwt_presentation
            else:
                raise ValueError("unknown op " + job["op"])
            r["ok"] = True
        except Exception as e:  # report, never crash the batch
            r["ok"] = False
            r["error"] = f"{type(e).__name__}: {e}"
        results.append(r)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
