// The side panel for what is selected: a node (id, component, ports, parameters, its dead
// letters) or, with nothing selected, the graph (name, description, every problem found).
import { useCallback, useEffect, useState } from 'react';
import { api, ApiError, type ComponentDescriptor, type DeadLetter } from './api';
import { PLAIN_NAME, portsOf, type EditorNode, type GraphMeta, type LocatedError } from './graph';
import { useNodeOverlay } from './overlay';
import { ParamForm } from './ParamForm';
import type { ParamDrafts } from './params';

interface NodeProps {
  node: EditorNode;
  descriptor: ComponentDescriptor | undefined;
  deployed: string | null;
  nodeIds: string[];
  onParams: (id: string, drafts: ParamDrafts, changed: string) => void;
  onRun: (id: string, run: Pick<EditorNode['data'], 'isolation' | 'timeout'>) => void;
  onRename: (from: string, to: string) => void;
  onDelete: (id: string) => void;
}

export function NodeInspector({ node, descriptor, deployed, nodeIds, onParams, onRun, onRename, onDelete }: NodeProps) {
  const live = useNodeOverlay(node.id);
  const [idDraft, setIdDraft] = useState(node.id);
  useEffect(() => setIdDraft(node.id), [node.id]);
  const idProblem =
    idDraft === node.id
      ? null
      : !PLAIN_NAME.test(idDraft)
        ? 'letters, digits, _ and - only'
        : nodeIds.includes(idDraft)
          ? `node '${idDraft}' exists already`
          : null;
  const commitId = () => {
    if (idDraft !== node.id && !idProblem) onRename(node.id, idDraft);
  };
  const serverErrors = live?.errors ?? [];
  const { inputs, outputs } = portsOf(descriptor);
  const portText = (name: string, list: { name: string; description: string }[] | undefined) =>
    list?.find((p) => p.name === name)?.description ?? (name === 'error' ? 'packets this node failed on' : '');

  return (
    <div className="sl-inspector" data-testid="node-inspector">
      <label htmlFor="node-id">Node id</label>
      <input
        id="node-id"
        value={idDraft}
        spellCheck={false}
        onChange={(e) => setIdDraft(e.target.value)}
        onBlur={commitId}
        onKeyDown={(e) => {
          if (e.key === 'Enter') commitId();
        }}
      />
      {idProblem && <p className="sl-field-error">{idProblem}</p>}
      <h2>
        {node.data.component} {descriptor && <span className="sl-muted">{descriptor.version} · {descriptor.package}</span>}
      </h2>
      <p>{descriptor ? descriptor.summary : `The server offers no component '${node.data.component}'.`}</p>
      {descriptor && (
        <dl className="sl-ports">
          {inputs.map((p) => (
            <div key={`in-${p}`}>
              <dt title="input port">→ {p}</dt>
              <dd>{portText(p, descriptor.inputs)}</dd>
            </div>
          ))}
          {outputs.map((p) => (
            <div key={`out-${p}`}>
              <dt title="output port">{p} →</dt>
              <dd>{portText(p, descriptor.outputs)}</dd>
            </div>
          ))}
        </dl>
      )}
      {serverErrors.filter((e) => !e.param).map((e) => (
        <p key={e.message} className="sl-field-error" role="alert">
          {e.message}
        </p>
      ))}
      <h3>How it runs</h3>
      {live?.stats?.plugin && (
        <p className="sl-help" title={live.stats.plugin.file} data-testid="node-build">
          runs {live.stats.plugin.package} {live.stats.plugin.version}, build {live.stats.plugin.hash.slice(0, 12)}
          {live.stats.missing && ' — its plugin file is gone'}
        </p>
      )}
      <label htmlFor="node-isolation">Isolation</label>
      <select
        id="node-isolation"
        value={node.data.isolation ?? 'in_process'}
        disabled={descriptor?.kind === 'source'}
        onChange={(e) => onRun(node.id, { isolation: e.target.value === 'process' ? 'process' : undefined, timeout: node.data.timeout })}
      >
        <option value="in_process">in the server's process</option>
        <option value="process">in a process of its own (a crash costs one packet)</option>
      </select>
      <label htmlFor="node-timeout">Timeout</label>
      <input
        id="node-timeout"
        value={node.data.timeout ?? ''}
        placeholder="30s"
        spellCheck={false}
        onChange={(e) => onRun(node.id, { isolation: node.data.isolation, timeout: e.target.value.trim() || undefined })}
      />
      <h3>Parameters</h3>
      <ParamForm nodeId={node.id} descriptor={descriptor} drafts={node.data.params} serverErrors={serverErrors} onChange={(d, changed) => onParams(node.id, d, changed)} />
      {deployed && <DeadLetters graph={deployed} node={node.id} errorCount={live?.stats?.errors ?? 0} />}
      <button type="button" className="sl-danger" onClick={() => onDelete(node.id)}>
        Delete node
      </button>
    </div>
  );
}

