import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { connectorNames, getConnector, registerConnector } from './registry.ts';
import { OptionError } from './types.ts';
import type { Connector } from './types.ts';

/**
 * Third-party connectors as npm packages (docs/connectors.md, "Connectors as packages"): `weir server
 * --connector <package-or-path>` (repeatable) and `WEIR_CONNECTORS=pkg1,pkg2` name modules loaded at
 * start-up, before any statement runs. A module exports (named, or on its default export) either
 *   - `connectors`: an array of Connector objects, or
 *   - `register(registry)`: a function that calls `registry.register(connector)` for each of its connectors.
 * The module needs nothing of Weir at run time: the registry is handed to it.
 */
export interface ConnectorRegistry {
  register(connector: Connector): void;
  /** Names registered so far (built-ins included), lower case. */
  names(): string[];
}

/** A connector module that cannot be found, loaded or used: the server refuses to start, naming it. */
export class ConnectorPluginError extends Error {
  constructor(
    readonly spec: string,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(`connector module '${spec}': ${message}`, options);
    this.name = 'ConnectorPluginError';
  }
}

/** The modules to load: the flags first, then WEIR_CONNECTORS (comma separated), without repeats. */
export function connectorSpecs(flags: readonly string[], env: string | undefined): string[] {
  const all = [...flags, ...(env ?? '').split(',')].map((s) => s.trim()).filter((s) => s !== '');
  return [...new Set(all)];
}

/**
 * Loads each module and registers its connectors; returns the names registered, per module. `cwd` is where
 * package names are looked up (its node_modules and those above it) and relative paths resolved.
 */
