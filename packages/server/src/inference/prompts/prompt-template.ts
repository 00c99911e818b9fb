/**
 * Prompts are data (DESIGN.md): each template is its own versioned module with a system and a
 * user part and `{{name}}` placeholders, so prompt changes are reviewable and A/B-testable.
 */
export interface PromptTemplate {
  id: string;
  version: number;
  system: string;
  user: string;
}

export interface RenderedPrompt {
  templateId: string;
  templateVersion: number;
  system: string;
  user: string;
}

function fill(text: string, values: Record<string, string>, id: string): string {
  return text.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`prompt ${id}: no value for {{${name}}}`);
    return value;
  });
}

export function renderPrompt(template: PromptTemplate, values: Record<string, string>): RenderedPrompt {
  return {
    templateId: template.id,
    templateVersion: template.version,
    system: fill(template.system, values, template.id),
    user: fill(template.user, values, template.id),
  };
}
