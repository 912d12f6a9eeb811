#!/usr/bin/env python3
"""Mints authorization codes for the code-exchange load scenario (benches/load/run.sh).

Logs in through the login form (GET /authorize, POST the form with the user's password),
then asks /authorize again with the session cookie, on 8 keep-alive connections at once, each
logged in with a session of its own (the
codes live 60 s: minting must be quick on SQLite and PostgreSQL too), collecting the code of
each 303 redirect: one HTTP round trip per code, the same path a browser with a session takes.
Writes one code per line.

    mint_codes.py BASE_URL COUNT OUT_FILE
"""
import concurrent.futures
import http.client
import re
import sys
import urllib.parse

# PKCE (RFC 7636 §4.1-4.2): code_exchange.lua sends this verifier; S256 of it is below.
VERIFIER = "load-test-verifier-0123456789abcdefghijklmnopqrstuvwxyz"
CHALLENGE = "HdotOOUd0TEXplRYmrBnbMvI2O35BftBsRtIImvcMno"
REDIRECT = "http://127.0.0.1:3000/callback"


def main():
    base, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    host = urllib.parse.urlsplit(base).netloc
    query = urllib.parse.urlencode({
        "response_type": "code", "client_id": "web", "redirect_uri": REDIRECT,
        "scope": "openid profile", "state": "s", "code_challenge": CHALLENGE,
        "code_challenge_method": "S256",
    })

    def login():
        conn = http.client.HTTPConnection(host)
        conn.request("GET", "/authorize?" + query)
        page = conn.getresponse().read().decode()
        sealed = re.search(r'name="request" value="([^"]+)"', page)
        if not sealed:
            raise SystemExit("mint_codes: no login form at /authorize")
        form = urllib.parse.urlencode({
            "request": sealed.group(1), "username": "alice", "password": "alice-password",
        })
        conn.request("POST", "/authorize", body=form,
                     headers={"Content-Type": "application/x-www-form-urlencoded"})
        resp = conn.getresponse()
        resp.read()
        cookie = resp.getheader("Set-Cookie", "").split(";")[0]
        if resp.status != 303 or not cookie:
            raise SystemExit(f"mint_codes: login answered {resp.status}")
        return conn, cookie

    def mint(n):
        # A session of its own: requests of one session are serialized on its record.
        c, cookie = login()
        got = []
        for _ in range(n):
            c.request("GET", "/authorize?" + query, headers={"Cookie": cookie})
            r = c.getresponse()
            r.read()
            code = re.search(r"[?&]code=([^&]+)", r.getheader("Location", ""))
            if r.status != 303 or not code:
                raise SystemExit(f"mint_codes: /authorize with the session answered {r.status}")
            got.append(code.group(1))
        return got

    workers = 8
    shares = [count // workers + (1 if i < count % workers else 0) for i in range(workers)]
    with concurrent.futures.ThreadPoolExecutor(workers) as pool:
        codes = [c for got in pool.map(mint, shares) for c in got]
    with open(out, "w") as f:
        f.write("\n".join(codes) + "\n")


if __name__ == "__main__":
    main()
