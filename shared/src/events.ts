/**
 * socket.io event maps, typed for both ends (server: `Server<ClientToServerEvents, ServerToClientEvents>`,
 * client: `Socket<ServerToClientEvents, ClientToServerEvents>`). Events are notifications only: sites
 * always fetch state and weights over HTTP, so a missed event costs latency, never correctness.
 */
import type { FederationState } from './schemas/api';

/** A round opened. Sites fetch `rounds/current` to learn whether they are selected. */
export interface RoundOpenedEvent {
  federationId: string;
  round: number;
  baseVersionId: string;
  deadlineAt: string;
}

/** A round ended without a version (quorum not reached, deadline, …). */
export interface RoundFailedEvent {
  federationId: string;
  round: number;
  reason: string;
}

/** A new signed model version exists. */
export interface ModelPublishedEvent {
  federationId: string;
  round: number;
  versionId: string;
}

/**
 * A secure-aggregation round moved on — sent only to the round's cohort: `masking` (U2 fixed: upload a masked
 * update), `unmasking` (no more updates: U3 members sign the round), `revealing` (t consistency signatures are in:
 * reveal). A hint only: the site then reads `GET …/secagg` and checks everything there (and polls without it).
 */
export interface SecaggPhaseEvent {
  federationId: string;
  round: number;
  phase: 'masking' | 'unmasking' | 'revealing';
}

/** The federation reached a final state. */
export interface FederationEndedEvent {
  federationId: string;
  state: Exclude<FederationState, 'running'>;
}

/** Coordinator → site. */
export interface ServerToClientEvents {
  'round:opened': (e: RoundOpenedEvent) => void;
  'round:failed': (e: RoundFailedEvent) => void;
  'model:published': (e: ModelPublishedEvent) => void;
  'federation:ended': (e: FederationEndedEvent) => void;
  'secagg:phase': (e: SecaggPhaseEvent) => void;
}

/** Site → coordinator. */
export interface ClientToServerEvents {
  /**
   * Liveness and progress. Sites send it without an ack; when a client asks for one (older sites), the ack is the
   * server time.
   */
  'site:status': (
    s: { state: 'idle' | 'training' | 'uploading' | 'evaluating'; federationId?: string; round?: number },
    ack?: (serverTime: string) => void,
  ) => void;
}

/** Data attached to an authenticated site socket. */
export interface SocketData {
  siteId: string;
}
