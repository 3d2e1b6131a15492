// Keyboard movement in a result list: arrows move, Enter picks; the selection stays in range.
export function moveSelection(current: number, key: string, count: number): number {
  if (count === 0) return -1;
  if (key === "ArrowDown") return current < count - 1 ? current + 1 : current;
  if (key === "ArrowUp") return current > 0 ? current - 1 : 0;
  if (key === "Home") return 0;
  if (key === "End") return count - 1;
  return Math.min(Math.max(current, -1), count - 1);
}
