// The JSON API against its OpenAPI document (templates/openapi.json), run by
// tests/cli/admin_api.sh against a live `serve --role admin`:
//  1. the document is valid OpenAPI 3.1 for an independent validator
//     (@apidevtools/swagger-parser), and /api/v1/openapi.json serves it;
//  2. a table of requests covers every operation of the document (each must
//     answer 2xx at least once), and every answer's status is one the
//     document lists for that operation, its body valid against the schema
//     given there (ajv, JSON Schema 2020-12, as OpenAPI 3.1 uses);
//  3. the cases of bad input and of access: unknown fields, wrong types,
//     deep nesting, a body over the bound, a read token that writes,
//     another owner's list, a stale ETag.
// Env: API_URL (http://HOST:PORT), API_SPEC (the document's path),
// API_READ, API_WRITE (olga's tokens: owner of news), API_OTHER (an owner of
// other only), API_MOD (a moderator of news).
import { readFileSync } from 'node:fs';
import SwaggerParser from '@apidevtools/swagger-parser';
import Ajv2020 from 'ajv/dist/2020.js';

const base = process.env.API_URL + '/api/v1';
const spec = JSON.parse(readFileSync(process.env.API_SPEC, 'utf8'));
let failed = 0, passed = 0;
const ok = (cond, what) => {
  if (cond) { passed++; console.log(`ok - ${what}`); } else { failed++; console.log(`FAIL - ${what}`); }
};

await SwaggerParser.validate(structuredClone(spec));
ok(true, 'swagger-parser: the document is valid OpenAPI ' + spec.openapi);
const api = await SwaggerParser.dereference(structuredClone(spec));
const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });

// the operation of a concrete path: templates like /lists/{name}
const ops = [];
for (const [tmpl, item] of Object.entries(api.paths))
  for (const m of ['get', 'post', 'patch', 'delete', 'put'])
    if (item[m]) ops.push({ tmpl, m, op: item[m], re: new RegExp('^' + tmpl.replace(/\{[^}]+\}/g, '[^/]+') + '$'), hit: false });
const opOf = (m, path) => ops.find((o) => o.m === m && o.re.test(path.split('?')[0]));

async function call(method, path, { token, body, raw, headers = {}, want } = {}) {
  const h = { ...headers };
  if (token) h.Authorization = `Bearer ${token}`;
  let data;
  if (body !== undefined) { h['Content-Type'] ??= 'application/json'; data = JSON.stringify(body); }
  if (raw !== undefined) { h['Content-Type'] ??= 'application/json'; data = raw; }
  const res = await fetch(base + path, { method, headers: h, body: data });
  const text = await res.text();
  const o = opOf(method.toLowerCase(), path);
  const what = `${method} ${path.length > 60 ? path.slice(0, 60) + '...' : path}`;
  if (!o) { ok(false, `${what}: an operation of the document`); return { res, json: null }; }
  const r = o.op.responses[String(res.status)];
  ok(r !== undefined, `${what}: ${res.status} is listed for ${o.m.toUpperCase()} ${o.tmpl}`);
  if (want !== undefined) ok(res.status === want, `${what}: ${res.status} (want ${want})`);
  if (res.status >= 200 && res.status < 300) o.hit = true;
  let json = null;
  if (text.length) {
    try { json = JSON.parse(text); } catch { ok(false, `${what}: the body is JSON`); }
  }
  const ctype = (res.headers.get('content-type') || '').split(';')[0];
  if (r && r.content) {
    const media = r.content[ctype];
    ok(media !== undefined, `${what}: Content-Type ${ctype} is the document's`);
    if (media && media.schema) {
      const v = ajv.compile(media.schema);
      ok(v(json), `${what}: the body validates` + (v.errors ? ' ' + ajv.errorsText(v.errors) : ''));
    }
  }
  return { res, json };
}

const R = process.env.API_READ, W = process.env.API_WRITE, X = process.env.API_OTHER, M = process.env.API_MOD;

