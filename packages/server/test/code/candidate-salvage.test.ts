/**
 * The salvage corpus: messy model answers in every language, each with the candidate the client
 * must receive or the reason it is dropped. Cases live in candidate-corpus/*.txt, where a line
 * `%%%% <section> [argument]` starts a section that runs to the next such line:
 *
 *   %%%% case <name>            starts a case
 *   %%%% tag <tag>              the request's fence tag (default: the first original block's)
 *   %%%% crlf                   the answer is sent with CRLF line ends
 *   %%%% original               the request's source_code (client markdown)
 *   %%%% output                 the model's answer
 *   %%%% source                 expected sourceCode, exactly
 *   %%%% explanation            expected explanation, exactly
 *   %%%% drop <reason>          expected drop reason
 *   %%%% detail                 text the drop's detail must contain
 */
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import {
  CandidateDeduper,
  closePythonWorker,
  type DropReason,
  parseClientMarkdown,
  type SalvagedCandidate,
  salvageCandidate,
} from "../../src/code/index.js";

afterAll(async () => {
  await closePythonWorker();
});

interface CorpusCase {
  name: string;
  file: string;
  tag?: string;
  crlf: boolean;
  original: string;
  output: string;
  source?: string;
  explanation?: string;
  drop?: DropReason;
  detail?: string;
}

const CORPUS_DIR = join(import.meta.dirname, "candidate-corpus");
const MARKER = /^%%%% (\w+)(?: (.*))?$/;

function parseCorpus(file: string, text: string): CorpusCase[] {
  const cases: CorpusCase[] = [];
  let current: CorpusCase | undefined;
  let section: keyof CorpusCase | undefined;
  const lines: string[] = [];
  const flush = (): void => {
    if (current !== undefined && section !== undefined) {
      Object.assign(current, { [section]: lines.join("\n").replace(/\n+$/, "") });
    }
    lines.length = 0;
    section = undefined;
  };
  for (const line of text.split("\n")) {
    const marker = MARKER.exec(line);
    if (marker === null) {
      lines.push(line);
      continue;
    }
    flush();
    const [, name = "", argument = ""] = marker;
    if (name === "case") {
      current = { name: argument, file, crlf: false, original: "", output: "" };
      cases.push(current);
    } else if (current === undefined) {
      throw new Error(`${file}: "${line}" before the first case`);
    } else if (name === "tag") {
      current.tag = argument;
    } else if (name === "crlf") {
      current.crlf = true;
    } else if (name === "drop") {
      current.drop = argument as DropReason;
    } else if (["original", "output", "source", "explanation", "detail"].includes(name)) {
      section = name as keyof CorpusCase;
    } else {
      throw new Error(`${file}: unknown section "${line}"`);
    }
  }
  flush();
  return cases;
}

const CORPUS = readdirSync(CORPUS_DIR)
  .filter((name) => name.endsWith(".txt"))
  .sort()
  .flatMap((name) => parseCorpus(name, readFileSync(join(CORPUS_DIR, name), "utf8")));

function contextOf(entry: CorpusCase) {
  const original = parseClientMarkdown(entry.original);
  return { original, tag: entry.tag ?? original[0]?.tag ?? "" };
}

describe("the salvage corpus", () => {
  it("is large, covers every language, and every case states what it expects", () => {
    expect(CORPUS.length).toBeGreaterThanOrEqual(40);
    const tags = new Set(CORPUS.map((entry) => contextOf(entry).tag));
    expect([...tags].sort()).toEqual(["go", "java", "javascript", "python", "typescript"]);
    for (const entry of CORPUS) {
      expect(parseClientMarkdown(entry.original).length, entry.name).toBeGreaterThan(0);
      expect(entry.output, entry.name).not.toBe("");
      const kept = entry.source !== undefined && entry.explanation !== undefined;
      expect(kept !== (entry.drop !== undefined), `${entry.name}: either source+explanation or drop`).toBe(
        true,
      );
    }
    expect(new Set(CORPUS.map((entry) => entry.name)).size).toBe(CORPUS.length);
  });

  it.each(CORPUS.map((entry) => [`${entry.file} · ${entry.name}`, entry] as const))(
    "%s",
    async (_, entry) => {
      const output = entry.crlf ? entry.output.replace(/\n/g, "\r\n") : entry.output;
      const result = await salvageCandidate(output, contextOf(entry));
      if (entry.drop !== undefined) {
        expect(result).toMatchObject({ ok: false, reason: entry.drop });
        if (entry.detail !== undefined && !result.ok) expect(result.detail).toContain(entry.detail);
        return;
      }
      if (!result.ok) throw new Error(`dropped as ${result.reason}: ${result.detail}`);
      expect(result.sourceCode).toBe(entry.source);
      expect(result.explanation).toBe(entry.explanation);
      // What the client reads back is exactly the files reported.
      expect(parseClientMarkdown(result.sourceCode)).toEqual(result.files);
    },
  );
});

