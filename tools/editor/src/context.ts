// The component descriptors the server offers, by name, for everything that draws a node.
import { createContext } from 'react';
import type { Components } from './graph';

export const ComponentsContext = createContext<Components>(new Map());
