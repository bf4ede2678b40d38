import { OptionError } from '../types.ts';
import type { Connector } from '../types.ts';
import { parseHttpOptions } from './options.ts';
import { HttpSource } from './source.ts';

export { HttpSource, keyHash } from './source.ts';
export { parseHttpOptions, parseDuration, parseHeaders, parseJsonPath } from './options.ts';
export type { HttpOptions } from './options.ts';

/** Polls a JSON API: `'connector' = 'http', 'url' = ..., 'interval' = '5 s', 'json.path' = '$.data.items', 'key' = 'id'`. */
export const httpConnector: Connector = {
  name: 'http',
  appendOnlySink: true,
  validate(options, role) {
    if (role === 'sink') throw new OptionError('connector', "The 'http' connector is a source only");
    parseHttpOptions(options);
  },
  createSource: async (spec) => new HttpSource(spec),
};
