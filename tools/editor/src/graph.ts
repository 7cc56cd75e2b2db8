// The graph being edited, as React Flow holds it (nodes with their param drafts, edges between
// ports), and its two outside forms: the YAML the editor saves (PUT /v1/graphs/{g}) and the
// JSON the server sends back (GET /v1/graphs/{g}). Also: which node or edge a validation error
// is about, and the automatic left-to-right layout.
import dagre from '@dagrejs/dagre';
import { MarkerType, type Edge, type Node } from '@xyflow/react';
import { Document, LineCounter, parse, parseDocument, isMap, isSeq, type Node as YamlNode } from 'yaml';
import type { ComponentDescriptor, Durability, GraphDocument, Isolation, Json, ValidationError } from './api';
import { checkParams, draftsOf, type ParamDrafts } from './params';

export const ERROR_PORT = 'error';
const DEFAULT_OUT = 'out';
const DEFAULT_IN = 'in';

export type ComponentNodeData = {
  component: string;
  params: ParamDrafts;
  // Kept as the file has them, written back only when set (docs/graphs.md).
  isolation?: Isolation;
  timeout?: string;
};
export type EditorNode = Node<ComponentNodeData, 'component'>;
// An edge's own bounds (docs/graphs.md): packets, and bytes as a number or text such as 16MiB.
export type EdgeCapacity = {
  capacity?: number;
  capacity_bytes?: number | string;
};
export type EditorEdge = Edge<EdgeCapacity>;

export interface GraphMeta {
  name: string;
  description: string;
  workers?: number; // kept from the file; the editor does not change it
  durability?: Durability; // absent: the server's --durability
}

export type Components = ReadonlyMap<string, ComponentDescriptor>;

// Node ids and graph names: the characters the server accepts (edges write `node.port`).
export const PLAIN_NAME = /^[A-Za-z0-9_-]+$/;

// Ports a node shows: its declared inputs; its declared outputs plus the implicit `error`.
export function portsOf(descriptor: ComponentDescriptor | undefined) {
  return {
    inputs: descriptor ? descriptor.inputs.map((p) => p.name) : [DEFAULT_IN],
    outputs: [...(descriptor ? descriptor.outputs.map((p) => p.name) : [DEFAULT_OUT]), ERROR_PORT],
  };
}

// ---- sizes, shared by the node's drawing and the layout ------------------------------------

export const NODE_WIDTH = 200;
export const HEADER_HEIGHT = 44;
export const PORT_ROW = 20;
const FOOTER_HEIGHT = 26;

export function nodeHeight(descriptor: ComponentDescriptor | undefined): number {
  const { inputs, outputs } = portsOf(descriptor);
  return HEADER_HEIGHT + Math.max(inputs.length, outputs.length) * PORT_ROW + FOOTER_HEIGHT;
}

// ---- ids -----------------------------------------------------------------------------------

export function freeNodeId(base: string, taken: (id: string) => boolean): string {
  const stem = base.replace(/[^A-Za-z0-9_-]/g, '_') || 'node';
  if (!taken(stem)) return stem;
  for (let i = 2; ; ++i) if (!taken(`${stem}_${i}`)) return `${stem}_${i}`;
}

export const edgeId = (source: string, sourceHandle: string, target: string, targetHandle: string) =>
  `${source}.${sourceHandle}->${target}.${targetHandle}`;

export function makeEdge(
  source: string,
  sourceHandle: string,
  target: string,
  targetHandle: string,
  capacity: EdgeCapacity = {},
): EditorEdge {
  return {
    id: edgeId(source, sourceHandle, target, targetHandle),
    source,
    sourceHandle,
    target,
    targetHandle,
    type: 'port',
    markerEnd: { type: MarkerType.ArrowClosed },
    className: sourceHandle === ERROR_PORT ? 'sl-error-edge' : undefined,
    data: Object.fromEntries(Object.entries(capacity).filter(([, value]) => value !== undefined)),
  };
}

// `a -> b`, naming a port only where it is not the default.
export function edgeText(edge: EditorEdge): string {
  const from = edge.sourceHandle && edge.sourceHandle !== DEFAULT_OUT ? `${edge.source}.${edge.sourceHandle}` : edge.source;
  const to = edge.targetHandle && edge.targetHandle !== DEFAULT_IN ? `${edge.target}.${edge.targetHandle}` : edge.target;
  return `${from} -> ${to}`;
}

// ---- YAML out ------------------------------------------------------------------------------

// Which node or edge each line of the YAML belongs to (1-based lines), for errors by line.
export type LineOwners = Map<number, { node?: string; edge?: string }>;

