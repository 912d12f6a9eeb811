// Interop peer over npm `jose` v6. Reads {"ops":[...]} on stdin, writes {"results":[...]} on
// stdout, one result per op in order. Usage: node jose_peer.mjs <path to jose's index.js>.
// Ops (binary values are base64url):
//   {"op":"jws_sign","alg","jwk","payload"}          -> {"ok":true,"token"}
//   {"op":"jws_verify","alg","jwk","token"}          -> {"ok":true,"payload"}
//   {"op":"jwe_encrypt","alg","enc","jwk","plaintext"} -> {"ok":true,"token"}
//   {"op":"jwe_decrypt","alg","enc","jwk","token"}   -> {"ok":true,"plaintext","header"}
// A failure is {"ok":false,"error":"<code>: <message>"}.
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const jose = await import(pathToFileURL(process.argv[2]).href);
const b64 = (bytes) => Buffer.from(bytes).toString('base64url');
const unb64 = (text) => new Uint8Array(Buffer.from(text, 'base64url'));

async function run(op) {
  const key = await jose.importJWK(op.jwk, op.alg);
  switch (op.op) {
    case 'jws_sign': {
      const token = await new jose.CompactSign(unb64(op.payload))
        .setProtectedHeader({ alg: op.alg })
        .sign(key);
      return { ok: true, token };
    }
    case 'jws_verify': {
      const { payload } = await jose.compactVerify(op.token, key, { algorithms: [op.alg] });
      return { ok: true, payload: b64(payload) };
    }
    case 'jwe_encrypt': {
      const token = await new jose.CompactEncrypt(unb64(op.plaintext))
        .setProtectedHeader({ alg: op.alg, enc: op.enc })
        .encrypt(key);
      return { ok: true, token };
    }
    case 'jwe_decrypt': {
      const { plaintext, protectedHeader } = await jose.compactDecrypt(op.token, key, {
        keyManagementAlgorithms: [op.alg],
        contentEncryptionAlgorithms: [op.enc],
      });
      return { ok: true, plaintext: b64(plaintext), header: protectedHeader };
    }
    default:
      throw new Error(`unknown op ${op.op}`);
  }
}

const input = JSON.parse(readFileSync(0, 'utf8'));
const results = [];
for (const op of input.ops) {
  try {
    results.push(await run(op));
  } catch (e) {
    results.push({ ok: false, error: `${e.code ?? e.name}: ${e.message}` });
  }
}
process.stdout.write(JSON.stringify({ peer: `jose ${input.version ?? ''}`.trim(), results }));
