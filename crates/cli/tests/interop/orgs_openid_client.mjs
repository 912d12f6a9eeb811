// openid-client v6 against a running `idforge serve` with organizations.
// argv: ISSUER. Prints one JSON line with what it observed; exits non-zero on any failure.
//  1. alice (resident in the root, shared into eu and its future children with role `sales`)
//     logs in at the root with code + PKCE, then switches to eu-sales with
//     genericGrantRequest('organization_switch'); the new tokens carry eu-sales's claims.
//  2. partner-app, registered in the self-issuing organization `partner`, discovers
//     {issuer}/o/partner and pat logs in there; the tokens come from that issuer and carry
//     partner's organization claims.
import * as client from 'openid-client';
import assert from 'node:assert/strict';

const issuer = process.argv[2];
const redirect_uri = 'http://127.0.0.1:3000/callback';
const insecure = { execute: [client.allowInsecureRequests] }; // loopback http only

const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());

async function login(config, base, username, scope) {
  const code_verifier = client.randomPKCECodeVerifier();
  const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
  const state = client.randomState();
  const nonce = client.randomNonce();
  const url = client.buildAuthorizationUrl(config, {
    redirect_uri, scope, code_challenge, code_challenge_method: 'S256', state, nonce,
  });
  const page = await (await fetch(url)).text();
  const sealed = /name="request" value="([^"]+)"/.exec(page)[1].replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  const action = /action="([^"]+)"/.exec(page)[1];
  const res = await fetch(new URL(action, base), {
    method: 'POST',
    redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: sealed, username, password: `${username}-password` }),
  });
  assert.equal(res.status, 303);
  const callback = new URL(res.headers.get('location'));
  return client.authorizationCodeGrant(config, callback, {
    pkceCodeVerifier: code_verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
  });
}

// 1. Root login, then switch.
const root = await client.discovery(new URL(issuer), 'app', 'app-secret', undefined, insecure);
assert.ok(root.serverMetadata().grant_types_supported.includes('organization_switch'));
const first = await login(root, issuer, 'alice', 'openid profile');
assert.equal(first.claims().sub, 'alice');
assert.equal(payload(first.access_token).org_id, undefined);

const switched = await client.genericGrantRequest(root, 'organization_switch', {
  token: first.access_token, switching_organization: 'eu-sales', scope: 'openid profile',
});
const at = payload(switched.access_token);
assert.equal(at.iss, issuer);
assert.equal(at.sub, 'alice');
assert.equal(at.org_id, 'eu-sales');
assert.equal(at.org_name, 'Acme EU Sales');
assert.equal(at.org_handle, 'eu-sales');
assert.equal(at.user_org, 'root');
assert.deepEqual(at.roles, ['sales']);
const idt = switched.claims();
assert.equal(idt.org_id, 'eu-sales');
assert.deepEqual(idt.roles, ['sales']);

// A refusal comes back as an OAuth error.
await assert.rejects(
  client.genericGrantRequest(root, 'organization_switch', { token: first.access_token, switching_organization: 'partner' }),
  (e) => e.error === 'invalid_grant');
await assert.rejects(
  client.genericGrantRequest(root, 'organization_switch', { token: first.access_token, switching_organization: 'nowhere' }),
  (e) => e.error === 'invalid_request');

// 2. The self-issuing organization's own issuer.
const orgIssuer = `${issuer}/o/partner`;
const partner = await client.discovery(new URL(orgIssuer), 'partner-app', 'partner-app-secret', undefined, insecure);
assert.equal(partner.serverMetadata().issuer, orgIssuer);
const pt = await login(partner, issuer, 'pat', 'openid');
assert.equal(pt.claims().iss, orgIssuer);
assert.equal(pt.claims().sub, 'pat');
const pat = payload(pt.access_token);
assert.equal(pat.iss, orgIssuer);
// Its authorization-code tokens carry the organization's claims.
assert.equal(pat.org_id, 'partner');
assert.equal(pat.org_handle, 'partner');
assert.equal(pat.user_org, 'partner');
assert.equal(pt.claims().org_id, 'partner');
const info = await client.fetchUserInfo(partner, pt.access_token, 'pat');
assert.equal(info.sub, 'pat');

console.log(JSON.stringify({
  ok: true, org_id: at.org_id, roles: at.roles, user_org: at.user_org, org_issuer: pt.claims().iss,
  partner_org_id: pat.org_id,
}));