// The dead letters of one node, fetched when shown and again whenever its error count moves.
function DeadLetters({ graph, node, errorCount }: { graph: string; node: string; errorCount: number }) {
  const [letters, setLetters] = useState<DeadLetter[] | null>(null);
  const [problem, setProblem] = useState<string | null>(null);
  const load = useCallback(() => {
    api
      .deadLetters(graph)
      .then((all) => {
        setLetters(all.filter((l) => l.node === node));
        setProblem(null);
      })
      .catch((e: ApiError) => setProblem(e.body.error));
  }, [graph, node]);
  useEffect(load, [load, errorCount]);

  return (
    <section className="sl-dead-letters" data-testid="dead-letters">
      <h3>
        Dead letters {letters && <span className="sl-muted">({letters.length})</span>}
        <button type="button" onClick={load}>
          Refresh
        </button>
      </h3>
      {problem && <p className="sl-field-error">{problem}</p>}
      {letters?.length === 0 && <p className="sl-muted">None: no packet failed here without an error edge to take it.</p>}
      {letters?.map((l) => (
        <details key={l.id}>
          <summary>
            <span className="sl-bad">{l.error}</span> <span className="sl-muted">{new Date(l.when).toLocaleTimeString()}</span>
          </summary>
          <pre>{JSON.stringify(l.packet, null, 2)}</pre>
        </details>
      ))}
    </section>
  );
}

interface GraphProps {
  meta: GraphMeta;
  nodeCount: number;
  edgeCount: number;
  errors: LocatedError[];
  onMeta: (meta: GraphMeta) => void;
  onShow: (error: LocatedError) => void;
}

export function GraphInspector({ meta, nodeCount, edgeCount, errors, onMeta, onShow }: GraphProps) {
  const nameProblem = meta.name === '' ? 'a graph needs a name to be saved' : PLAIN_NAME.test(meta.name) ? null : 'letters, digits, _ and - only';
  return (
    <div className="sl-inspector" data-testid="graph-inspector">
      <label htmlFor="graph-name">Graph name</label>
      <input id="graph-name" value={meta.name} spellCheck={false} onChange={(e) => onMeta({ ...meta, name: e.target.value })} />
      {nameProblem && <p className="sl-field-error">{nameProblem}</p>}
      <label htmlFor="graph-description">Description</label>
      <textarea id="graph-description" rows={2} value={meta.description} onChange={(e) => onMeta({ ...meta, description: e.target.value })} />
      <label htmlFor="graph-durability">Durability</label>
      <select
        id="graph-durability"
        value={meta.durability ?? ''}
        onChange={(e) => onMeta({ ...meta, durability: e.target.value === 'wal' || e.target.value === 'none' ? e.target.value : undefined })}
      >
        <option value="">the server's default (--durability)</option>
        <option value="wal">logged before each answer (survives a crash)</option>
        <option value="none">in memory only (lost in a crash)</option>
      </select>
      <p className="sl-muted">
        {nodeCount} nodes, {edgeCount} edges{meta.workers !== undefined && `, ${meta.workers} workers`}. Drag components in from the left;
        wire an out port (right side of a node) to an in port (left side). Select and press Delete to remove.
      </p>
      {errors.length > 0 && (
        <>
          <h3>Problems the server found</h3>
          <ul className="sl-error-list" data-testid="error-list">
            {errors.map((e, i) => (
              <li key={i}>
                <button type="button" onClick={() => onShow(e)} disabled={!e.node && !e.edge}>
                  {e.line > 0 && <span className="sl-line">line {e.line}: </span>}
                  {e.message}
                </button>
              </li>
            ))}
          </ul>
        </>
      )}
    </div>
  );
}
