// node-oidc-provider 9 configured like benches/load/idforge.toml: one confidential client
// (client_secret_basic) with the client_credentials grant, ES256 JWT access tokens (RFC 9068,
// through resourceIndicators), the built-in in-memory adapter. Prints "listening" when ready.
import { generateKeyPairSync } from 'node:crypto';
import Provider from 'oidc-provider';

const port = Number(process.argv[2] || 3000);
const issuer = `http://127.0.0.1:${port}`;
const key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
const resource = 'urn:idforge:load';

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'svc',
    client_secret: 'svc-secret',
    grant_types: ['client_credentials'],
    redirect_uris: [],
    response_types: [],
    token_endpoint_auth_method: 'client_secret_basic',
    // Only an ES256 key is configured (as idforge's generated one).
    id_token_signed_response_alg: 'ES256',
  }],
  jwks: { keys: [{ ...key, kid: 'load', alg: 'ES256', use: 'sig' }] },
  scopes: ['profile'],
  features: {
    devInteractions: { enabled: false },
    clientCredentials: { enabled: true },
    resourceIndicators: {
      enabled: true,
      defaultResource: () => resource,
      useGrantedResource: () => true,
      getResourceServerInfo: () => ({
        scope: 'profile',
        audience: resource,
        accessTokenFormat: 'jwt',
        jwt: { sign: { alg: 'ES256' } },
      }),
    },
  },
});
provider.listen(port, '127.0.0.1', () => console.log('listening'));
