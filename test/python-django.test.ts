// A Django site (Debian's python3-django) served by the embedded interpreter through the
// CLI: a JSON view, a CSRF-protected form post, the admin's login page.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killAll } from './manager-harness';
import { hasPython, request, skipReason, startPython } from './helpers/python';

describe.skipIf(!hasPython)(`Python: Django${skipReason}`, () => {
  let port = 0;
  beforeAll(async () => {
    port = (await startPython(['--python', 'django_site:application'])).port;
  }, 60_000);
  afterAll(killAll);

  it('a JSON view', async () => {
    const r = await request(port, 'GET', '/?q=tsgi');
    expect([r.status, JSON.parse(r.text)]).toEqual([200, { hello: 'django', path: '/', q: 'tsgi' }]);
  });

  it('a CSRF-protected form: refused without the token, accepted with it', async () => {
    const page = await request(port, 'GET', '/form');
    const token = page.text;
    const cookie = (page.headers['set-cookie'] ?? []).map((c) => c.trim().split(';')[0]).find((c) => c.startsWith('csrftoken='));
    expect(cookie).toBeDefined();
    const headers = { 'Content-Type': 'application/x-www-form-urlencoded', Cookie: cookie!, Origin: `http://127.0.0.1:${port}`, Host: `127.0.0.1:${port}` };
    const refused = await request(port, 'POST', '/form', { body: 'name=mallory', headers });
    expect(refused.status).toBe(403);
    const ok = await request(port, 'POST', '/form', { body: `name=ada&csrfmiddlewaretoken=${encodeURIComponent(token)}`, headers });
    expect([ok.status, JSON.parse(ok.text)]).toEqual([200, { name: 'ada' }]);
  });

  it("the admin's login page", async () => {
    const r = await request(port, 'GET', '/admin/login/');
    expect(r.status).toBe(200);
    expect(r.text).toMatch(/csrfmiddlewaretoken/);
    expect(r.text).toMatch(/Django administration|Log in/);
    const redirect = await request(port, 'GET', '/admin/');
    expect([redirect.status, redirect.headers.location]).toEqual([302, '/admin/login/?next=/admin/']);
  });
});
