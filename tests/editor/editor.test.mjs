// The editor end to end, as a person uses it: a real `sluice serve` with the bundled plugins
// serves tools/editor/dist, and Debian's Chromium (driven by playwright-core) builds a graph by
// drag and drop, sets a parameter, saves, sends data, watches the counters move, gets an
// invalid graph's error on the right node, taps an edge, gets the conflict when another page
// saved first, keeps the layout across a reload, undoes and redoes, copies and pastes, exports
// and imports, sends CSV through an adapter (typed in and from a file) and sees what an unwired
// port dropped, reads a node's dead letters, opens a 200-node graph, deletes a graph, splices a
// node into a wire, adds a wired node from a wire dropped on the canvas, collapses and resizes
// the panels, starts a new graph at zoom 1, follows Back and Forward, warns before unsaved
// changes are left, keeps a failed save shown while the server is down, and logs no console
// error other than the ones it provokes.
//
// Environment (set by tests/editor/meson.build): SLUICE_BIN, SLUICE_PLUGINS, SLUICE_EDITOR_SRC,
// SLUICE_FIXTURE_SEGV (a plugin whose component faults on a packet with an `address`);
// optional CHROMIUM (default /usr/bin/chromium) and SLUICE_EDITOR_SCREENSHOT (a PNG path; the
// debug sidebar, a save's errors and the quick-add chooser go beside it as NAME-tap.png,
// NAME-errors.png and NAME-quick-add.png).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';

const { SLUICE_BIN, SLUICE_PLUGINS, SLUICE_EDITOR_SRC, SLUICE_FIXTURE_SEGV } = process.env;
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const SCREENSHOT = process.env.SLUICE_EDITOR_SCREENSHOT;
const DEADLINE_MS = 15_000;

for (const [name, value] of Object.entries({ SLUICE_BIN, SLUICE_PLUGINS, SLUICE_EDITOR_SRC, SLUICE_FIXTURE_SEGV }))
  assert.ok(value, `${name} is not set (run this test through meson: meson test -C build editor)`);
const dist = path.join(SLUICE_EDITOR_SRC, 'dist');
assert.ok(existsSync(path.join(dist, 'index.html')), `${dist}/index.html is missing: tools/setup builds the editor`);
assert.ok(existsSync(CHROMIUM), `${CHROMIUM} is missing: tools/test installs it (apt-get install chromium)`);
// playwright-core is a dev dependency of the editor; no browser of its own is downloaded.
const { chromium } = createRequire(path.join(SLUICE_EDITOR_SRC, 'package.json'))('playwright-core');

// Starts `sluice serve` on a free port with an empty graphs directory and a state directory of
// its own (by default it would be var/ beside the graphs directory: the temp directory's, shared
// with every other run, whose dead letters and log the next run would find).
async function startServer() {
  const root = mkdtempSync(path.join(os.tmpdir(), 'sluice-editor-'));
  const graphs = path.join(root, 'graphs');
  // The fixture alone in a directory of its own (its build directory holds plugins that crash on load).
  const fixtures = path.join(root, 'fixtures');
  mkdirSync(fixtures);
  copyFileSync(SLUICE_FIXTURE_SEGV, path.join(fixtures, 'libfixture_segv.so'));
  const child = spawn(
    SLUICE_BIN,
    ['serve', '--listen', '127.0.0.1:0', '--graphs', graphs, '--state-dir', path.join(root, 'var'),
     '--plugins', SLUICE_PLUGINS, '--plugins', fixtures, '--editor', dist, '--workers', '1'],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (chunk) => (stderr += chunk));
  const url = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`sluice serve printed no address within ${DEADLINE_MS} ms:\n${stderr}`)), DEADLINE_MS);
    child.stdout.on('data', (chunk) => {
      stdout += chunk;
      const match = /listening on (http:\/\/[^\s]+)/.exec(stdout);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`sluice serve exited with ${code}:\n${stderr}`));
    });
  });
  return {
    url,
    fixtures,
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await once(child, 'exit');
      }
      rmSync(root, { recursive: true, force: true });
    },
  };
}

