// The admin pages in Debian's headless Chromium, driven by playwright-core;
// started by tests/cli/admin_e2e.sh, which set up the instance and
// `serve --role admin`. Env: E2E_URL (the admin URL), E2E_SHOTS (screenshots),
// E2E_PROFILE (a new Chromium profile folder).
// An owner signs in (the cookie's flags as the browser holds it), sees the
// dashboard, changes a setting and gets a field's error, pages through the
// members and finds one by address; an admin reads the audit log. axe-core
// (npm) runs on every page: no violation of impact serious or critical.
// Every page is shot at a desktop width and at 375 px.
// Prints "ok - ..." / "FAIL - ..."; exits 1 if anything failed.
import { chromium } from 'playwright-core';
import axe from 'axe-core';
import path from 'node:path';

const URL_ = process.env.E2E_URL;
const SHOTS = process.env.E2E_SHOTS;
const PROFILE = process.env.E2E_PROFILE;
const WAIT = 20000;
let failed = 0;
const check = (d, cond) => { if (cond) console.log(`ok - ${d}`); else { failed++; console.log(`FAIL - ${d}`); } };

let shotN = 0;
async function shots(page, name) {
  for (const [w, h, tag] of [[1280, 800, 'desktop'], [375, 800, '375']]) {
    await page.setViewportSize({ width: w, height: h });
    shotN++;
    await page.screenshot({ path: path.join(SHOTS, `admin-${String(shotN).padStart(2, '0')}-${name}-${tag}.png`), fullPage: true, timeout: WAIT });
    if (tag === '375') {
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
      check(`${name}: nothing wider than 375 px (${overflow} px over)`, overflow <= 1);
    }
  }
  await page.setViewportSize({ width: 1280, height: 800 });
}

// axe-core in the page (through the DevTools protocol, which the page's CSP
// does not govern: the page itself loads no script).
async function axeCheck(page, name) {
  await page.evaluate(axe.source);
  const res = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  const bad = res.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  check(`${name}: axe-core finds no serious or critical violation${bad.length ? ': ' + bad.map((v) => `${v.id} (${v.nodes[0].target})`).join(', ') : ''}`, bad.length === 0);
}

async function visit(page, p, name) {
  await page.goto(URL_ + p);
  await axeCheck(page, name);
  await shots(page, name);
}

async function signIn(page, name, pw) {
  await page.goto(URL_ + '/login');
  await page.getByLabel('Account name').fill(name);
  await page.getByLabel('Password').fill(pw);
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
}

