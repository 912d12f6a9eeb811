// Interop peer: npm `@openid4vc/openid4vci` 0.4.x as the wallet against `idforge serve`, then
// the received credentials checked with `@sd-jwt/sd-jwt-vc` (dc+sd-jwt) and `jose`
// (jwt_vc_json), then revoked through the status list. Usage: node openid4vci_wallet.mjs ISSUER
// (the back office client `backoffice` creates the offers). Prints one JSON report line.
import crypto from 'node:crypto';
import zlib from 'node:zlib';
import { Openid4vciClient } from '@openid4vc/openid4vci';
import { setGlobalConfig, clientAuthenticationAnonymous, clientAuthenticationNone } from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';

setGlobalConfig({ allowInsecureUrls: true });
const [issuer] = process.argv.slice(2);

// The back office: a client_credentials token with `credential_offers`, then two offers.
const adminToken = (await (await fetch(`${issuer}/token`, {
  method: 'POST',
  headers: {
    'content-type': 'application/x-www-form-urlencoded',
    authorization: `Basic ${Buffer.from('backoffice:backoffice-secret').toString('base64')}`,
  },
  body: 'grant_type=client_credentials&scope=credential_offers',
})).json()).access_token;
async function admin(path, body) {
  const r = await fetch(`${issuer}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
    body: JSON.stringify(body),
  });
  if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  return r.status === 201 ? r.json() : r.status;
}
const pre = await admin('/credential-offers', {
  username: 'alice', credential_configuration_ids: ['pid', 'diploma'], pre_authorized: true, tx_code: true,
});
const byCode = await admin('/credential-offers', {
  username: 'alice', credential_configuration_ids: ['pid'], pre_authorized: false,
});
const byCodeDetails = await admin('/credential-offers', {
  username: 'alice', credential_configuration_ids: ['pid'], pre_authorized: false,
});
const offerUri = (o) => `openid-credential-offer://?credential_offer_uri=${encodeURIComponent(o.credential_offer_uri)}`;
const [preOfferUri, txCode, codeOfferUri] = [offerUri(pre), pre.tx_code, offerUri(byCode)];

const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
const publicJwk = await jose.exportJWK(publicKey);
const callbacks = (clientAuthentication) => ({
  fetch,
  hash: (data, alg) =>
    new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
  generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  signJwt: async (_signer, { header, payload }) => ({
    jwt: await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey),
    signerJwk: publicJwk,
  }),
  clientAuthentication,
});
const signer = { method: 'jwk', alg: 'ES256', publicJwk };

async function credentialsFor(client, issuerMetadata, accessToken, configId, clientId) {
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, signer, nonce: c_nonce, credentialConfigurationId: configId, clientId,
  });
  const res = await client.retrieveCredentials({
    issuerMetadata, accessToken, credentialConfigurationId: configId, proofs: { jwt: [jwt] },
  });
  const body = res.credentialResponse;
  return { credentials: body.credentials.map((c) => c.credential), notification_id: body.notification_id };
}

const report = { ok: false };

// 1. Pre-authorized code with tx_code, anonymous.
{
  const client = new Openid4vciClient({ callbacks: callbacks(clientAuthenticationAnonymous()) });
  const offer = await client.resolveCredentialOffer(preOfferUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, txCode,
  });
  const token = accessTokenResponse.access_token;
  const pid = await credentialsFor(client, issuerMetadata, token, 'pid');
  const diploma = await credentialsFor(client, issuerMetadata, token, 'diploma');
  await client.sendNotification({
    issuerMetadata, accessToken: token,
    notification: { notificationId: pid.notification_id, event: 'credential_accepted' },
  });
  report.sd_jwt = pid.credentials[0];
  report.jwt_vc = diploma.credentials[0];
}

// Verification with the issuer's published keys.
const vcIssuer = await (await fetch(`${issuer}/.well-known/jwt-vc-issuer`)).json();
const issuerKey = await jose.importJWK(vcIssuer.jwks.keys[0], 'ES256');
const issuerJwk = vcIssuer.jwks.keys[0];
{
  const sdjwt = new SDJwtVcInstance({
    hasher: digest,
    verifier: await ES256.getVerifier(issuerJwk),
  });
  const verified = await sdjwt.verify(report.sd_jwt);
  report.sd_jwt_claims = verified.payload;
  report.sd_jwt_vct = verified.payload.vct;
}
{
  const { payload, protectedHeader } = await jose.jwtVerify(report.jwt_vc, issuerKey, { issuer });
  report.jwt_vc_types = payload.vc.type;
  report.jwt_vc_cnf_matches = payload.cnf.jwk.x === publicJwk.x;
  report.jwt_vc_kid = protectedHeader.kid;
}

