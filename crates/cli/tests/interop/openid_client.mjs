// openid-client v6 as the relying party against a running `idforge serve`.
// argv: ISSUER. Prints one JSON line with what it observed; exits non-zero on any failure.
import * as client from 'openid-client';
import assert from 'node:assert/strict';

const issuer = process.argv[2];
const redirect_uri = 'http://127.0.0.1:3000/callback';
const insecure = { execute: [client.allowInsecureRequests] }; // loopback http only

// The library's default client authentication: a client secret passed as the metadata
// shorthand, with no ClientAuth, means client_secret_post. The demo client is registered as
// client_secret_basic; the server accepts either form of the same secret.
const config = await client.discovery(
  new URL(issuer), 'demo-client', 'demo-secret', undefined, insecure);
const meta = config.serverMetadata();
assert.equal(meta.issuer, issuer);

// Authorization code + PKCE; the "browser" fills in the login form.
const code_verifier = client.randomPKCECodeVerifier();
const code_challenge = await client.calculatePKCECodeChallenge(code_verifier);
const state = client.randomState();
const nonce = client.randomNonce();
const url = client.buildAuthorizationUrl(config, {
  redirect_uri, scope: 'openid email profile', code_challenge, code_challenge_method: 'S256', state, nonce,
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
const callback = new URL(login.headers.get('location'));
assert.equal(callback.searchParams.get('iss'), issuer); // RFC 9207, also checked by the library

const tokens = await client.authorizationCodeGrant(config, callback, {
  pkceCodeVerifier: code_verifier, expectedState: state, expectedNonce: nonce, idTokenExpected: true,
});
const claims = tokens.claims();
assert.equal(claims.sub, 'alice');
assert.equal(claims.nonce, nonce);

const userinfo = await client.fetchUserInfo(config, tokens.access_token, claims.sub);
assert.equal(userinfo.email, 'alice@example.com');

const refreshed = await client.refreshTokenGrant(config, tokens.refresh_token);
assert.notEqual(refreshed.refresh_token, tokens.refresh_token);
assert.equal(refreshed.claims().sub, 'alice');

const active = await client.tokenIntrospection(config, refreshed.access_token);
assert.equal(active.active, true);
assert.equal(active.client_id, 'demo-client');

await client.tokenRevocation(config, refreshed.refresh_token);
const revoked = await client.tokenIntrospection(config, refreshed.refresh_token);
assert.equal(revoked.active, false);
const at_after = await client.tokenIntrospection(config, refreshed.access_token);
assert.equal(at_after.active, false, 'revoking the refresh token revokes the grant');

// Reuse of the first (rotated) refresh token is refused.
await assert.rejects(client.refreshTokenGrant(config, tokens.refresh_token), (e) => e.error === 'invalid_grant');

const cc = await client.clientCredentialsGrant(config, { scope: 'profile' });
assert.equal(cc.token_type.toLowerCase(), 'bearer');

console.log(JSON.stringify({
  ok: true, sub: claims.sub, scope: tokens.scope, introspected: active.active, revoked: !revoked.active,
  client_credentials: typeof cc.access_token,
}));
