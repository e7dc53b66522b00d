// A deterministic toy ranking: enough to make a real decision record (offers, top offer, propensity,
// decision flow), and the same customer always gets the same order, which makes tests and demos readable.

import { createHash } from "node:crypto";

export interface Offer {
  offerId: string;
  creativeId: string;
  campaignId: string | null;
  name: string;
}

export const catalog: readonly Offer[] = [
  { offerId: "offer-cashback-2pct", creativeId: "cr-cashback-banner", campaignId: "cmp-spring-cards", name: "2% cash-back card" },
  { offerId: "offer-travel-miles", creativeId: "cr-miles-hero", campaignId: "cmp-spring-cards", name: "Travel miles card" },
  { offerId: "offer-savings-4pct", creativeId: "cr-savings-tile", campaignId: "cmp-savings", name: "4% savings account" },
  { offerId: "offer-mortgage-refi", creativeId: "cr-refi-email", campaignId: "cmp-home", name: "Mortgage refinance" },
  { offerId: "offer-auto-loan", creativeId: "cr-auto-push", campaignId: null, name: "Auto loan pre-approval" },
  { offerId: "offer-insurance-home", creativeId: "cr-home-ins-tile", campaignId: "cmp-home", name: "Home insurance bundle" },
  { offerId: "offer-student-refi", creativeId: "cr-student-sms", campaignId: null, name: "Student loan refinance" },
  { offerId: "offer-premium-checking", creativeId: "cr-checking-hero", campaignId: "cmp-savings", name: "Premium checking" },
];

export interface RankedOffer extends Offer {
  rank: number;
  /** Toy propensity in [0.01, 0.99], four decimals. */
  propensity: number;
}

export const DEFAULT_DECISION_FLOW = "default-flow";

/** Scores every offer from a hash of (tenant, customer, channel, flow, offer); highest first. */
export function rankOffers(input: { tenantId: string; customerId: string; channelId?: string; decisionFlowKey: string }, limit: number) {
  const scored = catalog.map((offer) => {
    const digest = createHash("sha256")
      .update(
        `${input.tenantId}\u0000${input.customerId}\u0000${input.channelId ?? ""}\u0000${input.decisionFlowKey}\u0000${offer.offerId}`,
      )
      .digest();
    const unit = digest.readUInt32BE(0) / 0xffff_ffff;
    return { ...offer, propensity: Math.round((0.01 + unit * 0.98) * 10_000) / 10_000 };
  });
  scored.sort((a, b) => b.propensity - a.propensity || a.offerId.localeCompare(b.offerId));
  return scored.slice(0, limit).map((offer, i): RankedOffer => ({ ...offer, rank: i + 1 }));
}