export async function loadConnectorPlugins(specs: readonly string[], cwd: string = process.cwd()): Promise<{ spec: string; connectors: string[] }[]> {
  const out: { spec: string; connectors: string[] }[] = [];
  for (const spec of specs) {
    const file = resolveModule(spec, cwd);
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(file).href)) as Record<string, unknown>;
    } catch (e) {
      throw new ConnectorPluginError(spec, `loading ${file} failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
    out.push({ spec, connectors: registerFrom(spec, mod) });
  }
  return out;
}

function registerFrom(spec: string, mod: Record<string, unknown>): string[] {
  const def = mod['default'];
  const pick = (k: string): unknown => mod[k] ?? (def !== null && typeof def === 'object' ? (def as Record<string, unknown>)[k] : undefined);
  const list = pick('connectors') ?? (Array.isArray(def) ? def : undefined);
  const register = pick('register');
  if (list === undefined && typeof register !== 'function') {
    throw new ConnectorPluginError(spec, "exports neither 'connectors' (an array of connectors) nor a 'register(registry)' function");
  }
  const added: string[] = [];
  const registry: ConnectorRegistry = {
    register: (c) => {
      checkConnector(spec, c);
      if (getConnector(c.name)) throw new ConnectorPluginError(spec, `a connector named '${c.name}' is already registered`);
      registerConnector(adapt(c));
      added.push(c.name.toLowerCase());
    },
    names: connectorNames,
  };
  if (list !== undefined) {
    if (!Array.isArray(list)) throw new ConnectorPluginError(spec, "'connectors' must be an array of connectors");
    for (const c of list) registry.register(c as Connector);
  }
  if (typeof register === 'function') {
    try {
      (register as (r: ConnectorRegistry) => void)(registry);
    } catch (e) {
      if (e instanceof ConnectorPluginError) throw e;
      throw new ConnectorPluginError(spec, `register() failed: ${e instanceof Error ? e.message : String(e)}`, { cause: e });
    }
  }
  if (added.length === 0) throw new ConnectorPluginError(spec, 'registered no connector');
  return added;
}

/**
 * A package cannot import Weir's OptionError class, so anything its validate() throws is taken as a bad
 * option (that is validate's one job): it becomes an OptionError, at the error's `option` property if it
 * names one, so the user gets a 400 pointing at it instead of a 500.
 */
function adapt(c: Connector): Connector {
  return {
    name: c.name,
    appendOnlySink: c.appendOnlySink,
    validate: (...args: Parameters<Connector['validate']>) => {
      try {
        c.validate(...args);
      } catch (e) {
        if (e instanceof OptionError) throw e;
        const option = (e as { option?: unknown } | null)?.option;
        throw new OptionError(typeof option === 'string' ? option : undefined, e instanceof Error ? e.message : String(e));
      }
    },
    ...(c.createSource ? { createSource: (spec) => c.createSource!(spec) } : {}),
    ...(c.createSink ? { createSink: (spec) => c.createSink!(spec) } : {}),
  };
}

/** The shape the platform relies on, checked here so that a bad package fails at start-up, not in a job. */
function checkConnector(spec: string, c: unknown): asserts c is Connector {
  const o = c as Partial<Record<keyof Connector, unknown>> | null;
  if (o === null || typeof o !== 'object') throw new ConnectorPluginError(spec, 'a connector must be an object');
  if (typeof o.name !== 'string' || !/^[a-z][a-z0-9._-]*$/i.test(o.name)) {
    throw new ConnectorPluginError(spec, `a connector needs a 'name' of letters, digits, '.', '_' or '-' (got ${JSON.stringify(o.name)})`);
  }
  const what = `connector '${o.name}'`;
  if (typeof o.validate !== 'function') throw new ConnectorPluginError(spec, `${what} has no validate(options, role, columns) function`);
  if (typeof o.appendOnlySink !== 'boolean') throw new ConnectorPluginError(spec, `${what} must say 'appendOnlySink' (true or false)`);
  if (o.createSource !== undefined && typeof o.createSource !== 'function') throw new ConnectorPluginError(spec, `${what}: createSource must be a function`);
  if (o.createSink !== undefined && typeof o.createSink !== 'function') throw new ConnectorPluginError(spec, `${what}: createSink must be a function`);
  if (o.createSource === undefined && o.createSink === undefined) throw new ConnectorPluginError(spec, `${what} has neither createSource nor createSink`);
}

/**
 * A path (starting with '.', '/', or a drive) is a file or a package directory; anything else is a package
 * name, looked up in node_modules from `cwd` upwards as Node does. ESM packages are supported through
 * their "exports" ('.' → string, or its "import"/"default" condition), else "main", else index.js.
 */
function resolveModule(spec: string, cwd: string): string {
  const isPath = spec.startsWith('.') || isAbsolute(spec);
  if (isPath) {
    const p = resolve(cwd, spec);
    if (!existsSync(p)) throw new ConnectorPluginError(spec, `no such file or directory: ${p}`);
    return statSync(p).isDirectory() ? packageEntry(spec, p) : p;
  }
  if (!/^(@[a-z0-9._~-]+\/)?[a-z0-9._~-]+$/i.test(spec)) throw new ConnectorPluginError(spec, 'not a package name nor a path (start paths with ./ or /)');
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const p = join(dir, 'node_modules', spec);
    if (existsSync(join(p, 'package.json'))) return packageEntry(spec, p);
    if (dirname(dir) === dir) break;
  }
  throw new ConnectorPluginError(spec, `package not found in node_modules of ${cwd} or above (install it there: npm install ${spec})`);
}

function packageEntry(spec: string, dir: string): string {
  const pj = join(dir, 'package.json');
  if (!existsSync(pj)) {
    const index = join(dir, 'index.js');
    if (existsSync(index)) return index;
    throw new ConnectorPluginError(spec, `${dir} has neither a package.json nor an index.js`);
  }
  let pkg: { exports?: unknown; main?: unknown };
  try {
    pkg = JSON.parse(readFileSync(pj, 'utf8')) as typeof pkg;
  } catch (e) {
    throw new ConnectorPluginError(spec, `${pj} is not valid JSON`, { cause: e });
  }
  const entry = exportTarget(pkg.exports) ?? (typeof pkg.main === 'string' ? pkg.main : 'index.js');
  const file = resolve(dir, entry);
  if (!existsSync(file)) throw new ConnectorPluginError(spec, `its entry point ${file} does not exist`);
  return file;
}

function exportTarget(exp: unknown): string | undefined {
  if (typeof exp === 'string') return exp;
  if (exp === null || typeof exp !== 'object') return undefined;
  const o = exp as Record<string, unknown>;
  if ('.' in o) return exportTarget(o['.']);
  for (const cond of ['import', 'node', 'default']) {
    const t = exportTarget(o[cond]);
    if (t !== undefined) return t;
  }
  return undefined;
}
