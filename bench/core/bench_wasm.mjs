// bench_wasm.mjs: the figures of bench_core.c, measured the same way on the WebAssembly
// release build (libsotto.cjs from scripts/build-wasm.sh) under node, through its exported
// C functions as a Web Worker would call them. One "name value unit" line per figure.
//
//   node bench/core/bench_wasm.mjs WASM_DIR [scale]
//
// Randomness: libsodium's WebAssembly build asks Module.getRandomValue for every byte; we
// hand it values from crypto.getRandomValues drawn 1 KiB at a time (as core/wasm does),
// not one system call per byte.
import path from 'node:path';
import { createRequire } from 'node:module';
import { webcrypto } from 'node:crypto';

const require = createRequire(import.meta.url);
const dir = process.argv[2];
const scale = Math.max(1, Number(process.argv[3] ?? 1));
if (!dir) {
  console.error('usage: bench_wasm.mjs WASM_DIR [scale]');
  process.exit(2);
}

function bufferedRandom() {
  const pool = new Uint32Array(256);
  let next = pool.length;
  return () => {
    if (next === pool.length) {
      webcrypto.getRandomValues(pool);
      next = 0;
    }
    const v = pool[next];
    pool[next++] = 0;
    return v;
  };
}

const m = await require(path.resolve(dir, 'libsotto.cjs'))({ getRandomValue: bufferedRandom() });
const NOW = 1764000000n; // uint64_t arguments are BigInt (WASM_BIGINT)
const MSG = 200;
const ENV_MAX = m._sotto_envelope_max();
const now = () => performance.now() / 1000;

function must(rc, what) {
  if (rc !== 0) throw new Error(`bench: ${what}: ${m.UTF8ToString(m._sotto_strerror(rc))}`);
}
const u32 = (p) => m.HEAPU32[p >> 2];
const ptrOut = () => { const p = m._malloc(8); m.HEAPU32[p >> 2] = 0; return p; };

must(m._sotto_init(), 'init');
const scratch = { pp: ptrOut(), len: ptrOut(), type: ptrOut() };

function account() {
  must(m._sotto_account_create(scratch.pp, NOW), 'account');
  return u32(scratch.pp);
}
function record() {
  must(m._sotto_record_create(scratch.pp), 'record');
  return u32(scratch.pp);
}

function pair() {
  const x = { a: account(), r: record() };
  const y = { a: account(), r: record() };
  const b = m._malloc(512);
  m._sotto_account_bundle(y.a, b);
  must(m._sotto_record_initiate(x.r, x.a, b), 'initiate');
  m._free(b);
  return [x, y];
}

const msg = m._malloc(MSG);
m.HEAPU8.fill(0x78, msg, msg + MSG);
const env = m._malloc(ENV_MAX);
const out = m._malloc(ENV_MAX);

function sendRecv(from, to) {
  must(m._sotto_record_encrypt(from.r, msg, MSG, env, ENV_MAX, scratch.len, scratch.type), 'encrypt');
  must(m._sotto_record_decrypt(to.r, to.a, env, u32(scratch.len), NOW, out, ENV_MAX, scratch.pp), 'decrypt');
}

function benchRatchet(dhEveryMessage, iters) {
  const [a, b] = pair();
  sendRecv(a, b);
  sendRecv(b, a);
  let t = now();
  for (let i = 0; i < iters; i++) {
    if (dhEveryMessage && (i & 1)) sendRecv(b, a);
    else sendRecv(a, b);
  }
  t = now() - t;
  console.log(`${dhEveryMessage ? 'ratchet_dh_step_pairs' : 'ratchet_chain_pairs'} ${(iters / t).toFixed(0)} pairs/s`);
  for (const s of [a, b]) { m._sotto_account_free(s.a); m._sotto_record_free(s.r); }
}