// The graph file exactly as a save sends it.
export function toYaml(meta: GraphMeta, nodes: EditorNode[], edges: EditorEdge[], components: Components): string {
  const document = new Document();
  const graph: Record<string, unknown> = { name: meta.name };
  if (meta.description !== '') graph.description = meta.description;
  if (meta.workers !== undefined) graph.workers = meta.workers;
  if (meta.durability !== undefined) graph.durability = meta.durability;
  const nodeMap: Record<string, unknown> = {};
  for (const node of nodes) {
    const { values } = checkParams(components.get(node.data.component), node.data.params);
    const entry: Record<string, unknown> = { component: node.data.component };
    if (Object.keys(values).length > 0) entry.params = values;
    if (node.data.isolation === 'process') entry.isolation = 'process';
    if (node.data.timeout) entry.timeout = node.data.timeout;
    // The position, so that the graph opens as it was left (the runtime ignores `ui`).
    entry.ui = document.createNode({ x: Math.round(node.position.x), y: Math.round(node.position.y) }, { flow: true });
    nodeMap[node.id] = entry;
  }
  graph.nodes = nodeMap;
  if (edges.length > 0)
    graph.edges = edges.map((edge) => {
      if (edge.data?.capacity === undefined && edge.data?.capacity_bytes === undefined) return edgeText(edge);
      const [from, to] = edgeText(edge).split(' -> ');
      return { from, to, ...edge.data };
    });
  document.contents = document.createNode(graph);
  return document.toString({ lineWidth: 0 });
}

// `edges` in the order toYaml wrote them.
export function lineOwners(yaml: string, edges: EditorEdge[]): LineOwners {
  const counter = new LineCounter();
  const document = parseDocument(yaml, { lineCounter: counter });
  const lines: LineOwners = new Map();
  const lineOf = (node: YamlNode | unknown) => {
    const range = (node as YamlNode | null)?.range;
    return range ? counter.linePos(range[0]).line : 0;
  };
  const lastLine = yaml.split('\n').length;
  // Each entry owns its lines up to the next entry's first line.
  const own = (starts: { line: number; owner: { node?: string; edge?: string } }[], end: number) => {
    starts.forEach((start, i) => {
      const next = i + 1 < starts.length ? starts[i + 1].line : end;
      for (let line = start.line; line < next; ++line) lines.set(line, start.owner);
    });
  };
  const nodes = document.get('nodes', true);
  const edgeList = document.get('edges', true);
  const edgesStart = isSeq(edgeList) ? lineOf(edgeList) - 1 : lastLine + 1;
  if (isMap(nodes))
    own(
      nodes.items.map((pair) => ({ line: lineOf(pair.key), owner: { node: String((pair.key as { value: unknown }).value) } })),
      Math.min(edgesStart, lastLine + 1),
    );
  if (isSeq(edgeList))
    own(
      edgeList.items.map((item, i) => ({ line: lineOf(item), owner: { edge: edges[i].id } })),
      lastLine + 1,
    );
  return lines;
}

// ---- JSON in -------------------------------------------------------------------------------

function splitEndpoint(text: string, defaultPort: string): [string, string] {
  const dot = text.indexOf('.');
  return dot < 0 ? [text, defaultPort] : [text.slice(0, dot), text.slice(dot + 1)];
}

export function fromDocument(document: GraphDocument, components: Components) {
  const meta: GraphMeta = {
    name: document.name,
    description: document.description ?? '',
    workers: document.workers,
    durability: document.durability,
  };
  const placed = (ui: GraphDocument['nodes'][string]['ui']) =>
    typeof ui?.x === 'number' && typeof ui?.y === 'number' ? { x: ui.x, y: ui.y } : null;
  const nodes: EditorNode[] = Object.entries(document.nodes).map(([id, node]) => ({
    id,
    type: 'component',
    position: placed(node.ui) ?? { x: 0, y: 0 },
    data: {
      component: node.component,
      params: draftsOf(components.get(node.component), (node.params ?? {}) as Record<string, Json>),
      ...(node.isolation === 'process' ? { isolation: node.isolation } : {}),
      ...(node.timeout !== undefined ? { timeout: String(node.timeout) } : {}),
    },
  }));
  const edges = document.edges.map((edge) => {
    const [source, sourceHandle] = splitEndpoint(edge.from, DEFAULT_OUT);
    const [target, targetHandle] = splitEndpoint(edge.to, DEFAULT_IN);
    return makeEdge(source, sourceHandle, target, targetHandle, { capacity: edge.capacity, capacity_bytes: edge.capacity_bytes });
  });
  // The layout the file keeps (each node's `ui`), or, when a node has none, dagre's for all.
  const kept = Object.values(document.nodes).every((node) => placed(node.ui));
  return { meta, nodes: kept ? nodes : layout(nodes, edges, components), edges };
}

