// Compile-time proof that payloads are typed per topic: each @ts-expect-error must be an error,
// or `tsc --noEmit` (the typecheck task) fails.
import { createEvent, type DomainEvent, type Publisher } from "../../src/index.js";
import { decision, interaction } from "../fixtures.js";

declare const publisher: Publisher;

void publisher.publish("decision.made.v1", decision());
void publisher.publish("interaction.recorded.v1", interaction());

// @ts-expect-error an interaction payload is not a decision
void publisher.publish("decision.made.v1", interaction());

// @ts-expect-error a field of the wrong type
void publisher.publish("decision.made.v1", { ...decision(), offersReturned: "3" });

// @ts-expect-error interactionType outside the enum
void publisher.publish("interaction.recorded.v1", { ...interaction(), interactionType: "view" });

// @ts-expect-error a required field missing
void createEvent("decision.made.v1", { ...decision(), decisionFlowKey: undefined });

// @ts-expect-error an unknown topic
void publisher.publish("order.placed.v1", decision());

function narrow(event: DomainEvent): number | null {
  if (event.type === "decision.made.v1") return event.data.topPropensity;
  // @ts-expect-error only decisions carry topPropensity
  return event.data.topPropensity;
}
void narrow;
