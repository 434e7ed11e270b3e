// What a route schema's refusal says: the field at fault and what it must be, in plain
// words. Fastify's ajv (query strings, path parameters) and TypeBox's checker (bodies)
// report errors in one shape; a field's schema may say what it expects in its
// `description`, which then replaces the generic words.
import type { FastifySchemaValidationError } from 'fastify';

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

export interface Refusal {
  /** The field at fault (`faults.0` inside a list); null when the whole part is. */
  field: string | null;
  message: string;
}

const PARTS: Record<string, string> = { body: 'the body', querystring: 'the query', params: 'the path' };

const TYPE_WORDS: Record<string, string> = { string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'an object', array: 'a list', null: 'null' };

/** The field's own schema inside `schema` (into unions' branches too), for its description. */
function fieldSchema(schema: SchemaNode | undefined, segments: string[]): SchemaNode | undefined {
  let node = schema;
  for (const segment of segments) {
    const branches: SchemaNode[] = node ? [node, ...(node.anyOf ?? [])] : [];
    node = branches.map((branch) => branch.properties?.[segment] ?? branch.items).find((found) => found !== undefined);
  }
  return node;
}

function expected(errors: FastifySchemaValidationError[], at: string): string {
  const here = errors.filter((error) => error.instancePath === at);
  const first = here[0]!;
  const params = first.params as Record<string, unknown>;
  const allowed = here.filter((error) => error.keyword === 'const').map((error) => JSON.stringify((error.params as { allowedValue: unknown }).allowedValue));
  if (allowed.length > 0) return `must be one of ${allowed.join(', ')}`;
  const types = here.filter((error) => error.keyword === 'type').map((error) => TYPE_WORDS[String((error.params as { type: string }).type)] ?? String((error.params as { type: string }).type));
  if (types.length > 0) return `must be ${[...new Set(types)].join(' or ')}`;
  switch (first.keyword) {
    case 'minLength':
      return params['limit'] === 1 ? 'must not be empty' : `must have at least ${String(params['limit'])} characters`;
    case 'minimum':
      return `must be at least ${String(params['limit'])}`;
    case 'maximum':
      return `must be at most ${String(params['limit'])}`;
    default:
      return first.message ?? 'is not valid';
  }
}

export function schemaRefusal(errors: FastifySchemaValidationError[], part: string | undefined, schema: unknown): Refusal {
  const whole = PARTS[part ?? ''] ?? 'the request';
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  if (unknown) {
    const params = unknown.params as { additionalProperty?: string; additionalProperties?: string[] };
    const name = params.additionalProperty ?? params.additionalProperties?.[0] ?? '';
    return { field: name, message: `${whole} has a field ${JSON.stringify(name)} this endpoint does not read` };
  }
  const first = errors[0];
  if (!first) return { field: null, message: `${whole} is not valid` };
  if (first.keyword === 'required') {
    const params = first.params as { missingProperty?: string; requiredProperties?: string[] };
    const name = params.missingProperty ?? params.requiredProperties?.[0] ?? '';
    return { field: name, message: `${name}: missing` };
  }
  const segments = first.instancePath.split('/').slice(1);
  const field = segments.length > 0 ? segments.join('.') : null;
  const description = segments.length > 0 ? fieldSchema(schema as SchemaNode, segments)?.description : undefined;
  const what = description ? `must be ${description}` : expected(errors, first.instancePath);
  return { field, message: field ? `${field}: ${what}` : `${whole} ${what}` };
}
