// Login benchmark for sottod (not a test): logins per second at the Argon2id parameters the
// server runs with, and /healthz latency (p50/p99) while CONCURRENCY logins are in flight.
// Usage: node bench/login.mjs <base-url> [concurrency=50] [seconds=15]   (see bench/login.sh)
import { bundle } from './account.mjs';

const base = process.argv[2];
const concurrency = Number(process.argv[3] || 50);
const seconds = Number(process.argv[4] || 15);
const post = (p, body) => fetch(base + p, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
const pct = (xs, q) => xs.sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))];

const name = `bench${Date.now()}`;
const password = 'benchmark password 1234';
const reg = await post('/api/auth/register', { email: `${name}@example.org`, username: name, password, device: { name: 'b', platform: 'cli' }, keys: bundle() });
if (reg.status !== 201) throw new Error(`register: ${reg.status} ${await reg.text()}`);

// Baseline /healthz latency with nothing else running.
const idle = [];
for (let i = 0; i < 200; i++) { const t = performance.now(); await fetch(base + '/healthz'); idle.push(performance.now() - t); }

let logins = 0, failures = 0, running = true;
const loginLat = [];
async function worker() {
  while (running) {
    const t = performance.now();
    const r = await post('/api/auth/login', { email: `${name}@example.org`, password, device: { name: 'b', platform: 'cli' } });
    await r.arrayBuffer();
    if (r.status === 200) { logins++; loginLat.push(performance.now() - t); } else failures++;
  }
}
const health = [];
async function prober() {
  while (running) {
    const t = performance.now();
    const r = await fetch(base + '/healthz');
    await r.arrayBuffer();
    health.push(performance.now() - t);
    await new Promise((res) => setTimeout(res, 10));
  }
}
const t0 = performance.now();
const workers = Array.from({ length: concurrency }, worker);
const probe = prober();
await new Promise((r) => setTimeout(r, seconds * 1000));
running = false;
await Promise.all([...workers, probe]);
const elapsed = (performance.now() - t0) / 1000;
console.log(JSON.stringify({
  concurrency, seconds: Number(elapsed.toFixed(1)), logins, failures,
  loginsPerSecond: Number((logins / elapsed).toFixed(1)),
  loginP50ms: Number(pct(loginLat, 0.5).toFixed(1)), loginP99ms: Number(pct(loginLat, 0.99).toFixed(1)),
  healthIdleP50ms: Number(pct(idle, 0.5).toFixed(2)), healthIdleP99ms: Number(pct(idle, 0.99).toFixed(2)),
  healthSamples: health.length, healthP50ms: Number(pct(health, 0.5).toFixed(2)),
  healthP99ms: Number(pct(health, 0.99).toFixed(2)), healthMaxms: Number(Math.max(...health).toFixed(2)),
}, null, 1));
