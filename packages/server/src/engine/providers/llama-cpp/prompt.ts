/**
 * The neutral request input → prompt tokens plus what ends the answer. Chat uses the template
 * from the GGUF metadata (rendered by node-llama-cpp's chat wrappers), FIM the model's own
 * prefix/suffix/middle tokens, completion the raw prompt.
 */
import type { ChatHistoryItem, ChatWrapper, LlamaModel, LlamaText, Token } from "node-llama-cpp";
import { resolveChatWrapper } from "node-llama-cpp";
import { invalidRequest } from "../../../errors.js";
import type { ChatMessage, GenerationInput } from "../provider.js";
import { errorMessage } from "../../../errors.js";

export interface Prompt {
  tokens: Token[];
  /** Strings that end the answer (not part of it). */
  stopStrings: string[];
  /** Tokens that end the answer besides the model's end-of-generation tokens. */
  stopTokens: Set<Token>;
}

/** The template-driven chat wrapper, or undefined for a model without `tokenizer.chat_template`. */
export function chatWrapperFor(model: LlamaModel): ChatWrapper | undefined {
  const template = model.fileInfo.metadata.tokenizer?.chat_template;
  // Without a template node-llama-cpp guesses a wrapper from the file name; a plain
  // "role: content" transcript is the more predictable fallback for an unknown model.
  if (typeof template !== "string" || template.trim() === "") return undefined;
  return resolveChatWrapper(model, { warningLogs: false });
}

function withBos(model: LlamaModel, tokens: Token[]): Token[] {
  const bos = model.tokens.bos;
  return model.tokens.shouldPrependBosToken && bos !== null ? [bos, ...tokens] : tokens;
}

function chatPrompt(model: LlamaModel, wrapper: ChatWrapper | undefined, messages: ChatMessage[]): Prompt {
  if (wrapper === undefined) {
    const transcript = messages.map((m) => `${m.role}: ${m.content}`).join("\n");
    const last = messages.at(-1);
    // A trailing assistant message is a prefix the model continues.
    const text = last?.role === "assistant" ? transcript : `${transcript}\nassistant:`;
    return {
      tokens: withBos(model, model.tokenize(text, false)),
      stopStrings: ["\nuser:", "\nsystem:"],
      stopTokens: new Set(),
    };
  }
  const history: ChatHistoryItem[] = messages.map((m): ChatHistoryItem => {
    if (m.role === "system") return { type: "system", text: m.content };
    if (m.role === "user") return { type: "user", text: m.content };
    return { type: "model", response: [m.content] };
  });
  // The wrapper renders a final model turn as the open turn the answer goes into.
  if (messages.at(-1)?.role !== "assistant") history.push({ type: "model", response: [] });
  let state: ReturnType<ChatWrapper["generateContextState"]>;
  try {
    state = wrapper.generateContextState({ chatHistory: history });
  } catch (err) {
    // Jinja templates may refuse a conversation (e.g. "roles must alternate", no system role).
    throw invalidRequest(`the model's chat template rejected the messages: ${errorMessage(err)}`);
  }
  const prompt: Prompt = {
    tokens: state.contextText.tokenize(model.tokenizer),
    stopStrings: [],
    stopTokens: new Set(),
  };
  for (const trigger of state.stopGenerationTriggers) addTrigger(model, trigger, prompt);
  return prompt;
}

/**
 * Chat wrappers express end-of-turn as LlamaText: plain text becomes a stop string, a special
 * token a stop token. Multi-token special sequences are left out: templates end turns with one
 * token, which llama.cpp usually also marks as end-of-generation.
 */
function addTrigger(model: LlamaModel, trigger: LlamaText, prompt: Prompt): void {
  if (trigger.values.every((value) => typeof value === "string")) {
    prompt.stopStrings.push(trigger.values.join(""));
    return;
  }
  const tokens = trigger.tokenize(model.tokenizer);
  if (tokens.length === 1 && tokens[0] !== undefined) prompt.stopTokens.add(tokens[0]);
}

/** Fits prefix and suffix into `budget` tokens: the code nearest the cursor matters most. */
function fitInfill(prefix: Token[], suffix: Token[], budget: number): [Token[], Token[]] {
  if (prefix.length + suffix.length <= budget) return [prefix, suffix];
  const suffixShare = Math.min(suffix.length, Math.floor(budget / 4));
  const prefixShare = Math.min(prefix.length, budget - suffixShare);
  const suffixKeep = Math.min(suffix.length, budget - prefixShare);
  return [prefix.slice(prefix.length - prefixShare), suffix.slice(0, suffixKeep)];
}

function infillPrompt(model: LlamaModel, prefix: string, suffix: string, budget: number): Prompt {
  const { prefix: pre, suffix: suf, middle: mid } = model.tokens.infill;
  if (pre === null || suf === null || mid === null) {
    throw invalidRequest("this model has no fill-in-the-middle tokens; use a chat or completion request");
  }
  // "trimLeadingSpace": the text continues right after a special token, no word boundary implied.
  const [prefixTokens, suffixTokens] = fitInfill(
    model.tokenize(prefix, false, "trimLeadingSpace"),
    model.tokenize(suffix, false, "trimLeadingSpace"),
    budget - 4,
  );
  return {
    tokens: withBos(model, [pre, ...prefixTokens, suf, ...suffixTokens, mid]),
    stopStrings: [],
    stopTokens: new Set(),
  };
}

/**
 * Builds the prompt; `budget` is the context left for the prompt (FIM input is trimmed into it,
 * other inputs that do not fit are the caller's error).
 */
export function buildPrompt(
  model: LlamaModel,
  wrapper: ChatWrapper | undefined,
  input: GenerationInput,
  budget: number,
): Prompt {
  switch (input.kind) {
    case "chat":
      if (input.messages.length === 0) throw invalidRequest("a chat request needs at least one message");
      return chatPrompt(model, wrapper, input.messages);
    case "fim":
      return infillPrompt(model, input.prefix, input.suffix, budget);
    case "completion":
      return {
        tokens: withBos(model, model.tokenize(input.prompt, false)),
        stopStrings: [],
        stopTokens: new Set(),
      };
  }
}
