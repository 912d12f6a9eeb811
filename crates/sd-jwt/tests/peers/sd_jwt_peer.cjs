// SD-JWT interop peer: npm @sd-jwt/core + @sd-jwt/sd-jwt-vc 0.15.x (+ @sd-jwt/crypto-nodejs).
// Reads one JSON batch on stdin, writes one JSON array of results on stdout (one process per
// batch). Paths are RFC 6901 JSON Pointers, translated to disclosure / presentation frames.
'use strict';
const { SDJwtVcInstance } = require('@sd-jwt/sd-jwt-vc');
const { ES256, digest, generateSalt } = require('@sd-jwt/crypto-nodejs');

const tokens = (p) => p.split('/').slice(1).map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));

// Disclosure frame: {_sd: [names], child: {...}, _sd_decoy: n}
function disclosureFrame(paths, decoys) {
  const root = {};
  for (const p of paths) {
    const toks = tokens(p);
    let node = root;
    toks.forEach((t, i) => {
      if (i === toks.length - 1) {
        node._sd = node._sd || [];
        node._sd.push(/^\d+$/.test(t) ? Number(t) : t);
      } else {
        node[t] = node[t] || {};
        node = node[t];
      }
    });
  }
  if (decoys > 0) root._sd_decoy = decoys;
  return root;
}

// Presentation frame: {name: true, obj: {child: true}, arr: {1: true}}
function presentationFrame(paths) {
  const root = {};
  for (const p of paths) {
    const toks = tokens(p);
    let node = root;
    toks.forEach((t, i) => {
      if (i === toks.length - 1) node[t] = true;
      else {
        if (typeof node[t] !== 'object') node[t] = {};
        node = node[t];
      }
    });
  }
  return root;
}

async function main() {
  const input = await new Promise((res) => {
    let s = '';
    process.stdin.on('data', (d) => (s += d));
    process.stdin.on('end', () => res(s));
  });
  const batch = JSON.parse(input);
  const sdjwt = new SDJwtVcInstance({
    signer: await ES256.getSigner(batch.issuer_private),
    signAlg: 'ES256',
    verifier: await ES256.getVerifier(batch.issuer_public),
    hasher: digest,
    hashAlg: 'sha-256',
    saltGenerator: generateSalt,
    kbSigner: await ES256.getSigner(batch.holder_private),
    kbSignAlg: 'ES256',
    kbVerifier: async (data, sig, payload) => (await ES256.getVerifier(payload.cnf.jwk))(data, sig),
  });
  const results = [];
  for (const job of batch.jobs) {
    const r = { id: job.id };
    try {
      const kb = { payload: { aud: job.aud, nonce: job.nonce, iat: Math.floor(Date.now() / 1000) } };
      if (job.op === 'verify') {
        const v = await sdjwt.verify(job.presentation, { keyBindingNonce: job.nonce });
        if (!v.kb || v.kb.payload.aud !== job.aud) throw new Error('KB-JWT missing or wrong aud');
        r.claims = v.payload;
      } else if (job.op === 'present') {
        r.presentation = await sdjwt.present(job.sd_jwt, presentationFrame(job.disclose), { kb });
      } else if (job.op === 'issue_present') {
        const claims = { ...job.claims, cnf: { jwk: batch.holder_public } };
        r.sd_jwt = await sdjwt.issue(claims, disclosureFrame(job.sd, job.decoys || 0));
        r.presentation = await sdjwt.present(r.sd_jwt, presentationFrame(job.disclose), { kb });
      } else {
        throw new Error('unknown op ' + job.op);
      }
      r.ok = true;
    } catch (e) {
      r.ok = false;
      r.error = String(e && e.message ? e.message : e);
    }
    results.push(r);
  }
  process.stdout.write(JSON.stringify(results));
}

main().catch((e) => {
  process.stderr.write(String(e && e.stack ? e.stack : e));
  process.exit(1);
});