function benchX3dh(iters) {
  const alice = account(), bob = account();
  const b = m._malloc(512);
  m._sotto_account_bundle(bob, b);
  const envs = m._malloc(iters * 1024), lens = [];
  let t = now();
  for (let i = 0; i < iters; i++) {
    const r = record();
    must(m._sotto_record_initiate(r, alice, b), 'initiate');
    must(m._sotto_record_encrypt(r, msg, MSG, envs + i * 1024, 1024, scratch.len, scratch.type), 'encrypt');
    lens.push(u32(scratch.len));
    m._sotto_record_free(r);
  }
  t = now() - t;
  console.log(`x3dh_initiator_setups ${(iters / t).toFixed(0)} setups/s`);
  t = now();
  for (let i = 0; i < iters; i++) {
    const r = record();
    must(m._sotto_record_decrypt(r, bob, envs + i * 1024, lens[i], NOW, out, ENV_MAX, scratch.pp), 'decrypt');
    m._sotto_record_free(r);
  }
  t = now() - t;
  console.log(`x3dh_responder_setups ${(iters / t).toFixed(0)} setups/s`);
  m._free(envs); m._free(b);
  m._sotto_account_free(alice); m._sotto_account_free(bob);
}

const CHUNK = 65536, CT_CHUNK = CHUNK + 17;

function encryptFile(chunks, sink) {
  const inp = m._malloc(CHUNK), ct = m._malloc(CT_CHUNK), key = m._malloc(32), hdr = m._malloc(24);
  const digest = m._malloc(32);
  m.HEAPU8.fill(0x61, inp, inp + CHUNK);
  must(m._sotto_attachment_encrypt_create(scratch.pp, key, hdr), 'attachment');
  const st = u32(scratch.pp);
  if (sink) sink(hdr, 24);
  for (let i = 0; i < chunks; i++) {
    must(m._sotto_attachment_encrypt_chunk(st, inp, CHUNK, 0, ct), 'chunk');
    if (sink) sink(ct, CT_CHUNK);
  }
  must(m._sotto_attachment_encrypt_chunk(st, inp, 0, 1, ct), 'chunk');
  if (sink) sink(ct, 17);
  must(m._sotto_attachment_encrypt_final(st, digest), 'final');
  m._sotto_attachment_free(st);
  m._free(inp); m._free(ct); m._free(hdr);
  return { key, digest };
}

function benchAttachmentEncrypt(mib) {
  let t = now();
  const { key, digest } = encryptFile(mib * 16, null);
  t = now() - t;
  m._free(key); m._free(digest);
  console.log(`attachment_encrypt ${(mib / t).toFixed(0)} MiB/s`);
}

function benchAttachmentDecrypt(rounds) {
  const MIB = 16, size = MIB << 20;
  const total = 24 + size + (size / CHUNK + 1) * 17;
  const file = m._malloc(total);
  let off = 0;
  const { key, digest } = encryptFile(MIB * 16, (p, n) => { m.HEAPU8.copyWithin(file + off, p, p + n); off += n; });
  const pt = m._malloc(2 * CHUNK + 17);
  let t = now();
  for (let r = 0; r < rounds; r++) {
    must(m._sotto_attachment_decrypt_create(scratch.pp, key, digest, BigInt(size)), 'attachment');
    const st = u32(scratch.pp);
    for (let o = 0; o < total; o += CT_CHUNK) {
      const take = Math.min(CT_CHUNK, total - o);
      must(m._sotto_attachment_decrypt_update(st, file + o, take, pt, scratch.len), 'update');
    }
    must(m._sotto_attachment_decrypt_final(st), 'digest');
    m._sotto_attachment_free(st);
  }
  t = now() - t;
  console.log(`attachment_decrypt ${(MIB * rounds / t).toFixed(0)} MiB/s`);
  m._free(file); m._free(pt); m._free(key); m._free(digest);
}

benchRatchet(false, 100000 * scale);
benchRatchet(true, 5000 * scale);
benchX3dh(2000 * scale);
benchAttachmentEncrypt(256 * scale);
benchAttachmentDecrypt(16 * scale);
