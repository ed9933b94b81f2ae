/** The decision log cannot be used (unreadable, corrupt, locked, unreachable): the message says which and why. */
export class StoreError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "StoreError";
  }
}
