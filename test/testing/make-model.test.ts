import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { getLlama, LlamaChatSession, readGgufFileInfo } from "node-llama-cpp";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isSyntheticGguf } from "../../src/llm/synthetic.js";
import { str, u32 } from "../../src/testing/gguf/format.js";
import { makeModel } from "../../src/testing/gguf/model.js";
import { writeGguf } from "../../src/testing/gguf/writer.js";
import { TEST_THREADS, tinyModel } from "../helpers/model.js";

let model: ReturnType<typeof tinyModel>;
beforeAll(() => {
  model = tinyModel();
});
afterAll(() => model.cleanup());

const sha = (path: string) => createHash("sha256").update(readFileSync(path)).digest("hex");

describe("testing make-model (synthetic GGUF)", () => {
  it("writes a GGUF v3 file with the llama metadata and every tensor llama.cpp needs", async () => {
    const head = readFileSync(model.path).subarray(0, 8);
    expect(head.subarray(0, 4).toString("ascii")).toBe("GGUF");
    expect(head.readUInt32LE(4)).toBe(3);

    const info = await readGgufFileInfo(model.path, { readTensorInfo: true });
    expect(info.version).toBe(3);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.general?.architecture).toBe("llama");
    expect(md.llama?.block_count).toBe(2);
    expect((md.tokenizer?.ggml as Record<string, unknown> | undefined)?.model).toBe("llama");
    expect(md.tokenizer?.chat_template).toContain("<|im_start|>");
    const names = new Set(info.tensorInfo?.map((t) => t.name));
    for (const n of ["token_embd.weight", "output_norm.weight", "output.weight"]) expect(names).toContain(n);
    for (const part of [
      "attn_norm",
      "attn_q",
      "attn_k",
      "attn_v",
      "attn_output",
      "ffn_norm",
      "ffn_gate",
      "ffn_up",
      "ffn_down",
    ]) {
      expect(names).toContain(`blk.0.${part}.weight`);
      expect(names).toContain(`blk.1.${part}.weight`);
    }
  });

  it("marks itself synthetic in its GGUF metadata; another model's file is not read as synthetic", async () => {
    const info = await readGgufFileInfo(model.path);
    const md = info.metadata as unknown as Record<string, Record<string, unknown>>;
    expect(md.policy_advisor?.synthetic).toBe(true);
    expect(isSyntheticGguf(info.metadata)).toBe(true);
    // A file named like ours but written as another model: the metadata decides, never the name.
    const other = join(model.dir, "policy-advisor-synthetic-tiny.gguf");
    writeGguf(other, {
      metadata: [
        ["general.architecture", str("llama")],
        ["general.name", str("Phi 4 Mini Instruct")],
        ["general.alignment", u32(32)],
      ],
      tensors: [],
    });
    expect(isSyntheticGguf((await readGgufFileInfo(other)).metadata)).toBe(false);
  });

  it("is deterministic for a seed and differs for another seed", () => {
    const again = join(model.dir, "again.gguf");
    const other = join(model.dir, "other.gguf");
    makeModel({ out: again, preset: "tiny" });
    makeModel({ out: other, preset: "tiny", seed: 99 });
    expect(sha(again)).toBe(sha(model.path));
    expect(sha(other)).not.toBe(sha(model.path));
  });

  it("loads in node-llama-cpp, tokenizes any text losslessly and chats through its template", async () => {
    const llama = await getLlama({ gpu: false, build: "never" });
    const m = await llama.loadModel({ modelPath: model.path });
    try {
      const text = 'The actor deploys to production: {"trust": 0.62}\n\tünïcødé ✓ 日本';
      const tokens = m.tokenize(text);
      expect(m.detokenize(tokens)).toBe(text);
      // Word pieces make English cost several characters per token, as with a trained tokenizer.
      const english =
        "The developer may deploy to staging when the trust meets the threshold for the action.";
      expect(english.length / m.tokenize(english).length).toBeGreaterThan(3);
      expect(m.tokenize("<|im_start|>", true)).toHaveLength(1);

      const context = await m.createContext({ contextSize: 512, threads: TEST_THREADS });
      const session = new LlamaChatSession({ contextSequence: context.getSequence() });
      expect(session.chatWrapper.wrapperName).toBe("ChatML");
      const started = performance.now();
      let generated = 0;
      await session.prompt("Say something.", { maxTokens: 24, onToken: (t) => (generated += t.length) });
      expect(generated).toBeGreaterThan(0);
      expect(performance.now() - started).toBeLessThan(5000);
      await context.dispose();
    } finally {
      await m.dispose();
    }
  });
});
