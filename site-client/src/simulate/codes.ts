/**
 * The clinical codes of the twin scenario: what the generator writes and what the default plan matches.
 * Every diagnosis is written with one SNOMED CT and one ICD-10 code; the plan matches broader code sets.
 */

/** A diagnosis the generator writes, and the code sets the plan recognises it by. */
export interface DiagnosisCodes {
  readonly display: string;
  readonly snomed: string;
  readonly icd10: string;
  readonly match: { readonly snomed: readonly string[]; readonly icd10: readonly string[] };
}

/** Comorbidities of the ground truth (plus hypertension, a distractor) and the outcome. */
export const DIAGNOSES = {
  diabetes: {
    display: 'Type 2 diabetes mellitus',
    snomed: '44054006',
    icd10: 'E11.9',
    match: { snomed: ['44054006', '46635009', '73211009'], icd10: ['E10*', 'E11*', 'E13*'] },
  },
  copd: {
    display: 'Chronic obstructive lung disease',
    snomed: '13645005',
    icd10: 'J44.9',
    match: { snomed: ['13645005'], icd10: ['J44*'] },
  },
  ckd: {
    display: 'Chronic kidney disease',
    snomed: '709044004',
    icd10: 'N18.3',
    match: { snomed: ['709044004', '431855005', '431856006', '433144002', '431857002', '433146000'], icd10: ['N18*'] },
  },
  heartFailure: {
    display: 'Heart failure',
    snomed: '84114007',
    icd10: 'I50.9',
    match: { snomed: ['84114007', '42343007'], icd10: ['I50*'] },
  },
  immunosuppressed: {
    display: 'Immunocompromised',
    snomed: '370388006',
    icd10: 'D84.9',
    match: { snomed: ['370388006'], icd10: ['D84*'] },
  },
  hypertension: {
    display: 'Essential hypertension',
    snomed: '38341003',
    icd10: 'I10',
    match: { snomed: ['38341003', '59621000'], icd10: ['I10*'] },
  },
  pneumonia: {
    display: 'Pneumonia',
    snomed: '233604007',
    icd10: 'J18.9',
    match: { snomed: ['233604007'], icd10: ['J12*', 'J13*', 'J14*', 'J15*', 'J16*', 'J17*', 'J18*'] },
  },
} as const satisfies Record<string, DiagnosisCodes>;

/** The comorbidities the generator draws (keys of {@link DIAGNOSES} except the outcome). */
export const COMORBIDITIES = ['diabetes', 'copd', 'ckd', 'heartFailure', 'immunosuppressed', 'hypertension'] as const;
/** A comorbidity key. */
export type Comorbidity = (typeof COMORBIDITIES)[number];

/** Seasonal influenza vaccines (CVX). The generator gives 158 (standard) under 65 and 197 (high-dose) from 65. */
export const INFLUENZA_CVX = [
  '140',
  '141',
  '150',
  '153',
  '155',
  '158',
  '161',
  '171',
  '185',
  '186',
  '197',
  '205',
] as const;

/** The exposure kind the generator records (a household contact with a confirmed case). */
export const EXPOSURE_KIND = 'household-contact';
