/**
 * Long tests (load, crash safety) run in CI (.ci/run sets CI=true) and locally only when asked with
 * POLICY_ADVISOR_LONG_TESTS=1, so a developer's `vitest run` stays quick.
 */
const enabled = process.env.CI === "true" || process.env.POLICY_ADVISOR_LONG_TESTS === "1";

/**
 * Whether the long tests named `what` run here; when they do not, says so and why (a skip states its
 * reason, as the tests needing an outside component do).
 */
export function longTests(what: string): boolean {
  if (!enabled)
    console.warn(
      `skipping the long ${what} tests: they run in CI (CI=true) or with POLICY_ADVISOR_LONG_TESTS=1`,
    );
  return enabled;
}
