export * from "./backend.js";
export {
  LlamaCompleter,
  type LlamaCompleterOptions,
  type LlamaCompleterStats,
  type LlamaCompletion,
} from "./completer.js";
export * from "./cpu.js";
export * from "./errors.js";
export * from "./generate.js";
export * from "./load.js";
export * from "./prompt-tokens.js";
