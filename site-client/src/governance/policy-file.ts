/**
 * The site policy file inside the data directory: one file for what a hospital lets run on its data (plan approval
 * rules, governance/policy.ts) and which cohort statistics queries it answers (its `cohortQueries` part,
 * cohort/policy.ts).
 */
export const POLICY_FILE = 'policy.json';
