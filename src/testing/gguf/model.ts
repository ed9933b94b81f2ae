import { SYNTHETIC_GGUF_KEY } from "../../llm/synthetic.js";
import { bool, f32, GgmlType, type GgufValue, str, type TensorSpec, u32 } from "./format.js";
import { type ModelShape, PRESETS, type PresetName, parameterCount } from "./presets.js";
import { SeededRandom } from "./random.js";
import { byteLevelVocabulary, CHATML_TEMPLATE } from "./vocab.js";
import { writeGguf } from "./writer.js";

export interface MakeModelOptions {
  out: string;
  preset?: PresetName;
  seed?: number;
}

export interface MakeModelResult {
  path: string;
  preset: PresetName;
  bytes: number;
  parameters: number;
  vocabSize: number;
  shape: ModelShape;
}

/**
 * Builds the metadata and tensors of a llama-architecture model with random weights and writes it as GGUF.
 * No downloaded weights: everything is generated here from the seed.
 */
export function makeModel(opts: MakeModelOptions): MakeModelResult {
  const preset = opts.preset ?? "tiny";
  const shape: ModelShape = PRESETS[preset];
  const seed = opts.seed ?? 1234;
  if (shape.embd % shape.heads !== 0) throw new Error(`preset ${preset}: embd must be divisible by heads`);
  const vocab = byteLevelVocabulary({ words: shape.words });
  const nVocab = vocab.tokens.length;
  const headDim = shape.embd / shape.heads;
  const kvDim = headDim * shape.kvHeads;
  const matrixType = { f32: GgmlType.F32, f16: GgmlType.F16, q8_0: GgmlType.Q8_0 }[shape.weights];
  // llama_ftype: 0 all F32, 1 mostly F16, 7 mostly Q8_0.
  const fileType = { f32: 0, f16: 1, q8_0: 7 }[shape.weights];

  const metadata: Array<readonly [string, GgufValue]> = [
    ["general.architecture", str("llama")],
    ["general.name", str(`policy-advisor synthetic ${preset}`)],
    [
      "general.description",
      str(`Random weights (seed ${seed}) for tests and benchmarks; answers are noise.`),
    ],
    // Read back by the llama backend: a decision made with this model says it is synthetic.
    [SYNTHETIC_GGUF_KEY, bool(true)],
    ["general.file_type", u32(fileType)],
    ["general.alignment", u32(32)],
    ["llama.context_length", u32(shape.contextLength)],
    ["llama.embedding_length", u32(shape.embd)],
    ["llama.block_count", u32(shape.layers)],
    ["llama.feed_forward_length", u32(shape.ff)],
    ["llama.attention.head_count", u32(shape.heads)],
    ["llama.attention.head_count_kv", u32(shape.kvHeads)],
    ["llama.rope.dimension_count", u32(headDim)],
    ["llama.rope.freq_base", f32(10000)],
    ["llama.attention.layer_norm_rms_epsilon", f32(1e-5)],
    ["llama.vocab_size", u32(nVocab)],
    ["tokenizer.ggml.model", str("llama")],
    ["tokenizer.ggml.tokens", { type: "string[]", value: vocab.tokens }],
    ["tokenizer.ggml.scores", { type: "f32[]", value: vocab.scores }],
    ["tokenizer.ggml.token_type", { type: "i32[]", value: vocab.types }],
    ["tokenizer.ggml.unknown_token_id", u32(vocab.unkId)],
    ["tokenizer.ggml.bos_token_id", u32(vocab.bosId)],
    ["tokenizer.ggml.eos_token_id", u32(vocab.imEndId)],
    ["tokenizer.ggml.add_bos_token", bool(true)],
    ["tokenizer.ggml.add_eos_token", bool(false)],
    ["tokenizer.ggml.add_space_prefix", bool(false)],
    ["tokenizer.chat_template", str(CHATML_TEMPLATE)],
  ];

  // One generator shared in a fixed tensor order keeps the file deterministic for a seed.
  const rng = new SeededRandom(seed);
  const std = 0.02;
  const dense = (name: string, dims: number[], scale = std): TensorSpec => ({
    name,
    dims,
    type: matrixType,
    fill: (out) => rng.fillNormal(out, scale),
  });
  const ones = (name: string): TensorSpec => ({
    name,
    dims: [shape.embd],
    type: GgmlType.F32,
    fill: (out) => out.fill(1),
  });

  // Larger logits than the 0.02 init would give make sampling less uniform, closer to a trained model's.
  const tensors: TensorSpec[] = [dense("token_embd.weight", [shape.embd, nVocab], 1)];
  for (let i = 0; i < shape.layers; i++) {
    const p = `blk.${i}`;
    tensors.push(
      ones(`${p}.attn_norm.weight`),
      dense(`${p}.attn_q.weight`, [shape.embd, shape.embd]),
      dense(`${p}.attn_k.weight`, [shape.embd, kvDim]),
      dense(`${p}.attn_v.weight`, [shape.embd, kvDim]),
      dense(`${p}.attn_output.weight`, [shape.embd, shape.embd]),
      ones(`${p}.ffn_norm.weight`),
      dense(`${p}.ffn_gate.weight`, [shape.embd, shape.ff]),
      dense(`${p}.ffn_up.weight`, [shape.embd, shape.ff]),
      dense(`${p}.ffn_down.weight`, [shape.ff, shape.embd]),
    );
  }
  tensors.push(ones("output_norm.weight"), dense("output.weight", [shape.embd, nVocab], 0.1));

  const bytes = writeGguf(opts.out, { metadata, tensors });
  return {
    path: opts.out,
    preset,
    bytes,
    parameters: parameterCount(shape, nVocab),
    vocabSize: nVocab,
    shape,
  };
}
