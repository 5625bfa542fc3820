// The service worker precaches every file the app loads, and the manifest is complete.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const PWA = fileURLToPath(new URL('..', import.meta.url));

function appFiles(dir = PWA) {
  const out = [];
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    if (name === 'tests' || name === 'node_modules' || name === 'package.json' || name === 'sw.js') continue;
    if (statSync(full).isDirectory()) out.push(...appFiles(full));
    else out.push(relative(PWA, full).split('\\').join('/'));
  }
  return out.sort();
}

function shellList() {
  const src = readFileSync(join(PWA, 'sw.js'), 'utf8');
  const block = /const SHELL = \[([\s\S]*?)\];/.exec(src)[1];
  return [...block.matchAll(/'([^']+)'/g)].map((m) => m[1]);
}

test('sw.js precaches every app file, and only files that exist', () => {
  const shell = shellList();
  assert.ok(shell.includes('./'));
  assert.deepEqual(shell.filter((f) => f !== './').sort(), appFiles());
});

test('sw.js has a versioned cache name and never caches /api/', () => {
  const src = readFileSync(join(PWA, 'sw.js'), 'utf8');
  assert.match(src, /const VERSION = 'doorstep-shell-v\d+'/);
  assert.match(src, /startsWith\('\/api\/'\)\) return;/);
  assert.match(src, /skipWaiting\(\)/);
  assert.match(src, /clients\.claim\(\)/);
});

test('every module the app imports is in the shell', () => {
  const shell = new Set(shellList());
  for (const file of appFiles().filter((f) => f.endsWith('.js'))) {
    const src = readFileSync(join(PWA, file), 'utf8');
    for (const m of src.matchAll(/from '(\.{1,2}\/[^']+)'/g)) {
      const target = relative(PWA, join(PWA, file, '..', m[1])).split('\\').join('/');
      assert.ok(shell.has(target), `${file} imports ${target}, which sw.js does not precache`);
    }
  }
});

test('the manifest names the app, the start URL, standalone display and both icon sizes', () => {
  const m = JSON.parse(readFileSync(join(PWA, 'manifest.webmanifest'), 'utf8'));
  assert.equal(m.start_url, '/app/');
  assert.equal(m.display, 'standalone');
  assert.ok(m.name && m.short_name && m.theme_color);
  const sizes = m.icons.map((i) => i.sizes);
  assert.ok(sizes.includes('192x192') && sizes.includes('512x512'));
  for (const icon of m.icons) {
    const png = readFileSync(join(PWA, icon.src));
    assert.equal(png.subarray(1, 4).toString(), 'PNG');
    assert.equal(`${png.readUInt32BE(16)}x${png.readUInt32BE(20)}`, icon.sizes);
  }
});
