/**
 * The documented ground truth of the synthetic twin scenario: susceptibility to a severe seasonal respiratory
 * infection, observed as a pneumonia diagnosis within 30 days after the snapshot.
 *
 *   logit p = −3.0
 *           + 0.035 · (age − 60)                        age in years
 *           + 0.6 · diabetes + 0.9 · COPD + 0.6 · CKD + 0.8 · heart failure + 1.2 · immunosuppression
 *           − 0.9 · vaccinated                           influenza vaccine in the 365 days before the snapshot
 *           + 0.06 · (resting heart rate 7-day mean − 70) true mean, /min
 *           − 4.0 · SpO2 14-day trend                    true slope, %/day (a fall of 0.25 %/day adds +1.0)
 *           + 1.5 · exposed                              household contact with a case in the 14 days before
 *   p = 1 / (1 + e^(−logit p)); the outcome is one Bernoulli(p) draw per patient.
 *
 * Resting heart rate and SpO2 enter through their true values; a site sees them only through noisy wearable
 * samples (and not at all for patients without a device), so even a perfect model cannot reach the true p.
 */

/** The outcome: SNOMED CT 233604007 "Pneumonia (disorder)", ICD-10 J18.9 "Pneumonia, unspecified organism". */
export const OUTCOME = { snomed: '233604007', icd10: 'J18.9', display: 'Pneumonia', horizonDays: 30 } as const;

/** The inputs of the ground-truth susceptibility. */
export interface SusceptibilityInputs {
  age: number;
  diabetes: boolean;
  copd: boolean;
  ckd: boolean;
  heartFailure: boolean;
  immunosuppressed: boolean;
  /** Influenza vaccine in the 365 days before the snapshot. */
  vaccinated: boolean;
  /** True 7-day mean resting heart rate before the snapshot, /min. */
  restingHr7: number;
  /** True SpO2 trend over the 14 days before the snapshot, %/day. */
  spo2Slope14: number;
  /** Household contact with a case in the 14 days before the snapshot. */
  exposed: boolean;
}

/** The coefficients of the ground truth (log-odds), as in the module comment. */
const GROUND_TRUTH = {
  intercept: -3.0,
  agePerYear: 0.035,
  ageCentre: 60,
  diabetes: 0.6,
  copd: 0.9,
  ckd: 0.6,
  heartFailure: 0.8,
  immunosuppressed: 1.2,
  vaccinated: -0.9,
  restingHrPerBeat: 0.06,
  restingHrCentre: 70,
  spo2SlopePerPctPerDay: -4.0,
  exposed: 1.5,
} as const;

/** The ground-truth log-odds of the outcome. */
export function susceptibilityLogit(x: SusceptibilityInputs): number {
  const g = GROUND_TRUTH;
  const b = (v: boolean) => (v ? 1 : 0);
  return (
    g.intercept +
    g.agePerYear * (x.age - g.ageCentre) +
    g.diabetes * b(x.diabetes) +
    g.copd * b(x.copd) +
    g.ckd * b(x.ckd) +
    g.heartFailure * b(x.heartFailure) +
    g.immunosuppressed * b(x.immunosuppressed) +
    g.vaccinated * b(x.vaccinated) +
    g.restingHrPerBeat * (x.restingHr7 - g.restingHrCentre) +
    g.spo2SlopePerPctPerDay * x.spo2Slope14 +
    g.exposed * b(x.exposed)
  );
}

/** The ground-truth probability of the outcome within 30 days after the snapshot. */
export function susceptibility(x: SusceptibilityInputs): number {
  return 1 / (1 + Math.exp(-susceptibilityLogit(x)));
}
