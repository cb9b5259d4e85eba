// End-to-end tests of the dashboard in headless Chromium (Debian's /usr/bin/chromium, driven by
// playwright-core, which downloads no browser), with axe-core injected from node_modules.
//
// One server for the file: `expedite serve --demo` on a fresh SQLite database (the real
// cases), with the shared SIPRI register when it is there. Screenshots of every page go to
// e2e/artifacts/; with E2E_UPDATE_DOCS=1 the portfolio, case, lines and metrics pages are also
// written to docs/images/ for docs/dashboard.md.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, existsSync, copyFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const binary = process.env.EXPEDITE_BIN ?? path.join(root, 'target', 'debug', 'expedite');
const browserPath = process.env.CHROMIUM ?? '/usr/bin/chromium';
const artifacts = path.join(root, 'e2e', 'artifacts');
const docsImages = path.join(root, 'docs', 'images');
const sipri = path.resolve(root, '..', 'shared', 'data', 'sipri', 'trade-register.csv');
const axePath = createRequire(import.meta.url).resolve('axe-core/axe.min.js');

let server;
let base;
let browser;
let tokens = {};
let folder;

function token(env, ...args) {
  const out = execFileSync(binary, ['token', 'create', ...args, '--format', 'json'], { env });
  return JSON.parse(out.toString()).token;
}

before(async () => {
  for (const [what, file] of [['the expedite binary', binary], ['Chromium', browserPath]]) {
    if (!existsSync(file)) {
      throw new Error(`${what} is missing at ${file}: build it (cargo build -p expedite) or install Debian's chromium`);
    }
  }
  mkdirSync(artifacts, { recursive: true });
  folder = mkdtempSync(path.join(tmpdir(), 'expedite-e2e-'));
  const env = { ...process.env, EXPEDITE_DB: `sqlite://${path.join(folder, 'e2e.db')}`, RUST_LOG: 'warn' };
  const args = ['serve', '--demo', '--addr', '127.0.0.1:0'];
  if (existsSync(sipri)) {
    args.push('--sipri', sipri);
  } else if (process.env.CI === 'true') {
    throw new Error(`the shared SIPRI register is missing at ${sipri}`);
  } else {
    console.log(`# the shared SIPRI register is not at ${sipri}: the suppliers page is tested without it`);
  }
  server = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'inherit'] });
  const started = await new Promise((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`the server did not start: ${text}`)), 60_000);
    server.stdout.on('data', (chunk) => {
      text += chunk.toString();
      const admin = text.match(/\(shown once\): (\S+)/);
      const address = text.match(/listening on (http:\/\/\S+)/);
      if (admin && address) {
        clearTimeout(timer);
        resolve({ admin: admin[1], address: address[1] });
      }
    });
    server.on('exit', (code) => reject(new Error(`the server exited with ${code}: ${text}`)));
  });
  base = started.address;
  tokens.admin = started.admin;
  tokens.estonia = token(env, '--role', 'purchaser', '--country', 'EST', '--name', 'e2e-estonia');
  tokens.army = token(env, '--role', 'case_manager', '--agency', 'army', '--name', 'e2e-army');
  browser = await chromium.launch({
    executablePath: browserPath,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking'],
  });
});

after(async () => {
  await browser?.close();
  if (server && server.exitCode === null) {
    server.kill('SIGTERM');
    await new Promise((resolve) => server.once('exit', resolve));
  }
  if (folder) rmSync(folder, { recursive: true, force: true });
});

async function signedIn(secret, viewport = { width: 1280, height: 900 }) {
  const context = await browser.newContext({ viewport });
  const page = await context.newPage();
  // Nothing may load from anywhere but the server.
  const foreign = [];
  page.on('request', (request) => {
    if (!request.url().startsWith(base) && !request.url().startsWith('data:')) foreign.push(request.url());
  });
  await page.goto(`${base}/login`);
  await page.getByLabel('Access token').fill(secret);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(`${base}/`);
  return { context, page, foreign };
}

