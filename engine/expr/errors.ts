/**
 * A value that cannot be processed at run time (a failed CAST, a field the JSON decoder cannot
 * convert). A job never dies of its data: the operator that catches a DataError skips the record,
 * counts it, keeps the message in the job's status and sends the record to the dead-letter topic.
 */
export class DataError extends Error {
  readonly kind = 'data' as const;

  constructor(message: string) {
    super(message);
    this.name = 'DataError';
  }
}

export function isDataError(e: unknown): e is DataError {
  return e instanceof DataError;
}
