// Durations as the run controls say them: "about 2 min 30 s", "1 h 5 min", "40 s".
export function formatDuration(seconds: number, approximate = true): string {
  const total = Math.max(0, Math.round(seconds));
  const hours = Math.floor(total / 3600);
  const minutes = Math.floor((total % 3600) / 60);
  const rest = total % 60;
  // Past an hour, seconds are noise in an estimate.
  const text = hours > 0 ? `${hours} h ${minutes} min` : minutes > 0 ? `${minutes} min${rest > 0 ? ` ${rest} s` : ''}` : `${rest} s`;
  return approximate ? `about ${text}` : text;
}
