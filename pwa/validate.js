// Checks a record against the schema the server validates with (schema.js, generated
// from sync/schema.py and sync/vocabulary.json: docs/pwa.md), before it is queued:
// kinds, lengths, ranges, enums, required fields and the rules on a whole record
// (what a submitted visit must have). The server checks again; this only spares the
// person a rejection that would arrive hours later, with signal.
import { SCHEMA } from './schema.js';

const DATE = /^\d{4}-\d{2}-\d{2}$/;
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/** Label of a field name ("child_seen" → "Child seen"). */
export function fieldLabel(name, schema = SCHEMA) {
  const entry = schema.vocabulary.fields[name];
  return entry ? entry.label : String(name).replace(/_/g, ' ');
}

/** Help text of a field, or undefined. */
export function fieldHelp(name, schema = SCHEMA) {
  return schema.vocabulary.fields[name]?.help;
}

/** {code: label} of an enum, in the declared order. */
export function codeLabels(enumName, schema = SCHEMA) {
  const words = schema.vocabulary.enums[enumName] || {};
  const codes = schema.enums[enumName] || Object.keys(words);
  return Object.fromEntries(codes.map((c) => [c, words[c]?.label ?? c]));
}

/** The label of one code. */
export function codeLabel(enumName, code, schema = SCHEMA) {
  return schema.vocabulary.enums[enumName]?.[code]?.label ?? code;
}

/** The label of an entity type ("visit" → "Home visit"). */
export function typeLabel(type, schema = SCHEMA) {
  return schema.vocabulary.types[type]?.label ?? type;
}

const realDate = (v) => {
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
};

/** The problem with one value, in words, or null. `spec` is one field of the schema. */
export function checkValue(spec, value, name, schema = SCHEMA) {
  const what = fieldLabel(name, schema);
  if (value === null || value === undefined) {
    return spec.nullable ? null : `${what} is needed.`;
  }
  switch (spec.kind) {
    case 'string':
      if (typeof value !== 'string') return `${what} must be text.`;
      if (value.length > spec.max) {
        return `${what} is too long: at most ${spec.max.toLocaleString('en-GB')} characters (it has ${value.length.toLocaleString('en-GB')}).`;
      }
      if (value.includes('\u0000')) return `${what} holds a character that cannot be stored (NUL): retype it.`;
      if (spec.pattern && !new RegExp(`^(?:${spec.pattern})$`).test(value)) return `${what} must look like ${spec.hint || 'the expected form'}.`;
      return null;
    case 'enum':
      return (schema.enums[spec.enum] || []).includes(value) ? null : `Choose one of the listed options for ${what.toLowerCase()}.`;
    case 'boolean':
      return typeof value === 'boolean' ? null : `${what} must be yes or no.`;
    case 'integer':
    case 'number':
      if (typeof value !== 'number' || Number.isNaN(value) || (spec.kind === 'integer' && !Number.isInteger(value))) {
        return `${what} must be a ${spec.kind === 'integer' ? 'whole ' : ''}number.`;
      }
      return value < spec.min || value > spec.max ? `${what} must be between ${spec.min} and ${spec.max}.` : null;
    case 'date':
      return typeof value === 'string' && DATE.test(value) && realDate(value) ? null : `${what} must be a real date.`;
    case 'timestamp':
      return typeof value === 'string' && TIMESTAMP.test(value) && realDate(value.slice(0, 10)) && !Number.isNaN(Date.parse(value)) ? null : `${what} must be a real time.`;
    case 'date_or_time':
      return checkValue({ ...spec, kind: typeof value === 'string' && value.length === 10 ? 'date' : 'timestamp' }, value, name, schema);
    case 'clock_time':
      return typeof value === 'string' && CLOCK.test(value) ? null : `${what} must be a time of day (HH:MM).`;
    case 'ref':
      return typeof value === 'string' && UUID.test(value) ? null : `${what} is not a valid reference.`;
    case 'list': {
      if (!Array.isArray(value)) return `${what} must be a list.`;
      if (value.length > spec.max_items) return `${what}: at most ${spec.max_items}.`;
      if (spec.unique && new Set(value.map((x) => JSON.stringify(x))).size !== value.length) return `${what}: each only once.`;
      return null; // items are checked one by one by validateRecord (each has its own path)
    }
    case 'object':
      if (typeof value !== 'object' || Array.isArray(value)) return `${what} must be a set of values.`;
      for (const key of Object.keys(value)) if (!(key in spec.fields)) return `${what} has an unknown part "${key}".`;
      return null;
    default:
      return null;
  }
}

