import { ApiError, ConfigError, zodIssues } from "@aiservice/server";
import { ZodError } from "zod";

/**
 * Expected failures (bad config, bad input, unreachable database) print one clear message and
 * exit 1; only real bugs print a stack.
 */
export async function runAction(action: () => Promise<unknown>): Promise<void> {
  try {
    await action();
  } catch (err) {
    process.exitCode = 1;
    if (err instanceof ConfigError) {
      console.error(`aiservice: ${err.message}`);
    } else if (err instanceof ZodError) {
      const lines = zodIssues(err).map((i) => `  - ${i.path}: ${i.message}`);
      console.error(`aiservice: invalid input:\n${lines.join("\n")}`);
    } else if (err instanceof ApiError) {
      console.error(`aiservice: ${err.message}`);
    } else if (err instanceof Error && /^(cannot|could not|failed to)/i.test(err.message)) {
      console.error(`aiservice: ${err.message}`);
    } else {
      console.error(err);
    }
  }
}
