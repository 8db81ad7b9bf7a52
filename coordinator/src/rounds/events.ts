import type {
  FederationEndedEvent,
  ModelPublishedEvent,
  RoundFailedEvent,
  RoundOpenedEvent,
  SecaggPhaseEvent,
} from '@twinfed/shared';

/** Where the round engine announces transitions (the socket.io layer in production, a recorder in tests). */
export interface EngineEvents {
  roundOpened(e: RoundOpenedEvent): void;
  roundFailed(e: RoundFailedEvent): void;
  modelPublished(e: ModelPublishedEvent): void;
  federationEnded(e: FederationEndedEvent): void;
  /** To the sites of `siteIds` only (the round's cohort). */
  secaggPhase(e: SecaggPhaseEvent, siteIds: readonly string[]): void;
}

/** An event sink that drops everything. */
export const noEvents: EngineEvents = {
  roundOpened: () => undefined,
  roundFailed: () => undefined,
  modelPublished: () => undefined,
  federationEnded: () => undefined,
  secaggPhase: () => undefined,
};
