import { CodedError } from "../schemas/error-codes.js";

export type RolloutErrorCode =
  | "gates_not_passed"
  | "no_next_mode"
  | "invalid_rollback"
  | "unknown_tier"
  | "conflict"
  | "note_required";

/** A rollout action that cannot be done as asked (gates not passed, nothing to roll back). */
export class RolloutError extends CodedError<RolloutErrorCode> {
  constructor(code: RolloutErrorCode, message: string) {
    super(code, message);
    this.name = "RolloutError";
  }
}
