// The editor: palette | canvas | side panel (inspect, send data, YAML), under a bar that opens,
// creates, saves and deletes graphs. The graph being edited lives in React Flow's node and
// edge state; its YAML (what a save sends) is derived from it. The two panels collapse and
// resize (panels.tsx).
import { useCallback, useEffect, useMemo, useRef, useState, type DragEvent } from 'react';
import {
  Background,
  Controls,
  MiniMap,
  ReactFlow,
  ReactFlowProvider,
  useEdgesState,
  useNodesInitialized,
  useNodesState,
  useReactFlow,
  type Connection,
  type FinalConnectionState,
  type IsValidConnection,
} from '@xyflow/react';
import { api, ApiError, auth, type ComponentDescriptor, type GraphListEntry } from './api';
import { ComponentNode } from './ComponentNode';
import { ComponentsContext } from './context';
import {
  NODE_WIDTH,
  PLAIN_NAME,
  edgeId,
  documentFromYaml,
  freeNodeId,
  fromDocument,
  layout,
  lineOwners,
  locateErrors,
  makeEdge,
  nodeHeight,
  portsOf,
  toYaml,
  type EditorEdge,
  type EditorNode,
  type GraphMeta,
  type LocatedError,
} from './graph';
import { useHistory, type Snapshot } from './history';
import { GraphInspector, NodeInspector } from './Inspector';
import { overlay } from './overlay';
import { DRAG_TYPE, Palette } from './Palette';
import { checkParams, type ParamDrafts } from './params';
import { PanelBorder, usePanels } from './panels';
import { PortEdge } from './PortEdge';
import { QuickAdd, type QuickAddRequest } from './QuickAdd';
import { SendPanel } from './SendPanel';
import { TapPanel, type TappedEdge } from './TapPanel';

const nodeTypes = { component: ComponentNode };
const edgeTypes = { port: PortEdge };
const STATS_INTERVAL_MS = 1000;
const STATS_BACKOFF_MAX_MS = 30_000; // the longest wait between polls while the server is down

type Status = { kind: 'info' | 'ok' | 'error'; text: string };
type Tab = 'inspect' | 'send' | 'debug' | 'yaml';

const EMPTY_META: GraphMeta = { name: '', description: '' };
const EMPTY_YAML = toYaml(EMPTY_META, [], [], new Map()); // a blank page has nothing to save

// A save refused because another one came first (412): both texts, to choose from.
type Conflict = { graph: string; theirs: string; mine: string };

// The graph's content and positions without selection, kept identical while only the
// selection changes or a node is being dragged, so the YAML is not rebuilt on every frame of
// a drag (only when it ends: the positions are in the file).
function useModel(nodes: EditorNode[], edges: EditorEdge[]) {
  const previous = useRef<{ nodes: EditorNode[]; edges: EditorEdge[] }>({ nodes: [], edges: [] });
  const was = previous.current;
  const dragging = nodes.some((n) => n.dragging);
  const same =
    nodes.length === was.nodes.length &&
    edges.length === was.edges.length &&
    nodes.every(
      (n, i) =>
        n.id === was.nodes[i].id &&
        n.data === was.nodes[i].data &&
        (dragging || (n.position.x === was.nodes[i].position.x && n.position.y === was.nodes[i].position.y)),
    ) &&
    edges.every((e, i) => e.id === was.edges[i].id && e.data === was.edges[i].data);
  if (!same) previous.current = { nodes, edges };
  return previous.current;
}

// A node as the graph has it, without what React Flow measured or marked on the one it
// comes from (size, selection, drag): React Flow measures it afresh.
function freshNode({ id, type, position, data }: EditorNode): EditorNode {
  return { id, type, position, data };
}

// Where a mouse or touch event happened, in the page.
function pointOf(event: { clientX: number; clientY: number } | TouchEvent): { clientX: number; clientY: number } {
  return 'changedTouches' in event ? event.changedTouches[0] : event;
}

function hashGraph(): string | null {
  const match = /^#graph=(.+)$/.exec(window.location.hash);
  return match ? decodeURIComponent(match[1]) : null;
}

