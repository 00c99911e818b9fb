import type { ModelView } from "../engine/model-registry.js";

/** OpenAI's model object; `owned_by` says which provider serves it. */
export function modelObject(view: ModelView, created: number) {
  return { id: view.entry.id, object: "model" as const, created, owned_by: view.entry.provider };
}

export function modelList(views: readonly ModelView[], created: number) {
  return { object: "list" as const, data: views.map((view) => modelObject(view, created)) };
}
