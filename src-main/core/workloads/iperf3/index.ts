// Public API of the iperf3 output parsers: -J, --json-stream and --forceflush text, all pure (no I/O),
// all giving the types of ./types so the runner and the live view handle one shape.

export { parseIperf3Json, measuredIntervals, iperf3Failure } from './json-parser';
export { Iperf3StreamParser, parseIperf3JsonStream } from './json-stream-parser';
export {
  Iperf3TextParser,
  parseIperf3Text,
  bytesFromText,
  bitsPerSecondFromText,
  type Iperf3TextParserOptions,
  type Iperf3TextSummaryLine,
} from './text-parser';
export { extractFirstJsonObject, replaceNonFiniteTokens } from './json-text';
export * from './types';
