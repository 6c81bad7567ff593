// A bare Docker Engine API caller for orchestrator replays: Nomad's docker driver
// (go-dockerclient) and cri-dockerd (the moby client) speak to the socket
// directly, each at its own API version, so the replays do too.
export interface Answer {
  status: number;
  body: any;
}

export type Api = (method: string, path: string, body?: unknown) => Promise<Answer>;

/** `version` "" calls unversioned paths (the daemon's own default version). */
export function apiOn(sock: string, version = ""): Api {
  return async (method, path, body) => {
    const res = await fetch(`http://localhost${version ? `/v${version}` : ""}${path}`, {
      method,
      unix: sock,
      headers: body === undefined ? {} : { "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    } as RequestInit);
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : null;
    } catch {}
    return { status: res.status, body: parsed };
  };
}
