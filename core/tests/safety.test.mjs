// safety.test.mjs: libsotto's safety numbers and QR payload against an independent
// re-implementation of the definition (shared/spec/api.md, docs/protocol.md "Safety
// numbers") with Node's own SHA-512 (node:crypto, no libsodium). The C side runs as
// core_safety_print (SOTTO_SAFETY_PRINT); a fixed case is also a known answer in
// test_objects.c, so a change of the iteration count, the order or the encoding fails both.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { execFileSync } from 'node:child_process';

const ITERATIONS = 5200;

function half(userId, keys, version = 1) {
  const sorted = [...keys].sort(Buffer.compare);
  const K = Buffer.concat(sorted);
  let h = Buffer.concat([Buffer.from([0, version]), Buffer.from(userId.toLowerCase(), 'ascii'), K]);
  for (let i = 0; i < ITERATIONS; i++) h = crypto.createHash('sha512').update(h).update(K).digest();
  let digits = '';
  for (let c = 0; c < 6; c++) {
    const v = h.readUIntBE(5 * c, 5) % 100000;
    digits += String(v).padStart(5, '0');
  }
  return { digits, uuid: Buffer.from(userId.replace(/-/g, ''), 'hex'), hash: h.subarray(0, 32) };
}

function expected(ua, ka, ub, kb) {
  const halves = [half(ua, ka), half(ub, kb)].sort((x, y) => (x.digits < y.digits ? -1 : x.digits > y.digits ? 1 : 0));
  const qr = Buffer.concat([Buffer.from([1]), ...halves.flatMap((h) => [h.uuid, h.hash])]);
  return `${halves[0].digits}${halves[1].digits} ${qr.toString('hex')}`;
}

function libsotto(ua, ka, ub, kb) {
  return execFileSync(process.env.SOTTO_SAFETY_PRINT,
    [ua, Buffer.concat(ka).toString('hex'), ub, Buffer.concat(kb).toString('hex')]).toString().trim();
}

const seq = (n, mul, add) => Buffer.from(Array.from({ length: n }, (_, i) => (i * mul + add) & 0xff));
const split = (b) => Array.from({ length: b.length / 32 }, (_, i) => b.subarray(32 * i, 32 * i + 32));
const UA = '0190a6f2-7c1e-7d3a-9b2c-1f2e3d4c5b6a';
const UB = '0190A6F2-7C1E-7D3A-9B2C-AAAAAAAAAAAA';

// The known answer that test_objects.c (safety_number_known_answer) also pins.
export const KAT = { ua: UA, ka: split(seq(96, 7, 1)), ub: UB, kb: split(seq(64, 13, 5)) };

test('the known-answer case matches the independent computation', () => {
  const want = expected(KAT.ua, KAT.ka, KAT.ub, KAT.kb);
  assert.equal(libsotto(KAT.ua, KAT.ka, KAT.ub, KAT.kb), want);
  console.log(`KAT ${want}`);
});

test('random users and device sets match', () => {
  for (let i = 0; i < 6; i++) {
    const uuid = () => crypto.randomUUID();
    const ka = Array.from({ length: 1 + (i % 4) }, () => crypto.randomBytes(32));
    const kb = Array.from({ length: 1 + ((i * 3) % 5) }, () => crypto.randomBytes(32));
    const ua = uuid(), ub = uuid();
    assert.equal(libsotto(ua, ka, ub, kb), expected(ua, ka, ub, kb));
  }
});

// Version 2 (issue 23): each half over the user's account key alone, version bytes 0x00 0x02.
test('safety numbers over account keys match the independent computation', () => {
  for (let i = 0; i < 4; i++) {
    const ua = crypto.randomUUID(), ub = crypto.randomUUID();
    const a = crypto.randomBytes(32), b = crypto.randomBytes(32);
    const halves = [half(ua, [a], 2), half(ub, [b], 2)].map((h) => h.digits).sort();
    const got = execFileSync(process.env.SOTTO_SAFETY_PRINT,
      ['--accounts', ua, a.toString('hex'), ub, b.toString('hex')]).toString().trim();
    assert.equal(got, halves.join(''));
    assert.notEqual(got, libsotto(ua, [a], ub, [b]).split(' ')[0], 'version 2 is not version 1');
  }
});
