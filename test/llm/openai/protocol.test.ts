import { describe, expect, it } from "vitest";
import { chatCompletionsUrl } from "../../../src/llm/openai/protocol.js";

describe("--llm-url", () => {
  it.each([
    ["http://127.0.0.1:8080", "http://127.0.0.1:8080/v1/chat/completions"],
    ["http://127.0.0.1:8080/v1//", "http://127.0.0.1:8080/v1/chat/completions"],
    ["http://h/api/v1/chat/completions", "http://h/api/v1/chat/completions"],
  ])("%s posts to %s", (base, url) => {
    expect(chatCompletionsUrl(base)).toBe(url);
  });

  it("reads a URL with a long run of slashes in its path quickly", () => {
    // Was quadratic (/\\/+$/ rescans the run from each slash): about 4 s for this path on the 2-core dev machine.
    const started = performance.now();
    expect(chatCompletionsUrl(`http://h${"/".repeat(60_000)}x/`)).toMatch(/x\/v1\/chat\/completions$/);
    expect(performance.now() - started).toBeLessThan(200);
  });
});
