/** A problem of the command line itself (bad flag, missing file): printed as one line, exit 2. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 2,
  ) {
    super(message);
  }
}
