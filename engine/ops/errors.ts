import { DataError } from '../expr/index.ts';

/** A row-level failure caused by the data (a failed CAST, ...): the row is skipped and counted, the job goes on. */
export function isDataError(e: unknown): boolean {
  return e instanceof DataError;
}
