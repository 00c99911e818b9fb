export { LlamaCppModel } from "./llama-cpp-model.js";
export { LlamaCppProvider, type LlamaCppProviderOptions } from "./llama-cpp-provider.js";
export { defaultThreads } from "./llama-runtime.js";
export type { ModelFileProblem } from "./load-errors.js";
