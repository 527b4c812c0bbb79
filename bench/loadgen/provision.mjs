// Provisions benchmark accounts on a running sottod (started with low Argon2 settings, raised
// RATE_LIMIT_* and ACCESS_TOKEN_TTL=86400): N users with one device each (real Ed25519/X25519
// bundles, the server checks the signatures), and a direct conversation for each of the first
// PAIRS pairs (accounts 2k and 2k+1). Writes one line per account for bench/loadgen:
//   <index> <userId> <deviceId> <accessToken> <conversationId or ->
// Usage: node provision.mjs <baseUrl> <count> <pairs> <outFile> [concurrency]
import crypto from 'node:crypto';
import fs from 'node:fs';

const [base, countArg, pairsArg, out, concArg] = process.argv.slice(2);
const count = Number(countArg), pairs = Number(pairsArg), conc = Number(concArg || 32);
if (!base || !count || !out || pairs * 2 > count) {
  console.error('usage: node provision.mjs <baseUrl> <count> <pairs> <outFile> [concurrency]');
  process.exit(2);
}
const b64 = (b) => Buffer.from(b).toString('base64');
const raw = (k) => Buffer.from(k.export({ format: 'jwk' }).x, 'base64url');
const x25519 = () => raw(crypto.generateKeyPairSync('x25519').publicKey);
const u32be = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };

function bundle() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const sign = (d) => crypto.sign(null, d, privateKey);
  const identity = x25519(), spk = x25519();
  return {
    identityKey: b64(identity),
    signingKey: b64(raw(publicKey)),
    identitySignature: b64(sign(Buffer.concat([Buffer.from('Sotto-v1-identity'), identity]))),
    signedPreKey: { keyId: 1, publicKey: b64(spk),
      signature: b64(sign(Buffer.concat([Buffer.from('Sotto-v1-spk'), identity, u32be(1), spk]))) },
    oneTimePreKeys: [{ keyId: 1, publicKey: b64(x25519()) }],
  };
}

async function call(method, p, body, token) {
  for (let attempt = 0; attempt < 5; attempt++) {
    const headers = { 'content-type': 'application/json' };
    if (token) headers.authorization = `Bearer ${token}`;
    const res = await fetch(base + p, { method, headers, body: JSON.stringify(body) });
    const json = await res.json().catch(() => ({}));
    if (res.status < 300) return json;
    if (res.status !== 429 && res.status < 500) throw new Error(`${method} ${p}: ${res.status} ${JSON.stringify(json)}`);
    await new Promise((r) => setTimeout(r, 200 * (attempt + 1)));
  }
  throw new Error(`${method} ${p}: gave up`);
}

const tag = crypto.randomBytes(3).toString('hex');
const acc = new Array(count);
let next = 0;
const t0 = Date.now();
async function worker() {
  for (;;) {
    const i = next++;
    if (i >= count) return;
    const username = `b${tag}_${i}`;
    const r = await call('POST', '/api/auth/register', {
      email: `${username}@example.org`, username, password: `bench ${tag} password ${i}`,
      device: { name: 'bench', platform: 'cli' }, keys: bundle(),
    });
    acc[i] = { user: r.user.id, device: r.device.id, token: r.tokens.accessToken, conv: '-' };
    if (i % 2000 === 0) console.error(`provision: ${i}/${count} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }
}
await Promise.all(Array.from({ length: conc }, worker));
next = 0;
async function convWorker() {
  for (;;) {
    const k = next++;
    if (k >= pairs) return;
    const a = acc[2 * k], b = acc[2 * k + 1];
    const c = await call('POST', '/api/conversations', { participantId: b.user }, a.token);
    a.conv = b.conv = c.id;
  }
}
await Promise.all(Array.from({ length: conc }, convWorker));
fs.writeFileSync(out, acc.map((a, i) => `${i} ${a.user} ${a.device} ${a.token} ${a.conv}\n`).join(''));
console.error(`provision: ${count} accounts, ${pairs} conversations in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
