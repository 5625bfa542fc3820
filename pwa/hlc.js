// Hybrid logical clock, PROTOCOL.md §6. Pure functions over stamp strings:
// "<ms since epoch, 15 digits>-<counter, 6 digits>-<node id>", ordered as strings.

const STAMP = /^(\d{15})-(\d{6})-([A-Za-z0-9][A-Za-z0-9_.:-]{0,63})$/;
export const MAX_COUNTER = 999999;

export function parse(stamp) {
  const m = typeof stamp === 'string' ? STAMP.exec(stamp) : null;
  if (!m) throw new Error(`not an HLC stamp: ${stamp}`);
  return { ms: Number(m[1]), counter: Number(m[2]), node: m[3] };
}

export function format({ ms, counter, node }) {
  return `${String(ms).padStart(15, '0')}-${String(counter).padStart(6, '0')}-${node}`;
}

export function isStamp(stamp) {
  return typeof stamp === 'string' && STAMP.test(stamp);
}

/** Compare two stamps: negative, 0 or positive (they order as plain strings). */
export function compare(a, b) {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * The next stamp to send: max(now, last), counter + 1 on a tie.
 * `last` is the previous stamp this node sent or advanced to (or null).
 */
export function send(last, nowMs, node) {
  const prev = last ? parse(last) : { ms: 0, counter: 0 };
  let ms = Math.max(Math.floor(nowMs), 0);
  let counter = 0;
  if (ms <= prev.ms) {
    ms = prev.ms;
    counter = prev.counter + 1;
    if (counter > MAX_COUNTER) {
      ms += 1;
      counter = 0;
    }
  }
  return format({ ms, counter, node });
}

/**
 * Advance past a stamp received from elsewhere (`server_hlc`): returns the new
 * `last`, so that the next `send` is later than `remote`.
 */
export function receive(last, remote, node) {
  const r = parse(remote);
  const prev = last ? parse(last) : { ms: 0, counter: 0 };
  if (r.ms > prev.ms || (r.ms === prev.ms && r.counter > prev.counter)) {
    return format({ ms: r.ms, counter: r.counter, node });
  }
  return format({ ms: prev.ms, counter: prev.counter, node });
}
