import { didYouMean, editDistance, nearest } from "../../assembly/suggest/index";

const SETTINGS: string[] = ["enabled", "policies", "control_plane", "max_fault_percentage", "log_level", "exclude"];

describe("edit distance (Damerau-Levenshtein, optimal string alignment)", () => {
  it("counts insertions, deletions, substitutions and adjacent transpositions as one edit", () => {
    expect(editDistance("enabeld", "enabled")).toBe(1);
    expect(editDistance("enable", "enabled")).toBe(1);
    expect(editDistance("enabledd", "enabled")).toBe(1);
    expect(editDistance("enxbled", "enabled")).toBe(1);
    expect(editDistance("kitten", "sitting")).toBe(3);
    expect(editDistance("", "abc")).toBe(3);
    expect(editDistance("abc", "")).toBe(3);
    expect(editDistance("same", "same")).toBe(0);
    expect(editDistance("ca", "abc")).toBe(3); // OSA: no edit of a transposed pair
  });
});

describe("did you mean", () => {
  it("suggests enabled for enabeld", () => {
    expect(didYouMean("enabeld", SETTINGS)).toBe(" (did you mean \"enabled\"?)");
    expect(nearest("polices", SETTINGS)).toBe("policies");
    expect(nearest("max_fault_percent", SETTINGS)).toBe(""); // 3 edits: too far
    expect(nearest("controlplane", SETTINGS)).toBe("control_plane");
  });
  it("suggests nothing for a word that is nothing like any candidate, or too short to judge", () => {
    expect(didYouMean("timeout", SETTINGS)).toBe("");
    expect(nearest("ab", ["cd"])).toBe("");
    expect(nearest("x", ["y"])).toBe("");
  });
  it("prefers the nearest candidate, then the first listed", () => {
    expect(nearest("abcd", ["abxy", "abcx"])).toBe("abcx");
    expect(nearest("abcd", ["abcx", "abcy"])).toBe("abcx");
  });
});
