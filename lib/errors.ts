/**
 * Errors that scripts report as one line on stderr, and the helper that does so.
 *
 * @module
 */

/** Bad input from the user (a flag, a file, a run directory): exit code 2. */
export class UsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "UsageError";
  }
}

/**
 * Runs a script's `main`, turning any error into one line on stderr (no stack trace) and
 * an exit code: 2 for {@linkcode UsageError}, 1 otherwise.
 */
export async function runMain(main: () => Promise<void>): Promise<void> {
  try {
    await main();
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    // MADDPG_DEBUG=1 shows the stack, for developers.
    // deno-lint-ignore no-console
    if (Deno.env.get("MADDPG_DEBUG")) console.error(error);
    // deno-lint-ignore no-console -- the one place that reports errors to the user
    console.error(`error: ${message.split("\n")[0]}`);
    Deno.exit(error instanceof UsageError ? 2 : 1);
  }
}
