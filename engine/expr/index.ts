/**
 * Compiled expressions: binding (names and types, Flink rules), compilation to JavaScript functions,
 * the scalar function registry, and the value helpers used by decoders, sinks and the REST API.
 */
export type { BoundExpr, CompiledExpr, Scope, ScopeColumn } from './bound.ts';
export { bindExpr, bindLiteral } from './bind.ts';
export { compileExpr, compilePredicate, compileProjection, generatedSource } from './compile.ts';
export type { CompileContext } from './compile.ts';
export { DataError, isDataError } from './errors.ts';
export {
  AGGREGATE_FUNCTIONS,
  functionNames,
  functionSignatures,
  isAggregateFunction,
  lookupFunction,
  operatorNames,
} from './functions.ts';
export { canCast, castProblem } from './cast.ts';
export { commonType, commonTypeAll } from './typing.ts';
export {
  coerce,
  formatDate,
  formatDouble,
  formatInterval,
  formatTimestamp,
  formatValue,
  makeCoercer,
  parseDate,
  parseTimestamp,
  parseTimestampLtz,
  roundHalfUp,
  valueToString,
} from './values.ts';
export type { Coercer, FormatOptions } from './values.ts';
export { getZone, isValidZone } from './tz.ts';
export type { Zone } from './tz.ts';
