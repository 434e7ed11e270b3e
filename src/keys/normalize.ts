// llama-stack's body normalisation (RECORDINGS.md section 2), for its key scheme:
// floats rounded to 5 decimals as Python rounds them, its string rules
// (llama-stack-strings.ts), and two top-level fields dropped.
import { isJsonObject, isFloatLexeme, LosslessNumber, mapLeaves, type JsonValue } from '../json/lossless.js';
import { pythonFloatRepr, pythonRound } from '../json/python-float.js';
import { normalizeLlamaStackString } from './llama-stack-strings.js';

interface NormalizeOptions {
  /** llama-stack drops stream_options for Bedrock hosts, whose value varies per run. */
  dropStreamOptions?: boolean;
}

function dropTopLevel(body: JsonValue, options: NormalizeOptions): JsonValue {
  if (!isJsonObject(body)) return body;
  if (!options.dropStreamOptions && !('extra_body' in body) && !('extra_query' in body)) return body;
  const out = { ...body };
  for (const field of ['extra_body', 'extra_query']) {
    const nested = out[field];
    if (isJsonObject(nested) && 'project_id' in nested) {
      const { project_id: _dropped, ...rest } = nested;
      out[field] = rest;
    }
  }
  if (options.dropStreamOptions) delete out['stream_options'];
  return out;
}

/** Python semantics on a lossless tree: only lexemes Python reads as floats are rounded. */
function roundLosslessFloat(n: number | LosslessNumber): JsonValue {
  if (typeof n === 'number') return n;
  if (!isFloatLexeme(n.value)) return n;
  const rounded = pythonRound(Number(n.value), 5);
  return Number.isFinite(rounded) ? new LosslessNumber(pythonFloatRepr(rounded)) : n;
}

export function normalizeLosslessBody(body: JsonValue, options: NormalizeOptions = {}): JsonValue {
  return dropTopLevel(mapLeaves(body, normalizeLlamaStackString, roundLosslessFloat), options);
}
