export * from "./backend.js";
export {
  OpenAiCompleter,
  type OpenAiCompleterOptions,
  type OpenAiCompleterStats,
} from "./completer.js";
export * from "./errors.js";
export * from "./protocol.js";
