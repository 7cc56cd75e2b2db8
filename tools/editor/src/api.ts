// The REST API the editor uses (docs/rest.md has the full table), typed as the server sends it.

export type ParamType =
  | 'boolean'
  | 'integer'
  | 'number'
  | 'string'
  | 'string_list'
  | 'list'
  | 'object'
  | 'any';

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

export interface ParamSpec {
  name: string;
  type: ParamType;
  description: string;
  required: boolean;
  default?: Json;
  allowed?: Json[];
  minimum?: number;
  maximum?: number;
}

export interface PortSpec {
  name: string;
  description: string;
}

export interface ComponentDescriptor {
  name: string;
  version: string;
  summary: string;
  kind: string;
  inputs: PortSpec[];
  outputs: PortSpec[];
  params: ParamSpec[];
  blocking: boolean;
  package: string;
}

export interface GraphListEntry {
  name: string;
  nodes: number;
  description?: string;
  // degraded: a component's plugin file is gone; the graph runs on the build it loaded.
  state?: 'running' | 'degraded';
  missing?: string[];
}

// `durability:` of a graph: whether `sluice serve` logs its submissions before answering.
export type Durability = 'wal' | 'none';

// GET /v1/graphs/{g} as JSON: endpoints are `node` or `node.port`.
export interface GraphDocument {
  name: string;
  description?: string;
  workers?: number;
  durability?: Durability;
  // `ui`: the editor's layout ({x, y}), kept in the graph file and ignored by the runtime.
  nodes: Record<
    string,
    { component: string; params?: Record<string, Json>; isolation?: Isolation; timeout?: string; ui?: { x?: Json; y?: Json } }
  >;
  edges: { from: string; to: string; capacity?: number; capacity_bytes?: number | string }[];
}

export interface ValidationError {
  line: number;
  column: number;
  message: string;
  node?: string; // the node it is about, when it is about one
  param?: string; // and its param, when known
}

// How a node's component runs (docs/plugins.md, "Isolation").
export type Isolation = 'in_process' | 'process';

export interface HostStats {
  pids: number[];
  failures: number;
  state: 'running' | 'crash_looping';
  last_failure?: string;
}

// The plugin build a node runs.
export interface PluginBuild {
  package: string;
  version: string;
  file: string;
  hash: string;
}

export interface NodeStats {
  node: string;
  component: string;
  in: number;
  out: number;
  errors: number;
  dropped: number;
  // `dropped` by cause: an unwired out port by its name, `(filtered)` for packets passed on nowhere.
  dropped_by_port: Record<string, number>;
  queue_depth: number;
  busy_seconds: number;
  isolation: Isolation;
  stalled: boolean; // busy with one packet past its timeout, in the server's process
  host?: HostStats; // isolation: process only
  plugin?: PluginBuild; // absent for a component built into the server
  missing?: boolean; // no loaded plugin offers its component any more
}

export interface GraphStats {
  graph: string;
  state?: 'running' | 'degraded';
  instances: number;
  queued: number;
  dead_letters: number;
  nodes: NodeStats[];
}

export interface DeadLetter {
  id: number;
  node: string;
  error: string;
  when: string;
  packet: Json;
}

// An answer other than 2xx: `body` is the server's JSON error document
// ({"error": "...", ...details}) or, when it sent something else, {error: <text>}.
export class ApiError extends Error {
  readonly status: number;
  readonly body: { error: string; errors?: ValidationError[]; [key: string]: unknown };

  constructor(status: number, body: ApiError['body']) {
    super(`${status}: ${body.error}`);
    this.status = status;
    this.body = body;
  }
}

// The bearer token of a server started with --token-file (admin routes: save, delete, dead
// letters), kept for the browser tab's session.
const TOKEN_KEY = 'sluice-token';
let token = sessionStorage.getItem(TOKEN_KEY) ?? '';
let onUnauthorized: () => void = () => {};

export const auth = {
  token: () => token,
  setToken(value: string) {
    token = value.trim();
    if (token) sessionStorage.setItem(TOKEN_KEY, token);
    else sessionStorage.removeItem(TOKEN_KEY);
  },
  // Called on every 401, so the page can ask for the token.
  onUnauthorized(listener: () => void) {
    onUnauthorized = listener;
  },
};

// The answer's body and its ETag (GET and PUT of a graph carry one).
async function requestTagged<T>(method: string, path: string, init: RequestInit = {}): Promise<{ body: T; etag: string | null }> {
  const headers = new Headers(init.headers);
  if (token) headers.set('Authorization', `Bearer ${token}`);
  let response: Response;
  try {
    response = await fetch(path, { ...init, method, headers });
  } catch (cause) {
    throw new ApiError(0, { error: `the server did not answer ${method} ${path} (${String(cause)})` });
  }
  const text = await response.text();
  let body: unknown = null;
  if (text !== '' && !(response.headers.get('Content-Type') ?? '').includes('json') && response.ok) {
    body = text; // the YAML of a graph
  } else if (text !== '') {
    try {
      body = JSON.parse(text);
    } catch {
      body = { error: text };
    }
  }
  if (!response.ok) {
    if (response.status === 401) onUnauthorized();
    const document =
      body !== null && typeof body === 'object' && 'error' in body
        ? (body as ApiError['body'])
        : { error: response.statusText || 'request failed' };
    throw new ApiError(response.status, document);
  }
  return { body: body as T, etag: response.headers.get('ETag') };
}