// Retries `check` until it returns a truthy value or the deadline passes (for API state).
async function eventually(what, check, deadline = DEADLINE_MS) {
  const end = Date.now() + deadline;
  let last;
  for (;;) {
    try {
      const value = await check();
      if (value) return value;
    } catch (e) {
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

const nodeBox = (page, id) => page.locator(`.react-flow__node[data-id="${id}"]`);
const handle = (page, id, port, type) =>
  nodeBox(page, id).locator(`.react-flow__handle.${type}[data-handleid="${port}"]`);

async function center(locator) {
  await locator.waitFor({ timeout: DEADLINE_MS });
  const box = await locator.boundingBox();
  return { x: box.x + box.width / 2, y: box.y + box.height / 2 };
}

// Drags a component from the palette onto the canvas at (x, y) relative to the canvas.
async function dropComponent(page, component, x, y) {
  const before = await page.locator('.react-flow__node').count();
  await page.getByTestId(`palette-${component}`).dragTo(page.locator('.react-flow__pane'), { targetPosition: { x, y } });
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n, before + 1, { timeout: DEADLINE_MS });
  // The dropped node is the selected one.
  return page.locator('.react-flow__node.selected').getAttribute('data-id');
}

// Wires an out port to an in port by dragging with the mouse.
async function connect(page, from, fromPort, to, toPort) {
  const before = await page.locator('.react-flow__edge').count();
  const start = await center(handle(page, from, fromPort, 'source'));
  const end = await center(handle(page, to, toPort, 'target'));
  await page.mouse.move(start.x, start.y);
  await page.mouse.down();
  await page.mouse.move(end.x, end.y, { steps: 12 });
  await page.mouse.up();
  await page.waitForFunction((n) => document.querySelectorAll('.react-flow__edge').length === n, before + 1, { timeout: DEADLINE_MS });
}

// Picks a graph in the "Open graph…" list (which refreshes when it gets the focus).
async function openFromList(page, graph) {
  await page.locator('#open-graph').focus();
  await page.waitForFunction((name) => [...document.querySelectorAll('#open-graph option')].some((o) => o.value === name), graph, {
    timeout: DEADLINE_MS,
  });
  await page.selectOption('#open-graph', graph);
}

async function status(page, text) {
  await page.getByTestId('status').filter({ hasText: text }).waitFor({ timeout: DEADLINE_MS });
}

async function getJson(url, headers = {}) {
  const response = await fetch(url, { headers });
  return { status: response.status, body: response.status === 204 ? null : await response.text() };
}

test('the editor, against a real server in Chromium', async (t) => {
  const server = await startServer();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--no-sandbox', '--headless', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  t.after(async () => {
    await browser.close();
    await server.stop();
  });
  const page = await browser.newPage({ viewport: { width: 1500, height: 860 } });
  const consoleErrors = [];
  // Refusals a test provokes on purpose, which the browser logs itself: the invalid graph's
  // 422, the conflicting save's 412, the requests to a stopped server.
  const expected = { refusal: false, conflict: false, serverDown: false };
  const watchConsole = (watched) => {
    watched.on('console', (message) => {
      if (message.type() !== 'error') return;
      if (expected.refusal && /status of 422/.test(message.text())) return;
      if (expected.conflict && /status of 412/.test(message.text())) return;
      if (expected.serverDown && /ERR_CONNECTION_REFUSED/.test(message.text())) return;
      consoleErrors.push(message.text());
    });
    watched.on('pageerror', (error) => consoleErrors.push(`uncaught: ${error.message}`));
  };
  watchConsole(page);

  const components = JSON.parse((await getJson(`${server.url}/v1/components`)).body);
  const byName = new Map(components.map((c) => [c.name, c]));
  for (const name of ['keep', 'set_field', 'collect', 'trim'])
    assert.ok(byName.has(name), `the bundled plugins offer no '${name}' (offered: ${[...byName.keys()].join(', ')})`);

  await page.goto(server.url);

  await t.test('the palette lists the components by kind, with their summaries, and searches', async () => {
    const keep = page.getByTestId('palette-keep');
    await keep.waitFor({ timeout: DEADLINE_MS });
    assert.match(await keep.innerText(), new RegExp(byName.get('keep').summary.slice(0, 20).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    const kinds = await page.locator('.sl-palette h3').allInnerTexts();
    assert.ok(kinds.map((k) => k.toLowerCase()).includes('filter'), `kinds shown: ${kinds}`);
    // Sources (generate, dir_source, file_tail, ...) come first, as their own group.
    assert.equal(kinds[0].toLowerCase(), 'source', `kinds shown: ${kinds}`);
    await page.getByLabel('search components').fill('collect');
    await page.getByTestId('palette-keep').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await page.getByTestId('palette-collect').waitFor({ timeout: DEADLINE_MS });
    await page.getByLabel('search components').fill('');
  });

  await t.test('a 3-node graph is built by drag and drop and wired port to port', async () => {
    assert.equal(await dropComponent(page, 'keep', 140, 220), 'keep');
    assert.equal(await dropComponent(page, 'set_field', 440, 220), 'set_field');
    assert.equal(await dropComponent(page, 'collect', 740, 220), 'collect');
    // Every node shows its declared ports and the implicit error port.
    await handle(page, 'keep', 'error', 'source').waitFor({ timeout: DEADLINE_MS });
    await connect(page, 'keep', 'out', 'set_field', 'in');
    await connect(page, 'set_field', 'out', 'collect', 'in');
  });

  await t.test('parameters come from the typed table and are checked before saving', async () => {
    await nodeBox(page, 'keep').locator('header').click();
    const field = page.locator('#param-keep-if');
    await field.waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('param-if').locator('.sl-required').count(), 1, "'if' is marked required");
    // Nothing saved while a required param is empty (and the graph has no name).
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, "missing required param 'if'");
    await field.fill("hello == 'world'");
    await nodeBox(page, 'keep').locator('.sl-node-errors').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    // An `any` param reads JSON: `true` is the boolean.
    await nodeBox(page, 'set_field').locator('header').click();
    await page.locator('#param-set_field-field').fill('checked');
    await page.locator('#param-set_field-value').fill('true');
    await nodeBox(page, 'set_field').locator('.sl-node-errors').waitFor({ state: 'detached', timeout: DEADLINE_MS });
  });

  await t.test('save deploys the graph, and the YAML view is exactly what was saved', async () => {
    await page.locator('.react-flow__pane').click({ position: { x: 600, y: 600 } });
    await page.locator('#graph-name').fill('editor_e2e');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, "Deployed new graph 'editor_e2e'");

    const saved = JSON.parse((await getJson(`${server.url}/v1/graphs/editor_e2e`, { Accept: 'application/json' })).body);
    assert.deepEqual(Object.keys(saved.nodes).sort(), ['collect', 'keep', 'set_field']);
    const { ui, ...keep } = saved.nodes.keep;
    assert.deepEqual(keep, { component: 'keep', params: { if: "hello == 'world'" } });
    assert.ok(Number.isInteger(ui.x) && Number.isInteger(ui.y), `keep's position is saved: ${JSON.stringify(ui)}`);
    assert.ok(saved.nodes.set_field.ui.x > ui.x, 'set_field was dropped right of keep');
    assert.deepEqual(saved.nodes.set_field.params, { field: 'checked', value: true });
    assert.deepEqual(saved.edges.map((e) => `${e.from} -> ${e.to}`).sort(), ['keep -> set_field', 'set_field -> collect']);

    const yaml = (await getJson(`${server.url}/v1/graphs/editor_e2e`, { Accept: 'application/yaml' })).body;
    await page.getByRole('tab', { name: 'YAML' }).click();
    assert.equal(await page.getByTestId('yaml').innerText(), yaml);
  });

  await t.test('test data is sent with ?wait=true and the counters move', async () => {
    await page.getByRole('tab', { name: 'Send data' }).click();
    await page.locator('#send-body').fill('[{"hello": "world"}, {"hello": "mars"}]');
    await page.getByRole('button', { name: 'Send and wait' }).click();
    const result = page.getByTestId('send-result');
    await result.filter({ hasText: '"accepted": 2' }).waitFor({ timeout: DEADLINE_MS });
    const answer = JSON.parse(await result.innerText());
    assert.deepEqual(answer.results, [{ hello: 'world', checked: true }]);
    await page.getByTestId('send-dropped').filter({ hasText: '1 dropped, reaching no sink: keep (filtered) 1' }).waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('counters-keep').filter({ hasText: 'in 2' }).filter({ hasText: 'out 1' }).filter({ hasText: 'drop 1' }).waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('counters-collect').filter({ hasText: 'in 1' }).waitFor({ timeout: DEADLINE_MS });
    // Lay out: left to right, and the view fits the graph.
    const viewport = await page.locator('.react-flow__viewport').getAttribute('style');
    await page.getByRole('button', { name: 'Lay out' }).click();
    await page.waitForFunction((old) => document.querySelector('.react-flow__viewport').getAttribute('style') !== old, viewport, { timeout: DEADLINE_MS });
    const x = async (id) => (await nodeBox(page, id).boundingBox()).x;
    assert.ok((await x('keep')) < (await x('set_field')) && (await x('set_field')) < (await x('collect')));
    // Find in the graph: by id or component, the matches become the selection.
    await page.getByLabel('find in the graph').fill('set_');
    await page.keyboard.press('Enter');
    await status(page, "1 node match 'set_'.");
    await page.locator('.react-flow__node.selected[data-id="set_field"]').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.locator('.react-flow__node.selected').count(), 1);
    await page.getByLabel('find in the graph').fill('');
    if (SCREENSHOT) {
      await nodeBox(page, 'keep').locator('header').click();
      await page.screenshot({ path: SCREENSHOT });
    }
  });

  await t.test('a click on an edge opens its live tap: the packets of a POST appear, pause holds them, filter and clear', async () => {
    // A bezier between two ports at the same distance from its ends passes through their midpoint.
    const start = await center(handle(page, 'keep', 'out', 'source'));
    const end = await center(handle(page, 'set_field', 'in', 'target'));
    await page.mouse.click((start.x + end.x) / 2, (start.y + end.y) / 2);
    await page.getByTestId('tap-state').filter({ hasText: 'Live: packets leaving keep.out' }).waitFor({ timeout: DEADLINE_MS });
    const post = async (packets) => {
      const response = await fetch(`${server.url}/v1/graphs/editor_e2e/packets?wait=true`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(packets),
      });
      assert.equal(response.status, 200, await response.text());
    };
    const listed = page.getByTestId('tap-packets').locator('li');
    const count = (n) => page.waitForFunction((want) => document.querySelectorAll('[data-testid="tap-packets"] li').length === want, n, { timeout: DEADLINE_MS });
    // `keep` lets the two 'world' packets out, not 'mars'.
    await post([{ hello: 'world', n: 1 }, { hello: 'mars', n: 2 }, { hello: 'world', n: 3 }]);
    await count(2);
    assert.match(await listed.nth(0).innerText(), /"n": 1/);
    assert.match(await listed.nth(1).innerText(), /"stream"/, 'the packet meta is shown');

    await page.getByRole('button', { name: 'Pause', exact: true }).click();
    await post([{ hello: 'world', n: 4 }]);
    await page.getByRole('button', { name: 'Resume (1 new)' }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(await listed.count(), 2);
    await page.getByRole('button', { name: 'Resume (1 new)' }).click();
    await count(3);
    await page.getByTestId('tap-stats').filter({ hasText: 'seen 3' }).waitFor({ timeout: DEADLINE_MS });
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-tap.png') });

    await page.locator('#tap-filter').fill('"n": 3');
    await count(1);
    assert.match(await listed.nth(0).innerText(), /"n": 3/);
    await page.locator('#tap-filter').fill('');
    await count(3);
    await page.getByRole('button', { name: 'Clear', exact: true }).click();
    await count(0);
  });

  await t.test('two pages save the same graph: the later one gets the conflict, sees both versions, reloads or overwrites', async () => {
    const other = await browser.newPage({ viewport: { width: 1500, height: 860 } });
    watchConsole(other);
    await other.goto(`${server.url}/#graph=editor_e2e`);
    await status(other, "Opened 'editor_e2e'");
    const describe = async (where, text) => {
      await where.locator('.react-flow__pane').click({ position: { x: 600, y: 700 } });
      await where.getByRole('tab', { name: 'Graph' }).click();
      await where.locator('#graph-description').fill(text);
    };
    const save = (where) => where.getByRole('button', { name: 'Save', exact: true }).click();

    await describe(other, 'from the other page');
    await save(other);
    await status(other, "Saved and redeployed 'editor_e2e'");
    // The first page learns of it while it polls, before it saves anything.
    await page.getByTestId('graph-title').filter({ hasText: '(changed on the server)' }).waitFor({ timeout: DEADLINE_MS });
    await describe(page, 'from the first page');
    expected.conflict = true;
    await save(page);
    const conflict = page.getByTestId('save-conflict');
    await conflict.waitFor({ timeout: DEADLINE_MS });
    assert.match(await page.getByTestId('conflict-theirs').innerText(), /from the other page/);
    assert.match(await page.getByTestId('conflict-mine').innerText(), /from the first page/);
    await conflict.getByRole('button', { name: 'Reload theirs' }).click();
    await status(page, "Opened 'editor_e2e'");
    assert.equal(await page.locator('#graph-description').inputValue(), 'from the other page');
    await page.getByTestId('graph-title').filter({ hasText: '(deployed)' }).waitFor({ timeout: DEADLINE_MS });
    assert.ok(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled(), 'nothing to save after the reload');

    await describe(other, 'the other page again');
    await save(other);
    await status(other, "Saved and redeployed 'editor_e2e'");
    await describe(page, 'the first page wins');
    await save(page);
    await conflict.getByRole('button', { name: 'Overwrite with mine' }).click();
    await status(page, "Saved and redeployed 'editor_e2e'");
    await conflict.waitFor({ state: 'detached', timeout: DEADLINE_MS });
    expected.conflict = false;
    const yaml = (await getJson(`${server.url}/v1/graphs/editor_e2e`, { Accept: 'application/yaml' })).body;
    assert.match(yaml, /the first page wins/);
    await other.close();
  });

  await t.test("an invalid graph shows every error of one save, each on the node it concerns", async () => {
    // Two nodes wired in a loop: no path leads to them from the source. And a condition that
    // passes the form and the param table but not keep's constructor: the server finds both
    // in one round.
    const first = await dropComponent(page, 'trim', 300, 520);
    const second = await dropComponent(page, 'trim', 620, 520);
    await connect(page, first, 'out', second, 'in');
    await connect(page, second, 'out', first, 'in');
    await nodeBox(page, 'keep').locator('header').click();
    const condition = page.locator('#param-keep-if');
    const goodCondition = await condition.inputValue();
    await condition.fill('hello ==');
    expected.refusal = true;
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, 'Not saved: the server found');
    expected.refusal = false;
    for (const id of [first, second])
      await page.getByTestId(`errors-${id}`).filter({ hasText: `node '${id}' is unreachable` }).waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('errors-keep').filter({ hasText: "node 'keep': keep failed to start: param 'if'" }).waitFor({ timeout: DEADLINE_MS });
    // … and under the field it is about.
    await page.getByTestId('param-if').locator('.sl-field-error').filter({ hasText: 'failed to start' }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('errors-set_field').count(), 0, 'the valid nodes show no error');
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-errors.png') });
    // A change to the field takes the server's now stale verdict off it at once.
    await condition.fill(goodCondition);
    await page.getByTestId('errors-keep').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    // A change to a node takes the server's verdict about the node off it (not off the other one).
    await nodeBox(page, first).locator('header').click();
    await page.locator(`#param-${first}-chars`).fill(' ');
    await page.getByTestId(`errors-${first}`).waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await page.getByTestId(`errors-${second}`).waitFor({ timeout: DEADLINE_MS });

    // Select and delete: the loop goes, and the graph saves again.
    for (const id of [first, second]) {
      await nodeBox(page, id).locator('header').click();
      await page.keyboard.press('Delete');
      await nodeBox(page, id).waitFor({ state: 'detached', timeout: DEADLINE_MS });
    }
    assert.equal(await page.locator('.react-flow__edge').count(), 2);
    // Back to what the server runs: nothing to save.
    await page.getByRole('button', { name: 'Save', exact: true, disabled: true }).waitFor({ timeout: DEADLINE_MS });
  });

  await t.test('the layout is kept in the graph file: a moved node is where it was left after a reload', async () => {
    const header = await nodeBox(page, 'collect').locator('header').boundingBox();
    await page.mouse.move(header.x + 30, header.y + 10);
    await page.mouse.down();
    await page.mouse.move(header.x + 30, header.y + 170, { steps: 8 });
    await page.mouse.up();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, "Saved and redeployed 'editor_e2e'");
    await page.getByRole('tab', { name: 'YAML' }).click();
    const before = await page.getByTestId('yaml').innerText();
    assert.match(before, /collect:\n {4}component: collect\n {4}ui: \{ x: -?\d+, y: -?\d+ \}/);
    await page.reload();
    await status(page, "Opened 'editor_e2e'");
    await page.getByRole('tab', { name: 'YAML' }).click();
    assert.equal(await page.getByTestId('yaml').innerText(), before, 'the same positions, not a new layout');
    assert.ok(await page.getByRole('button', { name: 'Save', exact: true }).isDisabled());
  });

  await t.test('undo and redo five different changes, by keys and by the buttons', async () => {
    const undoButton = page.getByRole('button', { name: 'Undo', exact: true });
    const redoButton = page.getByRole('button', { name: 'Redo', exact: true });
    const description = page.locator('#graph-description');
    const left = async (id) => (await nodeBox(page, id).boundingBox()).x;
    const edgeCount = (n) => page.waitForFunction((want) => document.querySelectorAll('.react-flow__edge').length === want, n, { timeout: DEADLINE_MS });
    const pane = () => page.locator('.react-flow__pane').click({ position: { x: 600, y: 760 } });
    assert.ok(await undoButton.isDisabled(), 'nothing to undo in a graph just opened');

    const added = await dropComponent(page, 'trim', 150, 80); // 1: a node from the palette
    await pane();
    await page.getByRole('tab', { name: 'Graph' }).click();
    const described = await description.inputValue();
    await description.fill('undo me'); // 2: a form field
    await page.keyboard.press('Tab');
    const keepAt = await left('keep');
    const header = await nodeBox(page, 'keep').locator('header').boundingBox();
    await page.mouse.move(header.x + 30, header.y + 10);
    await page.mouse.down();
    await page.mouse.move(header.x + 150, header.y + 10, { steps: 8 }); // 3: a move
    await page.mouse.up();
    const keepMoved = await left('keep');
    assert.ok(keepMoved > keepAt + 50);
    await connect(page, added, 'out', 'collect', 'in'); // 4: a wire
    await nodeBox(page, 'set_field').locator('header').click();
    await page.keyboard.press('Delete'); // 5: a node and its two edges
    await nodeBox(page, 'set_field').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await edgeCount(1);

    await pane();
    await page.keyboard.press('Control+z');
    await nodeBox(page, 'set_field').waitFor({ timeout: DEADLINE_MS });
    await edgeCount(3);
    await page.keyboard.press('Control+z');
    await edgeCount(2);
    await page.keyboard.press('Control+z');
    await page.waitForFunction((want) => Math.abs(document.querySelector('.react-flow__node[data-id="keep"]').getBoundingClientRect().x - want) < 1, keepAt, { timeout: DEADLINE_MS });
    await page.keyboard.press('Control+z');
    assert.equal(await description.inputValue(), described);
    await page.keyboard.press('Control+z');
    await nodeBox(page, added).waitFor({ state: 'detached', timeout: DEADLINE_MS });
    assert.ok(await undoButton.isDisabled());

    for (let i = 0; i < 5; ++i) await page.keyboard.press('Control+Shift+z');
    await nodeBox(page, 'set_field').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await nodeBox(page, added).waitFor({ timeout: DEADLINE_MS });
    await edgeCount(1);
    assert.equal(await description.inputValue(), 'undo me');
    assert.ok(Math.abs((await left('keep')) - keepMoved) < 1);
    assert.ok(await redoButton.isDisabled());
    await undoButton.click();
    await nodeBox(page, 'set_field').waitFor({ timeout: DEADLINE_MS });
    await redoButton.click();
    await nodeBox(page, 'set_field').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    // Everything undone by the button: the graph is as saved again.
    while (!(await undoButton.isDisabled())) await undoButton.click();
    await page.getByRole('button', { name: 'Save', exact: true, disabled: true }).waitFor({ timeout: DEADLINE_MS });
  });

  await t.test('copy and paste, duplicate and select all: nodes with the edges between them', async () => {
    const nodes = () => page.locator('.react-flow__node').count();
    const before = await nodes();
    await nodeBox(page, 'keep').locator('header').click();
    await nodeBox(page, 'set_field').locator('header').click({ modifiers: ['Control'] });
    await page.keyboard.press('Control+c');
    await page.keyboard.press('Control+v');
    await page.getByTestId('rf__edge-keep_2.out->set_field_2.in').waitFor({ state: 'attached', timeout: DEADLINE_MS });
    await nodeBox(page, 'set_field_2').waitFor({ timeout: DEADLINE_MS });
    // Drawn between the pasted ports (a level edge has no height, so Playwright calls it hidden).
    const drawn = await page.evaluate(() => document.querySelector('[data-testid="rf__edge-keep_2.out->set_field_2.in"] path')?.getTotalLength() ?? 0);
    assert.ok(drawn > 0, 'the pasted edge is drawn');
    assert.equal(await nodes(), before + 2);
    assert.equal(await page.locator('.react-flow__node.selected').count(), 2, 'the pasted nodes are the selection');
    await page.keyboard.press('Control+d');
    await page.getByTestId('rf__edge-keep_3.out->set_field_3.in').waitFor({ state: 'attached', timeout: DEADLINE_MS });
    await page.keyboard.press('Control+a');
    await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node.selected').length === n, before + 4, { timeout: DEADLINE_MS });
    await page.keyboard.press('Delete');
    await page.waitForFunction(() => document.querySelectorAll('.react-flow__node').length === 0, null, { timeout: DEADLINE_MS });
    await page.keyboard.press('Control+z');
    await page.waitForFunction((n) => document.querySelectorAll('.react-flow__node').length === n, before + 4, { timeout: DEADLINE_MS });
    for (let i = 0; i < 3; ++i) await page.keyboard.press('Control+z');
    await page.getByRole('button', { name: 'Save', exact: true, disabled: true }).waitFor({ timeout: DEADLINE_MS });
  });

  await t.test('export downloads the YAML; import reads a hand-written file (laid out) or pasted text', async () => {
    await page.getByRole('tab', { name: 'YAML' }).click();
    const shown = await page.getByTestId('yaml').innerText();
    const [download] = await Promise.all([page.waitForEvent('download'), page.getByRole('button', { name: 'Export', exact: true }).click()]);
    assert.equal(download.suggestedFilename(), 'editor_e2e.yaml');
    assert.equal(readFileSync(await download.path(), 'utf8'), shown);

    const scratch = mkdtempSync(path.join(os.tmpdir(), 'sluice-editor-import-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const file = path.join(scratch, 'handwritten.yaml');
    writeFileSync(file, 'name: imported\nnodes:\n  first: {component: trim}\n  last: {component: collect}\n' +
                        'edges:\n  - {from: first, to: last, capacity: 4, capacity_bytes: 16MiB}\n');
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.getByRole('button', { name: 'Import', exact: true }).click()]);
    await chooser.setFiles(file);
    await status(page, 'Imported handwritten.yaml: 2 nodes, 1 edges; not saved yet.');
    const x = async (id) => (await nodeBox(page, id).boundingBox()).x;
    assert.ok((await x('first')) < (await x('last')), 'no positions in the file: laid out left to right');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, "Deployed new graph 'imported'");
    await page.getByRole('tab', { name: 'YAML' }).click();
    assert.match(await page.getByTestId('yaml').innerText(), /capacity: 4\s+capacity_bytes: 16MiB/, "the edge's bounds are kept");

    await page.getByRole('tab', { name: 'YAML' }).click();
    await page.getByText('Import from text').click();
    await page.locator('#import-text').fill(shown);
    await page.getByRole('button', { name: 'Import this text' }).click();
    await status(page, 'Imported the pasted text: 3 nodes, 2 edges');
    assert.equal(await page.getByTestId('yaml').innerText(), shown, 'the positions came along');
    // The import is unsaved: opening another graph asks first.
    const asked = new Promise((resolve) => page.once('dialog', (dialog) => resolve(dialog.accept())));
    await openFromList(page, 'editor_e2e');
    await asked;
    await status(page, "Opened 'editor_e2e'");
  });

  await t.test('the Send panel sends CSV typed in or from a local file through a csv_adapter graph', async () => {
    const yaml = 'nodes:\n  parse: {component: csv_adapter, params: {infer_types: true}}\n  out: {component: collect}\nedges: [parse -> out]\n';
    const put = await fetch(`${server.url}/v1/graphs/csv`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    assert.equal(put.status, 201, await put.text());
    await openFromList(page, 'csv');
    await status(page, "Opened 'csv'");
    await page.getByRole('tab', { name: 'Send data' }).click();
    await page.locator('#send-type').selectOption({ label: 'CSV (text/csv)' });
    await page.locator('#send-body').fill('name,n\nada,1\nbob,2\n');
    await page.getByRole('button', { name: 'Send and wait' }).click();
    const result = page.getByTestId('send-result');
    await result.filter({ hasText: '"accepted": 1' }).waitFor({ timeout: DEADLINE_MS });
    assert.deepEqual(JSON.parse(await result.innerText()).results, [{ name: 'ada', n: 1 }, { name: 'bob', n: 2 }]);

    const scratch = mkdtempSync(path.join(os.tmpdir(), 'sluice-editor-send-'));
    t.after(() => rmSync(scratch, { recursive: true, force: true }));
    const file = path.join(scratch, 'people.csv');
    writeFileSync(file, 'name,n\ncy,3\n');
    await page.locator('#send-type').selectOption({ label: 'JSON (application/json)' });
    const [chooser] = await Promise.all([page.waitForEvent('filechooser'), page.locator('#send-file').click()]);
    await chooser.setFiles(file);
    await page.locator('label[for="send-body"]').filter({ hasText: 'from people.csv' }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.locator('#send-type').inputValue(), 'text/csv', 'the type follows the file');
    await page.getByRole('button', { name: 'Send and wait' }).click();
    await result.filter({ hasText: '"cy"' }).waitFor({ timeout: DEADLINE_MS });
    assert.deepEqual(JSON.parse(await result.innerText()).results, [{ name: 'cy', n: 3 }]);

    // A packet the adapter does not read leaves by its unwired `unmatched` port: the counters
    // say it was dropped there.
    await page.locator('#send-type').selectOption({ label: 'JSON (application/json)' });
    await page.locator('#send-body').fill('{"not": "csv"}');
    await page.getByRole('button', { name: 'Send and wait' }).click();
    await page.getByTestId('dropped-parse-unmatched').filter({ hasText: '1' }).waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('counters-parse').filter({ hasText: 'drop 1' }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('drop-parse').getAttribute('title'), "dropped: to unwired port 'unmatched' 1");
    assert.equal(await page.getByTestId('dropped-parse-out').count(), 0, 'out is wired: nothing dropped there');
  });

  await t.test('a deployed graph opens from the list, and a packet it failed on shows as a dead letter of its node', async () => {
    const yaml = 'nodes:\n  parse: {component: json_parse, params: {field: body}}\n  out: {component: collect}\nedges: [parse -> out]\n';
    const put = await fetch(`${server.url}/v1/graphs/failing`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    assert.equal(put.status, 201, await put.text());
    await openFromList(page, 'failing');
    await status(page, "Opened 'failing': 2 nodes, 1 edges.");

    await page.getByRole('tab', { name: 'Send data' }).click();
    await page.locator('#send-type').selectOption({ label: 'JSON (application/json)' });
    await page.locator('#send-body').fill('{"body": "not json"}');
    await page.getByRole('button', { name: 'Send and wait' }).click();
    await page.getByTestId('send-result').filter({ hasText: '"error_count": 1' }).waitFor({ timeout: DEADLINE_MS });
    await page.getByTestId('counters-parse').filter({ hasText: 'err 1' }).waitFor({ timeout: DEADLINE_MS });

    await nodeBox(page, 'parse').locator('header').click();
    await page.getByTestId('dead-letters').filter({ hasText: '(1)' }).filter({ hasText: 'json_parse' }).waitFor({ timeout: DEADLINE_MS });
  });

  await t.test("a graph's durability opens from its file, is kept through a save and changed in the Graph tab", async () => {
    const yaml = 'durability: none\nnodes:\n  out: {component: collect}\n';
    const put = await fetch(`${server.url}/v1/graphs/in_memory`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    assert.equal(put.status, 201, await put.text());
    const durability = async () => JSON.parse((await getJson(`${server.url}/v1/graphs/in_memory`, { Accept: 'application/json' })).body).durability;
    await openFromList(page, 'in_memory');
    await status(page, "Opened 'in_memory'");
    await page.locator('.react-flow__pane').click({ position: { x: 600, y: 700 } });
    await page.getByRole('tab', { name: 'Graph' }).click();
    assert.equal(await page.locator('#graph-durability').inputValue(), 'none');
    // Each save is waited for on the server: the status line reads the same after each.
    const saved = async (expected) => {
      await page.getByRole('button', { name: 'Save', exact: true }).click();
      await eventually(`durability ${expected} on the server`, async () => (await durability()) === expected);
    };
    await page.locator('#graph-description').fill('kept in memory');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await eventually('the description saved', async () =>
      JSON.parse((await getJson(`${server.url}/v1/graphs/in_memory`, { Accept: 'application/json' })).body).description === 'kept in memory');
    assert.equal(await durability(), 'none');
    await page.locator('#graph-durability').selectOption('wal');
    await saved('wal');
    await page.locator('#graph-durability').selectOption('');
    await saved(undefined);
    assert.match((await getJson(`${server.url}/v1/graphs/in_memory`, { Accept: 'application/yaml' })).body, /kept in memory/);
  });

  await t.test('an isolated node is marked, keeps isolation and timeout through a save, and shows its crash loop', async () => {
    const yaml = 'nodes:\n  c: {component: fixture_segv, isolation: process, timeout: 5s}\n  out: {component: collect}\nedges: [c -> out]\n';
    const put = await fetch(`${server.url}/v1/graphs/isolated`, { method: 'PUT', headers: { 'Content-Type': 'application/yaml' }, body: yaml });
    assert.equal(put.status, 201, await put.text());
    await openFromList(page, 'isolated');
    await status(page, "Opened 'isolated': 2 nodes, 1 edges.");
    await page.getByTestId('isolated-c').waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('isolated-out').count(), 0);
    await nodeBox(page, 'c').locator('header').click();
    assert.equal(await page.locator('#node-isolation').inputValue(), 'process');
    assert.equal(await page.locator('#node-timeout').inputValue(), '5000ms');
    await page.locator('#node-timeout').fill('4s');
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    await status(page, "Saved and redeployed 'isolated'.");
    const saved = JSON.parse((await getJson(`${server.url}/v1/graphs/isolated`, { Accept: 'application/json' })).body);
    assert.equal(saved.nodes.c.isolation, 'process');
    assert.equal(saved.nodes.c.timeout, '4000ms');
    assert.equal(saved.nodes.out.isolation, undefined);

    // Three crashes in a row: the host is crash-looping, and the node says so.
    for (let i = 0; i < 3; ++i) {
      const crashed = await fetch(`${server.url}/v1/graphs/isolated/packets?wait=true`, {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"address": 16}',
      });
      assert.equal(crashed.status, 200, await crashed.text());
    }
    await page.getByTestId('trouble-c').filter({ hasText: 'crash loop' }).waitFor({ timeout: DEADLINE_MS });
    assert.match(await page.getByTestId('trouble-c').getAttribute('title'), /SIGSEGV/);
    await page.getByTestId('counters-c').filter({ hasText: '✝3' }).waitFor({ timeout: DEADLINE_MS });
  });

  await t.test("a node whose plugin file is gone says so, and the inspector names the build it runs", async () => {
    // A packet that passes ends the crash loop.
    const passed = await fetch(`${server.url}/v1/graphs/isolated/packets?wait=true`, {
      method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"fine": true}',
    });
    assert.equal(passed.status, 200, await passed.text());
    await page.getByTestId('trouble-c').waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await nodeBox(page, 'c').locator('header').click();
    await page.getByTestId('node-build').filter({ hasText: /runs fixture_segv 1\.0\.0, build [0-9a-f]{12}$/ }).waitFor({ timeout: DEADLINE_MS });

    rmSync(path.join(server.fixtures, 'libfixture_segv.so'));
    await page.getByTestId('trouble-c').filter({ hasText: 'plugin gone' }).waitFor({ timeout: DEADLINE_MS });
    assert.match(await page.getByTestId('trouble-c').getAttribute('title'), /no loaded plugin offers 'fixture_segv'/);
    await page.getByTestId('node-build').filter({ hasText: 'its plugin file is gone' }).waitFor({ timeout: DEADLINE_MS });
    assert.equal(await page.getByTestId('trouble-out').count(), 0, 'collect is a bundled component, still offered');
  });

  await t.test('a deployed 200-node graph opens with an automatic layout, pans and zooms', async () => {
    const nodes = { source: { component: 'trim' } };
    const edges = [];
    for (let i = 1; i < 200; ++i) {
      nodes[`n${i}`] = { component: i < 100 ? 'trim' : 'collect' };
      edges.push(`${i <= 2 ? 'source' : `n${Math.floor((i - 1) / 2)}`} -> n${i}`);
    }
    const body = JSON.stringify({ name: 'big', nodes, edges: edges.map((e) => ({ from: e.split(' -> ')[0], to: e.split(' -> ')[1] })) });
    const put = await fetch(`${server.url}/v1/graphs/big`, { method: 'PUT', headers: { 'Content-Type': 'application/json' }, body });
    assert.equal(put.status, 201, await put.text());

    const started = Date.now();
    await openFromList(page, 'big');
    await status(page, "Opened 'big': 200 nodes, 199 edges.");
    await page.getByTestId('graph-title').filter({ hasText: '(deployed)' }).waitFor({ timeout: DEADLINE_MS });
    const opened = Date.now() - started;
    assert.ok(opened < 8000, `opening 200 nodes took ${opened} ms`);

    // Layered left to right: every edge points rightwards.
    const positions = await page.evaluate(() => {
      const out = {};
      for (const el of document.querySelectorAll('.react-flow__node')) out[el.dataset.id] = el.getBoundingClientRect().x;
      return out;
    });
    const shown = Object.keys(positions);
    assert.ok(shown.length > 0);
    for (let i = 1; i < 200; ++i) {
      const parent = i <= 2 ? 'source' : `n${Math.floor((i - 1) / 2)}`;
      if (parent in positions && `n${i}` in positions) assert.ok(positions[`n${i}`] > positions[parent], `n${i} is right of ${parent}`);
    }

    const viewport = page.locator('.react-flow__viewport');
    const before = await viewport.getAttribute('style');
    await page.mouse.move(700, 400);
    await page.mouse.wheel(0, -400);
    await page.waitForFunction((old) => document.querySelector('.react-flow__viewport').getAttribute('style') !== old, before, { timeout: DEADLINE_MS });
  });

  await t.test('delete removes the graph from the server', async () => {
    page.once('dialog', (dialog) => dialog.accept());
    await page.getByRole('button', { name: 'Delete graph' }).click();
    await status(page, "Deleted 'big'");
    await eventually("GET /v1/graphs/big to answer 404", async () => (await getJson(`${server.url}/v1/graphs/big`)).status === 404);
  });

  // The middle of an edge's drawn path, in the page.
  const edgeMiddle = (testId) =>
    page.evaluate((id) => {
      const path = document.querySelector(`[data-testid="${id}"] path`);
      const point = path.getPointAtLength(path.getTotalLength() / 2);
      const matrix = path.getScreenCTM();
      return { x: point.x * matrix.a + point.y * matrix.c + matrix.e, y: point.x * matrix.b + point.y * matrix.d + matrix.f };
    }, testId);
  const edgeShown = (testId, state = 'attached') => page.getByTestId(testId).waitFor({ state, timeout: DEADLINE_MS });
  const nodeCount = (n) => page.waitForFunction((want) => document.querySelectorAll('.react-flow__node').length === want, n, { timeout: DEADLINE_MS });

  await t.test('a node dropped on a wire is spliced into it (one undo step), and so is an unwired node moved onto one', async () => {
    page.once('dialog', (dialog) => void dialog.accept()); // 'big' is unsaved: discard it
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await status(page, 'New graph');
    assert.equal(await dropComponent(page, 'trim', 150, 200), 'trim');
    assert.equal(await dropComponent(page, 'collect', 800, 200), 'collect');
    await connect(page, 'trim', 'out', 'collect', 'in');
    const pane = await page.locator('.react-flow__pane').boundingBox();
    const middle = await edgeMiddle('rf__edge-trim.out->collect.in');
    assert.equal(await dropComponent(page, 'set_field', middle.x - pane.x, middle.y - pane.y), 'set_field');
    await edgeShown('rf__edge-trim.out->set_field.in');
    await edgeShown('rf__edge-set_field.out->collect.in');
    await edgeShown('rf__edge-trim.out->collect.in', 'detached');
    // One step back: neither the node nor the splice; one forward: both.
    await page.keyboard.press('Control+z');
    await nodeCount(2);
    await edgeShown('rf__edge-trim.out->collect.in');
    await page.keyboard.press('Control+Shift+z');
    await edgeShown('rf__edge-set_field.out->collect.in');
    assert.equal(await page.locator('.react-flow__edge').count(), 2);

    // Moved: a node with no wires, dragged by its header onto set_field → collect.
    assert.equal(await dropComponent(page, 'trim', 480, 420), 'trim_2');
    const header = await center(nodeBox(page, 'trim_2').locator('header'));
    const target = await edgeMiddle('rf__edge-set_field.out->collect.in');
    await page.mouse.move(header.x, header.y);
    await page.mouse.down();
    await page.mouse.move(target.x, target.y, { steps: 12 });
    await page.mouse.up();
    await edgeShown('rf__edge-set_field.out->trim_2.in');
    await edgeShown('rf__edge-trim_2.out->collect.in');
    await edgeShown('rf__edge-set_field.out->collect.in', 'detached');
    assert.equal(await page.locator('.react-flow__edge').count(), 3);
  });

  await t.test('a wire dropped on empty canvas opens a chooser: typing filters, Enter adds the node there, wired; Escape cancels', async () => {
    const pane = await page.locator('.react-flow__pane').boundingBox();
    const dragWireToEmpty = async (from, port, spot) => {
      const start = await center(handle(page, from, port, 'source'));
      await page.mouse.move(start.x, start.y);
      await page.mouse.down();
      await page.mouse.move(spot.x, spot.y, { steps: 12 });
      await page.mouse.up();
    };
    const before = await page.locator('.react-flow__node').count();
    const spot = { x: pane.x + 620, y: pane.y + 560 };
    await dragWireToEmpty('trim', 'error', spot);
    const chooser = page.getByTestId('quick-add');
    await chooser.waitFor({ timeout: DEADLINE_MS });
    await page.keyboard.type('collect');
    await page.getByTestId('quick-add-collect').filter({ hasText: 'collect' }).waitFor({ timeout: DEADLINE_MS });
    // Only what can take a wire from an out port: no source.
    assert.equal(await chooser.getByTestId('quick-add-generate').count(), 0);
    if (SCREENSHOT) await page.screenshot({ path: SCREENSHOT.replace(/\.png$/, '-quick-add.png') });
    await page.keyboard.press('Enter');
    await chooser.waitFor({ state: 'detached', timeout: DEADLINE_MS });
    await edgeShown('rf__edge-trim.error->collect_2.in');
    await nodeCount(before + 1);
    // Where the wire was dropped (the node is centred on that point).
    const added = await center(nodeBox(page, 'collect_2'));
    assert.ok(Math.abs(added.x - spot.x) < 5 && Math.abs(added.y - spot.y) < 5, `collect_2 at ${JSON.stringify(added)}, dropped at ${JSON.stringify(spot)}`);

    await dragWireToEmpty('collect', 'error', { x: pane.x + 300, y: pane.y + 600 });
    await chooser.waitFor({ timeout: DEADLINE_MS });
    await page.keyboard.press('Escape');
    await chooser.waitFor({ state: 'detached', timeout: DEADLINE_MS });
    assert.equal(await page.locator('.react-flow__node').count(), before + 1);
    assert.equal(await page.locator('.react-flow__edge').count(), 4);
  });

  await t.test('the palette and the side panel collapse and resize by their borders, and stay so after a reload', async () => {
    const width = async (selector) => (await page.locator(selector).boundingBox()).width;
    const paletteBefore = await width('.sl-panel-palette');
    const sideBefore = await width('.sl-side');
    const drag = async (testId, dx) => {
      const grip = await center(page.getByTestId(testId));
      await page.mouse.move(grip.x, grip.y);
      await page.mouse.down();
      await page.mouse.move(grip.x + dx, grip.y, { steps: 6 });
      await page.mouse.up();
    };
    await drag('resize-palette', 100);
    assert.ok(Math.abs((await width('.sl-panel-palette')) - (paletteBefore + 100)) <= 2, 'the palette is 100 px wider');
    await drag('resize-side', -60);
    assert.ok(Math.abs((await width('.sl-side')) - (sideBefore + 60)) <= 2, 'the side panel is 60 px wider');
    await page.getByRole('button', { name: 'hide the side panel' }).click();
    await page.getByRole('tab', { name: 'YAML' }).waitFor({ state: 'hidden', timeout: DEADLINE_MS });
    assert.ok((await width('.sl-side')) < 40, 'collapsed to a strip');

    page.once('dialog', (dialog) => void dialog.accept()); // the unsaved graph
    await page.reload();
    await status(page, 'components. Drag one onto the canvas');
    assert.ok(Math.abs((await width('.sl-panel-palette')) - (paletteBefore + 100)) <= 2, 'the palette kept its width');
    assert.ok((await width('.sl-side')) < 40, 'the side panel is still collapsed');
    await page.getByRole('button', { name: 'show the side panel' }).click();
    await page.getByRole('tab', { name: 'YAML' }).waitFor({ timeout: DEADLINE_MS });
    assert.ok(Math.abs((await width('.sl-side')) - (sideBefore + 60)) <= 2, 'expanded to the width it had');
    await page.getByRole('button', { name: 'hide the components' }).click();
    assert.ok((await width('.sl-panel-palette')) < 40);
    await page.getByRole('button', { name: 'show the components' }).click();
    // Back as they were, for what follows.
    await drag('resize-palette', -100);
    await drag('resize-side', 60);
    assert.ok(Math.abs((await width('.sl-panel-palette')) - paletteBefore) <= 2);
    assert.ok(Math.abs((await width('.sl-side')) - sideBefore) <= 2);
    // Unsaved again, as the next test expects.
    await page.getByTestId('palette-trim').focus();
    await page.keyboard.press('Enter');
    await nodeBox(page, 'trim').waitFor({ timeout: DEADLINE_MS });
  });

  await t.test('New starts at zoom 1, keyboard adds do not stack, Back opens the graph before', async () => {
    page.once('dialog', (dialog) => void dialog.accept()); // the graph is unsaved: discard it
    await page.getByRole('button', { name: 'New', exact: true }).click();
    await status(page, 'New graph');
    await page.waitForFunction(() => /scale\(1\)/.test(document.querySelector('.react-flow__viewport').getAttribute('style')), null, { timeout: DEADLINE_MS });
    await page.getByLabel('search components').fill('');
    await page.getByTestId('palette-trim').focus();
    await page.keyboard.press('Enter');
    await page.getByTestId('palette-trim').focus();
    await page.keyboard.press('Enter');
    const [first, second] = [await nodeBox(page, 'trim').boundingBox(), await nodeBox(page, 'trim_2').boundingBox()];
    assert.ok(Math.abs(first.x - second.x) > 10 && Math.abs(first.y - second.y) > 10, 'the second is not on top of the first');

    page.once('dialog', (dialog) => void dialog.accept());
    await openFromList(page, 'editor_e2e');
    await status(page, "Opened 'editor_e2e'");
    await openFromList(page, 'csv');
    await status(page, "Opened 'csv'");
    await page.goBack();
    await status(page, "Opened 'editor_e2e'");
    await page.goForward();
    await status(page, "Opened 'csv'");
    // Unsaved again, for the next test.
    await page.getByTestId('palette-trim').focus();
    await page.keyboard.press('Enter');
    await nodeBox(page, 'trim').waitFor({ timeout: DEADLINE_MS });
  });

  await t.test('leaving the page with unsaved changes asks first', async () => {
    // The editor holds a node added to 'csv' and not saved.
    const asked = new Promise((resolve) =>
      page.once('dialog', (dialog) => {
        resolve(dialog.type());
        void dialog.accept();
      }),
    );
    await page.reload();
    assert.equal(await asked, 'beforeunload');
  });

  await t.test('while the server is down a failed save stays shown and the polling backs off', async () => {
    await openFromList(page, 'failing');
    await status(page, "Opened 'failing'");
    await page.locator('.react-flow__pane').click({ position: { x: 600, y: 700 } });
    await page.getByRole('tab', { name: 'Graph' }).click();
    await page.locator('#graph-description').fill('saved while the server is down');
    expected.serverDown = true;
    await server.stop();
    await page.getByRole('button', { name: 'Save', exact: true }).click();
    const failed = page.getByTestId('save-error').filter({ hasText: 'Not saved: the server did not answer' });
    await failed.waitFor({ timeout: DEADLINE_MS });
    // Two failed polls later (1 s, then 2 s apart) the next waits 4 s, and the failure still shows.
    await status(page, 'retrying in 4 s');
    assert.ok(await failed.isVisible());
  });

  await t.test('no console errors', () => {
    assert.deepEqual(consoleErrors, []);
  });
});