// the document served is the one in the repository
{
  const { json } = await call('GET', '/openapi.json', { want: 200 });
  ok(JSON.stringify(json) === JSON.stringify(spec), '/openapi.json is templates/openapi.json');
}
// authentication and need to know
await call('GET', '/lists', { want: 401 });
await call('GET', '/lists', { token: 'lk_' + '0'.repeat(64), want: 401 });
{
  const { json } = await call('GET', '/lists', { token: R, want: 200 });
  ok(json && json.lists.map((l) => l.name).join() === 'news', 'olga sees news only');
}
await call('GET', '/lists/other', { token: R, want: 404 });
await call('GET', '/lists/other/subscribers', { token: R, want: 404 });
await call('GET', '/lists/news/subscribers', { token: X, want: 404 });
await call('GET', '/lists/news/subscribers', { token: M, want: 403 });
await call('GET', '/lists/news', { token: M, want: 403 });
// settings with ETag / If-Match
let { res, json } = await call('GET', '/lists/news', { token: R, want: 200 });
const etag = res.headers.get('etag');
ok(/^"[0-9a-f]{32}"$/.test(etag || ''), `GET /lists/news has an ETag (${etag})`);
await call('PATCH', '/lists/news', { token: R, headers: { 'If-Match': etag }, body: { title: 'x' }, want: 403 });
await call('PATCH', '/lists/news', { token: W, body: { title: 'x' }, want: 428 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': '"0"' }, body: { title: 'x' }, want: 412 });
for (const [body, field] of [[{ colour: 'red' }, 'colour'], [{ digest: 'yes' }, 'digest'], [{ title: 7 }, 'title'],
  [{ moderation: 'sometimes' }, 'moderation'], [{ title: { a: 1 } }, 'title'], [{ owners: 'not an address' }, 'owners']]) {
  const { json } = await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, body, want: 400 });
  ok(json && json.field === field && json.detail.startsWith(field + ':'), `400 names the field ${field}: ${json && json.detail}`);
}
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '['.repeat(100000) + ']'.repeat(100000), want: 413 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '['.repeat(5000) + ']'.repeat(5000), want: 400 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '{"title": "a", "title": "b"}', want: 400 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '{"title": "a"', want: 400 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '[1]', want: 400 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag, 'Content-Type': 'text/plain' }, raw: '{}', want: 415 });
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, raw: '{"title":"' + 'x'.repeat(1000000 - 13) + '"}', want: 413 }); // 1 MB
({ res, json } = await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, body: { title: 'News from the API', digest: true }, want: 200 }));
ok(json && json.title === 'News from the API' && json.digest === true, 'the PATCH is saved');
const etag2 = res.headers.get('etag');
ok(etag2 && etag2 !== etag, 'the ETag changes with the settings');
await call('PATCH', '/lists/news', { token: W, headers: { 'If-Match': etag }, body: { title: 'lost update' }, want: 412 });
// subscribers
await call('POST', '/lists/news/subscribers', { token: R, body: { address: 'api@example.org' }, want: 403 });
await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'not an address' }, want: 400 });
await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'api@example.org', extra: 1 }, want: 400 });
await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'api@example.org', confirmed: true }, want: 400 });
({ json } = await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'api@example.org', name: 'Api <b>Person</b>', confirmed: true, consent_note: 'signed up at the fair' }, want: 201 }));
const id = json && json.id;
await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'api@example.org', confirmed: true, consent_note: 'again' }, want: 409 });
({ json } = await call('POST', '/lists/news/subscribers', { token: W, body: { address: 'pending@example.org' }, want: 201 }));
ok(json && json.state === 'pending', 'without confirmed the person is pending');
({ json } = await call('GET', '/lists/news/subscribers?limit=1', { token: R, want: 200 }));
ok(json && json.items.length === 1 && json.next_cursor !== null, 'a page of 1 has a next cursor');
const seen = json ? json.items.map((i) => i.id) : [];
let cursor = json && json.next_cursor;
while (cursor) {
  ({ json } = await call('GET', `/lists/news/subscribers?limit=1&cursor=${cursor}`, { token: R, want: 200 }));
  if (!json) break;
  seen.push(...json.items.map((i) => i.id));
  cursor = json.next_cursor;
}
ok(seen.length === 3 && new Set(seen).size === 3, `the cursor walks every member once (${seen})`);
await call('GET', '/lists/news/subscribers?limit=0', { token: R, want: 400 });
await call('GET', '/lists/news/subscribers?limit=abc', { token: R, want: 400 });
({ json } = await call('GET', '/lists/news/subscribers/lookup?address=API%40Example.org', { token: R, want: 200 }));
ok(json && json.id === id && json.name === 'Api <b>Person</b>', 'the look-up finds the person by address');
await call('GET', '/lists/news/subscribers/lookup?address=nobody%40example.org', { token: R, want: 404 });
await call('GET', '/lists/news/subscribers/lookup', { token: R, want: 400 });
await call('DELETE', `/lists/news/subscribers/${id}`, { token: R, want: 403 });
await call('DELETE', `/lists/news/subscribers/${id}`, { token: W, want: 204 });
await call('DELETE', `/lists/news/subscribers/${id}`, { token: W, want: 404 });
await call('GET', '/jobs', { token: R, want: 200 });
({ json } = await call('GET', '/stats', { token: R, want: 200 }));
ok(json && json.lists === 1, 'stats count olga\'s one list');

for (const o of ops) ok(o.hit, `${o.m.toUpperCase()} ${o.tmpl} answered 2xx at least once`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