function walk(spec, value, name, path, out, schema) {
  const problem = checkValue(spec, value, name, schema);
  if (problem) { out.push({ field: path[0], path: path.join('.'), code: 'invalid', message: problem }); return; }
  if (value === null || value === undefined) return;
  if (spec.kind === 'list') {
    value.forEach((item, i) => walk(spec.items, item, name, [...path, i], out, schema));
  } else if (spec.kind === 'object') {
    for (const [key, sub] of Object.entries(spec.fields)) {
      const v = value[key];
      if (v === null || v === undefined || v === '') {
        if (sub.required) out.push({ field: path[0], path: [...path, key].join('.'), code: 'missing', message: `${fieldLabel(key, schema)} is needed.` });
      } else {
        walk({ ...sub, nullable: false }, v, key, [...path, key], out, schema);
      }
    }
  }
}

// as sync/schema.py's check_complete: empty is null, '', false, 0 or []; "text" also blank text
const filled = (v, need) => {
  if (v === null || v === undefined || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  return !(need === 'text' && typeof v === 'string' && !v.trim());
};

/**
 * Problems with a record about to be saved: [{field, path, code, message}] in field order, then rule
 * order; code is 'invalid' (kind, length, range, enum), 'missing' (required), 'rule' (RULES)
 * or 'consistency' (a CONSISTENCY error; the warnings are `consistency(…, 'warning')`).
 * `record` is the whole record as it will be (saved fields plus the change); `creating`
 * adds the fields a new record must have. Unknown fields (and server-stamped ones) are ignored.
 */
export function validateRecord(type, record, { creating = false, schema = SCHEMA, now = Date.now() } = {}) {
  const decl = schema.types[type];
  if (!decl) throw new Error(`no type ${type} in the schema`);
  const out = [];
  const full = creating ? { ...decl.defaults, ...record } : record;
  for (const [name, spec] of Object.entries(decl.fields)) {
    const value = full[name];
    if (value === undefined) {
      if (creating && spec.required) out.push({ field: name, path: name, code: 'missing', message: `${fieldLabel(name, schema)} is needed.` });
      continue;
    }
    if (value === null && creating && spec.required) {
      out.push({ field: name, path: name, code: 'missing', message: `${fieldLabel(name, schema)} is needed.` });
      continue;
    }
    walk(spec, value, name, [name], out, schema);
  }
  for (const rule of schema.rules) {
    if (rule.type !== type) continue;
    if (Object.entries(rule.when).every(([k, v]) => full[k] === v) && !filled(full[rule.field], rule.need)) {
      out.push({ field: rule.field, path: rule.field, code: 'rule', message: rule.ask || rule.message });
    }
  }
  // consistency errors: one message a field (a field already wrong is not checked against others)
  for (const p of consistency(type, full, 'error', { now, schema })) {
    if (!out.some((o) => o.field === p.field)) out.push(p);
  }
  return out;
}

const instant = (v) => (typeof v === 'string' && v.length > 10 ? Date.parse(v) : v);

/**
 * The consistency rules (schema.consistency, from sync/schema.py's CONSISTENCY) a whole
 * record breaks at one level ('error' or 'warning'): [{field, path, code: 'consistency',
 * level, id, message}]. The phone also makes the tests against the clock ("future",
 * "past") that the server cannot; `now` is when the officer records it.
 */
export function consistency(type, record, level, { now = Date.now(), schema = SCHEMA } = {}) {
  const out = [];
  for (const rule of schema.consistency || []) {
    if (rule.type !== type || rule.level !== level) continue;
    if (!Object.entries(rule.when).every(([k, allowed]) => allowed.includes(record[k] ?? null))) continue;
    const value = record[rule.field];
    let broken = true;
    if (rule.test === 'before') {
      const a = instant(value);
      const b = instant(record[rule.other]);
      broken = value != null && record[rule.other] != null && typeof a === typeof b && a > b;
    } else if (rule.test === 'future') {
      broken = typeof value === 'string' && Date.parse(value) > now + (rule.slack_s || 0) * 1000;
    } else if (rule.test === 'past') {
      const d = new Date(now);
      const today = `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
      broken = typeof value === 'string' && value.slice(0, 10) < today;
    } else if (rule.test) {
      broken = false; // a test this phone does not know yet: the server still checks its own
    }
    if (broken) out.push({ field: rule.field, path: rule.field, code: 'consistency', level, id: rule.id, message: rule.ask || rule.message });
  }
  return out;
}
