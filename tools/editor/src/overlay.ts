// What the canvas shows on top of the graph and changes without the graph changing: the live
// counters of each node (polled every second) and the server's validation errors. Kept outside
// React Flow's node data so that a stats poll re-renders only the nodes whose counters moved,
// and never touches the graph that is being edited.
import { useSyncExternalStore } from 'react';
import type { NodeStats } from './api';
import type { LocatedError } from './graph';

export interface NodeOverlay {
  stats?: NodeStats;
  errors?: LocatedError[];
}

type Listener = () => void;

class OverlayStore {
  private byNode = new Map<string, NodeOverlay>();
  private edgeErrors = new Map<string, LocatedError[]>();
  private listeners = new Set<Listener>();

  subscribe = (listener: Listener) => {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  };

  node(id: string): NodeOverlay | undefined {
    return this.byNode.get(id);
  }

  edgeErrorsOf(id: string): LocatedError[] | undefined {
    return this.edgeErrors.get(id);
  }

  // Replaces every node's counters (undefined: the graph is not running).
  setStats(stats: NodeStats[] | undefined) {
    const next = new Map<string, NodeStats>((stats ?? []).map((s) => [s.node, s]));
    let changed = false;
    for (const id of new Set([...this.byNode.keys(), ...next.keys()])) {
      const old = this.byNode.get(id);
      const fresh = next.get(id);
      if (sameStats(old?.stats, fresh)) continue;
      this.byNode.set(id, { ...old, stats: fresh });
      changed = true;
    }
    if (changed) this.notify();
  }

  setErrors(errors: LocatedError[]) {
    for (const [id, overlay] of this.byNode) if (overlay.errors) this.byNode.set(id, { ...overlay, errors: undefined });
    this.edgeErrors.clear();
    for (const error of errors) {
      if (error.node) {
        const overlay = this.byNode.get(error.node);
        this.byNode.set(error.node, { ...overlay, errors: [...(overlay?.errors ?? []), error] });
      } else if (error.edge) {
        this.edgeErrors.set(error.edge, [...(this.edgeErrors.get(error.edge) ?? []), error]);
      }
    }
    this.notify();
  }

  private notify() {
    for (const listener of this.listeners) listener();
  }
}

function sameStats(a: NodeStats | undefined, b: NodeStats | undefined) {
  if (!a || !b) return a === b;
  return (
    a.in === b.in &&
    a.out === b.out &&
    a.errors === b.errors &&
    a.queue_depth === b.queue_depth &&
    a.dropped === b.dropped &&
    a.stalled === b.stalled &&
    a.host?.state === b.host?.state &&
    a.host?.failures === b.host?.failures &&
    a.missing === b.missing &&
    a.plugin?.hash === b.plugin?.hash &&
    JSON.stringify(a.dropped_by_port) === JSON.stringify(b.dropped_by_port)
  );
}

export const overlay = new OverlayStore();

export function useNodeOverlay(id: string): NodeOverlay | undefined {
  return useSyncExternalStore(overlay.subscribe, () => overlay.node(id));
}

export function useEdgeErrors(id: string): LocatedError[] | undefined {
  return useSyncExternalStore(overlay.subscribe, () => overlay.edgeErrorsOf(id));
}
