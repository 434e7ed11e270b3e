// The default scheme's keyed text for a body, in one pass: byte for byte
// json-stable-stringify(normalizePlainBody(body)), without building the normalised
// copy first. Replay computes this for every request, where the two-step version
// costs several times as much (test/keys.test.ts checks both agree on random bodies).
import { pythonRound } from '../json/python-float.js';
import { normalizeString } from './normalize.js';

function write(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
      return JSON.stringify(normalizeString(value));
    case 'number':
      return JSON.stringify(Number.isInteger(value) ? value : pythonRound(value as number, 5));
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object':
      break;
    default:
      return 'null';
  }
  if (Array.isArray(value)) {
    let out = '[';
    for (let i = 0; i < value.length; i++) out += (i === 0 ? '' : ',') + write(value[i]);
    return `${out}]`;
  }
  return writeObject(value as Record<string, unknown>, undefined);
}

function writeObject(object: Record<string, unknown>, skip: ((key: string, value: unknown) => unknown) | undefined): string {
  const keys = Object.keys(object).sort();
  let out = '{';
  let first = true;
  for (const key of keys) {
    let item = object[key];
    if (skip) {
      item = skip(key, item);
      if (item === undefined) continue;
    }
    out += `${first ? '' : ','}${JSON.stringify(key)}:${write(item)}`;
    first = false;
  }
  return `${out}}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** The canonical, normalised text of a JSON.parse'd body (see normalizePlainBody for the rules). */
export function canonicalBody(body: unknown, dropStreamOptions: boolean): string {
  if (!isObject(body)) return write(body);
  return writeObject(body, (key, value) => {
    if (key === 'stream_options' && dropStreamOptions) return undefined;
    if ((key === 'extra_body' || key === 'extra_query') && isObject(value) && 'project_id' in value) {
      const { project_id: _dropped, ...rest } = value;
      return rest;
    }
    return value;
  });
}
