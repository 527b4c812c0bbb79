// vectors.test.mjs: an independent check of the committed vectors with Node's own crypto
// (X25519, HKDF, HMAC, ChaCha20-Poly1305; no libsodium). From Bob's private keys and the
// first pre-key envelope it recomputes the X3DH secret, the first root, chain and message
// keys, and decrypts the first message (XChaCha20 built from HChaCha20 below).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

const v = JSON.parse(fs.readFileSync(path.join(process.env.SOTTO_VECTORS, 'conversation.json'), 'utf8'));
const hex = (s) => Buffer.from(s, 'hex');

function x25519(priv, pub) {
  const privateKey = crypto.createPrivateKey({ key: Buffer.concat([hex('302e020100300506032b656e04220420'), priv]), format: 'der', type: 'pkcs8' });
  const publicKey = crypto.createPublicKey({ key: Buffer.concat([hex('302a300506032b656e032100'), pub]), format: 'der', type: 'spki' });
  return crypto.diffieHellman({ privateKey, publicKey });
}
const hkdf = (ikm, salt, info, len) => Buffer.from(crypto.hkdfSync('sha256', ikm, salt, Buffer.from(info), len));
const hmac = (k, d) => crypto.createHmac('sha256', k).update(d).digest();

// HChaCha20 (draft-irtf-cfrg-xchacha 2.2), for XChaCha20-Poly1305 on top of node's ChaCha20-Poly1305.
function hchacha20(key, nonce16) {
  const s = new Uint32Array(16);
  s.set([0x61707865, 0x3320646e, 0x79622d32, 0x6b206574]);
  for (let i = 0; i < 8; i++) s[4 + i] = key.readUInt32LE(4 * i);
  for (let i = 0; i < 4; i++) s[12 + i] = nonce16.readUInt32LE(4 * i);
  const rotl = (x, n) => (x << n) | (x >>> (32 - n));
  const qr = (a, b, c, d) => {
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 16); s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 12);
    s[a] += s[b]; s[d] = rotl(s[d] ^ s[a], 8); s[c] += s[d]; s[b] = rotl(s[b] ^ s[c], 7);
  };
  for (let i = 0; i < 10; i++) {
    qr(0, 4, 8, 12); qr(1, 5, 9, 13); qr(2, 6, 10, 14); qr(3, 7, 11, 15);
    qr(0, 5, 10, 15); qr(1, 6, 11, 12); qr(2, 7, 8, 13); qr(3, 4, 9, 14);
  }
  const out = Buffer.alloc(32);
  [0, 1, 2, 3, 12, 13, 14, 15].forEach((w, i) => out.writeUInt32LE(s[w] >>> 0, 4 * i));
  return out;
}
function xchachaOpen(key, nonce, ct, ad) {
  const sub = hchacha20(key, nonce.subarray(0, 16));
  const n12 = Buffer.concat([Buffer.alloc(4), nonce.subarray(16)]);
  const d = crypto.createDecipheriv('chacha20-poly1305', sub, n12, { authTagLength: 16 });
  d.setAAD(ad, { plaintextLength: ct.length - 16 });
  d.setAuthTag(ct.subarray(ct.length - 16));
  return Buffer.concat([d.update(ct.subarray(0, ct.length - 16)), d.final()]);
}

// Pre-key envelope layout (docs/protocol.md).
const env = hex(v.messages[0].envelope);
const f = { version: env[0], type: env[1], ik: env.subarray(2, 34), sk: env.subarray(34, 66),
  sig: env.subarray(66, 130), ek: env.subarray(130, 162), spkId: env.readUInt32BE(162),
  hasOpk: env[166], opkId: env.readUInt32BE(167), dh: env.subarray(171, 203),
  pn: env.readUInt32BE(203), n: env.readUInt32BE(207), nonce: env.subarray(211, 235), ct: env.subarray(235) };
const bob = v.bob;
const log = v.keyLog.map((e) => ({ kind: e.kind, key: e.key }));

test('the envelope names what the bundle offered', () => {
  assert.equal(f.version, 1);
  assert.equal(f.type, 1);
  assert.equal(f.spkId, bob.signedPreKeyId);
  assert.equal(f.hasOpk, 1);
  assert.equal(f.opkId, bob.oneTimePreKeyId);
  assert.deepEqual(f.ik, hex(v.alice.identityKey));
  const sig = crypto.verify(null, Buffer.concat([Buffer.from('Sotto-v1-identity'), f.ik]),
    crypto.createPublicKey({ key: Buffer.concat([hex('302a300506032b6570032100'), f.sk]), format: 'der', type: 'spki' }), f.sig);
  assert.ok(sig, 'identity signature verifies with node Ed25519');
});

const dh = [x25519(hex(bob.signedPreKeyPrivate), f.ik), x25519(hex(bob.identityKeyPrivate), f.ek),
  x25519(hex(bob.signedPreKeyPrivate), f.ek), x25519(hex(bob.oneTimePreKeyPrivate), f.ek)];
const SK = hkdf(Buffer.concat([Buffer.alloc(32, 0xff), ...dh]), Buffer.alloc(32), 'Sotto-v1-X3DH', 32);
const okm = hkdf(x25519(hex(bob.signedPreKeyPrivate), f.dh), SK, 'Sotto-v1-ratchet', 64);
const rk1 = okm.subarray(0, 32), ck1 = okm.subarray(32);
const mk1 = hmac(ck1, Buffer.from([1]));

test('X3DH secret and first root, chain and message keys', () => {
  assert.equal(log[0].kind, 1);
  assert.equal(log[0].key, SK.toString('hex'), 'X3DH SK is the first root key retired');
  assert.equal(log[1].kind, 2);
  assert.equal(log[1].key, ck1.toString('hex'), 'first chain key');
  assert.equal(log[2].kind, 3);
  assert.equal(log[2].key, mk1.toString('hex'), 'first message key');
  assert.ok(log.some((e) => e.kind === 1 && e.key === rk1.toString('hex')), 'first root key is retired later');
  assert.equal(hmac(ck1, Buffer.from([2])).length, 32);
});

test('the first message decrypts with XChaCha20-Poly1305 and the documented AD', () => {
  const ad = Buffer.concat([Buffer.from([1]), f.ik, f.sk, hex(bob.identityKey), hex(bob.signingKey), env.subarray(0, 211)]);
  const padded = xchachaOpen(mk1, f.nonce, f.ct, ad);
  assert.equal(padded.length % 160, 0);
  const end = padded.lastIndexOf(0x80);
  assert.ok(padded.subarray(end + 1).every((b) => b === 0));
  assert.equal(padded.subarray(0, end).toString('hex'), v.messages[0].plaintext);
  const bad = Buffer.from(ad); bad[1] ^= 1;
  assert.throws(() => xchachaOpen(mk1, f.nonce, f.ct, bad));
});
