// A benchmark account (not a test): a device bundle with real signatures, made with node's own
// crypto so the benchmarks need no build of libsotto. `node bench/account.mjs BASE_URL` registers
// a fresh user and prints its access token (bench/attachments.sh); login.mjs imports bundle().
import crypto from 'node:crypto';
import { pathToFileURL } from 'node:url';

const raw = (k) => Buffer.from(k.export({ format: 'jwk' }).x, 'base64url');

export function bundle() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  const ik = raw(crypto.generateKeyPairSync('x25519').publicKey);
  const spk = raw(crypto.generateKeyPairSync('x25519').publicKey);
  const id = Buffer.alloc(4); id.writeUInt32BE(1);
  const sign = (b) => crypto.sign(null, b, privateKey).toString('base64');
  return { identityKey: ik.toString('base64'), signingKey: raw(publicKey).toString('base64'),
    identitySignature: sign(Buffer.concat([Buffer.from('Sotto-v1-identity'), ik])),
    signedPreKey: { keyId: 1, publicKey: spk.toString('base64'), signature: sign(Buffer.concat([Buffer.from('Sotto-v1-spk'), ik, id, spk])) } };
}

export async function register(base, name, password) {
  const r = await fetch(`${base}/api/auth/register`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: `${name}@example.org`, username: name, password, device: { name: 'b', platform: 'cli' }, keys: bundle() }),
  });
  if (r.status !== 201) throw new Error(`register: ${r.status} ${await r.text()}`);
  return r.json();
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const me = await register(process.argv[2], `bench${Date.now()}`, 'benchmark password 1234');
  process.stdout.write(me.accessToken ?? me.tokens?.accessToken);
}
