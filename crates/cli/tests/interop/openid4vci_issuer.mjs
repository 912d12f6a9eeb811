// Interop peer: a stand-in credential issuer built on npm `@openid4vc/openid4vci` 0.4.x
// (`Openid4vciIssuer`) and `@openid4vc/oauth2` (`Oauth2AuthorizationServer`), issuing SD-JWT VCs
// with `@sd-jwt/sd-jwt-vc`, for idforge's wallet client to talk to. Listens on loopback and
// prints `issuer: URL`, `offer: URI`, `tx_code: CODE`, `issuer_jwk: JSON`, one per line.
// Unencrypted: 0.4.x's issuer classes still expect a draft-era `alg` inside
// `credential_response_encryption`, so that leg is not exercised.
import crypto from 'node:crypto';
import http from 'node:http';
import { Openid4vciIssuer, Openid4vciVersion } from '@openid4vc/openid4vci';
import { Oauth2AuthorizationServer, setGlobalConfig } from '@openid4vc/oauth2';
import { SDJwtVcInstance } from '@sd-jwt/sd-jwt-vc';
import { ES256, digest } from '@sd-jwt/crypto-nodejs';
import * as jose from 'jose';

setGlobalConfig({ allowInsecureUrls: true });
const { privateKey, publicKey } = await jose.generateKeyPair('ES256', { extractable: true });
const issuerJwk = { ...(await jose.exportJWK(publicKey)), kid: 'standin-1', alg: 'ES256' };
const privateJwk = await jose.exportJWK(privateKey);

const callbacks = {
  fetch,
  hash: (data, alg) => new Uint8Array(crypto.createHash(alg.replace('-', '')).update(data).digest()),
  generateRandom: (n) => new Uint8Array(crypto.randomBytes(n)),
  signJwt: async (_signer, { header, payload }) => ({
    jwt: await new jose.SignJWT(payload).setProtectedHeader(header).sign(privateKey),
    signerJwk: issuerJwk,
  }),
  verifyJwt: async (signer, { compact }) => {
    try {
      const key = await jose.importJWK(signer.publicJwk, signer.alg);
      await jose.compactVerify(compact, key);
      return { verified: true, signerJwk: signer.publicJwk };
    } catch {
      return { verified: false };
    }
  },
  clientAuthentication: () => {},
};
const issuer = new Openid4vciIssuer({ callbacks });
const as = new Oauth2AuthorizationServer({ callbacks });

const server = http.createServer();
await new Promise((r) => server.listen(0, '127.0.0.1', r));
const base = `http://127.0.0.1:${server.address().port}`;

const credentialIssuer = issuer.createCredentialIssuerMetadata({
  credential_issuer: base,
  credential_endpoint: `${base}/credential`,
  nonce_endpoint: `${base}/nonce`,
  credential_configurations_supported: {
    pid: {
      format: 'dc+sd-jwt',
      vct: 'urn:example:pid',
      cryptographic_binding_methods_supported: ['jwk'],
      credential_signing_alg_values_supported: ['ES256'],
      proof_types_supported: { jwt: { proof_signing_alg_values_supported: ['ES256'] } },
    },
  },
});
const asMetadata = as.createAuthorizationServerMetadata({
  issuer: base,
  token_endpoint: `${base}/token`,
  'pre-authorized_grant_anonymous_access_supported': true,
});
const issuerMetadata = {
  originalDraftVersion: Openid4vciVersion.V1,
  credentialIssuer,
  authorizationServers: [asMetadata],
  knownCredentialConfigurations: issuer.getKnownCredentialConfigurationsSupported(credentialIssuer),
};

const preAuthorizedCode = crypto.randomBytes(16).toString('base64url');
const txCode = '4711';
const { credentialOffer } = await issuer.createCredentialOffer({
  issuerMetadata,
  credentialConfigurationIds: ['pid'],
  grants: {
    'urn:ietf:params:oauth:grant-type:pre-authorized_code': {
      'pre-authorized_code': preAuthorizedCode,
      tx_code: { input_mode: 'numeric', length: 4 },
    },
  },
});
const tokens = new Set();
const nonces = new Set();

