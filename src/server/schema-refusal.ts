// What a route schema's refusal says: the field at fault and what it must be, in plain
// words. Fastify's ajv (query strings, path parameters) and TypeBox's checker (bodies)
// report errors in one shape; a field's schema may say what it expects in its
// `description`, which then replaces the generic words.
import type { FastifySchemaValidationError as SchemaError } from 'fastify';

interface SchemaNode {
  description?: string;
  properties?: Record<string, SchemaNode>;
  items?: SchemaNode;
  anyOf?: SchemaNode[];
}

const PARTS: Record<string, string> = { body: 'the body', querystring: 'the query', params: 'the path' };
const TYPES: Record<string, string> = { string: 'a string', integer: 'a whole number', number: 'a number', boolean: 'true or false', object: 'an object', array: 'a list', null: 'null' };

/** The field's own schema (into unions' branches too), for its description. */
function fieldSchema(schema: SchemaNode | undefined, segments: string[]): SchemaNode | undefined {
  return segments.reduce<SchemaNode | undefined>((node, segment) => (node ? [node, ...(node.anyOf ?? [])].map((branch) => branch.properties?.[segment] ?? branch.items).find(Boolean) : undefined), schema);
}

/** What the errors at one place say it must be: one of some values, of some types, or within a limit. */
function expected(errors: SchemaError[]): string {
  const param = (error: SchemaError, name: string) => (error.params as Record<string, unknown>)[name];
  const allowed = errors.filter((error) => error.keyword === 'const').map((error) => JSON.stringify(param(error, 'allowedValue')));
  if (allowed.length > 0) return `must be one of ${allowed.join(', ')}`;
  const types = errors.filter((error) => error.keyword === 'type').map((error) => TYPES[String(param(error, 'type'))] ?? String(param(error, 'type')));
  if (types.length > 0) return `must be ${[...new Set(types)].join(' or ')}`;
  const [first] = errors;
  const limit = String(param(first!, 'limit'));
  if (first!.keyword === 'minLength') return limit === '1' ? 'must not be empty' : `must have at least ${limit} characters`;
  if (first!.keyword === 'minimum' || first!.keyword === 'maximum') return `must be at ${first!.keyword === 'minimum' ? 'least' : 'most'} ${limit}`;
  return first!.message ?? 'is not valid';
}

/** The field (`faults.0` inside a list; null when the whole part is at fault) and the message naming it. */
export function schemaRefusal(errors: SchemaError[], part: string | undefined, schema: unknown): { field: string | null; message: string } {
  const whole = PARTS[part ?? ''] ?? 'the request';
  const unknown = errors.find((error) => error.keyword === 'additionalProperties');
  const named = (error: SchemaError, one: string, many: string) => String((error.params as Record<string, unknown>)[one] ?? ((error.params as Record<string, string[]>)[many] ?? [])[0] ?? '');
  if (unknown) {
    const name = named(unknown, 'additionalProperty', 'additionalProperties');
    return { field: name, message: `${whole} has a field ${JSON.stringify(name)} this endpoint does not read` };
  }
  const first = errors[0];
  if (!first) return { field: null, message: `${whole} is not valid` };
  if (first.keyword === 'required') {
    const name = named(first, 'missingProperty', 'requiredProperties');
    return { field: name, message: `${name}: missing` };
  }
  const segments = first.instancePath.split('/').slice(1);
  if (segments.length === 0) return { field: null, message: `${whole} ${expected(errors.filter((error) => error.instancePath === ''))}` };
  const field = segments.join('.');
  const description = fieldSchema(schema as SchemaNode, segments)?.description;
  return { field, message: `${field}: ${description ? `must be ${description}` : expected(errors.filter((error) => error.instancePath === first.instancePath))}` };
}
