// The executor contract: how cnlab runs a command or a batched script on one host, local or remote.
// Everything above (facts probe, topology, runner) speaks only this interface.

export interface ExecOptions {
  /** Data written to the command's stdin, then stdin is closed. */
  stdin?: string;
  /** Kill the remote process group and fail with code 'timeout' after this many milliseconds. */
  timeoutMs?: number;
  /** Aborting kills the remote process group and fails with code 'cancelled'. */
  signal?: AbortSignal;
  /** Called with each complete stdout line (without the newline) as it arrives. */
  onStdoutLine?: (line: string) => void;
  /** Called with each complete stderr line (without the newline) as it arrives. */
  onStderrLine?: (line: string) => void;
  /** Run with root privileges: as is when the user is root, else through `sudo -n`. */
  privileged?: boolean;
}

export interface ExecResult {
  /** Exit code; null when the process ended by a signal. */
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  durationMs: number;
}

export type Privilege = { kind: 'root' } | { kind: 'sudo'; user: string } | { kind: 'none'; user: string };

export interface HostExecutor {
  /** The inventory name of the host this executor runs on. */
  readonly hostName: string;
  /** Runs one command line with `sh -c` semantics. Resolves with its exit code; rejects only when it could not run. */
  exec(command: string, options?: ExecOptions): Promise<ExecResult>;
  /** Runs a whole script in one round trip, sent on stdin to `sh -s`. */
  runScript(script: string, options?: Omit<ExecOptions, 'stdin'>): Promise<ExecResult>;
  /** Root, passwordless sudo, or neither; detected once and cached. */
  privilege(): Promise<Privilege>;
  /** Releases the connection (no-op for the local executor). */
  close(): Promise<void>;
}
