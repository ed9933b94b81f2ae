/**
 * Tests that need an outside component skip with a stated reason when it is absent,
 * except in CI (.ci/run sets POLICY_ADVISOR_REQUIRE_EXTERNAL=1), where absence is a failure.
 */
export const requireExternal = process.env.POLICY_ADVISOR_REQUIRE_EXTERNAL === "1";

/**
 * Returns true when the component is available. When it is not: throws in CI, otherwise logs why
 * and returns false so the caller can `describe.skipIf(!available)`.
 */
export function externalAvailable(name: string, available: boolean, reason: string): boolean {
  if (available) return true;
  if (requireExternal) throw new Error(`${name} is required in CI but absent: ${reason}`);
  console.warn(`skipping ${name} tests: ${reason}`);
  return false;
}
