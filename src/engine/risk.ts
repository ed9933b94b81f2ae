import { RISK_ORDER, type RiskLevel, riskRank } from "../schemas/common.js";

export { maxRisk, RISK_ORDER, riskRank } from "../schemas/common.js";

export function lowerRisk(r: RiskLevel): RiskLevel {
  return RISK_ORDER[Math.max(0, riskRank(r) - 1)]!;
}

export const isHighRisk = (r: RiskLevel): boolean => riskRank(r) >= riskRank("high");
