export { AnthropicModel } from "./model.js";
export { AnthropicProvider, type AnthropicProviderOptions, type AnthropicTimeouts } from "./provider.js";
