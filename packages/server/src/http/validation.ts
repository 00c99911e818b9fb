import type { Hook } from "@hono/zod-openapi";
import type { z } from "zod";
import { invalidRequest } from "../errors.js";
import { zodIssues } from "../zod-issues.js";
import type { AppEnv } from "./context.js";

/**
 * The `defaultHook` of every OpenAPIHono router: a validation failure becomes our
 * INVALID_REQUEST envelope with one `{path, message}` per problem.
 */
export const validationHook: Hook<unknown, AppEnv, string, undefined> = (result) => {
  if (!result.success) {
    const issues = zodIssues(result.error as z.ZodError, result.target);
    const summary = issues.map((i) => `${i.path}: ${i.message}`).join("; ");
    throw invalidRequest(`invalid request: ${summary}`, issues);
  }
};
