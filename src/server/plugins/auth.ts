import type { FastifyInstance } from "fastify";
import { isPublicPath, needsReviewer, type Principal, type TokenSet } from "../auth.js";
import type { ServerMetrics } from "../metrics.js";
import { sendError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who sent the request, when auth is on (undefined on public routes or with auth off). */
    principal?: Principal;
  }
}

/**
 * Bearer-token auth: 401 without a valid token, 403 when a caller token asks for a reviewer route.
 * Health, readiness, the API description and the console's static files stay open.
 */
export function installAuth(app: FastifyInstance, tokens: TokenSet, metrics: ServerMetrics): void {
  app.addHook("onRequest", async (request, reply) => {
    if (isPublicPath(request.url)) return;
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      metrics.errors.inc({ cause: "unauthorized" });
      reply.header("WWW-Authenticate", 'Bearer realm="policy-advisor"');
      return sendError(reply, 401, {
        error: { code: "unauthorized", message: "missing bearer token: send Authorization: Bearer <token>" },
      });
    }
    const principal = tokens.verify(match[1]);
    if (!principal) {
      metrics.errors.inc({ cause: "unauthorized" });
      reply.header("WWW-Authenticate", 'Bearer realm="policy-advisor", error="invalid_token"');
      return sendError(reply, 401, {
        error: { code: "unauthorized", message: "the bearer token is not valid" },
      });
    }
    if (needsReviewer(request.url) && principal.role !== "reviewer") {
      metrics.errors.inc({ cause: "forbidden" });
      return sendError(reply, 403, {
        error: {
          code: "forbidden",
          message: `${request.url.split("?")[0]} needs a reviewer token; this is a caller token`,
        },
      });
    }
    request.principal = principal;
  });
}
