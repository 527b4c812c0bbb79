// WebSocket keep-alive (docs/api/events.md) with the intervals shortened by WS_PING_INTERVAL and
// WS_IDLE_TIMEOUT: a client that sends nothing is pinged, and stays while it answers; one that
// never answers is closed (1001) WS_IDLE_TIMEOUT after its last frame; frames count as signs of
// life too. The keep-alive does not depend on the store, so one run (SQLite) covers it.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import WebSocket from 'ws';
import { startAuthServer } from './lib/api.mjs';
import { userWithDevices, wsConnect } from './lib/rt.mjs';

const PING = 1;
const IDLE = 3;
let srv;
before(async () => {
  srv = await startAuthServer({ WS_PING_INTERVAL: `${PING}`, WS_IDLE_TIMEOUT: `${IDLE}` });
});
after(async () => { await srv.stop(); });

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Counts the server's pings from now on.
function pings(c) {
  const p = { at: [] };
  c.ws.on('ping', () => p.at.push(Date.now()));
  return p;
}

// Sends one frame (a re-authenticate) and returns when it was sent: the last sign of life.
async function lastFrame(c, u) {
  const t0 = Date.now();
  assert.equal((await c.request('authenticate', { token: u.token })).event, 'ack');
  return t0;
}

function closedWithin(c, ms) {
  return Promise.race([c.closed, sleep(ms).then(() => { throw new Error(`still open after ${ms} ms`); })]);
}

test('a silent client is pinged after WS_PING_INTERVAL, and answering keeps it open', async () => {
  const u = await userWithDevices(srv, 1);
  const c = await wsConnect(srv, u.token);
  const p = pings(c);
  const t0 = await lastFrame(c, u);
  await sleep((IDLE + 2) * 1000);
  assert.ok(p.at.length >= 2, `pings: ${p.at.length}`);
  const first = p.at[0] - t0;
  assert.ok(first >= PING * 1000 - 20 && first < PING * 1000 + 2000, `first ping after ${first} ms`);
  assert.equal(c.ws.readyState, WebSocket.OPEN, 'answered pings keep the socket open');
  await lastFrame(c, u); // and it is still served
  await c.close();
});

test('a client that never answers a ping is closed with 1001 WS_IDLE_TIMEOUT after its last frame', async () => {
  const u = await userWithDevices(srv, 1);
  const c = await wsConnect(srv, u.token, { autoPong: false });
  const p = pings(c);
  const t0 = await lastFrame(c, u);
  const { code } = await closedWithin(c, (IDLE + 5) * 1000);
  const dt = Date.now() - t0;
  assert.equal(code, 1001);
  assert.equal(p.at.length, 1, 'one ping per silence, not a ping every tick');
  assert.ok(dt >= IDLE * 1000 - 20 && dt < IDLE * 1000 + 3000, `closed after ${dt} ms`);
  // The server is fine for everyone else.
  const other = await wsConnect(srv, u.token);
  await other.event('queue:drained');
  await other.close();
});

test('frames count as signs of life: a client that talks is not dropped without pongs', async () => {
  const u = await userWithDevices(srv, 1);
  const c = await wsConnect(srv, u.token, { autoPong: false });
  const until = Date.now() + (IDLE + 1) * 1000;
  while (Date.now() < until) {
    c.send({ event: 'no:such-event', data: {} }); // answered with an error frame, no store work
    await sleep(200);
  }
  assert.equal(c.ws.readyState, WebSocket.OPEN);
  await lastFrame(c, u);
  await c.close();
});
