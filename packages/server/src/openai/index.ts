export { OPENAI_PATHS, registerOpenAIRoutes } from "./routes.js";
