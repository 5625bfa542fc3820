"""What a phone holds, as text, for the device-security tests in real Chromium (test_pwa_security.py,
test_pwa_lock.py, test_pwa_sign_out.py): every IndexedDB value, web storage and cache body, with
anything base64 in them decoded; and the demo's long-named cases and audit rows those tests use."""
from __future__ import annotations

import base64
import binascii
import re
from typing import Any

from tests.browser.conftest import Api

# Every value the page can store, as text: all IndexedDB databases (every store, every
# key and value, walked recursively; ArrayBuffers and typed arrays decoded as UTF-8,
# Latin-1 and UTF-16), localStorage, sessionStorage and every Cache Storage body.
WALK = """
const texts = [];
let cryptoKeys = 0;
const seen = new Set();
const decoders = ['utf-8', 'latin1', 'utf-16le'].map((e) => new TextDecoder(e));
function bytes(u8) { for (const d of decoders) texts.push(d.decode(u8)); }
function walk(v) {
  if (v === null || v === undefined) return;
  const t = typeof v;
  if (t === 'string') { texts.push(v); return; }
  if (t === 'number' || t === 'boolean' || t === 'bigint') { texts.push(String(v)); return; }
  if (t !== 'object' || seen.has(v)) return;
  seen.add(v);
  if (v instanceof ArrayBuffer) { bytes(new Uint8Array(v)); return; }
  if (ArrayBuffer.isView(v)) { bytes(new Uint8Array(v.buffer, v.byteOffset, v.byteLength)); return; }
  if (globalThis.CryptoKey && v instanceof CryptoKey) { cryptoKeys += 1; return; }
  if (v instanceof Date) { texts.push(v.toISOString()); return; }
  if (v instanceof Map) { for (const [k, x] of v) { walk(k); walk(x); } return; }
  if (v instanceof Set) { for (const x of v) walk(x); return; }
  for (const k of Object.keys(v)) { texts.push(k); walk(v[k]); }
}
"""

STORAGE_DUMP = "async () => {" + WALK + """
  const stores = {};
  const dbs = indexedDB.databases ? await indexedDB.databases() : [{ name: 'doorstep' }];
  for (const { name } of dbs) {
    const db = await new Promise((resolve, reject) => {
      const r = indexedDB.open(name);
      r.onsuccess = () => resolve(r.result);
      r.onerror = () => reject(r.error);
    });
    try {
      for (const s of db.objectStoreNames) {
        const t = db.transaction(s, 'readonly');
        const [keys, values] = await Promise.all(['getAllKeys', 'getAll'].map((m) => new Promise((resolve, reject) => {
          const q = t.objectStore(s)[m]();
          q.onsuccess = () => resolve(q.result);
          q.onerror = () => reject(q.error);
        })));
        stores[`${name}/${s}`] = values.length;
        walk(keys);
        walk(values);
      }
    } finally { db.close(); }
  }
  for (const area of [localStorage, sessionStorage]) {
    for (let i = 0; i < area.length; i += 1) { texts.push(area.key(i)); texts.push(area.getItem(area.key(i))); }
  }
  const caches_ = {};
  for (const cname of await caches.keys()) {
    const cache = await caches.open(cname);
    caches_[cname] = [];
    for (const req of await cache.keys()) {
      caches_[cname].push(new URL(req.url).pathname);
      bytes(new Uint8Array(await (await cache.match(req)).arrayBuffer()));
    }
  }
  return { texts, stores, caches: caches_, cryptoKeys };
}"""

# The same walker over a made-up value, to show it would find a name inside bytes.
WALK_CONTROL = "(name) => {" + WALK + """
  const u8 = new TextEncoder().encode(`{"first_name":"${name}"}`);
  walk({ deep: [{ buf: u8.buffer }] });
  walk(new Uint16Array([...name].map((c) => c.charCodeAt(0))));
  return texts;
}"""

B64 = re.compile(r"^[A-Za-z0-9+/_-]{12,}={0,2}$")


def everything_as_text(texts: list[str]) -> str:
    """The texts, plus anything in them that decodes as base64."""
    out = list(texts)
    for t in texts:
        for word in re.findall(r"[A-Za-z0-9+/_-]{12,}={0,2}", t):
            if B64.match(word):
                try:
                    out.append(base64.b64decode(word + "=" * (-len(word) % 4), altchars=b"-_").decode("latin-1"))
                except (binascii.Error, ValueError):
                    pass
    return "\n".join(out)


def plaintext_found(phone, secrets: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    dump = phone.page.evaluate(STORAGE_DUMP)
    haystack = everything_as_text(dump["texts"])
    return dump, [f"{what} ({value!r})" for what, value in secrets.items() if value in haystack]


def long_named_case(demo, username: str, skip: int = 0) -> dict[str, Any]:
    """A case whose pupil's names and address are long enough not to turn up in random bytes."""
    found = [c for c in demo.open_cases(username)
             if len(c["pupil"]["first_name"]) >= 5 and len(c["pupil"]["last_name"]) >= 5
             and c["household"] and len(c["household"]["address"]) >= 8]
    assert len(found) > skip, f"{username} has too few long-named cases"
    return found[skip]


def admin_audit(server_url: str, entity_id: str) -> list[dict[str, Any]]:
    admin = Api(server_url, "admin")
    try:
        return admin.get("/api/audit", entity_id=entity_id)["items"]
    finally:
        admin.close()
