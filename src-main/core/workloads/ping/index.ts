// Public surface of the ping workload parser; the runner imports only from here.
// Pure: the runner captures ping's output, this turns it into a typed result.

export { parsePing } from './parser';
export * from './types';
