// wasm_vectors.test.mjs: the WebAssembly build (scripts/build-wasm.sh, seeded-RNG flavour)
// runs the same scripted conversation as the native test and must reproduce the committed
// core/tests/vectors/conversation.json byte for byte. SOTTO_WASM_DIR: the build output.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const createSotto = require(path.join(process.env.SOTTO_WASM_DIR, 'libsotto-test.cjs'));
const expected = fs.readFileSync(path.join(process.env.SOTTO_VECTORS, 'conversation.json'));

test('WASM reproduces the committed vectors byte for byte', async () => {
  const m = await createSotto();
  assert.equal(m._sotto_init(), 0);
  const cap = 1 << 20;
  const buf = m._malloc(cap);
  const lenp = m._malloc(8);
  assert.equal(m._sotto_vectors_json(buf, cap, lenp), 0);
  const len = m.HEAPU32[lenp >> 2];
  const got = Buffer.from(m.HEAPU8.subarray(buf, buf + len));
  assert.equal(got.length, expected.length);
  assert.ok(got.equals(expected), 'bytes differ from conversation.json');
});
