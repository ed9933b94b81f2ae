import { loadTokens, type TokenSet } from "./auth.js";
import { ConfigError, isLoopback, type ServeConfig } from "./config.js";

/**
 * What a configuration must satisfy before anything opens, beyond its schema: API tokens readable and
 * required off loopback, a model for the llm and hybrid engines. Shared by `serve` (start-up) and
 * `doctor` (which reports it without starting anything).
 */
export function checkServeConfig(config: ServeConfig, env: NodeJS.ProcessEnv): TokenSet {
  const tokens = loadTokens({ ...(config.tokensFile ? { file: config.tokensFile } : {}), env });
  if (!isLoopback(config.host) && tokens.size === 0) {
    throw new ConfigError(
      `--host ${config.host} exposes the service beyond this machine: give API tokens with --tokens-file FILE ` +
        "or POLICY_ADVISOR_TOKEN / POLICY_ADVISOR_REVIEWER_TOKEN",
    );
  }
  if (config.engine !== "rules" && !config.model && !config.llmUrl && !config.queue) {
    throw new ConfigError(
      `--engine ${config.engine} needs a model: --model FILE (GGUF) or --llm-url URL, or workers: --queue redis://HOST:PORT`,
    );
  }
  return tokens;
}
