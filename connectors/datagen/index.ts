import { OptionError } from '../types.ts';
import type { Connector } from '../types.ts';
import { parseDatagenOptions } from './options.ts';
import { DatagenSource } from './source.ts';

export { DatagenSource, rowsOfPartition } from './source.ts';
export { parseDatagenOptions } from './options.ts';
export type { DatagenOptions, DatagenKind } from './options.ts';

function datagen(name: string): Connector {
  return {
    name,
    appendOnlySink: true,
    validate(options, role) {
      if (role === 'sink') throw new OptionError('connector', `The '${name}' connector is a source only; write to a kafka, filesystem or view table`);
      parseDatagenOptions(options);
    },
    createSource: async (spec) => new DatagenSource(spec),
  };
}

/** Generated events with no producer: `'connector' = 'datagen', 'kind' = 'weibo'`. */
export const datagenConnector: Connector = datagen('datagen');
/** The same with the kind in its name: `'connector' = 'weibo'`. */
export const weiboConnector: Connector = datagen('weibo');
