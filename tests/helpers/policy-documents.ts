/**
 * Small policy documents as large sets are written (5 lines each; the fault on line 5, its
 * percentage at column 16), for hfi validate's scale tests (tests/cli/validate-scale.test.ts)
 * and its bench (bench/cases/cli-scale.ts).
 */

/** One policy document named `name`. */
export function smallPolicy(name: string, percentage = 5): string {
  return `metadata: { name: ${name} }\nspec:\n  rules:\n    - match: { path: { prefix: "/api/${name}" } }\n      fault: { percentage: ${percentage}, abort: { httpStatus: 503 } }\n`;
}

/** Policies p0, p1, ... of about `bytes` in all, counting a `---` line between documents; `odd`
 * replaces some of them. */
export function smallPolicies(bytes: number, odd: (i: number) => string | undefined = () => undefined): string[] {
  const docs: string[] = [];
  for (let size = 0, i = 0; size < bytes; i++) {
    const doc = odd(i) ?? smallPolicy(`p${i}`);
    docs.push(doc);
    size += doc.length + 4;
  }
  return docs;
}
