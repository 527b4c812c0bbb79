// Finding 9: native TLS 1.2 offered static-RSA key exchange (no forward secrecy) and CBC
// suites. Now only ECDHE with AEAD on 1.2; 1.3 preferred. Both an ECDSA and an RSA
// certificate are tried, since the suites on offer depend on the key type.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import { test } from 'node:test';
import { startServer } from '../api/lib/server.mjs';

function handshake(port, opts) {
  return new Promise((resolve) => {
    const s = tls.connect({ port, host: '127.0.0.1', rejectUnauthorized: false, ...opts }, () => {
      const r = { ok: true, version: s.getProtocol(), cipher: s.getCipher().name };
      s.destroy();
      resolve(r);
    });
    s.on('error', (e) => resolve({ ok: false, error: e.code || e.message }));
  });
}

for (const [kind, keyArgs] of [['ecdsa', ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256']], ['rsa', ['-newkey', 'rsa:2048']]]) {
  test(`TLS with an ${kind} certificate: 1.3 preferred, 1.2 only ECDHE + AEAD`, async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sotto-tls-suites-'));
    execFileSync('openssl', ['req', '-x509', ...keyArgs, '-nodes', '-keyout', path.join(dir, 'key.pem'),
      '-out', path.join(dir, 'cert.pem'), '-days', '1', '-subj', '/CN=localhost'], { stdio: 'ignore' });
    const srv = await startServer({ TLS_CERT_FILE: path.join(dir, 'cert.pem'), TLS_KEY_FILE: path.join(dir, 'key.pem') },
      { tls: true });
    try {
      assert.equal((await handshake(srv.port, {})).version, 'TLSv1.3');
      const v12 = await handshake(srv.port, { maxVersion: 'TLSv1.2' });
      assert.ok(v12.ok, JSON.stringify(v12));
      assert.match(v12.cipher, /^ECDHE-.*(GCM|CHACHA20)/, v12.cipher);
      for (const weak of ['AES128-SHA', 'AES256-GCM-SHA384', 'AES128-SHA256', 'ECDHE-RSA-AES128-SHA', 'ECDHE-ECDSA-AES128-SHA',
        'ECDHE-RSA-AES256-SHA384', 'DHE-RSA-AES128-SHA']) {
        const r = await handshake(srv.port, { maxVersion: 'TLSv1.2', ciphers: weak });
        assert.equal(r.ok, false, `${weak} is refused (${JSON.stringify(r)})`);
      }
      assert.equal((await handshake(srv.port, { maxVersion: 'TLSv1.1', minVersion: 'TLSv1' })).ok, false, 'TLS 1.0/1.1 refused');
    } finally {
      await srv.stop();
      rmSync(dir, { recursive: true, force: true });
    }
  });
}
