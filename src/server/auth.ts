import { createHash, timingSafeEqual } from "node:crypto";
import { readFileSync } from "node:fs";
import { z } from "zod";
import { ConfigError } from "./config.js";

/** A caller asks for advice; a reviewer may also read the decision log, review and change rollout. */
export const TokenRoleSchema = z.enum(["caller", "reviewer"]);
export type Role = z.infer<typeof TokenRoleSchema>;

/**
 * What a route needs, declared by the route itself (`config: { role }`): no token, any token, or a
 * reviewer token. Checked on the route the router matched, so no spelling of its path can skip it.
 */
export const RouteRoleSchema = z.enum(["public", ...TokenRoleSchema.options]);
export type RouteRole = z.infer<typeof RouteRoleSchema>;

const RANK: Record<RouteRole, number> = { public: 0, caller: 1, reviewer: 2 };

/** Whether a token of this role may call a route that needs `needed`. */
export function roleSatisfies(role: Role, needed: RouteRole): boolean {
  return RANK[role] >= RANK[needed];
}

/** Who acted, in the audit trail, when auth is off: nobody was authenticated, so nobody is named. */
export const ANONYMOUS = "anonymous";

export interface Principal {
  role: Role;
  /** Who, for the review trail: the name given in the tokens file, else the role. */
  name: string;
}

interface TokenEntry extends Principal {
  hash: Buffer;
}

const MIN_TOKEN_LENGTH = 16;
const sha256 = (s: string): Buffer => createHash("sha256").update(s, "utf8").digest();

/**
 * The API tokens the service accepts. Tokens are kept only as SHA-256 digests and a presented token is
 * compared with every one of them with timingSafeEqual on equal-length digests, so neither the match
 * position nor the length of a token leaks through timing.
 */
export class TokenSet {
  private readonly entries: TokenEntry[] = [];

  get size(): number {
    return this.entries.length;
  }

  add(role: Role, token: string, name: string = role, source = "token"): void {
    if (token.length < MIN_TOKEN_LENGTH) {
      throw new ConfigError(`${source}: a ${role} token must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    this.entries.push({ role, name, hash: sha256(token) });
  }

  /** The principal a bearer token belongs to, or undefined. Takes the same time whichever entry matches. */
  verify(token: string): Principal | undefined {
    const presented = sha256(token);
    let found: TokenEntry | undefined;
    for (const e of this.entries) {
      if (timingSafeEqual(presented, e.hash) && !found) found = e;
    }
    return found ? { role: found.role, name: found.name } : undefined;
  }
}

/**
 * Reads `<role> <token> [name]` lines (role caller or reviewer; # comments) from a file, and the
 * POLICY_ADVISOR_TOKEN (caller) and POLICY_ADVISOR_REVIEWER_TOKEN variables.
 */
export function loadTokens(opts: { file?: string; env?: NodeJS.ProcessEnv }): TokenSet {
  const set = new TokenSet();
  const env = opts.env ?? process.env;
  if (env.POLICY_ADVISOR_TOKEN) set.add("caller", env.POLICY_ADVISOR_TOKEN, "caller", "POLICY_ADVISOR_TOKEN");
  if (env.POLICY_ADVISOR_REVIEWER_TOKEN) {
    set.add("reviewer", env.POLICY_ADVISOR_REVIEWER_TOKEN, "reviewer", "POLICY_ADVISOR_REVIEWER_TOKEN");
  }
  if (opts.file) {
    let text: string;
    try {
      text = readFileSync(opts.file, "utf8");
    } catch (err) {
      throw new ConfigError(
        `cannot read tokens file ${opts.file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`,
      );
    }
    text.split(/\r?\n/).forEach((line, i) => {
      const trimmed = line.trim();
      if (!trimmed || trimmed.startsWith("#")) return;
      const [role, token, name] = trimmed.split(/\s+/);
      const where = `${opts.file}:${i + 1}`;
      if (role !== "caller" && role !== "reviewer") {
        throw new ConfigError(
          `${where}: expected "caller <token> [name]" or "reviewer <token> [name]", got role "${role}"`,
        );
      }
      if (!token) throw new ConfigError(`${where}: missing the token after "${role}"`);
      set.add(role, token, name ?? role, where);
    });
  }
  return set;
}
