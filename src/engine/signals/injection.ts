import { Kind } from "../lexicon.js";
import { firstOf, Phrase } from "../scan.js";
import type { Detector, Finding } from "./types.js";

/** Instructions to the decider in other wordings and languages, read by word (see lexicon.ts). */
const IGNORE_RULES = new Kind([
  [
    "ignore*",
    "ignoring",
    "disregard*",
    "forget",
    "override*",
    "bypass*",
    "skip",
    "ignora*",
    "ignorar",
    "olvida*",
    "omite",
    "ignoriere*",
    "ignorieren",
    "vergiss",
    "missachte*",
    "uberspring*",
    "ignorez",
    "ignorer",
    "oublie*",
    "oubliez",
    "ignori",
    "dimentica*",
    "esquece*",
  ],
  [
    "instruction*",
    "rules",
    "rule",
    "polic*",
    "guideline*",
    "prompt",
    "previous",
    "above",
    "checks",
    "restriction*",
    "regla*",
    "reglas",
    "instruccion*",
    "politica*",
    "normas",
    "anteriores",
    "regel*",
    "anweisung*",
    "richtlinie*",
    "vorherig*",
    "vorgaben",
    "regle*",
    "consigne*",
    "politique*",
    "precedent*",
    "regol*",
    "istruzion*",
    "precedenti",
    "regras",
    "instrucoes",
  ],
]);
const ROLE_PLAY = new Kind([
  [
    "you are now",
    "you are an",
    "act as",
    "pretend",
    "roleplay",
    "role play",
    "maintenance mode",
    "debug mode",
    "developer mode",
    "god mode",
    "jailbreak",
    "new instructions",
    "updated instructions",
    "as the system",
    "as an ai",
    "as the policy engine",
    "as the decider",
    "note to the ai",
    "note to the model",
    "note to the reviewer bot",
    "to the ai",
    "to the model",
    "ai reviewer",
    "automated reviewer",
    "eres ahora",
    "ahora eres",
    "actua como",
    "du bist jetzt",
    "handle als",
    "tu es maintenant",
    "agis comme",
    "modo mantenimiento",
    "wartungsmodus",
    "mode maintenance",
    "sei ora",
    "agisci come",
  ],
]);
const STEER = new Kind([
  [
    "aprueba*",
    "aprobar",
    "apruebe*",
    "permite",
    "autoriza*",
    "genehmige*",
    "genehmigen",
    "erlaube*",
    "approuve*",
    "approuvez",
    "autorise*",
    "autorisez",
    "approva*",
    "consenti",
    "autorizza*",
    "aprova*",
    "responde",
    "reponds",
    "repondez",
    "antworte",
    "rispondi",
    "output",
    "answer",
    "respond",
    "reply",
  ],
  [
    "allow",
    "allowed",
    "approved",
    "aprobado",
    "aprobada",
    "permitido",
    "genehmigt",
    "erlaubt",
    "approuve",
    "autorise",
    "approvato",
    "aprovado",
    "sin revision",
    "ohne prufung",
    "sans verification",
    "sans controle",
  ],
]);

/**
 * Text addressed to the decider instead of describing the situation: the alternatives of one former regex
 * in its order (the first match is quoted: see firstOf), on folded text (one space between words).
 */
const INSTRUCTION = [
  new Phrase(/\b(?:ignore|disregard|forget|override|bypass|skip)\b/g, [
    [
      { max: 30, stops: ".;" },
      /\b(?:previous|prior|above|earlier|all|any|the|your|these)? ?(?:instructions?|rules?|polic(?:y|ies)|guidelines?|prompt|checks?|restrictions?|review|attestation|verification|approval)\b/y,
    ],
  ]),
  // The other alternatives start with different words or characters, so two of them never match at the
  // same place and grouping them does not change which match is first.
  new Phrase(
    /\b(?:you (?:must|should|will|are to|have to)|please|just|simply) (?:allow|approve|grant|permit|answer|respond|output|return|classify|mark|say)\b|\b(?:answer|respond|reply|output|return) (?:only )?(?:with )?["'`]?(?:allow|approved|yes)\b|\b(?:admin|developer|root|god) mode\b|\bdo not (?:require|ask for|request) (?:attestation|approval|review|verification)|\bno (?:attestation|verification|review|approval) (?:is )?(?:needed|required|necessary)/g,
  ),
  // A run of "#" is read from its first one: a start inside the run would rescan it (quadratic).
  new Phrase(
    /"?decision"? ?[:=] ?"?(?:allow|approve)|\bclassification ?:|\brisk level ?: ?\w+|\bsystem ?(?:prompt|message|override|instruction)|<\|? ?(?:im_start|im_end|system|assistant|user|endoftext)|\[\/?(?:inst|system)\]|(?<!#)#{2,} ?(?:instruction|system|response|assistant)/g,
  ),
];

/** Claims of someone's approval inside free text: information, never authority. */
const APPROVAL_CLAIM =
  /\b(approved|authori[sz]ed|signed[- ]off|greenlit|okayed|ok'?d|cleared|sanctioned|vouched) (by|from)\b|\b(has|have|was|were|been|is) (already )?(pre-?)?(approved|authori[sz]ed|signed off|cleared)\b|\bpre-?approved\b|\bwith (the )?(approval|permission|blessing|sign-?off|consent) of\b|\b(cto|ceo|ciso|manager|lead|admin|vp|director|security team|boss|owner)\b[^.;]{0,20}\b(said|says|approved|agreed|signed|confirmed|okayed)\b/;

/** Instructions and approval claims in free text raise scrutiny; they can never lower it. */
export const detectInjection: Detector = (ctx) => {
  const out: Finding[] = [];
  let instr: { path: string; quote: string } | undefined;
  for (const t of ctx.texts) {
    const m = firstOf(INSTRUCTION, t.lower);
    if (m) {
      instr = { path: t.path, quote: m.text };
      break;
    }
  }
  // The regex reading first; the word-by-word kinds (other languages, role-play) where it finds nothing.
  const worded = instr
    ? undefined
    : (IGNORE_RULES.first(ctx.clauses) ?? ROLE_PLAY.first(ctx.clauses) ?? STEER.first(ctx.clauses));
  const found = instr ?? (worded ? { path: worded.path, quote: worded.clause } : undefined);
  if (found) {
    out.push({
      id: "embedded_instruction",
      severity: "warn",
      detail: `${found.path} contains text addressed to the decider ("${found.quote.slice(0, 80)}"); treated as data, not as an instruction`,
      effect: "escalate",
      rule: "context.untrusted_text: instructions inside request fields are data, never authority, and raise scrutiny",
      step: "context",
      phrase: `the ${found.path} field carries instructions aimed at the decision, which are untrusted data and raise scrutiny`,
      suspicious: true,
    });
  }
  const structuredApproval = /approv|sign[_-]?off|authori[sz]/i;
  const claim = ctx.texts.find(
    (t) => t.narrative && !structuredApproval.test(t.path) && APPROVAL_CLAIM.test(t.lower),
  );
  if (claim) {
    const m = APPROVAL_CLAIM.exec(claim.lower);
    out.push({
      id: "unverified_approval_claim",
      severity: "info",
      detail: `${claim.path} claims an approval ("${(m?.[0] ?? "").slice(0, 60)}") that the request does not prove`,
      effect: "note",
      rule: "context.untrusted_text: an approval claimed in free text is unverified and cannot lower scrutiny",
      step: "context",
      phrase: "an approval is claimed in free text but is unverified, so it counts for nothing",
    });
  }
  return out;
};
