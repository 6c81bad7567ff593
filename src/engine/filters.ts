// Docker's list filters, shared by containers, images, volumes and networks.
// dockerd ORs the values of one key, except `label`: every label filter must
// hold (moby's Args.MatchKVList), so `-f label=a=1 -f label=b=1` is an AND.
// Compose finds a project's containers that way; OR would mix projects.

/** `key` or `key=value`, split at the first "=" (values may contain "="). */
export function parseLabelFilter(f: string): { key: string; value?: string } {
  const i = f.indexOf("=");
  return i < 0 ? { key: f } : { key: f.slice(0, i), value: f.slice(i + 1) };
}

/** True when `labels` satisfy every `label` filter. */
export function matchesLabels(labels: Record<string, string> | null | undefined, filters: readonly string[] | undefined): boolean {
  return (filters ?? []).every((f) => {
    const { key, value } = parseLabelFilter(f);
    return !!labels && Object.hasOwn(labels, key) && (value === undefined || labels[key] === value);
  });
}
