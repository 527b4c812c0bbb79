// Client-side key material for the API tests, with node:crypto only: device bundles (X25519
// and Ed25519 keys, the contract's signatures), login proofs, TOTP codes and HS256 JWTs.
import crypto from 'node:crypto';

const raw = (key) => Buffer.from(key.export({ format: 'jwk' }).x, 'base64url');
const b64 = (buf) => Buffer.from(buf).toString('base64');

export function x25519() {
  const { publicKey } = crypto.generateKeyPairSync('x25519');
  return raw(publicKey);
}

export function ed25519() {
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ed25519');
  return { pub: raw(publicKey), sign: (data) => crypto.sign(null, data, privateKey) };
}

const u32be = (n) => { const b = Buffer.alloc(4); b.writeUInt32BE(n); return b; };
const u64be = (n) => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(n)); return b; };

// A device: its signing key and a bundle maker. bundle({otpk: n, spkId, signer}) re-signs with
// another key when `signer` is given (for the wrong-key tests).
export function makeDevice() {
  const signing = ed25519();
  const identity = x25519();
  return {
    signing,
    identity,
    bundle({ otpk = 3, spkId = 1, firstKeyId = 1, signer = signing } = {}) {
      const spk = x25519();
      return {
        identityKey: b64(identity),
        signingKey: b64(signing.pub),
        identitySignature: b64(signer.sign(Buffer.concat([Buffer.from('Sotto-v1-identity'), identity]))),
        signedPreKey: {
          keyId: spkId,
          publicKey: b64(spk),
          signature: b64(signer.sign(Buffer.concat([Buffer.from('Sotto-v1-spk'), identity, u32be(spkId), spk]))),
        },
        oneTimePreKeys: Array.from({ length: otpk }, (_, i) => ({ keyId: firstKeyId + i, publicKey: b64(x25519()) })),
      };
    },
    proof(email, time = Math.floor(Date.now() / 1000), signer = signing) {
      return { proof: b64(signer.sign(Buffer.concat([Buffer.from('Sotto-v1-login'), Buffer.from(email), u64be(time)]))), proofTime: time };
    },
  };
}

export function base32Decode(s) {
  const alpha = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
  let bits = 0, val = 0;
  const out = [];
  for (const c of s.replace(/=+$/, '').toUpperCase()) {
    val = (val << 5) | alpha.indexOf(c);
    bits += 5;
    if (bits >= 8) { out.push((val >>> (bits - 8)) & 0xff); bits -= 8; }
  }
  return Buffer.from(out);
}

// RFC 6238 TOTP (SHA-1, 30 s, 6 digits) at unix time t (seconds).
export function totp(secretB32, t = Date.now() / 1000) {
  const mac = crypto.createHmac('sha1', base32Decode(secretB32)).update(u64be(Math.floor(t / 30))).digest();
  const off = mac[mac.length - 1] & 0xf;
  const n = (mac.readUInt32BE(off) & 0x7fffffff) % 1000000;
  return String(n).padStart(6, '0');
}

// An HS256 JWT with any header and claims (tampering, alg none, expired tokens).
export function jwt(claims, secret, header = { alg: 'HS256', typ: 'JWT' }) {
  const enc = (o) => Buffer.from(JSON.stringify(o)).toString('base64url');
  const head = `${enc(header)}.${enc(claims)}`;
  const sig = secret === null ? '' : crypto.createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${sig}`;
}

export function decodeJwt(token) {
  return JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString());
}
