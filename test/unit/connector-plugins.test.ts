// Connector modules loaded at start-up (connectors/plugins.ts): the example package registers by name,
// its source passes the conformance kit, and every way a module can be wrong gives a clear error.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ServerArgs } from '../../bin/args.ts';
import { run } from '../../bin/cli.ts';
import type { CliContext } from '../../bin/cli.ts';
import { registerBuiltinConnectors } from '../../connectors/builtin.ts';
import { ConnectorPluginError, connectorSpecs, loadConnectorPlugins } from '../../connectors/plugins.ts';
import { getConnector } from '../../connectors/registry.ts';
import { OptionError } from '../../connectors/types.ts';
import type { Connector, Source, SourceSpec } from '../../connectors/types.ts';
import { T } from '../../engine/plan/types.ts';
import { sequenceConnector } from '../../examples/connector-package/index.js';
import { describeSourceConformance } from '../support/source-conformance.ts';

const PKG = join(import.meta.dirname, '..', '..', 'examples', 'connector-package');
const tmp = mkdtempSync(join(tmpdir(), 'weir-plugins-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

const columns = [
  { name: 'n', type: T.bigint },
  { name: 'label', type: T.string },
  { name: 'ts', type: T.timestamp },
];
const seq = sequenceConnector as unknown as Connector;
const openSeq = (options: Record<string, string>) => (resume?: { startOffsets: Record<number, number>; endOffsets?: Record<number, number> }): Promise<Source> =>
  seq.createSource!({ table: 'seq', options, columns, brokers: '', jobName: 't', timeZone: 'UTC', ...(resume ?? {}) } satisfies SourceSpec);

describeSourceConformance("example package 'sequence', bounded", {
  open: openSeq({ connector: 'sequence', start: '10', end: '5009', step: '1' }),
  key: (r) => String(r[0]),
  rows: 5000,
  bounded: true,
  expected: { 0: ['10', '11', '12'] },
  partitions: [0],
});

describeSourceConformance("example package 'sequence', unbounded at 20000 rows/s", {
  open: openSeq({ connector: 'sequence', 'rows-per-second': '20000', step: '3' }),
  key: (r) => String(r[0]),
  rows: 3000,
  bounded: false,
  expected: { 0: ['1', '4', '7'] },
});

/** A module file in the temp dir; returns its path. */
function moduleFile(name: string, text: string): string {
  const p = join(tmp, name);
  writeFileSync(p, text);
  return p;
}

const connectorText = (name: string) =>
  `{ name: '${name}', appendOnlySink: true, validate(o) { if (o.bad) throw Object.assign(new Error('bad is bad'), { option: 'bad' }); }, createSource: async () => { throw new Error('unused'); } }`;

describe('connector modules', () => {
  registerBuiltinConnectors();

  it('loads the example package from its directory and registers its connectors by name', async () => {
    const loaded = await loadConnectorPlugins([PKG]);
    expect(loaded).toEqual([{ spec: PKG, connectors: ['sequence', 'jsonl'] }]);
    expect(getConnector('sequence')?.createSource).toBeTypeOf('function');
    expect(getConnector('JSONL')?.createSink).toBeTypeOf('function');
    // A package's validate error becomes an OptionError naming the option (a 400, not a 500).
    expect(() => getConnector('sequence')!.validate({ connector: 'sequence', ende: '3' }, 'table', columns)).toThrow(OptionError);
    expect(() => getConnector('sequence')!.validate({ connector: 'sequence', end: 'x' }, 'table', columns)).toThrow(
      expect.objectContaining({ name: 'OptionError', option: 'end', message: "'end' must be an integer, not 'x'" }),
    );
  });

  it('finds a package by name in node_modules above the working directory, through its "exports"', async () => {
    const dir = join(tmp, 'project', 'node_modules', '@acme', 'weir-things');
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: '@acme/weir-things', type: 'module', exports: { '.': { import: './lib/main.js' } } }));
    mkdirSync(join(dir, 'lib'));
    writeFileSync(join(dir, 'lib', 'main.js'), `export function register(registry) { registry.register(${connectorText('acme')}); }`);
    const cwd = join(tmp, 'project', 'sub');
    mkdirSync(cwd);
    expect(await loadConnectorPlugins(['@acme/weir-things'], cwd)).toEqual([{ spec: '@acme/weir-things', connectors: ['acme'] }]);
    expect(() => getConnector('acme')!.validate({ bad: 'x' }, 'table', [])).toThrow(expect.objectContaining({ name: 'OptionError', option: 'bad' }));
  });

  it('takes a default export with connectors, a CommonJS module, and a relative path', async () => {
    moduleFile('default-export.mjs', `export default { connectors: [${connectorText('by-default')}] };`);
    expect(await loadConnectorPlugins(['./default-export.mjs'], tmp)).toEqual([{ spec: './default-export.mjs', connectors: ['by-default'] }]);
    moduleFile('common.cjs', `module.exports = { connectors: [${connectorText('common-js')}] };`);
    expect(await loadConnectorPlugins(['./common.cjs'], tmp)).toEqual([{ spec: './common.cjs', connectors: ['common-js'] }]);
  });

  it('refuses what it cannot use, naming the module', async () => {
    const fail = async (spec: string, message: RegExp, cwd = tmp) => {
      const err = await loadConnectorPlugins([spec], cwd).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err).toBeInstanceOf(ConnectorPluginError);
      expect((err as Error).message).toMatch(message);
      expect((err as Error).message).toContain(`'${spec}'`);
    };
    await fail('weir-connector-not-installed', /package not found in node_modules .*npm install weir-connector-not-installed/);
    await fail('./nope.js', /no such file or directory/);
    await fail(moduleFile('empty.mjs', 'export const x = 1;'), /exports neither 'connectors'.* nor a 'register\(registry\)' function/);
    await fail(moduleFile('syntax.mjs', 'export const = ;'), /loading .* failed/);
    await fail(moduleFile('clash.mjs', `export const connectors = [${connectorText('kafka')}];`), /a connector named 'kafka' is already registered/);
    await fail(moduleFile('shape.mjs', `export const connectors = [{ name: 'half', appendOnlySink: true, validate() {} }];`), /connector 'half' has neither createSource nor createSink/);
    await fail(moduleFile('noname.mjs', `export const connectors = [{ validate() {} }];`), /needs a 'name'/);
    await fail(moduleFile('throws.mjs', `export function register() { throw new Error('boom'); }`), /register\(\) failed: boom/);
    await fail(moduleFile('none.mjs', `export function register() {}`), /registered no connector/);
  });

  it('reads --connector flags and WEIR_CONNECTORS, without repeats', () => {
    expect(connectorSpecs(['a', './b.js'], ' c , a,,')).toEqual(['a', './b.js', 'c']);
    expect(connectorSpecs([], undefined)).toEqual([]);
  });

  it('`weir server` passes every --connector (and WEIR_CONNECTORS) to the server', async () => {
    const served: ServerArgs[] = [];
    const errors: string[] = [];
    const ctx = (env: Record<string, string>): CliContext => ({
      env,
      out: () => undefined,
      err: (t) => errors.push(t),
      fetch: async () => {
        throw new Error('no network');
      },
      readFile: async () => '',
      readStdin: async () => '',
      serve: async (args) => {
        served.push(args);
      },
    });
    expect(await run(['server', '--connector', 'a', '--port', '0', '--connector=./b.js'], ctx({ WEIR_CONNECTORS: 'c,a' }))).toBe(0);
    expect(served[0]!.connectors).toEqual(['a', './b.js', 'c']);
    expect(served[0]!.port).toBe(0);
    expect(await run(['server'], ctx({}))).toBe(0);
    expect(served[1]!.connectors).toBeUndefined();
    expect(await run(['server', '--connector'], ctx({}))).toBe(2);
    expect(errors.join('\n')).toContain('option --connector needs a value');
  });
});
