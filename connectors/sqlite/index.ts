import type { Connector, Sink, SinkSpec } from '../types.ts';
import { OptionError } from '../types.ts';
import { ViewSink } from './sink.ts';
import { ViewStore } from './view-store.ts';

export { ViewStore, META_TABLE, isReservedViewName } from './view-store.ts';
export type { ViewChange, ViewColumn, ViewDef, ViewMeta, ChangeListener, ChangeOp, StoredChange } from './view-store.ts';
export { sqliteType } from './values.ts';
export { QueryPool, QueryRefused } from './query-pool.ts';
export { sqliteErrorOffset } from './error-position.ts';
export { DEFAULT_SLICE_MS, inTransaction, runSliced, runToEnd } from './slices.ts';
export type { Steps } from './slices.ts';
export type { QueryAnswer } from './query-pool.ts';

/**
 * The sink of materialized views: a table in the view store. Not for CREATE TABLE: the platform creates
 * these sinks for CREATE MATERIALIZED VIEW, with the store's path and the view's name as options.
 */
export const sqliteViewConnector: Connector = {
  name: 'sqlite-view',
  appendOnlySink: false,
  validate(options, role) {
    if (role !== 'sink') throw new OptionError('connector', "The 'sqlite-view' connector is the sink of materialized views; use CREATE MATERIALIZED VIEW name AS SELECT ...");
    if (!options['path']) throw new OptionError('path', "'path' (the view store file) is required");
  },
  async createSink(spec: SinkSpec): Promise<Sink> {
    const store = ViewStore.open(spec.options['path']!);
    if (!store.meta(spec.table)) {
      store.close();
      throw new Error(`materialized view '${spec.table}' has no table in the view store`);
    }
    return new ViewSink(store, spec.table, spec.jobId, spec.columns);
  },
};
