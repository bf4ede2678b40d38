/**
 * The reply serializer for routes without a response schema: plain JSON.stringify, except that a bigint
 * (BIGINT/DECIMAL values from the engine) becomes a number when it is exactly representable and a string
 * beyond 2^53 (DESIGN.md §2), instead of making JSON.stringify throw.
 */
export function toJson(payload: unknown): string {
  return JSON.stringify(payload, bigintReplacer);
}

function bigintReplacer(_key: string, value: unknown): unknown {
  if (typeof value !== 'bigint') return value;
  return value >= BigInt(Number.MIN_SAFE_INTEGER) && value <= BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(value)
    : value.toString();
}
