import type { RiskLevel } from "../schemas/common.js";

export const RISK_ORDER: readonly RiskLevel[] = ["low", "medium", "high", "critical"];

export const riskRank = (r: RiskLevel): number => RISK_ORDER.indexOf(r);

export function maxRisk(...levels: RiskLevel[]): RiskLevel {
  return levels.reduce((a, b) => (riskRank(b) > riskRank(a) ? b : a), "low");
}

export function lowerRisk(r: RiskLevel): RiskLevel {
  return RISK_ORDER[Math.max(0, riskRank(r) - 1)]!;
}

export const isHighRisk = (r: RiskLevel): boolean => riskRank(r) >= riskRank("high");
