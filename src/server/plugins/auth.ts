import type {
  FastifyInstance,
  FastifyReply,
  FastifyRequest,
  HTTPMethods,
  onRequestHookHandler,
  RouteOptions,
} from "fastify";
import {
  ANONYMOUS,
  type Principal,
  type RouteRole,
  RouteRoleSchema,
  roleSatisfies,
  type TokenSet,
} from "../auth.js";
import type { ServerMetrics } from "../metrics.js";
import { sendError } from "./errors.js";

declare module "fastify" {
  interface FastifyRequest {
    /** Who sent the request, when auth is on (undefined on public routes or with auth off). */
    principal?: Principal;
  }
  interface FastifyContextConfig {
    /** The role the route needs; every route must declare one (registration fails otherwise). */
    role?: RouteRole;
  }
  interface FastifyInstance {
    /**
     * The role of every route registered in this scope that declares none itself: for plugins such as
     * @fastify/static whose routes take no `config`. Set with `declareScopeRole`.
     */
    scopeRole?: RouteRole;
  }
}

/** One registered route and the role it declared (HEAD routes Fastify adds for GET included). */
export interface DeclaredRoute {
  method: HTTPMethods;
  url: string;
  role: RouteRole;
}

/** Every route registered in `scope` (and its children) that declares no role of its own gets `role`. */
export function declareScopeRole(scope: FastifyInstance, role: RouteRole): void {
  scope.decorate("scopeRole", role);
}

/** The name recorded as who reviewed, promoted or rolled back: the token's, or anonymous with auth off. */
export function auditIdentity(request: FastifyRequest): string {
  return request.principal?.name ?? ANONYMOUS;
}

function unauthorized(reply: FastifyReply, metrics: ServerMetrics, message: string, error?: string) {
  metrics.errors.inc({ cause: "unauthorized" });
  reply.header("WWW-Authenticate", `Bearer realm="policy-advisor"${error ? `, error="${error}"` : ""}`);
  return sendError(reply, { error: { code: "unauthorized", message } });
}

/** The onRequest check of one route: its declared role against the bearer token's. */
function checkFor(
  route: { method: string; url: string; role: RouteRole },
  tokens: TokenSet,
  metrics: ServerMetrics,
) {
  const check: onRequestHookHandler = (request, reply, done) => {
    const header = request.headers.authorization;
    const match = typeof header === "string" ? /^Bearer\s+(\S+)\s*$/i.exec(header) : null;
    if (!match?.[1]) {
      unauthorized(reply, metrics, "missing bearer token: send Authorization: Bearer <token>");
      return;
    }
    const principal = tokens.verify(match[1]);
    if (!principal) {
      unauthorized(reply, metrics, "the bearer token is not valid", "invalid_token");
      return;
    }
    if (!roleSatisfies(principal.role, route.role)) {
      metrics.errors.inc({ cause: "forbidden" });
      // Names the route as registered, not as spelled: the caller learns which route refused it.
      sendError(reply, {
        error: {
          code: "forbidden",
          message: `${route.method} ${route.url} needs a ${route.role} token; this is a ${principal.role} token`,
        },
      });
      return;
    }
    request.principal = principal;
    done();
  };
  return check;
}

/**
 * Authorization from the route, not the URL: an onRoute hook makes every route declare the role it needs
 * (`config: { role }`, or its scope's `declareScopeRole`) and fails the registration of one that does
 * not, so a new route cannot be left open by forgetting. With tokens, the route gets an onRequest check
 * of that role; it runs on the route the router matched, after it decoded the path, so `%xx` spellings,
 * absolute-form request lines or fragments reach the same check as the plain path. Unmatched requests
 * (404) carry no role and reveal nothing the public /openapi.json does not.
 */
export function installRouteRoles(
  app: FastifyInstance,
  opts: { tokens?: TokenSet; metrics: ServerMetrics; routes: DeclaredRoute[] },
): void {
  const authOn = (opts.tokens?.size ?? 0) > 0;
  app.addHook("onRoute", function (this: FastifyInstance, route: RouteOptions) {
    const declared = route.config?.role ?? this.scopeRole;
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    const parsed = RouteRoleSchema.safeParse(declared);
    if (!parsed.success) {
      throw new Error(
        `route ${methods.join(",")} ${route.url} declares ${declared === undefined ? "no role" : `role ${JSON.stringify(declared)}`}: ` +
          `give it config: { role: ${RouteRoleSchema.options.map((r) => `"${r}"`).join(" | ")} }`,
      );
    }
    const role = parsed.data;
    // Stored on the route so request.routeOptions.config.role always says what was checked.
    route.config = { ...route.config, role };
    for (const method of methods) opts.routes.push({ method, url: route.url, role });
    if (!authOn || role === "public" || !opts.tokens) return;
    const check = checkFor({ method: methods.join(","), url: route.url, role }, opts.tokens, opts.metrics);
    const existing = route.onRequest;
    // First of the route's own hooks: nothing of the route runs for a caller without the role.
    route.onRequest = [
      check,
      ...(existing === undefined ? [] : Array.isArray(existing) ? existing : [existing]),
    ];
  });
}
