// The flags and environment variables of `serve`, made from the option schema
// (config/schema.ts): a flag's value is checked against its option's schema as it
// is read, so a bad one is a usage error naming the flag (exit 2).
import { Command, InvalidArgumentError, Option } from 'commander';
import Value from 'typebox/value';
import { expected, type ServerOptions } from '../config/options.js';
import { envVariable, optionEntries, type OptionName } from '../config/schema.js';

export { envVariable };

/** Markdown to the plain text --help shows: no backticks, no links to README sections. */
function plainText(markdown: string): string {
  return markdown.replace(/ \(see \[[^\]]*\]\([^)]*\)\)/g, '').replaceAll('`', '');
}

/** A repeatable PREFIX=URL flag (`--route`), each one added to the previous. */
export function keyValue(value: string, previous: Record<string, string> = {}): Record<string, string> {
  const eq = value.indexOf('=');
  if (eq < 1) throw new InvalidArgumentError('expected PREFIX=URL, e.g. /anthropic=https://api.anthropic.com');
  return { ...previous, [value.slice(0, eq)]: value.slice(eq + 1) };
}

/** Adds a flag for every option that has one; returns which option each flag sets. */
export function addServeOptions(command: Command): Map<string, OptionName> {
  const attributes = new Map<string, OptionName>();
  for (const [name, schema] of optionEntries()) {
    if (!schema.flag) continue;
    const flag = new Option(schema.flag, plainText(schema.description + (schema.defaultText ? ` (default: ${schema.defaultText})` : '')));
    const env = envVariable(schema);
    if (env) flag.env(env);
    if (schema.default !== undefined) flag.default(schema.default);
    if (schema.enum) flag.choices(schema.enum);
    else if (schema.type === 'object') flag.argParser(keyValue);
    else if (flag.required) {
      flag.argParser((text: string) => {
        const value = Value.Convert(schema, text);
        if (!Value.Check(schema, value)) throw new InvalidArgumentError(`expected ${expected(schema)}`);
        return value;
      });
    }
    command.addOption(flag);
    attributes.set(flag.attributeName(), name);
  }
  return attributes;
}

/** The options given as flags or environment variables (not commander's defaults), over those of the config file. */
export function serveOptionsOf(command: Command, attributes: Map<string, OptionName>, fromFile: ServerOptions): ServerOptions {
  const options: Record<string, unknown> = { ...fromFile };
  for (const [attribute, name] of attributes) {
    const source = command.getOptionValueSource(attribute);
    if (source !== 'cli' && source !== 'env') continue;
    const value: unknown = command.getOptionValue(attribute);
    options[name] = typeof value === 'object' ? { ...(options[name] as object), ...value } : value;
  }
  return options as ServerOptions;
}
