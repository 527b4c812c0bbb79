// A server that lies: an HTTP proxy in front of sottod that forwards every request and lets a
// test rewrite JSON responses (e.g. serve Mallory's bundle from POST /api/keys/claim for
// Bob's device). Only for commands that use REST alone (send, edit, verify): no /ws upgrade.
import http from 'node:http';

// rewrite(method, path, status, json, authorization) -> json (may be async); null: as is.
export async function mitm(target, rewrite) {
  const server = http.createServer(async (req, res) => {
    const chunks = [];
    for await (const c of req) chunks.push(c);
    const headers = { ...req.headers };
    delete headers.host;
    delete headers['accept-encoding'];
    const up = await fetch(target + req.url, {
      method: req.method, headers, body: chunks.length ? Buffer.concat(chunks) : undefined,
    });
    let body = Buffer.from(await up.arrayBuffer());
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
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    close: () => new Promise((r) => server.close(r)),
  };
}
