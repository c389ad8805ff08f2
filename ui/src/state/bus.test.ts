import { describe, expect, it } from "vitest";

import { createBus } from "./bus";

describe("bus", () => {
  it("passes each value to every listener until it unsubscribes", () => {
    const bus = createBus<number>();
    const a: number[] = [];
    const b: number[] = [];
    const stopA = bus.subscribe((v) => a.push(v));
    bus.subscribe((v) => b.push(v));
    bus.publish(1);
    stopA();
    bus.publish(2);
    expect(a).toEqual([1]);
    expect(b).toEqual([1, 2]);
  });

  it("lets a listener unsubscribe while it is being called", () => {
    const bus = createBus<string>();
    const seen: string[] = [];
    const stop = bus.subscribe((v) => {
      seen.push(`once:${v}`);
      stop();
    });
    bus.subscribe((v) => seen.push(`always:${v}`));
    bus.publish("x");
    bus.publish("y");
    expect(seen).toEqual(["once:x", "always:x", "always:y"]);
  });
});
