import {
  type ChatHistoryItem,
  type ChatWrapper,
  type LlamaModel,
  resolveChatWrapper,
  type Token,
} from "node-llama-cpp";

/**
 * Turns the fixed prefix (system message) and the per-request text (user message) into model tokens with
 * the model's own chat template. The prefix's tokens come first and are identical for every request, which
 * is what lets a context sequence keep them evaluated between requests.
 */
export class PromptTokenizer {
  readonly wrapper: ChatWrapper;
  private readonly prefixCache = new Map<string, Token[]>();

  constructor(private readonly model: LlamaModel) {
    this.wrapper = resolveChatWrapper(model);
  }

  private render(history: ChatHistoryItem[]): Token[] {
    const { contextText } = this.wrapper.generateContextState({ chatHistory: history });
    return contextText.tokenize(this.model.tokenizer);
  }

  /** The whole prompt: system prefix, user request, and the start of the assistant's turn. */
  chat(prefix: string, request: string): Token[] {
    return this.render([
      { type: "system", text: prefix },
      { type: "user", text: request },
      { type: "model", response: [] },
    ]);
  }

  /**
   * The tokens every request of this prefix starts with: the chat rendering of the prefix followed by an
   * empty user turn, cut where the user's text would begin. Cached per prefix text.
   */
  sharedPrefix(prefix: string): Token[] {
    const cached = this.prefixCache.get(prefix);
    if (cached) return cached;
    const a = this.chat(prefix, "a");
    const b = this.chat(prefix, "b");
    let n = 0;
    while (n < a.length && n < b.length && a[n] === b[n]) n++;
    const tokens = a.slice(0, n);
    this.prefixCache.set(prefix, tokens);
    return tokens;
  }
}
