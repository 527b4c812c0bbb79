// A server that lies: an HTTP proxy in front of sottod that forwards every request and lets a
// test rewrite JSON responses (e.g. serve Mallory's bundle from POST /api/keys/claim for
// Bob's device), or fail requests as a network in trouble does. The /ws upgrade is passed
// through untouched (so sync and chat work behind it).
import http from 'node:http';
import net from 'node:net';

// rewrite(method, path, status, json, authorization) -> json (may be async); null: as is.
// intercept(method, path) -> null (forward), 'drop' (answer 503, never forwarded) or 'lose'
// (forwarded, the server's answer replaced by a 503: the request did arrive).
export async function mitm(target, rewrite, { intercept = () => null } = {}) {
  const fail = (res) => { res.writeHead(503, { 'content-type': 'text/plain' }); res.end('unavailable'); };
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const verdict = intercept(req.method, req.url);
    if (verdict === 'drop') return fail(res);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['accept-encoding'];
    const up = await fetch(target + req.url, {
      method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    let body = Buffer.from(await up.arrayBuffer());
    if (verdict === 'lose') return fail(res);
    const ct = up.headers.get('content-type') || '';
    if (ct.startsWith('application/json') && body.length) {
      const out = await rewrite(req.method, req.url, up.status, JSON.parse(body.toString('utf8')), req.headers.authorization);
      if (out != null) body = Buffer.from(JSON.stringify(out));
    }
    const h = {};
    up.headers.forEach((v, k) => { if (!['content-length', 'content-encoding', 'transfer-encoding', 'connection'].includes(k)) h[k] = v; });
    h['content-length'] = String(body.length);
    res.writeHead(up.status, h);
    res.end(body);
  });
  const sockets = new Set();
  server.on('upgrade', (req, socket, head) => {
    const u = new URL(target);
    const up = net.connect(Number(u.port), u.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      up.write(lines.join('\r\n') + '\r\n\r\n');
      up.write(head);
      socket.pipe(up).pipe(socket);
    });
    for (const s of [socket, up]) {
      sockets.add(s);
      s.on('error', () => { socket.destroy(); up.destroy(); });
      s.on('close', () => { sockets.delete(s); socket.destroy(); up.destroy(); });
    }
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => {
      for (const s of sockets) s.destroy();
      server.close(r);
    }),
  };
}
