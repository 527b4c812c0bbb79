// Validates API responses against docs/api/openapi.yaml (ajv, JSON Schema 2020-12 as OpenAPI
// 3.1 uses it): the route and method must be documented, the status listed for it, and the
// body must match the documented schema for its content type. Every API test that talks to
// the auth/users/keys routes goes through checkResponse (see lib/api.mjs).
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import Ajv2020 from 'ajv/dist/2020.js';
import addFormats from 'ajv-formats';
import YAML from 'yaml';

const here = path.dirname(fileURLToPath(import.meta.url));
export const OPENAPI_PATH = path.resolve(here, '../../../docs/api/openapi.yaml');
export const doc = YAML.parse(readFileSync(OPENAPI_PATH, 'utf8'));

const ajv = new Ajv2020({ strict: false, allErrors: true });
addFormats(ajv);
ajv.addSchema(doc, 'openapi.json');

const ptr = (s) => s.replace(/~/g, '~0').replace(/\//g, '~1');

// Templates with their regexes, literal segments first so /users/me beats /users/{id}.
const templates = Object.keys(doc.paths).map((t) => ({
  t,
  params: (t.match(/\{/g) || []).length,
  re: new RegExp('^' + t.replace(/\{[^}]+\}/g, '[^/]+') + '$'),
})).sort((a, b) => a.params - b.params);

export function matchTemplate(urlPath) {
  const p = urlPath.split('?')[0];
  return templates.find((x) => x.re.test(p))?.t;
}

function resolve(obj) {
  let o = obj;
  while (o && o.$ref) {
    const parts = o.$ref.replace(/^#\//, '').split('/').map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'));
    o = parts.reduce((acc, k) => acc[k], doc);
  }
  return o;
}

const validators = new Map();
function validatorFor(refPath) {
  if (!validators.has(refPath)) {
    const v = ajv.getSchema('openapi.json#' + refPath);
    assert.ok(v, `openapi: no schema at ${refPath}`);
    validators.set(refPath, v);
  }
  return validators.get(refPath);
}

export const seen = new Set();

// Throws an AssertionError when the response is not what the document says.
export function checkResponse(method, urlPath, status, contentType, body, headers = {}) {
  const t = matchTemplate(urlPath);
  assert.ok(t, `openapi: undocumented path ${urlPath}`);
  // HEAD is GET's unless the path documents a HEAD of its own (tus uploads).
  const m = method.toLowerCase() === 'head' && !doc.paths[t].head ? 'get' : method.toLowerCase();
  const op = doc.paths[t][m];
  assert.ok(op, `openapi: undocumented method ${method} ${t}`);
  let resp = op.responses[String(status)];
  let respPtr = `/paths/${ptr(t)}/${m}/responses/${status}`;
  assert.ok(resp, `openapi: undocumented status ${status} for ${method} ${t}: ${JSON.stringify(body)}`);
  while (resp.$ref) {
    respPtr = resp.$ref.replace(/^#/, '');
    resp = resolve({ $ref: resp.$ref });
  }
  seen.add(`${method.toUpperCase()} ${t} ${status}`);
  if (status === 429) assert.ok(Number(headers['retry-after']) >= 1, 'openapi: 429 without Retry-After');
  if (!resp.content || method.toLowerCase() === 'head') return;
  const ct = (contentType || '').split(';')[0].trim();
  assert.ok(resp.content[ct], `openapi: undocumented content type ${ct} for ${status} ${method} ${t}`);
  if (!resp.content[ct].schema) return;
  const v = validatorFor(`${respPtr}/content/${ptr(ct)}/schema`);
  if (!v(body)) {
    assert.fail(`openapi: ${method} ${t} ${status} body does not match: ${ajv.errorsText(v.errors)}\n${JSON.stringify(body).slice(0, 500)}`);
  }
}
