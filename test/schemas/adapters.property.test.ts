import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { r6ToSituation, situationToR6 } from "../../src/schemas/adapters.js";
import { InvalidRequestError } from "../../src/schemas/errors.js";
import type { R6Request } from "../../src/schemas/r6.js";
import { R6RequestSchema } from "../../src/schemas/r6.js";
import { parseRequest } from "../../src/schemas/request.js";
import type { Situation } from "../../src/schemas/situation.js";
import { SituationSchema } from "../../src/schemas/situation.js";
import { r6Arb, situationArb } from "../helpers/arbitraries.js";

const NOW = () => "2026-03-01T12:00:00.000Z";
const runs = { numRuns: 1000 };

describe("adapters: lossless round trips (property)", () => {
  it("situation -> R6 -> situation gives back the same situation, unknown fields at every level kept", () => {
    fc.assert(
      fc.property(situationArb, (raw) => {
        const situation = SituationSchema.parse(raw) as Situation;
        const r6 = situationToR6(situation, NOW);
        const back = r6ToSituation(r6);
        expect(back).toEqual(situation);
      }),
      runs,
    );
  });

  it("the R6Request made from a valid situation is itself a valid R6Request", () => {
    fc.assert(
      fc.property(situationArb, (raw) => {
        const r6 = situationToR6(SituationSchema.parse(raw) as Situation, NOW);
        const r = R6RequestSchema.safeParse(r6);
        expect(r.success, JSON.stringify(r.error?.issues)).toBe(true);
      }),
      runs,
    );
  });

  it("R6 -> situation -> R6 gives back the same R6Request, unknown fields at every level kept", () => {
    fc.assert(
      fc.property(r6Arb, (raw) => {
        const r6 = R6RequestSchema.parse(raw) as R6Request;
        const back = situationToR6(r6ToSituation(r6), NOW);
        expect(back).toEqual(r6);
      }),
      runs,
    );
  });

  it("an R6Request parses (parseRequest) to a situation that carries its role or none, and all its fields", () => {
    fc.assert(
      fc.property(r6Arb, (raw) => {
        const parsed = parseRequest(raw);
        expect(parsed.shape).toBe("r6");
        expect(parsed.situation.actor_id).toBe(raw.actorId);
        expect(parsed.situation.action_type).toBe((raw.action as { type: string }).type);
        expect(parsed.situation.actor_role).toBe(typeof raw.actorRole === "string" ? raw.actorRole : "");
        // Nothing of the original is lost on the way to the engine's shape.
        const { actor_role: _role, ...rest } = parsed.situation;
        const again = situationToR6(
          (typeof raw.actorRole === "string" ? parsed.situation : rest) as Situation,
          NOW,
        );
        expect(again).toEqual(parsed.original);
      }),
      runs,
    );
  });

  it("does not mutate its input", () => {
    fc.assert(
      fc.property(situationArb, r6Arb, (s, r) => {
        const s0 = structuredClone(s);
        const r0 = structuredClone(r);
        situationToR6(s as Situation, NOW);
        r6ToSituation(r as R6Request);
        expect(s).toEqual(s0);
        expect(r).toEqual(r0);
      }),
      { numRuns: 300 },
    );
  });

  it("keeps a field whose name collides with the other shape's container names", () => {
    // A situation may carry fields named like R6 parts; they must come back unchanged.
    const situation = {
      action_type: "deploy",
      actor_role: "deployer",
      actor_id: "user:x",
      t3_tensor: { competence: 0.9, reliability: 0.9, integrity: 0.9 },
      action: { type: "not-the-action" },
      context: "free text",
      trustState: 3,
      extensions: { a: 1 },
    } as unknown as Situation;
    expect(r6ToSituation(situationToR6(situation, NOW))).toEqual(situation);
  });

  // Regression: deepMerge used to assign target["__proto__"] = v, which set the prototype instead of a
  // field, so a JSON body could give an R6Request an inherited actor_role that the engine read but the
  // decision log never showed. parseRequest now refuses such keys by path, and deepMerge skips them.
  it("a __proto__ key in a request body is refused by path, never an inherited field of the situation", () => {
    const body = JSON.parse(
      '{"requestId":"r","actorId":"user:x","action":{"type":"deploy","target":"env:production"},"context":{},' +
        '"trustState":{"competence":0.9,"reliability":0.9,"integrity":0.9},"timestamp":"2026-01-01T00:00:00Z",' +
        '"extensions":{"__proto__":{"actor_role":"admin","incident_status":"critical"}}}',
    ) as unknown;
    expect(() => parseRequest(body)).toThrow(InvalidRequestError);
    try {
      parseRequest(body);
    } catch (err) {
      expect((err as InvalidRequestError).issues).toEqual([
        { path: "extensions.__proto__", message: "a field may not be named __proto__" },
      ]);
    }
  });
});
