/**
 * Long tests (load, crash safety) run in CI (.ci/run sets CI=true) and locally only when asked with
 * POLICY_ADVISOR_LONG_TESTS=1, so a developer's `vitest run` stays quick.
 */
export const longTests = process.env.CI === "true" || process.env.POLICY_ADVISOR_LONG_TESTS === "1";
