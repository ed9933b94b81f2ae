/**
 * Tracks streamed text and reports when the first top-level JSON value is complete, so generation stops
 * at the closing brace instead of waiting for the grammar's trailing-newline stop trigger.
 */
export class JsonEndDetector {
  private depth = 0;
  private inString = false;
  private escaped = false;
  private started = false;
  private done = false;

  /** Feeds more text; returns true once the top-level value has closed. */
  push(text: string): boolean {
    for (const ch of text) {
      if (this.done) return true;
      if (this.inString) {
        if (this.escaped) this.escaped = false;
        else if (ch === "\\") this.escaped = true;
        else if (ch === '"') this.inString = false;
        continue;
      }
      if (ch === '"') this.inString = true;
      else if (ch === "{" || ch === "[") {
        this.depth++;
        this.started = true;
      } else if (ch === "}" || ch === "]") {
        this.depth--;
        if (this.started && this.depth === 0) this.done = true;
      }
    }
    return this.done;
  }

  get complete(): boolean {
    return this.done;
  }
}