const request = <T>(method: string, path: string, init: RequestInit = {}) =>
  requestTagged<T>(method, path, init).then((answer) => answer.body);

const graphPath = (graph: string) => `/v1/graphs/${encodeURIComponent(graph)}`;

export const api = {
  components: () => request<ComponentDescriptor[]>('GET', '/v1/components'),
  graphs: () => request<{ graphs: GraphListEntry[] }>('GET', '/v1/graphs').then((r) => r.graphs),
  graph: (graph: string) =>
    requestTagged<GraphDocument>('GET', graphPath(graph), { headers: { Accept: 'application/json' } }),
  // The ETag of the version running now (HEAD: no body).
  graphVersion: (graph: string) => requestTagged<null>('HEAD', graphPath(graph)).then((answer) => answer.etag),
  graphYaml: (graph: string) => request<string>('GET', graphPath(graph), { headers: { Accept: 'application/yaml' } }),
  // `version`: the ETag of the version this edit started from (412 when another was saved
  // since), 'new' for a graph that must not exist yet, null to replace whatever runs.
  putGraph: (graph: string, yaml: string, version: string | null) => {
    const headers: Record<string, string> = { 'Content-Type': 'application/yaml' };
    if (version === 'new') headers['If-None-Match'] = '*';
    else if (version) headers['If-Match'] = version;
    return requestTagged<{ graph: string; created: boolean }>('PUT', graphPath(graph), { headers, body: yaml });
  },
  deleteGraph: (graph: string) => request<null>('DELETE', graphPath(graph)),
  stats: (graph: string) => request<GraphStats>('GET', `${graphPath(graph)}/stats`),
  // `node`: enter there instead of at the source nodes; `filename`: the file the body came
  // from (the packet's `filename` meta, for a raw body).
  postPackets: (graph: string, body: string, node: string, contentType: string, filename: string | null) => {
    const headers: Record<string, string> = { 'Content-Type': contentType };
    if (filename) headers['Content-Disposition'] = `attachment; filename*=UTF-8''${encodeURIComponent(filename)}`;
    return request<Json>('POST', `${graphPath(graph)}/packets?wait=true${node ? `&node=${encodeURIComponent(node)}` : ''}`, {
      headers,
      body,
    });
  },
  deadLetters: (graph: string) =>
    request<{ dead_letters: DeadLetter[] }>('GET', `${graphPath(graph)}/dead-letters`).then(
      (r) => r.dead_letters,
    ),
};

// One event of GET /v1/graphs/{g}/tap (docs/rest.md "Live tap").
export type TapEvent =
  | { event: 'open'; data: { graph: string; node: string; port: string; limit: number; sample: number } }
  | { event: 'packet'; data: { seq: number; packet: { fields: Json; meta: Json; field_meta: Json } } }
  | {
      event: 'stats';
      data: { seen: number; sent: number; sampled_out: number; dropped: { rate: number; buffer: number; slow_client: number } };
    }
  | { event: 'end'; data: { reason: string } };

// Reads the tap's Server-Sent Events until the server ends them or `signal` aborts. fetch, not
// EventSource: the admin token goes in the Authorization header, which EventSource cannot send.
export async function readTap(
  graph: string,
  node: string,
  port: string,
  onEvent: (event: TapEvent) => void,
  signal: AbortSignal,
): Promise<void> {
  const headers = new Headers({ Accept: 'text/event-stream' });
  if (token) headers.set('Authorization', `Bearer ${token}`);
  const path = `${graphPath(graph)}/tap?node=${encodeURIComponent(node)}&port=${encodeURIComponent(port)}`;
  let response: Response;
  try {
    response = await fetch(path, { headers, signal });
  } catch (cause) {
    if (signal.aborted) return;
    throw new ApiError(0, { error: `the server did not answer GET ${path} (${String(cause)})` });
  }
  if (!response.ok || !response.body) {
    if (response.status === 401) onUnauthorized();
    const text = await response.text();
    let body: ApiError['body'] = { error: text || response.statusText };
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: the text is the message
    }
    throw new ApiError(response.status, body);
  }
  const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
  let pending = '';
  try {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      pending += value;
      let end: number;
      while ((end = pending.indexOf('\n\n')) >= 0) {
        const block = pending.slice(0, end);
        pending = pending.slice(end + 2);
        let event = '';
        let data = '';
        for (const line of block.split('\n')) {
          if (line.startsWith('event: ')) event = line.slice(7);
          else if (line.startsWith('data: ')) data = line.slice(6);
        }
        if (event && data) onEvent({ event, data: JSON.parse(data) } as TapEvent);
      }
    }
  } catch (cause) {
    if (!signal.aborted) throw new ApiError(0, { error: `the tap stopped: ${String(cause)}` });
  }
}
