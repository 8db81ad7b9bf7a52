/** A site's own minimum privacy requirements, whatever the plan says (`privacy.*` of the site configuration). */
export interface PrivacyFloors {
  /** Train only when the plan uses secure aggregation. */
  readonly requireSecureAggregation?: boolean;
  /** Train only when the plan uses differential privacy (`privacy.dp`). */
  readonly requireDp?: boolean;
  /** Train only when the plan's DP spends at most this ε over all its rounds (a plan without DP spends an unbounded ε). */
  readonly maxEpsilon?: number;
  /** Train only when the plan's population reports suppress cells below at least this k. */
  readonly minPopulationK?: number;
}
