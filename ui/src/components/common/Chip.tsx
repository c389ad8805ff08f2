import { categoryHue } from "../../lib/format";

/** A notification's category, in its own stable colour. */
export function Chip({ category }: { category: string }) {
  return (
    <span class="chip" style={{ "--hue": String(categoryHue(category)) }}>
      {category}
    </span>
  );
}
