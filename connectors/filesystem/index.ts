import type { Connector } from '../types.ts';
import { OptionError } from '../types.ts';
import { parseFileSystemOptions } from './options.ts';
import { FileSystemSink } from './sink.ts';

/** Flink's `filesystem` connector, sink side, format parquet (docs/lake.md). */
export const filesystemConnector: Connector = {
  name: 'filesystem',
  appendOnlySink: true,
  validate(options, role, columns, partitionedBy) {
    if (role === 'source') throw new OptionError('connector', 'The filesystem connector is a sink only (reading a lake table is not supported yet)');
    parseFileSystemOptions(options, columns, partitionedBy ?? []);
  },
  createSink: (spec) => FileSystemSink.open(spec),
};
