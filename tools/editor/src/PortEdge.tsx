// An edge between two ports; a validation error about the edge (unknown port, cycle, …) is
// drawn on it with its message.
import { memo } from 'react';
import { BaseEdge, EdgeLabelRenderer, getBezierPath, type EdgeProps } from '@xyflow/react';
import type { EditorEdge } from './graph';
import { useEdgeErrors } from './overlay';

function PortEdgeView(props: EdgeProps<EditorEdge>) {
  const errors = useEdgeErrors(props.id);
  const [path, labelX, labelY] = getBezierPath(props);
  return (
    <>
      <BaseEdge id={props.id} path={path} markerEnd={props.markerEnd} style={errors ? { stroke: 'var(--bad)', strokeWidth: 2 } : props.style} />
      {errors && (
        <EdgeLabelRenderer>
          <div
            className="sl-edge-error"
            data-testid={`edge-errors-${props.id}`}
            style={{ transform: `translate(-50%, -50%) translate(${labelX}px, ${labelY}px)` }}
          >
            {errors.map((e) => e.message).join('\n')}
          </div>
        </EdgeLabelRenderer>
      )}
    </>
  );
}

export const PortEdge = memo(PortEdgeView);
