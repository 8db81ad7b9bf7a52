import { CODE_UNITS } from '../units';
import { LOINC_NAMES } from '../../scoring/describe';
import { LOINC } from './codes';

/** LOINC's mod-10 check digit (the Luhn algorithm over the digits before the dash). */
function loincCheckDigit(body: string): number {
  let sum = 0;
  [...body].reverse().forEach((c, i) => {
    const d = Number(c) * (i % 2 === 0 ? 2 : 1);
    sum += d > 9 ? d - 9 : d;
  });
  return (10 - (sum % 10)) % 10;
}

describe('the LOINC table', () => {
  test('is pinned: each name to its public LOINC code', () => {
    expect(LOINC).toEqual({
      heartRate: '8867-4', // Heart rate
      restingHeartRate: '40443-4', // Heart rate --resting
      respiratoryRate: '9279-1', // Respiratory rate
      spo2: '59408-5', // Oxygen saturation in Arterial blood by Pulse oximetry
      spo2Arterial: '2708-6', // Oxygen saturation in Arterial blood
      bodyTemperature: '8310-5', // Body temperature
      bloodPressurePanel: '85354-9', // Blood pressure panel with all children optional
      systolic: '8480-6', // Systolic blood pressure
      diastolic: '8462-4', // Diastolic blood pressure
      bmi: '39156-5', // Body mass index (BMI) [Ratio]
      bodyWeight: '29463-7', // Body weight
      bodyHeight: '8302-2', // Body height
      steps: '55423-8', // Number of steps in unspecified time Pedometer
      hba1c: '4548-4', // Hemoglobin A1c/Hemoglobin.total in Blood
      egfr: '33914-3', // Glomerular filtration rate/1.73 sq M.predicted (MDRD)
      consentDocument: '59284-0', // Patient Consent
    });
  });

  test.each(Object.entries(LOINC))('%s (%s) is a well-formed LOINC code with a valid check digit', (_name, code) => {
    const m = /^(\d{1,7})-(\d)$/.exec(code);
    expect(m).not.toBeNull();
    expect(loincCheckDigit(m![1]!)).toBe(Number(m![2]));
  });

  test('the unit rules and the clinical names only use codes of the table', () => {
    const codes = new Set<string>(Object.values(LOINC));
    expect(Object.keys(CODE_UNITS).filter((c) => !codes.has(c))).toEqual([]);
    expect(Object.keys(LOINC_NAMES).filter((c) => !codes.has(c))).toEqual([]);
  });
});
