// The web flows in Debian's headless Chromium, driven by playwright-core.
// Started by tests/cli/e2e.sh, which set up the instance and `serve`; the
// environment says where things are:
//   E2E_URL      the served URL (also base_url, so links in mail point at it)
//   E2E_LK       the listkeeper binary (for `sub ls` and `send`)
//   E2E_MAILDIR  the Maildir relay's folder
//   E2E_SHOTS    where the screenshots go
//   E2E_PROFILE  a new, empty Chromium profile folder
// The flows: subscribe on the list page -> the confirmation mail -> confirm;
// a campaign; the preferences page (name, format, tracking, no-mail, join);
// "what do you hold about me" (/me -> mail -> /me/TOKEN -> JSON download);
// unsubscribe with the button (the last list: erased).
// Prints "ok - ..." / "FAIL - ..." lines; exits 1 if anything failed. Every
// wait is bounded (20 s at most); everything stays on loopback.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const URL_ = process.env.E2E_URL;
const LK = process.env.E2E_LK;
const MAILDIR = process.env.E2E_MAILDIR;
const SHOTS = process.env.E2E_SHOTS;
const PROFILE = process.env.E2E_PROFILE;
const WAIT = 20000;
// The list's title, as e2e.sh set it: markup in it must come out as text.
const TITLE = 'News & <i>Views</i>';

let failed = 0;
const ok = (d) => console.log(`ok - ${d}`);
const bad = (d) => { failed++; console.log(`FAIL - ${d}`); };
const check = (d, cond) => (cond ? ok(d) : bad(d));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const lk = (...args) => execFileSync(LK, args, { encoding: 'utf8', timeout: WAIT });
const stateOf = (list, addr) => {
  for (const line of lk('sub', 'ls', list).split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f[2] === addr) return f[1];
  }
  return '';
};

// The decoded text of a delivered message: quoted-printable soft line breaks
// undone and =XX decoded (the links are ASCII; this is enough for them).
function decodedText(file) {
  const raw = fs.readFileSync(file, 'latin1');
  return raw.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/g,
    (_, h) => String.fromCharCode(parseInt(h, 16)));
}

// Waits (bounded) for a message to `to` in new/ that holds `re` and is not
// in `seen`; returns [file, match].
async function waitMail(to, re, seen = new Set()) {
  const dir = path.join(MAILDIR, 'new');
  const end = Date.now() + WAIT;
  while (Date.now() < end) {
    let names = [];
    try { names = fs.readdirSync(dir); } catch { /* not made yet */ }
    for (const n of names) {
      const f = path.join(dir, n);
      if (seen.has(f)) continue;
      const t = decodedText(f);
      if (!new RegExp(`^To: .*${to.replace(/[.]/g, '\\.')}`, 'mi').test(t)) continue;
      const m = t.match(re);
      if (m) return [f, m];
    }
    await sleep(100);
  }
  return [null, null];
}

let shotN = 0;
async function shot(page, name) {
  shotN++;
  const f = path.join(SHOTS, `${String(shotN).padStart(2, '0')}-${name}.png`);
  await page.screenshot({ path: f, fullPage: true, timeout: WAIT });
}

const esc = (s) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const linkRe = (p) => new RegExp(`${esc(URL_)}/${p}/[A-Za-z0-9_-]+`);

