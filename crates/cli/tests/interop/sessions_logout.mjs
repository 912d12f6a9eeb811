// RP-Initiated and Back-Channel Logout interop against a running `idforge serve`:
// openid-client v6 logs in (code + PKCE through the HTML form), builds the logout URL with
// buildEndSessionUrl, the "browser" follows it with its session cookie; a local listener on
// PORT receives the Logout Token, which npm `jose` verifies against the provider's JWKS with
// the rules of OpenID Connect Back-Channel Logout 1.0 §2.6.
// argv: ISSUER PORT. Prints one JSON line; exits non-zero on any failure.
import * as client from 'openid-client';
import * as jose from 'jose';
import assert from 'node:assert/strict';
import http from 'node:http';

const [issuer, port] = [process.argv[2], Number(process.argv[3])];
const redirect_uri = 'http://127.0.0.1:3000/callback';
const post_logout_redirect_uri = 'http://127.0.0.1:3000/bye';
const insecure = { execute: [client.allowInsecureRequests] }; // loopback http only

// The RP's back-channel logout endpoint (Back-Channel Logout 1.0 §2.5).
let delivered;
const received = new Promise((resolve) => { delivered = resolve; });
const server = http.createServer((req, res) => {
  let body = '';
  req.on('data', (c) => { body += c; });
  req.on('end', () => {
    res.writeHead(200, { 'cache-control': 'no-store' }).end();
    delivered({ method: req.method, path: req.url, type: req.headers['content-type'], body });
  });
});
await new Promise((r) => server.listen(port, '127.0.0.1', r));

const config = await client.discovery(new URL(issuer), 'rp', 'rp-secret', undefined, insecure);
const meta = config.serverMetadata();
assert.equal(meta.end_session_endpoint, `${issuer}/logout`);
for (const m of ['frontchannel_logout_supported', 'frontchannel_logout_session_supported',
  'backchannel_logout_supported', 'backchannel_logout_session_supported']) {
  assert.equal(meta[m], true, m);
}

// Log in; keep the session cookie as a browser would.
const code_verifier = client.randomPKCECodeVerifier();
const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri, scope: 'openid', code_challenge, code_challenge_method: 'S256', state, nonce,
});
const page = await (await fetch(url)).text();
const sealed = /name="request" value="([^"]+)"/.exec(page)[1].replaceAll('&quot;', '"').replaceAll('&amp;', '&');
const login = await fetch(new URL('/authorize', issuer), {
  method: 'POST',
  redirect: 'manual',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ request: sealed, username: 'alice', password: 'alice-password' }),
});
assert.equal(login.status, 303);
const setCookie = login.headers.get('set-cookie');
assert.match(setCookie, /HttpOnly; SameSite=Lax/);
const cookie = setCookie.split(';')[0];
const tokens = await client.authorizationCodeGrant(config, new URL(login.headers.get('location')), {
  pkceCodeVerifier: code_verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const idClaims = tokens.claims();
assert.ok(idClaims.sid, 'the ID token carries sid');

// RP-Initiated Logout 1.0 with the library's URL.
const logoutState = client.randomState();
const endUrl = client.buildEndSessionUrl(config, {
  id_token_hint: tokens.id_token, post_logout_redirect_uri, state: logoutState,
});
assert.equal(`${endUrl.origin}${endUrl.pathname}`, meta.end_session_endpoint);
const logout = await fetch(endUrl, { headers: { cookie }, redirect: 'manual' });
assert.equal(logout.status, 200);
const html = await logout.text();
const target = `${post_logout_redirect_uri}?state=${logoutState}`;
assert.ok(html.includes(`<meta http-equiv="refresh" content="0;url=${target}">`), html);
assert.match(logout.headers.get('set-cookie'), /Max-Age=0/);

// The Logout Token, verified per Back-Channel Logout 1.0 §2.6.
const got = await Promise.race([
  received,
  new Promise((_, reject) => setTimeout(() => reject(new Error('no back-channel logout')), 10000)),
]);
server.close();
assert.equal(got.method, 'POST');
assert.equal(got.path, '/backchannel');
assert.equal(got.type, 'application/x-www-form-urlencoded');
const logout_token = new URLSearchParams(got.body).get('logout_token');
const jwks = jose.createRemoteJWKSet(new URL(meta.jwks_uri));
// §2.6 steps 2-3: signature with the OP's keys (the ID token's algorithm), iss, aud, exp.
const { payload, protectedHeader } = await jose.jwtVerify(logout_token, jwks, {
  issuer, audience: 'rp', typ: 'logout+jwt', algorithms: [jose.decodeProtectedHeader(tokens.id_token).alg],
  requiredClaims: ['iat', 'exp', 'jti'],
});
assert.equal(protectedHeader.typ, 'logout+jwt');
// §2.6 step 4: iat; 5: sub or sid; 6: events holds the back-channel logout member, an object;
// 7: no nonce.
assert.equal(typeof payload.iat, 'number');
assert.ok(payload.sub || payload.sid);
assert.equal(payload.sid, idClaims.sid);
assert.equal(payload.sub, idClaims.sub);
const event = payload.events?.['http://schemas.openid.net/event/backchannel-logout'];
assert.ok(event && typeof event === 'object' && !Array.isArray(event));
assert.deepEqual(Object.keys(payload.events), ['http://schemas.openid.net/event/backchannel-logout']);
assert.equal(payload.nonce, undefined);

// §2.7: the session's refresh token (no offline_access) was revoked.
await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');

console.log(JSON.stringify({ ok: true, sid: payload.sid, sub: payload.sub, redirect: target }));
// Keep-alive sockets (ours and the HTTP client's) would hold the process open for seconds.
process.exit(0);
