/**
 * The JSON-like values a plan node records as its options (and the fingerprint hashes). A leaf:
 * record formats (csv.ts) describe themselves as options and plan nodes hold them, so the type
 * lives apart from both and neither has to import the other for it.
 */

/** JSON-like option values recorded on nodes (and hashed into the fingerprint). */
export type OptionValue = string | number | boolean | null | readonly OptionValue[];