async function run(page) {
  // --- the public pages -------------------------------------------------
  let r = await page.goto(`${URL_}/`, { timeout: WAIT });
  check('GET / is 200', r.status() === 200);
  await shot(page, 'index');
  const listLink = page.getByRole('link', { name: TITLE });
  check('the index shows the list by its title', (await listLink.count()) === 1);
  await listLink.click({ timeout: WAIT });
  await page.waitForURL(`${URL_}/l/news`, { timeout: WAIT });
  ok('the list link leads to /l/news');
  check('/l/news has the title as its heading',
    (await page.locator('h1').textContent({ timeout: WAIT })).trim() === TITLE);
  check('markup in the title is escaped (no <i> element)', (await page.locator('i').count()) === 0);
  check('/l/news shows the description',
    (await page.locator('body').textContent()).includes('A monthly letter about the garden.'));
  await shot(page, 'list');

  // --- subscribe with the form -> mail -> confirm (P1) ---------------------
  const seen = new Set();
  const who = 'gardener@example.org';
  const form = page.locator('form[method="post" i]');
  check('/l/news has a subscribe form', (await form.count()) === 1);
  await page.getByLabel('Email address').fill(who);
  await page.getByLabel(/^Name/).fill('Garden <b>er</b>');
  await shot(page, 'subscribe-form');
  await Promise.all([page.waitForNavigation(),
    form.getByRole('button', { name: 'Subscribe' }).click()]);
  check('subscribing says: check your mailbox',
    /check your mailbox/i.test(await page.locator('main').textContent()));
  await shot(page, 'check-mailbox');
  fs.writeFileSync(path.join(path.dirname(MAILDIR), 'formflow'), who);
  const [fmail, fm] = await waitMail(who, linkRe('c'), seen);
  check('the form subscription sends a confirmation mail with a /c/ link', fm !== null);
  if (fm === null) return;
  seen.add(fmail);
  r = await page.goto(fm[0]);
  check('GET /c/ is 200', r.status() === 200);
  const confirm = page.getByRole('button', { name: 'Yes, subscribe me' });
  check('the /c/ page has a confirm button', (await confirm.count()) === 1);
  check('the /c/ page names the list', (await page.locator('main').textContent()).includes(TITLE));
  check('the /c/ page does not show the address', !(await page.content()).includes('gardener@'));
  await shot(page, 'confirm');
  // The same page on a small screen and in dark mode (contrast, wrapping).
  await page.setViewportSize({ width: 360, height: 640 });
  await page.emulateMedia({ colorScheme: 'dark' });
  await shot(page, 'confirm-narrow-dark');
  check('no horizontal scrolling at 360 px', await page.evaluate(
    () => document.documentElement.scrollWidth <= document.documentElement.clientWidth));
  await page.emulateMedia({ colorScheme: 'light' });
  await page.setViewportSize({ width: 900, height: 700 });
  check('after opening the link the person is still pending', stateOf('news', who) === 'pending');
  await Promise.all([page.waitForNavigation(), confirm.click()]);
  check('pressing the button says: subscribed',
    /You are subscribed/.test(await page.locator('h1').textContent()));
  check('the person who used the form is active', stateOf('news', who) === 'active');
  await shot(page, 'confirmed');

  // --- reader (added by `sub add`) confirms too ----------------------------
  const [rmail, rm] = await waitMail('reader@example.org', linkRe('c'), seen);
  check('reader\'s confirmation mail arrived', rm !== null);
  if (rm === null) return;
  seen.add(rmail);
  await page.goto(rm[0]);
  await Promise.all([page.waitForNavigation(),
    page.getByRole('button', { name: 'Yes, subscribe me' }).click()]);
  check('reader is active', stateOf('news', 'reader@example.org') === 'active');

  // --- the welcome that followed the confirmation (templates/mail_welcome.txt)
  const [wmail] = await waitMail(who, /^Subject: Welcome to/m, seen);
  check('a welcome mail followed the confirmation', wmail !== null);
  if (wmail !== null) seen.add(wmail);

  // --- a campaign: its footer links /p/ and /u/ ----------------------------
  const text = path.join(path.dirname(MAILDIR), 'campaign.txt');
  fs.writeFileSync(text, 'Hello, gardeners.\n');
  lk('send', 'news', '--subject', 'Hi', '--text', text);
  const [gmail, gp] = await waitMail(who, linkRe('p'), seen);
  check('the campaign reached the gardener with a /p/ link', gp !== null);
  if (gp === null) return;
  seen.add(gmail);
  check('the campaign carries its text', decodedText(gmail).includes('Hello, gardeners.'));

  // --- preferences (P5) -------------------------------------------------------
  r = await page.goto(gp[0]);
  check('GET /p/ is 200', r.status() === 200);
  check('/p/ shows the address', (await page.locator('main').textContent()).includes(who));
  const nameBox = page.getByLabel(/^Name/);
  check('/p/ shows the name as text, in the box', (await nameBox.inputValue()) === 'Garden <b>er</b>');
  check('markup in the name is escaped (no <b> element)', (await page.locator('main b').count()) === 0);
  const newsSel = page.getByLabel(new RegExp(`^${esc(TITLE)}`));
  const otherSel = page.getByLabel(/^Other/);
  check('/p/ has a delivery choice for news and a join choice for other',
    (await newsSel.count()) === 1 && (await otherSel.count()) === 1);
  await shot(page, 'preferences');
  await nameBox.fill('Gardener Jo');
  await page.getByLabel('HTML', { exact: true }).check();
  await page.getByLabel(/Count when I open/).check();
  await newsSel.selectOption('nomail');
  await otherSel.selectOption('join');
  await nameBox.focus();
  await shot(page, 'preferences-filled');
  await Promise.all([page.waitForNavigation(), page.getByRole('button', { name: 'Save' }).click()]);
  const saved = await page.locator('main').textContent();
  check('saving says: saved', saved.includes('Your preferences are saved.'));
  check('it says how to join other (a confirmation link)', saved.includes('open the link in the message'));
  await shot(page, 'preferences-saved');
  const exp = JSON.parse(lk('person', 'export', who));
  check('the name is saved', exp.subscriber.name === 'Gardener Jo');
  check('the format is saved', exp.subscriber.format === 'html');
  check('the tracking consent is saved', exp.subscriber.open_tracking_consent === true);
  check('news is no-mail now', exp.subscriptions.some((x) => x.list === 'news' && x.nomail));
  check('tracking consent is in the ledger', exp.consent_events.some((e) => e.action === 'tracking-consent'));
  check('other is pending until confirmed', stateOf('other', who) === 'pending');
  const [omail, om] = await waitMail(who, linkRe('c'), seen);
  check('joining other sends its confirmation mail', om !== null);
  if (omail) seen.add(omail);

  // --- what do you hold about me (P4) ----------------------------------------
  await page.goto(`${URL_}/me`);
  await shot(page, 'me');
  await page.getByLabel('Email address').fill(who);
  await Promise.all([page.waitForNavigation(),
    page.getByRole('button', { name: 'Send me the link' }).click()]);
  const sentText = await page.locator('main').textContent();
  check('/me answers: if we hold anything, we sent a link', sentText.includes('If we hold anything about this address'));
  check('the answer does not name the address', !sentText.includes(who));
  await shot(page, 'me-sent');
  const [mmail, mm] = await waitMail(who, linkRe('me'), seen);
  check('the data request mail arrived with a /me/ link', mm !== null);
  if (mm === null) return;
  seen.add(mmail);
  r = await page.goto(mm[0]);
  check('GET /me/TOKEN is 200', r.status() === 200);
  const mine = await page.locator('main').textContent();
  check('the data page shows the address and the name', mine.includes(who) && mine.includes('Gardener Jo'));
  check('the data page lists both lists', mine.includes(TITLE) && mine.includes('Other'));
  check('it links to preferences and unsubscribe',
    (await page.getByRole('link', { name: 'Preferences' }).count()) === 2 &&
    (await page.getByRole('link', { name: 'Unsubscribe' }).count()) === 2);
  await shot(page, 'me-data');
  const [download] = await Promise.all([page.waitForEvent('download'),
    page.getByRole('button', { name: 'Download my data (JSON)' }).click()]);
  const dl = path.join(path.dirname(MAILDIR), 'my-data.json');
  await download.saveAs(dl);
  check('the download is called my-data.json', download.suggestedFilename() === 'my-data.json');
  const mineJson = JSON.parse(fs.readFileSync(dl, 'utf8'));
  check('the download is the person\'s export',
    mineJson.subscriber.address === who && mineJson.subscriber.name === 'Gardener Jo' &&
    mineJson.subscriptions.length === 2 &&
    JSON.stringify(mineJson.consent_events) === JSON.stringify(JSON.parse(lk('person', 'export', who)).consent_events));

  // --- unsubscribe with the button (P2, P3): reader's /u/ link ---------------
  const [umail, um] = await waitMail('reader@example.org', linkRe('u'), seen);
  check('the campaign reached reader with a /u/ link', um !== null);
  if (um === null) return;
  r = await page.goto(um[0]);
  check('GET /u/ is 200', r.status() === 200);
  const unsub = page.getByRole('button', { name: 'Unsubscribe' });
  check('the /u/ page has the unsubscribe button', (await unsub.count()) === 1);
  check('the /u/ page offers "leave every list"',
    (await page.locator('input[name="all"]').count()) === 1);
  await shot(page, 'unsubscribe');
  check('after opening /u/ reader is still active', stateOf('news', 'reader@example.org') === 'active');
  await Promise.all([page.waitForNavigation(), unsub.click()]);
  const body = await page.locator('main').textContent();
  check('pressing it says: unsubscribed', /You are unsubscribed/.test(body));
  check('it says the personal data was deleted (last list)',
    body.includes('personal data has been deleted'));
  await shot(page, 'unsubscribed');
}

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];
let ctx;
try {
  // A persistent context only so that the profile folder is ours (new and
  // empty), and the wrapper can find a stray browser by it.
  ctx = await chromium.launchPersistentContext(PROFILE, {
    executablePath: '/usr/bin/chromium', headless: true, args: ARGS, timeout: WAIT,
    viewport: { width: 900, height: 700 },
  });
  ctx.setDefaultTimeout(WAIT);
  ctx.setDefaultNavigationTimeout(WAIT);
  // Loopback only: any request elsewhere is refused and counted.
  let outside = 0;
  await ctx.route((u) => !u.href.startsWith(`${URL_}/`), (route) => { outside++; route.abort(); });
  const page = ctx.pages()[0] ?? await ctx.newPage();
  const errors = [];
  page.on('console', (m) => { if (m.type() === 'error') errors.push(m.text()); });
  page.on('pageerror', (e) => errors.push(String(e)));
  await run(page);
  check('no request left the server', outside === 0);
  check(`no console errors (CSP and the like)${errors.length ? ': ' + errors[0] : ''}`,
    errors.length === 0);
} catch (e) {
  bad(`unexpected: ${e && e.stack ? e.stack : e}`);
} finally {
  if (ctx) await ctx.close().catch(() => {});
}
process.exit(failed === 0 ? 0 : 1);