// 2. Authorization code flow with PKCE through the login form, as the wallet client.
{
  const clientId = 'eu-wallet';
  const redirectUri = 'eu.wallet://callback';
  const client = new Openid4vciClient({ callbacks: callbacks(clientAuthenticationNone({ clientId })) });
  const offer = await client.resolveCredentialOffer(codeOfferUri);
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer: offer, issuerMetadata, clientId, redirectUri, scope: 'pid',
  });
  const page = await (await fetch(authorizationRequestUrl, { redirect: 'manual' })).text();
  const sealed = /name="request" value="([^"]+)"/.exec(page)?.[1]?.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  if (!sealed) throw new Error(`no login form: ${page.slice(0, 300)}`);
  const action = /action="([^"]+)"/.exec(page)[1];
  const login = await fetch(new URL(action, issuer), {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: sealed, username: 'alice', password: 'alice-password' }),
  });
  const location = login.headers.get('location');
  const code = new URL(location).searchParams.get('code');
  const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, authorizationCode: code,
    pkceCodeVerifier: pkce?.codeVerifier, redirectUri,
  });
  const pid = await credentialsFor(client, issuerMetadata, accessTokenResponse.access_token, 'pid', clientId);
  report.code_flow_credentials = pid.credentials.length;
}

// 2b. Authorization code flow with `authorization_details` (OID4VCI §5.1.1) and the offer's
// `issuer_state`: the library 0.4.x sends the details through `additionalRequestPayload` and
// parses them from the token response (§6.2), but its `retrieveCredentials` always sends
// `credential_configuration_id`, so the credential request naming the granted
// `credential_identifier` (§8.2) is posted directly, with the library's proof.
{
  const clientId = 'eu-wallet';
  const redirectUri = 'eu.wallet://callback';
  const client = new Openid4vciClient({ callbacks: callbacks(clientAuthenticationNone({ clientId })) });
  const offer = await client.resolveCredentialOffer(offerUri(byCodeDetails));
  const issuerMetadata = await client.resolveIssuerMetadata(offer.credential_issuer);
  const { authorizationRequestUrl, pkce } = await client.createAuthorizationRequestUrlFromOffer({
    credentialOffer: offer, issuerMetadata, clientId, redirectUri,
    additionalRequestPayload: {
      authorization_details: [{ type: 'openid_credential', credential_configuration_id: 'pid' }],
    },
  });
  const page = await (await fetch(authorizationRequestUrl, { redirect: 'manual' })).text();
  const sealed = /name="request" value="([^"]+)"/.exec(page)?.[1]?.replaceAll('&quot;', '"').replaceAll('&amp;', '&');
  if (!sealed) throw new Error(`no login form: ${page.slice(0, 300)}`);
  const action = /action="([^"]+)"/.exec(page)[1];
  const login = await fetch(new URL(action, issuer), {
    method: 'POST', redirect: 'manual',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ request: sealed, username: 'alice', password: 'alice-password' }),
  });
  const location = login.headers.get('location');
  const code = new URL(location).searchParams.get('code');
  if (!code) throw new Error(`no code: ${location}`);
  const { accessTokenResponse } = await client.retrieveAuthorizationCodeAccessTokenFromOffer({
    credentialOffer: offer, issuerMetadata, authorizationCode: code,
    pkceCodeVerifier: pkce?.codeVerifier, redirectUri,
  });
  const details = accessTokenResponse.authorization_details ?? [];
  report.code_flow_details = details;
  const identifier = details[0]?.credential_identifiers?.[0];
  const { c_nonce } = await client.requestNonce({ issuerMetadata });
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, signer, nonce: c_nonce, credentialConfigurationId: 'pid', clientId,
  });
  const r = await fetch(issuerMetadata.credentialIssuer.credential_endpoint, {
    method: 'POST',
    headers: { 'content-type': 'application/json', authorization: `Bearer ${accessTokenResponse.access_token}` },
    body: JSON.stringify({ credential_identifier: identifier, proofs: { jwt: [jwt] } }),
  });
  const body = await r.json();
  report.code_flow_details_status = r.status;
  report.code_flow_details_credentials = body.credentials?.length ?? 0;
  // The issuer_state was redeemed: a new request with it is refused (§5.1.3), at the
  // pushed authorization request endpoint or at the authorization endpoint.
  try {
    const { authorizationRequestUrl: url } = await client.createAuthorizationRequestUrlFromOffer({
      credentialOffer: offer, issuerMetadata, clientId, redirectUri, scope: 'pid',
    });
    const again = await fetch(url, { redirect: 'manual' });
    report.code_flow_reused_issuer_state = new URL(again.headers.get('location')).searchParams.get('error');
  } catch (e) {
    report.code_flow_reused_issuer_state = e.errorResponse?.error ?? String(e);
  }
}

// 3. Revocation: the status list token at the credential's `status.status_list.uri` has its bit.
{
  const ref = report.sd_jwt_claims.status.status_list;
  const bit = async () => {
    const r = await fetch(ref.uri);
    report.status_list_content_type = r.headers.get('content-type');
    const { payload, protectedHeader } = await jose.jwtVerify(await r.text(), issuerKey, {
      typ: 'statuslist+jwt', subject: ref.uri,
    });
    const raw = zlib.inflateSync(Buffer.from(payload.status_list.lst, 'base64url'));
    return (raw[Math.floor(ref.idx / 8)] >> (ref.idx % 8)) & 1;
  };
  report.status_before = await bit();
  await admin('/credential-status', { status_list: ref, status: 'revoked' });
  report.status_after = await bit();
}

report.issuer_jwk = issuerJwk;
report.ok = true;
console.log(JSON.stringify(report));