// A graph file as written by hand or exported (docs/graphs.md: `nodes`, and `edges` as
// "a -> b" or {from, to, capacity, capacity_bytes}, or a `pipeline` list) in the form GET /v1/graphs/{g}
// serves, for fromDocument(). The server checks the rest when it is saved. Throws an Error
// saying what is wrong.
export function documentFromYaml(text: string): GraphDocument {
  let value: unknown;
  try {
    value = parse(text);
  } catch (e) {
    throw new Error(`not YAML: ${(e as Error).message}`);
  }
  const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
  if (!isObject(value) || !isObject(value.nodes)) throw new Error('not a graph: it needs a map of `nodes`');
  const nodes: GraphDocument['nodes'] = {};
  for (const [id, node] of Object.entries(value.nodes)) {
    if (!isObject(node) || typeof node.component !== 'string') throw new Error(`node '${id}' has no component`);
    nodes[id] = node as GraphDocument['nodes'][string];
  }
  const edges: GraphDocument['edges'] = [];
  for (const edge of Array.isArray(value.edges) ? value.edges : []) {
    if (typeof edge === 'string' && edge.includes('->')) {
      const [from, to] = edge.split('->').map((end) => end.trim());
      edges.push({ from, to });
    } else if (isObject(edge) && typeof edge.from === 'string' && typeof edge.to === 'string') {
      const bytes = edge.capacity_bytes;
      edges.push({
        from: edge.from,
        to: edge.to,
        capacity: typeof edge.capacity === 'number' ? edge.capacity : undefined,
        capacity_bytes: typeof bytes === 'number' || typeof bytes === 'string' ? bytes : undefined,
      });
    } else {
      throw new Error(`not an edge: ${JSON.stringify(edge)} (write "a -> b" or {from: a, to: b})`);
    }
  }
  const pipeline = Array.isArray(value.pipeline) ? value.pipeline.map(String) : [];
  for (let i = 1; i < pipeline.length; ++i) edges.push({ from: pipeline[i - 1], to: pipeline[i] });
  return {
    name: typeof value.name === 'string' ? value.name : '',
    description: typeof value.description === 'string' ? value.description : undefined,
    workers: typeof value.workers === 'number' ? value.workers : undefined,
    durability: value.durability === 'wal' || value.durability === 'none' ? value.durability : undefined,
    nodes,
    edges,
  };
}

// ---- errors → where they belong --------------------------------------------------------------

export interface LocatedError extends ValidationError {
  node?: string;
  edge?: string;
  param?: string;
}

// By the node the server names first, then by line (the editor wrote the YAML, so a line
// belongs to exactly one node or edge), then by the edge or node the message names:
// validation says "edge 'a -> b'" and "node 'a'", a failed deploy "graph/a: …".
export function locateErrors(
  errors: ValidationError[],
  lines: LineOwners,
  graph: string,
  nodes: EditorNode[],
  edges: EditorEdge[],
): LocatedError[] {
  const isNode = (id: string | undefined) => id !== undefined && nodes.some((n) => n.id === id);
  return errors.map((error) => {
    const located: LocatedError = isNode(error.node) ? { ...error } : { ...error, node: undefined, ...lines.get(error.line) };
    if (!located.node && !located.edge) {
      const edgeName = /edge '([^']+)'/.exec(error.message)?.[1];
      const edge = edgeName ? edges.find((e) => edgeText(e) === edgeName) : undefined;
      const named = [...error.message.matchAll(/node '([^']+)'/g)].map((m) => m[1]);
      const path = error.message.split(`${graph}/`)[1]?.match(/^[A-Za-z0-9_-]+/)?.[0];
      if (edge) located.edge = edge.id;
      else located.node = named.find(isNode) ?? (isNode(path) ? path : undefined);
    }
    const param = error.param ?? /param '([^']+)'/.exec(error.message)?.[1];
    if (located.node && param) located.param = param;
    return located;
  });
}

// ---- layout --------------------------------------------------------------------------------

// Layered, left to right, following the edges (dagre's network-simplex ranking).
export function layout(nodes: EditorNode[], edges: EditorEdge[], components: Components): EditorNode[] {
  const graph = new dagre.graphlib.Graph({ multigraph: true });
  graph.setGraph({ rankdir: 'LR', nodesep: 24, ranksep: 70, marginx: 20, marginy: 20 });
  graph.setDefaultEdgeLabel(() => ({}));
  for (const node of nodes)
    graph.setNode(node.id, { width: NODE_WIDTH, height: nodeHeight(components.get(node.data.component)) });
  for (const edge of edges)
    if (graph.hasNode(edge.source) && graph.hasNode(edge.target)) graph.setEdge(edge.source, edge.target, {}, edge.id);
  dagre.layout(graph);
  return nodes.map((node) => {
    const placed = graph.node(node.id);
    return { ...node, position: { x: placed.x - placed.width / 2, y: placed.y - placed.height / 2 } };
  });
}