async function axe(page, name) {
  await page.addScriptTag({ path: axePath });
  const result = await page.evaluate(async () => await window.axe.run(document));
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  assert.deepEqual(
    bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length} nodes)`),
    [],
    `${name}: serious or critical accessibility violations`,
  );
}

async function shoot(page, name, docs = false) {
  const file = path.join(artifacts, `${name}.png`);
  await page.screenshot({ path: file, fullPage: false });
  if (docs && process.env.E2E_UPDATE_DOCS === '1') {
    mkdirSync(docsImages, { recursive: true });
    copyFileSync(file, path.join(docsImages, `dashboard-${name}.png`));
  }
}

test('a purchaser signs in and sees only its own country\'s cases', async () => {
  const { context, page, foreign } = await signedIn(tokens.estonia);
  const purchasers = await page.locator('#cases tbody tr td:nth-child(2)').allTextContents();
  assert.ok(purchasers.length > 0, 'Estonia has real cases');
  for (const cell of purchasers) assert.match(cell, /^Estonia/);
  const text = await page.locator('main').innerText();
  for (const other of ['Poland', 'Romania', 'Latvia', 'Finland']) assert.ok(!text.includes(other), other);
  await page.getByLabel('Search').fill('Poland');
  await page.getByRole('button', { name: 'Apply' }).click();
  assert.equal(await page.locator('#case-count').innerText(), '0');
  await shoot(page, 'purchaser-portfolio');
  await axe(page, 'purchaser portfolio');
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a case manager records a transition and sees the history and forecast update', async () => {
  const { context, page, foreign } = await signedIn(tokens.army);
  await shoot(page, 'portfolio-at-sign-in');
  await axe(page, 'portfolio');
  // An Army case in congressional review: its next stage is the offer.
  await page.goto(`${base}/?stage=congressional_review&line=himars`);
  let link = page.locator('#cases tbody tr td:first-child a').first();
  if ((await link.count()) === 0) {
    await page.goto(`${base}/?stage=congressional_review`);
    link = page.locator('#cases tbody tr td:first-child a').first();
  }
  const id = (await link.innerText()).trim();
  await link.click();
  await page.waitForURL(`${base}/cases/${id}`);
  await page.waitForSelector('#verified');
  assert.equal(await page.locator('#verified').innerText(), 'history verified');
  await shoot(page, 'case');
  await page.locator('#timeline-h').scrollIntoViewIfNeeded();
  await page.evaluate(() => document.getElementById('timeline-h').scrollIntoView());
  await shoot(page, 'case-timeline', true);
  await axe(page, 'case');
  const rowsBefore = await page.locator('#history tbody tr').count();
  const noteBefore = await page.locator('#forecast-note').innerText();
  await page.getByLabel('Next stage').selectOption('offered');
  await page.getByRole('button', { name: 'Record transition' }).click();
  await page.waitForURL(`${base}/cases/${id}`);
  assert.equal(await page.locator('#history tbody tr').count(), rowsBefore + 1);
  assert.match(await page.locator('#history tbody tr').last().innerText(), /advance to offered/);
  assert.match(await page.locator('#history tbody tr').last().innerText(), /e2e-army/);
  assert.equal(await page.locator('#stage').innerText(), 'offered');
  // The forecast is recomputed in the background: reload until its note changes.
  let note = noteBefore;
  for (let attempt = 0; attempt < 60 && note === noteBefore; attempt += 1) {
    await page.waitForTimeout(1000);
    await page.reload();
    note = await page.locator('#forecast-note').innerText();
  }
  assert.notEqual(note, noteBefore, 'the forecast was recomputed after the transition');
  assert.match(note, /Forecast as of/);
  // A refused transition shows the API's message on the form.
  await page.getByLabel('Next stage').selectOption('delivered');
  await page.getByRole('button', { name: 'Record transition' }).click();
  await page.waitForSelector('#form-error');
  assert.match(await page.locator('#form-error').innerText(), /cannot advance to delivered/);
  await shoot(page, 'case-refused');
  // By now the forecasts are computed: the portfolio lists the deliveries they put in the
  // next 90 days.
  await page.goto(`${base}/`);
  await shoot(page, 'portfolio', true);
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a forecast runs with a progress page, then shows its fan chart and table', async () => {
  const { context, page } = await signedIn(tokens.admin);
  await page.goto(`${base}/forecast`);
  await shoot(page, 'forecast-form');
  await axe(page, 'forecast form');
  await page.getByLabel('Shipped scenario').selectOption('eastern-flank');
  await page.getByLabel('Trials (blank: the scenario\'s)').fill('400');
  await page.getByRole('button', { name: 'Run forecast' }).click();
  await page.waitForURL(/\/forecast\/runs\//);
  await page.waitForSelector('#fan-chart svg', { timeout: 60_000 });
  assert.ok((await page.locator('#forecast-table tbody tr').count()) > 0);
  assert.match(await page.locator('#fan-chart svg').getAttribute('aria-label'), /final delivery/);
  await shoot(page, 'forecast-run');
  await axe(page, 'forecast run');
  await context.close();
});

test('the lines, suppliers and allies pages open, with charts beside tables', async () => {
  const { context, page, foreign } = await signedIn(tokens.admin);
  for (const [name, url, heading] of [
    ['lines', '/lines', 'Production lines'],
    ['suppliers', '/suppliers', 'Suppliers'],
    ['nato', '/nato', 'Allies'],
  ]) {
    await page.goto(`${base}${url}`);
    assert.equal(await page.locator('h1').innerText(), heading);
    await shoot(page, name, name === 'lines');
    await axe(page, name);
  }
  await page.goto(`${base}/nato`);
  assert.ok((await page.locator('svg.chart').count()) >= 2);
  assert.match(await page.locator('#counts').innerText(), /at or above 2 %/);
  if (existsSync(sipri)) {
    await page.goto(`${base}/suppliers`);
    assert.ok((await page.locator('#compared tbody tr').count()) > 0, 'lead times from the register');
  }
  assert.deepEqual(foreign, []);
  await context.close();
});

test('the metrics page shows quarters by phase with charts, a chosen window and split, and names a bad parameter', async () => {
  const { context, page, foreign } = await signedIn(tokens.admin);
  await page.getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Metrics' }).click();
  await page.waitForURL(`${base}/metrics`);
  assert.equal(await page.locator('h1').innerText(), 'Case-execution metrics');
  assert.equal(await page.locator('svg.chart').count(), 2);
  assert.ok((await page.locator('#metrics tbody tr').count()) > 0, 'rows from the real cases');
  assert.match(await page.locator('#metrics-summary').innerText(), /\d+ of \d+ events of the cases you may see were recorded more than 30 days/);
  assert.match(await page.locator('#targets').innerText(), /assumed \(unconfirmed\)/);
  await shoot(page, 'metrics', true);
  await axe(page, 'metrics');
  // Choose a window and a split with the form.
  await page.getByLabel('From quarter').fill('2023-Q1');
  await page.getByLabel('To quarter').fill('2023-Q4');
  await page.getByLabel('Split by').selectOption('purchaser');
  await page.getByRole('button', { name: 'Show' }).click();
  await page.waitForURL(/\/metrics\?from=2023-Q1&to=2023-Q4&by=purchaser/);
  const quarters = await page.locator('#metrics tbody tr td:nth-child(1)').allTextContents();
  assert.ok(quarters.length > 0);
  for (const quarter of quarters) assert.match(quarter, /^2023-Q[1-4]$/);
  const groups = new Set(await page.locator('#metrics tbody tr td:nth-child(3)').allTextContents());
  assert.ok(groups.has('all countries') && groups.size > 1, `split by purchaser: ${[...groups]}`);
  await axe(page, 'metrics split by purchaser');
  // A bad parameter answers an error page that names it.
  const refused = await page.goto(`${base}/metrics?from=2023-Q9`);
  assert.equal(refused.status(), 400);
  assert.equal(await page.locator('h1').innerText(), 'Bad request');
  assert.match(await page.locator('main').innerText(), /from: '2023-Q9' is not a quarter/);
  await axe(page, 'metrics error page');
  assert.deepEqual(foreign, []);
  await context.close();
});

test('a purchaser sees its own country\'s metrics and the all-country aggregate only', async () => {
  const { context, page } = await signedIn(tokens.estonia);
  await page.goto(`${base}/metrics`);
  const groups = new Set(await page.locator('#metrics tbody tr td:nth-child(3)').allTextContents());
  assert.ok(groups.has('all countries'), 'the aggregate');
  assert.ok(groups.has('EST'), `Estonia's own rows: ${[...groups]}`);
  assert.deepEqual([...groups].filter((group) => group !== 'all countries' && group !== 'EST'), []);
  await axe(page, 'purchaser metrics');
  await context.close();
});

test('the pages work on a phone-sized screen and by keyboard', async () => {
  const { context, page } = await signedIn(tokens.admin, { width: 390, height: 844 });
  await shoot(page, 'phone-portfolio');
  // The first Tab reaches the skip link, and it moves focus to the content.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), 'Skip to content');
  await page.keyboard.press('Enter');
  assert.match(page.url(), /#main$/);
  await page.goto(`${base}/login`);
  await context.close();
});