const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  signer: await ES256.getSigner(privateJwk),
  signAlg: 'ES256',
  saltGenerator: () => crypto.randomBytes(16).toString('base64url'),
});

function send(res, status, body) {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json', 'cache-control': 'no-store',
    'content-length': Buffer.byteLength(text), connection: 'close',
  });
  res.end(text);
}

server.on('request', async (req, res) => {
  let raw = '';
  for await (const chunk of req) raw += chunk;
  const url = new URL(req.url, base);
  const request = { method: req.method, url: url.toString(), headers: new Headers(req.headers) };
  try {
    if (url.pathname === '/.well-known/openid-credential-issuer') return send(res, 200, credentialIssuer);
    if (url.pathname === '/.well-known/oauth-authorization-server') return send(res, 200, asMetadata);
    if (url.pathname === '/token') {
      const form = Object.fromEntries(new URLSearchParams(raw));
      const parsed = as.parseAccessTokenRequest({ request, accessTokenRequest: form });
      await as.verifyPreAuthorizedCodeAccessTokenRequest({
        authorizationServerMetadata: asMetadata,
        grant: parsed.grant,
        accessTokenRequest: parsed.accessTokenRequest,
        request,
        expectedPreAuthorizedCode: preAuthorizedCode,
        expectedTxCode: txCode,
      });
      const response = await as.createAccessTokenResponse({
        audience: base,
        authorizationServer: base,
        expiresInSeconds: 600,
        signer: { method: 'jwk', alg: 'ES256', publicJwk: issuerJwk },
        subject: 'alice',
      });
      tokens.add(response.access_token);
      return send(res, 200, response);
    }
    if (url.pathname === '/nonce') {
      const cNonce = crypto.randomBytes(16).toString('base64url');
      nonces.add(cNonce);
      return send(res, 200, issuer.createNonceResponse({ cNonce }));
    }
    if (url.pathname === '/credential') {
      const token = (req.headers.authorization ?? '').replace(/^Bearer /, '');
      if (!tokens.has(token)) return send(res, 401, { error: 'invalid_token' });
      const credentialRequest = issuer.parseCredentialRequest({ issuerMetadata, credentialRequest: JSON.parse(raw) });
      const credentials = [];
      for (const jwt of credentialRequest.proofs?.jwt ?? []) {
        const nonce = jose.decodeJwt(jwt).nonce;
        if (!nonces.delete(nonce)) return send(res, 400, { error: 'invalid_nonce' });
        const verified = await issuer.verifyCredentialRequestJwtProof({ issuerMetadata, jwt, expectedNonce: nonce });
        const credential = await sdjwt.issue(
          {
            iss: base, iat: Math.floor(Date.now() / 1000), vct: 'urn:example:pid',
            cnf: { jwk: verified.signer.publicJwk }, given_name: 'Alice', family_name: 'Liddell',
          },
          { _sd: ['given_name', 'family_name'] },
          { header: { kid: issuerJwk.kid } },
        );
        credentials.push({ credential });
      }
      return send(res, 200, issuer.createCredentialResponse({ credentialRequest, credentials, notificationId: 'n-1' }));
    }
    return send(res, 404, { error: 'not_found' });
  } catch (e) {
    if (process.env.IDFORGE_DEBUG) console.error(e);
    const body = e?.errorResponse ?? { error: 'invalid_request', error_description: String(e?.message ?? e) };
    return send(res, 400, body);
  }
});

console.log(`issuer: ${base}`);
console.log(`offer: ${credentialOffer}`);
console.log(`tx_code: ${txCode}`);
console.log(`issuer_jwk: ${JSON.stringify(issuerJwk)}`);
