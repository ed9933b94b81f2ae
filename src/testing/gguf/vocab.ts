import { WORDS } from "./wordlist.js";

/**
 * A byte-level SentencePiece ("llama") vocabulary: special tokens, the SentencePiece space "▁", every
 * printable ASCII character as a normal token (so it detokenizes to itself), and the 256 byte-fallback tokens
 * <0x00>..<0xFF> for everything else (newlines, UTF-8 multibyte sequences): any text round-trips exactly.
 *
 * Optionally word pieces too: every prefix of each word of WORDS, with and without the leading "▁" and
 * capitalised. SentencePiece merges adjacent pieces whose concatenation is in the vocabulary, highest score
 * first; with every prefix present a word merges left to right into one token. Scores grow with length so
 * longer pieces win. Text then costs 3-5 characters per token, as with a trained tokenizer, which keeps
 * prompt token counts (and benchmark ratios) realistic.
 */

/** llama.cpp token attributes (llama_token_type). */
const TokenType = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3, BYTE: 6 } as const;

export const SPECIAL_TOKENS = {
  unk: "<unk>",
  bos: "<s>",
  eos: "</s>",
  imStart: "<|im_start|>",
  imEnd: "<|im_end|>",
} as const;

/**
 * ChatML, the template node-llama-cpp recognises as its ChatMLChatWrapper, so LlamaChatSession works
 * on the synthetic model with the same turn markers many real models use.
 */
export const CHATML_TEMPLATE =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}" +
  "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

export interface Vocabulary {
  tokens: string[];
  scores: number[];
  types: number[];
  unkId: number;
  bosId: number;
  eosId: number;
  imEndId: number;
}

export function byteLevelVocabulary(opts: { words?: boolean } = {}): Vocabulary {
  const tokens: string[] = [];
  const types: number[] = [];
  const add = (text: string, type: number): number => {
    tokens.push(text);
    types.push(type);
    return tokens.length - 1;
  };
  const unkId = add(SPECIAL_TOKENS.unk, TokenType.UNKNOWN);
  const bosId = add(SPECIAL_TOKENS.bos, TokenType.CONTROL);
  const eosId = add(SPECIAL_TOKENS.eos, TokenType.CONTROL);
  add(SPECIAL_TOKENS.imStart, TokenType.CONTROL);
  const imEndId = add(SPECIAL_TOKENS.imEnd, TokenType.CONTROL);
  add("\u2581", TokenType.NORMAL); // SentencePiece's escaped space
  for (let c = 0x21; c <= 0x7e; c++) add(String.fromCharCode(c), TokenType.NORMAL);
  for (let b = 0; b < 256; b++) add(`<0x${b.toString(16).toUpperCase().padStart(2, "0")}>`, TokenType.BYTE);
  if (opts.words) {
    const seen = new Set(tokens);
    for (const word of WORDS) {
      const capital = word.charAt(0).toUpperCase() + word.slice(1);
      for (const form of [`\u2581${word}`, `\u2581${capital}`, word, capital]) {
        for (let end = 2; end <= form.length; end++) {
          const piece = form.slice(0, end);
          if (seen.has(piece)) continue;
          seen.add(piece);
          add(piece, TokenType.NORMAL);
        }
      }
    }
  }
  // Single characters and bytes score 0; a longer piece scores its length, so the longest merge wins.
  const scores = tokens.map((t, i) => (types[i] === TokenType.NORMAL ? [...t].length - 1 : 0));
  return { tokens, scores, types, unkId, bosId, eosId, imEndId };
}
