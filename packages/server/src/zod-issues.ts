import type { z } from "zod";
import type { ValidationIssue } from "./errors.js";

/** `scopes[0].name`-style path; body fields bare, other locations prefixed (`query.limit`). */
export function formatIssuePath(path: readonly PropertyKey[], location?: string): string {
  let out = location === undefined || location === "json" ? "" : location === "param" ? "path" : location;
  for (const segment of path) {
    if (typeof segment === "number") out += `[${segment}]`;
    else out += out === "" ? String(segment) : `.${String(segment)}`;
  }
  return out === "" ? "(root)" : out;
}

export function zodIssues(error: z.ZodError, location?: string): ValidationIssue[] {
  return error.issues.flatMap((issue) =>
    // One issue per unknown key, at the key's own path, so a typo is pointed at directly.
    issue.code === "unrecognized_keys"
      ? issue.keys.map((key) => ({
          path: formatIssuePath([...issue.path, key], location),
          message: "unknown field",
        }))
      : [{ path: formatIssuePath(issue.path, location), message: issue.message }],
  );
}
