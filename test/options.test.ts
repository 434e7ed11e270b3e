// The option schema is the one source of the options: the README's table must say
// what it says, and every option is checked by it, with errors that name the option.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { envVariable } from '../src/config/schema.js';
import { optionsFromEnv, resolveConfig } from '../src/config/options.js';
import { optionEntries } from '../src/config/schema.js';
import { ConfigError } from '../src/errors.js';

const code = (text: string) => `\`${text}\``;

function optionTable(): string {
  const rows = optionEntries().map(([name, schema]) => {
    const env = envVariable(schema);
    const fallback = schema.default !== undefined ? code(String(schema.default)) : (schema.defaultText ?? '');
    return `| ${schema.flag ? code(schema.flag) : ''} | ${env ? code(env) : ''} | ${code(name)} | ${fallback} | ${schema.description} |`;
  });
  return ['| flag | environment variable | config file, `startServer` | default | meaning |', '| --- | --- | --- | --- | --- |', ...rows].join('\n');
}

describe('options', () => {
  it('the LLM_REPLAY_* variables outside the CLI (the vitest helper) are the schema\'s, checked the same way', () => {
    const env = { LLM_REPLAY_MODE: 'record-if-missing', LLM_REPLAY_KEY_SCHEME: 'llama-stack', LLM_REPLAY_BODY_LIMIT: '1000', LLM_REPLAY_FAULTS: 'status=503;rate=0.1;seed=7', LLM_REPLAY_PORT: '9', LLM_REPLAY_HOST: '', UNRELATED: 'x' };
    expect(optionsFromEnv(env, ['port'])).toEqual({ mode: 'record-if-missing', keyScheme: 'llama-stack', bodyLimit: 1000, faults: 'status=503;rate=0.1;seed=7' });
    expect(() => optionsFromEnv({ LLM_REPLAY_KEY_SCHEME: 'nope' })).toThrow(/LLM_REPLAY_KEY_SCHEME: expected one of default, llama-stack, got "nope"/);
  });

  it("the README's option table is the schema's", () => {
    const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
    const start = readme.indexOf('| flag | environment variable |');
    const table = readme.slice(start).split('\n\n')[0];
    expect(table, `README.md's option table should read:\n\n${optionTable()}\n`).toBe(optionTable());
  });

  it.each(optionEntries().map(([name, schema]) => [name, schema.type === 'string' || schema.enum ? 42 : 'not-this-type']))(
    '%s: a value of the wrong type is a ConfigError naming it',
    (name, value) => {
      let error: unknown;
      try {
        resolveConfig({ [name]: value });
      } catch (caught) {
        error = caught;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).option).toBe(name);
      expect((error as ConfigError).message).toMatch(/expected .*, got /);
    },
  );

  it('an unknown option is named, with the known ones', () => {
    expect(() => resolveConfig({ colour: 'blue' } as never)).toThrow(/^colour: unknown option; known options are mode, recordings, /);
  });
});
