import { expect, it } from "vitest";
import { moveSelection } from "./list-keys";

it("moves within the list and never past its ends", () => {
  expect(moveSelection(-1, "ArrowDown", 3)).toBe(0);
  expect(moveSelection(2, "ArrowDown", 3)).toBe(2);
  expect(moveSelection(0, "ArrowUp", 3)).toBe(0);
  expect(moveSelection(1, "End", 3)).toBe(2);
  expect(moveSelection(5, "x", 3)).toBe(2);
  expect(moveSelection(1, "ArrowDown", 0)).toBe(-1);
});
