// openid-client v6 as the CIBA client against a running `idforge serve` (see ciba_interop.rs).
// argv: ISSUER. Prints one JSON line with what it observed; exits non-zero on any failure.
import * as client from 'openid-client';
import assert from 'node:assert/strict';

const issuer = process.argv[2];
const insecure = { execute: [client.allowInsecureRequests] }; // loopback http only
const discover = (id) => client.discovery(new URL(issuer), id, `${id}-secret`, undefined, insecure);

// The "phone": opens auth_url, signs in as the hinted user, answers `decision`.
const unescape = (s) => s.replaceAll('&quot;', '"').replaceAll('&#39;', "'").replaceAll('&amp;', '&');
async function answer(auth_url, decision, user = 'alice') {
  const page = await (await fetch(auth_url)).text();
  const sealed = unescape(/name="request" value="([^"]+)"/.exec(page)[1]);
  const form = { 'content-type': 'application/x-www-form-urlencoded' };
  const approval = await (await fetch(new URL('/bc-approve', issuer), {
    method: 'POST', headers: form,
    body: new URLSearchParams({ request: sealed, username: user, password: `${user}-password` }),
  })).text();
  const consent = unescape(/name="consent" value="([^"]+)"/.exec(approval)[1]);
  assert.match(approval, /name="decision" value="approve"/);
  assert.match(approval, /name="decision" value="deny"/);
  const done = await fetch(new URL('/bc-approve', issuer), {
    method: 'POST', headers: form, body: new URLSearchParams({ consent, decision }),
  });
  assert.equal(done.status, 200);
}

const payload = (jwt) => JSON.parse(Buffer.from(jwt.split('.')[1], 'base64url').toString());
const report = { ok: false };

// Poll mode, approval through auth_url; openid-client validates the ID token.
const assistant = await discover('assistant');
const meta = assistant.serverMetadata();
assert.equal(meta.backchannel_authentication_endpoint, `${issuer}/bc-authorize`);
assert.deepEqual(meta.backchannel_token_delivery_modes_supported, ['poll', 'ping', 'push']);
let bc = await client.initiateBackchannelAuthentication(assistant, {
  scope: 'openid email', login_hint: 'alice', binding_message: 'W4SCT',
});
assert.ok(bc.auth_req_id && bc.expires_in > 0 && bc.auth_url);
await answer(bc.auth_url, 'approve');
let tokens = await client.pollBackchannelAuthenticationGrant(assistant, bc);
report.sub = tokens.claims().sub;
report.id_token_validated = typeof tokens.id_token === 'string';

// Denial: access_denied.
bc = await client.initiateBackchannelAuthentication(assistant, { scope: 'openid', login_hint: 'alice' });
await answer(bc.auth_url, 'deny');
try {
  await client.pollBackchannelAuthenticationGrant(assistant, bc);
  report.denied = 'no error';
} catch (e) {
  report.denied = e.error ?? e.cause?.error ?? String(e);
}

// On-behalf-of: the agent's own client_credentials token as actor_token.
const cc = await client.clientCredentialsGrant(assistant, {});
bc = await client.initiateBackchannelAuthentication(assistant, {
  scope: 'openid', login_hint: 'alice@example.com', binding_message: 'MEET-42',
  actor_token: cc.access_token, actor_token_type: 'urn:ietf:params:oauth:token-type:access_token',
  authorization_details: JSON.stringify([{ type: 'calendar_event', action: 'create', title: 'Sync with Bob' }]),
  resource: 'https://calendar.example/',
});
await answer(bc.auth_url, 'approve');
tokens = await client.pollBackchannelAuthenticationGrant(assistant, bc);
const at = payload(tokens.access_token);
report.act = at.act;
report.obo_sub = at.sub;
report.obo_aud = at.aud;
report.obo_task = at.authorization_details?.[0]?.title;

// Ping: the server POSTs to the local listener; then the client polls.
const pinger = await discover('pinger');
bc = await client.initiateBackchannelAuthentication(pinger, {
  scope: 'openid', login_hint: 'alice', client_notification_token: 'ping-token',
});
await answer(bc.auth_url, 'approve');
tokens = await client.pollBackchannelAuthenticationGrant(pinger, bc);
report.ping_auth_req_id = bc.auth_req_id;
report.ping_sub = tokens.claims().sub;

// Push: the tokens go to the local listener.
const pusher = await discover('pusher');
bc = await client.initiateBackchannelAuthentication(pusher, {
  scope: 'openid', login_hint: 'alice', client_notification_token: 'push-token',
});
await answer(bc.auth_url, 'approve');
report.push_auth_req_id = bc.auth_req_id;

report.ok = true;
console.log(JSON.stringify(report));
