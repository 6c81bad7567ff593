// Docker's image and network events, from the jobs that make them happen
// (container and volume events are published where they happen). One table
// here instead of an event bus threaded through the image and network code.
import type { EventInput } from "./bus.ts";
import { familiarize } from "../distribution/reference.ts";

type Publish = (e: EventInput) => void;
type Mapper = (args: any, result: any) => EventInput[];

const ev = (Type: string, Action: string, ID: string, Attributes: Record<string, string> = {}): EventInput => ({ Type, Action, Actor: { ID, Attributes } });
/** dockerd's image events: the reference as the actor, its repository as `name`. */
const imageRef = (Action: string, ref: string): EventInput => {
  const r = familiarize(ref);
  return ev("image", Action, r, { name: r.replace(/[:@][^:/]*$/, "") });
};

const MAPPERS: Record<string, Mapper> = {
  pull: (a: { ref: string }) => [imageRef("pull", a.ref)],
  push: (a: { ref: string }) => [imageRef("push", a.ref)],
  tag: (a: { source: string; repo: string; tag?: string }) => [ev("image", "tag", a.source, { name: `${a.repo}:${a.tag ?? "latest"}` })],
  rmi: (a: { ref: string }, r: { Untagged?: string; Deleted?: string }[]) =>
    r.map((i) => (i.Deleted ? ev("image", "delete", i.Deleted, { name: i.Deleted }) : ev("image", "untag", a.ref, { name: i.Untagged ?? a.ref }))),
  import: (_a, r: { id: string }) => [ev("image", "import", r.id, { name: r.id })],
  save: (a: { names: string[] }) => a.names.map((n) => ev("image", "save", n, { name: n })),
  commit: (a: { ref: string }, r: { Id: string }) => [ev("container", "commit", a.ref, { comment: "", imageID: r.Id })],
  "network-create": (a: { Name?: string; Driver?: string }, r: { Id: string }) => [ev("network", "create", r.Id, { name: a.Name ?? "", type: a.Driver || "bridge" })],
  "network-connect": (a: { ref: string; container: string }) => [ev("network", "connect", a.ref, { container: a.container, name: a.ref, type: "bridge" })],
  "network-disconnect": (a: { ref: string; container: string }) => [ev("network", "disconnect", a.ref, { container: a.container, name: a.ref, type: "bridge" })],
  "network-rm": (a: { ref: string }) => [ev("network", "destroy", a.ref, { name: a.ref, type: "bridge" })],
  "network-prune": (_a, r: { NetworksDeleted: string[] | null }) => (r.NetworksDeleted ?? []).map((n) => ev("network", "destroy", n, { name: n, type: "bridge" })),
};

/** An Engine.onSucceeded observer that publishes the events of image and network jobs. */
export function jobEvents(publish: Publish): (name: string, args: unknown, result: unknown) => void {
  return (name, args, result) => {
    const m = MAPPERS[name];
    if (m) for (const e of m(args, result)) publish(e);
  };
}
