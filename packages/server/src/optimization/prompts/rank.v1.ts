/** `/ai/rank`: order passing candidates, best first (JSON answer). */
import { jsonOnly, paragraphs, section, templatesFor } from "./template-kit.js";

// rank has no language variable and the client sends no language: the four variants share one text.
export const RANK_PROMPTS_V1 = templatesFor("rank", 1, () => ({
  system: paragraphs(
    "You are a senior software engineer choosing which of several optimized versions of a function should be merged. All of them passed the same behaviour tests; they differ in speed, size and risk.",
  ),
  user: paragraphs(
    "There are {{count}} candidate optimizations, numbered from 0. Each shows its measured speed-up (original runtime divided by candidate runtime, so 1.0 means no gain) and its unified diff against the original code. In each diff the header lines `--- original`, `+++ modified` and the first `@@` line run together on the first line.",
    section("Candidates:", "candidates", "candidates"),
    section(
      "Callers of the function, which show its typical inputs (empty when none are known):",
      "callers",
      "function_references",
    ),
    [
      "Rank all candidates, best first:",
      "- The speed-up matters most: a clearly larger speed-up wins.",
      "- When speed-ups are close (within about 10% of each other), prefer the smaller, simpler, more readable diff.",
      "- Penalize risk: changes that could alter behaviour on inputs the tests may not cover (edge cases, ordering, floating point, mutation of arguments, exceptions), unbounded caches or global state, new dependencies, platform-specific tricks, and large rewrites for small gains.",
      "- Use the callers to judge which inputs are typical.",
    ].join("\n"),
    jsonOnly(
      '{"ranking": [<candidate indices, best first>]}\nList every index from 0 to {{count}} minus 1 exactly once.',
    ),
  ),
}));
