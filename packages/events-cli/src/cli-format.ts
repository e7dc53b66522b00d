// One readable line per event for a terminal: time, type, tenant, customer, what happened, id.

import type { DomainEvent } from "@kaireon/events-core";
import type { Painter } from "./cli-io.js";

function clock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return d.toISOString().slice(11, 23);
}

/** What the event says, in a few words: `click offer=o-1` or `flow=f offers=3 top=o-1 (0.82)`. */
export function eventSummary(event: DomainEvent): string {
  if (event.type === "interaction.recorded.v1") {
    const d = event.data;
    return `${d.interactionType} offer=${d.offerId} channel=${d.channelId}`;
  }
  const d = event.data;
  const top = d.topOfferId === null ? "top=-" : `top=${d.topOfferId}${d.topPropensity === null ? "" : ` (${d.topPropensity})`}`;
  return `flow=${d.decisionFlowKey} offers=${d.offersReturned} ${top}`;
}

export function eventLine(event: DomainEvent, p: Painter): string {
  return [
    p.paint("dim", clock(event.time)),
    p.paint(event.type === "interaction.recorded.v1" ? "cyan" : "magenta", event.type),
    `tenant=${event.tenantid}`,
    `customer=${event.subject}`,
    p.paint("bold", eventSummary(event)),
    p.paint("gray", event.id),
  ].join("  ");
}

export function rate(count: number, ms: number): string {
  if (ms <= 0) return "0.0/s";
  return `${((count * 1000) / ms).toFixed(1)}/s`;
}
