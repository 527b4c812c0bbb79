// Prints the built client's size: every JS file gzip-compressed, in total and without the
// WebAssembly module (the budget: JS <= 250 KB gzip). Exits non-zero over budget. The password
// strength estimator (estimator-*.js, its dictionaries) is loaded only by the forms that choose
// a password, never by the app's start, so it has a budget of its own (500 KB gzip).
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const dir = path.resolve(process.argv[2] ?? 'dist/assets');
const BUDGET = 250 * 1024;
const ESTIMATOR_BUDGET = 500 * 1024;
let estimator = 0;
let js = 0,
  wasm = 0,
  css = 0;
const rows = [];
for (const f of readdirSync(dir).sort()) {
  const buf = readFileSync(path.join(dir, f));
  const gz = gzipSync(buf, { level: 9 }).length;
  if (f.startsWith('estimator-') && f.endsWith('.js')) estimator += gz;
  else if (f.endsWith('.js')) js += gz;
  else if (f.endsWith('.wasm')) wasm += gz;
  else if (f.endsWith('.css')) css += gz;
  rows.push(`${f.padEnd(40)} ${String(buf.length).padStart(8)} B  ${String(gz).padStart(7)} B gzip`);
}
console.log(rows.join('\n'));
const kb = (n) => (n / 1024).toFixed(1);
console.log(`JS total ${kb(js)} KB gzip (budget ${kb(BUDGET)} KB); CSS ${kb(css)} KB; WebAssembly ${kb(wasm)} KB gzip (not counted)`);
console.log(`Strength estimator, loaded by the password forms only: ${kb(estimator)} KB gzip (budget ${kb(ESTIMATOR_BUDGET)} KB)`);
writeFileSync(
  path.join(dir, '..', 'size.json'),
  JSON.stringify({ jsGzip: js, cssGzip: css, wasmGzip: wasm, budget: BUDGET, estimatorGzip: estimator }) + '\n',
);
if (js > BUDGET || estimator > ESTIMATOR_BUDGET) {
  console.error('over the JavaScript budget');
  process.exit(1);
}
