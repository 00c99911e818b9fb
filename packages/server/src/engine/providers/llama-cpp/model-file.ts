/**
 * Checks a GGUF file before llama.cpp sees it. llama.cpp rejects bad files without crashing, but
 * only says "Failed to load model"; reading the header here (node-llama-cpp's JS parser) turns
 * missing, corrupt and truncated files into errors that say which one it is.
 */
import { stat } from "node:fs/promises";
import { type GgufFileInfo, GgufInsights, type Llama, readGgufFileInfo } from "node-llama-cpp";
import { errorMessage } from "../../../errors.js";
import { modelFileError } from "./load-errors.js";

export interface ModelFileFacts {
  info: GgufFileInfo;
  fileBytes: number;
  /** Bytes of tensor data the header describes. */
  tensorBytes: number;
  trainContextSize: number | undefined;
}

export async function inspectModelFile(path: string, llama: Llama): Promise<ModelFileFacts> {
  let fileBytes: number;
  try {
    const stats = await stat(path);
    if (!stats.isFile()) throw modelFileError("corrupt", path, `model path '${path}' is not a file`);
    fileBytes = stats.size;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
      throw modelFileError("missing", path, `model file '${path}' does not exist`, err);
    }
    throw err;
  }

  let info: GgufFileInfo;
  try {
    // Split models (`-00001-of-0000N`) are checked part by part by llama.cpp; here only the first.
    info = await readGgufFileInfo(path, {
      sourceType: "filesystem",
      logWarnings: false,
      spliceSplitFiles: false,
    });
  } catch (err) {
    // InvalidGgufMagicError is not exported by node-llama-cpp, and its `name` is plain "Error".
    const notGguf = /invalid gguf magic/i.test(errorMessage(err));
    const what = notGguf ? "is not a GGUF file" : "has an unreadable GGUF header";
    throw modelFileError("corrupt", path, `model file '${path}' ${what}: ${errorMessage(err)}`, err);
  }
  if (info.version !== 2 && info.version !== 3) {
    throw modelFileError(
      "corrupt",
      path,
      `model file '${path}' has unsupported GGUF version ${info.version}`,
    );
  }

  const insights = await GgufInsights.from(info, llama);
  // The parser reads past the end of a short file as zeros, so compare with what the header says.
  const expected = (info.infoEndOffset ?? 0) + insights.modelSize;
  if (fileBytes < expected) {
    throw modelFileError(
      "truncated",
      path,
      `model file '${path}' is truncated: ${fileBytes} bytes on disk, its header describes at least ${expected} (incomplete download?)`,
    );
  }
  return { info, fileBytes, tensorBytes: insights.modelSize, trainContextSize: insights.trainContextSize };
}

/**
 * Classifies an error of `llama.loadModel`: what llama.cpp logged meanwhile tells a truncated
 * file ("not within the file bounds") from other corruption (wrong shapes, missing tensors).
 */
export function classifyLoadFailure(path: string, err: unknown, llamaErrors: string[]) {
  const detail = llamaErrors.find((line) => line.includes("error loading model")) ?? llamaErrors.at(-1);
  const reason = detail === undefined ? errorMessage(err) : detail.replace(/^.*error loading model:\s*/, "");
  const truncated = /not within the file bounds|incomplete|unexpected end/i.test(reason);
  return modelFileError(
    truncated ? "truncated" : "corrupt",
    path,
    `llama.cpp cannot load model file '${path}': ${reason}`,
    err,
  );
}
