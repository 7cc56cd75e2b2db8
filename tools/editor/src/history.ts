// Undo and redo of every change to the graph — on the canvas (add, move, wire, delete, paste,
// lay out) and in the forms (name, description, params, node ids): the graph's YAML is what a
// change is, so each different YAML is one step, whoever made it. Keystrokes into the same
// text field, each within COALESCE_MS of the last, are one step.
import { useCallback, useEffect, useRef, useState } from 'react';
import type { EditorEdge, EditorNode, GraphMeta } from './graph';

export interface Snapshot {
  meta: GraphMeta;
  nodes: EditorNode[];
  edges: EditorEdge[];
}

type Entry = { yaml: string; snapshot: Snapshot };

const COALESCE_MS = 1000;
const KEPT = 200;

// `yaml` and `snapshot` describe the graph now; `restore` puts a snapshot back.
export function useHistory(yaml: string, snapshot: Snapshot, restore: (snapshot: Snapshot) => void) {
  const undoStack = useRef<Entry[]>([]);
  const redoStack = useRef<Entry[]>([]);
  const current = useRef<Entry>({ yaml, snapshot });
  const changedAt = useRef(0);
  const changedIn = useRef<Element | null>(null); // the text field of the last change

  const [, rerender] = useState(0);

  useEffect(() => {
    if (yaml === current.current.yaml) return; // the same graph (or the one just restored)
    const now = Date.now();
    const active = document.activeElement;
    const field = active && active.matches('input, textarea') ? active : null;
    const typing = field !== null && field === changedIn.current && now - changedAt.current < COALESCE_MS;
    if (!typing || undoStack.current.length === 0) undoStack.current = [...undoStack.current, current.current].slice(-KEPT);
    changedAt.current = now;
    changedIn.current = field;
    redoStack.current = [];
    current.current = { yaml, snapshot };
    rerender((n) => n + 1);
  }, [yaml, snapshot]);

  const step = useCallback(
    (from: typeof undoStack, to: typeof undoStack) => {
      const entry = from.current.pop();
      if (!entry) return;
      to.current.push(current.current);
      current.current = entry;
      changedIn.current = null; // the next change is a step of its own
      restore(entry.snapshot);
      rerender((n) => n + 1);
    },
    [restore],
  );

  return {
    canUndo: undoStack.current.length > 0,
    canRedo: redoStack.current.length > 0,
    undo: useCallback(() => step(undoStack, redoStack), [step]),
    redo: useCallback(() => step(redoStack, undoStack), [step]),
    // A graph opened or started afresh: no steps back from it.
    reset: useCallback((freshYaml: string, fresh: Snapshot) => {
      undoStack.current = [];
      redoStack.current = [];
      current.current = { yaml: freshYaml, snapshot: fresh };
      rerender((n) => n + 1);
    }, []),
  };
}