async function run(ctx, page) {
  await visit(page, '/login', 'login');
  await page.getByLabel('Account name').fill('olga');
  await page.getByLabel('Password').fill('not her password');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign in' }).click()]);
  check('a wrong password is refused', (await page.locator('.error').textContent()).includes('do not match'));
  await axeCheck(page, 'login with an error');
  await signIn(page, 'olga', 'password of olga');
  check('signed in: the dashboard', (await page.locator('h1').textContent()) === 'Dashboard');
  const cookies = await ctx.cookies();
  const c = cookies.find((k) => k.name === 'lk_admin');
  check('the browser holds one cookie, lk_admin', cookies.length === 1 && c !== undefined);
  check('... HttpOnly, Secure, SameSite=Strict', c && c.httpOnly && c.secure && c.sameSite === 'Strict');
  check('the dashboard shows the title as text, escaped',
    (await page.getByRole('link', { name: 'News <b>&</b> more' }).count()) === 1);
  check('... and the chart', (await page.locator('svg[role=img] rect.bar').count()) === 1);
  await axeCheck(page, 'dashboard');
  await shots(page, 'dashboard');

  await page.getByRole('link', { name: 'News <b>&</b> more' }).click();
  await page.waitForURL(/\/lists\/news$/);
  await axeCheck(page, 'list settings');
  await shots(page, 'list-settings');
  await page.getByLabel('owners', { exact: true }).fill('not an address');
  await page.getByLabel('title', { exact: true }).fill('News, renamed');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
  const ferr = await page.locator('.field-error').allTextContents();
  check(`a bad owners value names the field (${ferr[0]})`, ferr.length === 1 && ferr[0].startsWith('owners: '));
  check('... nothing is saved', (await page.locator('h1').textContent()) === 'News <b>&</b> more');
  await axeCheck(page, 'list settings with an error');
  await shots(page, 'list-settings-error');
  await page.getByLabel('owners', { exact: true }).fill('olga@example.org');
  await page.getByLabel('title', { exact: true }).fill('News, renamed');
  await page.getByLabel('moderation', { exact: true }).selectOption('all');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save settings' }).click()]);
  check('the settings are saved', (await page.getByRole('status').textContent()).includes('saved'));
  check('... the new title shows', (await page.locator('h1').textContent()) === 'News, renamed');
  check('... moderation is all', (await page.getByLabel('moderation', { exact: true }).inputValue()) === 'all');

  await page.getByRole('link', { name: 'Subscribers' }).click();
  await page.waitForURL(/subscribers$/);
  const rows = await page.locator('tbody tr').count();
  check(`the members page shows 50 of 60 (${rows})`, rows === 50);
  check('a member\'s name shows as text', (await page.getByText('<i>Member 1</i>').count()) === 1);
  await axeCheck(page, 'subscribers');
  await shots(page, 'subscribers');
  await page.getByRole('link', { name: 'Next page' }).click();
  await page.waitForURL(/after=/);
  check('the next page shows the other 10', (await page.locator('tbody tr').count()) === 10);
  await page.getByLabel('Find by exact address').fill('Member7@Example.org');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Find' }).click()]);
  check('find by address finds member7', (await page.getByRole('status').textContent()).includes('member7@example.org'));
  await axeCheck(page, 'find');
  await shots(page, 'find');
  await visit(page, '/lists/news/held', 'held posts');
  check('another owner\'s list is not found', (await page.goto(URL_ + '/lists/other')).status() === 404);
  await page.goto(URL_ + '/');

  await page.getByRole('checkbox', { name: 'everywhere' }).check();
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Sign out' }).click()]);
  check('signed out: the sign-in page', page.url().endsWith('/login'));
  check('... the cookie is gone', (await ctx.cookies()).length === 0);
  await signIn(page, 'root', 'password of root');
  await page.getByRole('link', { name: 'Audit log' }).click();
  await page.waitForURL(/\/audit$/);
  check('the audit log lists the members page views', (await page.getByRole('cell', { name: 'subscribers-view' }).count()) >= 2);
  check('... and olga\'s sign-in with the network', (await page.getByRole('cell', { name: 'net=127.0.0.0/24' }).count()) >= 1);
  await axeCheck(page, 'audit log');
  await shots(page, 'audit');
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let ctx;
try {
  ctx = await chromium.launchPersistentContext(PROFILE, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, timeout: WAIT,
    viewport: { width: 1280, height: 800 },
  });
  ctx.setDefaultTimeout(WAIT);
  ctx.setDefaultNavigationTimeout(WAIT);
  let outside = 0;
  await ctx.route((u) => !u.href.startsWith(`${URL_}/`), (route) => { outside++; route.abort(); });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const errors = [];
  // the refused sign-in (403), the other owner's list (404) and the refused settings (422) are on purpose
  page.on('console', (m) => { if (m.type() === 'error' && !/status of (403|404|422)/.test(m.text())) errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await run(ctx, page);
  check('no request left the server', outside === 0);
  check(`no console errors (CSP and the like)${errors.length ? ': ' + errors[0] : ''}`, errors.length === 0);
} catch (e) {
  failed++;
  console.log(`FAIL - unexpected: ${e && e.stack ? e.stack : e}`);
} finally {
  if (ctx) await ctx.close().catch(() => {});
}
process.exit(failed === 0 ? 0 : 1);
