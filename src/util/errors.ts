// The few errors the tool expects, each with the exit code the README documents. Anything else
// that escapes is a bug (exit 70).

export const ExitCode = {
  ok: 0,
  failed: 1,
  usage: 2,
  refused: 3,
  internal: 70,
  interrupted: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

export class AutodevError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A bad configuration file, environment variable or value: exit 2. */
export class ConfigError extends AutodevError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
  }
}

/** Bad flags or arguments: exit 2. */
export class UsageError extends AutodevError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.usage, hint);
  }
}

/** The tool is switched off, the repository is not allowed, or policy said no: exit 3. */
export class RefusedError extends AutodevError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.refused, hint);
  }
}

/** A service or program outside the tool failed in a way the task cannot go on from: exit 1. */
export class ExternalError extends AutodevError {
  constructor(message: string, hint?: string) {
    super(message, ExitCode.failed, hint);
  }
}