const DEDUPE =
  "```python:a.py\ndef f(items):\n    return [x for i, x in enumerate(items) if x in items[:i]]\n```";
const FASTER = "def f(items):\n    seen = set()\n    return [x for x in items if x in seen or seen.add(x)]";

async function salvaged(output: string): Promise<SalvagedCandidate> {
  const result = await salvageCandidate(output, { original: parseClientMarkdown(DEDUPE), tag: "python" });
  if (!result.ok) throw new Error(`${result.reason}: ${result.detail}`);
  return result;
}

describe("CandidateDeduper", () => {
  it("admits a new candidate once, and drops later copies that differ only in formatting", async () => {
    const deduper = new CandidateDeduper(parseClientMarkdown(DEDUPE), "python");
    const first = await salvaged(`\`\`\`python\n${FASTER}\n\`\`\``);
    const reformatted = await salvaged(
      `Same idea:\n\`\`\`py\n# faster\n${FASTER.replace("set()", "set( )")}\n\`\`\``,
    );
    const other = await salvaged(
      "```python\ndef f(items):\n    return [x for x in set(items) if items.count(x) > 1]\n```",
    );
    expect(await deduper.admit(first)).toBeUndefined();
    expect(await deduper.admit(reformatted)).toBe("duplicate");
    expect(await deduper.admit(other)).toBeUndefined();
    expect(await deduper.admit(other)).toBe("duplicate");
  });

  it("drops a candidate equal to the original (one salvaged elsewhere, without that check)", async () => {
    const deduper = new CandidateDeduper(parseClientMarkdown(DEDUPE), "python");
    const candidate = await salvaged(`\`\`\`python\n${FASTER}\n\`\`\``);
    const original = parseClientMarkdown(DEDUPE)[0]?.code ?? "";
    // A fingerprint taken from the original code itself, as a refinement's parent would give.
    const asOriginal = { ...candidate, fingerprint: (await fingerprintOfCode(original)) ?? "" };
    expect(await deduper.admit(asOriginal)).toBe("unchanged");
  });

  it("treats a candidate that repeats an unchanged helper file like one that leaves it out", async () => {
    const bundle =
      "```python:a.py\nfrom b import g\n\ndef f(x):\n    return g(x) + g(x)\n```\n```python:b.py\ndef g(x):\n    return x * 2\n```";
    const context = { original: parseClientMarkdown(bundle), tag: "python" };
    const deduper = new CandidateDeduper(context.original, "python");
    const fast = "from b import g\n\ndef f(x):\n    return 2 * g(x)";
    const one = await salvageCandidate(`\`\`\`python:a.py\n${fast}\n\`\`\``, context);
    const both = await salvageCandidate(
      `\`\`\`python:a.py\n${fast}\n\`\`\`\n\`\`\`python:b.py\ndef g(x):\n    return x * 2\n\`\`\``,
      context,
    );
    if (!one.ok || !both.ok) throw new Error("both must be kept");
    expect(both.files).toHaveLength(2);
    expect(await deduper.admit(one)).toBeUndefined();
    expect(await deduper.admit(both)).toBe("duplicate");
  });
});

/**
 * The fingerprint of a one-file candidate `a.py` holding `code`: salvaged against a request whose
 * original is the faster code, so that `code` counts as a change there.
 */
async function fingerprintOfCode(code: string): Promise<string | undefined> {
  const reverse = await salvageCandidate(`\`\`\`python:a.py\n${code}\n\`\`\``, {
    original: parseClientMarkdown(`\`\`\`python:a.py\n${FASTER}\n\`\`\``),
    tag: "python",
  });
  return reverse.ok ? reverse.fingerprint : undefined;
}
