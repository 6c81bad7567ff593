// Drivers register by name with a factory (containerd's plugin style); the
// drivers themselves never import this file.
import { InvalidParameterError } from "../../engine/errors.ts";
import type { DriverFactory, LayerDriver } from "./driver.ts";
import { newOverlay2Driver, overlaySupported } from "./overlay2.ts";
import { newVfsDriver } from "./vfs.ts";

const factories = new Map<string, DriverFactory>([
  ["overlay2", newOverlay2Driver],
  ["vfs", newVfsDriver],
]);

export function registerDriver(name: string, factory: DriverFactory): void {
  factories.set(name, factory);
}

export function driverNames(): string[] {
  return [...factories.keys()];
}

/** Docker's default: overlay2 when the kernel has it and `home` is not on overlayfs, else vfs. */
export function defaultDriverName(home: string): "overlay2" | "vfs" {
  return overlaySupported(home) ? "overlay2" : "vfs";
}

/** The driver `name` (or the default when undefined / "") rooted at `home`. */
export function driverFor(name: string | undefined, home: string): LayerDriver {
  const n = name || defaultDriverName(home);
  const f = factories.get(n);
  if (!f) throw new InvalidParameterError(`unknown storage driver ${JSON.stringify(n)} (have ${driverNames().join(", ")})`);
  return f(home);
}
