// WebSocket and messaging helpers for the real-time API tests: a /ws client with an event
// buffer (wait for an event by predicate, requests with ids and their one reply), users
// with several devices, and envelopes made for a list of devices.
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import WebSocket from 'ws';
import { login, registerUser } from './api.mjs';
import { makeDevice } from './crypto.mjs';

const CLOSE_MS = 10000;

let reqCounter = 0;

// Opens /ws. With a token, authenticates and waits for `authenticated` (the later presence
// and queue events stay in the buffer). autoPong: false leaves the server's pings unanswered.
export async function wsConnect(srv, token, { authenticate = true, autoPong = true } = {}) {
  const ws = new WebSocket(`ws://127.0.0.1:${srv.port}/ws`, { autoPong });
  const c = {
    ws, events: [], waiters: [],
    closed: new Promise((resolve) => ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }))),
  };
  ws.on('error', () => {});
  ws.on('message', (data, isBinary) => {
    const m = isBinary ? { binary: data } : JSON.parse(data.toString());
    c.events.push(m);
    for (const w of [...c.waiters]) w();
  });
  // The first event matching pred (removed from the buffer), waiting up to ms.
  c.next = (pred = () => true, ms = 5000) => new Promise((resolve, reject) => {
    const look = () => {
      const i = c.events.findIndex(pred);
      if (i < 0) return false;
      const [m] = c.events.splice(i, 1);
      c.waiters = c.waiters.filter((w) => w !== look);
      clearTimeout(t);
      resolve(m);
      return true;
    };
    const t = setTimeout(() => {
      c.waiters = c.waiters.filter((w) => w !== look);
      reject(new Error(`no matching event in ${ms} ms; buffer: ${JSON.stringify(c.events).slice(0, 800)}`));
    }, ms);
    if (!look()) c.waiters.push(look);
  });
  c.event = (name, ms) => c.next((m) => m.event === name, ms);
  // Asserts no event matching pred arrives within ms.
  c.none = async (pred, ms = 300) => {
    await new Promise((r) => setTimeout(r, ms));
    const m = c.events.find(pred);
    assert.equal(m, undefined, `unexpected event ${JSON.stringify(m)}`);
  };
  // Forgets buffered events matching pred: what happened before a test's step is not its answer.
  c.drop = (pred) => { c.events = c.events.filter((e) => !pred(e)); };
  c.send = (obj) => ws.send(typeof obj === 'string' ? obj : JSON.stringify(obj));
  // Sends {event, data, id} and returns the one reply (ack or error).
  c.request = async (event, data, ms = 5000) => {
    reqCounter += 1;
    const id = `r${reqCounter}`;
    c.send({ event, data, id });
    return c.next((m) => m.id === id && (m.event === 'ack' || m.event === 'error'), ms);
  };
  // A clean close; a close handshake the server has not answered within CLOSE_MS is said in
  // the test's output and the socket cut, so one slow handshake cannot hang a file for minutes.
  c.close = async () => {
    ws.close();
    let timer;
    const late = new Promise((resolve) => { timer = setTimeout(() => resolve('late'), CLOSE_MS); });
    const r = await Promise.race([c.closed, late]);
    clearTimeout(timer);
    if (r !== 'late') return r;
    process.stdout.write(`# the server did not answer a close within ${CLOSE_MS} ms: cut\n`);
    ws.terminate();
    return c.closed;
  };
  // An abrupt drop (no close frame), as a lost network or a killed client looks to the server.
  c.cut = () => { ws.terminate(); return c.closed; };
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('close', () => reject(new Error('closed before open')));
  });
  if (token) {
    const r = await c.request('authenticate', { token });
    assert.equal(r.event, 'ack', JSON.stringify(r));
    await c.event('authenticated');
  }
  return c;
}

// A user with n active devices: {userId, token, devices: [{id, token}], ...registerUser}.
export async function userWithDevices(srv, n = 2) {
  const u = await registerUser(srv);
  u.devices = [{ id: u.deviceId, token: u.token }];
  for (let i = 1; i < n; i += 1) {
    const r = await login(srv, u, { keys: makeDevice().bundle() });
    assert.equal(r.status, 200, JSON.stringify(r.body));
    u.devices.push({ id: r.body.device.id, token: r.body.tokens.accessToken });
  }
  return u;
}

// A recognisable fake ciphertext for a device (the server treats it as opaque bytes).
export function fakeCiphertext(deviceId, tag) {
  return Buffer.from(`ct|${deviceId}|${tag}`).toString('base64');
}

export function envelopes(deviceIds, tag = 'x') {
  return deviceIds.map((deviceId) => ({ deviceId, type: 'message', ciphertext: fakeCiphertext(deviceId, tag) }));
}

export const uuid = () => crypto.randomUUID();

// Creates the direct conversation of a and b (a asks); returns its id.
export async function conversation(srv, a, b) {
  const r = await srv.api('POST', '/api/conversations', { token: a.token, body: { participantId: b.userId } });
  assert.ok(r.status === 201 || r.status === 200, JSON.stringify(r.body));
  return r.body.id;
}

// Sends over REST from device index di of `from` to the other user's devices and from's other
// devices; returns the response.
export async function sendRest(srv, from, to, convId, tag = 'x', di = 0, clientMessageId = uuid()) {
  const targets = [...to.devices.map((d) => d.id), ...from.devices.filter((_, i) => i !== di).map((d) => d.id)];
  return srv.api('POST', `/api/conversations/${convId}/messages`, {
    token: from.devices[di].token, body: { clientMessageId, envelopes: envelopes(targets, tag) },
  });
}
