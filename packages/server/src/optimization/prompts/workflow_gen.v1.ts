/** `/ai/workflow-gen` (`codeflash init-actions`): the `steps:` of a GitHub Actions job (YAML answer). */
import { paragraphs, section, templatesFor } from "./template-kit.js";

// workflow-gen carries no language: the project's files decide, so the four variants share one text.
export const WORKFLOW_GEN_PROMPTS_V1 = templatesFor("workflow_gen", 1, () => ({
  system: paragraphs(
    "You are a DevOps engineer who writes GitHub Actions workflows. You write the steps of a job that sets up a project and runs the codeflash optimizer on it; the steps are inserted into an existing workflow file by a program.",
  ),
  user: paragraphs(
    "Write the steps of a GitHub Actions job that installs this project and runs `codeflash`.",
    section("Project files (path and content excerpt):", "repo_files", "repo_files"),
    section("Directory structure:", "directory_structure", "directory_structure"),
    section("codeflash configuration (empty when not found):", "codeflash_config", "codeflash_config"),
    [
      "Requirements:",
      "- Check out the repository with actions/checkout@v4 and `fetch-depth: 0`.",
      "- Set up the project's toolchain in the version its files ask for: Python with actions/setup-python@v5 (or astral-sh/setup-uv when the project uses uv), Node.js with actions/setup-node@v4 for JavaScript / TypeScript projects.",
      "- Install the project's dependencies the way the project does it, based on the files you see: uv sync, poetry install, pip install -r requirements.txt or pip install -e ., npm ci, yarn install --frozen-lockfile or pnpm install --frozen-lockfile.",
      "- Install the codeflash CLI into the same environment as the project's dependencies, since it imports the project and runs its tests: `pip install codeflash`, `uv pip install codeflash` for uv projects, `poetry run pip install codeflash` for Poetry projects. It is a Python package, so JavaScript / TypeScript projects need Python set up for it too.",
      "- Run `codeflash` (through `uv run` or `poetry run` when the dependencies live in that environment) in a step whose env sets `CODEFLASH_API_KEY: ${{ secrets.CODEFLASH_API_KEY }}`.",
      "- Use only steps that the files justify; no placeholders, no secrets other than CODEFLASH_API_KEY, no caching tricks that could fail.",
    ].join("\n"),
    "Answer ONLY with the YAML list that goes under `steps:` (items starting with `- name:`), inside one ```yaml fenced block, with no prose before or after it.",
  ),
}));
