/** A rollout action that cannot be done as asked (gates not passed, nothing to roll back): status and code for HTTP. */
export class RolloutError extends Error {
  constructor(
    readonly code:
      | "gates_not_passed"
      | "no_next_mode"
      | "invalid_rollback"
      | "unknown_tier"
      | "conflict"
      | "note_required",
    readonly statusCode: number,
    message: string,
  ) {
    super(message);
    this.name = "RolloutError";
  }
}
