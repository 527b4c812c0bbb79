// Operations finding 12: the systemd unit had no watchdog, so a wedged loop was never
// restarted. sottod now speaks sd_notify: READY=1 once it listens, WATCHDOG=1 from the loop
// thread at half of WATCHDOG_USEC, STOPPING=1 when it drains. A datagram socket stands in
// for systemd (python3: node has no unix datagram sockets).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { test } from 'node:test';
import { startHostile } from './lib/hostile.mjs';

const LISTENER = `
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print("listening", flush=True)
while True:
    print(s.recv(4096).decode().replace("\\n", "|"), flush=True)
`;

test('READY, a steady WATCHDOG from the loop, and STOPPING on SIGTERM', async () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-notify-'));
  const sockPath = path.join(dir, 'notify.sock');
  const listener = spawn('python3', ['-c', LISTENER, sockPath], { stdio: ['ignore', 'pipe', 'inherit'] });
  const lines = [];
  listener.stdout.setEncoding('utf8');
  let buf = '';
  listener.stdout.on('data', (d) => {
    buf += d;
    const parts = buf.split('\n');
    buf = parts.pop();
    lines.push(...parts);
  });
  try {
    while (!lines.includes('listening')) await new Promise((r) => setTimeout(r, 20));
    const srv = await startHostile({ env: { NOTIFY_SOCKET: sockPath, WATCHDOG_USEC: '400000' } });
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 2000));
    const pings = lines.filter((l) => l === 'WATCHDOG=1').length;
    assert.ok(lines.some((l) => l.startsWith('READY=1')), 'READY=1');
    // Half of 400 ms: about 10 pings in 2 s (the loop's heartbeat is 100 ms).
    assert.ok(pings >= 6 && pings <= 14, `${pings} watchdog pings in ${Date.now() - t0} ms`);
    await srv.stop();
    await new Promise((r) => setTimeout(r, 100));
    assert.ok(lines.some((l) => l.startsWith('STOPPING=1')), 'STOPPING=1 when draining');
  } finally {
    listener.kill();
    rmSync(dir, { recursive: true, force: true });
  }
});
