// docs/api/openapi.yaml parses, and describes every route sottod registers (sottod --routes),
// with the right security: public routes have `security: []`, the others require a token.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { doc } from './lib/openapi.mjs';
import { sottodPath } from './lib/server.mjs';

const routes = execFileSync(sottodPath(), ['--routes'], { encoding: 'utf8' }).trim().split('\n')
  .map((l) => l.split(' ')).filter(([m, p]) => m !== 'HEAD' && m !== 'OPTIONS' && !p.startsWith('/api/_test/'));

test('the document parses and is OpenAPI 3.1', () => {
  assert.equal(doc.openapi, '3.1.0');
  assert.ok(Object.keys(doc.paths).length > 0);
});

test('every registered route is documented, with its security', () => {
  for (const [method, pattern, access] of routes) {
    const t = pattern.replace(/:([A-Za-z]+)/g, '{$1}');
    const op = doc.paths[t]?.[method.toLowerCase()];
    assert.ok(op, `undocumented route ${method} ${t}`);
    const security = op.security ?? doc.security;
    const isPublic = security.length === 0 || security.some((s) => Object.keys(s).length === 0);
    if (pattern !== '/metrics') assert.equal(isPublic, access === 'public', `${method} ${t} security`);
  }
});

test('every documented operation is registered', () => {
  const have = new Set(routes.map(([m, p]) => `${m} ${p.replace(/:([A-Za-z]+)/g, '{$1}')}`));
  for (const [p, item] of Object.entries(doc.paths)) {
    for (const m of Object.keys(item).filter((k) => ['get', 'post', 'put', 'patch', 'delete'].includes(k))) {
      assert.ok(have.has(`${m.toUpperCase()} ${p}`), `documented but not registered: ${m.toUpperCase()} ${p}`);
    }
  }
});
