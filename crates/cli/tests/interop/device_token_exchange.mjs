// openid-client v6 (device flow, token exchange) and jose v6 (a trusted issuer's keys and
// tokens) against a running `idforge serve`.
//   node device_token_exchange.mjs keygen        -> {"public": JWK, "private": JWK}
//   node device_token_exchange.mjs run ISSUER PRIVATE_JWK TRUSTED_ISSUER
// `run` prints one JSON line with what it observed; exits non-zero on any failure.
import * as client from 'openid-client';
import * as jose from 'jose';
import assert from 'node:assert/strict';

const mode = process.argv[2];

if (mode === 'keygen') {
  const { publicKey, privateKey } = await jose.generateKeyPair('ES256', { extractable: true });
  const pub = { ...(await jose.exportJWK(publicKey)), kid: 'interop-1', alg: 'ES256', use: 'sig' };
  const priv = { ...(await jose.exportJWK(privateKey)), kid: 'interop-1', alg: 'ES256' };
  console.log(JSON.stringify({ public: pub, private: priv }));
  process.exit(0);
}

const [issuer, privateJwk, trustedIssuer] = process.argv.slice(3);
const insecure = { execute: [client.allowInsecureRequests] }; // loopback http only
const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

// RFC 8628: the TV (a public client) asks for a code, the user approves on {issuer}/device.
const tv = await client.discovery(new URL(issuer), 'tv', { token_endpoint_auth_method: 'none' }, client.None(), insecure);
assert.equal(tv.serverMetadata().device_authorization_endpoint, `${issuer}/device_authorization`);
const da = await client.initiateDeviceAuthorization(tv, { scope: 'openid profile' });
assert.match(da.user_code, /^[BCDFGHJKLMNPQRSTVWXZ]{4}-[BCDFGHJKLMNPQRSTVWXZ]{4}$/);
assert.equal(da.verification_uri, `${issuer}/device`);
const polling = client.pollDeviceAuthorizationGrant(tv, da);

// The "user": opens verification_uri_complete (the code is pre-filled), signs in, approves.
const page = await (await fetch(da.verification_uri_complete)).text();
assert.ok(page.includes(`name="user_code" value="${da.user_code}"`), page);
assert.ok(page.includes('<code>tv</code>'), 'the page names the client');
const approve = await fetch(new URL('/device', issuer), {
  method: 'POST',
  headers: { 'content-type': 'application/x-www-form-urlencoded' },
  body: new URLSearchParams({ user_code: da.user_code.toLowerCase(), username: 'alice', password: 'alice-password', decision: 'approve' }),
});
assert.equal(approve.status, 200, await approve.clone().text());
const device = await polling;
assert.equal(device.claims().sub, 'alice');
assert.equal(payload(device.access_token).client_id, 'tv');

// RFC 8693: a subject token signed by the trusted issuer (keys made by jose) is exchanged for
// an access token of the associated local user (lookup attribute: email).
const key = await jose.importJWK(JSON.parse(privateJwk), 'ES256');
const subject_token = await new jose.SignJWT({ email: 'alice@example.com', scope: 'openid profile' })
  .setProtectedHeader({ alg: 'ES256', kid: 'interop-1', typ: 'JWT' })
  .setIssuer(trustedIssuer).setSubject('external-alice').setAudience(issuer)
  .setIssuedAt().setExpirationTime('5m').sign(key);
const TE = 'urn:ietf:params:oauth:grant-type:token-exchange';
const JWT = 'urn:ietf:params:oauth:token-type:jwt';
const AT = 'urn:ietf:params:oauth:token-type:access_token';
const rp = await client.discovery(new URL(issuer), 'rp', 'rp-secret', undefined, insecure);
const exchanged = await client.genericGrantRequest(rp, TE, {
  subject_token, subject_token_type: JWT, audience: 'https://api.example',
});
assert.equal(exchanged.issued_token_type, AT);
const at = payload(exchanged.access_token);
assert.equal(at.sub, 'alice');
assert.equal(at.aud, 'https://api.example');
assert.equal(at.act, undefined);

// Delegation: the agent's own token as actor_token becomes `act`.
const agent = await client.discovery(new URL(issuer), 'agent', 'agent-secret', undefined, insecure);
const actor = await client.clientCredentialsGrant(agent, {});
const delegated = await client.genericGrantRequest(agent, TE, {
  subject_token, subject_token_type: JWT, actor_token: actor.access_token, actor_token_type: AT,
});
const dat = payload(delegated.access_token);
assert.equal(dat.sub, 'alice');
assert.deepEqual(dat.act, { sub: 'agent' });

// Without an actor token the agent may not impersonate.
await assert.rejects(
  client.genericGrantRequest(agent, TE, { subject_token, subject_token_type: JWT }),
  (e) => e.error === 'unauthorized_client');

console.log(JSON.stringify({
  ok: true, device_sub: device.claims().sub, exchanged_sub: at.sub, act: dat.act,
}));
