// A node on the canvas: its id and component, a handle per port (inputs left; outputs right,
// the implicit `error` port last), the live counters, and the problems found in it (the form's
// own checks and the server's validation errors, with their messages). An out port that drops
// packets (no edge leaves it) shows how many beside its name.
import { memo, useContext } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { ComponentsContext } from './context';
import { ERROR_PORT, HEADER_HEIGHT, NODE_WIDTH, PORT_ROW, nodeHeight, portsOf, type EditorNode } from './graph';
import { useNodeOverlay } from './overlay';
import { checkParams } from './params';

// The stats' cause for packets a node took in and passed on nowhere (no port's name).
const FILTERED = '(filtered)';

function ComponentNodeView({ id, data, selected }: NodeProps<EditorNode>) {
  const components = useContext(ComponentsContext);
  const descriptor = components.get(data.component);
  const live = useNodeOverlay(id);
  const { inputs, outputs } = portsOf(descriptor);
  const problems = [
    ...(descriptor ? [] : [`unknown component '${data.component}'`]),
    ...checkParams(descriptor, data.params).problems.map((p) => p.message),
  ];
  const serverErrors = live?.errors ?? [];
  const stats = live?.stats;
  const droppedBy = stats?.dropped_by_port ?? {};
  const droppedText = Object.entries(droppedBy)
    .map(([cause, n]) => `${cause === FILTERED ? 'filtered out' : `to unwired port '${cause}'`} ${n}`)
    .join(', ');
  // What the server says about the node: stuck on a packet, an isolated host that keeps
  // failing, or a plugin file that is gone (the node runs the build it loaded).
  const trouble = stats?.stalled
    ? { text: 'stalled', title: 'busy with one packet for longer than its timeout; its worker is held' }
    : stats?.host?.state === 'crash_looping'
      ? { text: 'crash loop', title: stats.host.last_failure ?? 'its host process keeps failing' }
      : stats?.missing
        ? {
            text: 'plugin gone',
            title: `no loaded plugin offers '${data.component}' any more; the node runs the build it loaded until the graph is undeployed`,
          }
        : null;
  const classes = ['sl-node', `kind-${descriptor?.kind ?? 'unknown'}`];
  if (selected) classes.push('selected');
  if (problems.length > 0 || serverErrors.length > 0) classes.push('invalid');

  return (
    <div className={classes.join(' ')} style={{ width: NODE_WIDTH, height: nodeHeight(descriptor) }} data-testid={`node-${id}`}>
      <header>
        <span className="sl-node-id">{id}</span>
        <span className="sl-node-component">
          {data.isolation === 'process' && (
            <span className="sl-node-isolated" title="isolation: process — runs in a host process of its own" data-testid={`isolated-${id}`}>
              ⧉{' '}
            </span>
          )}
          {data.component}
        </span>
        {trouble && (
          <span className="sl-node-trouble sl-bad" title={trouble.title} data-testid={`trouble-${id}`}>
            {trouble.text}
          </span>
        )}
      </header>
      {inputs.map((port, i) => (
        <div key={`in-${port}`} className="sl-port sl-port-in" style={{ top: HEADER_HEIGHT + i * PORT_ROW }}>
          <Handle type="target" position={Position.Left} id={port} title={`in port '${port}'`} />
          {port}
        </div>
      ))}
      {outputs.map((port, i) => (
        <div
          key={`out-${port}`}
          className={`sl-port sl-port-out${port === ERROR_PORT ? ' sl-port-error' : ''}`}
          style={{ top: HEADER_HEIGHT + i * PORT_ROW }}
        >
          {droppedBy[port] > 0 && (
            <span className="sl-port-dropped" title={`${droppedBy[port]} dropped: no edge leaves '${port}'`} data-testid={`dropped-${id}-${port}`}>
              −{droppedBy[port]}
            </span>
          )}
          {port}
          <Handle type="source" position={Position.Right} id={port} title={`out port '${port}'`} />
        </div>
      ))}
      <footer className="sl-counters" data-testid={`counters-${id}`}>
        {stats ? (
          <>
            <span title="packets in">in {stats.in}</span>
            <span title="packets out (once each, however many edges take a copy)">out {stats.out}</span>
            <span
              title={stats.dropped > 0 ? `dropped: ${droppedText}` : 'dropped: filtered out, or sent to an unwired port'}
              className={stats.dropped > 0 ? 'sl-warning' : undefined}
              data-testid={`drop-${id}`}
            >
              drop {stats.dropped}
            </span>
            <span title="errors" className={stats.errors > 0 ? 'sl-bad' : undefined}>
              err {stats.errors}
            </span>
            <span title="queue depth">q {stats.queue_depth}</span>
            {stats.host && stats.host.failures > 0 && (
              <span title={`host crashes and hangs; last: ${stats.host.last_failure ?? ''}`} className="sl-bad">
                ✝{stats.host.failures}
              </span>
            )}
          </>
        ) : (
          <span className="sl-muted">{descriptor?.kind ?? 'not offered by the server'}</span>
        )}
      </footer>
      {(serverErrors.length > 0 || problems.length > 0) && (
        <ul className="sl-node-errors" data-testid={`errors-${id}`}>
          {serverErrors.map((e, i) => (
            <li key={`s${i}`}>
              {e.line > 0 && <span className="sl-line">line {e.line}: </span>}
              {e.message}
            </li>
          ))}
          {problems.map((message, i) => (
            <li key={`p${i}`} className="sl-warning">
              {message}
            </li>
          ))}
        </ul>
      )}
    </div>
  );
}

export const ComponentNode = memo(ComponentNodeView);
