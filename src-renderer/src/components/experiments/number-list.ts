// The builder's list fields ("1400, 65536") as numbers and back; what is not a number is left out and
// reported, so a half-typed list never reaches the file.
export function parseNumberList(text: string): { values: number[]; rejected: string[] } {
  const parts = text.split(/[\s,;]+/).filter((part) => part !== '');
  const values: number[] = [];
  const rejected: string[] = [];
  for (const part of parts) {
    const value = Number(part);
    if (Number.isFinite(value)) values.push(value);
    else rejected.push(part);
  }
  return { values, rejected };
}

export function formatNumberList(values: readonly number[]): string {
  return values.join(', ');
}