function Editor() {
  const flow = useReactFlow<EditorNode, EditorEdge>();
  const nodesInitialized = useNodesInitialized();
  const canvas = useRef<HTMLDivElement>(null);

  const [components, setComponents] = useState<ComponentDescriptor[] | null>(null);
  const componentMap = useMemo(() => new Map((components ?? []).map((c) => [c.name, c])), [components]);
  const [graphList, setGraphList] = useState<GraphListEntry[]>([]);
  const [meta, setMeta] = useState<GraphMeta>(EMPTY_META);
  const [nodes, setNodes, onNodesChange] = useNodesState<EditorNode>([]);
  const [edges, setEdges, onEdgesChange] = useEdgesState<EditorEdge>([]);
  const [baseline, setBaseline] = useState(EMPTY_YAML); // the YAML of what the server runs under `deployed`
  const [deployed, setDeployed] = useState<string | null>(null);
  const [version, setVersion] = useState<string | null>(null); // the ETag `baseline` was read or saved as
  const [remoteChanged, setRemoteChanged] = useState(false); // someone saved another version since
  const [saveError, setSaveError] = useState<string | null>(null); // shown until a save succeeds
  const [conflict, setConflict] = useState<Conflict | null>(null);
  const [errors, setErrors] = useState<LocatedError[]>([]);
  const [status, setStatus] = useState<Status>({ kind: 'info', text: 'Loading components…' });
  const [tab, setTab] = useState<Tab>('inspect');
  const [fitPending, setFitPending] = useState(false);
  const [busy, setBusy] = useState(false);
  const [askToken, setAskToken] = useState(auth.token() !== '');
  const [tapped, setTapped] = useState<TappedEdge | null>(null);
  useEffect(() => auth.onUnauthorized(() => setAskToken(true)), []);

  const model = useModel(nodes, edges);
  const yaml = useMemo(() => toYaml(meta, model.nodes, model.edges, componentMap), [meta, model, componentMap]);
  const snapshot = useMemo<Snapshot>(() => ({ meta, nodes: model.nodes, edges: model.edges }), [meta, model]);
  const restore = useCallback(
    (s: Snapshot) => {
      setMeta(s.meta);
      setNodes(s.nodes.map(freshNode));
      setEdges(s.edges.map((e) => ({ ...e, selected: false })));
    },
    [setNodes, setEdges],
  );
  const history = useHistory(yaml, snapshot, restore);
  const resetHistory = history.reset;
  const dirty = yaml !== baseline;
  const selected = nodes.filter((n) => n.selected);
  const selectedNode = selected.length === 1 ? selected[0] : undefined;

  const showErrors = useCallback((list: LocatedError[]) => {
    setErrors(list);
    overlay.setErrors(list);
  }, []);

  // The graph in the address (#graph=NAME), for reloads and Back; remembered so that the
  // hashchange it causes is not taken for a wish to open it.
  const addressGraph = useRef<string | null>(hashGraph());
  const showInAddress = (name: string) => {
    addressGraph.current = name;
    window.location.hash = `graph=${encodeURIComponent(name)}`;
  };
  const clearAddress = () => {
    addressGraph.current = null;
    window.history.replaceState(null, '', window.location.pathname);
  };

  const refreshGraphs = useCallback(
    () =>
      api
        .graphs()
        .then(setGraphList)
        .catch((e: ApiError) => setStatus({ kind: 'error', text: `Cannot list the graphs: ${e.body.error}` })),
    [],
  );

  const openGraph = useCallback(
    async (name: string, descriptors: Map<string, ComponentDescriptor>) => {
      setBusy(true);
      try {
        const { body: document, etag } = await api.graph(name);
        const opened = fromDocument(document, descriptors);
        setMeta(opened.meta);
        setNodes(opened.nodes);
        setEdges(opened.edges);
        const openedYaml = toYaml(opened.meta, opened.nodes, opened.edges, descriptors);
        setBaseline(openedYaml);
        resetHistory(openedYaml, opened);
        setDeployed(name);
        setVersion(etag);
        setRemoteChanged(false);
        setConflict(null);
        setSaveError(null);
        showErrors([]);
        overlay.setStats(undefined);
        setFitPending(true);
        showInAddress(name);
        setStatus({ kind: 'info', text: `Opened '${name}': ${opened.nodes.length} nodes, ${opened.edges.length} edges.` });
      } catch (e) {
        setStatus({ kind: 'error', text: `Cannot open '${name}': ${(e as ApiError).body.error}` });
      } finally {
        setBusy(false);
      }
    },
    [setNodes, setEdges, showErrors, resetHistory],
  );

  useEffect(() => {
    api
      .components()
      .then((list) => {
        setComponents(list);
        setStatus({ kind: 'info', text: `${list.length} components. Drag one onto the canvas, or open a graph.` });
        const wanted = hashGraph();
        if (wanted) void openGraph(wanted, new Map(list.map((c) => [c.name, c])));
      })
      .catch((e: ApiError) => {
        setComponents([]);
        setStatus({ kind: 'error', text: `Cannot load the components: ${e.body.error}` });
      });
    void refreshGraphs();
  }, [openGraph, refreshGraphs]);

  useEffect(() => {
    if (fitPending && nodesInitialized) {
      void flow.fitView({ padding: 0.15, maxZoom: 1.2 });
      setFitPending(false);
    }
  }, [fitPending, nodesInitialized, flow]);

  // Live counters of the deployed graph, one poll a second (never two at once). stop() ends
  // the polling and resolves once no poll is in flight any more.
  const polling = useRef<{ stop: () => Promise<void> } | null>(null);
  const [pollRestarts, setPollRestarts] = useState(0);
  useEffect(() => {
    if (!deployed) return;
    let stopped = false;
    let timer: number | undefined;
    let inFlight: Promise<void> = Promise.resolve();
    let wait = STATS_INTERVAL_MS; // doubled after each failed poll while the server is down
    const poll = async () => {
      try {
        const [stats, current] = await Promise.all([api.stats(deployed), api.graphVersion(deployed)]);
        if (stopped) return;
        overlay.setStats(stats.nodes);
        setRemoteChanged(current !== versionRef.current);
        if (wait !== STATS_INTERVAL_MS) setStatus({ kind: 'info', text: 'The server answers again.' });
        wait = STATS_INTERVAL_MS;
      } catch (e) {
        if (stopped) return;
        overlay.setStats(undefined);
        const error = e as ApiError;
        if (error.status === 404) {
          setDeployed(null);
          setStatus({ kind: 'error', text: `'${deployed}' is no longer deployed on the server.` });
          return;
        }
        wait = Math.min(wait * 2, STATS_BACKOFF_MAX_MS);
        setStatus({ kind: 'error', text: `Live counters: ${error.body.error}; retrying in ${wait / 1000} s.` });
      }
      if (!stopped) timer = window.setTimeout(() => (inFlight = poll()), wait);
    };
    inFlight = poll();
    const stop = () => {
      stopped = true;
      window.clearTimeout(timer);
      overlay.setStats(undefined);
      return inFlight;
    };
    polling.current = { stop };
    return () => void stop();
  }, [deployed, pollRestarts]);

  const versionRef = useRef(version);
  versionRef.current = version;

  // Leaving the page (reload, close, another address) with unsaved changes asks first.
  useEffect(() => {
    if (!dirty) return;
    const warn = (e: BeforeUnloadEvent) => {
      e.preventDefault();
      e.returnValue = '';
    };
    window.addEventListener('beforeunload', warn);
    return () => window.removeEventListener('beforeunload', warn);
  }, [dirty]);

  const confirmDiscard = () => !dirty || window.confirm('Discard the unsaved changes to this graph?');

  const newGraph = () => {
    if (!confirmDiscard()) return;
    setMeta(EMPTY_META);
    setNodes([]);
    setEdges([]);
    setBaseline(EMPTY_YAML);
    resetHistory(EMPTY_YAML, { meta: EMPTY_META, nodes: [], edges: [] });
    setDeployed(null);
    setVersion(null);
    setConflict(null);
    setSaveError(null);
    showErrors([]);
    clearAddress();
    void flow.setViewport({ x: 0, y: 0, zoom: 1 }); // not the last graph's zoom
    setTab('inspect');
    setStatus({ kind: 'info', text: 'New graph: name it, drag components in, wire them, save.' });
  };

  // `overwrite`: replace whatever the server runs, even a version saved by someone else.
  const save = async (overwrite = false) => {
    const problems: string[] = [];
    if (!PLAIN_NAME.test(meta.name)) problems.push('the graph needs a name of letters, digits, _ and -');
    for (const node of nodes) {
      const descriptor = componentMap.get(node.data.component);
      if (!descriptor) problems.push(`node '${node.id}': unknown component '${node.data.component}'`);
      for (const p of checkParams(descriptor, node.data.params).problems) problems.push(`node '${node.id}': ${p.message}`);
    }
    if (problems.length > 0) {
      setStatus({ kind: 'error', text: `Not saved: ${problems.join('; ')}` });
      if (!PLAIN_NAME.test(meta.name)) setTab('inspect');
      return;
    }
    const text = yaml;
    const sentEdges = model.edges;
    setBusy(true);
    try {
      // Saved over the version this edit started from, or as a graph that does not exist yet.
      const expected = overwrite ? null : deployed === meta.name ? version : 'new';
      const { body: outcome, etag } = await api.putGraph(meta.name, text, expected);
      setBaseline(text);
      setDeployed(meta.name);
      setVersion(etag);
      setRemoteChanged(false);
      setConflict(null);
      setSaveError(null);
      showErrors([]);
      showInAddress(meta.name);
      setStatus({ kind: 'ok', text: `${outcome.created ? 'Deployed new graph' : 'Saved and redeployed'} '${meta.name}'.` });
      void refreshGraphs();
    } catch (e) {
      const error = e as ApiError;
      setSaveError(null);
      if (error.status === 412) {
        const theirs = await api.graphYaml(meta.name).catch((e2: ApiError) => `(cannot read it: ${e2.body.error})`);
        setConflict({ graph: meta.name, theirs, mine: text });
        setStatus({ kind: 'error', text: `Not saved: '${meta.name}' was saved by someone else in the meantime.` });
      } else if (error.status === 422) {
        // Validation answers every error with its line; a failed deploy, one message.
        const reported = error.body.errors ?? [{ line: 0, column: 0, message: error.body.error }];
        const located = locateErrors(reported, lineOwners(text, sentEdges), meta.name, nodes, sentEdges);
        showErrors(located);
        setTab('inspect');
        setStatus({
          kind: 'error',
          text: `Not saved: the server found ${located.length} problem${located.length === 1 ? '' : 's'}, shown on the nodes and edges they concern and listed under Graph.`,
        });
      } else {
        setSaveError(`Not saved: ${error.body.error}`);
        setStatus({ kind: 'error', text: `Not saved: ${error.body.error}` });
      }
    } finally {
      setBusy(false);
    }
  };

  // A graph file from disk or pasted text, as a new unsaved graph (Save deploys it; a graph of
  // that name on the server is then a conflict to resolve, not overwritten silently).
  const importYaml = (text: string, from: string) => {
    if (!confirmDiscard()) return;
    try {
      const imported = fromDocument(documentFromYaml(text), componentMap);
      setMeta(imported.meta);
      setNodes(imported.nodes);
      setEdges(imported.edges);
      setBaseline(EMPTY_YAML);
      resetHistory(EMPTY_YAML, { meta: EMPTY_META, nodes: [], edges: [] });
      setDeployed(null);
      setVersion(null);
      setConflict(null);
      showErrors([]);
      setFitPending(true);
      clearAddress();
      setStatus({ kind: 'info', text: `Imported ${from}: ${imported.nodes.length} nodes, ${imported.edges.length} edges; not saved yet.` });
    } catch (e) {
      setStatus({ kind: 'error', text: `Cannot import ${from}: ${(e as Error).message}` });
    }
  };
  const importFile = useRef<HTMLInputElement>(null);
  const exportYaml = () => {
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([yaml], { type: 'application/yaml' }));
    link.download = `${meta.name || 'graph'}.yaml`;
    link.click();
    URL.revokeObjectURL(link.href);
  };

  const deleteGraph = async () => {
    if (!deployed || !window.confirm(`Delete the graph '${deployed}' from the server?`)) return;
    setBusy(true);
    try {
      await polling.current?.stop(); // a poll answered 404 after the delete would look like a failure
      await api.deleteGraph(deployed);
      setStatus({ kind: 'ok', text: `Deleted '${deployed}' from the server; the editor still holds it (save to deploy it again).` });
      setDeployed(null);
      setVersion(null);
      setBaseline(EMPTY_YAML);
      clearAddress();
      void refreshGraphs();
    } catch (e) {
      setStatus({ kind: 'error', text: `Cannot delete '${deployed}': ${(e as ApiError).body.error}` });
      setPollRestarts((n) => n + 1);
    } finally {
      setBusy(false);
    }
  };

  // Adds a node of `component` centred on `center`, as the selection; returns its id.
  const addNode = useCallback(
    (component: string, center: { x: number; y: number }) => {
      const descriptor = componentMap.get(component);
      const id = freeNodeId(component, (candidate) => flow.getNodes().some((n) => n.id === candidate));
      const node: EditorNode = {
        id,
        type: 'component',
        position: { x: center.x - NODE_WIDTH / 2, y: center.y - nodeHeight(descriptor) / 2 },
        data: { component, params: {} },
        selected: true,
      };
      setNodes((current) => [...current.map((n) => (n.selected ? { ...n, selected: false } : n)), node]);
      setTab('inspect');
      return id;
    },
    [componentMap, setNodes, flow],
  );

  // The edge drawn under a point of the page (its wide, invisible interaction path counts).
  const edgeAt = (x: number, y: number) => {
    const under = new Set(document.elementsFromPoint(x, y).map((el) => el.closest('.react-flow__edge')?.getAttribute('data-id')));
    return edges.find((e) => under.has(e.id));
  };

  // Splice: edge A→B becomes A→N→B through N's first input and first output port. Only for a
  // component that has both, and a node not wired yet (a wired one moved over an edge stays
  // as it is). Runs in the same event as the add or move, so it is one undo step with it.
  const spliceInto = (edge: EditorEdge, id: string, component: string) => {
    const descriptor = componentMap.get(component);
    if (!descriptor || descriptor.inputs.length === 0 || descriptor.outputs.length === 0) return;
    if (edge.source === id || edge.target === id || edges.some((e) => e.source === id || e.target === id)) return;
    const { inputs, outputs } = portsOf(descriptor);
    setEdges((current) => [
      ...current.filter((e) => e.id !== edge.id),
      makeEdge(edge.source, edge.sourceHandle!, id, inputs[0]),
      makeEdge(id, outputs[0], edge.target, edge.targetHandle!, edge.data),
    ]);
    setStatus({ kind: 'info', text: `Spliced '${id}' into ${edge.source}.${edge.sourceHandle} → ${edge.target}.${edge.targetHandle}.` });
  };

  // Keyboard adds go to the middle of the view, each one a step down and right of a node
  // already there, so that they do not stack on one spot.
  const addAtViewCenter = (component: string) => {
    const box = canvas.current!.getBoundingClientRect();
    const spot = flow.screenToFlowPosition({ x: box.left + box.width / 2, y: box.top + box.height / 2 });
    const height = nodeHeight(componentMap.get(component));
    const occupied = (x: number, y: number) =>
      nodes.some((n) => Math.abs(n.position.x - (x - NODE_WIDTH / 2)) < 20 && Math.abs(n.position.y - (y - height / 2)) < 20);
    while (occupied(spot.x, spot.y)) {
      spot.x += 40;
      spot.y += 40;
    }
    addNode(component, spot);
  };

  const onDrop = (event: DragEvent) => {
    const component = event.dataTransfer.getData(DRAG_TYPE);
    if (!component) return;
    event.preventDefault();
    const onEdge = edgeAt(event.clientX, event.clientY);
    const id = addNode(component, flow.screenToFlowPosition({ x: event.clientX, y: event.clientY }));
    if (onEdge) spliceInto(onEdge, id, component);
  };

  // A wire dropped on empty canvas: the chooser opens there (QuickAdd.tsx).
  const [quickAdd, setQuickAdd] = useState<QuickAddRequest | null>(null);
  const onConnectEnd = (event: MouseEvent | TouchEvent, connection: FinalConnectionState) => {
    if (connection.isValid || connection.toNode || !connection.fromNode || !connection.fromHandle?.id) return;
    if (!(event.target instanceof Element) || !event.target.classList.contains('react-flow__pane')) return;
    const point = pointOf(event);
    const box = canvas.current!.getBoundingClientRect();
    setQuickAdd({
      node: connection.fromNode.id,
      port: connection.fromHandle.id,
      fromOutput: connection.fromHandle.type === 'source',
      at: { x: point.clientX - box.left, y: point.clientY - box.top },
      position: flow.screenToFlowPosition({ x: point.clientX, y: point.clientY }),
    });
  };
  const quickAddNode = (request: QuickAddRequest, component: ComponentDescriptor) => {
    setQuickAdd(null);
    const id = addNode(component.name, request.position);
    const { inputs, outputs } = portsOf(component);
    setEdges((current) => [
      ...current,
      request.fromOutput ? makeEdge(request.node, request.port, id, inputs[0]) : makeEdge(id, outputs[0], request.node, request.port),
    ]);
  };

  const onConnect = useCallback(
    (c: Connection) => setEdges((current) => [...current, makeEdge(c.source, c.sourceHandle!, c.target, c.targetHandle!)]),
    [setEdges],
  );

  const isValidConnection: IsValidConnection<EditorEdge> = useCallback(
    (c) =>
      c.source !== c.target &&
      !edges.some((e) => e.id === edgeId(c.source, c.sourceHandle ?? '', c.target, c.targetHandle ?? '')),
    [edges],
  );

  // The server's verdict on a node is about the version it was sent: it goes once what it is
  // about changes (that param, or for an error about no param, anything of the node), instead
  // of staying until the next save. The other params' errors stay.
  const forgetServerErrors = useCallback(
    (id: string, param?: string) => setErrors((current) => {
      const stale = (e: LocatedError) => e.node === id && (param === undefined || !e.param || e.param === param);
      if (!current.some(stale)) return current;
      const kept = current.filter((e) => !stale(e));
      overlay.setErrors(kept);
      return kept;
    }),
    [],
  );

  const setParams = useCallback(
    (id: string, params: ParamDrafts, changed: string) => {
      setNodes((current) => current.map((n) => (n.id === id ? { ...n, data: { ...n.data, params } } : n)));
      forgetServerErrors(id, changed);
    },
    [setNodes, forgetServerErrors],
  );

  const setRun = useCallback(
    (id: string, run: Pick<EditorNode['data'], 'isolation' | 'timeout'>) => {
      setNodes((current) => current.map((n) => (n.id === id ? { ...n, data: { ...n.data, ...run } } : n)));
      forgetServerErrors(id);
    },
    [setNodes, forgetServerErrors],
  );

  const renameNode = (from: string, to: string) => {
    forgetServerErrors(from);
    setNodes((current) => current.map((n) => (n.id === from ? { ...n, id: to } : n)));
    setEdges((current) =>
      current.map((e) =>
        e.source === from || e.target === from
          ? makeEdge(e.source === from ? to : e.source, e.sourceHandle!, e.target === from ? to : e.target, e.targetHandle!, e.data)
          : e,
      ),
    );
  };

  const deleteNode = (id: string) => void flow.deleteElements({ nodes: [{ id }] });

  const relayout = () => {
    setNodes(layout(nodes, edges, componentMap));
    setFitPending(true);
  };

  // Find in the graph: the nodes whose id or component contains the text become the
  // selection, and the view fits them.
  const findNodes = (text: string) => {
    const wanted = text.trim().toLowerCase();
    if (!wanted) return;
    const found = nodes.filter((n) => n.id.toLowerCase().includes(wanted) || n.data.component.toLowerCase().includes(wanted));
    setNodes((current) => current.map((n) => ({ ...n, selected: found.some((f) => f.id === n.id) })));
    if (found.length > 0) void flow.fitView({ nodes: found.map((n) => ({ id: n.id })), duration: 300, maxZoom: 1.2 });
    setStatus({ kind: found.length ? 'info' : 'error', text: `${found.length} node${found.length === 1 ? '' : 's'} match '${text.trim()}'.` });
  };

  const showError = (error: LocatedError) => {
    const id = error.node ?? edges.find((e) => e.id === error.edge)?.source;
    if (!id) return;
    setNodes((current) => current.map((n) => ({ ...n, selected: n.id === error.node })));
    void flow.fitView({ nodes: [{ id }], duration: 300, maxZoom: 1.2 });
  };

  // Copy, paste, duplicate: the selected nodes with the edges between them, pasted with fresh
  // ids, offset a little more on every paste of the same copy.
  const clipboard = useRef<{ nodes: EditorNode[]; edges: EditorEdge[]; pastes: number } | null>(null);
  const copySelection = () => {
    const chosen = nodes.filter((n) => n.selected);
    if (chosen.length === 0) return false;
    const ids = new Set(chosen.map((n) => n.id));
    clipboard.current = { nodes: chosen, edges: edges.filter((e) => ids.has(e.source) && ids.has(e.target)), pastes: 0 };
    return true;
  };
  const paste = () => {
    const copied = clipboard.current;
    if (!copied) return;
    const offset = 40 * ++copied.pastes;
    const taken = new Set(nodes.map((n) => n.id));
    const renamed = new Map<string, string>();
    for (const node of copied.nodes) {
      const id = freeNodeId(node.id.replace(/_\d+$/, ''), (candidate) => taken.has(candidate));
      taken.add(id);
      renamed.set(node.id, id);
    }
    const pasted: EditorNode[] = copied.nodes.map((node) => ({
      ...freshNode(node),
      id: renamed.get(node.id)!,
      position: { x: node.position.x + offset, y: node.position.y + offset },
      selected: true,
    }));
    setNodes((current) => [...current.map((n) => (n.selected ? { ...n, selected: false } : n)), ...pasted]);
    setEdges((current) => [
      ...current.map((e) => (e.selected ? { ...e, selected: false } : e)),
      ...copied.edges.map((e) =>
        makeEdge(renamed.get(e.source)!, e.sourceHandle!, renamed.get(e.target)!, e.targetHandle!, e.data),
      ),
    ]);
  };
  const selectAll = () => {
    setNodes((current) => current.map((n) => ({ ...n, selected: true })));
    setEdges((current) => current.map((e) => ({ ...e, selected: true })));
  };

  // `#graph=NAME` typed into the address bar, or reached by Back and Forward, opens that graph.
  const opened = useRef({ confirmDiscard, openGraph, componentMap });
  opened.current = { confirmDiscard, openGraph, componentMap };
  useEffect(() => {
    const onHash = () => {
      const wanted = hashGraph();
      if (!wanted || wanted === addressGraph.current) return;
      const { confirmDiscard: ask, openGraph: open, componentMap: descriptors } = opened.current;
      addressGraph.current = wanted;
      if (ask()) void open(wanted, descriptors);
    };
    window.addEventListener('hashchange', onHash);
    return () => window.removeEventListener('hashchange', onHash);
  }, []);

  const keys = useRef({ save, undo: history.undo, redo: history.redo, copySelection, paste, selectAll });
  keys.current = { save, undo: history.undo, redo: history.redo, copySelection, paste, selectAll };
  useEffect(() => {
    const onKey = (e: KeyboardEvent) => {
      if (!(e.ctrlKey || e.metaKey)) return;
      const key = e.key.toLowerCase();
      // In a text field Ctrl+A/C/V keep their text meaning; undo is the graph's everywhere.
      const inField = e.target instanceof HTMLElement && e.target.closest('input, textarea, select') !== null;
      const act = (action: () => unknown) => {
        e.preventDefault();
        action();
      };
      if (key === 's') act(() => void keys.current.save());
      else if (key === 'z' && e.shiftKey) act(keys.current.redo);
      else if (key === 'z' || key === 'y') act(key === 'y' ? keys.current.redo : keys.current.undo);
      else if (inField) return;
      else if (key === 'a') act(keys.current.selectAll);
      else if (key === 'c') keys.current.copySelection();
      else if (key === 'v') act(keys.current.paste);
      else if (key === 'd') act(() => keys.current.copySelection() && keys.current.paste());
    };
    window.addEventListener('keydown', onKey);
    return () => window.removeEventListener('keydown', onKey);
  }, []);

  const panels = usePanels();
  const nodeIds = nodes.map((n) => n.id);
  return (
    <ComponentsContext.Provider value={componentMap}>
      <div className="sl-app" style={{ gridTemplateColumns: panels.columns }}>
        <header className="sl-bar">
          <strong className="sl-logo">sluice</strong>
          <label htmlFor="open-graph" className="sl-visually-hidden">
            Open a graph
          </label>
          <select
            id="open-graph"
            value=""
            disabled={!components || busy}
            onFocus={() => void refreshGraphs()}
            onChange={(e) => {
              if (e.target.value && confirmDiscard()) void openGraph(e.target.value, componentMap);
            }}
          >
            <option value="">Open graph…</option>
            {graphList.map((g) => (
              <option key={g.name} value={g.name}>
                {g.name} ({g.nodes} nodes{g.state === 'degraded' ? `; degraded: ${(g.missing ?? []).join(', ')} gone` : ''})
              </option>
            ))}
          </select>
          <button type="button" onClick={newGraph} disabled={busy}>
            New
          </button>
          <span className="sl-graph-title" data-testid="graph-title">
            {meta.name || 'untitled'}
            {dirty && <span title="unsaved changes"> •</span>}
            {deployed && remoteChanged && <span className="sl-warning"> (changed on the server)</span>}
            {deployed && !dirty && !remoteChanged && <span className="sl-muted"> (deployed)</span>}
          </span>
          <button
            type="button"
            className="sl-primary"
            onClick={() => void save()}
            disabled={busy || !components || !dirty}
            title={dirty ? 'Save and deploy (Ctrl+S)' : 'Nothing changed since the last save'}
          >
            Save
          </button>
          <button type="button" onClick={history.undo} disabled={!history.canUndo} title="Undo (Ctrl+Z)">
            Undo
          </button>
          <button type="button" onClick={history.redo} disabled={!history.canRedo} title="Redo (Ctrl+Shift+Z)">
            Redo
          </button>
          <button type="button" onClick={relayout} disabled={nodes.length === 0}>
            Lay out
          </button>
          <button type="button" onClick={() => importFile.current?.click()} disabled={busy || !components}>
            Import
          </button>
          <input
            ref={importFile}
            type="file"
            accept=".yaml,.yml,.json"
            hidden
            data-testid="import-file"
            onChange={(e) => {
              const file = e.target.files?.[0];
              e.target.value = '';
              if (file) void file.text().then((text) => importYaml(text, file.name));
            }}
          />
          <button type="button" onClick={exportYaml} disabled={nodes.length === 0}>
            Export
          </button>
          <button type="button" className="sl-danger" onClick={() => void deleteGraph()} disabled={!deployed || busy}>
            Delete graph
          </button>
          <input
            type="search"
            className="sl-find"
            aria-label="find in the graph"
            placeholder="find node"
            onKeyDown={(e) => {
              if (e.key === 'Enter') findNodes(e.currentTarget.value);
            }}
          />
          {askToken && (
            <input
              type="password"
              className="sl-token"
              aria-label="the server's bearer token"
              placeholder="server token"
              defaultValue={auth.token()}
              onChange={(e) => auth.setToken(e.target.value)}
            />
          )}
          <p className={`sl-status sl-status-${status.kind}`} role="status" data-testid="status" title={status.text}>
            {status.text}
          </p>
        </header>
        <div className={`sl-panel sl-panel-palette${panels.panels.palette.collapsed ? ' collapsed' : ''}`}>
          <Palette components={components ?? []} onAdd={addAtViewCenter} />
          <PanelBorder
            name="palette"
            side="right"
            state={panels.panels.palette}
            onToggle={() => panels.toggle('palette')}
            onResize={(width) => panels.resize('palette', width)}
          />
        </div>
        {(saveError || conflict) && (
          <div className="sl-notices">
            {saveError && (
              <p className="sl-notice sl-bad" role="alert" data-testid="save-error">
                {saveError} <span className="sl-muted">(Save again once the server answers.)</span>
              </p>
            )}
            {conflict && (
              <div className="sl-notice sl-conflict" role="alert" data-testid="save-conflict">
                <p>
                  Someone else saved '{conflict.graph}' after you opened it: reload their version (your changes are
                  dropped), or overwrite it with yours.
                </p>
                <div className="sl-conflict-texts">
                  <div>
                    <h3>On the server</h3>
                    <pre data-testid="conflict-theirs">{conflict.theirs}</pre>
                  </div>
                  <div>
                    <h3>Yours</h3>
                    <pre data-testid="conflict-mine">{conflict.mine}</pre>
                  </div>
                </div>
                <button type="button" onClick={() => void openGraph(conflict.graph, componentMap)}>
                  Reload theirs
                </button>
                <button type="button" className="sl-danger" onClick={() => void save(true)}>
                  Overwrite with mine
                </button>
              </div>
            )}
          </div>
        )}
        <main className="sl-canvas" ref={canvas} onDrop={onDrop} onDragOver={(e) => {
          if (e.dataTransfer.types.includes(DRAG_TYPE)) {
            e.preventDefault();
            e.dataTransfer.dropEffect = 'copy';
          }
        }}>
          <ReactFlow<EditorNode, EditorEdge>
            nodes={nodes}
            edges={edges}
            nodeTypes={nodeTypes}
            edgeTypes={edgeTypes}
            onNodesChange={onNodesChange}
            onEdgesChange={onEdgesChange}
            onConnect={onConnect}
            onConnectEnd={onConnectEnd}
            isValidConnection={isValidConnection}
            onNodeDragStop={(event, node) => {
              const point = pointOf(event);
              const onEdge = edgeAt(point.clientX, point.clientY);
              if (onEdge) spliceInto(onEdge, node.id, node.data.component);
            }}
            onNodeClick={() => setTab('inspect')}
            onEdgeClick={(_, edge) => {
              setTapped({ source: edge.source, port: edge.sourceHandle ?? '', target: edge.target });
              setTab('debug');
            }}
            deleteKeyCode={['Backspace', 'Delete']}
            minZoom={0.05}
            maxZoom={2}
            onlyRenderVisibleElements
          >
            <Background gap={16} />
            <Controls />
            <MiniMap pannable zoomable nodeClassName={(n) => `kind-${componentMap.get((n as EditorNode).data.component)?.kind ?? 'unknown'}`} />
          </ReactFlow>
          {quickAdd && (
            <QuickAdd
              request={quickAdd}
              components={components ?? []}
              onPick={(component) => quickAddNode(quickAdd, component)}
              onCancel={() => setQuickAdd(null)}
            />
          )}
        </main>
        <aside className={`sl-side sl-panel${panels.panels.side.collapsed ? ' collapsed' : ''}`}>
          <PanelBorder
            name="side"
            side="left"
            state={panels.panels.side}
            onToggle={() => panels.toggle('side')}
            onResize={(width) => panels.resize('side', width)}
          />
          <nav className="sl-tabs" role="tablist">
            {(['inspect', 'send', 'debug', 'yaml'] as const).map((t) => (
              <button key={t} type="button" role="tab" aria-selected={tab === t} onClick={() => setTab(t)}>
                {t === 'inspect' ? (selectedNode ? 'Node' : 'Graph') : t === 'send' ? 'Send data' : t === 'debug' ? 'Debug' : 'YAML'}
              </button>
            ))}
          </nav>
          <div className="sl-side-body">
            {tab === 'inspect' &&
              (selectedNode ? (
                <NodeInspector
                  node={selectedNode}
                  descriptor={componentMap.get(selectedNode.data.component)}
                  deployed={deployed}
                  nodeIds={nodeIds}
                  onParams={setParams}
                  onRun={setRun}
                  onRename={renameNode}
                  onDelete={deleteNode}
                />
              ) : (
                <GraphInspector
                  meta={meta}
                  nodeCount={nodes.length}
                  edgeCount={edges.length}
                  errors={errors}
                  onMeta={setMeta}
                  onShow={showError}
                />
              ))}
            {tab === 'send' && <SendPanel deployed={deployed} dirty={dirty} nodeIds={nodeIds} />}
            {tab === 'debug' && <TapPanel deployed={deployed} dirty={dirty} edge={tapped} />}
            {tab === 'yaml' && (
              <div className="sl-yaml">
                <p className="sl-muted">Exactly what Save sends (PUT /v1/graphs/{meta.name || '…'}).</p>
                <pre data-testid="yaml">{yaml}</pre>
                <ImportText onImport={(text) => importYaml(text, 'the pasted text')} />
              </div>
            )}
          </div>
        </aside>
      </div>
    </ComponentsContext.Provider>
  );
}

// Paste a graph's YAML to import it.
function ImportText({ onImport }: { onImport: (text: string) => void }) {
  const [text, setText] = useState('');
  return (
    <details className="sl-import-text">
      <summary>Import from text</summary>
      <label htmlFor="import-text" className="sl-visually-hidden">
        graph YAML to import
      </label>
      <textarea id="import-text" rows={8} spellCheck={false} value={text} onChange={(e) => setText(e.target.value)} />
      <button type="button" disabled={text.trim() === ''} onClick={() => onImport(text)}>
        Import this text
      </button>
    </details>
  );
}

export function App() {
  return (
    <ReactFlowProvider>
      <Editor />
    </ReactFlowProvider>
  );
}
