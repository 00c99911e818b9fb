/** Scopes of spec/ai-api.md "Auth". `admin` implies every other scope. */
export const SCOPES = ["inference", "models:manage", "batch", "webhooks", "monitoring", "admin"] as const;
export type Scope = (typeof SCOPES)[number];

export function isScope(value: string): value is Scope {
  return (SCOPES as readonly string[]).includes(value);
}

/** Who is calling: the result of authentication, attached to every request. */
export interface Principal {
  /** Stable id used for rate limits, ownership and logs; never a secret. */
  id: string;
  kind: "api_key" | "jwt" | "anonymous";
  scopes: ReadonlySet<Scope>;
  /** Human-readable name (key name or JWT subject). */
  name: string;
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.has("admin") || principal.scopes.has(scope);
}
