// A node on the canvas: its id and component, a handle per port (inputs left; outputs right,
// the implicit `error` port last), the live counters, and the problems found in it (the form's
// own checks and the server's validation errors, with their messages).
import { memo, useContext } from 'react';
import { Handle, Position, type NodeProps } from '@xyflow/react';
import { ComponentsContext } from './context';
import { ERROR_PORT, HEADER_HEIGHT, NODE_WIDTH, PORT_ROW, nodeHeight, portsOf, type EditorNode } from './graph';
import { useNodeOverlay } from './overlay';
import { checkParams } from './params';


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
  const classes = ['sl-node', `kind-${descriptor?.kind ?? 'unknown'}`];
  if (selected) classes.push('selected');
  if (problems.length > 0 || serverErrors.length > 0) classes.push('invalid');

  return (
    <div className={classes.join(' ')} style={{ width: NODE_WIDTH, height: nodeHeight(descriptor) }} data-testid={`node-${id}`}>
      <header>
        <span className="sl-node-id">{id}</span>
        <span className="sl-node-component">{data.component}</span>
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
          {port}
          <Handle type="source" position={Position.Right} id={port} title={`out port '${port}'`} />
        </div>
      ))}
      <footer className="sl-counters" data-testid={`counters-${id}`}>
        {stats ? (
          <>
            <span title="packets in">in {stats.in}</span>
            <span title="packets out (once each, however many edges take a copy)">out {stats.out}</span>
            <span title="dropped: filtered out, or sent to an unwired port" className={stats.dropped > 0 ? 'sl-warning' : undefined}>
              drop {stats.dropped}
            </span>
            <span title="errors" className={stats.errors > 0 ? 'sl-bad' : undefined}>
              err {stats.errors}
            </span>
            <span title="queue depth">q {stats.queue_depth}</span>
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
